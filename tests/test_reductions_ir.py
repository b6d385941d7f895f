"""Fast checks of the reductions and normalization ops: import from ONNX (shapes, layouts, the
errors a user can act on) and the accuracy of the integer LAYER_NORM definition."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx_models import node, rand, save

from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.ir.graph import QuantParams
from mcuforge.ir.layout import from_ir_layout, to_ir_layout
from mcuforge.reference import run

sys.path.insert(0, str(Path(__file__).parent / "runtime"))
from oneop import OneOp


def kinds(path: Path) -> list[str]:
    return [op.kind for op in load_model(path).ops]


@pytest.mark.parametrize(("op", "kind"), [("ReduceMax", "REDUCE_MAX"), ("ReduceMin", "REDUCE_MIN"),
                                          ("ReduceMean", "MEAN")])
@pytest.mark.parametrize("opset", [13, 18])
def test_onnx_reduce_matches_numpy(op: str, kind: str, opset: int, tmp_path: Path) -> None:
    """Axes as attribute (opset 13) or input (18), on an NCHW tensor the importer keeps NHWC."""
    axes = np.array([1, 3], np.int64)
    inputs = ["c", "axes"] if opset >= 18 else ["c"]
    attrs = {} if opset >= 18 else {"axes": [1, 3]}
    nodes = [node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), node(op, inputs, ["y"], keepdims=0, **attrs)]
    inits = {"w": rand(6, 3, 3, 3), **({"axes": axes} if opset >= 18 else {})}
    path = save(tmp_path, nodes, {"x": [1, 3, 5, 7]}, ["y"], inits, opset=opset)
    graph = load_model(path)
    assert kind in [op.kind for op in graph.ops]
    x = rand(1, 3, 5, 7, scale=1.0)
    (name,), (out,) = graph.inputs, graph.outputs
    got = from_ir_layout(graph, out, run(graph, {name: to_ir_layout(graph, name, x)})[out])
    ref = __import__("onnxruntime").InferenceSession(str(path)).run(None, {"x": x})[0]
    np.testing.assert_allclose(got.reshape(ref.shape), ref, rtol=1e-5, atol=1e-5)


def test_layer_norm_over_more_than_the_last_axis_is_refused(tmp_path: Path) -> None:
    nodes = [node("LayerNormalization", ["x", "g", "b"], ["y"], axis=1)]
    path = save(tmp_path, nodes, {"x": [1, 4, 6]}, ["y"], {"g": np.ones((4, 6), np.float32),
                                                          "b": np.zeros((4, 6), np.float32)})
    with pytest.raises(MfError) as e:
        load_model(path)
    assert "axis=1" in str(e.value) and "layernormalization_y" in str(e.value) and "\n" not in str(e.value)


def test_decomposed_layer_norm_becomes_one_op(tmp_path: Path) -> None:
    nodes = [node("ReduceMean", ["x"], ["m"], axes=[-1]), node("Sub", ["x", "m"], ["d"]),
             node("Pow", ["d", "two"], ["p"]), node("ReduceMean", ["p"], ["v"], axes=[-1]),
             node("Add", ["v", "eps"], ["ve"]), node("Sqrt", ["ve"], ["s"]), node("Div", ["d", "s"], ["n"]),
             node("Mul", ["n", "g"], ["ng"]), node("Add", ["ng", "b"], ["y"])]
    g, b = rand(10, scale=1.0), rand(10)
    inits = {"two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32), "g": g, "b": b}
    path = save(tmp_path, nodes, {"x": [1, 7, 10]}, ["y"], inits, opset=13)
    graph = load_model(path)
    assert [op.kind for op in graph.ops] == ["LAYER_NORM"]
    x = rand(1, 7, 10, scale=2.0)
    ref = __import__("onnxruntime").InferenceSession(str(path)).run(None, {"x": x})[0]
    np.testing.assert_allclose(run(graph, {graph.inputs[0]: x})[graph.outputs[0]], ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("depth", [1, 3, 16, 64, 768])
def test_integer_layer_norm_is_within_half_a_step(depth: int) -> None:
    """The int8 LAYER_NORM against the float one on the same (dequantized) input: only the final
    rounding shows, at most half an output step (a little more for the 1/256 bias steps)."""
    rng = np.random.default_rng(depth)
    gamma, beta = rng.uniform(0.5, 1.5, depth), rng.uniform(-0.5, 0.5, depth)
    one = OneOp("LAYER_NORM", {"epsilon": 1e-5, "gamma": tuple(gamma), "beta": tuple(beta)})
    x = rng.integers(-128, 128, (50, depth), dtype=np.int8)
    x_scale, x_zp, out_scale = 0.02, 5, 4.0 / 128
    one.input(x, QuantParams(np.float32(x_scale), x_zp))
    _, y = one.finish(QuantParams(np.float32(out_scale), 0))
    xf = (x.astype(np.float64) - x_zp) * np.float32(x_scale)
    mean = xf.mean(-1, keepdims=True)
    want = (xf - mean) / np.sqrt(((xf - mean) ** 2).mean(-1, keepdims=True) + 1e-5) * gamma + beta
    want = np.clip(want / np.float32(out_scale), -128, 127)
    assert np.abs(y - want).max() <= 0.51
