/*
 * mf_fixed_point.c - fixed-point reciprocal and inverse square root (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithms.
 */
#include "mf_fixed_point.h"

int32_t mf_clz_u32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

int32_t mf_one_over_one_plus_x_q31(int32_t x)
{
    /* (x + 1) / 2 rounded, computed in 64 bits: gemmlowp's RoundingHalfSum with One = MAX. */
    const int64_t sum = (int64_t)x + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_over_17 = 1515870810;     /* 48/17 in Q2.29 */
    const int32_t cneg32_over_17 = -1010580540; /* -32/17 in Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t r = c48_over_17 + mf_sat_rounding_doubling_high_mul(half_denominator, cneg32_over_17);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t one_minus = one_q2 - mf_sat_rounding_doubling_high_mul(half_denominator, r);
        r = r + mf_sat_left_shift(mf_sat_rounding_doubling_high_mul(r, one_minus), 2);
    }
    return mf_sat_left_shift(r, 1);
}

int32_t mf_rounding_divide_by_pot_wide(int32_t x, int32_t exponent)
{
    if (exponent > 62) {
        return 0;
    }
    const int64_t mask = ((int64_t)1 << exponent) - 1;
    const int64_t remainder = (int64_t)x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

void mf_inv_sqrt_multiplier(int32_t acc, int32_t *multiplier, int32_t *shift)
{
    if (acc <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    int32_t s = 11;
    while (acc >= (1 << 29)) {
        acc /= 4;
        s++;
    }
    const int32_t pairs = (mf_clz_u32((uint32_t)acc) - 1) / 2 - 1;
    s -= pairs;
    acc <<= 2 * pairs;
    /* Newton-Raphson on 1/sqrt in Q3.28 from x = 1: x <- 3/2 x - (acc/2) x^3. */
    const int32_t half_input = mf_rounding_divide_by_pot(acc >> 1, 1);
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t x = 1 << 28;
    for (int32_t i = 0; i < 5; i++) {
        const int32_t x2 = mf_sat_rounding_doubling_high_mul(x, x);
        const int32_t x3 = mf_sat_left_shift(mf_sat_rounding_doubling_high_mul(x2, x), 6);
        const int32_t t = mf_sat_rounding_doubling_high_mul(half_three, x) -
                          mf_sat_rounding_doubling_high_mul(half_input, x3);
        x = mf_sat_left_shift(t, 3);
    }
    x = mf_sat_rounding_doubling_high_mul(x, 1518500250); /* times sqrt(2)/2 in Q0.31 */
    if (s < 0) {
        x = (int32_t)((uint32_t)x << -s);
        s = 0;
    }
    *multiplier = x;
    *shift = -s;
}
