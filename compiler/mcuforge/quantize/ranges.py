"""Calibration methods: from a tensor's statistics to the real range its int8 encoding covers.

* minmax: the observed range.
* percentile: cut the observed tails at the given percentile (default 99.99).
* mse: the clipping of the observed range that minimises the expected squared quantization
  error (rounding noise inside, clipping error outside), estimated on the histogram.
* kl: TensorRT's entropy method: the clipping whose 255-level histogram is closest, in
  Kullback-Leibler divergence, to the observed one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.quantize.calibration import TensorStats

LEVELS = 256


def minmax(s: TensorStats, param: float) -> tuple[float, float]:
    return s.lo, s.hi


def _centers(s: TensorStats) -> np.ndarray:
    assert s.hist is not None
    edges = np.linspace(s.lo, s.hi, len(s.hist) + 1)
    return (edges[:-1] + edges[1:]) / 2


def percentile(s: TensorStats, param: float) -> tuple[float, float]:
    assert s.hist is not None
    cdf = np.cumsum(s.hist) / max(s.hist.sum(), 1)
    centers = _centers(s)
    tail = (100.0 - param) / 100.0

    def at(q: float) -> float:
        return float(centers[min(int(np.searchsorted(cdf, q)), len(cdf) - 1)])

    # A tail is cut only where the tensor has one: a post-ReLU tensor keeps its 0.
    return (at(tail) if s.lo < 0 else s.lo), (at(1.0 - tail) if s.hi > 0 else s.hi)


def _quant_error(centers: np.ndarray, counts: np.ndarray, lo: float, hi: float) -> float:
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / (LEVELS - 1) or 1.0
    q = np.clip(np.round((centers - lo) / scale), 0, LEVELS - 1)
    return float(np.sum(counts * (centers - (q * scale + lo)) ** 2))


def mse(s: TensorStats, param: float) -> tuple[float, float]:
    assert s.hist is not None
    centers = _centers(s)
    best = (_quant_error(centers, s.hist, s.lo, s.hi), s.lo, s.hi)
    for frac in np.linspace(0.2, 1.0, 81):
        lo, hi = s.lo * frac, s.hi * frac
        err = _quant_error(centers, s.hist, lo, hi)
        if err < best[0]:
            best = (err, lo, hi)
    return float(best[1]), float(best[2])


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / np.maximum(q[mask], 1e-12))))


def kl(s: TensorStats, param: float) -> tuple[float, float]:
    """Entropy calibration on |x| (or on x when it is never negative): pick the threshold T
    whose clipped histogram, squeezed into the available levels, loses the least information."""
    assert s.hist is not None
    centers = _centers(s)
    one_sided = s.lo >= 0
    levels = LEVELS - 1 if one_sided else LEVELS // 2
    mags = np.abs(centers)
    top = max(abs(s.lo), abs(s.hi))
    if top == 0:
        return s.lo, s.hi
    bins = 2048
    hist, _ = np.histogram(mags, bins=bins, range=(0, top), weights=s.hist)
    # Zero is exact at any threshold; a ReLU's spike there would otherwise dominate the
    # divergence and pull the threshold far into the tail's body.
    hist[0] = 0
    best_t, best_kl = top, np.inf
    for i in [*range(levels, bins, 16), bins]:  # always try the unclipped range too
        kept = hist[:i].astype(np.float64)
        ref = kept.copy()
        ref[i - 1] += hist[i:].sum()  # clipped mass lands on the last bin
        # The candidate is built from the kept bins only: the clipped mass is what it loses, so
        # at i == levels it does not trivially equal the reference.
        expanded = np.concatenate([
            np.where(r > 0, c.sum() / max(np.count_nonzero(r), 1), 0.0)
            for c, r in zip(np.array_split(kept, levels), np.array_split(ref, levels))
        ])
        p, q = ref / ref.sum(), expanded / max(expanded.sum(), 1e-12)
        d = _kl(p, q)
        if d < best_kl:
            best_kl, best_t = d, top * i / bins
    if one_sided:  # the encoding adds 0 itself; the range stays inside what was observed
        return s.lo, float(min(s.hi, max(s.lo, best_t)))
    return float(max(s.lo, -best_t)), float(min(s.hi, best_t))


METHODS: dict[str, Callable[[TensorStats, float], tuple[float, float]]] = {
    "minmax": minmax, "percentile": percentile, "mse": mse, "kl": kl,
}
DEFAULT_PARAM = {"minmax": 0.0, "percentile": 99.99, "mse": 0.0, "kl": 0.0}
NEEDS_HISTOGRAM = {"percentile", "mse", "kl"}
