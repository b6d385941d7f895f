"""Keras models (.keras, .h5/.hdf5, SavedModel folders) into the graph IR.

TensorFlow's own converter turns the model into a float TFLite flatbuffer (no optimizations), which
the TFLite importer then reads: one path into the IR, and TensorFlow decides what each layer means.
Keras 3 loads the model when it can; files written by Keras 2 (the MLPerf Tiny models among them)
fall back to the legacy `tf_keras` package.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mcuforge.errors import MfError
from mcuforge.importers.tflite_import import import_tflite_bytes
from mcuforge.ir.graph import Graph, Shape


def import_keras(path: Path, input_shapes: Mapping[str, Shape]) -> Graph:
    """`input_shapes` are keyed by the Keras input names; a missing batch size is 1."""
    path = Path(path)
    with quiet_tensorflow():
        model = load_keras(path)
        data = keras_to_tflite(fixed_batch(model, input_shapes, path), path)
    return import_tflite_bytes(data, {}, str(path))


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Silence TensorFlow: its C++ logs (written straight to file descriptor 2, and some before
    TF_CPP_MIN_LOG_LEVEL is read), its Python loggers and warnings, the converter's prints."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    loggers = [logging.getLogger(n) for n in ("tensorflow", "absl", "keras", "h5py")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def load_keras(path: Path) -> Any:
    """The model under Keras 3, else under legacy Keras 2 (`tf_keras`); MfError if neither reads it."""
    import tensorflow as tf

    errors = []
    try:
        return tf.keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises whatever its deserializers raise
        errors.append(f"Keras 3: {_first_line(e)}")
    import tf_keras

    try:
        return tf_keras.models.load_model(path, compile=False)
    except Exception as e:
        errors.append(f"Keras 2 (tf_keras): {_first_line(e)}")
    raise MfError(
        f"{path}: could not load the Keras model ({'; '.join(errors)}); give a .keras file, an .h5 "
        "saved by model.save(), a Keras SavedModel folder, or convert it to .tflite or .onnx first"
    )


def fixed_batch(model: Any, input_shapes: Mapping[str, Shape], path: Path) -> Any:
    """The model behind inputs of fully known shape: TensorFlow's converter turns a dynamic batch
    into SHAPE/STRIDED_SLICE/PACK ops around every Flatten."""
    keras = _keras_module(model)
    names = [t.name.split(":")[0] for t in model.inputs]
    unknown = sorted(set(input_shapes) - set(names))
    if unknown:
        raise MfError(f"{path}: --input-shape names {unknown}, the model's inputs are {names}")
    inputs = [keras.Input(batch_shape=_input_shape(path, n, t, input_shapes), name=n)
              for n, t in zip(names, model.inputs, strict=True)]
    outputs = model(inputs if len(inputs) > 1 else inputs[0])
    return keras.Model(inputs, outputs)


def _keras_module(model: Any) -> Any:
    """The Keras package (Keras 3 or tf_keras) that built `model`."""
    if type(model).__module__.startswith("tf_keras"):
        import tf_keras

        return tf_keras
    import tensorflow as tf

    return tf.keras


def _input_shape(path: Path, name: str, tensor: Any, given: Mapping[str, Shape]) -> Shape:
    declared = tuple(tensor.shape)
    if name in given:
        shape = tuple(int(d) for d in given[name])
        fits = len(shape) == len(declared) and all(
            d in (None, s) for d, s in zip(declared, shape, strict=True)
        )
        if not fits:
            raise MfError(f"{path}: --input-shape {name}={','.join(map(str, shape))} does not fit the "
                          f"model's shape {declared} (None marks a free dimension)")
        return shape
    if None in declared[1:]:
        example = ",".join("1" if d is None else str(d) for d in declared)
        raise MfError(f"{path}: input '{name}' has dynamic dimensions {declared}; "
                      f"give them with --input-shape {name}={example}")
    if declared and declared[0] is None:
        from mcuforge.importers.onnx_import import note_free_batch

        note_free_batch(path, name, "None")
    return (1, *declared[1:])


def keras_to_tflite(model: Any, path: Path) -> bytes:
    """A float TFLite flatbuffer of a loaded Keras model, by TensorFlow's converter."""
    import tensorflow as tf

    try:
        return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    except Exception as e:  # conversion failures surface as many TF exception types
        raise MfError(
            f"{path}: TensorFlow's TFLite converter failed ({_first_line(e)}); "
            "convert the model to .tflite or .onnx yourself and compile that"
        ) from None


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0] if lines else ''}"[:300]
