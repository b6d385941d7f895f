"""Attention (issue 11): BATCH_MATMUL and ONNX MatMul of two activations, end to end.

Fast: the ONNX importer's lowering (MatMul of two run-time tensors -> BATCH_MATMUL, a transposed K
folded into adj_y, batch broadcasting, the constant-weight MatMul staying FULLY_CONNECTED) checked
against onnxruntime with the float reference, and the refusals. Slow: Keras attention models
(`tf.linalg.matmul`, `Dot`, `MultiHeadAttention`) converted to int8 by TF's converter, whose C
output must equal TFLite Micro's byte for byte; PyTorch attention encoders exported to ONNX and
quantized by mcuforge, whose C output must equal the integer reference and stay within 30 dB SQNR
of onnxruntime. QEMU: the same on mps2-an386.
"""

from __future__ import annotations

from pathlib import Path

import attention_models as am
import numpy as np
import onnxruntime as ort
import pytest
from onnx_models import node, rand, save
from test_import_onnx import compare, kinds

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.ir.graph import Op
from mcuforge.ops.registry import infer_shapes
from mcuforge.runner import run_model

SQNR_DB = 30.0


def sqnr_db(reference: np.ndarray, approx: np.ndarray) -> float:
    noise = float(np.sum((reference.astype(np.float64) - approx) ** 2))
    return 10.0 * np.log10(float(np.sum(reference.astype(np.float64) ** 2)) / noise) if noise else np.inf


def _matmuls(graph: object) -> list[Op]:
    return [op for op in graph.ops if op.kind == "BATCH_MATMUL"]  # type: ignore[attr-defined]


# -- import (fast) -------------------------------------------------------------------------------


def test_scores_matmul_reads_a_transposed_key_in_place(tmp_path: Path) -> None:
    """Q (1, T, d) times Transpose(K): no TRANSPOSE op, BATCH_MATMUL with adj_y; then A times V."""
    nodes = [node("MatMul", ["x", "wq"], ["q"]), node("MatMul", ["x", "wk"], ["k"]),
             node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]), node("MatMul", ["q", "kt"], ["s"]),
             node("Softmax", ["s"], ["a"], axis=-1), node("MatMul", ["a", "x"], ["y"])]
    path = save(tmp_path, nodes, {"x": [1, 5, 6]}, ["y"], {"wq": rand(6, 6), "wk": rand(6, 6)})
    graph = compare(path, {"x": rand(1, 5, 6)})
    assert "TRANSPOSE" not in kinds(graph)
    adj = [(op.attrs["adj_x"], op.attrs["adj_y"]) for op in _matmuls(graph)]
    assert adj == [(False, True), (False, False)]
    assert kinds(graph).count("FULLY_CONNECTED") == 2  # constant 2-D weights stay dense layers


@pytest.mark.parametrize(("a", "b", "perm_b"), [
    ((2, 3, 4), (2, 4, 5), None),  # equal batches
    ((1, 3, 4, 6), (3, 6, 4), None),  # rhs of lower rank, batch broadcast
    ((2, 1, 3, 4), (1, 5, 4, 2), None),  # each side broadcast on one axis
    ((1, 2, 4, 3), (1, 2, 5, 3), [0, 1, 3, 2]),  # transposed rhs: adj_y
    ((1, 2, 4, 3), (1, 5, 2, 3), [0, 2, 3, 1]),  # batch axes move: one TRANSPOSE
    ((3, 4), (4, 2), None),  # 2-D activations
])
def test_matmul_of_two_activations_matches_onnxruntime(tmp_path: Path, a: tuple[int, ...],
                                                       b: tuple[int, ...], perm_b: list[int] | None) -> None:
    nodes = [node("Relu", ["b"], ["rb"])]
    if perm_b is not None:
        nodes.append(node("Transpose", ["rb"], ["tb"], perm=perm_b))
    nodes.append(node("MatMul", ["a", "tb" if perm_b is not None else "rb"], ["y"]))
    path = save(tmp_path, nodes, {"a": list(a), "b": list(b)}, ["y"], {})
    graph = compare(path, {"a": rand(*a), "b": rand(*b)})
    assert len(_matmuls(graph)) == 1


def test_constant_first_input_becomes_a_const_operand(tmp_path: Path) -> None:
    path = save(tmp_path, [node("MatMul", ["w", "x"], ["y"])], {"x": [1, 4, 3]}, ["y"], {"w": rand(5, 4)})
    graph = compare(path, {"x": rand(1, 4, 3)})
    (op,) = _matmuls(graph)
    assert graph.tensors[op.inputs[0]].is_const


@pytest.mark.parametrize(("equation", "a", "b"), [
    ("bhid,bhjd->bhij", (1, 2, 5, 4), (1, 2, 6, 4)),  # scores: K read transposed (adj_y)
    ("bhij,bhjd->bhid", (1, 2, 5, 6), (1, 2, 6, 4)),  # weighted values
    ("bqhd,bkhd->bhqk", (1, 5, 2, 4), (1, 6, 2, 4)),  # heads not split out yet
    ("bhqk,bkhd->bqhd", (1, 2, 5, 6), (1, 6, 2, 4)),  # and back
    ("ij,kj->ik", (3, 4), (5, 4)),
    ("bji,bjk->bki", (2, 4, 3), (2, 4, 5)),  # summed axis first, output transposed
])
def test_einsum_batch_matmul_matches_onnxruntime(tmp_path: Path, equation: str, a: tuple[int, ...],
                                                 b: tuple[int, ...]) -> None:
    nodes = [node("Relu", ["b"], ["rb"]), node("Einsum", ["a", "rb"], ["y"], equation=equation)]
    path = save(tmp_path, nodes, {"a": list(a), "b": list(b)}, ["y"], {})
    graph = compare(path, {"a": rand(*a), "b": rand(*b)})
    assert len(_matmuls(graph)) == 1


@pytest.mark.parametrize("equation", ["bij,bjk->bk", "bij,bjk", "bi,bi->b", "i...,j->ij"])
def test_other_einsums_are_refused_with_one_line(tmp_path: Path, equation: str) -> None:
    shapes = {"bij,bjk->bk": ([2, 3, 4], [2, 4, 5]), "bij,bjk": ([2, 3, 4], [2, 4, 5]),
              "bi,bi->b": ([2, 3], [2, 3]), "i...,j->ij": ([3, 2], [4])}
    sa, sb = shapes[equation]
    nodes = [node("Einsum", ["a", "b"], ["y"], equation=equation)]
    path = save(tmp_path, nodes, {"a": sa, "b": sb}, ["y"], {})
    with pytest.raises(MfError, match=r"\(Einsum\): equation") as e:
        load_model(path)
    assert "\n" not in str(e.value)


def test_rank_1_operand_is_refused_with_one_line(tmp_path: Path) -> None:
    path = save(tmp_path, [node("Relu", ["v"], ["rv"]), node("MatMul", ["x", "rv"], ["y"])],
                {"x": [2, 4], "v": [4]}, ["y"], {})
    with pytest.raises(MfError, match=r"MatMul\): operands of rank 1 are not supported") as e:
        load_model(path)
    assert "\n" not in str(e.value)


def test_shape_rule_refuses_batches_that_do_not_broadcast() -> None:
    op = Op("BATCH_MATMUL", "bmm", ["a", "b"], ["y"], {"adj_x": False, "adj_y": False})
    assert infer_shapes(op, [(2, 3, 4), (1, 4, 5)]) == [(2, 3, 5)]
    assert infer_shapes(Op("BATCH_MATMUL", "t", ["a", "b"], ["y"], {"adj_x": True, "adj_y": True}),
                        [(4, 3), (5, 4)]) == [(3, 5)]
    with pytest.raises(ValueError, match="do not broadcast"):
        infer_shapes(op, [(2, 3, 4), (3, 4, 5)])
    with pytest.raises(ValueError, match="inner dimensions differ"):
        infer_shapes(op, [(2, 3, 4), (2, 5, 4)])


def test_binding_refuses_depths_where_offset_terms_overflow() -> None:
    from mcuforge.ir.graph import Graph, QuantParams, Tensor
    from mcuforge.kernel_params import BATCH_MATMUL_MAX_DEPTH, kernel_call
    from mcuforge.ops.registry import Ctx

    def call(depth: int) -> object:
        g = Graph()
        q = QuantParams(np.float32(0.05), 3)
        g.add_tensor(Tensor("a", (1, 2, depth), "int8", quant=q))
        g.add_tensor(Tensor("b", (1, depth, 3), "int8", quant=q))
        g.add_tensor(Tensor("y", (1, 2, 3), "int8", quant=q))
        op = Op("BATCH_MATMUL", "bmm", ["a", "b"], ["y"], {"adj_x": False, "adj_y": False})
        g.add_op(op)
        return kernel_call(Ctx.of(g, op))

    assert call(BATCH_MATMUL_MAX_DEPTH).kernel == "mf_batch_matmul_s8"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="inner dimension 14001 exceeds"):
        call(BATCH_MATMUL_MAX_DEPTH + 1)


# -- Keras -> TFLite int8 (slow): byte for byte against TFLite Micro ------------------------------


def _tflm(data: bytes, x: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    outs = []
    for sample in x:
        interp = runtime.Interpreter.from_bytes(data)
        interp.set_input(sample[None], 0)
        interp.invoke()
        outs.append(interp.get_output(0))
    return np.concatenate(outs)


def _keras_model(name: str, tmp_path: Path) -> tuple[Path, np.ndarray]:
    shape = am.keras_input_shape(name)
    calib = np.random.default_rng(1).normal(size=(16, *shape)).astype(np.float32)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(am.keras_int8(name, calib))
    x = np.random.default_rng(2).integers(-128, 128, size=(3, *shape)).astype(np.int8)
    return path, x


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(am.KERAS_MODELS))
def test_keras_attention_matches_tflm(name: str, tmp_path: Path) -> None:
    path, x = _keras_model(name, tmp_path)
    result = run_model(path, x, CompileOptions(), out_dir=tmp_path / "out")
    assert _matmuls(result.compiled.graph), "the converter wrote no BATCH_MATMUL"
    assert not result.mismatches, f"C differs from the integer reference: {result.mismatches}"
    (ours,) = result.raw.values()
    want = _tflm(path.read_bytes(), x)
    diff = np.abs(ours.astype(np.int64) - want.reshape(ours.shape))
    assert diff.max() == 0, f"{np.count_nonzero(diff)} of {diff.size} outputs differ from TFLM"


@pytest.mark.slow
def test_keras_matmul_16x8_reference_matches_tflm(tmp_path: Path) -> None:
    """TF's 16x8 mode (int16 activations): the integer reference of BATCH_MATMUL (int64 sums)
    equals TFLite Micro's; the C runtime is int8-only, so this checks the reference."""
    from test_reference_int import assert_bit_exact, graph_of, to_tflite_16x8

    tf = am._tf()
    tf.keras.utils.set_random_seed(3)
    k = tf.keras
    x = k.Input((6, 10), batch_size=1)
    q, key = k.layers.Dense(10)(x), k.layers.Dense(10)(x)
    s = k.layers.Lambda(lambda a: tf.linalg.matmul(a[0], a[1], transpose_b=True))([q, key])
    data = to_tflite_16x8(k.Model(x, s))
    graph = graph_of(data, tmp_path)
    assert _matmuls(graph) and graph.tensors[graph.inputs[0]].dtype == "int16"
    rng = np.random.default_rng(0)
    shape = graph.tensors[graph.inputs[0]].shape
    samples = [rng.integers(-(1 << 15), 1 << 15, shape).astype(np.int16) for _ in range(5)]
    assert_bit_exact(data, graph, samples)


# -- PyTorch -> ONNX, quantized by mcuforge (slow): SQNR against onnxruntime ----------------------


def _torch_model(name: str, tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    _, shape, _ = am.TORCH_MODELS[name]
    path = tmp_path / f"{name}.onnx"
    am.torch_export(name, path)
    rng = np.random.default_rng(0)
    calib = rng.normal(size=(32, *shape[1:])).astype(np.float32)
    return path, calib, rng.normal(size=(6, *shape[1:])).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(am.TORCH_MODELS))
def test_torch_attention_within_30db_of_onnxruntime(name: str, tmp_path: Path) -> None:
    path, calib, x = _torch_model(name, tmp_path)
    result = run_model(path, x, CompileOptions(calib=calib), out_dir=tmp_path / "out")
    assert len(_matmuls(result.compiled.graph)) == 2
    assert not result.mismatches, f"C differs from the integer reference: {result.mismatches}"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    (ours,) = result.outputs.values()
    db = sqnr_db(want, ours.reshape(want.shape))
    assert db >= SQNR_DB, f"output SQNR {db:.1f} dB vs onnxruntime, want >= {SQNR_DB}"


@pytest.mark.slow
def test_constant_per_head_weights_run_as_a_batch_matmul(tmp_path: Path) -> None:
    """MatMul of (1, heads, T, d) by constant per-head weights (heads, d, dh): BATCH_MATMUL with a
    constant rhs, quantized per tensor by mcuforge and stored as a const array."""
    nodes = [node("MatMul", ["x", "w"], ["y"])]
    path = save(tmp_path, nodes, {"x": [1, 2, 5, 6]}, ["y"], {"w": rand(2, 6, 3)})
    rng = np.random.default_rng(5)
    calib = rng.normal(size=(16, 2, 5, 6)).astype(np.float32)
    x = rng.normal(size=(4, 2, 5, 6)).astype(np.float32)
    result = run_model(path, x, CompileOptions(calib=calib), out_dir=tmp_path / "out")
    (op,) = _matmuls(result.compiled.graph)
    assert result.compiled.graph.tensors[op.inputs[1]].is_const
    assert not result.mismatches
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    (ours,) = result.outputs.values()
    assert sqnr_db(want, ours.reshape(want.shape)) >= SQNR_DB


def _qdq(float_path: Path, calib: np.ndarray, out: Path) -> Path:
    """onnxruntime's quantize_static at its defaults (QDQ, per-tensor, MinMax)."""
    from onnxruntime.quantization import CalibrationDataReader, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(calib)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.it, None)
            return None if x is None else {"x": x[None]}

    quantize_static(str(float_path), str(out), Reader())
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["one_head_t16_d32", "two_heads_t8_d16"])
def test_qdq_attention_runs_within_a_few_steps_of_onnxruntime(name: str, tmp_path: Path) -> None:
    """The Q/DQ pair onnxruntime puts around the Transpose of K (free in the importer) becomes a
    requantization or nothing; the model's own scales are kept."""
    path, calib, x = _torch_model(name, tmp_path)
    qdq = _qdq(path, calib, tmp_path / "qdq.onnx")
    result = run_model(qdq, x, CompileOptions(), out_dir=tmp_path / "out")
    assert len(_matmuls(result.compiled.graph)) == 2
    assert "DEQUANTIZE" not in kinds(result.compiled.graph)
    assert not result.mismatches, f"C differs from the integer reference: {result.mismatches}"
    session = ort.InferenceSession(str(qdq), providers=["CPUExecutionProvider"])
    want = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    (ours,) = result.outputs.values()
    (out,) = result.compiled.graph.outputs
    step = result.compiled.graph.tensors[out].scalar_quant()[0]
    worst = float(np.abs(ours.reshape(want.shape) - want).max()) / step
    assert worst <= 2.0, f"{worst:.1f} output steps from onnxruntime's QDQ model"


# -- on the board (QEMU) -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an385", "mps3-an547"])  # DSP, portable, MVE
def test_attention_models_are_bit_exact_on_the_board(board: str, tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path, x = _keras_model("mha_3x4_t9", tmp_path)
    result = run_on_board(path, x[:2], board, CompileOptions(), out_dir=tmp_path / "k")
    assert result.samples == 2 and not result.mismatches
    onnx_path, calib, xs = _torch_model("two_heads_t5_d24_dynamic", tmp_path)
    result = run_on_board(onnx_path, xs[:2], board, CompileOptions(calib=calib), out_dir=tmp_path / "t")
    assert result.samples == 2 and not result.mismatches
