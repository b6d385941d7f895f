"""MEAN over `axes` (GlobalAveragePool is MEAN over H, W). attrs: axes, keepdims.

Any axes of a tensor of any rank; SUM, REDUCE_MAX and REDUCE_MIN (ops/reduce.py) share the shape
rule. Layout: the output keeps the input's axis order, reduced axes dropped (or kept as 1).
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import multiply_by_quantized_multiplier, quantize_multiplier, requantize


def reduced_axes(op: Op, rank: int) -> tuple[int, ...]:
    """The op's axes, negative ones resolved, duplicates dropped, sorted."""
    return tuple(sorted({int(a) % rank for a in op.attrs["axes"]})) if rank else ()


def mean_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    axes = set(reduced_axes(op, len(x)))
    if op.attrs["keepdims"]:
        return [tuple(1 if i in axes else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i not in axes)]


def _sum(ctx: Ctx, x: np.ndarray) -> tuple[np.ndarray, int]:
    axes = reduced_axes(ctx.op, x.ndim)
    count = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
    total = x.astype(np.int64).sum(axis=axes, keepdims=ctx.op.attrs["keepdims"])
    return total.reshape(ctx.outs[0].shape), count


def mean_multiplier(x_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """TFLM's QuantizedMeanOrSum for a mean: x_scale / out_scale as a multiplier, then 1/count
    folded into it by integer division after up to log2(count) bits of headroom (capped at 32
    and so that the shift stays >= -31)."""
    multiplier, shift = quantize_multiplier(x_scale / out_scale)
    headroom = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << headroom) // count, shift - headroom


def mean_float(ctx: Ctx, xs: Arrays) -> Arrays:
    axes = reduced_axes(ctx.op, xs[0].ndim)
    y = np.mean(xs[0], axis=axes, keepdims=ctx.op.attrs["keepdims"])
    return [y.astype(np.float32)]


def mean_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's QuantizedMeanOrSum: the int32 sum of (x - x_zp) requantized by
    x_scale / out_scale, with 1/count folded into the multiplier (mean_multiplier). TFLM's
    special 4-D H,W kernel and its general one do the same arithmetic."""
    x = xs[0]
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    total, count = _sum(ctx, x)
    multiplier, shift = mean_multiplier(x_scale, out_scale, count)
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return [requantize(total - x_zp * count, multiplier, shift, out_zp, lo, hi).astype(ctx.outs[0].dtype)]


def sum_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's QuantizedMeanOrSum with compute_sum: the int32 sum of (x - x_zp) requantized by
    x_scale / out_scale (double), output zero point added, saturated."""
    x = xs[0]
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    total, count = _sum(ctx, x)
    multiplier, shift = quantize_multiplier(x_scale / out_scale)
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    acc = multiply_by_quantized_multiplier(total - x_zp * count, multiplier, shift)
    return [np.clip(acc + out_zp, lo, hi).astype(ctx.outs[0].dtype)]


MEAN = register(OpDef(
    kind="MEAN", shape=mean_shape, ref_float=mean_float, ref_int=mean_int,
    attrs=("axes", "keepdims"), int16=True, doc="mean over axes",
))
