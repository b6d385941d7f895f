"""Fold BatchNormalization layers into the Conv2D / DepthwiseConv2D / Dense layer before them,
in Keras, before weight clustering (issue 16).

Why: the compiler folds every BatchNormalization into its convolution anyway (a per-output-
channel scale of the kernel), so a kernel clustered to 16 values per layer reaches the 4-bit
codebook encoder as 16 values *per channel*, and its k-means must round them again: on a
residual digits CNN that cost 5-10 points of top-1 between the float model and the int8 C.
Clustering the folded kernel instead makes the compiled codebook exact.

Folding, per output channel c, with s_c = gamma_c / sqrt(var_c + eps):
    W'[..., c] = s_c * W[..., c],   b'_c = s_c * (b_c - mean_c) + beta_c
(the BatchNormalization in inference mode; Ioffe & Szegedy 2015, as TFLite's converter folds it).
A layer folds only when its activation is linear, it feeds nothing but the normalization, and
the normalization acts on the last axis. Training after folding has no batch statistics to use,
which suits fine-tuning of a trained model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .keras_graph import Replacement, clone, kind, parents, rebuild

FOLDABLE = ("Conv2D", "DepthwiseConv2D", "Dense")


def _bn_scale_shift(bn: Any) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(bn.moving_mean, np.float64)
    var = np.asarray(bn.moving_variance, np.float64)
    gamma = np.asarray(bn.gamma, np.float64) if bn.gamma is not None else np.ones_like(mean)
    beta = np.asarray(bn.beta, np.float64) if bn.beta is not None else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + bn.epsilon)
    return scale, beta - scale * mean


def _last_axis(bn: Any) -> bool:
    axis = bn.get_config().get("axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    rank = len(bn.input.shape)
    return [a % rank for a in axes] == [rank - 1]


def fold_batch_norm(model: Any, names: set[str] | None = None) -> tuple[Any, list[str]]:
    """(model with each foldable BatchNormalization folded into its producer, notes); with
    `names`, only those whose producer is named there."""
    consumers: dict[str, list[Any]] = {}
    for layer in model.layers:
        for p in parents(layer):
            consumers.setdefault(p, []).append(layer)
    pairs: dict[str, Any] = {}  # producer name -> its BatchNormalization
    for layer in model.layers:
        if kind(layer) != "BatchNormalization" or not _last_axis(layer):
            continue
        (src,) = parents(layer) or [None]
        prod = model.get_layer(src) if src else None
        if prod is None or kind(prod) not in FOLDABLE or len(consumers.get(src, [])) != 1:
            continue
        if names is not None and prod.name not in names:
            continue
        if prod.get_config().get("activation", "linear") not in ("linear", None):
            continue
        pairs[prod.name] = layer
    if not pairs:
        return model, []
    folded_bns = {bn.name for bn in pairs.values()}

    def replace(layer: Any) -> Replacement | None:
        if layer.name in folded_bns:
            return Replacement([])
        if layer.name not in pairs:
            return None
        scale, shift = _bn_scale_shift(pairs[layer.name])
        w = layer.get_weights()
        kernel = np.asarray(w[0], np.float64)
        bias = np.asarray(w[1], np.float64) if len(w) > 1 else np.zeros(scale.shape)
        if kind(layer) == "DepthwiseConv2D":  # kernel (kh, kw, c_in, mult): channel c_in * mult + m
            kernel = kernel * scale.reshape(kernel.shape[2], kernel.shape[3])
        else:
            kernel = kernel * scale
        new = clone(layer, use_bias=True)
        return Replacement([new], [[kernel.astype(w[0].dtype), (scale * bias + shift).astype(w[0].dtype)]])

    notes = [f"{bn.name} folded into {prod}" for prod, bn in pairs.items()]
    return rebuild(model, replace), notes
