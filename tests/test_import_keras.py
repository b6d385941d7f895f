"""The Keras importer: the MLPerf Tiny Keras files (Keras 2 .h5 and SavedModel), small models saved
as .keras and .h5, and files it must refuse. Keras's own predict is the oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tflite_models as zoo
from model_paths import mlperf_model

from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.importers.keras_import import load_keras, quiet_tensorflow
from mcuforge.importers.tflite_ops import CONVERTERS
from mcuforge.ir.graph import Graph
from mcuforge.reference import run

pytestmark = pytest.mark.slow

MLPERF_KERAS = ["ad_fcae.h5", "ic_resnet8.h5", "vww_mbv1.h5", "kws_dscnn_savedmodel"]


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    with quiet_tensorflow():
        return np.asarray(model(x, training=False))


def assert_matches_keras(graph: Graph, model: Any, samples: int, seed: int = 0) -> None:
    """The imported graph's output equals Keras's within 1e-4 relative to the output's magnitude."""
    (name,) = graph.inputs
    (out,) = graph.outputs
    shape = graph.tensors[name].shape
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        x = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
        want = predict(model, x)
        got = run(graph, {name: x})[out]
        np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-4,
                                   atol=1e-4 * float(np.abs(want).max()))


@pytest.mark.parametrize("name", MLPERF_KERAS)
def test_mlperf_keras_matches_predict(name: str) -> None:
    path = mlperf_model(name)
    graph = load_model(path)
    assert graph.source_format == "keras" and graph.source == str(path)
    assert graph.tensors[graph.inputs[0]].shape[0] == 1
    with quiet_tensorflow():
        model = load_keras(path)
    assert_matches_keras(graph, model, samples=2)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_zoo_model_matches_predict(tmp_path: Path, suffix: str) -> None:
    model = zoo.keras_model("residual")
    path = tmp_path / f"residual{suffix}"
    with quiet_tensorflow():
        model.save(path)
    graph = load_model(path)
    assert {"CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED", "SOFTMAX"} <= {op.kind for op in graph.ops}
    assert_matches_keras(graph, model, samples=2)


@pytest.mark.parametrize("name", sorted(zoo.keras_zoo()))
def test_zoo_conversion_matches_keras(name: str) -> None:
    """Every zoo model, through TensorFlow's converter and our importer, computes what Keras does."""
    from mcuforge.importers.tflite_import import import_tflite_bytes

    graph = import_tflite_bytes(zoo.converted(name, False), {}, name)
    assert_matches_keras(graph, zoo.keras_model(name), samples=3)


def test_conv1d_becomes_conv_2d_with_unit_height() -> None:
    from mcuforge.importers.tflite_import import import_tflite_bytes

    graph = import_tflite_bytes(zoo.converted("conv1d", False), {})
    (conv,) = [op for op in graph.ops if op.kind == "CONV_2D"]
    assert graph.tensors[conv.inputs[0]].shape == (1, 1, 16, 4)
    assert graph.tensors[conv.inputs[1]].shape == (6, 1, 3, 4)


def test_dynamic_dims_need_input_shape(tmp_path: Path) -> None:
    with quiet_tensorflow():
        import tensorflow as tf

        k = tf.keras
        x = k.Input((None, 4), name="frames")
        model = k.Model(x, k.layers.Dense(3, activation="relu")(x))
        path = tmp_path / "free.keras"
        model.save(path)
    with pytest.raises(MfError, match=r"input 'frames' has dynamic .* --input-shape frames=1,1,4"):
        load_model(path)
    with pytest.raises(MfError, match=r"names \['frame'\], the model's inputs are \['frames'\]"):
        load_model(path, {"frame": (1, 5, 4)})
    graph = load_model(path, {"frames": (1, 5, 4)})
    assert graph.tensors[graph.inputs[0]].shape == (1, 5, 4)
    assert_matches_keras(graph, model, samples=1)


def test_corrupt_h5(tmp_path: Path) -> None:
    path = tmp_path / "broken.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(MfError, match=r"broken.h5: could not load the Keras model \(Keras 3: .*; Keras 2"):
        load_model(path)


def test_savedmodel_folder_without_keras_model(tmp_path: Path) -> None:
    path = tmp_path / "sm"
    path.mkdir()
    (path / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(MfError, match=r"sm: could not load the Keras model .* convert it to .tflite"):
        load_model(path)


def test_refusal_names_keras_layers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unsupported TFLite ops are reported by the Keras layers they come from (default names that
    TensorFlow's converter renders ambiguously: 'dense' becomes 'dense_1', 'dense_1' 'dense_1_2'),
    once each, with a free-batch note, not the converter's tensor names or the supported list."""
    with quiet_tensorflow():
        import tensorflow as tf

        k = tf.keras
        x = k.Input((6,))
        h = k.layers.Dense(5, activation="relu")(x)
        h = k.layers.UnitNormalization()(h)  # SQUARE, which mcuforge does not import
        h = k.layers.Dense(5)(h)
        y = k.layers.UnitNormalization()(h)
        model = k.Model(x, y)
        names = [layer.name for layer in model.layers]
        path = tmp_path / "unit_norm.keras"
        model.save(path)
    assert "SQUARE" not in CONVERTERS, "SQUARE is supported now: pick another unsupported layer"
    with pytest.raises(MfError) as e:
        load_model(path)
    message = str(e.value)
    assert f"2 Keras layer(s) become TFLite ops mcuforge does not support: '{names[2]}' (SQUARE), " \
           f"'{names[4]}' (SQUARE); `mcuforge ops`" in message
    assert "functional" not in message and "CONV_2D" not in message
    assert "free batch dimension" in capsys.readouterr().err
