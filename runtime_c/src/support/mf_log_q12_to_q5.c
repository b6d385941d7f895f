/*
 * mf_log_q12_to_q5 - log of a Q12.19 value >= 1 in Q5.26 (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

static int32_t mf_sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return (int32_t)(s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s));
}

int32_t mf_log_q12_to_q5(int32_t z_a)
{
    const int32_t in_bits = 12;
    const int32_t accum_bits = 6; /* output integer bits (5) + 1 of headroom */
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769;
    const int32_t alpha_f = 638450708;
    const int32_t shifted_quarter = mf_rounding_divide_by_pot(536870912, accum_bits);
    /* Two normalizations of x = 2^k r, r in [1/sqrt2, 1): keep the smaller r. */
    const int32_t h_a = mf_clz_u32((uint32_t)z_a);
    const int32_t r_a = mf_sat_rounding_mul_by_pot(
        mf_sat_rounding_doubling_high_mul(mf_sat_rounding_mul_by_pot(z_a, h_a - 1), sqrt_half), 1);
    const int32_t a_adj =
        mf_sat_add(mf_sat_rounding_mul_by_pot(in_bits - h_a, 31 - accum_bits), shifted_quarter);
    const int32_t z_b = mf_sat_rounding_doubling_high_mul(z_a, sqrt_half);
    const int32_t h_b = mf_clz_u32((uint32_t)z_b) - 1;
    const int32_t r_b = mf_sat_rounding_mul_by_pot(z_a, h_b);
    const int32_t b_adj =
        mf_sat_add(mf_sat_rounding_mul_by_pot(in_bits - h_b, 31 - accum_bits), -shifted_quarter);
    const int32_t r = mf_min_i32(r_a, r_b);
    const int32_t pow2_adj = mf_max_i32(a_adj, b_adj);
    /* log(r) by a rational approximation around sqrt(sqrt(1/2)). */
    const int64_t half_sum = (int64_t)r + sqrt_sqrt_half;
    const int32_t p = (int32_t)((half_sum + (half_sum >= 0 ? 1 : -1)) / 2);
    const int32_t q = 2 * (r - sqrt_sqrt_half);
    const int32_t common_sq = mf_sat_rounding_doubling_high_mul(q, q);
    const int32_t num = mf_sat_rounding_doubling_high_mul(q, r) +
                        mf_sat_rounding_doubling_high_mul(
                            mf_sat_rounding_doubling_high_mul(q, common_sq), alpha_n);
    const int32_t denom_minus_one =
        mf_sat_rounding_doubling_high_mul(
            p, alpha_i + q + mf_sat_rounding_doubling_high_mul(alpha_d, common_sq)) +
        mf_sat_rounding_doubling_high_mul(alpha_f, q);
    const int32_t recip = mf_one_over_one_plus_x_q31(denom_minus_one);
    const int32_t num_scaled = mf_rounding_divide_by_pot(num, accum_bits);
    const int32_t total = mf_sat_rounding_doubling_high_mul(pow2_adj, log_2) +
                          mf_sat_rounding_doubling_high_mul(num_scaled, recip);
    return mf_sat_rounding_mul_by_pot(total, accum_bits - 5);
}
