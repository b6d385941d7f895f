"""Store an int8 graph's weights at 4 bits: the data-free step between quantization and code
generation. `encode_weights` re-quantizes the weights of each op whose kernels take the format
(`OpDef.weight_formats`: CONV_2D, FULLY_CONNECTED) as symmetric
per-channel int4 or as a 16-entry int8 codebook (k-means, one codebook per layer or per output
channel), re-quantizes their biases to the new weight scales, and marks the op with
`weight_encoding` so lowering packs the filter (mcuforge.ops.packed_weights) and picks the
_s4 / _cb4 kernel. A layer keeps int8 when 4 bits would not save flash (a codebook larger than
what it saves), and the notes say so.

Weights come from the float model when the caller has it (one rounding), else from the int8
values (dequantized, then rounded again).

"b1" (1-bit weights, issue 16) follows BWN (Rastegari et al. 2016): each output channel c keeps
sign(W_c) (sign(0) = +1) as int8 +-1 with the scale alpha_c = mean |W_c|, the scale that
minimises ||W_c - alpha_c sign(W_c)||^2. Data-free on a trained float model this loses a lot of
accuracy; `mcuforge compress --binary` trains the layers binarized first (compress/binary.py),
after which the weights are exactly alpha_c * sign(W) and this step is lossless. The first and
last weighted layers of the graph keep int8 unless `binary_edges` is set: the literature
(Courbariaux et al., Rastegari et al., Zhou et al.) keeps them at full precision, as they hold
few weights and lose the most accuracy when binarized.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, Op, QuantParams
from mcuforge.ir.quant_scheme import bias_values
from mcuforge.ops import packed_weights as pw
from mcuforge.ops.conv_2d import is_grouped
from mcuforge.ops.registry import lookup

from .kmeans import kmeans_1d

FloatWeights = dict[str, tuple[np.ndarray, np.ndarray | None]]  # op name -> (weights, bias)


@dataclass
class EncodingNote:
    op: str
    kind: str
    encoding: str  # what the layer got: "int4", "cb4" or "int8"
    weights: int
    int8_bytes: int
    bytes: int
    reason: str = ""


def float_weights(graph: Graph) -> FloatWeights:
    """Float weights and biases of the ops that can store 4-bit weights in an optimized float
    graph, by op name."""
    out: FloatWeights = {}
    for op in graph.ops:
        if _encodable(op.kind):
            w = graph.tensors[op.inputs[1]].data
            b = graph.tensors[op.inputs[2]].data if len(op.inputs) > 2 and op.inputs[2] else None
            if w is not None:
                out[op.name] = (np.asarray(w, np.float64), None if b is None else np.asarray(b, np.float64))
    return out


def _encodable(kind: str) -> bool:
    return any(e in lookup(kind).weight_formats for e in pw.ENCODINGS)


def edge_layers(graph: Graph) -> set[str]:
    """Names of the first and last ops with weights at input 1 (conv, depthwise, dense), in
    graph order: the layers 1-bit storage leaves at int8 by default."""
    weighted = [op.name for op in graph.ops if 1 in lookup(op.kind).weight_axes]
    return {weighted[0], weighted[-1]} if weighted else set()


def weighted_op_names(graph: Graph) -> list[str]:
    """Names of the ops with constant weights at input 1 a packed format may take, in graph
    order: what "#i" keys of `encode_layers` count (names of converted models can change from
    one conversion to the next; positions do not)."""
    return [op.name for op in graph.ops if any(e in lookup(op.kind).weight_formats for e in pw.ENCODINGS)
            and g_const(graph, op)]


def g_const(graph: Graph, op: Op) -> bool:
    return len(op.inputs) > 1 and bool(op.inputs[1]) and graph.tensors[op.inputs[1]].is_const


def encode_layers(graph: Graph, formats: dict[str, str], floats: FloatWeights | None = None,
                  clusters: int = 16) -> tuple[Graph, list[EncodingNote]]:
    """Mixed precision: each op named in `formats` (by IR op name, or "#i" for the i-th op of
    `weighted_op_names`) takes the weight format given ("int8", "int4", "cb4" or "b1"); other
    ops keep int8. A b1 op named here is binarized even when it is the first or last weighted
    layer (the caller chose it)."""
    order = weighted_op_names(graph)
    named: dict[str, str] = {}
    for key, enc in formats.items():
        if key.startswith("#") and key[1:].isdigit() and int(key[1:]) < len(order):
            named[order[int(key[1:])]] = enc
        elif key in {op.name for op in graph.ops}:
            named[key] = enc
        else:
            raise MfError(f"per-layer weight formats: no weighted op '{key}' (the graph has {len(order)}: "
                          "name them by op name or as #0..#N-1)")
    g, notes = graph, []
    for enc in pw.ENCODINGS:
        names = {n for n, f in named.items() if f == enc}
        if names:
            g, step = encode_weights(g, enc, floats, clusters, binary_edges=True, only=names)
            notes += [n for n in step if n.op in names]
    return g, notes


def encode_weights(graph: Graph, encoding: str, floats: FloatWeights | None = None, clusters: int = 16,
                   per_channel: bool = False, binary_edges: bool = False,
                   only: set[str] | None = None) -> tuple[Graph, list[EncodingNote]]:
    if encoding not in pw.ENCODINGS:
        raise MfError(f"unknown weight encoding '{encoding}'; choose one of {', '.join(pw.ENCODINGS)}")
    if not 2 <= clusters <= pw.CODEBOOK_SIZE:
        raise MfError(f"--cluster {clusters}: a 4-bit codebook holds 2 to {pw.CODEBOOK_SIZE} centroids")
    g = copy.deepcopy(graph)
    notes = []
    edges = edge_layers(g) if encoding == "b1" and not binary_edges else set()
    for op in g.ops:
        if only is not None and op.name not in only:
            continue
        packable = encoding in lookup(op.kind).weight_formats and not is_grouped(g, op)
        if packable and op.name in edges:
            n = g.tensors[op.inputs[1]].size
            notes.append(EncodingNote(op.name, op.kind, "int8", n, n, n,
                                      "first/last weighted layer kept int8 (as the 1-bit literature "
                                      "advises; binary_edges / --binary-edges binarizes it too)"))
        elif packable and g.tensors[op.inputs[1]].is_const:
            notes.append(_encode_op(g, op, encoding, (floats or {}).get(op.name), clusters, per_channel))
        elif 1 in lookup(op.kind).weight_axes:
            n = g.tensors[op.inputs[1]].size
            # DEPTHWISE_CONV_2D -> depthwise; a CONV_2D here is grouped (no packed grouped kernel)
            kind = "grouped" if is_grouped(g, op) else op.kind.split("_")[0].lower()
            bits = "1-bit" if encoding == "b1" else "4-bit"
            notes.append(EncodingNote(op.name, op.kind, "int8", n, n, n, f"no {bits} {kind} kernel"))
    g.prune_unused_tensors()
    return g, notes


def _encode_op(g: Graph, op: Op, encoding: str, floats: tuple[np.ndarray, np.ndarray | None] | None,
               clusters: int, per_channel: bool) -> EncodingNote:
    w_t = g.tensors[op.inputs[1]]
    assert w_t.data is not None and w_t.quant is not None
    b_t = g.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] else None
    if floats is not None and floats[0].shape == w_t.shape:
        w, b = floats
    else:
        w = w_t.data.astype(np.float64) * _per_row(w_t.quant.scale, w_t.data.ndim)
        b = None
    if b is None and b_t is not None:
        assert b_t.data is not None and b_t.quant is not None
        b = b_t.data.astype(np.float64) * b_t.quant.scale.astype(np.float64)
    n = w_t.size
    note = EncodingNote(op.name, op.kind, encoding, n, n, pw.packed_bytes(n, encoding))
    if encoding == "int4":
        scales = _amax_rows(w) / pw.INT4_MAX
        q = np.clip(np.round(w / _per_row(scales, w.ndim)), pw.INT4_MIN, pw.INT4_MAX).astype(np.int8)
        attrs: dict = {"weight_encoding": "int4"}
    elif encoding == "b1":
        q, scales = binarize(w)
        attrs = {"weight_encoding": "b1"}
    else:
        q, scales, book = _cluster(w, clusters, per_channel)
        note.bytes = pw.packed_bytes(n, "cb4", book.shape[0] if book.ndim == 2 else 1)
        attrs = {"weight_encoding": "cb4", "codebook": book}
    if note.bytes >= note.int8_bytes:
        note.reason = f"{encoding} would take {note.bytes} B for {n} weights: kept int8"
        note.encoding, note.bytes = "int8", n
        return note
    wq = QuantParams(scales, np.zeros(scales.shape, dtype=np.int64), axis=0)
    op.inputs[1] = g.add_const(f"{w_t.name}_{encoding}", q, wq)
    if b_t is not None and b is not None:
        in_scale = g.tensors[op.inputs[0]].scalar_quant()[0]
        data, bq = bias_values(b, in_scale, scales)
        op.inputs[2] = g.add_const(f"{b_t.name}_{encoding}", data, bq)
    op.attrs.update(attrs)
    return note


def _cluster(w: np.ndarray, k: int, per_channel: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int8 weights, their per-channel scales and the codebook: k-means in float, then each
    codebook quantized symmetrically so that its largest centroid maps to +-127."""
    rows = w.reshape(w.shape[0], -1)
    if not per_channel:
        centroids, assign = kmeans_1d(rows, k)
        scale = max(float(np.abs(centroids).max()), 1e-30) / 127.0
        ints = np.round(centroids / scale)
        scales = np.full(w.shape[0], scale if np.abs(centroids).max() > 0 else 1.0)
        return ints[assign].astype(np.int8).reshape(w.shape), scales, pw.full_codebook(ints)
    q = np.empty(rows.shape, dtype=np.int8)
    books, scales = [], []
    for r, row in enumerate(rows):
        centroids, assign = kmeans_1d(row, k)
        scale = max(float(np.abs(centroids).max()), 1e-30) / 127.0
        ints = np.round(centroids / scale)
        q[r] = ints[assign]
        books.append(pw.full_codebook(ints))
        scales.append(scale if np.abs(centroids).max() > 0 else 1.0)
    return q.reshape(w.shape), np.array(scales), np.stack(books)


def binarize(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BWN: int8 sign(w) (+1 for w >= 0) and the per-output-channel (axis 0) scales
    alpha_c = mean |w_c| (1 for an all-zero channel)."""
    alpha = np.abs(w.reshape(w.shape[0], -1)).mean(axis=1)
    return np.where(w >= 0, 1, -1).astype(np.int8), np.where(alpha > 0, alpha, 1.0)


def _amax_rows(w: np.ndarray) -> np.ndarray:
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    return np.where(amax > 0, amax, pw.INT4_MAX)  # an all-zero channel: scale 1


def _per_row(scales: np.ndarray, ndim: int) -> np.ndarray:
    s = np.asarray(scales, dtype=np.float64)
    return s.reshape(-1, *([1] * (ndim - 1))) if s.size > 1 else s.reshape((1,) * ndim)
