"""Small PyTorch models exported to ONNX and quantized by onnxruntime's `quantize_static` at its
defaults (QDQ format, int8). onnxruntime quantizes only the op types of its QDQ registry and
leaves the others (Add, Mul, Sub, Sigmoid, Tanh, ... in recent versions) in float between
DequantizeLinear and QuantizeLinear: the "float islands" mcuforge quantizes from --calib data."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _conv_add(torch: Any) -> Any:
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(2, 6, 3, padding=1)
            self.c2 = nn.Conv2d(6, 6, 3, padding=1)
            self.fc = nn.Linear(6 * 8 * 8, 5)

        def forward(self, x: Any) -> Any:
            a = torch.relu(self.c1(x))
            b = torch.relu(self.c2(a)) + a
            return self.fc(b.view(b.size(0), -1))

    return Net()


def _gate(torch: Any) -> Any:
    """A GRU-style gate: z = sigmoid(.), (1 - z) * tanh(.) + z * tanh(.)."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.z = nn.Linear(16, 8)
            self.n = nn.Linear(16, 8)
            self.h = nn.Linear(16, 8)

        def forward(self, x: Any) -> Any:
            z = torch.sigmoid(self.z(x))
            return (1 - z) * torch.tanh(self.n(x)) + z * torch.tanh(self.h(x))

    return Net()


def _chain(torch: Any) -> Any:
    """Float ops one after another, so tensors between them get no scale from onnxruntime:
    tanh(fc(x) - 1) (Sub then Tanh), hardswish(.) / 3 (HardSwish then Div)."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(12, 10)
            self.c = nn.Linear(10, 4)

        def forward(self, x: Any) -> Any:
            u = torch.tanh(self.a(x) - 1)
            v = torch.nn.functional.hardswish(u * 3) / 3
            return self.c(v)

    return Net()


def _input_island(torch: Any) -> Any:
    """A float op straight on the graph input (x / 2 - 0.5) before a convolution."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.fc = nn.Linear(4 * 4 * 4, 3)

        def forward(self, x: Any) -> Any:
            y = torch.relu(self.conv(x / 2 - 0.5))
            return self.fc(torch.flatten(y, 1))

    return Net()


MODELS: dict[str, tuple[Callable[[Any], Any], tuple[int, ...]]] = {
    "conv_add": (_conv_add, (2, 8, 8)),
    "gate": (_gate, (16,)),
    "chain": (_chain, (12,)),
    "input_island": (_input_island, (1, 6, 6)),
}


def make(name: str, folder: Path, calib_count: int = 32, seed: int = 0) -> tuple[Path, Path, np.ndarray]:
    """(float model, QDQ model, calibration samples (N, *shape)) for MODELS[name]; the export has
    a dynamic batch axis, as `torch.onnx.export` users write it."""
    import torch
    from onnxruntime.quantization import CalibrationDataReader, quantize_static

    build, shape = MODELS[name]
    torch.manual_seed(seed)
    model = build(torch).eval()
    float_path, qdq_path = folder / f"{name}.onnx", folder / f"{name}_qdq.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, *shape),), str(float_path), input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
                          opset_version=17, dynamo=False)
    calib = np.random.default_rng(seed).standard_normal((calib_count, *shape)).astype(np.float32)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(calib)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.it, None)
            return None if x is None else {"x": x[None]}

    quantize_static(str(float_path), str(qdq_path), Reader())
    return float_path, qdq_path, calib
