"""Entropy report: the Huffman-coded size of each layer's stored weights (int8 values, or the
4-bit indices of a codebook layer; a sparse layer's stored bytes are its bitmap and nonzero
values), for information: how far the flash format is from what an
entropy coder would reach. No runtime decoder exists or is needed."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from mcuforge.ir.graph import Graph
from mcuforge.ops import packed_weights as pw
from mcuforge.ops.registry import lookup


def huffman_bits(values: np.ndarray) -> int:
    """Total bits of `values` under a Huffman code built from their own histogram (the code
    table itself not counted)."""
    _, counts = np.unique(np.asarray(values).reshape(-1), return_counts=True)
    if counts.size <= 1:
        return int(counts.sum())  # one symbol: one bit each
    heap = [(int(c), i, 0) for i, c in enumerate(counts)]  # (weight, tiebreak, bits so far)
    heapq.heapify(heap)
    total, tie = 0, len(heap)
    while len(heap) > 1:
        a, _, _ = heapq.heappop(heap)
        b, _, _ = heapq.heappop(heap)
        total += a + b  # every symbol under the merged node gets one more bit
        heapq.heappush(heap, (a + b, tie, 0))
        tie += 1
    return total


@dataclass
class EntropyRow:
    op: str
    kind: str
    weights: int
    stored_bytes: int  # in flash, as compiled
    huffman_bytes: int


def entropy_report(graph: Graph) -> list[EntropyRow]:
    rows = []
    for op in graph.ops:
        if 1 not in lookup(op.kind).weight_axes or not graph.tensors[op.inputs[1]].is_const:
            continue
        w = graph.tensors[op.inputs[1]].data
        assert w is not None
        enc = op.attrs.get("weight_encoding")
        if enc == "cb4":
            symbols = pw.codebook_indices(w, np.asarray(op.attrs["codebook"]))
            book = np.asarray(op.attrs["codebook"])
            stored = pw.packed_bytes(w.size, "cb4", book.shape[0] if book.ndim == 2 else 1)
        else:
            symbols = w
            stored = pw.packed_bytes(w.size, enc) if enc in ("int4", "b1") else \
                pw.sparse_bytes(w) if enc == "sparse" else w.size
        rows.append(EntropyRow(op.name, op.kind, int(w.size), stored, (huffman_bits(symbols) + 7) // 8))
    return rows
