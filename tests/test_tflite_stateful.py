"""TFLite LSTMs from tf_keras through TF's converter (int8, representative dataset): streaming
use (one time step per call: the fused LSTM's variable state tensors carry over between
invocations, in TFLite Micro and in mcuforge, bit-exact over consecutive invocations of one
interpreter) and Bidirectional(LSTM) (which the converter emits as REVERSE_V2 + two
UNIDIRECTIONAL_SEQUENCE_LSTM + REVERSE_V2 + CONCATENATION; whole sequences, each call from a
reset state, bit-exact with a reset interpreter). Keras' stateful=True (resource variables) is
refused in one line."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from svdf_models import tflm_stream

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.importers.tflite_import import import_tflite_bytes
from mcuforge.reference import new_state, run
from mcuforge.runner import run_model

pytestmark = pytest.mark.slow


def _tf() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf
        import tf_keras
    return tf, tf_keras


def _model(name: str) -> tuple[Any, tuple[int, ...]]:
    _, k = _tf()
    k.utils.set_random_seed(2)
    if name == "streaming":  # one time step per call, a classifier head
        x = k.Input((1, 6), batch_size=1)
        y = k.layers.LSTM(12)(x)
        return k.Model(x, k.layers.Dense(3)(y)), (1, 1, 6)
    if name == "streaming_sequence":  # the LSTM's own output, one step per call
        x = k.Input((1, 4), batch_size=1)
        return k.Model(x, k.layers.LSTM(8, return_sequences=True)(x)), (1, 1, 4)
    if name == "bidirectional":  # every step of both directions
        x = k.Input((6, 3), batch_size=1)
        return k.Model(x, k.layers.Bidirectional(k.layers.LSTM(5, return_sequences=True))(x)), (1, 6, 3)
    if name == "bidirectional_last":  # the last step of each direction, then a dense head
        x = k.Input((7, 4), batch_size=1)
        y = k.layers.Bidirectional(k.layers.LSTM(6))(x)
        return k.Model(x, k.layers.Dense(2)(y)), (1, 7, 4)
    if name == "keras_stateful":
        x = k.Input((1, 3), batch_size=1)
        return k.Model(x, k.layers.LSTM(4, stateful=True)(x)), (1, 1, 3)
    raise KeyError(name)


@functools.cache
def _converted(name: str, int8: bool = True) -> bytes:
    tf, _ = _tf()
    model, shape = _model(name)
    rng = np.random.default_rng(3)

    def rep() -> Any:
        for _ in range(32):
            yield [rng.standard_normal(shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    with quiet_tensorflow():
        return conv.convert()


def _stream(name: str, count: int, seed: int) -> np.ndarray:
    shape = _model(name)[1]
    return np.random.default_rng(seed).integers(-128, 128, (count, *shape), dtype=np.int8)


def _tflm(data: bytes, xs: np.ndarray, stateful: bool) -> np.ndarray:
    """TFLite Micro over the samples: one stream, or a reset before every sample."""
    if stateful:
        return tflm_stream(data, xs)
    return np.concatenate([tflm_stream(data, x[None]) for x in xs])


STREAMING = {"streaming", "streaming_sequence"}  # one time step per call: stateful


def _reference(graph: Any, xs: np.ndarray) -> np.ndarray:
    state = new_state(graph)
    return np.stack([run(graph, {graph.inputs[0]: x}, state=state)[graph.outputs[0]] for x in xs])


NAMES = ["streaming", "streaming_sequence", "bidirectional", "bidirectional_last"]


@pytest.mark.parametrize("name", NAMES)
def test_reference_is_bit_exact_with_tflm_over_consecutive_calls(name: str) -> None:
    data = _converted(name)
    graph = import_tflite_bytes(data, {})
    lstms = [op for op in graph.ops if op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert lstms and all(bool(op.attrs.get("stateful")) == (name in STREAMING) for op in lstms)
    xs = _stream(name, 10, 1)
    want = _tflm(data, xs, name in STREAMING)
    np.testing.assert_array_equal(_reference(graph, xs).reshape(want.shape), want)


def test_streaming_state_changes_the_answer() -> None:
    """The same step twice: TFLite Micro answers differently the second time (the state moved),
    and so does the reference; a fresh state would repeat the first answer."""
    data = _converted("streaming")
    graph = import_tflite_bytes(data, {})
    x = _stream("streaming", 1, 7)
    want = tflm_stream(data, np.concatenate([x, x]))
    assert not np.array_equal(want[0], want[1])
    np.testing.assert_array_equal(_reference(graph, np.concatenate([x, x])).reshape(want.shape), want)
    fresh = run(graph, {graph.inputs[0]: x[0]})[graph.outputs[0]]
    assert not np.array_equal(fresh.reshape(want[1].shape), want[1])


@pytest.mark.parametrize("name", NAMES)
def test_c_is_bit_exact_with_tflm_over_consecutive_calls(name: str, tmp_path: Path) -> None:
    data = _converted(name)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    xs = _stream(name, 8, 2)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    assert (result.compiled.program.state_bytes > 0) == (name in STREAMING)
    header = (tmp_path / "build" / f"{result.compiled.name}.h").read_text()
    assert ("_STATE_SIZE" in header and "_reset(void);" in header) == (name in STREAMING)
    want = _tflm(data, xs, name in STREAMING)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)


def test_keras_stateful_lstm_is_refused_with_the_streaming_recipe() -> None:
    with pytest.raises(MfError) as err:
        import_tflite_bytes(_converted("keras_stateful", int8=False), {}, "stateful.tflite")
    text = str(err.value)
    assert "stateful=True" in text and "one time step" in text and "\n" not in text


@pytest.mark.qemu
def test_streaming_lstm_is_bit_exact_with_tflm_on_mps2_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    data = _converted("streaming")
    path = tmp_path / "streaming.tflite"
    path.write_bytes(data)
    xs = _stream("streaming", 8, 5)
    result = run_on_board(path, xs[:, 0], "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert not result.mismatches
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)


def test_whole_sequence_lstm_starts_every_call_from_zero() -> None:
    """Several steps per call: no persistent state (as the Keras layer), the same sequence gives
    the same answer twice, which is TFLite Micro's answer after a reset (without one, TFLite
    Micro would continue from the previous sequence's state)."""
    data = _converted("bidirectional_last")
    graph = import_tflite_bytes(data, {})
    assert new_state(graph) == {}
    x = _stream("bidirectional_last", 1, 9)
    twice = _reference(graph, np.concatenate([x, x]))
    np.testing.assert_array_equal(twice[0], twice[1])
    np.testing.assert_array_equal(twice[0].reshape(-1), tflm_stream(data, x).reshape(-1))
