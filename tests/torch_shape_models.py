"""Small PyTorch models whose ONNX export computes shapes at run time (`x.size()`, `view`,
`flatten`, `arange`, `zeros(x.shape)`...), exported by `torch.onnx.export` (TorchScript exporter)
with and without a dynamic batch axis. Shared by the shape-folding and QDQ tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def _view_batch(torch: Any, shape: tuple[int, ...]) -> Any:
    nn = torch.nn
    c, h, w = shape

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c, 4, 3, padding=1)
            self.fc = nn.Linear(4 * h * w, 5)

        def forward(self, x: Any) -> Any:
            y = torch.relu(self.conv(x))
            return self.fc(y.view(y.size(0), -1))

    return Net()


def _flatten(torch: Any, shape: tuple[int, ...]) -> Any:
    nn = torch.nn
    c, h, w = shape

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c, 6, 3, stride=2, padding=1)
            self.fc = nn.Linear(6 * ((h + 1) // 2) * ((w + 1) // 2), 4)

        def forward(self, x: Any) -> Any:
            return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))

    return Net()


def _size_arith(torch: Any, shape: tuple[int, ...]) -> Any:
    """`b, c, h, w = x.shape` and a reshape to (b, c * h, w), a Linear over the last axis, and a
    reshape back computed from sizes."""
    nn = torch.nn
    w = shape[-1]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(w, 3)

        def forward(self, x: Any) -> Any:
            b, ch, hh, ww = x.shape
            y = torch.relu(self.fc(x.reshape(b, ch * hh, ww)))
            return y.reshape(b, -1)

    return Net()


def _scaled(torch: Any, shape: tuple[int, ...]) -> Any:
    """Attention-style scaling by the square root of a size, an `arange` position term and a
    `zeros(x.shape)`/`ones_like` offset: Shape, Gather, Cast, Sqrt, Range, ConstantOfShape, Expand."""
    nn = torch.nn
    d = shape[-1]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(d, d)

        def forward(self, x: Any) -> Any:
            scale = torch.sqrt(torch.tensor(x.size(-1), dtype=torch.float32))
            pos = torch.arange(x.size(1), dtype=torch.float32).unsqueeze(-1) * 0.01
            offset = torch.zeros(x.shape) + 0.5
            bias = torch.ones(1, 1, x.size(2)).expand(x.size(0), x.size(1), x.size(2)) * 0.1
            return self.fc(x / scale + pos + offset + bias)

    return Net()


def _mask_where(torch: Any, shape: tuple[int, ...]) -> Any:
    """A mask built from sizes with Equal/Where, applied to a Linear's output."""
    nn = torch.nn
    d = shape[-1]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(d, d)

        def forward(self, x: Any) -> Any:
            idx = torch.arange(x.size(-1))
            keep = torch.where(idx % 2 == 0, torch.ones_like(idx, dtype=torch.float32),
                               torch.full_like(idx, 0.5, dtype=torch.float32))
            return torch.relu(self.fc(x)) * keep

    return Net()


MODELS: dict[str, tuple[Callable[[Any, tuple[int, ...]], Any], list[tuple[int, ...]]]] = {
    "view_batch": (_view_batch, [(3, 8, 8), (1, 5, 7)]),
    "flatten": (_flatten, [(2, 9, 9), (4, 6, 4)]),
    "size_arith": (_size_arith, [(2, 4, 6), (3, 5, 1)]),
    "scaled": (_scaled, [(6, 8), (3, 5)]),
    "mask_where": (_mask_where, [(4, 6), (1, 3)]),
}


def export(name: str, shape: tuple[int, ...], dynamic_batch: bool, path: Path, seed: int = 0) -> Any:
    """Export MODELS[name] at `shape` (without batch) to `path`; returns the torch model."""
    import torch

    torch.manual_seed(seed)
    model = MODELS[name][0](torch, shape).eval()
    axes = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, (torch.randn(1, *shape),), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)
    return model


def cases() -> list[tuple[str, tuple[int, ...], bool]]:
    return [(n, s, d) for n, (_, shapes) in MODELS.items() for s in shapes for d in (True, False)]


