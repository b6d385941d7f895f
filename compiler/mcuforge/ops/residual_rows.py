"""RESIDUAL_ROWS (ic area, issue 13): a residual block fused into one op, y = ADD(conv_b(conv_a(x)),
x) (or ADD(x, ...), the add's operand order kept), made by codegen.residual_rows where computing
it row by row lowers the arena; its C kernel is mf_residual_rows_s8 (kernels/residual.py).

One input, x (N, H, W, C, int8); one output of x's shape and the add's encoding. attrs["block"]
is a `Block`: the three original ops and every tensor they name (weights, biases, conv A's and
conv B's outputs with their quantization), so the references are the composition of CONV_2D's,
CONV_2D's and ADD's own references, bit-exact with the unfused ops by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuforge.ir.graph import Op, Shape, Tensor
from mcuforge.ops.registry import Arrays, Ctx, OpDef, RefImpl, lookup, register


@dataclass(frozen=True)
class Block:
    """conv_a reads `x`; conv_b reads conv_a's output; add reads conv_b's output and x."""

    x: str
    conv_a: Op
    conv_b: Op
    add: Op
    tensors: dict[str, Tensor]  # every tensor the three ops name

    @property
    def ops(self) -> tuple[Op, Op, Op]:
        return (self.conv_a, self.conv_b, self.add)


def _compose(ctx: Ctx, xs: Arrays, integer: bool) -> Arrays:
    block: Block = ctx.op.attrs["block"]
    values: dict[str, np.ndarray] = {block.x: xs[0]}
    for op in block.ops:
        ins = [block.tensors[n] if n else None for n in op.inputs]
        outs = [block.tensors[n] for n in op.outputs]
        args = [None if not n else values[n] if n in values else block.tensors[n].data for n in op.inputs]
        opdef = lookup(op.kind)
        impl: RefImpl | None = opdef.ref_int if integer else opdef.ref_float
        assert impl is not None
        values[op.outputs[0]] = impl(Ctx(op, ins, outs), args)[0]  # type: ignore[arg-type]
    return [values[block.add.outputs[0]]]


def residual_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """CONV_2D's, CONV_2D's then ADD's integer references (TFLite Micro's int8 kernels)."""
    return _compose(ctx, xs, True)


def residual_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return _compose(ctx, xs, False)


def residual_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    assert ins[0] is not None
    return [ins[0]]


def residual_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    block: Block = op.attrs["block"]
    total = 0
    for sub in (block.conv_a, block.conv_b):
        shapes = [block.tensors[n].shape if n else None for n in sub.inputs]
        total += lookup(sub.kind).macs(sub, shapes, [block.tensors[sub.outputs[0]].shape])
    return total


RESIDUAL_ROWS = register(OpDef(
    kind="RESIDUAL_ROWS", shape=residual_shape, ref_float=residual_float, ref_int=residual_int,
    macs=residual_macs, attrs=("block",), doc="conv -> conv -> add residual block, row by row",
))
