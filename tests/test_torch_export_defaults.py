"""PyTorch models exported as `torch.onnx.export(model, (x,), path)` writes them at its defaults
(torch 2.13: the dynamo exporter, opset 20, onnxscript's optimizer), with a static batch and with
a dynamic one (`dynamic_shapes`): each compiles to C bit-exact with the integer reference and
within quantization noise of onnxruntime on the float file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

pytestmark = [pytest.mark.slow, pytest.mark.cbuild, pytest.mark.filterwarnings("ignore")]
pytest.importorskip("onnxscript", reason="torch's default (dynamo) ONNX exporter needs onnxscript")


def _modules() -> dict[str, tuple[Any, tuple[int, ...]]]:
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(0)

    class SqueezeExcite(nn.Module):  # BN, hardswish, a depthwise conv, squeeze-excite, a head
        def __init__(self) -> None:
            super().__init__()
            self.stem, self.bn = nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16)
            self.dw = nn.Conv2d(16, 16, 3, 1, 1, groups=16)
            self.se1, self.se2 = nn.Linear(16, 4), nn.Linear(4, 16)
            self.pw, self.fc = nn.Conv2d(16, 24, 1), nn.Linear(24, 5)

        def forward(self, x: Any) -> Any:
            x = F.hardswish(self.bn(self.stem(x)))
            y = F.relu6(self.dw(x))
            w = F.hardsigmoid(self.se2(F.relu(self.se1(y.mean((2, 3))))))
            y = self.pw(y * w[:, :, None, None])
            return self.fc(y.mean((2, 3)))

    class ConvGru(nn.Module):  # a 1-D conv front end, a GRU, the last step's features
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.gru, self.fc = nn.Conv1d(4, 8, 3, padding=1), nn.GRU(8, 12, batch_first=True), \
                nn.Linear(12, 3)

        def forward(self, x: Any) -> Any:
            y = F.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)
            out, _ = self.gru(y)
            return self.fc(out[:, -1])

    class Segmenter(nn.Module):  # reflect padding, group norm, SiLU, pixel shuffle, a skip
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(1, 8, 3, padding=1, padding_mode="reflect")
            self.gn, self.c2 = nn.GroupNorm(2, 8), nn.Conv2d(8, 16, 3, 2, 1)
            self.shuffle, self.c3 = nn.PixelShuffle(2), nn.Conv2d(4, 2, 1)

        def forward(self, x: Any) -> Any:
            x = F.silu(self.gn(self.c1(x)))
            y = self.shuffle(F.leaky_relu(self.c2(x), 0.2)) + x[:, :4]
            return torch.sigmoid(self.c3(y))

    return {"squeeze_excite": (SqueezeExcite(), (3, 32, 32)), "conv_gru": (ConvGru(), (10, 4)),
            "segmenter": (Segmenter(), (1, 16, 16))}


def _ort(path: Path, xs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[None]})[0] for x in xs])


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic_batch"])
@pytest.mark.parametrize("name", ["squeeze_excite", "conv_gru", "segmenter"])
def test_default_export_compiles_bit_exact(name: str, dynamic: bool, tmp_path: Path) -> None:
    import onnx
    import torch

    module, shape = _modules()[name]
    path = tmp_path / f"{name}.onnx"
    kwargs = {"dynamic_shapes": ({0: torch.export.Dim("batch")},)} if dynamic else {}
    torch.onnx.export(module.eval(), (torch.randn(1, *shape),), str(path), **kwargs)
    model = onnx.load(str(path))
    assert model.opset_import[0].version >= 18  # the dynamo exporter, not the TorchScript one
    if dynamic:
        assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    rng = np.random.default_rng(5)
    calib = rng.normal(size=(128, *shape)).astype(np.float32)
    xs = rng.normal(size=(4, *shape)).astype(np.float32)
    result = run_model(path, xs, CompileOptions(calib=calib), out_dir=tmp_path / "c")
    assert result.mismatches == {}
    want = _ort(path, xs)
    got = next(iter(result.outputs.values())).reshape(want.shape)
    sqnr = 10 * np.log10(np.sum(want ** 2) / np.sum((got - want) ** 2))
    assert sqnr >= 30.0, f"SQNR {sqnr:.1f} dB"
