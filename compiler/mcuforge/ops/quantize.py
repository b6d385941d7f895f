"""QUANTIZE (float -> int, or int -> int requantization) and DEQUANTIZE (int -> float).

The output tensor's (QUANTIZE) or input tensor's (DEQUANTIZE) quantization parameters say how.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import QuantParams
from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import quantize_multiplier, requantize, round_half_away


def affine_quantize(x: np.ndarray, quant: QuantParams, dtype: str) -> np.ndarray:
    """TFLite's AffineQuantize: float32 division by the scale, rounding half away from zero,
    zero point added, saturated to the dtype. The generated C helpers do exactly this."""
    shape = quant.broadcast_shape(x.ndim)
    q = round_half_away(x.astype(np.float32) / quant.scale.reshape(shape))
    lo, hi = INT_RANGES[dtype]
    return np.clip(q.astype(np.int64) + quant.zero_point.reshape(shape), lo, hi).astype(dtype)


def quantize_float(ctx: Ctx, xs: Arrays) -> Arrays:
    """Float in, integer out."""
    out = ctx.outs[0]
    assert out.quant is not None
    return [affine_quantize(xs[0], out.quant, out.dtype)]


def requantize_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """Integer in, integer out: TFLM's Requantize by x_scale / out_scale (double)."""
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    multiplier, shift = quantize_multiplier(x_scale / out_scale)
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    y = requantize(xs[0].astype(np.int64) - x_zp, multiplier, shift, out_zp, lo, hi)
    return [y.astype(ctx.outs[0].dtype)]


def dequantize_int(ctx: Ctx, xs: Arrays) -> Arrays:
    src = ctx.ins[0]
    assert src is not None and src.quant is not None
    shape = src.quant.broadcast_shape(len(src.shape))
    scale = src.quant.scale.reshape(shape)
    zp = src.quant.zero_point.reshape(shape)
    return [((xs[0].astype(np.int64) - zp).astype(np.float32) * scale).astype(np.float32)]


def dequantize_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return [xs[0].astype(np.float32)]


QUANTIZE = register(OpDef(
    kind="QUANTIZE", shape=same_shape, ref_float=quantize_float, ref_int=requantize_int, same_dtype=False,
    int16=True, doc="float to integer (or integer requantization)",
    lut=True,
))
DEQUANTIZE = register(OpDef(
    kind="DEQUANTIZE", shape=same_shape, ref_float=dequantize_float, ref_int=dequantize_int,
    same_dtype=False, doc="integer to float",
))
