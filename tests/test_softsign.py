"""SOFTSIGN (ONNX Softsign), the op added to prove README's "Adding an op": an op entry, an importer
mapping and this test, no kernel (a lookup table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.ir.graph import Op, QuantParams, Tensor
from mcuforge.ops.registry import Ctx, lookup
from mcuforge.reference.interpreter import run
from mcuforge.runner import run_model


def conv_softsign(path: Path, channels: int = 5) -> Path:
    """NCHW 1x3x6x6 -> Conv 3x3 -> Softsign -> GlobalAveragePool: Softsign in a realistic place."""
    rng = np.random.default_rng(0)
    w = helper.make_tensor("w", TensorProto.FLOAT, (channels, 3, 3, 3),
                           rng.normal(0, 0.5, (channels, 3, 3, 3)).astype(np.float32).ravel())
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Softsign", ["c"], ["s"]),
             helper.make_node("GlobalAveragePool", ["s"], ["y"])]
    graph = helper.make_graph(nodes, "softsign", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                (1, 3, 6, 6))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, channels, 1, 1))],
                              [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)
    return path


def test_float_import_matches_onnxruntime(tmp_path: Path) -> None:
    path = conv_softsign(tmp_path / "m.onnx")
    graph = load_model(path)
    assert "SOFTSIGN" in {op.kind for op in graph.ops}
    x = np.random.default_rng(1).normal(0, 2, (1, 3, 6, 6)).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    (name,) = graph.inputs
    got = run(graph, {name: x.transpose(0, 2, 3, 1)})[graph.outputs[0]]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("in_q", "out_q"), [((0.05, -3), (1 / 128, 0)), ((0.2, 10), (0.01, -5))])
def test_int8_table_is_the_float_function_rounded(in_q: tuple[float, int], out_q: tuple[float, int]) -> None:
    codes = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    x = Tensor("x", (1, 256), "int8", quant=QuantParams(np.float32(in_q[0]), in_q[1]))
    y = Tensor("y", (1, 256), "int8", quant=QuantParams(np.float32(out_q[0]), out_q[1]))
    got = lookup("SOFTSIGN").ref_int(Ctx(Op("SOFTSIGN", "s", ["x"], ["y"]), [x], [y]), [codes])[0]
    real = np.float32(in_q[0]) * (codes.astype(np.float32) - in_q[1])
    exact = real / (1 + np.abs(real)) / out_q[0] + out_q[1]
    assert np.abs(got.astype(np.float64) - np.clip(exact, -128, 127)).max() <= 0.5 + 1e-6


@pytest.mark.cbuild
def test_compiled_c_is_bit_exact_and_close_to_onnxruntime(tmp_path: Path) -> None:
    path = conv_softsign(tmp_path / "m.onnx")
    rng = np.random.default_rng(2)
    calib = rng.normal(0, 1, (64, 3, 6, 6)).astype(np.float32)
    x = rng.normal(0, 1, (8, 3, 6, 6)).astype(np.float32)
    result = run_model(path, x, CompileOptions(calib=calib), out_dir=tmp_path / "out")
    assert not result.mismatches
    assert any(op.kind == "SOFTSIGN" for op in result.compiled.graph.ops)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    (ours,) = result.outputs.values()
    graph = result.compiled.graph
    step = float(graph.tensors[graph.outputs[0]].quant.scale[0])
    assert np.abs(ours.reshape(want.shape) - want).max() <= 3 * step
