"""PAD with a constant. attrs: pads ((before, after) per axis), value (real value, float)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import quantize_real


def pad_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    return [tuple(d + lo + hi for d, (lo, hi) in zip(x, op.attrs["pads"]))]


def pad_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    return [np.pad(xs[0], a["pads"], constant_values=np.float32(a["value"]))]


def quantized_pad_value(ctx: Ctx) -> int:
    """The real pad value quantized with the output's parameters: the output zero point for PAD,
    PADV2's own quantized constant back for PADV2."""
    scale, zero_point = ctx.out_quant()
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return int(np.clip(quantize_real(ctx.op.attrs["value"], scale, zero_point), lo, hi))


def pad_int(ctx: Ctx, xs: Arrays) -> Arrays:
    value = quantized_pad_value(ctx)
    return [np.pad(xs[0], ctx.op.attrs["pads"], constant_values=value).astype(ctx.outs[0].dtype)]


PAD = register(OpDef(
    kind="PAD", shape=pad_shape, ref_float=pad_float, ref_int=pad_int, attrs=("pads", "value"),
    out_quant="same_as_input", int16=True, doc="pad with a constant value",
))
