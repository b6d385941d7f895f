"""PRELU: x if x >= 0 else alpha * x, alpha a constant tensor broadcast against x."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import multiply_by_quantized_multiplier, quantize_multiplier


def prelu_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, alpha = xs[0], xs[1]
    return [np.where(x >= 0, x, alpha * x).astype(np.float32)]


def prelu_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's Prelu: x - x_zp scaled by x_scale / out_scale where it is >= 0, else the product
    (x - x_zp) * (alpha - alpha_zp) scaled by x_scale * alpha_scale / out_scale (double)."""
    (x_scale, x_zp), (a_scale, a_zp), (out_scale, out_zp) = ctx.in_quant(0), ctx.in_quant(1), ctx.out_quant()
    m_id, s_id = quantize_multiplier(x_scale / out_scale)
    m_alpha, s_alpha = quantize_multiplier(x_scale * a_scale / out_scale)
    d = xs[0].astype(np.int64) - x_zp
    alpha = xs[1].astype(np.int64) - a_zp
    y = np.where(d >= 0, multiply_by_quantized_multiplier(d, m_id, s_id),
                 multiply_by_quantized_multiplier(d * alpha, m_alpha, s_alpha))
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return [np.clip(y + out_zp, lo, hi).astype(ctx.outs[0].dtype)]


PRELU = register(OpDef(
    kind="PRELU", shape=same_shape, ref_float=prelu_float, ref_int=prelu_int, num_inputs=(2, 2),
    doc="leaky rectifier with learned per-channel slopes",
    data_operands=True,
))
