"""The op order that needs the fewest live arena bytes.

Any topological order of a graph computes the same values, but where a graph branches (a U-Net
skip, a residual shortcut, an inception block) the order decides which tensors are alive together.
`min_peak_order` searches all orders by dynamic programming over the sets of ops already run
(a set's live bytes do not depend on the order that reached it), the approach of Ahn et al.,
"Ordering Chaos: Memory-Aware Scheduling of Irregularly Wired Neural Networks" (MLSys 2020):

- the live bytes after a set S of ops are the sizes of the tensors written by S (and the graph's
  inputs) that an op outside S still reads, plus the graph outputs written so far;
- running op o from S costs those bytes, plus its outputs and its scratch while it runs;
- the peak of an order is its costliest step, and peak(S) = min over ops o ready after S of
  max(cost of o from S, peak(S + o)).

Tensors are counted in their own buffers (an alias op's output shares its input's, an in-place
kernel's output the input it overwrites), each rounded up to the arena alignment. An op whose
output may overlap its first data input (`overlap_span`: the kernel's access pattern allows it,
codegen.overlap) counts the pair's span instead of both buffers when that input dies at the op in
the order searched, so the search prefers orders that make such an op its input's last reader
(a residual block's shortcut 1x1 convolution before its strided convolution). Graphs whose
order space is larger than `MAX_STATES` sets keep their order. The result is only a candidate:
the driver keeps whichever order the planner gives the smaller arena.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from mcuforge.ir.graph import Graph
from mcuforge.ops.registry import lookup
from mcuforge.plan.planner import align_up

MAX_STATES = 5_000  # a few hundred for chains with short branches; beyond, the search is not worth its time
MAX_OPS = 400  # the search recurses once per op


class TooManyOrders(Exception):
    """The search would visit more than MAX_STATES sets of ops."""


def min_peak_order(graph: Graph, scratch: Mapping[int, int], alignment: int,
                   in_place: Collection[int] = (),
                   overlap_span: Mapping[int, int] | None = None) -> tuple[list[int], int] | None:
    """(op indices in the order of the smallest peak, that peak in bytes), or None when the graph
    has too many ops or orders to search. `scratch[i]` is op i's scratch bytes; an op in
    `in_place` writes its output over an input of its size that no later op reads (as
    plan.buffers.alias_root lets it), which then costs no new bytes. `overlap_span[i]` (aligned
    bytes) is the span of op i's output laid over its first data input at the smallest safe shift,
    counted instead of both buffers when that input dies at op i."""
    n = len(graph.ops)
    if n > MAX_OPS:
        return None
    producer: dict[str, int] = {}
    for i, op in enumerate(graph.ops):
        for t in op.outputs:
            producer[t] = i
    root: dict[str, str] = {}  # alias outputs -> the tensor whose buffer holds them
    for op in graph.ops:
        src = [t for t in op.inputs if t and not graph.tensors[t].is_const]
        if lookup(op.kind).alias and src:
            root[op.outputs[0]] = root.get(src[0], src[0])
    readers: dict[str, int] = {}  # buffer -> bitmask of the ops that read any of its tensors
    deps = [0] * n
    for i, op in enumerate(graph.ops):
        for t in op.inputs:
            if not t or graph.tensors[t].is_const:
                continue
            readers[root.get(t, t)] = readers.get(root.get(t, t), 0) | (1 << i)
            if t in producer:
                deps[i] |= 1 << producer[t]
    keep = {root.get(t, t) for t in graph.outputs}
    size = {b: align_up(graph.tensors[b].nbytes, alignment) for b in
            {root.get(t, t) for op in graph.ops for t in op.outputs} | set(graph.inputs)}
    writes = [[root.get(t, t) for t in op.outputs if root.get(t, t) == t] for op in graph.ops]  # new buffers
    full = (1 << n) - 1
    protected = set(graph.inputs) | keep
    ins = [{root.get(t, t) for t in op.inputs if t and not graph.tensors[t].is_const} for op in graph.ops]
    extra = [align_up(scratch.get(i, 0), alignment) for i in range(n)]
    spans = dict(overlap_span or {})
    first_in = [next((root.get(t, t) for t in op.inputs[:1] if t and not graph.tensors[t].is_const), None)
                for op in graph.ops]
    memo: dict[int, tuple[int, int]] = {}

    def reuses(done: int, i: int) -> bool:
        """Whether op i (in place) can write over an input buffer that dies with it."""
        if i not in in_place or len(writes[i]) != 1:
            return False
        out = writes[i][0]
        return any(size.get(b) == size[out] and b not in protected and readers[b] & ~(done | 1 << i) == 0
                   for b in ins[i])

    def overlapped(done: int, i: int) -> int | None:
        """The new bytes of op i when its output may overlap its first input, which dies here."""
        b = first_in[i]
        if i not in spans or b is None or len(writes[i]) != 1 or b in protected or b == writes[i][0]:
            return None
        if readers[b] & ~(done | 1 << i):
            return None
        return max(spans[i] - size[b], 0)

    def after(done: int, i: int, live: int) -> int:
        """The live bytes once op i has run from `done` (whose live bytes are `live`): its outputs
        that are read later or kept come in, the inputs it read last go."""
        now = done | 1 << i
        live += sum(size[b] for b in writes[i] if readers.get(b, 0) & ~now or b in keep)
        return live - sum(size[b] for b in ins[i] if b not in keep and readers[b] & ~now == 0)

    def best(done: int, live: int) -> tuple[int, int]:
        """(peak from `done`, whose live bytes are `live`, to the end; the op to run next)."""
        if done in memo:
            return memo[done]
        if len(memo) >= MAX_STATES:
            raise TooManyOrders
        result = (0, -1)
        if done != full:
            result = (1 << 62, -1)
            for i in range(n):
                if not done >> i & 1 and deps[i] & ~done == 0:
                    new = 0 if reuses(done, i) else sum(size[b] for b in writes[i])
                    shared = overlapped(done, i)
                    if shared is not None:
                        new = min(new, shared)
                    step = live + new + extra[i]
                    peak = max(step, best(done | 1 << i, after(done, i, live))[0])
                    result = min(result, (peak, i))
        memo[done] = result
        return result

    start = sum(size[b] for b in set(graph.inputs) if readers.get(b, 0) or b in keep)
    try:
        peak, _ = best(0, start)
    except TooManyOrders:
        return None
    order, done = [], 0
    while done != full:
        i = memo[done][1]
        order.append(i)
        done |= 1 << i
    return order, peak
