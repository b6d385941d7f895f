"""The quantizer through its API: ranges and encoding rules, fused activations, degenerate
tensors, bias correction, 16x8 mode, the .mfir round trip and the accuracy report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from mcuforge.compile import CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.importers.ir_file import save_ir
from mcuforge.passes import optimize
from mcuforge.quantize import QuantOptions, quantize
from mcuforge.quantize.calibration import collect_stats, load_calibration
from mcuforge.runner import run_model

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target


def logits_model(tmp_path: Path) -> Path:
    """The bundled example without its softmax: every op has an int16 kernel (16x8 mode)."""
    m = onnx.load(EXAMPLE)
    del m.graph.node[-1]
    out = m.graph.output[0]
    out.name = "logits"
    out.type.tensor_type.shape.dim[1].dim_value = 10
    path = tmp_path / "logits.onnx"
    onnx.save(m, path)
    return path


def conv_relu_model(tmp_path: Path, weights: np.ndarray) -> Path:
    """x (1, 2, 6, 6) -> Conv(weights, bias 0.1) -> Relu."""
    w = numpy_helper.from_array(weights.astype(np.float32), "w")
    b = numpy_helper.from_array(np.full(weights.shape[0], 0.1, np.float32), "b")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], "conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"], "relu")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 6, 6])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, weights.shape[0], 6, 6])], [w, b])
    path = tmp_path / "conv_relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_fused_relu_output_range_starts_at_zero(tmp_path: Path) -> None:
    weights = np.random.default_rng(0).normal(0, 1, (4, 2, 3, 3))
    graph = optimize(load_model(conv_relu_model(tmp_path, weights)))
    assert [op.kind for op in graph.ops] == ["CONV_2D"] and graph.ops[0].attrs["activation"] == "RELU"
    calib = np.random.default_rng(1).normal(0, 1, (16, 2, 6, 6))
    stats = collect_stats(graph, load_calibration(graph, calib), histograms=False)
    assert stats[graph.outputs[0]].lo == 0.0  # after fusion: the relu's range, not the conv's
    q, _ = quantize(load_model(conv_relu_model(tmp_path, weights)), calib)
    assert q.tensors[q.outputs[0]].scalar_quant()[1] == -128  # zero is the lowest level


def test_all_zero_weight_channel_and_constant_tensors(tmp_path: Path) -> None:
    weights = np.random.default_rng(0).normal(0, 1, (4, 2, 3, 3))
    weights[2] = 0.0
    model = load_model(conv_relu_model(tmp_path, weights))
    for calib in (np.zeros((4, 2, 6, 6)), np.full((4, 2, 6, 6), 0.5), None):
        data = np.random.default_rng(2).normal(0, 1, (8, 2, 6, 6)) if calib is None else calib
        for method in ("minmax", "percentile", "mse", "kl"):
            with np.errstate(all="raise"):
                q, report = quantize(model, data, QuantOptions(method, bias_correction=True))
            w = next(t for n, t in q.tensors.items() if t.is_const and t.dtype == "int8")
            assert w.quant is not None and np.all(np.isfinite(w.quant.scale)) and w.quant.scale[2] > 0
            assert not np.any(w.data[2])
            y = q.tensors[q.outputs[0]]
            assert y.quant is not None and y.quant.scale[0] > 0
            assert all(np.isfinite(e.sqnr_db) or e.sqnr_db == np.inf for e in report.layers)


def test_digits_example_accuracy_with_eval_data() -> None:
    x, y = digits()
    _, report = quantize(load_model(EXAMPLE), x[:200], eval_data=(x[1400:], y[1400:]))
    assert report.top1_agreement == 1.0
    assert report.layers[0].sqnr_db == min(e.sqnr_db for e in report.layers) > 35
    assert report.float_accuracy is not None and report.int8_accuracy is not None
    assert report.eval_samples == len(x) - 1400
    assert abs(report.float_accuracy - report.int8_accuracy) <= 0.01
    text = "\n".join(report.lines())
    assert "worst first" in text and "top-1 accuracy" in text


def test_bias_correction_reduces_output_error() -> None:
    x, _ = digits()
    graph = load_model(EXAMPLE)
    _, plain = quantize(graph, x[:200])
    _, corrected = quantize(graph, x[:200], QuantOptions(bias_correction=True))
    assert plain.bias_shifts is None
    assert corrected.bias_shifts and {s.kind for s in corrected.bias_shifts} == {"CONV_2D", "FULLY_CONNECTED"}
    logits = {e.tensor: e.sqnr_db for e in plain.layers}["logits"]
    assert {e.tensor: e.sqnr_db for e in corrected.layers}["logits"] > logits + 1.0
    assert "bias_correction" in corrected.to_json()


def test_16x8_mode_removes_activation_error(tmp_path: Path) -> None:
    """Weights exactly representable in int8: what remains in 16x8 mode is int16 rounding."""
    w = np.random.default_rng(0).integers(-127, 128, (4, 2, 3, 3)) * 0.01
    w[:, 0, 0, 0] = 1.27  # every channel's scale is exactly 0.01
    graph = load_model(conv_relu_model(tmp_path, w))
    calib = np.random.default_rng(1).normal(0, 1, (16, 2, 6, 6))
    _, int8 = quantize(graph, calib)
    q16, wide = quantize(graph, calib, QuantOptions(mode="16x8"))
    x = q16.tensors[q16.inputs[0]]
    assert x.dtype == "int16" and x.quant is not None and x.quant.zero_point[0] == 0
    assert int8.layers[0].sqnr_db < 50 and wide.layers[0].sqnr_db > 80


@pytest.mark.slow  # builds C
def test_16x8_accuracy_and_compiled_c_is_bit_exact(tmp_path: Path) -> None:
    x, y = digits()
    graph = load_model(logits_model(tmp_path))
    _, int8 = quantize(graph, x[:100])
    q16, wide = quantize(graph, x[:100], QuantOptions(mode="16x8"), eval_data=(x[1500:], y[1500:]))
    # int8 weights still bound the error; int16 activations take their share away.
    assert wide.layers[0].sqnr_db > int8.layers[0].sqnr_db + 2
    assert wide.int8_accuracy is not None and wide.float_accuracy is not None
    assert abs(wide.int8_accuracy - wide.float_accuracy) <= 0.01
    path = save_ir(q16, tmp_path / "wide.mfir")
    result = run_model(path, x[1500:1530], out_dir=tmp_path / "c")  # int16 C kernels (issue 11)
    assert result.samples == 30 and result.mismatches == {}
    header = (tmp_path / "c" / "wide.h").read_text()
    assert "int wide_invoke(const int16_t *input0, int16_t *output0);" in header
    kernels = {s.call.kernel for s in result.compiled.program.steps if s.call is not None}
    assert kernels == {"mf_convolve_s16", "mf_fully_connected_s16"}


def test_16x8_lists_unsupported_ops(tmp_path: Path) -> None:
    x, _ = digits()
    m = onnx.load(EXAMPLE)
    m.graph.node[-1].op_type = "LogSoftmax"  # an op without an int16 definition
    onnx.save(m, tmp_path / "log_probs.onnx")
    with pytest.raises(MfError, match=r"LOG_SOFTMAX 'probs'.*--mode int8"):
        quantize(load_model(tmp_path / "log_probs.onnx"), x[:10], QuantOptions(mode="16x8"))


def test_mfir_round_trip_compiles_to_identical_c(tmp_path: Path) -> None:
    x, _ = digits()
    compile_model(EXAMPLE, tmp_path / "direct", CompileOptions(calib=x[:50], name="digits"))
    q, _ = quantize(load_model(EXAMPLE), x[:50])
    path = save_ir(q, tmp_path / "digits_q.mfir")
    assert path.read_bytes() == save_ir(q, tmp_path / "again.mfir").read_bytes()
    loaded = load_model(path)
    assert [(op.kind, op.inputs, op.outputs, op.attrs) for op in loaded.ops] == \
        [(op.kind, op.inputs, op.outputs, op.attrs) for op in q.ops]
    via_ir = compile_model(path, tmp_path / "via_ir", CompileOptions(name="digits"))
    for name in ("digits.c", "digits.h", "digits_weights.c"):
        # The same C apart from the source file named in the header comment.
        assert (tmp_path / "direct" / name).read_text().replace(EXAMPLE.name, "MODEL") == \
            (tmp_path / "via_ir" / name).read_text().replace(path.name, "MODEL"), name
    assert via_ir.accuracy is None  # no --calib needed, none measured


def test_compile_report_has_eval_accuracy(tmp_path: Path) -> None:
    x, y = digits()
    compiled = compile_model(EXAMPLE, tmp_path, CompileOptions(calib=x[:50], eval_data=(x[1600:], y[1600:])))
    acc = compiled.report["accuracy"]
    assert acc["eval_samples"] == len(x) - 1600 and acc["int8_accuracy"] > 0.85
    assert acc["layers"][0]["sqnr_db"] == min(e["sqnr_db"] for e in acc["layers"])


def test_progress_bar_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    x, _ = digits()
    quantize(load_model(EXAMPLE), x[:20], QuantOptions(progress=True))
    assert "calibrating" in capsys.readouterr().err


def test_unknown_method_and_mode() -> None:
    x, _ = digits()
    with pytest.raises(MfError, match="minmax, percentile, mse, kl"):
        quantize(load_model(EXAMPLE), x[:4], QuantOptions("entropy"))
    with pytest.raises(MfError, match="int8, 16x8"):
        quantize(load_model(EXAMPLE), x[:4], QuantOptions(mode="int4"))


def test_already_quantized_graph_is_refused(tmp_path: Path) -> None:
    x, _ = digits()
    q, _ = quantize(load_model(EXAMPLE), x[:20])
    with pytest.raises(MfError, match="already quantized"):
        quantize(load_model(save_ir(q, tmp_path / "q.mfir")), x[:20])
