/*
 * mf_one_over_one_plus_x_q31 - 1 / (1 + x) in Q0.31 by Newton-Raphson (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

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
