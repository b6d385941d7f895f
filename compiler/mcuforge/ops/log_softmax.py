"""LOG_SOFTMAX over the last axis: x - max - log(sum(exp(x - max))). Quantized output is fixed
at scale 16/256, zero point 127 (TFLite's), so the int8 output spans [-16, 0].

int8 follows TFLite Micro's int8 LogSoftmax (log_softmax.cc, reference_ops::LogSoftmaxQuantized):
differences to the row maximum scaled into Q5.26 (softmax's multiplier), gemmlowp's
exp_on_negative_values summed in Q12.19, the log of the sum by gemmlowp-style
log_x_for_x_greater_than_or_equal_to_1 into Q5.26, subtracted and cut to 1/16 steps; inputs
too far below the maximum give -128 (the threshold uses the reverse scaling divisor).
"""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.logistic import require_int8
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath

DIFF_BITS = 5  # Q5.26 differences and log
ACCUM_BITS = 12  # Q12.19 sum of exponentials
OUTPUT_BITS = 4  # the output's integer bits: 1/16 steps of 8 bits


def log_softmax_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0].astype(np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    return [(z - np.log(np.exp(z).sum(axis=-1, keepdims=True))).astype(np.float32)]


def log_softmax_params(input_scale: float) -> dict[str, int]:
    """TFLM's prepare: PreprocessLogSoftmaxScalingExp with beta 1 and 5 integer bits."""
    real = min(float(input_scale) * float(1 << (31 - DIFF_BITS)), float((1 << 31) - 1))
    multiplier, left_shift = qmath.quantize_multiplier(real)
    reverse_real = float(1 << (31 - left_shift)) / float(multiplier)
    reverse_multiplier, reverse_shift = qmath.quantize_multiplier(reverse_real)
    return {"input_multiplier": multiplier, "input_left_shift": left_shift,
            "reverse_multiplier": reverse_multiplier, "reverse_shift": reverse_shift,
            "diff_min": -qmath.calculate_input_radius(DIFF_BITS, left_shift)}


def _sat_pot(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT with a run-time exponent (either sign)."""
    return qmath.saturating_rounding_multiply_by_pot(x, int(exponent))


def _clz(x: np.ndarray) -> np.ndarray:
    return 32 - np.frexp(np.asarray(x, dtype=np.float64))[1].astype(np.int64)


def log_x_ge_1(sum_q12: np.ndarray) -> np.ndarray:
    """log(x) for x >= 1 given in Q12.19, result Q5.26: x = 2^k * r with r in [1/sqrt2, 1) picked
    from two candidate normalizations, log(r) from a rational approximation in sqrt(sqrt(1/2)).
    Per element (the shifts depend on each value)."""
    mul = qmath.saturating_rounding_doubling_high_mul
    accum_bits = DIFF_BITS + 1
    log_2, sqrt_sqrt_half, sqrt_half = 1488522236, 1805811301, 1518500250
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = int(qmath.rounding_divide_by_pot(536870912, accum_bits))
    out = np.empty(sum_q12.shape, dtype=np.int64)
    for i, z_a in enumerate(sum_q12.reshape(-1)):
        z_a = int(z_a)
        h_a = int(_clz(z_a))
        r_a = int(_sat_pot(mul(_sat_pot(z_a, h_a - 1), sqrt_half), 1))
        a_adj = int(np.clip(int(_sat_pot(ACCUM_BITS - h_a, 31 - accum_bits)) + shifted_quarter,
                            qmath.INT32_MIN, qmath.INT32_MAX))
        z_b = int(mul(z_a, sqrt_half))
        h_b = int(_clz(z_b)) - 1
        r_b = int(_sat_pot(z_a, h_b))
        b_adj = int(np.clip(int(_sat_pot(ACCUM_BITS - h_b, 31 - accum_bits)) - shifted_quarter,
                            qmath.INT32_MIN, qmath.INT32_MAX))
        r = min(r_a, r_b)
        pow2_adj = max(a_adj, b_adj)
        p = int(qmath.rounding_half_sum(r, sqrt_sqrt_half))
        q = 2 * (r - sqrt_sqrt_half)
        common_sq = int(mul(q, q))
        num = int(mul(q, r)) + int(mul(mul(q, common_sq), alpha_n))
        denom_minus_one = int(mul(p, alpha_i + q + int(mul(alpha_d, common_sq)))) + int(mul(alpha_f, q))
        recip = int(qmath.one_over_one_plus_x_for_x_in_0_1(denom_minus_one))
        num_scaled = int(qmath.rounding_divide_by_pot(num, accum_bits))
        total = int(mul(pow2_adj, log_2)) + int(mul(num_scaled, recip))
        out.reshape(-1)[i] = int(_sat_pot(total, accum_bits - DIFF_BITS))
    return out


def log_softmax_int(ctx: Ctx, xs: Arrays) -> Arrays:
    require_int8(ctx)
    p = log_softmax_params(ctx.in_quant()[0])
    x = xs[0].astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    scaled = qmath.multiply_by_quantized_multiplier(diff, p["input_multiplier"], p["input_left_shift"])
    used = diff >= p["diff_min"]
    exps = qmath.rounding_divide_by_pot(qmath.exp_on_negative_values(np.where(used, scaled, 0), DIFF_BITS),
                                        ACCUM_BITS)
    total = np.where(used, exps, 0).sum(axis=-1, keepdims=True)
    log_sum = log_x_ge_1(total)
    adjusted_min = np.maximum(p["diff_min"] - 1, qmath.multiply_by_quantized_multiplier(
        log_sum + qmath.INT32_MIN, p["reverse_multiplier"], p["reverse_shift"]))
    y = qmath.rounding_divide_by_pot(scaled - log_sum, 31 - DIFF_BITS - OUTPUT_BITS) + 127
    y = np.where(diff > adjusted_min, np.clip(y, -128, 127), -128)
    return [y.astype(np.int8)]


LOG_SOFTMAX = register(OpDef(kind="LOG_SOFTMAX", shape=same_shape, ref_float=log_softmax_float,
                             ref_int=log_softmax_int, out_quant=(16 / 256, 127),
                             doc="log of softmax over the last axis"))
