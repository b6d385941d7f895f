"""LOGISTIC: 1 / (1 + exp(-x)). Quantized output is fixed at scale 1/256, zero point -128."""

from __future__ import annotations

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath

INPUT_INTEGER_BITS = 4  # the input is rescaled to Q4.27 before gemmlowp's logistic


def logistic_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0].astype(np.float64)
    return [(1.0 / (1.0 + np.exp(-x))).astype(np.float32)]


def require_int8(ctx: Ctx) -> None:
    """The gemmlowp-based kernels exist for int8 only; TFLM's int16 versions are table lookups."""
    x = ctx.ins[0]
    if x is not None and x.dtype != "int8":
        raise MfError(f"{ctx.op.kind} '{ctx.op.name}': the integer reference handles int8 input, "
                      f"not {x.dtype}")


def fixed_point_input(ctx: Ctx, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LOGISTIC's and TANH's first step in TFLM: x - x_zp rescaled to Q4.27 by a frexp-built
    multiplier. Returns (the Q4.27 values, mask of values below the input radius, mask above);
    values beyond the radius saturate the output and are not computed."""
    require_int8(ctx)
    x_scale, x_zp = ctx.in_quant()
    multiplier, shift = qmath.frexp_multiplier(x_scale * float(1 << (31 - INPUT_INTEGER_BITS)))
    radius = qmath.calculate_input_radius(INPUT_INTEGER_BITS, shift)
    d = x.astype(np.int64) - x_zp
    inside = np.where(np.abs(d) < radius, d, 0)
    return qmath.multiply_by_quantized_multiplier(inside, multiplier, shift), d <= -radius, d >= radius


def logistic_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's integer Logistic: gemmlowp's fixed-point logistic, Q0.31 cut to 1/256 steps. int16
    input (16x8 mode): TFLite's interpolated sigmoid table (ops/int16_tables.py), output Q0.15."""
    if ctx.ins[0] is not None and ctx.ins[0].dtype == "int16":  # issue 11
        from mcuforge.ops import int16_tables

        multiplier, shift = int16_tables.activation_params(ctx.in_quant()[0], tanh=False)
        return [int16_tables.logistic_s16(xs[0], multiplier, shift)]
    q4, low, high = fixed_point_input(ctx, xs[0])
    y = qmath.rounding_divide_by_pot(qmath.logistic(q4, INPUT_INTEGER_BITS), 23) - 128
    y = np.where(low, -128, np.where(high, 127, np.clip(y, -128, 127)))
    return [y.astype(np.int8)]


LOGISTIC = register(OpDef(kind="LOGISTIC", shape=same_shape, ref_float=logistic_float, ref_int=logistic_int,
                          out_quant=(1 / 256, -128), doc="sigmoid", lut=True, int16=True))
