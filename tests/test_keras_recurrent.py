"""Keras recurrent layers as users write them (unroll=False) through the Keras importer
(importers/keras_recurrent.py): Keras 3 LSTM/GRU/SimpleRNN and tf_keras GRU/SimpleRNN, which TF's
converter turns into a WHILE loop, are rebuilt with unroll=True at the fixed input shape.

The float graph mcuforge imports computes what Keras computes (Bidirectional, go_backwards,
return_sequences, stacked layers, .keras and .h5); a dynamic sequence length is refused in one
line naming --input-shape, and compiles once it is given. Keras 3 LSTM and GRU classifiers
trained on digits rows compile to C bit-exact with the integer reference, int8 within 1 point
of float (tests/test_digits_recurrent.py has the data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_digits_recurrent import _accuracy, _digits

from mcuforge import reference
from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.importers.keras_import import import_keras, quiet_tensorflow
from mcuforge.runner import run_model

pytestmark = pytest.mark.slow


def _keras() -> tuple[Any, Any]:
    with quiet_tensorflow():
        import keras
        import tf_keras
    return keras, tf_keras


def _mixed(k: Any, tf_keras: bool) -> Any:
    """Bidirectional LSTM (sequences) -> GRU backwards (sequences) -> SimpleRNN (last step), or the
    same with a Bidirectional GRU first under tf_keras (whose LSTM TF fuses)."""
    x = k.Input((6, 5), name="seq")
    first = k.layers.GRU(7, return_sequences=True) if tf_keras else k.layers.LSTM(7, return_sequences=True)
    h = k.layers.Bidirectional(first)(x)
    h = k.layers.GRU(6, go_backwards=True, return_sequences=True)(h)
    h = k.layers.SimpleRNN(4, go_backwards=tf_keras)(h)
    return k.Model(x, k.layers.Dense(3)(h))


def _backward_layer(k: Any) -> Any:
    x = k.Input((6, 5), name="seq")
    h = k.layers.Bidirectional(k.layers.GRU(7), backward_layer=k.layers.GRU(3, go_backwards=True))(x)
    return k.Model(x, h)


def _float_matches_keras(model: Any, path: Path, x: np.ndarray, shapes: dict | None = None) -> None:
    with quiet_tensorflow():
        model.save(path)
    graph = import_keras(path, shapes or {})
    want = np.asarray(model.predict(x, verbose=0))
    got = reference.run(graph, {graph.inputs[0]: x})[graph.outputs[0]]
    np.testing.assert_allclose(got.reshape(want.shape), want, atol=1e-5)


def _sequential(k: Any) -> Any:
    """A Sequential model with the generic RNN layer around cells (a stacked GRU and LSTM cell)."""
    cells = [k.layers.GRUCell(6), k.layers.LSTMCell(5)]
    return k.Sequential([k.Input((6, 5)), k.layers.RNN(cells, return_sequences=True),
                         k.layers.SimpleRNN(3)])


BUILDERS = {"mixed": lambda k, tf: _mixed(k, tf), "backward_layer": lambda k, tf: _backward_layer(k),
            "sequential_cells": lambda k, tf: _sequential(k)}


@pytest.mark.parametrize("case", ["keras3_mixed", "keras3_backward_layer", "keras3_sequential_cells",
                                  "tf_keras_mixed", "tf_keras_sequential_cells"])
def test_recurrent_layers_import_as_keras_computes(case: str, tmp_path: Path) -> None:
    keras, tf_keras = _keras()
    k = tf_keras if case.startswith("tf_keras") else keras
    k.utils.set_random_seed(1)
    model = BUILDERS[case.split("_", 2)[-1] if k is tf_keras else case.split("_", 1)[1]](k, k is tf_keras)
    x = np.random.default_rng(2).standard_normal((1, 6, 5)).astype(np.float32)
    _float_matches_keras(model, tmp_path / (f"{case}.h5" if k is tf_keras else f"{case}.keras"), x)


def test_dynamic_sequence_length_is_refused_then_given(tmp_path: Path) -> None:
    keras, _ = _keras()
    keras.utils.set_random_seed(3)
    x = keras.Input((None, 5), name="seq")
    model = keras.Model(x, keras.layers.GRU(4)(keras.layers.LSTM(6, return_sequences=True)(x)))
    path = tmp_path / "dynamic.keras"
    with quiet_tensorflow():
        model.save(path)
    with pytest.raises(MfError) as e:
        import_keras(path, {})
    msg = str(e.value)
    assert "\n" not in msg and "--input-shape seq=" in msg and "dynamic" in msg
    assert "fixed sequence length" in msg
    sample = np.random.default_rng(4).standard_normal((1, 9, 5)).astype(np.float32)
    _float_matches_keras(model, path, sample, {"seq": (1, 9, 5)})


def test_keras3_mixed_model_c_matches_the_reference(tmp_path: Path) -> None:
    keras, _ = _keras()
    keras.utils.set_random_seed(5)
    model = _mixed(keras, False)
    path = tmp_path / "mixed.keras"
    with quiet_tensorflow():
        model.save(path)
    rng = np.random.default_rng(6)
    calib = rng.standard_normal((32, 6, 5)).astype(np.float32)
    result = run_model(path, calib[:4], CompileOptions(calib=calib), out_dir=tmp_path / "build")
    assert not result.mismatches


@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
def test_keras3_rnn_on_digits_int8_within_one_point(layer: str, tmp_path: Path) -> None:
    keras, _ = _keras()
    x_train, y_train, x_test, y_test = _digits()
    keras.utils.set_random_seed(0)
    x = keras.Input((8, 8))
    model = keras.Model(x, keras.layers.Dense(10)(getattr(keras.layers, layer)(32)(x)))
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with quiet_tensorflow():
        model.fit(x_train, y_train, epochs=15, batch_size=64, verbose=0)
    float_acc = _accuracy(model.predict(x_test, verbose=0), y_test)
    assert float_acc > 90, f"the float Keras 3 {layer} did not learn ({float_acc:.1f}%)"
    path = tmp_path / f"digits_{layer}.keras"
    with quiet_tensorflow():
        model.save(path)
    result = run_model(path, x_test, CompileOptions(calib=x_train[:200]), out_dir=tmp_path / "build")
    assert not result.mismatches
    int8_acc = _accuracy(next(iter(result.outputs.values())), y_test)
    assert abs(int8_acc - float_acc) <= 1.0, f"float {float_acc:.2f}%, int8 {int8_acc:.2f}%"
