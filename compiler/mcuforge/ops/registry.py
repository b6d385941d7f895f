"""The op registry: one `OpDef` per op kind, holding everything the compiler knows about it.

An op module builds its `OpDef` and calls `register`; `mcuforge.ops` imports every op module.
Stages look ops up here instead of branching on kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcuforge.ir.graph import Graph, Op, Shape, Tensor
from mcuforge.ir.verify import use_op_rules

Arrays = list[np.ndarray]


@dataclass
class Ctx:
    """An op together with its tensors, as the reference implementations see it."""

    op: Op
    ins: list[Tensor | None]
    outs: list[Tensor]
    # Stateful ops (OpDef.state): the op's persistent buffers by role, updated in place by the
    # reference; None starts from the reset values (see `op_state`).
    state: dict[str, np.ndarray] | None = None

    @classmethod
    def of(cls, graph: Graph, op: Op) -> Ctx:
        return cls(op, graph.op_inputs(op), graph.op_outputs(op))

    def attr(self, name: str) -> Any:
        return self.op.attrs[name]

    def in_quant(self, i: int = 0) -> tuple[float, int]:
        tensor = self.ins[i]
        assert tensor is not None
        return tensor.scalar_quant()

    def out_quant(self, i: int = 0) -> tuple[float, int]:
        return self.outs[i].scalar_quant()


@dataclass(frozen=True)
class StateBuffer:
    """One persistent buffer of a stateful op: kept from one inference to the next (TFLite's
    variable tensors), in the generated C a slice of the model's state buffer that
    NAME_reset() fills with `fill` (the tensor's zero point, as TFLite Micro resets it)."""

    role: str  # "activation_state", "hidden", "cell"
    dtype: str  # "int8" / "int16"
    shape: Shape
    fill: int = 0

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def initial(self) -> np.ndarray:
        return np.full(self.shape, self.fill, dtype=self.dtype)


StateRule = Callable[[Op, list[Shape | None]], list[StateBuffer]]
ShapeRule = Callable[[Op, list[Shape | None]], list[Shape]]
RefImpl = Callable[[Ctx, Arrays], Arrays]
MacRule = Callable[[Op, list[Shape | None], list[Shape]], int]
# True when this instance of the op passes its input through unchanged (same shape or a
# reinterpretation of it); the encodings of input and output are checked separately.
IdentityRule = Callable[[Op, list[Shape | None], list[Shape]], bool]
# Packed weight storages a weighted op's kernels can take (mcuforge.ops.packed_weights).
WEIGHT_FORMATS = ("int4", "cb4", "sparse", "b1")  # b1: 1-bit weights (issue 16)


def no_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    return 0


@dataclass(frozen=True)
class OpDef:
    kind: str
    shape: ShapeRule  # output shapes from op attributes and input shapes
    ref_float: RefImpl  # float32 reference
    ref_int: RefImpl | None = None  # integer reference, bit-exact with TFLite Micro
    macs: MacRule = no_macs
    num_inputs: tuple[int, int] = (1, 1)  # (min, max), omitted optionals count
    attrs: Sequence[str] = field(default_factory=tuple)  # required attribute names
    same_dtype: bool = True  # first input and all outputs share a dtype
    # Quantization rule: how the output's parameters are chosen ("calibrated" from observed
    # ranges, "same_as_input" for ops that move bytes without arithmetic, or fixed
    # (scale, zero_point) where TFLite fixes them, "none" for an integer output that is not
    # quantized and keeps the dtype its importer gave it: ARG_MAX's int32/int64 indices), and
    # which inputs are per-channel weights (input index -> channel axis) and an int32 bias
    # (scale = input scale x weight scale).
    out_quant: str | tuple[float, int] = "calibrated"
    weight_axes: dict[int, int] = field(default_factory=dict)
    bias_input: int | None = None
    inputs_share_quant: bool = False  # every input must carry the output's encoding (TFLite)
    int16: bool = False  # the integer reference also follows TFLite's int16 kernels (16x8 mode)
    doc: str = ""
    # -- Traits: what the passes, codegen, planner, compression and summary need to know about an
    # op, so none of them keeps its own list of kinds. Defaults are the safe answer ("no").
    # `fused_activation`: the op has an `activation` attribute (NONE, RELU, RELU6, RELU_N1_TO_1)
    # applied to its output, so a Relu-like CLAMP after it fuses into it (passes.fuse_activation).
    fused_activation: bool = False
    # `absorbs_pad`: its `pads` attribute (top, left, bottom, right) is zero padding of input 0's H
    # and W that contributes nothing to the sums, so a zero PAD before it folds in (passes.fold_pad).
    absorbs_pad: bool = False
    # `folds_batch_norm`: a BATCH_NORM after it folds into its weights (scaled along the output
    # channel axis `weight_axes[1]`) and its bias input `bias_input` (passes.fold_batch_norm).
    folds_batch_norm: bool = False
    # `data_operands`: every input is data the kernel reads by pointer (ADD's second operand,
    # PRELU's slopes); otherwise only input 0 is, and weights and biases travel as constant
    # arrays of the kernel call (codegen.program).
    data_operands: bool = False
    # `alias`: the output is the input's bytes under another shape: no kernel, one buffer serves
    # both (plan.buffers, codegen.program).
    alias: bool = False
    # `identity`: when this op instance does nothing (passes.remove_identity bypasses it).
    identity: IdentityRule | None = None
    # `lut`: int8 in, int8 out, one byte at a time: the C runs it as a 256-entry lookup table built
    # from `ref_int` (kernel_params), so the op needs no kernel of its own.
    lut: bool = False
    # `weight_formats`: packed storages of weight input 1 that its kernels take (WEIGHT_FORMATS);
    # compress.encode ("int4", "cb4", "b1") and compress.sparse ("sparse") only pack these ops.
    weight_formats: frozenset[str] = frozenset()
    # `state` (stateful area): the persistent buffers an op instance keeps between inferences
    # (SVDF's memory, a TFLite LSTM's hidden and cell state); [] or None: none. The reference
    # interpreter carries them from call to call (reference.interpreter.run's `state`), codegen
    # places them in the model's state buffer, outside the arena (codegen.program).
    state: StateRule | None = None


REGISTRY: dict[str, OpDef] = {}
use_op_rules(REGISTRY)  # the IR verifier checks graphs against these entries


def register(opdef: OpDef) -> OpDef:
    if opdef.kind in REGISTRY:
        raise ValueError(f"op kind {opdef.kind} registered twice")
    REGISTRY[opdef.kind] = opdef
    return opdef


def trait_problems(opdef: OpDef) -> list[str]:
    """What is inconsistent between an op's attributes, operands and traits: each entry names a
    trait a pass reads that the op lacks or claims without the attribute or operand it needs.
    tests/test_op_traits.py runs it over the registry."""
    k, attrs = opdef.kind, set(opdef.attrs)
    problems = []
    if ("activation" in attrs) != opdef.fused_activation:
        problems.append(f"{k}: has an 'activation' attribute iff fused_activation=True")
    if opdef.absorbs_pad and "pads" not in attrs:
        problems.append(f"{k}: absorbs_pad needs a 'pads' attribute")
    if opdef.absorbs_pad and 1 not in opdef.weight_axes:
        problems.append(f"{k}: absorbs_pad is for convolutions (weights at input 1)")
    if opdef.folds_batch_norm and (1 not in opdef.weight_axes or opdef.bias_input is None
                                   or not opdef.fused_activation):
        problems.append(f"{k}: folds_batch_norm needs weight_axes[1], bias_input and fused_activation")
    if opdef.bias_input is not None and not opdef.weight_axes:
        problems.append(f"{k}: a bias input needs weights (weight_axes)")
    if opdef.weight_formats and 1 not in opdef.weight_axes:
        problems.append(f"{k}: weight_formats needs weights at input 1 (weight_axes)")
    unknown = set(opdef.weight_formats) - set(WEIGHT_FORMATS)
    if unknown:
        problems.append(f"{k}: unknown weight formats {sorted(unknown)}; known: {WEIGHT_FORMATS}")
    if opdef.data_operands and (opdef.weight_axes or opdef.bias_input is not None):
        problems.append(f"{k}: data_operands and weights exclude each other")
    roles = set(opdef.weight_axes) | ({opdef.bias_input} if opdef.bias_input is not None else set())
    if (opdef.ref_int is not None and opdef.num_inputs[1] > 1 and not opdef.data_operands
            and not set(range(1, opdef.num_inputs[1])) <= roles):
        problems.append(f"{k}: inputs after the first are neither weights, bias nor data operands; set "
                        "data_operands=True if the kernel reads them by pointer")
    if opdef.lut and (opdef.num_inputs != (1, 1) or opdef.ref_int is None or opdef.weight_axes):
        problems.append(f"{k}: a lookup-table op has one input, no weights and an integer reference")
    if opdef.alias and (opdef.out_quant != "same_as_input" or opdef.num_inputs != (1, 1)):
        problems.append(f"{k}: an alias op has one input and keeps its encoding (same_as_input)")
    return problems


def state_buffers(op: Op, ins: list[Shape | None]) -> list[StateBuffer]:
    """The persistent buffers of an op instance ([] for stateless ops)."""
    rule = lookup(op.kind).state
    return list(rule(op, ins)) if rule is not None else []


def op_state(ctx: Ctx) -> dict[str, np.ndarray]:
    """A stateful op's buffers by role: the caller's (carried over), else fresh reset values."""
    if ctx.state is None:
        ins = [t.shape if t is not None else None for t in ctx.ins]
        ctx.state = {b.role: b.initial() for b in state_buffers(ctx.op, ins)}
    return ctx.state


def lookup(kind: str) -> OpDef:
    try:
        return REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown op kind '{kind}'; known kinds: {known}") from None


def infer_shapes(op: Op, in_shapes: list[Shape | None]) -> list[Shape]:
    return lookup(op.kind).shape(op, in_shapes)
