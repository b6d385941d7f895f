"""L2_NORMALIZATION over the last axis: x / sqrt(max(sum(x^2), epsilon)). attrs: axis (-1;
importers move other axes last), epsilon. Quantized output is fixed at scale 1/128, zero
point 0 (TFLite's), so the int8 output spans [-1, 127/128].

int8 follows TFLite Micro's int8 L2Normalization (l2norm.cc, reference_integer_ops): the sum of
squared centred inputs per row, its inverse square root as a multiplier and shift from
gemmlowp-style Newton iterations (GetInvSqrtQuantizedMultiplierExp), each centred input
multiplied by it with 7 more bits of left shift. No epsilon in int8, as in TFLM.
"""

from __future__ import annotations

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath

OUTPUT_BITS = 7  # 1/128 output steps


def l2_normalization_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0].astype(np.float64)
    sq = np.maximum((x * x).sum(axis=-1, keepdims=True), ctx.op.attrs.get("epsilon", 1e-6))
    return [(x / np.sqrt(sq)).astype(np.float32)]


def inv_sqrt_multiplier(acc: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(acc, reverse_shift=-1): 1/sqrt(acc) as a Q0.31
    multiplier and a left shift (<= 0), by five Newton steps in Q3.28 from a start of 1."""
    if acc <= 1:
        return qmath.INT32_MAX, 0
    shift = 11
    while acc >= 1 << 29:
        acc //= 4
        shift += 1
    pairs = (32 - acc.bit_length() - 1) // 2 - 1  # (leading zeros - 1) / 2, minus one pair
    shift -= pairs
    acc <<= 2 * pairs
    mul = qmath.saturating_rounding_doubling_high_mul
    half_input = int(qmath.rounding_divide_by_pot(acc >> 1, 1))
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28  # 1.0 in Q3.28
    for _ in range(5):
        x3 = int(qmath.saturating_rounding_multiply_by_pot(mul(mul(x, x), x), 6))
        x = int(qmath.saturating_rounding_multiply_by_pot(
            (int(mul(half_three, x)) - int(mul(half_input, x3))), 3))
    x = int(mul(x, 1518500250))  # times sqrt(2) / 2 in Q0.31
    if shift < 0:
        x <<= -shift
        shift = 0
    return x, -shift


def l2_normalization_int(ctx: Ctx, xs: Arrays) -> Arrays:
    x = ctx.ins[0]
    if x is None or x.dtype != "int8":
        raise MfError(f"L2_NORMALIZATION '{ctx.op.name}': the integer reference handles int8 input")
    _, zp = ctx.in_quant()
    d = xs[0].astype(np.int64) - zp
    rows = d.reshape(-1, d.shape[-1])
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        m, s = inv_sqrt_multiplier(int((row * row).sum()))
        out[r] = qmath.multiply_by_quantized_multiplier(row, m, s + OUTPUT_BITS)
    return [np.clip(out, -128, 127).reshape(d.shape).astype(np.int8)]


L2_NORMALIZATION = register(OpDef(
    kind="L2_NORMALIZATION", shape=same_shape, ref_float=l2_normalization_float, ref_int=l2_normalization_int,
    attrs=("axis",), out_quant=(1 / 128, 0), doc="x / ||x|| over the last axis",
))
