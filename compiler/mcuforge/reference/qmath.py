"""Integer arithmetic of TFLite Micro's quantized kernels, vectorized over numpy int64 arrays.

Every function here mirrors one C++ function of TFLite (tensorflow/lite/kernels/internal/common.h,
quantization_util.cc) or gemmlowp (fixedpoint/fixedpoint.h) and is named like it, so the two can
be read side by side. Values travel as int64 arrays holding what C keeps in int32 (or int16), which
leaves room for the 64-bit intermediate products; results are back in the narrow range. The
gemmlowp fixed-point helpers work on raw values: a caller says how many integer bits a value has.

TFLite Micro builds without TFLITE_SINGLE_ROUNDING, so requantization rounds twice: once in the
doubling high multiply, once in the rounding right shift (checked against the interpreter in
tests/test_reference_int.py).
"""

from __future__ import annotations

import math

import numpy as np

ArrayLike = np.ndarray | int

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def _i64(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def round_half_away(v: ArrayLike) -> np.ndarray:
    """C's std::round (TfLiteRound): halves go away from zero. Done in float64, where adding
    0.5 to any float32 value is exact (in float32 it can round 0.5 - 2**-25 up to 1)."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def quantize_real(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale), the division in float32 as TFLite's prepare steps do."""
    return zero_point + int(round_half_away(np.float32(value) / np.float32(scale)))


# -- multipliers ---------------------------------------------------------------------------------


def quantize_multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """QuantizeMultiplier over an array of doubles: real = m * 2**(shift - 31), m in [2**30, 2**31).

    Like TFLite: the mantissa is rounded half away from zero, a mantissa that rounds up to 2**31
    is halved with the exponent raised, and multipliers below 2**-32 flush to (0, 0).
    """
    q, shift = np.frexp(np.asarray(reals, dtype=np.float64))
    m = round_half_away(q * 2.0**31).astype(np.int64)
    shift = shift.astype(np.int64)
    carry = m == 2**31
    m = np.where(carry, m // 2, m)
    shift = np.where(carry, shift + 1, shift)
    tiny = shift < -31
    return np.where(tiny, 0, m), np.where(tiny, 0, shift)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier for one double: (int32 multiplier, shift), shift > 0 shifts left."""
    m, shift = quantize_multipliers(np.asarray([real]))
    return int(m[0]), int(shift[0])


# -- integer primitives --------------------------------------------------------------------------


def _div_pow2_toward_zero(v: np.ndarray, bits: int) -> np.ndarray:
    """C's `v / (1 << bits)` for signed v: truncates toward zero, unlike an arithmetic shift."""
    return np.where(v >= 0, v >> bits, -((-v) >> bits))


def saturating_rounding_doubling_high_mul(a: ArrayLike, b: ArrayLike, bits: int = 32) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul for `bits`-wide integers (32 or 16):
    round(a * b / 2**(bits - 1)) with ties away from zero; MIN * MIN saturates to MAX."""
    a, b = _i64(a), _i64(b)
    lo = -(1 << (bits - 1))
    ab = a * b
    nudge = np.where(ab >= 0, 1 << (bits - 2), 1 - (1 << (bits - 2)))
    high = _div_pow2_toward_zero(ab + nudge, bits - 1)
    return np.where((a == lo) & (b == lo), -lo - 1, high)


def saturating_doubling_high_mul(a: ArrayLike, b: ArrayLike, bits: int = 16) -> np.ndarray:
    """TFLite's non-rounding SaturatingDoublingHighMul (used by HARD_SWISH): truncates."""
    a, b = _i64(a), _i64(b)
    lo = -(1 << (bits - 1))
    return np.where((a == lo) & (b == lo), -lo - 1, _div_pow2_toward_zero(a * b, bits - 1))


def rounding_divide_by_pot(x: ArrayLike, exponent: ArrayLike) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2**exponent rounded to nearest, ties away from zero."""
    x, exponent = _i64(x), _i64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def saturating_rounding_multiply_by_pot(x: ArrayLike, exponent: int, bits: int = 32) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT: a saturating left shift for exponent > 0, a
    rounding right shift for exponent < 0."""
    x = _i64(x)
    if exponent <= 0:
        return rounding_divide_by_pot(x, -exponent)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    threshold = (1 << (bits - 1 - exponent)) - 1
    return np.where(x > threshold, hi, np.where(x < -threshold, lo, x << exponent))


def saturating_left_shift(x: ArrayLike, amount: int, bits: int = 16) -> np.ndarray:
    """TFLite's SaturatingLeftShift: x * 2**amount clamped to the `bits`-wide range."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(_i64(x) << amount, lo, hi)


def multiply_by_quantized_multiplier(x: ArrayLike, multiplier: ArrayLike, shift: ArrayLike) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier, double-rounding form: x * multiplier * 2**(shift - 31).

    A positive shift multiplies x before the high multiply (exactly, as C does in int32), a
    negative one becomes a rounding right shift after it. multiplier and shift may be per-channel
    arrays that broadcast against x.
    """
    x, shift = _i64(x), _i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x << left, multiplier), right)


def multiply_by_quantized_multiplier_int64(x: ArrayLike, multiplier: ArrayLike,
                                           shift: ArrayLike) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier for int64 accumulators (the 16x8 kernels): the
    multiplier is first rounded to 16 bits, then a single rounding shift."""
    m, total_shift = _i64(multiplier), 15 - _i64(shift)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    return (_i64(x) * reduced + (np.int64(1) << (total_shift - 1))) >> total_shift


def requantize(acc: ArrayLike, multiplier: ArrayLike, shift: ArrayLike, zero_point: int,
               lo: int, hi: int) -> np.ndarray:
    """The tail every int8 kernel shares: scale an int32 accumulator, add the output zero point,
    clamp to [lo, hi] (the dtype range or the fused activation's)."""
    return np.clip(multiply_by_quantized_multiplier(acc, multiplier, shift) + zero_point, lo, hi)


def calculate_input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """TFLite's CalculateInputRadius: the largest |input - zero_point| whose rescaled value still
    fits the fixed-point format; beyond it LOGISTIC/TANH saturate and SOFTMAX drops the term."""
    max_rescaled = (
        1.0 * ((1 << integer_bits) - 1) * (1 << (total_signed_bits - integer_bits)) / 2.0**left_shift
    )
    return math.floor(max_rescaled)


def frexp_multiplier(real: float) -> tuple[int, int]:
    """The multiplier LOGISTIC and TANH prepare with a bare frexp: round(q * 2**31) without
    QuantizeMultiplier's carry and flush handling."""
    q, shift = math.frexp(real)
    return int(round_half_away(np.float64(q) * 2.0**31)), shift


# -- gemmlowp fixed point (raw int32 values, integer bits tracked by the caller) ------------------


def _mul(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Fixed-point product: the result has the sum of the operands' integer bits."""
    return saturating_rounding_doubling_high_mul(a, b)


def rounding_half_sum(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """gemmlowp's RoundingHalfSum: (a + b) / 2 rounded away from zero, in 64 bits."""
    total = _i64(a) + _i64(b)
    sign = np.where(total >= 0, 1, -1)
    return _div_pow2_toward_zero(total + sign, 1)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), both Q0.31: a 4th-order Taylor series around -1/8."""
    exp_minus_one_eighth = 1895147668
    one_third = 715827883
    x = a + (1 << 28)
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(_mul(x4_over_4 + x3, one_third) + x2, 1)
    return exp_minus_one_eighth + _mul(exp_minus_one_eighth, x + poly)


# exp(-2**k) in Q0.31 for the bits of the input above 1/4, k = -2..4, as gemmlowp tabulates them.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: ArrayLike, integer_bits: int) -> np.ndarray:
    """gemmlowp's exp_on_negative_values: exp(a) in Q0.31 for a <= 0 with `integer_bits`."""
    a = _i64(a)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter
    rescaled = saturating_rounding_multiply_by_pot(a_mod_quarter_minus_quarter, integer_bits)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescaled)
    remainder = a_mod_quarter_minus_quarter - a
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = np.int64(1) << (fractional_bits + exponent)
            result = np.where(remainder & bit, _mul(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_reciprocal(half_denominator: np.ndarray) -> np.ndarray:
    """Three Newton-Raphson steps towards 1 / half_denominator, result Q2.29 (48/17 - 32/17 d)."""
    one_q2 = 1 << 29
    x = 1515870810 + _mul(half_denominator, -1010580540)
    for _ in range(3):
        one_minus_dx = one_q2 - _mul(half_denominator, x)
        x = x + saturating_rounding_multiply_by_pot(_mul(x, one_minus_dx), 2)
    return x


def one_over_one_plus_x_for_x_in_0_1(a: ArrayLike) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1), both Q0.31."""
    x = _newton_reciprocal(rounding_half_sum(a, INT32_MAX))
    # x is 1 / (2 * half_denominator) read as Q1.30; rescaling to Q0.31 is a saturating doubling.
    return saturating_rounding_multiply_by_pot(x, 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: ArrayLike) -> np.ndarray:
    """(1 - a) / (1 + a) for a in [0, 1), both Q0.31."""
    x = _newton_reciprocal(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(x - (1 << 29), 2)


def logistic(a: ArrayLike, integer_bits: int) -> np.ndarray:
    """gemmlowp's logistic: 1 / (1 + exp(-a)) in Q0.31 for a with `integer_bits`."""
    a = _i64(a)
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), integer_bits))
    negative = INT32_MAX - positive
    return np.where(a == 0, 1 << 30, np.where(a > 0, positive, negative))


def tanh(a: ArrayLike, integer_bits: int) -> np.ndarray:
    """gemmlowp's tanh in Q0.31 for a with `integer_bits`: (1 - exp(-2|a|)) / (1 + exp(-2|a|))."""
    a = _i64(a)
    # exp(2 * -|a|): the same raw value read with one more integer bit.
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), integer_bits + 1))
    return np.where(a == 0, 0, np.where(a < 0, -t, t))


def get_reciprocal(x: np.ndarray, integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal for x > 0 with `integer_digits`: (1/x as Q0.31 mantissa, the
    number of bits its exponent sits above one)."""
    x = _i64(x)
    headroom_plus_one = 32 - np.frexp(x.astype(np.float64))[1].astype(np.int64)  # leading zeros
    num_bits_over_unit = integer_digits - headroom_plus_one
    shifted_minus_one = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), num_bits_over_unit


# -- per-op parameters as TFLite Micro's prepare functions compute them --------------------------


def channel_multipliers(input_scale: float, weight_scales: np.ndarray, output_scale: float,
                        channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel requantization of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED:
    input_scale * weight_scale / output_scale in double from the float32 scales, a per-tensor
    weight scale broadcast to every channel (PopulateConvolutionQuantizationParams)."""
    w = np.broadcast_to(np.asarray(weight_scales, dtype=np.float32).astype(np.float64), (channels,))
    real = np.float64(np.float32(input_scale)) * w / np.float64(np.float32(output_scale))
    return quantize_multipliers(real)
