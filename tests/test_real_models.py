"""TFLite Micro's own example models (real models area).

The models themselves are third-party data and not in this repository: set
MCUFORGE_TFLM_MODELS to a folder of .tflite files (e.g. TFLite Micro's keyword_scrambled_8bit
rebuilt from its C array) and `test_tflm_model_is_bit_exact_with_tflm` runs each one on the
host over a few consecutive random samples and compares every byte with the tflite-micro
interpreter (one interpreter, so an SVDF's memory carries over as it does in the C); without
the variable those tests skip.

The structure of keyword_scrambled_8bit is rebuilt here from the flatbuffer schema
(tests/svdf_models.py): int16 input -> QUANTIZE -> SVDF with int8 time weights and an int8 memory
whose zero point is not 0 -> FULLY_CONNECTED -> SOFTMAX int8 -> int16 -> QUANTIZE int16 -> int32.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from svdf_models import Layer, svdf_model, tflm_stream

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

MODELS_ENV = "MCUFORGE_TFLM_MODELS"
# seed 1: some stored feature responses wrap (TFLite Micro adds the state zero point after its
# clamp, issue #2721), so a reference that saturated instead would differ from the interpreter
KEYWORD_SCRAMBLED_FORM = {"layers": (Layer(16, 1, 8), Layer(8, 2, 8)), "inputs": 96, "int16_io": True,
                          "state8": True, "int32_out": True, "seed": 1}


def _int16_stream(count: int, inputs: int) -> np.ndarray:
    return np.random.default_rng(0).integers(-8000, 8000, (count, 1, inputs), dtype=np.int16)


@pytest.mark.slow
def test_keyword_scrambled_form_is_bit_exact_with_tflm(tmp_path: Path) -> None:
    """The C runs mf_svdf_s8_s8 for the int8-memory SVDF and mf_requantize_s32 for the int32
    output, and gives the tflite-micro interpreter's int32 stream value for value."""
    path = tmp_path / "kws_scrambled_form.tflite"
    data = svdf_model(**KEYWORD_SCRAMBLED_FORM)
    path.write_bytes(data)
    xs = _int16_stream(10, 96)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    kernels = [s.call.kernel for s in result.compiled.program.steps if s.call is not None]
    assert kernels.count("mf_svdf_s8_s8") == 2 and kernels[-1] == "mf_requantize_s32", kernels
    want = tflm_stream(data, xs)
    got = next(iter(result.raw.values()))
    assert got.dtype == np.int32 and len(np.unique(want)) > 4
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.slow
@pytest.mark.qemu
def test_keyword_scrambled_form_on_mps2_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = tmp_path / "kws_scrambled_form.tflite"
    data = svdf_model(**KEYWORD_SCRAMBLED_FORM)
    path.write_bytes(data)
    xs = _int16_stream(6, 96)
    result = run_on_board(path, xs[:, 0], "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert not result.mismatches and result.samples == 6
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)
    assert all(n > 0 for n in result.instructions)


def _tflm_models() -> list[Path]:
    folder = os.environ.get(MODELS_ENV)
    return sorted(Path(folder).glob("*.tflite")) if folder else []


def _random_inputs(data: bytes, count: int) -> np.ndarray:
    """Random samples over the input's whole integer range, or in [0, 1) for a float input."""
    from tflite_micro.python.tflite_micro import runtime

    detail = runtime.Interpreter.from_bytes(data).get_input_details(0)
    shape = tuple(int(d) for d in detail["shape"])
    rng = np.random.default_rng(0)
    if np.issubdtype(detail["dtype"], np.floating):
        return rng.random((count, *shape)).astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return rng.integers(info.min, info.max + 1, (count, *shape)).astype(detail["dtype"])


@pytest.mark.slow
@pytest.mark.skipif(not _tflm_models(), reason=f"{MODELS_ENV} is not set to a folder of TFLite Micro "
                    "example models (.tflite; third-party data, not in this repository)")
@pytest.mark.parametrize("path", _tflm_models(), ids=lambda p: p.stem)
def test_tflm_model_is_bit_exact_with_tflm(path: Path, tmp_path: Path) -> None:
    data = path.read_bytes()
    from mcuforge.fuzz.check import tflm_outputs

    xs = _random_inputs(data, 4)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    # consecutive calls carry a model's state (SVDF, a streaming LSTM) as in the C; a model
    # without state (a whole-sequence LSTM too) starts every call afresh
    want = tflm_outputs(data, xs[:, 0], stateful=result.compiled.program.state_bytes > 0)
    # float outputs (a model with float I/O): the C's int8 dequantized as TFLite Micro does
    got = next(iter((result.outputs if np.issubdtype(want.dtype, np.floating) else result.raw).values()))
    np.testing.assert_array_equal(np.asarray(got).reshape(want.shape), want)


# -- micro_speech: its one-channel depthwise convolution runs as the convolution it equals ------


def _one_channel_depthwise(channels: int, rng: np.random.Generator) -> object:
    """An int8 DEPTHWISE_CONV_2D graph (per-channel weights, bias, stride 2, uneven padding) over
    `channels` input channels with depth multiplier 5."""
    from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
    from mcuforge.ops.registry import infer_shapes

    g = Graph()
    g.add_tensor(Tensor("x", (1, 11, 9, channels), "int8", None, QuantParams(0.05, -3)))
    g.inputs = ["x"]
    m = 5 * channels
    w_scale = rng.uniform(0.002, 0.02, m).astype(np.float32)
    w = g.add_const("w", rng.integers(-127, 128, (1, 3, 4, m)).astype(np.int8),
                    QuantParams(w_scale, np.zeros(m), 3))
    b = g.add_const("b", rng.integers(-3000, 3000, m).astype(np.int32),
                    QuantParams(w_scale * np.float32(0.05), np.zeros(m), 0))
    attrs = {"strides": (2, 2), "dilations": (1, 1), "pads": (1, 2, 1, 1), "activation": "RELU",
             "depth_multiplier": 5}
    op = Op("DEPTHWISE_CONV_2D", "dw", ["x", w, b], ["y"], attrs)
    shape = infer_shapes(op, [g.tensors[n].shape for n in op.inputs])[0]
    g.add_tensor(Tensor("y", shape, "int8", None, QuantParams(0.3, -20)))
    g.add_op(op)
    g.outputs = ["y"]
    return g


def test_one_channel_depthwise_becomes_conv_with_the_same_bytes() -> None:
    import copy

    from mcuforge.passes.depthwise_as_conv import depthwise_one_channel_as_conv
    from mcuforge.reference import run

    rng = np.random.default_rng(11)
    for channels, kind in ((1, "CONV_2D"), (3, "DEPTHWISE_CONV_2D")):  # only one channel changes
        g = _one_channel_depthwise(channels, rng)
        x = rng.integers(-128, 128, g.tensors["x"].shape).astype(np.int8)  # type: ignore[attr-defined]
        before = run(g, {"x": x})["y"]
        rewritten = depthwise_one_channel_as_conv(copy.deepcopy(g))
        assert [op.kind for op in rewritten.ops] == [kind]
        np.testing.assert_array_equal(run(rewritten, {"x": x})["y"], before)
        assert len(np.unique(before)) > 10  # not saturated


@pytest.mark.slow
def test_micro_speech_form_runs_its_depthwise_as_conv_bit_exact_with_tflm(tmp_path: Path) -> None:
    """micro_speech's tiny_conv (TFLite Micro examples/micro_speech): int8 (1, 1960) -> reshape
    (49, 40, 1) -> DepthwiseConv2D 10x8, depth multiplier 8, stride 2, ReLU -> Dense(4) ->
    softmax, converted by TF at its defaults with int8 I/O. The depthwise layer compiles to
    mf_convolve_s8 and every byte of its output equals TFLite Micro's."""
    import os

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as k

    k.utils.set_random_seed(0)
    x = k.Input((1960,), batch_size=1)
    h = k.layers.Reshape((49, 40, 1))(x)
    h = k.layers.DepthwiseConv2D((10, 8), strides=2, padding="same", depth_multiplier=8,
                                 activation="relu")(h)
    model = k.Model(x, h)  # the depthwise output itself: 25 x 20 x 8 values to compare
    rep = np.random.default_rng(0).uniform(0, 26, (16, 1, 1960)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s] for s in rep)
    conv.inference_input_type = conv.inference_output_type = tf.int8
    path = tmp_path / "micro_speech_form.tflite"
    path.write_bytes(conv.convert())
    xs = np.random.default_rng(1).integers(-128, 128, (3, 1, 1960)).astype(np.int8)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    kernels = [s.call.kernel for s in result.compiled.program.steps if s.call is not None]
    assert "mf_convolve_s8" in kernels and not any("depthwise" in k for k in kernels), kernels
    want = np.stack([tflm_stream(path.read_bytes(), xs[i:i + 1])[0] for i in range(len(xs))])
    got = next(iter(result.raw.values()))
    assert len(np.unique(want)) > 10
    np.testing.assert_array_equal(got.reshape(want.shape), want)


# -- seanet: TRANSPOSE_CONV in 16x8 mode ---------------------------------------------------------


def _seanet_tconv_16x8(path: Path) -> None:
    """A SEANet-like upsampling block as TF converts it in 16x8 mode (TFLite Micro's
    integration_tests/seanet/transpose_conv layers): int16 (1, 16, 6) -> Conv1D -> LeakyReLU ->
    Conv1DTranspose(stride 2, non-zero bias) -> int16."""
    import os

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as k

    k.utils.set_random_seed(0)
    x = k.Input((16, 6), batch_size=1)
    h = k.layers.LeakyReLU(0.2)(k.layers.Conv1D(8, 3, padding="same")(x))
    y = k.layers.Conv1DTranspose(5, 4, strides=2, padding="same",
                                 bias_initializer=k.initializers.RandomNormal(0, 0.5))(h)
    rep = np.random.default_rng(0).normal(0, 1, (32, 1, 16, 6)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(k.Model(x, y))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([s] for s in rep)
    mode_16x8 = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
    conv.target_spec.supported_ops = [mode_16x8]
    conv.inference_input_type = conv.inference_output_type = tf.int16
    path.write_bytes(conv.convert())


def _tflm_each(data: bytes, xs: np.ndarray) -> np.ndarray:
    return np.stack([tflm_stream(data, xs[i:i + 1])[0] for i in range(len(xs))])


@pytest.mark.slow
def test_seanet_transpose_conv_16x8_is_bit_exact_with_tflm(tmp_path: Path) -> None:
    path = tmp_path / "seanet_tconv.tflite"
    _seanet_tconv_16x8(path)
    xs = np.random.default_rng(3).integers(-20000, 20000, (4, 1, 16, 6)).astype(np.int16)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    kernels = [s.call.kernel for s in result.compiled.program.steps if s.call is not None]
    assert "mf_transpose_conv_s16" in kernels, kernels
    want = _tflm_each(path.read_bytes(), xs)
    got = next(iter(result.raw.values()))
    assert got.dtype == np.int16 and len(np.unique(want)) > 20
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.slow
@pytest.mark.qemu
def test_seanet_transpose_conv_16x8_on_mps2_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = tmp_path / "seanet_tconv.tflite"
    _seanet_tconv_16x8(path)
    xs = np.random.default_rng(4).integers(-20000, 20000, (3, 1, 16, 6)).astype(np.int16)
    result = run_on_board(path, xs[:, 0], "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert not result.mismatches and result.samples == 3
    want = _tflm_each(path.read_bytes(), xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)
