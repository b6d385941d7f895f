/*
 * mf_inv_sqrt_multiplier - 1 / sqrt(acc) as a Q0.31 multiplier and shift (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

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
