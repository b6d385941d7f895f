"""Reductions, arg max/min and layer normalization in PyTorch models exported to ONNX, quantized
by mcuforge from calibration data, compiled to C and run on the host: within a few output
quantization steps of onnxruntime (and bit-exact with the integer reference, checked by run).

Also the float cases in ../shared/cases/channel_reduce and layer_norm (30 dB or more).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from model_paths import REPO

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow

CASES = REPO.parent / "shared" / "cases"
SAMPLES = 8
STEPS = 4  # output quantization steps allowed against onnxruntime, unless
MIN_DB = 28.0  # the output SQNR reaches this (LayerNorm models: random weights, min/max ranges)


class Lambda(torch.nn.Module):
    def __init__(self, fn: Callable[[Any], Any], *layers: Any) -> None:
        super().__init__()
        self.fn = fn
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, x: Any) -> Any:
        return self.fn(x, *self.layers)


class Mixer(torch.nn.Module):
    """A small token mixer with two LayerNorms (keyword spotting style)."""

    def __init__(self, features: int, width: int) -> None:
        super().__init__()
        self.inp, self.ff, self.out = (torch.nn.Linear(features, width), torch.nn.Linear(width, width),
                                       torch.nn.Linear(width, 4))
        self.ln1, self.ln2 = torch.nn.LayerNorm(width), torch.nn.LayerNorm(width)
        with torch.no_grad():  # trained LayerNorms have gamma away from 1 and beta away from 0
            for ln in (self.ln1, self.ln2):
                ln.weight.uniform_(0.5, 1.5)
                ln.bias.normal_(0.0, 0.5)

    def forward(self, x: Any) -> Any:
        h = self.ln1(self.inp(x))
        h = self.ln2(h + torch.relu(self.ff(h)))
        return self.out(h.mean(dim=1))


class Norms(torch.nn.Module):
    """Conv, GroupNorm (exported below opset 18 as Reshape-InstanceNormalization-Reshape-Mul-Add),
    ReLU, InstanceNorm, 1x1 conv."""

    def __init__(self, groups: int, affine: bool) -> None:
        super().__init__()
        self.c, self.c2 = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Conv2d(8, 4, 1)
        self.g, self.i = torch.nn.GroupNorm(groups, 8), torch.nn.InstanceNorm2d(8, affine=affine)
        with torch.no_grad():
            self.g.weight.uniform_(0.5, 1.5)
            self.g.bias.normal_(0.0, 0.5)

    def forward(self, x: Any) -> Any:
        return self.c2(self.i(torch.relu(self.g(self.c(x)))))


def _conv(cin: int, cout: int) -> Any:
    return torch.nn.Conv2d(cin, cout, 3, padding=1)


def _cbam(x: Any, conv: Any, gate: Any) -> Any:
    y = torch.relu(conv(x))
    a = torch.cat([y.mean(dim=1, keepdim=True), y.amax(dim=1, keepdim=True)], dim=1)
    return y * torch.sigmoid(gate(a))


# name -> (input shape, module factory, opset, ONNX op types the export must contain)
MODELS: dict[str, tuple[tuple[int, ...], Callable[[], Any], int, set[str]]] = {
    "cbam_8x12": ((1, 3, 12, 12), lambda: Lambda(_cbam, _conv(3, 6), torch.nn.Conv2d(2, 1, 7, padding=3)), 13,
                  {"ReduceMean", "ReduceMax"}),
    "sum_hw": ((1, 6, 5, 7), lambda: Lambda(lambda x, c: torch.relu(c(x)).sum(dim=(2, 3)), _conv(6, 5)), 13,
               {"ReduceSum"}),
    "amax_c_opset18": ((1, 4, 6, 6), lambda: Lambda(lambda x, c: c(x).amax(dim=1, keepdim=True), _conv(4, 8)),
                       18, {"ReduceMax"}),
    "amin_h": ((1, 5, 7, 9), lambda: Lambda(lambda x, c: c(x).amin(dim=2), _conv(5, 3)), 13, {"ReduceMin"}),
    "mean_tokens": ((1, 15, 12), lambda: Lambda(lambda x, f: f(x).mean(dim=1), torch.nn.Linear(12, 6)), 13,
                    {"ReduceMean"}),
    "mean_c_and_h": ((1, 4, 6, 5), lambda: Lambda(lambda x, c: c(x).mean(dim=(1, 2)), _conv(4, 7)), 13,
                     {"ReduceMean"}),
    "amax_hw_head": ((1, 3, 10, 10), lambda: Lambda(
        lambda x, c, f: f(torch.relu(c(x)).amax(dim=(2, 3))), _conv(3, 8), torch.nn.Linear(8, 3)), 13,
        {"ReduceMax"}),
    "argmax_head": ((1, 16), lambda: Lambda(lambda x, f: f(x).argmax(dim=-1), torch.nn.Linear(16, 6)), 13,
                    {"ArgMax"}),
    "argmin_keepdim": ((1, 5, 8), lambda: Lambda(lambda x, f: f(x).argmin(dim=1, keepdim=True),
                                                 torch.nn.Linear(8, 8)), 13, {"ArgMin"}),
    "layer_norm_op17_20x16": ((1, 20, 10), lambda: Mixer(10, 16), 17, {"LayerNormalization"}),
    "layer_norm_op13_12x24": ((1, 12, 8), lambda: Mixer(8, 24), 13, {"Pow", "Sqrt", "Div"}),
    "layer_norm_plain_op17": ((1, 6, 32), lambda: Lambda(
        lambda x, f, n: n(f(x)), torch.nn.Linear(32, 32), torch.nn.LayerNorm(32, elementwise_affine=False)),
        17, {"LayerNormalization"}),
    "group_norm_instance_norm": ((1, 3, 10, 10), lambda: Norms(2, True), 13, {"InstanceNormalization"}),
    "group_norm_4_plain_instance": ((1, 3, 6, 9), lambda: Norms(4, False), 13, {"InstanceNormalization"}),
}


def _export(name: str, tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    shape, factory, opset, op_types = MODELS[name]
    torch.manual_seed(len(name))
    module = factory().eval()
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(module, torch.randn(*shape), str(path), opset_version=opset, dynamo=False)
    assert op_types <= {n.op_type for n in onnx.load(str(path)).graph.node}
    rng = np.random.default_rng(5)
    calib = rng.standard_normal((64, *shape[1:])).astype(np.float32)
    xs = rng.standard_normal((SAMPLES, *shape[1:])).astype(np.float32)
    return path, calib, xs


def onnxruntime_outputs(path: Path, xs: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    runs = [session.run(None, {name: x[None]}) for x in xs]
    return [np.concatenate([r[k] for r in runs]) for k in range(len(runs[0]))]


def check_against_onnxruntime(path: Path, calib: np.ndarray, xs: np.ndarray, tmp_path: Path) -> list[float]:
    """Run on the host; per output the SQNR (dB) against onnxruntime. Float outputs must be within
    STEPS output quantization steps, index outputs must agree where the float margin is clear."""
    result = run_model(path, xs, CompileOptions(calib=calib), out_dir=tmp_path / "build")
    assert result.mismatches == {}, f"C differs from the integer reference: {result.mismatches}"
    graph = result.compiled.graph
    sqnrs = []
    for name, want in zip(graph.outputs, onnxruntime_outputs(path, xs), strict=True):
        t = graph.tensors[name]
        if t.quant is None:  # indices
            got = result.raw[name].reshape(want.shape)
            assert got.dtype == want.dtype == np.int64
            agree = float(np.mean(got == want))
            assert agree >= 0.75, f"{name}: indices agree on {agree:.0%}"
            sqnrs.append(float("inf") if agree == 1 else 0.0)
            continue
        got = result.outputs[name].reshape(want.shape)
        steps = np.abs(got - want).max() / t.scalar_quant()[0]
        sqnr = float(10 * np.log10(np.sum(want**2) / max(np.sum((got - want) ** 2), 1e-30)))
        print(f"{path.name} output {name}: {steps:.1f} steps, {sqnr:.1f} dB")
        assert steps <= STEPS or sqnr >= MIN_DB, f"{name}: {steps:.1f} output steps, {sqnr:.1f} dB"
        sqnrs.append(sqnr)
    return sqnrs


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_model_matches_onnxruntime(name: str, tmp_path: Path) -> None:
    path, calib, xs = _export(name, tmp_path)
    check_against_onnxruntime(path, calib, xs, tmp_path)


@pytest.mark.parametrize(("folder", "model", "inputs", "calib"), [
    ("channel_reduce", "cbam_torch.onnx", "x_torch.npy", "calib_torch.npy"),
    ("layer_norm", "ln_torch_op17.onnx", "x.npy", "calib.npy"),
])
def test_float_case_reaches_30_db(folder: str, model: str, inputs: str, calib: str, tmp_path: Path) -> None:
    path = CASES / folder / model
    if not path.exists():
        pytest.skip(f"{path} not found (a user's clone has no ../shared)")
    xs, cal = np.load(CASES / folder / inputs), np.load(CASES / folder / calib)
    result = run_model(path, xs, CompileOptions(calib=cal), out_dir=tmp_path / "build")
    assert result.mismatches == {}
    (want,) = onnxruntime_outputs(path, xs)
    (got,) = result.outputs.values()
    got = got.reshape(want.shape)
    sqnr = 10 * np.log10(np.sum(want**2) / np.sum((got - want) ** 2))
    assert sqnr >= 30, f"{model}: {sqnr:.1f} dB against onnxruntime"


def test_global_max_pool_matches_onnxruntime(tmp_path: Path) -> None:
    """ONNX GlobalMaxPool (PyTorch writes AdaptiveMaxPool2d(1) as MaxPool): a hand-built graph."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(11)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.normal(0, 0.3, (3, 8)).astype(np.float32), "fc")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalMaxPool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 9])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph(nodes, "gmp", [x_info], [y_info], [w, fc])
    path = tmp_path / "gmp.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    calib = rng.standard_normal((64, 3, 9, 9)).astype(np.float32)
    xs = rng.standard_normal((SAMPLES, 3, 9, 9)).astype(np.float32)
    check_against_onnxruntime(path, calib, xs, tmp_path)
