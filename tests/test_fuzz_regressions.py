"""Bugs the differential fuzzer found (`mcuforge fuzz`), each the minimized model (a small
`ModelSpec`) that failed before its fix, checked end to end against its oracle. Grouped by the
area of the fuzzer's op table that found them: spatial and data movement, then math/sequences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.fuzz.check import check
from mcuforge.fuzz.export import calib_data, export, to_nchw
from mcuforge.fuzz.spec import ModelSpec, Node


@pytest.mark.slow
def test_onnx_nearest_resize_keeps_an_axis_of_scale_one() -> None:
    # Resize nearest, tf_half_pixel_for_nn + round_prefer_ceil, scales (2, 1): onnxruntime copies
    # the W axis (scale 1) as is; the index table from the formula took column x + 1.
    params = {"mode": "nearest", "factor": [2, 1], "coord": "tf_half_pixel_for_nn",
              "nearest": "round_prefer_ceil", "_w": 0}
    spec = ModelSpec(99, (10, 10, 2), [Node("resize", (0,), params)], "free")
    outcome = check(spec, "onnx")
    assert outcome.status == "ok", outcome


@pytest.mark.slow
def test_tflite_split_with_an_unused_piece_compiles_without_calibration() -> None:
    # A Lambda's tf.split of which one piece is used: TF's converter leaves the SPLIT_V in float
    # between DEQUANTIZE and QUANTIZE; it was refused ("give --calib") although it only moves bytes.
    params = {"axis": 1, "sizes": [2, 3], "use": "pick", "pick": 1, "_w": 0}
    spec = ModelSpec(379631010, (7, 5, 1), [Node("split", (0,), params)], "free")
    outcome = check(spec, "tflite")
    assert outcome.status == "ok", outcome


@pytest.mark.slow
def test_qdq_split_with_an_unused_piece_folds_into_an_int8_split() -> None:
    # onnxruntime's quantize_static puts Q/DQ on every Split output; the unread piece's pair is
    # dead, and a Split with an unread float output was left in float and refused.
    params = {"axis": 2, "sizes": [1, 2], "use": "pick", "pick": 0, "_w": 0}
    spec = ModelSpec(559713601, (5, 7, 3), [Node("split", (0,), params)], "free")
    outcome = check(spec, "qdq")
    assert outcome.status == "ok", outcome


@pytest.mark.slow
def test_qdq_batch_norm_after_a_conv_is_refused_then_compiles_with_calibration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # onnxruntime's quantize_static (no pre-processing) keeps a BatchNormalization after a Conv
    # with its own Q/DQ: folding the QDQ made it an "int8" BATCH_NORM of quantized mean/var, which
    # fold_batch_norm then folded into the int8 conv as floats (AssertionError in kernel_params).
    # Now it is a float MUL and ADD island: refused without --calib, bit-exact with it.
    params = {"base": "depthwise", "act": "none", "k": 3, "s": 2, "d": 1, "pad": "same", "filters": 2,
              "_w": 0}
    spec = ModelSpec(691438056, (10, 10, 2), [Node("batch_norm", (0,), params)], "fixed")
    outcome = check(spec, "qdq")  # the fuzzer retries a QDQ refusal that asks for --calib with it
    assert outcome.status == "ok", outcome
    model = export(spec, "qdq", tmp_path)
    assert main(["compile", str(model), "-o", str(tmp_path / "c")]) == 2
    assert "--calib" in capsys.readouterr().err
    np.save(tmp_path / "calib.npy", to_nchw(calib_data(spec)))
    np.save(tmp_path / "x.npy", to_nchw(calib_data(spec, 3, salt=2)))
    args = ["--calib", tmp_path / "calib.npy", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy"]
    assert main(["run", str(model), *map(str, args)]) == 0


# -- fuzz-math: sequences (fuzz/ops/sequence.py) --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("frontend", ["torchscript", "torch"])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_rnn_whole_sequence_output_of_a_torch_export_is_decoded(kind: str, frontend: str) -> None:
    # torch.onnx writes batch-first nn.LSTM / nn.GRU outputs as ONNX's time-major Y, Squeeze and a
    # Transpose back to (N, T, H); the Transpose stays a layout, so the IR output is (T, 1, H).
    # Decoding the C's output bytes assumed the batch leads the IR shape and crashed (a reshape
    # of T * H values into (1, H)).
    # Found with the TorchScript exporter; the dynamo exporter's graph of the same module too.
    spec = ModelSpec(5, (6, 8), [Node(kind, (0,), {"units": 4, "seq": True, "_w": 0})], "fixed")
    outcome = check(spec, frontend)
    assert outcome.status == "ok", outcome


# -- the full-table host run (seed 3200) ------------------------------------------------------------


@pytest.mark.slow
def test_nan_calibration_values_are_refused_in_one_line() -> None:
    # A Relu'd grouped conv can give a zero row; ONNX LpNormalization of it is 0/0 = NaN in the
    # float model, and the NaN range crashed quantization ("cannot convert float NaN to integer";
    # fuzz seed 3200, model 1314). It is a refusal naming the tensor and op.
    spec = ModelSpec.from_json({"seed": 2682757072, "input_shape": [10, 10, 2], "batch": "free", "nodes": [
        {"op": "group_conv", "inputs": [0], "params": {"k": 3, "s": 1, "d": 1, "pad": "valid", "groups": 2,
                                                      "filters": 4, "act": "relu", "_w": 1}},
        {"op": "l2_norm", "inputs": [1], "params": {"_w": 2}},
        {"op": "div_const", "inputs": [2], "params": {"c": -4.0, "_w": 3}}]})
    outcome = check(spec, "onnx")
    assert outcome.status == "refused", outcome
    assert "NaN" in outcome.detail and "L2_NORMALIZATION" in outcome.detail, outcome


@pytest.mark.slow
@pytest.mark.parametrize("frontend", ["torchscript", "torch"])
def test_a_reduction_that_drops_an_axis_before_a_1d_conv_imports(frontend: str) -> None:
    # ReduceSum over C (keepdims=0) then a 1-D Conv: the ONNX importer's search for a conv below
    # the input followed the Transposes of the lower-rank tensor and indexed past its permutation,
    # refusing a valid model as "not a valid onnx model (IndexError ...)" (fuzz seed 3300, 51).
    spec = ModelSpec.from_json({"seed": 3132835591, "input_shape": [7, 6, 16], "batch": "fixed", "nodes": [
        {"op": "reduce", "inputs": [0], "params": {"kind": "sum", "axes": [2], "keep": False, "_w": 4}},
        {"op": "pool1d", "inputs": [1], "params": {"kind": "max", "k": 3, "s": 3, "_w": 5}},
        {"op": "conv1d", "inputs": [2], "params": {"k": 1, "s": 2, "d": 1, "pad": "same", "filters": 2,
                                                  "act": "relu6", "_w": 6}}]})
    outcome = check(spec, frontend)
    assert outcome.status == "ok", outcome
