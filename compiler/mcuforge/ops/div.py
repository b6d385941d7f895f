"""DIV: a / b elementwise with numpy broadcasting (ranks up to 4 in C), fused activation.
attrs: activation.

int8 follows TFLite Micro's int8 Div (div.cc, reference_ops::DivElementwise): the divisor's
reciprocal (offset-corrected, made positive by moving its sign to the dividend) comes from
gemmlowp's fixed-point 1 / (1 + x); the dividend is normalized by its leading sign bits, the two
multiplied, and the quotient requantized by input1_scale / (input2_scale * output_scale), that
ratio computed in float32 as TFLM's prepare does. A divisor of real zero is undefined in TFLM
(a debug assert); ours saturates to the activation bound of the dividend's sign (the output zero
point for 0 / 0).
"""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import quantized_activation_range
from mcuforge.ops.elementwise import _binary, broadcast_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath


def div_multiplier(s1: float, s2: float, so: float) -> tuple[int, int]:
    """input1_scale / (input2_scale * output_scale), in float32 as TFLM divides."""
    real = np.float32(s1) / (np.float32(s2) * np.float32(so))
    return qmath.quantize_multiplier(float(real))


def count_leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """TFLite's CountLeadingSignBits for int32: redundant sign bits (31 for 0 and -1)."""
    x = np.asarray(x, dtype=np.int64)
    v = np.where(x >= 0, x, ~x)  # same leading bits as a non-negative number
    return 31 - np.frexp(v.astype(np.float64))[1].astype(np.int64)  # frexp(0) gives exponent 0


def div_int(ctx: Ctx, xs: Arrays) -> Arrays:
    (s1, z1), (s2, z2), (so, zo) = ctx.in_quant(0), ctx.in_quant(1), ctx.out_quant()
    out = ctx.outs[0]
    multiplier, shift = div_multiplier(s1, s2, so)
    lo, hi = quantized_activation_range(ctx.op.attrs["activation"], so, zo, out.dtype)
    a, b = np.broadcast_arrays(xs[0].astype(np.int64) - z1, xs[1].astype(np.int64) - z2)
    a = np.where(b < 0, -a, a)
    b = np.abs(b)
    safe_b = np.maximum(b, 1)
    reciprocal, recip_shift = qmath.get_reciprocal(safe_b, 31)
    headroom = count_leading_sign_bits(a)
    unscaled = qmath.saturating_rounding_doubling_high_mul(a << headroom, reciprocal)
    total_shift = shift - recip_shift - headroom
    y = qmath.rounding_divide_by_pot(qmath.saturating_rounding_doubling_high_mul(unscaled, multiplier),
                                     -total_shift) + zo
    y = np.where(b == 0, np.where(a > 0, hi, np.where(a < 0, lo, zo)), y)
    return [np.clip(y, lo, hi).astype(out.dtype)]


DIV = register(OpDef(
    kind="DIV", shape=broadcast_shape, ref_float=_binary(np.divide), ref_int=div_int, num_inputs=(2, 2),
    attrs=("activation",), doc="elementwise a / b", fused_activation=True, data_operands=True,
))
