"""Reading and rebuilding Keras models layer by layer, for Keras 3 and legacy tf_keras alike.

`rebuild` walks a model's layers in order and lets a technique replace each one by a chain of
new layers with new weights (or keep it), wiring the new layers exactly as the old ones were
wired. Shared layers (called more than once) are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcuforge.errors import MfError


def keras_module(model: Any) -> Any:
    """The Keras package (Keras 3 or tf_keras) that built `model`."""
    if type(model).__module__.startswith("tf_keras"):
        import tf_keras

        return tf_keras
    import keras

    return keras


def kind(layer: Any) -> str:
    return type(layer).__name__


def _flat(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _flat(item)]
    if isinstance(x, dict):
        return [t for item in x.values() for t in _flat(item)]
    return [x]


def parents(layer: Any) -> list[str]:
    """Names of the layers whose outputs `layer` reads, in argument order."""
    if kind(layer) == "InputLayer":
        return []
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        raise MfError(f"layer '{layer.name}' is called {len(nodes)} times; shared layers are not supported")
    return [t._keras_history[0].name for t in _flat(nodes[0].input_tensors)]


def output_layers(model: Any) -> list[str]:
    return [t._keras_history[0].name for t in _flat(model.outputs)]


def input_layers(model: Any) -> list[str]:
    return [t._keras_history[0].name for t in _flat(model.inputs)]


def weighted_layers(model: Any) -> list[Any]:
    return [layer for layer in model.layers if kind(layer) in ("Conv2D", "Dense", "DepthwiseConv2D")]


@dataclass
class Replacement:
    """New layers applied one after the other in place of an old one, and their weights."""

    layers: list[Any]
    weights: list[list[np.ndarray]] = field(default_factory=list)


Replace = Callable[[Any], Replacement | None]  # None keeps the layer (config and weights)


def clone(layer: Any, **config: Any) -> Any:
    """A new layer like `layer`, with some config entries changed."""
    cfg = layer.get_config()
    cfg.update(config)
    return type(layer).from_config(cfg)


def rebuild(model: Any, replace: Replace) -> Any:
    """A new functional model in which each layer is what `replace` says."""
    keras = keras_module(model)
    tensors: dict[str, Any] = {}
    inputs = []
    for name, t in zip(input_layers(model), _flat(model.inputs)):
        tensors[name] = keras.Input(shape=tuple(t.shape)[1:], name=name)
        inputs.append(tensors[name])
    pending: list[tuple[Any, list[np.ndarray]]] = []
    for layer in model.layers:
        if kind(layer) == "InputLayer":
            continue
        args = [tensors[p] for p in parents(layer)]
        x: Any = args if len(args) > 1 else args[0]
        rep = replace(layer)
        if rep is None:
            rep = Replacement([clone(layer)], [layer.get_weights()])
        for i, new in enumerate(rep.layers):
            x = new(x)
            if i < len(rep.weights):
                pending.append((new, rep.weights[i]))
        tensors[layer.name] = x
    outputs = [tensors[n] for n in output_layers(model)]
    new_model = keras.Model(inputs if len(inputs) > 1 else inputs[0],
                            outputs if len(outputs) > 1 else outputs[0], name=model.name)
    for new, weights in pending:
        new.set_weights(weights)
    return new_model


def count_params(model: Any) -> int:
    return int(sum(np.prod(w.shape) for w in model.weights))


def ends_in_softmax(model: Any) -> bool:
    """Whether the model outputs probabilities (a softmax last) rather than logits."""
    last = model.get_layer(output_layers(model)[0])
    if kind(last) == "Softmax":
        return True
    act = last.get_config().get("activation")
    return act == "softmax" or (isinstance(act, dict) and act.get("config", {}).get("name") == "softmax")
