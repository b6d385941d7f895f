"""1-bit weights in Keras (issue 16): BinaryConnect (Courbariaux et al. 2015) with the
per-channel scale of BWN (Rastegari et al. 2016), trained with a straight-through estimator.

The chosen Conv2D / Dense layers keep float "shadow" weights W. Before every training step
their kernels become alpha_c * sign(W) (alpha_c = mean |W_c| over the output channel c, the
last kernel axis in Keras; sign(0) = +1), so the forward pass and the gradients are those of
the binarized network; after the step the kernels return to W plus the step the optimizer took
(Adam's step does not depend on the weights' values), so the update lands on the float
weights: the straight-through estimator with identity gradient. This runs inside the ordinary
training loop (`train_student`'s before/after hooks) on any Keras model, without custom layers.
`finalize` sets the kernels to exactly alpha_c * sign(W), so compiling with the b1 weight
format (compress/encode.py) reproduces them with no further rounding.

By default the first and last weighted layers stay at full precision (int8 once compiled), as
the literature advises; depthwise and grouped convolutions have no 1-bit kernel and stay too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .keras_graph import kind, weighted_layers


def binarize_kernel(kernel: np.ndarray) -> np.ndarray:
    """alpha_c * sign(kernel), channels on the last axis (Keras layout), sign(0) = +1."""
    k = np.asarray(kernel)
    # float64 mean: on an already binarized kernel it gives alpha back exactly (idempotent)
    alpha = np.abs(k.reshape(-1, k.shape[-1]).astype(np.float64)).mean(axis=0).astype(k.dtype)
    return np.where(k >= 0, alpha, -alpha).astype(k.dtype)


def binary_layers(model: Any, edges: bool = False) -> tuple[list[Any], list[str]]:
    """(layers to binarize, notes on the weighted layers left at full precision)."""
    weighted = weighted_layers(model)
    chosen, notes = [], []
    for i, layer in enumerate(weighted):
        if kind(layer) == "DepthwiseConv2D" or getattr(layer, "groups", 1) != 1:
            notes.append(f"{layer.name}: kept int8 (no 1-bit depthwise or grouped kernel)")
        elif not edges and i in (0, len(weighted) - 1):
            notes.append(f"{layer.name}: kept int8 (first/last weighted layer, as the 1-bit literature "
                         "advises; --binary-edges binarizes it too)")
        else:
            chosen.append(layer)
    return chosen, notes


@dataclass
class BinaryState:
    """The kernels trained binarized and their float shadows (tf.Variables)."""

    layers: list[Any]
    shadows: list[Any] = field(default_factory=list)
    binarized: list[Any] = field(default_factory=list)
    active: bool = False

    @classmethod
    def of(cls, layers: list[Any]) -> BinaryState:
        import tensorflow as tf

        state = cls(layers)
        state.shadows = [tf.Variable(layer.kernel, trainable=False) for layer in layers]
        return state

    def binarize(self) -> None:
        """Kernels := alpha * sign(shadow), the shadows holding the float weights (before a step)."""
        import tensorflow as tf

        if self.active:
            return
        self.binarized = []
        for layer, shadow in zip(self.layers, self.shadows, strict=True):
            shadow.assign(layer.kernel)
            b = _binarize_tf(tf.convert_to_tensor(shadow))
            layer.kernel.assign(b)
            self.binarized.append(b)
        self.active = True

    def restore(self) -> None:
        """Kernels := shadow + the optimizer's step (after a step), or the shadow (no step taken)."""
        if not self.active:
            return
        for layer, shadow, b in zip(self.layers, self.shadows, self.binarized, strict=True):
            layer.kernel.assign(shadow + (layer.kernel - b))
        self.active = False

    def finalize(self) -> None:
        """Kernels := exactly alpha * sign(W): what the b1 format stores."""
        self.restore()
        for layer in self.layers:
            w = layer.get_weights()
            layer.set_weights([binarize_kernel(w[0]), *w[1:]])


def _binarize_tf(w: Any) -> Any:
    import tensorflow as tf

    axes = list(range(len(w.shape) - 1))
    alpha = tf.reduce_mean(tf.abs(w), axis=axes, keepdims=True)
    return tf.where(w >= 0, alpha, -alpha)


def is_binarized(model: Any, names: list[str]) -> bool:
    """Whether each named layer's kernel is alpha_c * sign per output channel."""
    for name in names:
        k = model.get_layer(name).get_weights()[0]
        if not np.array_equal(k, binarize_kernel(k)):
            return False
    return True
