"""TANH. Quantized output is fixed at scale 1/128, zero point 0."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.logistic import INPUT_INTEGER_BITS, fixed_point_input
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath


def tanh_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return [np.tanh(xs[0]).astype(np.float32)]


def tanh_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's integer Tanh: gemmlowp's fixed-point tanh, Q0.31 cut to 1/128 steps. int16 input
    (16x8 mode): TFLite's interpolated sigmoid table (ops/int16_tables.py), output Q0.15."""
    if ctx.ins[0] is not None and ctx.ins[0].dtype == "int16":  # issue 11
        from mcuforge.ops import int16_tables

        multiplier, shift = int16_tables.activation_params(ctx.in_quant()[0], tanh=True)
        return [int16_tables.tanh_s16(xs[0], multiplier, shift)]
    q4, low, high = fixed_point_input(ctx, xs[0])
    y = qmath.rounding_divide_by_pot(qmath.tanh(q4, INPUT_INTEGER_BITS), 24)
    y = np.where(low, -128, np.where(high, 127, np.clip(y, -128, 127)))
    return [y.astype(np.int8)]


TANH = register(OpDef(kind="TANH", shape=same_shape, ref_float=tanh_float, ref_int=tanh_int,
                      out_quant=(1 / 128, 0), doc="hyperbolic tangent", lut=True, int16=True))
