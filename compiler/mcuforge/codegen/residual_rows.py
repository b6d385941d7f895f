"""ic area (issue 13): residual blocks computed row by row, where that lowers the arena.

A block is conv A (CONV_2D on x) -> conv B (CONV_2D on A's output) -> ADD(B's output, x) in
either operand order, where x is int8 (N, H, W, C), both convolutions have int8 weights, stride
1, dilation 1 and padding that keeps H and W (top + bottom = KH - 1, left + right = KW - 1), A's
top padding is at most B's, and conv A's and conv B's outputs feed nothing else. `fuse` replaces
the three ops by one RESIDUAL_ROWS op (ops/residual_rows.py, kernel mf_residual_rows_s8) at conv
A's place: it keeps KH_b rows of A's output and one row of B's instead of two whole tensors, and
writes the sum over x when x dies there (the kernel is declared in place).

Why the in-place write is safe: output row r is written once conv-B row r is computed, which
needs conv-A rows up to r + pad_b (top padding of B); conv-A row j reads x rows from j - pad_a on,
so every later conv-A row (j >= r + pad_b + 1) reads x rows from r + pad_b + 1 - pad_a > r on
when pad_a <= pad_b: x's row r is read for the last time (by the add) just before it is
overwritten. `last_reads` states it row by row for the tests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from mcuforge.ir.graph import Graph, Op
from mcuforge.ops.conv_2d import CONV_2D
from mcuforge.ops.elementwise import ADD
from mcuforge.ops.residual_rows import RESIDUAL_ROWS, Block


def _same_conv(op: Op, graph: Graph) -> bool:
    """A CONV_2D with int8 weights, stride 1, dilation 1, H and W kept, not grouped."""
    a = op.attrs
    if op.kind != CONV_2D.kind or a.get("weight_encoding") or len(op.inputs) < 2:
        return False
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out = graph.tensors[op.outputs[0]]
    if not w.is_const or w.dtype != "int8" or len(w.shape) != 4 or len(x.shape) != 4:
        return False
    kh, kw = w.shape[1], w.shape[2]
    pt, pl, pb, pr = a["pads"]
    return (tuple(a["strides"]) == (1, 1) and tuple(a["dilations"]) == (1, 1) and w.shape[3] == x.shape[3]
            and pt + pb == kh - 1 and pl + pr == kw - 1 and 0 <= pt < kh and 0 <= pl < kw
            and x.dtype == out.dtype == "int8" and tuple(out.shape[:3]) == tuple(x.shape[:3]))


def find_blocks(graph: Graph) -> list[tuple[int, int, int]]:
    """(conv A, conv B, ADD) op indices of every fusable block, in op order."""
    readers: dict[str, list[int]] = {}
    for i, op in enumerate(graph.ops):
        for n in op.inputs:
            if n:
                readers.setdefault(n, []).append(i)
    protected = set(graph.outputs)
    found = []
    for ia, a in enumerate(graph.ops):
        if not _same_conv(a, graph):
            continue
        mid = a.outputs[0]
        if mid in protected or len(readers.get(mid, [])) != 1:
            continue
        ib = readers[mid][0]
        b = graph.ops[ib]
        if not _same_conv(b, graph) or b.inputs[0] != mid or b.outputs[0] in protected:
            continue
        out_b = b.outputs[0]
        if len(readers.get(out_b, [])) != 1:
            continue
        iadd = readers[out_b][0]
        add = graph.ops[iadd]
        x = a.inputs[0]
        if add.kind != ADD.kind or len(add.inputs) != 2 or set(add.inputs) != {out_b, x}:
            continue
        xt, yt = graph.tensors[x], graph.tensors[add.outputs[0]]
        if graph.tensors[out_b].shape != xt.shape or yt.shape != xt.shape or yt.dtype != "int8":
            continue
        if a.attrs["pads"][0] > b.attrs["pads"][0]:
            continue
        found.append((ia, ib, iadd))
    return found


def fuse(graph: Graph, block: tuple[int, int, int]) -> Graph:
    """A copy of `graph` with the block's three ops replaced by one RESIDUAL_ROWS op at conv
    A's place, named and writing as the ADD did; tensors only the block used are dropped."""
    ia, ib, iadd = block
    a, b, add = (graph.ops[i] for i in block)
    names = {n for op in (a, b, add) for n in (*op.inputs, *op.outputs) if n}
    blk = Block(a.inputs[0], a, b, add, {n: graph.tensors[n] for n in names})
    fused = Op(RESIDUAL_ROWS.kind, add.name, [a.inputs[0]], [add.outputs[0]], {"block": blk})
    g = copy.copy(graph)
    g.ops = [fused if i == ia else op for i, op in enumerate(graph.ops) if i not in (ib, iadd)]
    used = {n for op in g.ops for n in (*op.inputs, *op.outputs)} | set(g.inputs) | set(g.outputs)
    g.tensors = {n: t for n, t in graph.tensors.items() if n in used or n not in names}
    return g


def last_reads(h: int, kh_a: int, pad_a: int, kh_b: int, pad_b: int) -> list[tuple[int, int]]:
    """Row by row, as mf_residual_rows_s8 runs: (the first x row any later step reads, output row
    written) for each output row r. In-place safety is first > r for every r."""
    out = []
    for r in range(h):
        hi = min(h, r - pad_b + kh_b)  # conv-A rows computed so far: [0, hi)
        first = min((j - pad_a for j in range(hi, h)), default=h)  # later conv-A rows' first x row
        out.append((max(first, 0) if hi < h else h, r))
    return out


def fuse_where_smaller(graph: Graph, arena: Callable[[Graph], int]) -> list[dict]:
    """Fuse blocks one at a time, each kept only when `arena(graph)` shrinks; `graph` is changed
    in place. One entry per block fused: its op name and the arena before and after."""
    taken: list[dict] = []
    tried: set[str] = set()
    best = arena(graph)
    while True:
        todo = [blk for blk in find_blocks(graph) if graph.ops[blk[2]].name not in tried]
        if not todo:
            return taken
        blk = todo[0]
        tried.add(graph.ops[blk[2]].name)
        trial = fuse(graph, blk)
        size = arena(trial)
        if size < best:
            taken.append({"op_name": trial.ops[blk[0]].name,
                          "fused": [graph.ops[i].name for i in blk],
                          "arena_before": best, "arena_after": size})
            graph.ops[:] = trial.ops
            graph.tensors.clear()
            graph.tensors.update(trial.tensors)
            best = size


__all__ = ["find_blocks", "fuse", "fuse_where_smaller", "last_reads"]
