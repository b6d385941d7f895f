"""One-dimensional k-means for weight sharing (Deep Compression): linear initialisation over
[min, max], which keeps centroids on the rare large weights that matter most, then Lloyd
iterations. Deterministic: no random restarts."""

from __future__ import annotations

import numpy as np


def kmeans_1d(values: np.ndarray, k: int, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(centroids (<= k, float64, sorted), index of each value's centroid (same shape as
    values)). Fewer than k centroids come back when there are fewer distinct values."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    distinct = np.unique(v)
    if distinct.size <= k:
        return distinct, np.searchsorted(distinct, v).reshape(np.shape(values))
    centroids = np.linspace(v.min(), v.max(), k)
    for _ in range(iterations):
        assign = _nearest(v, centroids)
        sums = np.bincount(assign, weights=v, minlength=k)
        counts = np.bincount(assign, minlength=k)
        moved = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.allclose(moved, centroids, rtol=0, atol=1e-12):
            break
        centroids = moved
    used = np.unique(_nearest(v, centroids))
    centroids = np.sort(centroids[used])
    return centroids, _nearest(v, centroids).reshape(np.shape(values))


def _nearest(v: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each value (centroids need not be sorted)."""
    order = np.argsort(centroids)
    c = centroids[order]
    i = np.clip(np.searchsorted(c, v), 1, max(len(c) - 1, 1))
    lo = np.maximum(i - 1, 0)
    hi = np.minimum(i, len(c) - 1)
    pick = np.where(np.abs(v - c[lo]) <= np.abs(v - c[hi]), lo, hi)
    return order[pick]
