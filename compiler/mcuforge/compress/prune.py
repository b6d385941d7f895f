"""Unstructured magnitude pruning: zero the smallest-magnitude kernel weights of every Conv2D,
Dense and DepthwiseConv2D, one-shot or iteratively (prune -> fine-tune -> prune more) with
sparsity rising on TF-MOT's polynomial schedule s_i = s * (1 - (1 - i/n)^3). During
fine-tuning the masks are re-applied after every step, so pruned weights stay zero."""

from __future__ import annotations

from typing import Any

import numpy as np

from .keras_graph import weighted_layers


def magnitude_masks(model: Any, sparsity: float) -> dict[str, np.ndarray]:
    """Per layer, True for the weights kept: the (1 - sparsity) largest magnitudes."""
    masks = {}
    for layer in weighted_layers(model):
        kernel = np.abs(layer.get_weights()[0])
        n_zero = int(np.floor(kernel.size * sparsity))
        mask = np.ones(kernel.size, dtype=bool)
        mask[np.argsort(kernel.reshape(-1), kind="stable")[:n_zero]] = False
        masks[layer.name] = mask.reshape(kernel.shape)
    return masks


def apply_masks(model: Any, masks: dict[str, np.ndarray]) -> None:
    for name, mask in masks.items():
        layer = model.get_layer(name)
        w = layer.get_weights()
        layer.set_weights([np.where(mask, w[0], 0).astype(w[0].dtype), *w[1:]])


def schedule(sparsity: float, steps: int) -> list[float]:
    return [sparsity * (1 - (1 - i / steps) ** 3) for i in range(1, steps + 1)]


def sparsity_of(model: Any) -> dict[str, float]:
    return {layer.name: float(np.mean(layer.get_weights()[0] == 0)) for layer in weighted_layers(model)}
