"""Lower an int8 graph to a program: the ordered kernel calls with their constant parameters,
arena offsets and constant arrays, ready for the templates. Nothing here formats C."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mcuforge.codegen.overlap import overlap_candidates, overlap_spans
from mcuforge.codegen.residual_rows import find_blocks, fuse_where_smaller
from mcuforge.codegen.sanitize import c_text
from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, Op
from mcuforge.kernel_params import IN_PLACE_KERNELS, KernelCall, dims4, kernel_call
from mcuforge.ops.registry import Ctx, lookup, state_buffers
from mcuforge.plan import MemoryPlan, buffers_for_graph
from mcuforge.plan.planner import plan_with_overlaps
from mcuforge.plan.schedule import min_peak_order
from mcuforge.runtime_buffers import scratch_bytes


@dataclass
class ConstArray:
    symbol: str  # C identifier, unique in the generated library
    ctype: str  # int8_t / int32_t
    values: np.ndarray  # 1-D

    @property
    def nbytes(self) -> int:
        return int(self.values.size * np.dtype(self.values.dtype).itemsize)


@dataclass
class Step:
    index: int
    kind: str
    label: str  # sanitized op name, for comments and profiling
    call: KernelCall | None  # None: a copy (an un-aliased RESHAPE)
    inputs: list[str]  # C expressions of the input pointers
    output: str  # C expression of the (first) output pointer
    nbytes: int  # output bytes
    scratch_offset: int = 0
    scratch_size: int = 0
    consts: dict[str, str] = field(default_factory=dict)  # role -> symbol
    macs: int = 0
    outputs: list[str] = field(default_factory=list)  # every output pointer (SPLIT has several)
    state: dict[str, int] = field(default_factory=dict)  # stateful ops: role -> state buffer offset


@dataclass
class StateSlot:
    """One persistent buffer in the model's state buffer (stateful area): not in the arena, as
    it must survive from one inference to the next; NAME_reset() fills it with `fill`."""

    step: int
    role: str
    label: str  # the op's sanitized name
    offset: int  # bytes into the state buffer
    nbytes: int
    ctype: str  # int8_t / int16_t
    fill: int


@dataclass
class Program:
    steps: list[Step]
    consts: list[ConstArray]
    plan: MemoryPlan
    tensor_offsets: dict[str, int]
    state: list[StateSlot] = field(default_factory=list)
    state_bytes: int = 0  # the state buffer's size (0: a stateless model)
    best_order_peak: int | None = None  # live bytes of the op order with the smallest peak (plan.schedule)
    residual_rows: list[dict] = field(default_factory=list)  # ic area: blocks fused (codegen.residual_rows)


def check_bindable(graph: Graph) -> None:
    from mcuforge.kernel_params import BINDINGS
    from mcuforge.kernel_params_real import int32_output
    from mcuforge.kernel_params_s16 import BINDINGS_S16, is_int16

    int16 = {id(op) for op in graph.ops if is_int16(Ctx.of(graph, op))}  # 16x8 mode (issue 11)
    missing = [op for op in graph.ops if not lookup(op.kind).alias and op.kind not in BINDINGS
               and id(op) not in int16]
    wide = [op for op in graph.ops if not lookup(op.kind).alias and op.kind not in BINDINGS_S16
            and id(op) in int16]
    not_int8 = [op for op in graph.ops for t in graph.op_outputs(op)
                if t.dtype not in ("int8", "int16")
                and lookup(op.kind).out_quant != "none"  # "none": index outputs
                and not int32_output(Ctx.of(graph, op))]  # requantized to int32 (real models)
    if missing:
        listing = ", ".join(f"{op.kind} '{c_text(op.name)}'" for op in missing)
        raise MfError(f"no int8 C kernel for: {listing}")
    if wide:  # the ops still missing an int16 kernel, at once
        listing = ", ".join(f"{op.kind} '{c_text(op.name)}'" for op in wide)
        raise MfError(f"no int16 kernel (16x8 mode) for: {listing}; int16 kernels exist for "
                      f"{', '.join(sorted(BINDINGS_S16))}")
    if not_int8:
        op = not_int8[0]
        raise MfError(f"{op.kind} '{c_text(op.name)}' produces {graph.op_outputs(op)[0].dtype}; the C "
                      "runtime runs int8 and int16 graphs (quantize the model with --calib)")


def lower(graph: Graph, prefix: str, alignment: int = 16, algorithm: str = "best-fit",
          overlap: bool = True, residual_rows: bool = True, family: str = "host") -> Program:
    """The program of an int8/int16 graph: a kernel call per op, the memory plan, the constants.
    Where another order of the ops (plan.schedule) gives a smaller arena, `graph.ops` is put in
    that order first: the same values, fewer live bytes. `overlap`: outputs may overlap the
    input they replace where the kernel's access pattern allows and the arena shrinks (issue 13).
    `residual_rows`: conv -> conv -> add residual blocks become one RESIDUAL_ROWS op computed row
    by row (codegen.residual_rows) where that shrinks the arena; `graph` is changed accordingly.
    `family`: the core family kernels are chosen for (mcuforge.kernels.target.FAMILIES)."""
    check_bindable(graph)
    fused: list[dict] = []
    if residual_rows and find_blocks(graph):  # ic area (issue 13)
        fused = fuse_where_smaller(
            graph, lambda g: _scheduled(g, _calls(g, family), alignment, algorithm, overlap)[1].arena_bytes)
    calls = _calls(graph, family)
    calls, plan, best_peak = _scheduled(graph, calls, alignment, algorithm, overlap)
    scratch = _scratch(calls)
    offsets = plan.offset_of_tensor()
    scratch_off = {b.first: plan.offsets[b.name] for b in plan.buffers if b.name.startswith("scratch:")}
    consts: dict[str, ConstArray] = {}
    steps = []
    for i, op in enumerate(graph.ops):
        step = _step(graph, op, i, calls.get(i), offsets, prefix, consts)
        if scratch.get(i):
            step.scratch_offset, step.scratch_size = scratch_off[i], scratch[i]
        steps.append(step)
    slots = _state_slots(graph, steps, alignment)
    state_bytes = max((s.offset + s.nbytes for s in slots), default=0)
    return Program(steps, list(consts.values()), plan, offsets, slots, state_bytes, best_peak, fused)


def _calls(graph: Graph, family: str) -> dict[int, KernelCall]:
    """The kernel call (for core `family`) of every op that is not an alias, by op index."""
    calls: dict[int, KernelCall] = {}
    for i, op in enumerate(graph.ops):
        if lookup(op.kind).alias:
            continue
        try:
            calls[i] = kernel_call(Ctx.of(graph, op), family)
        except ValueError as e:
            raise MfError(str(e)) from None
    return calls


def _scratch(calls: dict[int, KernelCall]) -> dict[int, int]:
    return {i: scratch_bytes(c.kernel, c.dims, c.params) for i, c in calls.items()}


def _plan(graph: Graph, calls: dict[int, KernelCall], alignment: int, algorithm: str,
          overlap: bool = True) -> MemoryPlan:
    in_place = {i for i, call in calls.items() if call.kernel in IN_PLACE_KERNELS}
    buffers = buffers_for_graph(graph, _scratch(calls), in_place)
    candidates = overlap_candidates(graph, calls, buffers, alignment) if overlap else []
    return plan_with_overlaps(buffers, alignment, algorithm, candidates)


def _scheduled(graph: Graph, calls: dict[int, KernelCall], alignment: int, algorithm: str,
               overlap: bool = True) -> tuple[dict[int, KernelCall], MemoryPlan, int | None]:
    """The calls and plan of the op order with the smaller arena: the graph's own, or the order
    of the smallest peak over all orders (min_peak_order), which is also returned (None when the
    graph has too many orders to search)."""
    plan = _plan(graph, calls, alignment, algorithm, overlap)
    in_place = {i for i, call in calls.items() if call.kernel in IN_PLACE_KERNELS}
    spans = overlap_spans(graph, calls, alignment) if overlap else {}
    found = min_peak_order(graph, _scratch(calls), alignment, in_place, spans)
    if found is None:
        return calls, plan, None
    order, peak = found
    if order == sorted(order):
        return calls, plan, peak
    ops = list(graph.ops)
    graph.ops[:] = [ops[i] for i in order]
    moved = {new: calls[old] for new, old in enumerate(order) if old in calls}
    other = _plan(graph, moved, alignment, algorithm, overlap)
    if other.arena_bytes < plan.arena_bytes:
        return moved, other, peak
    graph.ops[:] = ops
    return calls, plan, peak


def _state_slots(graph: Graph, steps: list[Step], alignment: int) -> list[StateSlot]:
    """The persistent buffers of every stateful op, laid out one after the other (each aligned)
    in op order: they are all live for the model's whole life, so nothing can share."""
    slots = []
    offset = 0
    for op, step in zip(graph.ops, steps):
        for b in state_buffers(op, [graph.tensors[n].shape if n else None for n in op.inputs]):
            ctype = {"int8": "int8_t", "int16": "int16_t"}[b.dtype]
            slots.append(StateSlot(step.index, b.role, step.label, offset, b.nbytes, ctype, b.fill))
            step.state[b.role] = offset
            offset += -(-b.nbytes // alignment) * alignment
    return slots


def _pointer(graph: Graph, name: str, offsets: dict[str, int], symbol: str,
             consts: dict[str, ConstArray]) -> str:
    """C expression of a tensor's bytes: its arena slot, or the const array named `symbol`."""
    t = graph.tensors[name]
    if t.is_const:
        assert t.data is not None
        return _const(consts, symbol, t.data).symbol
    return f"arena + {offsets[name]}"


def _const(consts: dict[str, ConstArray], symbol: str, values: np.ndarray) -> ConstArray:
    flat = np.ascontiguousarray(values).reshape(-1)
    key = f"{flat.dtype}:{flat.tobytes().hex()}"
    if key not in consts:  # identical tables (shared weights, equal multipliers) are stored once
        ctype = {"int8": "int8_t", "int32": "int32_t", "int16": "int16_t",
                 "uint8": "uint8_t", "int64": "int64_t", "uint16": "uint16_t"}[str(flat.dtype)]
        consts[key] = ConstArray(symbol, ctype, flat)
    return consts[key]


def _step(graph: Graph, op: Op, index: int, call: KernelCall | None, offsets: dict[str, int],
          prefix: str, consts: dict[str, ConstArray]) -> Step:
    out = op.outputs[0]
    data_inputs = [n for j, n in enumerate(op.inputs) if n and (j == 0 or lookup(op.kind).data_operands)]
    step = Step(
        index=index, kind=op.kind, label=c_text(op.name), call=call,
        inputs=[_pointer(graph, n, offsets, f"{prefix}_op{index}_input{j}", consts)
                for j, n in enumerate(data_inputs)],
        output=f"arena + {offsets[out]}", nbytes=graph.tensors[out].nbytes,
        outputs=[f"arena + {offsets[o]}" for o in op.outputs],
    )
    if call is not None:
        for role, values in call.arrays.items():
            step.consts[role] = _const(consts, f"{prefix}_op{index}_{role}", values).symbol
        for j in lookup(op.kind).weight_axes:
            if "filter" in step.consts:  # a packed filter (4-bit weights) came with the call
                continue
            symbol = f"{prefix}_op{index}_filter"
            step.consts["filter"] = _pointer(graph, op.inputs[j], offsets, symbol, consts)
        ins = [graph.tensors[n].shape if n else None for n in op.inputs]
        step.macs = lookup(op.kind).macs(op, ins, [graph.tensors[o].shape for o in op.outputs])
    return step


__all__ = ["ConstArray", "Program", "StateSlot", "Step", "dims4", "lower"]
