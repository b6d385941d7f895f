"""Partially quantized QDQ models (onnxruntime `quantize_static` at its defaults leaves some op
types in float) and the real-world ONNX cases of ../shared/cases: dynamic batch, float islands."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper
from test_cli import run_cli

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.importers.qdq_islands import float_islands
from mcuforge.runner import run_model

CASES = Path(__file__).resolve().parent.parent.parent / "shared" / "cases"


def case(folder: str, name: str) -> Path:
    path = CASES / folder / name
    if not path.exists():
        pytest.skip(f"real-world case {path} not found (a user's clone has no ../shared)")
    return path


def ort_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    """onnxruntime's output per sample of `x` (N, *input shape without batch)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: s[None].astype(np.float32)})[0] for s in x])


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - got.reshape(ref.shape)) ** 2), 1e-30)))


def check_host(path: Path, x: np.ndarray, calib: np.ndarray | Path | None, reference: Path | None = None,
               ) -> float:
    """Build and run on the host: bit-exact with the integer reference; the SQNR (dB) of the
    dequantized output against onnxruntime on `reference` (default: the model itself)."""
    result = run_model(path, x, CompileOptions(calib=calib))
    assert not result.mismatches
    got = next(iter(result.outputs.values()))
    return sqnr_db(ort_outputs(reference or path, x), got)


# -- the real-world cases --------------------------------------------------------------------


@pytest.mark.slow
def test_case_dynamic_batch_onnx() -> None:
    path = case("dynamic_batch_onnx", "dyn.onnx")
    x = np.load(path.parent / "x.npy")
    assert check_host(path, x, path.parent / "calib.npy") >= 30


@pytest.mark.slow
@pytest.mark.parametrize("calib", [False, True])
def test_case_sub_scalar_qdq(calib: bool) -> None:
    """Sub(1, z) left float by the quantizer between a DequantizeLinear and a QuantizeLinear: both
    scales are given, the constant 1 gets its own, so it compiles with or without --calib."""
    path = case("qdq_float_island", "sub_scalar_qdq.onnx")
    x = np.load(path.parent / "x.npy")
    assert check_host(path, x, path.parent / "calib.npy" if calib else None) >= 30


@pytest.mark.slow
def test_case_add_neg_runs() -> None:
    path = case("qdq_float_island", "add_neg.onnx")
    x = np.load(path.parent / "x.npy")
    assert check_host(path, x, path.parent / "calib.npy") >= 30


@pytest.mark.slow
def test_case_add_neg_without_neg(tmp_path: Path) -> None:
    """The add_neg case with Neg(z) written Mul(z, -1): compiles from --calib, 30 dB."""
    src = case("qdq_float_island", "add_neg.onnx")
    model = onnx.load(src)
    (neg,) = [n for n in model.graph.node if n.op_type == "Neg"]
    index = list(model.graph.node).index(neg)
    model.graph.node.remove(neg)
    model.graph.node.insert(index, helper.make_node("Mul", [neg.input[0], "minus_one"], [neg.output[0]]))
    model.graph.initializer.append(numpy_helper.from_array(np.array(-1, np.float32), "minus_one"))
    path = tmp_path / "add_mul.onnx"
    onnx.save(model, path)
    x = np.load(src.parent / "x.npy")
    assert check_host(path, x, src.parent / "calib.npy") >= 30


# -- onnxruntime quantize_static at defaults over small torch models --------------------------


@pytest.fixture(scope="module")
def qdq_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, np.ndarray]]:
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime.quantization")
    import qdq_torch_models as zoo

    folder = tmp_path_factory.mktemp("qdq")
    return {name: zoo.make(name, folder) for name in zoo.MODELS}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv_add", "gate", "chain", "input_island"])
def test_quantize_static_models_run_close_to_onnxruntime(
    name: str, qdq_models: dict[str, tuple[Path, Path, np.ndarray]]
) -> None:
    float_path, qdq_path, calib = qdq_models[name]
    x = np.random.default_rng(9).standard_normal((6, *calib.shape[1:])).astype(np.float32)
    assert check_host(qdq_path, x, calib) >= 30  # against onnxruntime running the QDQ model
    # against the float model: about as close as onnxruntime's own QDQ execution is
    ort_qdq = sqnr_db(ort_outputs(float_path, x), ort_outputs(qdq_path, x))
    assert check_host(qdq_path, x, calib, float_path) >= min(30.0, ort_qdq - 3)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "islands"), [
    ("chain", ["SUB '/Sub_output_0'", "HARD_SWISH '/HardSwish_output_0'"]),
    ("input_island", ["MUL '/Div_output_0'", "SUB '/Sub_output_0'"]),
])
def test_float_islands_need_calib(name: str, islands: list[str], capsys: pytest.CaptureFixture[str],
                                  qdq_models: dict[str, tuple[Path, Path, np.ndarray]],
                                  tmp_path: Path) -> None:
    _, qdq_path, _ = qdq_models[name]
    code, _, err = run_cli(["compile", str(qdq_path), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    (line,) = [ln for ln in err.splitlines() if ln.startswith("mcuforge: error:")]
    assert "--calib" in line and all(i in line for i in islands)
    assert float_islands(load_model(qdq_path))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv_add", "gate"])
def test_islands_between_given_scales_need_no_calib(
    name: str, qdq_models: dict[str, tuple[Path, Path, np.ndarray]]
) -> None:
    """Sub and Tanh (gate) and the importer's own layout change before Gemm (conv_add) read a
    DequantizeLinear and write a QuantizeLinear: quantized at import, no --calib needed."""
    _, qdq_path, calib = qdq_models[name]
    assert not float_islands(load_model(qdq_path))
    assert check_host(qdq_path, calib[:4], None) >= 30


# -- on a board --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="arm-none-eabi-gcc or qemu-system-arm not installed")
@pytest.mark.parametrize(("folder", "name"), [("dynamic_batch_onnx", "dyn.onnx"),
                                              ("qdq_float_island", "sub_scalar_qdq.onnx")])
def test_cases_bit_exact_on_an386(folder: str, name: str, tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = case(folder, name)
    x = np.load(path.parent / "x.npy")[:2]
    result = run_on_board(path, x, "mps2-an386", CompileOptions(calib=path.parent / "calib.npy"),
                          out_dir=tmp_path / "fw")
    assert result.mismatches == {} and result.samples == 2
    got = next(iter(result.outputs.values()))
    assert sqnr_db(ort_outputs(path, x), got) >= 30


# -- small QDQ graphs written with onnx.helper (no torch, no C build) -------------------------


def _qdq_graph(tmp_path: Path, chained: bool) -> Path:
    """x -> Q/DQ -> Sub(1, .) [-> Tanh] -> Q/DQ -> y, the Sub (and Tanh) left float with a float
    constant, as onnxruntime leaves them; `chained` puts the Tanh between Sub and the Q, so the
    Sub's output has no scale."""
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], "x_q"),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], "x_dq"),
        helper.make_node("Sub", ["one", "xd"], ["d"], "one_minus"),
    ]
    if chained:
        nodes.append(helper.make_node("Tanh", ["d"], ["t"], "squash"))
    last = "t" if chained else "d"
    nodes += [helper.make_node("QuantizeLinear", [last, "sy", "zy"], ["yq"], "y_q"),
              helper.make_node("DequantizeLinear", ["yq", "sy", "zy"], ["y"], "y_dq")]
    inits = {"sx": np.array(0.02, np.float32), "zx": np.array(3, np.int8), "one": np.array(1.0, np.float32),
             "sy": np.array(0.01 if chained else 0.03, np.float32), "zy": np.array(-5, np.int8)}
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 8])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    path = tmp_path / f"qdq_{int(chained)}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def _int8_outputs(path: Path, x: np.ndarray, calib: np.ndarray | None) -> np.ndarray:
    from mcuforge.compile import to_int8
    from mcuforge.quantize.accuracy import dequantize
    from mcuforge.reference import run
    from mcuforge.runner import quantized_inputs

    graph, _ = to_int8(load_model(path), CompileOptions(calib=calib))
    assert {t.dtype for t in graph.tensors.values() if not t.is_const} == {"int8"}
    q = quantized_inputs(graph, {"x": x})["x"]
    (out,) = graph.outputs
    return np.concatenate([dequantize(graph, out, run(graph, {"x": s[None]})[out]) for s in q])


def test_constant_operand_of_a_float_op_between_qdq_needs_no_calib(tmp_path: Path) -> None:
    path = _qdq_graph(tmp_path, chained=False)
    assert not float_islands(load_model(path))
    x = np.random.default_rng(1).uniform(-2, 2, (16, 8)).astype(np.float32)
    got = _int8_outputs(path, x, None)
    np.testing.assert_allclose(got, ort_outputs(path, x), atol=0.03)  # one output step


def test_chained_float_ops_need_calib(tmp_path: Path) -> None:
    from mcuforge.compile import quantize_float_islands
    from mcuforge.errors import MfError

    path = _qdq_graph(tmp_path, chained=True)
    graph = load_model(path)
    assert [op.kind for op in float_islands(graph)] == ["SUB", "TANH"]
    with pytest.raises(MfError, match=r"leaves 2 op\(s\) in float without scales: SUB 'd', TANH 't'; "
                                      r"give --calib"):
        quantize_float_islands(graph, CompileOptions())
    rng = np.random.default_rng(2)
    calib = rng.uniform(-2, 2, (64, 8)).astype(np.float32)
    x = rng.uniform(-2, 2, (16, 8)).astype(np.float32)
    got = _int8_outputs(path, x, calib)
    assert sqnr_db(ort_outputs(path, x), got) >= 30


def test_float_calibration_of_an_int8_input_model(tmp_path: Path) -> None:
    """A model whose input is already int8 (TF's converter with int8 input; here an ONNX graph
    input feeding a DequantizeLinear) and a float island behind it: --calib takes real values,
    quantized with the input's own scale before the graph runs on them."""
    from mcuforge.compile import to_int8
    from mcuforge.quantize.accuracy import dequantize
    from mcuforge.reference import run

    nodes = [helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], "x_dq"),
             helper.make_node("Sub", ["one", "xd"], ["d"], "one_minus"),
             helper.make_node("Tanh", ["d"], ["t"], "squash"),
             helper.make_node("QuantizeLinear", ["t", "sy", "zy"], ["y"], "y_q")]
    inits = {"sx": np.array(0.02, np.float32), "zx": np.array(3, np.int8), "one": np.array(1.0, np.float32),
             "sy": np.array(0.01, np.float32), "zy": np.array(-5, np.int8)}
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("xq", onnx.TensorProto.INT8, [1, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT8, [1, 8])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    path = tmp_path / "int8_input.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    rng = np.random.default_rng(3)
    calib = rng.uniform(-2, 2, (64, 8)).astype(np.float32)
    int_graph, _ = to_int8(load_model(path), CompileOptions(calib=calib))
    (name,), (out,) = int_graph.inputs, int_graph.outputs
    q = rng.integers(-97, 104, (16, 1, 8), dtype=np.int8)  # real values inside the calibrated [-2, 2]
    got = np.concatenate([dequantize(int_graph, out, run(int_graph, {name: s})[out]) for s in q])
    want = np.tanh(1.0 - 0.02 * (q.reshape(16, 8).astype(np.float32) - 3))
    np.testing.assert_allclose(got.reshape(16, 8), want, atol=0.05)
