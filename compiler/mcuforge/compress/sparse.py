"""Sparse storage of int8 weights with many zeros (after unstructured pruning): the data-free
step between quantization and code generation, after any 4-bit encoding. Each layer whose
kernels take sparse weights ("sparse" in `OpDef.weight_formats`) still stored as int8 gets the
bitmap + nonzero-values format (mcuforge.ops.packed_weights.pack_sparse, the mf_*_sparse_s8
kernels) exactly when that takes fewer flash bytes than the dense filter; otherwise it keeps the
dense format, and its note says so with both sizes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from mcuforge.ir.graph import Graph, Op
from mcuforge.ops import packed_weights as pw
from mcuforge.ops.conv_2d import is_grouped
from mcuforge.ops.registry import lookup

NOTE_SPARSITY = 0.1  # below this fraction of zeros, a dense layer is not worth a note


@dataclass
class SparseNote:
    op: str
    kind: str
    weights: int
    zeros: int
    dense_bytes: int
    sparse_bytes: int | None  # None: no sparse kernel for this layer
    format: str  # "sparse" or "dense"
    reason: str = ""

    @property
    def sparsity(self) -> float:
        return self.zeros / self.weights if self.weights else 0.0

    def line(self) -> str:
        head = f"{short_name(self.op)}: sparsity {100 * self.sparsity:.0f}%: "
        if self.sparse_bytes is None:
            return head + f"dense {self.dense_bytes:,} B ({self.reason})"
        verdict = "sparse format used" if self.format == "sparse" else "kept dense"
        return head + f"sparse format {self.sparse_bytes:,} B vs dense {self.dense_bytes:,} B, {verdict}"


def sparse_weights(graph: Graph) -> tuple[Graph, list[SparseNote]]:
    """A copy of the int8 graph with weight_encoding "sparse" on every layer where it pays, and
    a note per weighted layer that stores int8 weights."""
    g = copy.deepcopy(graph)
    notes = []
    for op in g.ops:
        w_t = g.tensors[op.inputs[1]] if len(op.inputs) > 1 and op.inputs[1] else None
        if w_t is None or not w_t.is_const or w_t.data is None or op.attrs.get("weight_encoding"):
            continue
        opdef = lookup(op.kind)
        if "sparse" in opdef.weight_formats and not is_grouped(g, op):
            notes.append(_decide(op, w_t.data, w_t.quant is not None and bool(np.any(w_t.quant.zero_point))))
        elif 1 in opdef.weight_axes:
            n = w_t.size
            notes.append(SparseNote(op.name, op.kind, n, int(np.count_nonzero(w_t.data == 0)), n, None,
                                    "dense", f"no sparse {_short_kind(g, op)} kernel"))
    return g, notes


def _short_kind(g: Graph, op: Op) -> str:
    """DEPTHWISE_CONV_2D -> "depthwise", a grouped CONV_2D -> "grouped", for notes."""
    return "grouped" if is_grouped(g, op) else op.kind.split("_")[0].lower()


def _decide(op: Op, w: np.ndarray, asymmetric: bool) -> SparseNote:
    n = int(w.size)
    note = SparseNote(op.name, op.kind, n, int(n - np.count_nonzero(w)), n, pw.sparse_bytes(w), "dense")
    if asymmetric:
        note.sparse_bytes, note.reason = None, "weights have a zero point"
    elif note.sparse_bytes is not None and note.sparse_bytes < n:
        op.attrs["weight_encoding"] = "sparse"
        note.format = "sparse"
    return note


def summary(notes: list[SparseNote]) -> str:
    """One line for a report table: how many layers went sparse and what it saved."""
    sparse = [n for n in notes if n.format == "sparse"]
    dense = [n for n in notes if n.format == "dense" and n.sparsity >= NOTE_SPARSITY]
    parts = []
    if sparse:
        saved = sum(n.dense_bytes - (n.sparse_bytes or 0) for n in sparse)
        parts.append(f"sparse {len(sparse)}/{len(notes)} layers, -{saved:,} B")
    def why(n: SparseNote) -> str:
        return f"{n.sparse_bytes:,} B vs {n.dense_bytes:,} B" if n.sparse_bytes is not None else n.reason

    if dense:
        parts.append("kept dense: " + ", ".join(f"{short_name(n.op)} ({100 * n.sparsity:.0f}%: {why(n)})"
                                                for n in dense))
    return "; ".join(parts)


def short_name(op: str) -> str:
    """A readable layer name from a converter's fused name ("a/conv2d_1/BiasAdd;a/conv2d_1/
    convolution" -> "conv2d_1/convolution"): the segment naming the matmul or convolution, else
    the first, cut to its last two path parts."""
    parts = op.split(";")
    main = next((p for p in parts if p.rsplit("/", 1)[-1].startswith(("convolution", "MatMul", "Conv2D"))),
                parts[0])
    return "/".join(main.split("/")[-2:])
