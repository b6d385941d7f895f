"""Properties of the fixed-point arithmetic in mcuforge.reference.qmath.

Bit-exactness with TFLite Micro is tested in test_reference_int.py; here each primitive is checked
against exact integer or float64 arithmetic, with the error bound TFLite's rounding allows.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mcuforge.reference import qmath

INT32 = st.integers(qmath.INT32_MIN, qmath.INT32_MAX)


def round_half_away(num: int, den: int) -> int:
    """num / den rounded to nearest, ties away from zero, in exact integers (den > 0)."""
    q, r = divmod(abs(num), den)
    q += 2 * r >= den
    return q if num >= 0 else -q


# -- QuantizeMultiplier ---------------------------------------------------------------------------


def test_quantize_multiplier_edge_cases() -> None:
    assert qmath.quantize_multiplier(0.0) == (0, 0)
    assert qmath.quantize_multiplier(1.0) == (1 << 30, 1)
    assert qmath.quantize_multiplier(0.5) == (1 << 30, 0)
    assert qmath.quantize_multiplier(0.75) == (3 << 29, 0)
    # A mantissa that rounds up to 2**31 is halved and the exponent raised.
    assert qmath.quantize_multiplier(1.0 - 2.0**-34) == (1 << 30, 1)
    # Multipliers below 2**-32 flush to zero rather than shifting right by more than 31.
    assert qmath.quantize_multiplier(2.0**-32) == (1 << 30, -31)
    assert qmath.quantize_multiplier(2.0**-33) == (0, 0)


@given(st.floats(2.0**-31, 2.0**20))
def test_quantize_multiplier_is_a_31_bit_mantissa(real: float) -> None:
    m, shift = qmath.quantize_multiplier(real)
    assert 1 << 30 <= m < 1 << 31
    assert abs(m * 2.0 ** (shift - 31) - real) <= real * 2.0**-31


def test_quantize_multipliers_matches_the_scalar_form() -> None:
    reals = np.exp(np.random.default_rng(0).uniform(-20, 10, 1000))
    ms, shifts = qmath.quantize_multipliers(reals)
    assert [qmath.quantize_multiplier(r) for r in reals] == list(zip(ms.tolist(), shifts.tolist()))


# -- the integer primitives -----------------------------------------------------------------------


def gemmlowp_doubling_high(a: int, b: int, bits: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul without saturation: (a*b + nudge) / 2**(bits-1)
    truncated toward zero, nudge 2**(bits-2) for a*b >= 0 and 1 - 2**(bits-2) below. A negative
    exact half therefore rounds toward zero (a*b = -2**30 gives 0, not -1)."""
    ab = a * b
    n = ab + (1 << (bits - 2) if ab >= 0 else 1 - (1 << (bits - 2)))
    q = abs(n) >> (bits - 1)  # exact integer division, truncated toward zero below
    return q if n >= 0 else -q


@given(INT32, INT32)
def test_saturating_rounding_doubling_high_mul(a: int, b: int) -> None:
    got = int(qmath.saturating_rounding_doubling_high_mul(a, b))
    want = qmath.INT32_MAX if a == b == qmath.INT32_MIN else gemmlowp_doubling_high(a, b, 32)
    assert got == want


def test_doubling_high_mul_rounds_a_negative_half_toward_zero() -> None:
    # Found by hypothesis: gemmlowp's nudge makes -0.5 round to 0 (TFLite's reference does the same).
    assert int(qmath.saturating_rounding_doubling_high_mul(-2, 1 << 29)) == 0
    assert int(qmath.saturating_rounding_doubling_high_mul(2, 1 << 29)) == 1


@given(st.integers(-(1 << 15), (1 << 15) - 1), st.integers(-(1 << 15), (1 << 15) - 1))
def test_doubling_high_muls_in_16_bits(a: int, b: int) -> None:
    rounded = int(qmath.saturating_rounding_doubling_high_mul(a, b, bits=16))
    truncated = int(qmath.saturating_doubling_high_mul(a, b, bits=16))
    if a == b == -(1 << 15):
        assert rounded == truncated == (1 << 15) - 1
    else:
        assert rounded == gemmlowp_doubling_high(a, b, 16)
        assert truncated == int(a * b / (1 << 15))  # C division truncates toward zero


@given(INT32, st.integers(0, 31))
def test_rounding_divide_by_pot_rounds_half_away_from_zero(x: int, exponent: int) -> None:
    assert int(qmath.rounding_divide_by_pot(x, exponent)) == round_half_away(x, 1 << exponent)


@given(INT32, st.integers(-31, 31))
def test_saturating_rounding_multiply_by_pot(x: int, exponent: int) -> None:
    got = int(qmath.saturating_rounding_multiply_by_pot(x, exponent))
    if exponent <= 0:
        assert got == round_half_away(x, 1 << -exponent)
    else:
        assert got == min(max(x << exponent, qmath.INT32_MIN), qmath.INT32_MAX)


# -- MultiplyByQuantizedMultiplier over many scales -----------------------------------------------


def random_operands(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-uniform scales in [1e-7, 1e3) and, per scale, an int32 operand whose scaled value and
    left-shifted value (for scales >= 1) both stay inside int32, as TFLite assumes."""
    rng = np.random.default_rng(seed)
    reals = np.exp(rng.uniform(math.log(1e-7), math.log(1e3), count))
    limit = np.minimum(2.0**31 / np.maximum(reals, 1.0) / 2, 2.0**31 - 1) - 1
    xs = np.rint(rng.uniform(-1.0, 1.0, count) * limit * rng.uniform(0, 1, count) ** 4).astype(np.int64)
    return reals, xs


def test_multiply_by_quantized_multiplier_is_within_tflite_rounding_of_x_times_scale() -> None:
    """For 20,000 random scales: |MBQM(x) - x * scale| <= 1/2 (the final rounding) + 2**(shift-1)
    for shift <= 0 (the rounding of the high multiply, seen through the right shift) + |x| *
    scale * 2**-31 (the 31-bit multiplier). So the result is round(x * scale) or next to it."""
    reals, xs = random_operands(20_000, seed=1)
    ms, shifts = qmath.quantize_multipliers(reals)
    got = qmath.multiply_by_quantized_multiplier(xs, ms, shifts)
    exact = xs * reals
    bound = 0.5 + np.where(shifts <= 0, 2.0 ** (shifts - 1.0), 0.0) + np.abs(exact) * 2.0**-31 + 1e-6
    assert np.all(np.abs(got - exact) <= bound)
    assert np.all(np.abs(got - np.rint(exact)) <= 1)


def test_multiply_by_quantized_multiplier_rounds_once_when_shifting_left() -> None:
    reals, xs = random_operands(20_000, seed=2)
    ms, shifts = qmath.quantize_multipliers(reals)
    left = shifts > 0
    got = qmath.multiply_by_quantized_multiplier(xs[left], ms[left], shifts[left])
    want = [round_half_away((x << s) * m, 1 << 31) for x, m, s in zip(
        xs[left].tolist(), ms[left].tolist(), shifts[left].tolist(), strict=True)]
    assert got.tolist() == want


@settings(max_examples=300)
@given(st.floats(1e-6, 1e2), st.integers(-(1 << 20), 1 << 20))
def test_multiply_by_quantized_multiplier_property(real: float, x: int) -> None:
    m, shift = qmath.quantize_multiplier(real)
    # Stay inside the ranges TFLite's callers guarantee.
    assume(abs(x << max(shift, 0)) < 1 << 31 and abs(x * real) < 2**31 - 2)
    got = int(qmath.multiply_by_quantized_multiplier(x, m, shift))
    bound = 0.5 + (2.0 ** (shift - 1) if shift <= 0 else 0.0) + abs(x * real) * 2.0**-31 + 1e-6
    assert abs(got - x * real) <= bound


def test_per_channel_requantization_is_within_one_lsb_of_float64() -> None:
    rng = np.random.default_rng(3)
    channels = 37
    x_scale = float(np.float32(rng.uniform(1e-3, 0.1)))
    w_scales = rng.uniform(1e-4, 2e-2, channels).astype(np.float32)
    out_scale = float(np.float32(rng.uniform(1e-3, 0.5)))
    acc = rng.integers(-(1 << 22), 1 << 22, (2000, channels))
    m, shift = qmath.channel_multipliers(x_scale, w_scales, out_scale, channels)
    got = qmath.requantize(acc, m, shift, 0, qmath.INT32_MIN, qmath.INT32_MAX)
    want = np.rint(acc * (x_scale * w_scales.astype(np.float64) / out_scale))
    assert np.abs(got - want).max() <= 1


def test_per_tensor_weight_scale_broadcasts_to_every_channel() -> None:
    m, shift = qmath.channel_multipliers(0.02, np.array([0.003], np.float32), 0.1, 5)
    assert m.shape == shift.shape == (5,) and len(set(m.tolist())) == 1


# -- gemmlowp fixed point against the real functions ----------------------------------------------


def to_raw(v: np.ndarray, integer_bits: int) -> np.ndarray:
    return np.rint(v * 2.0 ** (31 - integer_bits)).astype(np.int64)


def from_raw(raw: np.ndarray, integer_bits: int) -> np.ndarray:
    return raw / 2.0 ** (31 - integer_bits)


def test_exp_on_negative_values_approximates_exp() -> None:
    for integer_bits in (4, 5, 6):
        v = -np.linspace(0.0, 2.0**integer_bits - 1, 5001)
        got = from_raw(qmath.exp_on_negative_values(to_raw(v, integer_bits), integer_bits), 0)
        np.testing.assert_allclose(got, np.exp(v), atol=2e-7)


def test_logistic_and_tanh_approximate_the_real_functions() -> None:
    v = np.linspace(-15.0, 15.0, 6001)
    raw = to_raw(v, 4)
    np.testing.assert_allclose(from_raw(qmath.logistic(raw, 4), 0), 1 / (1 + np.exp(-v)), atol=1e-6)
    np.testing.assert_allclose(from_raw(qmath.tanh(raw, 4), 0), np.tanh(v), atol=1e-6)
    assert int(qmath.logistic(0, 4)) == 1 << 30 and int(qmath.tanh(0, 4)) == 0


def test_reciprocals() -> None:
    a = np.linspace(0.0, 0.999, 1000)
    got = from_raw(qmath.one_over_one_plus_x_for_x_in_0_1(to_raw(a, 0)), 0)
    np.testing.assert_allclose(got, 1 / (1 + a), atol=1e-8)
    got = from_raw(qmath.one_minus_x_over_one_plus_x_for_x_in_0_1(to_raw(a, 0)), 0)
    np.testing.assert_allclose(got, (1 - a) / (1 + a), atol=1e-8)
    sums = np.array([1 << 19, 3 << 19, 123456789, (1 << 31) - 1])  # Q12.19 sums of exponentials
    mantissa, bits_over_unit = qmath.get_reciprocal(sums, 12)
    np.testing.assert_allclose(from_raw(mantissa, 0) / 2.0**bits_over_unit, 2.0**19 / sums, rtol=1e-8)


def test_calculate_input_radius() -> None:
    # Q4.27 after a left shift of 20: the largest input is 15 * 2**27 / 2**20 = 1920.
    assert qmath.calculate_input_radius(4, 20) == 1920
    assert qmath.calculate_input_radius(5, 26) == 31
