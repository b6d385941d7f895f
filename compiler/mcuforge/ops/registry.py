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

Arrays = list[np.ndarray]


@dataclass
class Ctx:
    """An op together with its tensors, as the reference implementations see it."""

    op: Op
    ins: list[Tensor | None]
    outs: list[Tensor]

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


ShapeRule = Callable[[Op, list[Shape | None]], list[Shape]]
RefImpl = Callable[[Ctx, Arrays], Arrays]
MacRule = Callable[[Op, list[Shape | None], list[Shape]], int]


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


REGISTRY: dict[str, OpDef] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.kind in REGISTRY:
        raise ValueError(f"op kind {opdef.kind} registered twice")
    REGISTRY[opdef.kind] = opdef
    return opdef


def lookup(kind: str) -> OpDef:
    try:
        return REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown op kind '{kind}'; known kinds: {known}") from None


def infer_shapes(op: Op, in_shapes: list[Shape | None]) -> list[Shape]:
    return lookup(op.kind).shape(op, in_shapes)
