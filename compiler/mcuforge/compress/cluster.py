"""Weight clustering (Deep Compression's weight sharing): each Conv2D / Dense / DepthwiseConv2D
kernel becomes at most k distinct values, by 1-D k-means per layer (or per output channel).

Fine-tuning the centroids: after every optimizer step each cluster's weights are replaced by
their mean. With fixed assignments that moves a centroid by the mean of its weights' gradient
steps, which is Deep Compression's centroid update (the sum of the gradients of a cluster's
weights) up to the learning-rate scale, and the weights never leave their clusters.
The compiled model then stores 4-bit indices and a codebook (compile with weights="cb4").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .keras_graph import weighted_layers
from .kmeans import kmeans_1d


@dataclass
class Clusters:
    """Cluster index of every kernel weight, per layer name."""

    assign: dict[str, np.ndarray]
    per_channel: bool
    zero: dict[str, int]  # per layer, the cluster id of pruned (exactly zero) weights, or -1


def cluster_weights(model: Any, k: int = 16, per_channel: bool = False,
                    names: set[str] | None = None) -> Clusters:
    """Cluster the model's kernels in place (only the layers in `names` when given). Weights
    that are exactly zero (pruned) keep a cluster of their own pinned at 0, so pruning survives
    clustering."""
    assign, zero = {}, {}
    for layer in weighted_layers(model):
        if names is not None and layer.name not in names:
            continue
        w = layer.get_weights()
        kernel = np.asarray(w[0], dtype=np.float64)
        zero[layer.name] = -1
        pruned = kernel == 0
        if pruned.any() and not per_channel and (~pruned).any():
            c, a = kmeans_1d(kernel[~pruned], k - 1)
            ids = np.full(kernel.shape, len(c), dtype=np.int64)
            ids[~pruned] = a
            new = np.append(c, 0.0)[ids]
            zero[layer.name] = len(c)
        elif per_channel:
            rows = np.moveaxis(kernel, -1, 0).reshape(kernel.shape[-1], -1)
            out = np.empty_like(rows)
            idx = np.empty(rows.shape, dtype=np.int64)
            for r, row in enumerate(rows):
                c, a = kmeans_1d(row, k)
                out[r], idx[r] = c[a], a + r * k  # cluster ids unique across channels
            new = np.moveaxis(out.reshape(kernel.shape[-1], *kernel.shape[:-1]), 0, -1)
            ids = np.moveaxis(idx.reshape(kernel.shape[-1], *kernel.shape[:-1]), 0, -1)
        else:
            c, ids = kmeans_1d(kernel, k)
            new = c[ids]
        layer.set_weights([new.astype(w[0].dtype), *w[1:]])
        assign[layer.name] = ids
    return Clusters(assign, per_channel, zero)


def snap_to_centroids(model: Any, clusters: Clusters) -> None:
    """Each cluster's weights become their mean (the centroid update after a training step)."""
    for name, ids in clusters.assign.items():
        layer = model.get_layer(name)
        w = layer.get_weights()
        flat_ids = ids.reshape(-1)
        kernel = w[0].reshape(-1).astype(np.float64)
        sums = np.bincount(flat_ids, weights=kernel)
        counts = np.maximum(np.bincount(flat_ids), 1)
        means = sums / counts
        if clusters.zero.get(name, -1) >= 0:
            means[clusters.zero[name]] = 0.0
        layer.set_weights([means[flat_ids].reshape(w[0].shape).astype(w[0].dtype), *w[1:]])


def distinct_values(model: Any) -> dict[str, int]:
    return {layer.name: int(np.unique(layer.get_weights()[0]).size) for layer in weighted_layers(model)}
