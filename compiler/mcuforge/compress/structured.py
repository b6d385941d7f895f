"""Structured pruning: remove whole output channels (Conv2D filters, Dense units) with the
smallest L1 or L2 norms, and the matching input channels of every layer that reads them.

Channels flow through the model as *groups*: a Conv2D or Dense starts one; BatchNormalization,
activations, pooling, padding, dropout and DepthwiseConv2D pass it through (and are sliced
with it); an Add (or another elementwise merge) joins the groups of its inputs into one, so a
residual block keeps the same channels on both branches, scored by the sum of its producers'
norms; a Concatenate lays groups side by side; a Flatten repeats a group once per pixel for
the Dense after it. A group that reaches the model's output, a model input or a layer we do
not know how to slice is left whole, and the report says why.

Ratio: a fraction per layer (a float, or {layer name: fraction}), or with `global_threshold`
one threshold over all groups on norms normalised by each group's mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .keras_graph import Replacement, clone, input_layers, kind, output_layers, parents, rebuild

PASS_THROUGH = {
    "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Dropout", "SpatialDropout2D",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "ZeroPadding2D", "DepthwiseConv2D", "Identity",
}
MERGES = {"Add", "Subtract", "Maximum", "Minimum", "Average", "Multiply"}
PRODUCERS = {"Conv2D", "Dense"}


@dataclass
class Group:
    size: int
    members: list[str] = field(default_factory=list)  # producer layers
    frozen: str = ""  # why the group keeps all its channels
    keep: np.ndarray | None = None


@dataclass
class Channels:
    """Channel layout of a tensor: segments (group id, channels), repeated `repeat` times
    (a Flatten of H x W pixels)."""

    segments: list[tuple[int, int]]
    repeat: int = 1


@dataclass
class StructuredReport:
    groups: list[dict]

    def lines(self) -> list[str]:
        out = []
        for g in self.groups:
            what = f"kept {g['before']}: {g['frozen']}" if g["frozen"] else f"{g['before']} -> {g['after']}"
            out.append(f"{'+'.join(g['members']) or '(input)'}: {what}")
        return out


class _Analysis:
    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.parent: list[int] = []

    def new(self, size: int, member: str = "", frozen: str = "") -> int:
        self.groups.append(Group(size, [member] if member else [], frozen))
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, g: int) -> int:
        while self.parent[g] != g:
            self.parent[g] = self.parent[self.parent[g]]
            g = self.parent[g]
        return g

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            ga, gb = self.groups[ra], self.groups[rb]
            ga.members += gb.members
            ga.frozen = ga.frozen or gb.frozen

    def freeze(self, ch: Channels, reason: str) -> None:
        for g, _ in ch.segments:
            root = self.groups[self.find(g)]
            root.frozen = root.frozen or reason


def analyse(model: Any) -> tuple[_Analysis, dict[str, Channels]]:
    """Channel groups and each layer output's channel layout."""
    a = _Analysis()
    outs: dict[str, Channels] = {}
    for name, t in zip(input_layers(model), model.inputs):
        c = int(t.shape[-1])
        outs[name] = Channels([(a.new(c, frozen="model input"), c)])
    for layer in model.layers:
        k = kind(layer)
        if k == "InputLayer":
            continue
        ins = [outs[p] for p in parents(layer)]
        c_out = int(layer.output.shape[-1])
        if k in PRODUCERS and len(ins) == 1 and layer.get_config().get("groups", 1) == 1:
            outs[layer.name] = Channels([(a.new(c_out, layer.name), c_out)])
        elif k in PASS_THROUGH and len(ins) == 1 and ins[0].repeat == 1 and (
                k != "DepthwiseConv2D" or layer.get_config().get("depth_multiplier", 1) == 1):
            outs[layer.name] = ins[0]
        elif k in MERGES and all(len(c.segments) == 1 and c.repeat == 1 for c in ins):
            for c in ins[1:]:
                a.union(ins[0].segments[0][0], c.segments[0][0])
            outs[layer.name] = ins[0]
        elif k == "Concatenate" and layer.get_config().get("axis", -1) in (-1, len(layer.output.shape) - 1) \
                and all(c.repeat == 1 for c in ins):
            outs[layer.name] = Channels([s for c in ins for s in c.segments])
        elif k == "Flatten" and len(ins) == 1 and ins[0].repeat == 1:
            shape = layer.input.shape
            outs[layer.name] = Channels(ins[0].segments, int(np.prod(shape[1:-1])))
        else:
            for c in ins:
                a.freeze(c, f"read by {k} '{layer.name}'")
            outs[layer.name] = Channels([(a.new(c_out, frozen=f"made by {k} '{layer.name}'"), c_out)])
    for name in output_layers(model):
        a.freeze(outs[name], "model output")
    return a, outs


def channel_scores(model: Any, a: _Analysis, root: int, norm: str) -> np.ndarray:
    """Per channel of a group: the sum over its producers of the filter norm divided by that
    layer's mean filter norm (so that layers of different scale weigh alike)."""
    total = np.zeros(a.groups[root].size)
    for name in a.groups[root].members:
        kernel = np.asarray(model.get_layer(name).get_weights()[0], dtype=np.float64)
        rows = kernel.reshape(-1, kernel.shape[-1])
        s = np.abs(rows).sum(axis=0) if norm == "l1" else np.sqrt((rows ** 2).sum(axis=0))
        total += s / max(float(s.mean()), 1e-12)
    return total


def prune_structured(model: Any, ratio: float | dict[str, float], norm: str = "l1",
                     global_threshold: bool = False) -> tuple[Any, StructuredReport]:
    """A new model without the least important channels, and what was removed where."""
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    a, outs = analyse(model)
    roots = sorted({a.find(i) for i in range(len(a.groups))})
    scores = {r: channel_scores(model, a, r, norm) for r in roots if not a.groups[r].frozen}
    threshold = None
    if global_threshold:
        assert isinstance(ratio, float)
        threshold = float(np.quantile(np.concatenate(list(scores.values())), ratio)) if scores else 0.0
    for r in roots:
        g = a.groups[r]
        if g.frozen:
            g.keep = np.arange(g.size)
            continue
        s = scores[r]
        if threshold is not None:
            keep_n = int((s > threshold).sum())
        else:
            frac = ratio if isinstance(ratio, float) else max(ratio.get(m, 0.0) for m in g.members)
            keep_n = g.size - math.floor(g.size * frac)
        keep_n = max(1, keep_n)
        g.keep = np.sort(np.argsort(-s, kind="stable")[:keep_n])

    def index(ch: Channels) -> np.ndarray:
        idx, start = [], 0
        for gid, n in ch.segments:
            keep = a.groups[a.find(gid)].keep
            assert keep is not None
            idx.append(keep + start)
            start += n
        one = np.concatenate(idx)
        return (np.arange(ch.repeat)[:, None] * start + one[None, :]).reshape(-1)

    def replace(layer: Any) -> Replacement | None:
        k = kind(layer)
        w = layer.get_weights()
        if not w:
            return None
        in_idx = index(outs[parents(layer)[0]])
        out_idx = index(outs[layer.name])
        if k in PRODUCERS:
            kernel = w[0][..., in_idx, :][..., out_idx]
            size = {"filters": len(out_idx)} if k == "Conv2D" else {"units": len(out_idx)}
            return Replacement([clone(layer, **size)], [[kernel, *(b[out_idx] for b in w[1:])]])
        if k == "DepthwiseConv2D":
            return Replacement([clone(layer)], [[w[0][:, :, out_idx, :], *(b[out_idx] for b in w[1:])]])
        if k == "BatchNormalization":
            return Replacement([clone(layer)], [[v[out_idx] for v in w]])
        return None

    new_model = rebuild(model, replace)
    rows = []
    for r in roots:
        g = a.groups[r]
        assert g.keep is not None
        rows.append({"members": g.members, "before": g.size, "after": len(g.keep), "frozen": g.frozen})
    return new_model, StructuredReport(rows)
