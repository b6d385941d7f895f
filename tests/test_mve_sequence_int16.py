"""The Helium (MVE, Cortex-M55) paths of the LSTM and SVDF dot products and of the int16 (16x8)
convolution, depthwise and fully-connected kernels run only on the target: models whose sizes sit
around the vector widths (16 int8 / 8 int16 / 4 int32 lanes, the 4-row LSTM blocks) are compiled
to firmware and run under QEMU on mps3-an547 (MVE) and mps2-an386 (DSP), byte for byte against
TFLite Micro over consecutive calls (the state carries over: SVDF, and LSTMs compiled with
keep_state) and against the integer reference (run_on_board's check)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from svdf_models import Layer, svdf_model, tflm_stream

from mcuforge.compile import CompileOptions
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.slow,
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

BOARDS = ["mps3-an547", "mps2-an386"]


def _convert(model: Any, shape: tuple[int, ...], int16: bool) -> bytes:
    with quiet_tensorflow():
        import tensorflow as tf

        rng = np.random.default_rng(7)
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([rng.standard_normal(shape).astype(np.float32)]
                                               for _ in range(32))
        if int16:
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            conv.inference_input_type = conv.inference_output_type = tf.int16
        else:
            conv.inference_input_type = conv.inference_output_type = tf.int8
        return bytes(conv.convert())


@functools.cache
def _lstm() -> bytes:
    """Stacked tf_keras LSTMs: 13 inputs into 7 units (a 4-row block and 3 rows left; 13 of 16
    lanes), then 18 units (7 and 18 of 16 lanes) over 5 steps, a dense head."""
    with quiet_tensorflow():
        import tf_keras as k
    k.utils.set_random_seed(8)
    x = k.Input((5, 13), batch_size=1)
    y = k.layers.LSTM(18)(k.layers.LSTM(7, return_sequences=True)(x))
    return _convert(k.Model(x, k.layers.Dense(5)(y)), (1, 5, 13), int16=False)


@functools.cache
def _int16_cnn() -> bytes:
    """16x8: 3x3 conv 9 -> 11 channels (rows of 81 int16: ten 8-lane steps and 1 lane), depthwise
    3x3 (multiplier 1: 11 channels, 4 + 4 + 3 lanes), 1x1 conv to 5 (rows of 11), depthwise with
    multiplier 2 (portable loop), dense 13 from 60 values."""
    with quiet_tensorflow():
        import tensorflow as tf
    k = tf.keras
    k.utils.set_random_seed(9)
    x = k.Input((7, 6, 9), batch_size=1)
    y = k.layers.Conv2D(11, 3, padding="same", activation="relu")(x)
    y = k.layers.DepthwiseConv2D(3, padding="same")(y)
    y = k.layers.Conv2D(5, 1)(y)
    y = k.layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, activation="relu")(y)
    y = k.layers.Dense(13)(k.layers.Flatten()(y))
    return _convert(k.Model(x, y), (1, 7, 6, 9), int16=True)


def _run(data: bytes, xs: np.ndarray, board: str, tmp_path: Path, opts: CompileOptions,
         kernels: set[str]) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    result = run_on_board(path, xs[:, 0], board, opts, out_dir=tmp_path / "fw")
    assert not result.mismatches
    used = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    assert used >= kernels, used
    want = tflm_stream(data, xs)  # one interpreter: variable tensors carry over
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)


def _cell_clipped(data: bytes, clip: float) -> bytes:
    """The LSTMs with cell_clip set (Keras has none; TFLite and TFLite Micro take it), small
    enough that the cell state is clipped."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    m = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    for op in m.subgraphs[0].operators:
        if isinstance(op.builtinOptions, fb.UnidirectionalSequenceLSTMOptionsT):
            op.builtinOptions.cellClip = clip
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize("clip", [0.0, 0.3], ids=["no_clip", "cell_clip"])
@pytest.mark.parametrize("board", BOARDS)
def test_lstm_keeping_state_bit_exact_with_tflm(board: str, clip: float, tmp_path: Path) -> None:
    data = _cell_clipped(_lstm(), clip) if clip else _lstm()
    xs = np.random.default_rng(1).integers(-128, 128, (4, 1, 5, 13), dtype=np.int8)
    if clip:  # the clip changes TFLite Micro's answer, so the clipping path is exercised
        assert not np.array_equal(tflm_stream(data, xs), tflm_stream(_lstm(), xs))
    _run(data, xs, board, tmp_path, CompileOptions(keep_state=True), {"mf_lstm_s8"})


@pytest.mark.parametrize("board", BOARDS)
def test_svdf_bit_exact_with_tflm(board: str, tmp_path: Path) -> None:
    """Feature rows of 37 (16 + 16 + 5 lanes), time dot products of rank x memory = 3 x 7 = 21
    int16 values (8 + 8 + 5 lanes) and 5 x 1."""
    data = svdf_model(layers=(Layer(12, 3, 7), Layer(6, 1, 5)), inputs=37, softmax=False, seed=4)
    xs = np.random.default_rng(2).integers(-128, 128, (6, 1, 37), dtype=np.int8)
    _run(data, xs, board, tmp_path, CompileOptions(), {"mf_svdf_s8"})


@pytest.mark.parametrize("board", BOARDS)
def test_int16_conv_depthwise_dense_bit_exact_with_tflm(board: str, tmp_path: Path) -> None:
    xs = np.random.default_rng(3).integers(-(1 << 15), 1 << 15, (3, 1, 7, 6, 9)).astype(np.int16)
    _run(_int16_cnn(), xs, board, tmp_path, CompileOptions(),
         {"mf_convolve_s16", "mf_depthwise_conv_s16", "mf_fully_connected_s16"})


@functools.cache
def _int16_dense_edges() -> bytes:
    """16x8 dense layers edited where the MVE requantization hands over to the scalar code: the
    first layer's channels 0-3 have every weight +127, so a sample of large positive inputs sums
    past int32 there (600 x 32767 x 127); the second layer's weights are -1, 0 or 1 and its output
    scale makes its multiplier's shift 0 (TFLite Micro computes with whatever the file says)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    with quiet_tensorflow():
        import tensorflow as tf
    k = tf.keras
    k.utils.set_random_seed(10)
    x = k.Input((600,), batch_size=1)
    data = _convert(k.Model(x, k.layers.Dense(6)(k.layers.Dense(8)(x))), (1, 600), int16=True)
    m = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sub = m.subgraphs[0]
    dense = [op for op in sub.operators
             if m.operatorCodes[op.opcodeIndex].builtinCode == fb.BuiltinOperator.FULLY_CONNECTED]
    first, second = dense
    weights = sub.tensors[first.inputs[1]]
    w = np.frombuffer(bytes(m.buffers[weights.buffer].data), np.int8).reshape(weights.shape).copy()
    w[:4] = 127
    m.buffers[weights.buffer].data = w.tobytes()
    weights = sub.tensors[second.inputs[1]]  # small weights: unsaturated outputs at that scale
    w = np.random.default_rng(11).integers(-1, 2, weights.shape).astype(np.int8)
    m.buffers[weights.buffer].data = w.tobytes()
    x_scale = sub.tensors[second.inputs[0]].quantization.scale[0]
    w_scale = sub.tensors[second.inputs[1]].quantization.scale[0]
    sub.tensors[second.outputs[0]].quantization.scale = [0.7 * x_scale * w_scale]
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize("board", BOARDS)
def test_int16_dense_past_the_vector_requantization_bit_exact_with_tflm(board: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    xs = rng.integers(-200, 201, (3, 1, 600)).astype(np.int16)  # unsaturated second layer
    xs[0] = 32767  # channels 0-3 of the first layer sum past int32
    want = tflm_stream(_int16_dense_edges(), xs)
    assert np.all(np.abs(want[1:]) < 32767)  # so the shift-0 requantization shows in the bytes
    _run(_int16_dense_edges(), xs, board, tmp_path, CompileOptions(), {"mf_fully_connected_s16"})
