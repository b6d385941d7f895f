"""ONNX GRU and LSTM unrolled at import (importers/onnx_recurrent.py), and Gather of one step.

Fast: hand-built GRU/LSTM nodes (every direction, both layouts, both GRU reset forms, initial
states absent, zero or run-time, every output) against onnxruntime in float; the refusals.
Slow: PyTorch nn.GRU / nn.LSTM exported by torch.onnx.export (batch_first or not, one or two
layers, bidirectional, a Linear head on the last step), quantized from calibration data, built
on the host (bit-exact with the integer reference) and within 30 dB SQNR of onnxruntime.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from onnx_models import node, rand, save
from test_import_onnx import compare, kinds

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph
from mcuforge.ir.layout import from_ir_layout, to_ir_layout
from mcuforge.reference import run
from mcuforge.runner import run_model

T, B, IN, H = 5, 2, 3, 4


def _rnn(tmp_path: Path, kind: str, direction: str, layout: int, state: str, seed: int,
         **attrs: Any) -> tuple[Path, dict[str, np.ndarray]]:
    """One GRU/LSTM node; state: "absent", "zeros" (a constant) or "input" (run-time)."""
    rng = np.random.default_rng(seed)
    gates = 3 if kind == "GRU" else 4
    dirs = 2 if direction == "bidirectional" else 1
    inits = {"W": rand(dirs, gates * H, IN, rng=rng), "R": rand(dirs, gates * H, H, rng=rng),
             "B": rand(dirs, 2 * gates * H, rng=rng)}
    x_shape = [T, B, IN] if layout == 0 else [B, T, IN]
    s_shape = [dirs, B, H] if layout == 0 else [B, dirs, H]
    inputs = {"x": x_shape}
    feeds = {"x": rng.standard_normal(x_shape).astype(np.float32)}
    names = ["x", "W", "R", "B", ""]
    states = ["h0"] if kind == "GRU" else ["h0", "c0"]
    for s in states:
        if state == "zeros":
            inits[s] = np.zeros(s_shape, np.float32)
        elif state == "input":
            inputs[s] = s_shape
            feeds[s] = rng.standard_normal(s_shape).astype(np.float32) * 0.5
        names.append("" if state == "absent" else s)
    outs = ["y", "yh"] if kind == "GRU" else ["y", "yh", "yc"]
    n = node(kind, names, outs, hidden_size=H, direction=direction, layout=layout, **attrs)
    tmp_path.mkdir(exist_ok=True)
    return save(tmp_path, [n], inputs, outs, inits), feeds


def _check(tmp_path: Path, kind: str, direction: str, layout: int, state: str, seed: int,
           **attrs: Any) -> Graph:
    """Our float import against onnxruntime; onnxruntime runs only layout 0, so a layout-1 node
    is checked against its layout-0 twin (same weights) on transposed inputs and outputs."""
    path, feeds = _rnn(tmp_path, kind, direction, layout, state, seed, **attrs)
    if layout == 0:
        return compare(path, feeds)
    twin, _ = _rnn(tmp_path / "twin", kind, direction, 0, state, seed, **attrs)
    graph = load_model(path)
    ours = run(graph, {n: to_ir_layout(graph, n, x) for n, x in feeds.items()})
    session = ort.InferenceSession(str(twin), providers=["CPUExecutionProvider"])
    swap = {"x": (1, 0, 2), "h0": (1, 0, 2), "c0": (1, 0, 2)}
    expected = session.run(None, {n: x.transpose(swap[n]) for n, x in feeds.items()})
    for name, want, back in zip(["y", "yh", "yc"], expected, [(2, 0, 1, 3), (1, 0, 2), (1, 0, 2)]):
        got = from_ir_layout(graph, name, ours[name])
        np.testing.assert_allclose(got, want.transpose(back), rtol=1e-4, atol=1e-5, err_msg=name)
    return graph


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout", [0, 1])
@pytest.mark.parametrize("state", ["absent", "zeros", "input"])
@pytest.mark.parametrize("lbr", [0, 1])
def test_gru_node_matches_onnxruntime(tmp_path: Path, direction: str, layout: int, state: str,
                                      lbr: int) -> None:
    graph = _check(tmp_path, "GRU", direction, layout, state, 1, linear_before_reset=lbr)
    assert {"FULLY_CONNECTED", "LOGISTIC", "TANH"} <= set(kinds(graph))


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout", [0, 1])
@pytest.mark.parametrize("state", ["absent", "zeros", "input"])
def test_lstm_node_matches_onnxruntime(tmp_path: Path, direction: str, layout: int, state: str) -> None:
    _check(tmp_path, "LSTM", direction, layout, state, 2)


def test_gather_of_the_last_step_reads_it_directly(tmp_path: Path) -> None:
    """GRU -> Squeeze -> Transpose -> Gather(-1) as PyTorch exports `out[:, -1]`: the step's
    tensor is read directly, so no STRIDED_SLICE of the sequence output remains in use."""
    rng = np.random.default_rng(3)
    inits = {"W": rand(1, 3 * H, IN, rng=rng), "R": rand(1, 3 * H, H, rng=rng),
             "ax": np.array([1], np.int64), "last": np.array(-1, np.int64)}
    nodes = [node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             node("GRU", ["xt", "W", "R"], ["y", "yh"], hidden_size=H, linear_before_reset=1),
             node("Squeeze", ["y", "ax"], ["ys"]),
             node("Transpose", ["ys"], ["yb"], perm=[1, 0, 2]),
             node("Gather", ["yb", "last"], ["out"], axis=1)]
    path = save(tmp_path, nodes, {"x": [1, T, IN]}, ["out"], inits)
    graph = compare(path, {"x": rng.standard_normal((1, T, IN)).astype(np.float32)})
    producer = next(op for op in graph.ops if "out" in op.outputs)
    assert producer.kind == "RESHAPE"


def test_gather_of_another_tensor_is_the_general_gather(tmp_path: Path) -> None:
    """A Gather not reading an unrolled step is left to onnx_data_ops' Gather."""
    rng = np.random.default_rng(4)
    nodes = [node("Relu", ["x"], ["r"]), node("Gather", ["r", "k"], ["out"], axis=1)]
    path = save(tmp_path, nodes, {"x": [2, T, IN]}, ["out"], {"k": np.array(2, np.int64)})
    graph = compare(path, {"x": rng.standard_normal((2, T, IN)).astype(np.float32)})
    assert "GATHER" in kinds(graph)


@pytest.mark.parametrize(("kind", "attrs", "words"), [
    ("GRU", {"clip": 3.0}, "clip=3.0"),
    ("GRU", {"activations": ["Tanh", "Tanh"]}, "activations"),
    ("LSTM", {"input_forget": 1}, "input_forget"),
])
def test_unsupported_variants_are_refused(tmp_path: Path, kind: str, attrs: dict, words: str) -> None:
    path, _ = _rnn(tmp_path, kind, "forward", 0, "absent", 5, **attrs)
    with pytest.raises(MfError) as e:
        load_model(path)
    msg = str(e.value)
    assert "\n" not in msg and words in msg and kind in msg and "torch.onnx.export" in msg


def test_lstm_peepholes_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    inits = {"W": rand(1, 4 * H, IN, rng=rng), "R": rand(1, 4 * H, H, rng=rng),
             "P": rand(1, 3 * H, rng=rng)}
    n = node("LSTM", ["x", "W", "R", "", "", "", "", "P"], ["y"], hidden_size=H)
    path = save(tmp_path, [n], {"x": [T, 1, IN]}, ["y"], inits)
    with pytest.raises(MfError, match=r"peephole.*nn\.LSTM has no peepholes"):
        load_model(path)


def test_short_sequence_lens_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    inits = {"W": rand(1, 3 * H, IN, rng=rng), "R": rand(1, 3 * H, H, rng=rng),
             "lens": np.array([T, T - 1], np.int32)}
    n = node("GRU", ["x", "W", "R", "", "lens"], ["y"], hidden_size=H)
    path = save(tmp_path, [n], {"x": [T, 2, IN]}, ["y"], inits)
    with pytest.raises(MfError, match="sequence_lens"):
        load_model(path)


# -- PyTorch exports, quantized and built ------------------------------------------------------


def _torch_model(torch: Any, cell: str, batch_first: bool, layers: int, bidirectional: bool) -> Any:
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(nn, cell)(6, 12, num_layers=layers, batch_first=batch_first,
                                         bidirectional=bidirectional)
            self.fc = nn.Linear(12 * (2 if bidirectional else 1), 3)

        def forward(self, x: Any) -> Any:  # x: (batch, time, features) either way
            if batch_first:
                return self.fc(self.rnn(x)[0][:, -1])
            return self.fc(self.rnn(x.transpose(0, 1))[0][-1])

    torch.manual_seed(0)
    return Net().eval()


TORCH_CASES = [
    ("GRU", True, 1, False), ("GRU", False, 2, False), ("GRU", True, 1, True),
    ("LSTM", True, 1, False), ("LSTM", False, 2, False), ("LSTM", True, 2, True),
]


@pytest.mark.slow
@pytest.mark.parametrize(("cell", "batch_first", "layers", "bidirectional"), TORCH_CASES)
def test_torch_rnn_quantized_runs_close_to_onnxruntime(tmp_path: Path, cell: str, batch_first: bool,
                                                       layers: int, bidirectional: bool) -> None:
    torch = pytest.importorskip("torch")
    steps = 10
    net = _torch_model(torch, cell, batch_first, layers, bidirectional)
    shape = (1, steps, 6)
    path = tmp_path / "rnn.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(shape), str(path), input_names=["x"], output_names=["y"],
                          dynamo=False)
    rng = np.random.default_rng(8)
    t = np.arange(steps, dtype=np.float32)[None, :, None]

    def signals(n: int) -> np.ndarray:
        """Noisy sines, like the sensor sequences these layers read: (n, *shape)."""
        phase = rng.uniform(0, 6, (n, 1, 6)).astype(np.float32)
        freq = rng.uniform(0.2, 1.0, (n, 1, 6)).astype(np.float32)
        s = np.sin(freq * t + phase) + 0.1 * rng.standard_normal((n, steps, 6)).astype(np.float32)
        return s[:, None]

    calib, x = signals(64)[:, 0], signals(8)
    compare(path, {"x": x[0]})
    result = run_model(path, x[:, 0], CompileOptions(calib=calib), out_dir=tmp_path / "build")
    assert not result.mismatches
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([session.run(None, {"x": s})[0] for s in x])
    got = next(iter(result.outputs.values())).reshape(ref.shape)
    noise = float(np.sum((ref - got) ** 2))
    db = 10 * np.log10(float(np.sum(ref ** 2)) / max(noise, 1e-30))
    assert db >= 30, f"{cell}: output SQNR {db:.1f} dB vs onnxruntime"
