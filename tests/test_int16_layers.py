"""`--int16 LAYER,...` (issue 11): chosen layers of an int8 graph keep int16 activations, with
QUANTIZE conversions at their borders; the C is bit-exact and the report gives the cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_quantize import EXAMPLE, digits

from mcuforge.compile import CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.quantize import QuantOptions, quantize
from mcuforge.runner import run_model


def _kinds(graph) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(op.kind, op.name, graph.tensors[op.outputs[0]].dtype) for op in graph.ops]


def test_chosen_layers_become_int16_with_conversions_at_their_borders() -> None:
    x, _ = digits()
    q, report = quantize(load_model(EXAMPLE), x[:50], QuantOptions(int16_layers=("c2", "g1")))
    kinds = _kinds(q)
    # c2 reads its int8 input through a QUANTIZE to int16; the flatten between c2 and g1 stays
    # int16 (an alias of a chosen layer's output); g1 hands int8 to logits through a QUANTIZE.
    assert kinds == [
        ("CONV_2D", "c1", "int8"), ("QUANTIZE", "r1_int16", "int16"), ("CONV_2D", "c2", "int16"),
        ("RESHAPE", "f", "int16"), ("FULLY_CONNECTED", "g1", "int16"), ("QUANTIZE", "r3_int8", "int8"),
        ("FULLY_CONNECTED", "logits", "int8"), ("SOFTMAX", "probs", "int8")]
    for name in ("c2", "g1"):
        op = next(o for o in q.ops if o.name == name)
        assert q.tensors[op.inputs[2]].dtype == "int64"  # 16x8 biases
        assert q.tensors[op.inputs[1]].dtype == "int8"
        assert q.tensors[op.outputs[0]].scalar_quant()[1] == 0  # symmetric int16
    sqnr = {e.tensor: e.sqnr_db for e in report.layers}
    _, base = quantize(load_model(EXAMPLE), x[:50])
    base_sqnr = {e.tensor: e.sqnr_db for e in base.layers}
    assert sqnr["r2"] > base_sqnr["r2"] + 3  # c2's output measured at 16 bits


def test_softmax_at_the_end_makes_an_int16_output() -> None:
    x, _ = digits()
    q, _ = quantize(load_model(EXAMPLE), x[:50], QuantOptions(int16_layers=("logits", "probs")))
    out = q.tensors[q.outputs[0]]
    assert out.dtype == "int16" and out.scalar_quant() == (pytest.approx(2.0**-15), 0)


@pytest.mark.parametrize(("layers", "mode", "needle"), [
    (("nope",), "int8", "no layer named 'nope'; layers after optimization: 'c1'"),
    (("c1",), "16x8", "--mode 16x8 already makes every layer int16"),
])
def test_refusals(layers: tuple[str, ...], mode: str, needle: str) -> None:
    x, _ = digits()
    with pytest.raises(MfError, match=needle):
        quantize(load_model(EXAMPLE), x[:10], QuantOptions(mode=mode, int16_layers=layers))


def test_op_without_int16_definition_is_refused(tmp_path: Path) -> None:
    import onnx

    m = onnx.load(EXAMPLE)
    m.graph.node[-1].op_type = "LogSoftmax"
    onnx.save(m, tmp_path / "log_probs.onnx")
    x, _ = digits()
    with pytest.raises(MfError, match="LOG_SOFTMAX 'probs' has no int16 definition"):
        quantize(load_model(tmp_path / "log_probs.onnx"), x[:10], QuantOptions(int16_layers=("probs",)))


@pytest.mark.slow  # builds C
def test_mixed_graph_runs_bit_exact_and_reports_its_cost(tmp_path: Path) -> None:
    x, y = digits()
    result = run_model(EXAMPLE, x[1500:1520], CompileOptions(calib=x[:200], int16_layers=("c2", "g1")),
                       out_dir=tmp_path / "a")
    assert result.mismatches == {}
    kernels = {s.call.kernel for s in result.compiled.program.steps if s.call is not None}
    assert {"mf_convolve_s16", "mf_fully_connected_s16", "mf_requantize_s16", "mf_convolve_s8"} <= kernels
    compiled = compile_model(EXAMPLE, tmp_path / "b", CompileOptions(
        calib=x[:200], eval_data=(x[1500:], y[1500:]), int16_layers=("logits", "probs")))
    cost = compiled.report["int16_layers"]
    assert cost["layers"] == ["logits", "probs"]
    mixed, base = cost["mixed"], cost["all_int8"]
    assert mixed["output_sqnr_db"] > base["output_sqnr_db"] + 3  # the int16 softmax output
    assert mixed["weights_bytes"] > base["weights_bytes"]  # int64 biases, 16-bit softmax tables
    assert abs(mixed["eval_accuracy"] - base["eval_accuracy"]) <= 0.01
    wide = compile_model(EXAMPLE, tmp_path / "c", CompileOptions(calib=x[:200], int16_layers=("c1",)))
    cost = wide.report["int16_layers"]
    assert cost["mixed"]["arena_bytes"] > cost["all_int8"]["arena_bytes"]  # 16-bit activations


def test_quantized_model_refuses_int16_layers(tmp_path: Path) -> None:
    from mcuforge.importers.ir_file import save_ir

    x, _ = digits()
    q, _ = quantize(load_model(EXAMPLE), x[:10])
    path = save_ir(q, tmp_path / "q.mfir")
    with pytest.raises(MfError, match="quantized already"):
        compile_model(path, tmp_path / "c", CompileOptions(int16_layers=("c1",)))


def test_cli_flag_and_report_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_cli import assert_one_line_error, run_cli

    x, _ = digits()
    np.save(tmp_path / "calib.npy", x[:50])
    code, text, err = run_cli(["compile", str(EXAMPLE), "--calib", str(tmp_path / "calib.npy"),
                               "--int16", "logits,probs", "-o", str(tmp_path / "c")], capsys)
    assert code == 0, err
    line = next(ln for ln in text.splitlines() if ln.startswith("int16 layers logits, probs: arena"))
    assert "all-int8" in line and "output SQNR" in line
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(tmp_path / "calib.npy"),
                            "--int16", "c9", "-o", str(tmp_path / "q.mfir")], capsys)
    assert_one_line_error(code, err, "digits_cnn.onnx", "no layer named 'c9'")
