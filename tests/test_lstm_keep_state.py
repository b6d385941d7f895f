"""--keep-state (CompileOptions.keep_state): an int8 TFLite LSTM fed several time steps per call
keeps its hidden and cell state from one call to the next, as TFLite Micro keeps the variable
state tensors across Invoke() until the interpreter is reset: 4 frames per call continue one
stream. Bit-exact with TFLite Micro over consecutive invocations of one interpreter, in the
integer reference, the host C and under QEMU (mps2-an386). Without the option such an LSTM
starts every call from zero (tests/test_tflite_stateful.py)."""

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
from mcuforge.importers.tflite_recurrent import keep_state
from mcuforge.reference import new_state, run
from mcuforge.runner import run_model

pytestmark = pytest.mark.slow

KEEP = CompileOptions(keep_state=True)


def _model(name: str) -> tuple[Any, tuple[int, ...]]:
    with quiet_tensorflow():
        import tf_keras as k
    k.utils.set_random_seed(4)
    if name == "chunks":  # 4 frames per call, the LSTM's output for each
        x = k.Input((4, 6), batch_size=1)
        return k.Model(x, k.layers.LSTM(10, return_sequences=True)(x)), (1, 4, 6)
    if name == "chunks_head":  # 3 frames per call, stacked LSTMs, a dense head on the last step
        x = k.Input((3, 5), batch_size=1)
        y = k.layers.LSTM(6)(k.layers.LSTM(8, return_sequences=True)(x))
        return k.Model(x, k.layers.Dense(4)(y)), (1, 3, 5)
    if name == "dense":
        x = k.Input((4,), batch_size=1)
        return k.Model(x, k.layers.Dense(3)(x)), (1, 4)
    raise KeyError(name)


@functools.cache
def _converted(name: str) -> bytes:
    with quiet_tensorflow():
        import tensorflow as tf
    model, shape = _model(name)
    rng = np.random.default_rng(5)

    def rep() -> Any:
        for _ in range(32):
            yield [rng.standard_normal(shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with quiet_tensorflow():
        return conv.convert()


def _stream(name: str, count: int, seed: int) -> np.ndarray:
    shape = _model(name)[1]
    return np.random.default_rng(seed).integers(-128, 128, (count, *shape), dtype=np.int8)


def _reference(graph: Any, xs: np.ndarray) -> np.ndarray:
    state = new_state(graph)
    return np.stack([run(graph, {graph.inputs[0]: x}, state=state)[graph.outputs[0]] for x in xs])


@pytest.mark.parametrize("name", ["chunks", "chunks_head"])
def test_reference_keeps_state_as_tflm_over_consecutive_calls(name: str) -> None:
    data = _converted(name)
    graph = import_tflite_bytes(data, {})
    assert new_state(graph) == {}  # several steps per call: no state unless asked
    kept = keep_state(graph)
    assert all(op.attrs.get("stateful") for op in kept.ops if op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    xs = _stream(name, 6, 1)
    want = tflm_stream(data, xs)
    got = _reference(kept, xs)
    np.testing.assert_array_equal(got.reshape(want.shape), want)
    # the state matters: from the second call on, a fresh state gives another answer
    fresh = _reference(graph, xs)
    assert np.array_equal(fresh[0], got[0]) and not np.array_equal(fresh[1:], got[1:])


def test_c_keeps_state_bit_exact_with_tflm(tmp_path: Path) -> None:
    data = _converted("chunks_head")
    path = tmp_path / "chunks_head.tflite"
    path.write_bytes(data)
    xs = _stream("chunks_head", 8, 2)
    result = run_model(path, xs[:, 0], KEEP, out_dir=tmp_path / "build")
    assert not result.mismatches
    # two LSTMs: hidden int8 (8, 6) and cell int16 (8, 6)
    assert result.compiled.program.state_bytes >= (8 + 6) * 3
    header = (tmp_path / "build" / f"{result.compiled.name}.h").read_text()
    assert "_STATE_SIZE" in header and "_reset(void);" in header
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)


def test_keep_state_without_an_lstm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dense.tflite"
    path.write_bytes(_converted("dense"))
    with pytest.raises(MfError) as e:
        run_model(path, _stream("dense", 1, 3)[:, 0], KEEP, out_dir=tmp_path / "build")
    msg = str(e.value)
    assert "\n" not in msg and "--keep-state" in msg and str(path) in msg


@pytest.mark.qemu
def test_keep_state_is_bit_exact_with_tflm_on_mps2_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    data = _converted("chunks")
    path = tmp_path / "chunks.tflite"
    path.write_bytes(data)
    xs = _stream("chunks", 5, 6)
    result = run_on_board(path, xs[:, 0], "mps2-an386", KEEP, out_dir=tmp_path / "fw")
    assert not result.mismatches
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)
