"""MEAN over `axes` (GlobalAveragePool is MEAN over H, W). attrs: axes, keepdims."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import quantize_multiplier, requantize


def mean_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    axes = {a % len(x) for a in op.attrs["axes"]}
    if op.attrs["keepdims"]:
        return [tuple(1 if i in axes else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i not in axes)]


def mean_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    y = np.mean(xs[0], axis=tuple(a["axes"]), keepdims=a["keepdims"])
    return [y.astype(np.float32)]


def mean_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's QuantizedMeanOrSum: the int32 sum of (x - x_zp) requantized by
    x_scale / out_scale, with 1/count folded into the multiplier as integer division."""
    a = ctx.op.attrs
    x = xs[0]
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    count = int(np.prod([x.shape[i] for i in a["axes"]]))
    multiplier, shift = quantize_multiplier(x_scale / out_scale)
    # Bits of headroom the division may use: log2(count), capped so shift stays >= -31.
    headroom = min(count.bit_length() - 1, 32, 31 + shift)
    multiplier = (multiplier << headroom) // count
    total = x.astype(np.int64).sum(axis=tuple(a["axes"]), keepdims=a["keepdims"]) - x_zp * count
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return [requantize(total, multiplier, shift - headroom, out_zp, lo, hi).astype(ctx.outs[0].dtype)]


MEAN = register(OpDef(
    kind="MEAN", shape=mean_shape, ref_float=mean_float, ref_int=mean_int,
    attrs=("axes", "keepdims"), int16=True, doc="mean over axes",
))
