"""int8 UNIDIRECTIONAL_SEQUENCE_LSTM from tf_keras LSTM layers converted by TF's converter
(int8, representative dataset, as users convert): the integer reference is bit-exact with
TFLite Micro's interpreter on the LSTM's own output (every step), stacked layers, time-major
input and a classifier head, and the built C matches the reference. A GRU the converter does not
fuse is refused with one line naming the setting that works."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.reference import run
from mcuforge.runner import run_model

pytestmark = pytest.mark.slow


def _tf() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf
        import tf_keras
    return tf, tf_keras


def _model(name: str) -> tuple[Any, tuple[int, ...]]:
    """(tf_keras model, input shape with batch)."""
    _, k = _tf()
    k.utils.set_random_seed(1)
    if name == "sequence":  # the LSTM output itself, every step
        x = k.Input((9, 3), batch_size=1)
        return k.Model(x, k.layers.LSTM(6, return_sequences=True)(x)), (1, 9, 3)
    if name == "stacked":  # two layers and a dense head on the last step
        x = k.Input((12, 5), batch_size=1)
        y = k.layers.LSTM(17, return_sequences=True)(x)
        y = k.layers.LSTM(8)(y)
        return k.Model(x, k.layers.Dense(4, activation="softmax")(y)), (1, 12, 5)
    if name == "time_major":  # (time, batch, features), four sequences at once
        x = k.Input((4, 3), batch_size=6)
        return k.Model(x, k.layers.LSTM(5, return_sequences=True, time_major=True)(x)), (6, 4, 3)
    if name == "wide":  # sigmoid/tanh saturation: large inputs, 32 units
        x = k.Input((5, 16), batch_size=1)
        return k.Model(x, k.layers.LSTM(32, return_sequences=True)(x)), (1, 5, 16)
    raise KeyError(name)


@functools.cache
def _converted(name: str) -> bytes:
    tf, _ = _tf()
    model, shape = _model(name)
    rng = np.random.default_rng(3)
    scale = 4.0 if name == "wide" else 1.0

    def rep() -> Any:
        for _ in range(32):
            yield [(rng.standard_normal(shape) * scale).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with quiet_tensorflow():
        return conv.convert()


def _tflm(data: bytes, x: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(data)  # a fresh interpreter: the LSTM state is reset
    interp.set_input(x, 0)
    interp.invoke()
    return interp.get_output(0)


@pytest.mark.parametrize("name", ["sequence", "stacked", "time_major", "wide"])
def test_int8_lstm_is_bit_exact_with_tflm(name: str, tmp_path: Path) -> None:
    data = _converted(name)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    graph = load_model(path)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in [op.kind for op in graph.ops]
    shape = graph.tensors[graph.inputs[0]].shape
    rng = np.random.default_rng(5)
    for _ in range(6):
        x = rng.integers(-128, 128, shape, dtype=np.int8)
        want = _tflm(data, x)
        got = run(graph, {graph.inputs[0]: x})[graph.outputs[0]]
        np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.parametrize("name", ["sequence", "stacked"])
def test_int8_lstm_c_matches_the_reference(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(_converted(name))
    shape = _model(name)[1]
    x = np.random.default_rng(6).integers(-128, 128, (4, *shape[1:]), dtype=np.int8)
    result = run_model(path, x, CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches


def test_unfused_recurrent_layer_is_refused(tmp_path: Path) -> None:
    """A tf_keras GRU converted by TF's converter at defaults is a WHILE loop: a .tflite file
    holding it is refused in one line naming the settings that work (the Keras file itself
    compiles: tests/test_keras_recurrent.py)."""
    tf, k = _tf()
    x = k.Input((7, 3), batch_size=1)
    model = k.Model(x, k.layers.GRU(5)(x))
    with quiet_tensorflow():
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path = tmp_path / "gru.tflite"
    path.write_bytes(data)
    with pytest.raises(MfError) as e:
        load_model(path)
    msg = str(e.value)
    assert "\n" not in msg and "WHILE" in msg and "unroll=True" in msg and "batch_size=1" in msg
