"""Which ops may write their output over their input (issue 13): the overlap candidates the
planner chooses from.

Op i is a candidate when its kernel declares an access pattern for the call
(kernels.access.stream_for), its first data input's buffer dies at i (no later op reads any tensor
stored there, alias chains such as RESHAPE included), that buffer holds none of the caller's inputs
or the graph's outputs, and its output buffer is born at i. The shift is the smallest safe one for
the pattern, a multiple of the arena alignment; a pair whose span is not below the two buffers side
by side is no candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mcuforge.ir.graph import Graph
from mcuforge.kernel_params import KernelCall
from mcuforge.kernels.access import stream_for
from mcuforge.plan.buffers import Buffer
from mcuforge.plan.planner import Overlap, align_up


def overlap_candidates(graph: Graph, calls: Mapping[int, KernelCall], buffers: Sequence[Buffer],
                       alignment: int) -> list[Overlap]:
    """The overlaps the kernels allow in this schedule, in op order."""
    holder = {t: b for b in buffers for t in b.tensors}
    protected = set(graph.inputs) | set(graph.outputs)
    found = []
    for i, op in enumerate(graph.ops):
        call = calls.get(i)
        if call is None or len(op.outputs) != 1 or not op.inputs or not op.inputs[0]:
            continue
        src = graph.tensors[op.inputs[0]]
        if src.is_const or src.dtype != "int8" or graph.tensors[op.outputs[0]].dtype != "int8":
            continue
        stream = stream_for(call.kernel, call.dims, call.params)
        b_in, b_out = holder.get(op.inputs[0]), holder.get(op.outputs[0])
        if stream is None or b_in is None or b_out is None or b_in is b_out:
            continue
        if (b_in.last != i or b_out.first != i or protected & set(b_in.tensors)
                or stream.in_bytes != b_in.size or stream.out_bytes != b_out.size):
            continue
        shift = stream.min_shift(alignment)
        ov = Overlap(i, b_in.name, b_out.name, shift, stream)
        if ov.span(alignment) < align_up(b_in.size, alignment) + align_up(b_out.size, alignment):
            found.append(ov)
    return found


def overlap_spans(graph: Graph, calls: Mapping[int, KernelCall], alignment: int) -> dict[int, int]:
    """Op index -> the aligned bytes of its output laid over its first data input at the smallest
    safe shift, for every op whose kernel declares an access pattern (kernels.access) and whose
    int8 input and output are whole buffers: what plan.schedule counts where that input dies at
    the op in the order it tries. Whether the input dies there, and whether it is protected (a
    caller's input, a graph output), is the schedule's to decide per order; overlap_candidates
    then re-checks everything on the chosen order."""
    spans = {}
    for i, op in enumerate(graph.ops):
        call = calls.get(i)
        if call is None or len(op.outputs) != 1 or not op.inputs or not op.inputs[0]:
            continue
        src, dst = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        if src.is_const or src.dtype != "int8" or dst.dtype != "int8":
            continue
        stream = stream_for(call.kernel, call.dims, call.params)
        if stream is None or stream.in_bytes != src.nbytes or stream.out_bytes != dst.nbytes:
            continue
        shift = stream.min_shift(alignment)
        span = max(shift + align_up(stream.in_bytes, alignment), align_up(stream.out_bytes, alignment))
        if span < align_up(src.nbytes, alignment) + align_up(dst.nbytes, alignment):
            spans[i] = span
    return spans


__all__ = ["overlap_candidates", "overlap_spans"]
