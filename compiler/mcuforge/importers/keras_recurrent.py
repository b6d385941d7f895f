"""Keras recurrent layers TF's converter would turn into a WHILE loop, unrolled first (recurrent area).

TensorFlow's TFLite converter fuses a tf_keras `LSTM` with a fixed batch into one
UNIDIRECTIONAL_SEQUENCE_LSTM, but a Keras 3 `LSTM`/`GRU`/`SimpleRNN`/`RNN` and a tf_keras
`GRU`/`SimpleRNN` at their default `unroll=False` become a `WHILE` loop over the time steps,
which mcuforge does not run. With a static sequence length (the Keras importer fixes every input
shape before converting) the same layers with `unroll=True` compute the same function as a chain
of per-step FULLY_CONNECTED, LOGISTIC, TANH and elementwise ops, which mcuforge quantizes like any
float graph. So the model is rebuilt from its config with every such layer's `unroll` set to True
(inside `Bidirectional` wrappers and nested models too), its input layers declared at the fixed
shapes, and the original weights copied over (the structure, hence the weight order, is the
same). `go_backwards`, `return_sequences`, `return_state` and stacking are the layers' own
business and carry over unchanged.

A tf_keras LSTM keeps `unroll=False` (its fused op is the better-tested path); if a model still
converts to WHILE, the importer unrolls every recurrent layer (`unrolled(..., everything=True)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcuforge.errors import MfError
from mcuforge.ir.graph import Shape

RECURRENT = frozenset({"LSTM", "GRU", "SimpleRNN", "RNN"})
INPUT_SHAPE_KEYS = ("batch_shape", "batch_input_shape")  # Keras 3, tf_keras


def _is_tf_keras(model: Any) -> bool:
    return type(model).__module__.startswith("tf_keras")


def _rolled_layers(config: Any, everything: bool, tf_keras: bool) -> list[dict]:
    """The configs (dicts, to edit in place) of every recurrent layer with unroll=False; a tf_keras
    LSTM only with `everything` (TF's converter fuses it)."""
    found: list[dict] = []
    if isinstance(config, dict):
        inner = config.get("config")
        rolled = config.get("class_name") in RECURRENT and isinstance(inner, dict) and not inner.get("unroll")
        if rolled and (everything or not (tf_keras and config["class_name"] == "LSTM")):
            found.append(inner)
        for value in config.values():
            found.extend(_rolled_layers(value, everything, tf_keras))
    elif isinstance(config, list):
        for value in config:
            found.extend(_rolled_layers(value, everything, tf_keras))
    return found


def needs_unrolling(model: Any, everything: bool = False) -> bool:
    """Whether `model` has a recurrent layer TF's converter would turn into a WHILE loop."""
    try:
        config = model.get_config()
    except Exception:  # a subclassed model without get_config: nothing to rebuild it from
        return False
    return bool(_rolled_layers(config, everything, _is_tf_keras(model)))


def unrolled(model: Any, shapes: Mapping[str, Shape], path: Path, everything: bool = False) -> Any:
    """`model` rebuilt with unroll=True in its recurrent layers and its inputs at `shapes` (by
    input name, batch included), holding the same weights. MfError if Keras cannot rebuild it."""
    config = model.get_config()
    for layer in _rolled_layers(config, everything, _is_tf_keras(model)):
        layer["unroll"] = True
    for layer in config.get("layers", []) if isinstance(config, dict) else []:
        inner = layer.get("config", {})
        if layer.get("class_name") == "InputLayer" and inner.get("name") in shapes:
            for key in INPUT_SHAPE_KEYS:
                if key in inner:
                    inner[key] = list(shapes[inner["name"]])
    try:
        rebuilt = type(model).from_config(config)
        rebuilt.set_weights(model.get_weights())
    except Exception as e:  # whatever Keras' deserializers raise
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise MfError(
            f"{path}: its recurrent layers convert to a TFLite WHILE loop and rebuilding the model with "
            f"unroll=True failed ({type(e).__name__}: {first}); build the LSTM/GRU/SimpleRNN layers with "
            "unroll=True and a fixed sequence length yourself"
        ) from None
    return rebuilt
