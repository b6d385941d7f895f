"""Low-rank factorization: a Dense kernel W (in x out) or a 1x1 Conv2D kernel becomes the two
factors of its truncated SVD, W ~ (U_r S_r) V_r^T: a layer of r units without bias or
activation, then the original layer's units with its bias and activation. The rank keeps the
`energy` fraction of sum(s_i^2), or hits a `target` fraction of the layer's weights; a layer is
only split when r * (in + out) < in * out, i.e. when it saves MACs and bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .keras_graph import Replacement, clone, kind, rebuild


@dataclass
class LowRankNote:
    layer: str
    shape: tuple[int, int]
    rank: int | None  # None: left whole
    weights_before: int
    weights_after: int
    reason: str = ""


def choose_rank(s: np.ndarray, n_in: int, n_out: int, energy: float | None, target: float | None) -> int:
    if target is not None:
        return max(1, int(target * n_in * n_out / (n_in + n_out)))
    cum = np.cumsum(s ** 2) / max(float(np.sum(s ** 2)), 1e-30)
    return int(np.searchsorted(cum, energy if energy is not None else 0.9) + 1)


def _factorable(layer: Any) -> bool:
    cfg = layer.get_config()
    if kind(layer) == "Dense":
        return True
    return kind(layer) == "Conv2D" and tuple(cfg["kernel_size"]) == (1, 1) and \
        tuple(cfg["strides"]) == (1, 1) and cfg.get("groups", 1) == 1


def factorize(model: Any, energy: float | None = 0.9, target: float | None = None,
              skip: tuple[str, ...] = ()) -> tuple[Any, list[LowRankNote]]:
    notes: list[LowRankNote] = []

    def replace(layer: Any) -> Replacement | None:
        if not _factorable(layer) or layer.name in skip:
            return None
        w = layer.get_weights()
        kernel = np.asarray(w[0], dtype=np.float64)
        n_in, n_out = kernel.shape[-2], kernel.shape[-1]
        u, s, vt = np.linalg.svd(kernel.reshape(n_in, n_out), full_matrices=False)
        r = min(choose_rank(s, n_in, n_out, energy, target), len(s))
        before, after = n_in * n_out, r * (n_in + n_out)
        if after >= before:
            notes.append(LowRankNote(layer.name, (n_in, n_out), None, before, before,
                                     f"rank {r} would not save weights"))
            return None
        notes.append(LowRankNote(layer.name, (n_in, n_out), r, before, after))
        first = (u[:, :r] * s[:r]).astype(np.float32)
        second = vt[:r].astype(np.float32)
        lead = kernel.shape[:-2]
        if kind(layer) == "Dense":
            a = clone(layer, name=f"{layer.name}_lowrank", units=r, use_bias=False, activation="linear")
        else:
            a = clone(layer, name=f"{layer.name}_lowrank", filters=r, use_bias=False, activation="linear")
        b = clone(layer)
        weights = [[first.reshape(*lead, n_in, r)], [second.reshape(*lead, r, n_out), *w[1:]]]
        return Replacement([a, b], weights)

    return rebuild(model, replace), notes
