"""Keras models (.keras, .h5/.hdf5, SavedModel folders) into the graph IR.

TensorFlow's own converter turns the model into a float TFLite flatbuffer (no optimizations), which
the TFLite importer then reads: one path into the IR, and TensorFlow decides what each layer means.
Keras 3 loads the model when it can; files written by Keras 2 (the MLPerf Tiny models among them)
fall back to the legacy `tf_keras` package. Recurrent layers the converter would turn into a
WHILE loop are rebuilt with unroll=True first (keras_recurrent.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mcuforge.errors import MfError
from mcuforge.importers.keras_recurrent import needs_unrolling, unrolled
from mcuforge.importers.notes import note_free_batch
from mcuforge.importers.tflite_import import import_tflite_bytes
from mcuforge.ir.graph import Graph, Shape


def import_keras(path: Path, input_shapes: Mapping[str, Shape]) -> Graph:
    """`input_shapes` are keyed by the Keras input names; a missing batch size is 1."""
    path = Path(path)
    free: list[str] = []
    refusal = ""
    with quiet_tensorflow():  # which silences stderr: the notes are printed after it
        model = load_keras(path)
        if needs_unrolling(model):  # recurrent layers that would become a WHILE loop (recurrent area)
            free.extend(free_batch_inputs(model, input_shapes))
            try:
                shapes = fixed_shapes(model, input_shapes, path)
            except MfError as e:
                raise MfError(f"{e} (its recurrent layers are unrolled over a fixed sequence "
                              "length)") from None
            model = unrolled(model, shapes, path)
            data = keras_to_tflite(fixed_batch(model, input_shapes, path), path)
        else:
            data = keras_to_tflite(fixed_batch(model, input_shapes, path, free), path)
        unsupported = unsupported_tflite_ops(data, str(path))
        if any(kind == "WHILE" for _, kind in unsupported) and needs_unrolling(model, everything=True):
            model = unrolled(model, fixed_shapes(model, input_shapes, path), path, everything=True)
            data = keras_to_tflite(fixed_batch(model, input_shapes, path), path)
            unsupported = unsupported_tflite_ops(data, str(path))
        if unsupported:
            try:
                refusal = _refusal(model, input_shapes, path, unsupported)
            except Exception:  # the tagged reconversion failed: name the converter's ops instead
                kinds = sorted({kind for _, kind in unsupported})
                refusal = (f"the model converts to TFLite ops mcuforge does not support: {', '.join(kinds)}; "
                           "`mcuforge ops` lists what each importer supports")
    for name in free:
        note_free_batch(path, name, "None")
    if refusal:
        raise MfError(f"{path}: {refusal}")
    return import_tflite_bytes(data, {}, str(path), note_free=False)


# -- refusals in the Keras model's own terms ----------------------------------------------------

TAG = re.compile(r"mflayer(\d+)x")


def unsupported_tflite_ops(data: bytes, source: str) -> list[tuple[int, str]]:
    """(operator index, builtin name) of each op of a TFLite flatbuffer no converter takes."""
    from mcuforge.importers import tflite_import
    from mcuforge.importers.tflite_ops import CONVERTERS

    model = tflite_import._parse(data, source)
    ops = model.subgraphs[0].operators or []
    kinds = [tflite_import._builtin(model, fop) for fop in ops]
    return [(i, (custom and f"CUSTOM '{custom}'") or builtin)
            for i, (builtin, _, custom) in enumerate(kinds) if builtin not in CONVERTERS]


def _refusal(model: Any, input_shapes: Mapping[str, Shape], path: Path,
             unsupported: list[tuple[int, str]]) -> str:
    """The refusal naming Keras layers: the model is converted once more with every layer renamed
    to a tag (TensorFlow derives TFLite tensor names from layer names, uniquified in ways that
    make the real names ambiguous), and each unsupported op is traced to the tagged layer in its
    output tensor names; an op named after no layer (a model output) goes to the output layer."""
    layers = _all_layers(model)
    originals = [layer.name for layer in layers]
    try:
        for i, layer in enumerate(layers):
            _set_name(layer, f"mflayer{i}x")
        data = keras_to_tflite(fixed_batch(model, input_shapes, path), path)
    finally:
        for layer, name in zip(layers, originals, strict=True):
            _set_name(layer, name)
    from mcuforge.importers import tflite_import

    fmodel = tflite_import._parse(data, str(path))
    sub = fmodel.subgraphs[0]
    output_layers = [_output_layer(t, originals, layers) for t in model.outputs]
    outputs = set(sub.outputs)
    by_layer: dict[str, list[str]] = {}
    for index, kind in unsupported:
        fop = sub.operators[index]
        names = [sub.tensors[o].name.decode() for o in fop.outputs if o >= 0]
        tags = [int(m) for n in names for m in TAG.findall(n.split(";")[0])]
        if tags:
            layer = originals[tags[-1]]
        elif outputs & set(fop.outputs) and output_layers:
            layer = output_layers[list(sub.outputs).index(min(outputs & set(fop.outputs)))]
        else:
            layer = names[0] if names else f"operator {index}"
        by_layer.setdefault(layer, [])
        if kind not in by_layer[layer]:
            by_layer[layer].append(kind)
    listing = ", ".join(f"'{layer}' ({', '.join(kinds)})" for layer, kinds in by_layer.items())
    return (f"{len(by_layer)} Keras layer(s) become TFLite ops mcuforge does not support: {listing}; "
            "`mcuforge ops` lists what each importer supports")


def _all_layers(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out.append(layer)
        if hasattr(layer, "layers"):
            out.extend(_all_layers(layer))
    return out


def _set_name(layer: Any, name: str) -> None:
    try:
        layer.name = name
    except AttributeError:  # tf_keras: a read-only property over _name
        layer._name = name


def _output_layer(tensor: Any, originals: list[str], layers: list[Any]) -> str:
    history = getattr(tensor, "_keras_history", None)
    op = getattr(history, "operation", None) or getattr(history, "layer", None)
    return originals[layers.index(op)] if op in layers else str(getattr(op, "name", "output"))


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


def fixed_batch(model: Any, input_shapes: Mapping[str, Shape], path: Path,
                free: list[str] | None = None) -> Any:
    """The model behind inputs of fully known shape: TensorFlow's converter turns a dynamic batch
    into SHAPE/STRIDED_SLICE/PACK ops around every Flatten. The inputs whose free batch became 1
    are added to `free`."""
    keras = _keras_module(model)
    inputs = [keras.Input(batch_shape=shape, name=n)
              for n, shape in fixed_shapes(model, input_shapes, path).items()]
    if free is not None:
        free.extend(free_batch_inputs(model, input_shapes))
    outputs = model(inputs if len(inputs) > 1 else inputs[0])
    # a fixed name: Keras numbers unnamed models per process (functional_5, functional_6, ...), and
    # the converted op names carry it, so a second import of the same file named every op anew
    # (--int16 names chosen on one import missed on the next: `mcuforge fit`, issue 16)
    return keras.Model(inputs, outputs, name="fixed_batch")


def fixed_shapes(model: Any, input_shapes: Mapping[str, Shape], path: Path) -> dict[str, Shape]:
    """Every input's shape by name: as given, else the declared one with batch 1; MfError for
    unknown names, shapes that do not fit, and dynamic dimensions besides the batch."""
    names = [t.name.split(":")[0] for t in model.inputs]
    unknown = sorted(set(input_shapes) - set(names))
    if unknown:
        raise MfError(f"{path}: --input-shape names {unknown}, the model's inputs are {names}")
    return {n: _input_shape(path, n, t, input_shapes) for n, t in zip(names, model.inputs, strict=True)}


def free_batch_inputs(model: Any, input_shapes: Mapping[str, Shape]) -> list[str]:
    """The inputs whose free batch dimension becomes 1 (none given by --input-shape)."""
    return [t.name.split(":")[0] for t in model.inputs
            if t.name.split(":")[0] not in input_shapes and tuple(t.shape)[:1] == (None,)]


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
