"""Reductions, arg max/min and layer normalization in Keras models converted by TF's converter
(defaults: Optimize.DEFAULT, a representative dataset, int8 input and output), compiled to C and
run on the host: byte for byte against TFLite Micro's interpreter.

Also the real cases in ../shared/cases/channel_reduce and layer_norm.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_paths import REPO
from tflite_micro.python.tflite_micro import runtime

from mcuforge.importers import load_model
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.runner import run_model

pytestmark = pytest.mark.slow

CASES = REPO.parent / "shared" / "cases"
SAMPLES = 8


def _tf() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf

    return tf


def _model(shape: tuple[int, ...], body: Callable[[Any], Any], batch: int | None = None) -> Any:
    k = _tf().keras
    x = k.Input(shape, batch_size=batch)  # the batch left free, as Keras users leave it
    return k.Model(x, body(x))


def _l() -> Any:
    return _tf().keras.layers


def _ops() -> Any:
    return _tf().keras.ops


def _token_mixer(tokens: int, features: int, width: int) -> Callable[[Any], Any]:
    def body(x: Any) -> Any:
        h = _l().LayerNormalization()(_l().Dense(width)(x))
        h = _l().LayerNormalization()(_l().Add()([h, _l().Dense(width, activation="relu")(h)]))
        return _l().Dense(3)(_l().GlobalAveragePooling1D()(h))

    return body


# name -> (input shape without batch, body, op kinds the imported graph must contain)
MODELS: dict[str, tuple[tuple[int, ...], Callable[[Any], Any], set[str]]] = {
    "conv1d_gap1d": ((20, 3), lambda x: _l().Dense(4)(_l().GlobalAveragePooling1D()(_l().Conv1D(8, 3)(x))),
                     {"MEAN"}),
    "gmp2d": ((9, 9, 2), lambda x: _l().Dense(3)(_l().GlobalMaxPooling2D()(_l().Conv2D(6, 3)(x))),
              {"REDUCE_MAX"}),
    "gmp1d": ((16, 5), lambda x: _l().GlobalMaxPooling1D()(_l().Conv1D(7, 3, activation="relu")(x)),
              {"REDUCE_MAX"}),
    "mean_axis1_keep": ((6, 5, 4), lambda x: _ops().mean(_l().Conv2D(3, 1)(x), axis=1, keepdims=True),
                        {"MEAN"}),
    "mean_channels_keep": ((7, 7, 5), lambda x: _ops().mean(x, axis=-1, keepdims=True), {"MEAN"}),
    "mean_axes_1_3": ((6, 4, 9), lambda x: _ops().mean(_l().Conv2D(9, 1)(x), axis=(1, 3)),
                      {"MEAN"}),
    "sum_axis2": ((4, 6, 5), lambda x: _ops().sum(x, axis=2), {"SUM"}),
    "sum_channels_keep": ((5, 5, 8), lambda x: _ops().sum(_l().Conv2D(8, 1)(x), axis=-1, keepdims=True),
                          {"SUM"}),
    "max_channels_keep": ((8, 8, 4), lambda x: _ops().max(_l().Conv2D(4, 3)(x), axis=-1, keepdims=True),
                          {"REDUCE_MAX"}),
    "min_axes_12": ((5, 5, 6), lambda x: _ops().min(_l().Conv2D(6, 1)(x), axis=(1, 2)), {"REDUCE_MIN"}),
    "min_axis0_rank2": ((17,), lambda x: _ops().min(_l().Dense(9)(x), axis=-1, keepdims=True),
                        {"REDUCE_MIN"}),
    # tf.math (keras.ops.argmax adds a BitwiseAnd the converter cannot lower); int64 and int32 out
    "argmax_head": ((12,), lambda x: _l().Lambda(
        lambda t: _tf().math.argmax(t, axis=-1, output_type=_tf().int32))(_l().Dense(5)(x)), {"ARG_MAX"}),
    "argmax_int64": ((4, 6), lambda x: _l().Lambda(
        lambda t: _tf().math.argmax(t, axis=2))(_l().Conv1D(6, 1)(x)), {"ARG_MAX"}),
    "argmin_axis1": ((6, 5), lambda x: _l().Lambda(
        lambda t: _tf().math.argmin(t, axis=1, output_type=_tf().int32))(_l().Dense(5)(x)), {"ARG_MIN"}),
    "layer_norm_mixer_49x16": ((49, 10), _token_mixer(49, 10, 16),
                               {"MEAN", "SQUARED_DIFFERENCE", "RSQRT", "NEG"}),
    "layer_norm_mixer_12x24": ((12, 8), _token_mixer(12, 8, 24), {"MEAN", "SQUARED_DIFFERENCE", "RSQRT"}),
    "layer_norm_no_center": ((10, 7), lambda x: _l().LayerNormalization(center=False)(_l().Dense(9)(x)),
                             {"SQUARED_DIFFERENCE", "RSQRT"}),
}


# Dense on a 3-D input with a free batch makes TF write shape arithmetic (SHAPE, GATHER,
# REDUCE_PROD, PACK) that the TFLite importer does not fold yet (the tflite-import work): batch 1.
BATCH_ONE = {"argmin_axis1", "layer_norm_mixer_49x16", "layer_norm_mixer_12x24", "layer_norm_no_center"}
# TFLite Micro's ARG_MAX writes int32 only (arg_min_max.cc): int64 indices are checked against
# TFLite's BUILTIN_REF kernels instead.
REF_ORACLE = {"argmax_int64"}


def convert(model: Any, calib: np.ndarray) -> bytes:
    """TF's converter as users run it for an int8 model (no op-set restriction)."""
    tf = _tf()
    with quiet_tensorflow():
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in calib)
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        return bytes(converter.convert())


def builtin_ref(path: Path, xs: np.ndarray) -> list[list[np.ndarray]]:
    """TFLite's reference kernels (BUILTIN_REF), per sample, in output order."""
    tf = _tf()
    resolver = tf.lite.experimental.OpResolverType.BUILTIN_REF
    interp = tf.lite.Interpreter(str(path), experimental_op_resolver_type=resolver)
    interp.allocate_tensors()
    outs = []
    for x in xs:
        interp.set_tensor(interp.get_input_details()[0]["index"], x[None])
        interp.invoke()
        outs.append([interp.get_tensor(d["index"]) for d in interp.get_output_details()])
    return outs


def assert_c_matches_tflm(path: Path, xs: np.ndarray, tmp_path: Path, oracle: str = "tflm") -> int:
    """`mcuforge run` on the host (bit-exact with the reference, checked inside) against TFLM."""
    result = run_model(path, xs, out_dir=tmp_path / "build")
    assert result.mismatches == {}, f"C differs from the integer reference: {result.mismatches}"
    graph = result.compiled.graph
    if oracle == "ref":
        wants = builtin_ref(path, xs)
    else:
        interp = runtime.Interpreter.from_file(str(path))
        wants = []
        for x in xs:
            interp.set_input(x[None], 0)
            interp.invoke()
            wants.append([interp.get_output(k) for k in range(len(graph.outputs))])
    for i in range(len(xs)):
        for k, name in enumerate(graph.outputs):
            want = wants[i][k]
            got = result.raw[name][i]
            assert got.dtype == want.dtype, f"output {name}: {got.dtype}, TFLM {want.dtype}"
            differ = np.count_nonzero(got != want.reshape(got.shape))
            assert got.tobytes() == want.reshape(got.shape).tobytes(), (
                f"sample {i}, output {name}: {differ} values differ")
    return len(xs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_model_matches_tflm(name: str, tmp_path: Path) -> None:
    shape, body, kinds = MODELS[name]
    _tf().keras.utils.set_random_seed(len(name))
    model = _model(shape, body, 1 if name in BATCH_ONE else None)
    rng = np.random.default_rng(7)
    calib = rng.uniform(-1, 1, (64, *shape)).astype(np.float32)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(convert(model, calib))
    graph = load_model(path)
    assert kinds <= {op.kind for op in graph.ops}, {op.kind for op in graph.ops}
    xs = rng.integers(-128, 128, (SAMPLES, *graph.tensors[graph.inputs[0]].shape[1:]), dtype=np.int8)
    assert_c_matches_tflm(path, xs, tmp_path, "ref" if name in REF_ORACLE else "tflm")


def test_rsqrt_table_matches_tflm(tmp_path: Path) -> None:
    """RSQRT runs as a 256-entry table: every valid int8 input (TFLM stops below the zero point)."""
    model = _model((16, 16), lambda x: _ops().rsqrt(x))
    calib = np.random.default_rng(3).uniform(0.02, 6.0, (64, 16, 16)).astype(np.float32)
    path = tmp_path / "rsqrt.tflite"
    path.write_bytes(convert(model, calib))
    graph = load_model(path)
    assert [op.kind for op in graph.ops] == ["RSQRT"]
    zp = graph.tensors[graph.inputs[0]].scalar_quant()[1]
    values = np.arange(zp, 128)
    x = np.resize(values, 256).astype(np.int8).reshape(1, 16, 16)
    assert_c_matches_tflm(path, x, tmp_path)


def _case(folder: str, model: str, inputs: str) -> tuple[Path, np.ndarray]:
    path = CASES / folder / model
    if not path.exists():
        pytest.skip(f"{path} not found (a user's clone has no ../shared)")
    return path, np.load(CASES / folder / inputs)


@pytest.mark.parametrize(("folder", "model", "inputs"), [
    ("channel_reduce", "mean_c_int8.tflite", "x_mean_int8.npy"),
    ("layer_norm", "ln_int8.tflite", "x_int8.npy"),
])
def test_int8_case_matches_tflm(folder: str, model: str, inputs: str, tmp_path: Path) -> None:
    path, xs = _case(folder, model, inputs)
    assert assert_c_matches_tflm(path, xs, tmp_path) == len(xs)
