"""CLAMP: min(max(x, min), max); standalone Relu, Relu6 and Clip. attrs: min, max (floats, +-inf)."""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import quantize_multiplier, quantize_real, requantize


def clamp_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    return [np.clip(xs[0], a["min"], a["max"]).astype(np.float32)]


def clamp_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLite Micro's Relu path for every range: requantize to the output, then clamp there.

    TFLite Micro's RELU6 alone clamps between the input's zero and six in the input's encoding
    and ignores the output's quantization; where the two differ (a RELU6 TF's converter could
    not fuse) its result is wrong, and this follows TFLite's reference kernels (BUILTIN_REF) and
    the float model instead. Where they agree, both give the same bytes."""
    multiplier, shift, lo, hi = clamp_params(ctx)
    _, x_zp = ctx.in_quant()
    _, out_zp = ctx.out_quant()
    y = requantize(xs[0].astype(np.int64) - x_zp, multiplier, shift, out_zp, lo, hi)
    return [y.astype(ctx.outs[0].dtype)]


def clamp_params(ctx: Ctx) -> tuple[int, int, int, int]:
    """(multiplier, shift) of input scale / output scale and the clamp bounds in the output's
    codes (the int8 table and the int16 kernel share them)."""
    a = ctx.op.attrs
    (x_scale, _), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    dtype_lo, dtype_hi = INT_RANGES[ctx.outs[0].dtype]
    lo = dtype_lo if a["min"] == -math.inf else max(dtype_lo, quantize_real(a["min"], out_scale, out_zp))
    hi = dtype_hi if a["max"] == math.inf else min(dtype_hi, quantize_real(a["max"], out_scale, out_zp))
    multiplier, shift = quantize_multiplier(x_scale / out_scale)
    return multiplier, shift, lo, hi


def clamp_is_identity(op: Op, ins: list[Shape | None], outs: list[Shape]) -> bool:
    """An unbounded clamp does nothing."""
    return op.attrs["min"] == -math.inf and op.attrs["max"] == math.inf


CLAMP = register(OpDef(
    kind="CLAMP", shape=same_shape, ref_float=clamp_float, ref_int=clamp_int, attrs=("min", "max"),
    int16=True, doc="clamp to [min, max] (Relu, Relu6, Clip)",
    lut=True, identity=clamp_is_identity,
))
