"""Whole 16x8 models (issue 11: int16 activations, int8 weights) made as users make them, with
TF's converter in EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 mode, int16 or
float inputs and outputs: `mcuforge run` builds the C on the host, checks every byte against
the integer reference, and the same bytes are compared with TFLite Micro's interpreter.
A small CNN (conv, depthwise, 1x1 conv, residual ADD, pooling, mean, dense) and a Conv1D/dense
audio-like model (ADD, MUL, concatenation, pad), each ending in softmax, and sigmoid/tanh gates;
`--board mps2-an386` runs the CNN under QEMU."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.runner import run_model, run_on_board

pytestmark = pytest.mark.slow
SAMPLES = 12


def _keras() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf

    return tf.keras


def small_cnn() -> Any:
    k = _keras()
    L = k.layers
    x = k.Input((12, 12, 3), batch_size=1)
    a = L.Conv2D(8, 3, activation="relu")(x)
    b = L.DepthwiseConv2D(3, padding="same", activation="relu")(a)
    b = L.Conv2D(8, 1)(b)
    y = L.Add()([a, b])
    y = L.MaxPooling2D(2)(y)
    y = L.Conv2D(12, 3, padding="same", strides=1, activation="relu6")(y)
    y = L.AveragePooling2D(2)(y)
    y = L.GlobalAveragePooling2D()(y)
    return k.Model(x, L.Softmax()(L.Dense(10)(y)))


def audio_like() -> Any:
    """(49 frames, 10 features): Conv1D stack with a residual ADD and a gating MUL, dense head."""
    k = _keras()
    L = k.layers
    x = k.Input((49, 10), batch_size=1)
    a = L.Conv1D(16, 3, padding="same", activation="relu")(x)
    b = L.Conv1D(16, 3, padding="same")(a)
    g = L.Conv1D(16, 1)(a)
    y = L.Add()([a, L.Multiply()([b, g])])
    y = L.Concatenate()([y, L.ZeroPadding1D((1, 0))(L.Conv1D(4, 2)(y))])
    y = L.Conv1D(8, 5, strides=2)(y)
    y = L.Concatenate()([L.Flatten()(y), L.GlobalAveragePooling1D()(y)])  # MEAN over time
    y = L.Dense(24, activation="relu")(y)
    return k.Model(x, L.Dense(12, activation="softmax")(y))


def gates() -> Any:
    """Sigmoid and tanh branches (int16 LOGISTIC and TANH, then requantized for the concat)."""
    k = _keras()
    L = k.layers
    x = k.Input((20,), batch_size=1)
    a = L.Dense(16, activation="sigmoid")(x)
    b = L.Dense(16, activation="tanh")(x)
    y = L.Concatenate()([a, b, L.Multiply()([a, b])])
    return k.Model(x, L.Dense(6, activation="softmax")(y))


MODELS = {"small_cnn": small_cnn, "audio_like": audio_like, "gates": gates}
KERNELS = {  # what each model must exercise
    "small_cnn": {"mf_convolve_s16", "mf_depthwise_conv_s16", "mf_elementwise_add_s16", "mf_maxpool_s16",
                  "mf_avgpool_s16", "mf_mean_s16", "mf_fully_connected_s16", "mf_softmax_s16"},
    "audio_like": {"mf_convolve_s16", "mf_elementwise_add_s16", "mf_elementwise_mul_s16",
                   "mf_fully_connected_s16", "mf_strided_copy_s8", "mf_pad_s8", "mf_softmax_s16",
                   "mf_mean_s16"},
    "gates": {"mf_fully_connected_s16", "mf_logistic_s16", "mf_tanh_s16", "mf_requantize_s16",
              "mf_elementwise_mul_s16", "mf_softmax_s16"},
}


def to_16x8(model: Any, int16_io: bool, seed: int = 1) -> bytes:
    """TF's converter at its defaults plus the 16x8 ops set and a representative dataset."""
    with quiet_tensorflow():
        import tensorflow as tf

        rng = np.random.default_rng(seed)
        shape = tuple(model.inputs[0].shape[1:])
        calib = rng.normal(0.0, 1.0, (32, *shape)).astype(np.float32)
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in calib)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        if int16_io:
            converter.inference_input_type = tf.int16
            converter.inference_output_type = tf.int16
        return bytes(converter.convert())


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Path]:
    """Every model, converted once with int16 I/O and once with float I/O."""
    out = tmp_path_factory.mktemp("int16_models")
    paths = {}
    for name, build in MODELS.items():
        _keras().utils.set_random_seed(len(name))
        model = build()
        for int16_io in (True, False):
            path = out / f"{name}_{'int16' if int16_io else 'float'}.tflite"
            path.write_bytes(to_16x8(model, int16_io))
            paths[(name, int16_io)] = path
    return paths


def tflm(path: Path, x: np.ndarray) -> np.ndarray:
    interp = runtime.Interpreter.from_bytes(path.read_bytes())
    interp.set_input(x, 0)
    interp.invoke()
    return interp.get_output(0)


def samples(path: Path, int16_io: bool) -> np.ndarray:
    """int16 samples over the whole range, or float samples 3 standard deviations wide (some
    beyond the calibrated range, so the QUANTIZE saturates)."""
    g = load_model(path)
    layout = g.io_layouts.get(g.inputs[0])
    shape = layout.source_shape if layout is not None else g.tensors[g.inputs[0]].shape
    rng = np.random.default_rng(5)
    if int16_io:
        return rng.integers(-(1 << 15), 1 << 15, (SAMPLES, *shape[1:])).astype(np.int16)
    return rng.normal(0.0, 3.0, (SAMPLES, *shape[1:])).astype(np.float32)


@pytest.mark.parametrize("int16_io", [True, False], ids=["int16_io", "float_io"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_16x8_model_c_matches_tflm(converted: dict[tuple[str, bool], Path], name: str, int16_io: bool,
                                   tmp_path: Path) -> None:
    path = converted[(name, int16_io)]
    xs = samples(path, int16_io)
    result = run_model(path, xs, out_dir=tmp_path / "c")
    assert result.mismatches == {}, f"C differs from the integer reference: {result.mismatches}"
    g = result.compiled.graph
    out = g.outputs[0]
    assert g.tensors[out].dtype == "int16"
    kernels = {s.call.kernel for s in result.compiled.program.steps if s.call is not None}
    assert KERNELS[name] <= kernels, sorted(kernels)
    scale, zp = g.tensors[out].scalar_quant()
    for i, x in enumerate(xs):
        want = tflm(path, x[None])
        got = result.raw[out][i]
        if not int16_io:  # TFLM dequantizes (q - zp) * scale in float32: back to q exactly
            want = np.round(want / np.float32(scale)).astype(np.int64) + zp
        assert np.array_equal(got.reshape(-1).astype(np.int64), want.reshape(-1).astype(np.int64)), (
            f"sample {i}: {np.count_nonzero(got.reshape(-1) != want.reshape(-1))} values differ from TFLM")


@pytest.mark.qemu
def test_16x8_cnn_on_mps2_an386(converted: dict[tuple[str, bool], Path], tmp_path: Path) -> None:
    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc not installed")
    path = converted[("small_cnn", True)]
    xs = samples(path, True)[:3]
    result = run_on_board(path, xs, "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert result.mismatches == {} and result.samples == 3
    for i, x in enumerate(xs):
        assert np.array_equal(result.raw[result.compiled.graph.outputs[0]][i].reshape(-1),
                              tflm(path, x[None]).reshape(-1))
    assert all(n > 0 for n in result.instructions)
