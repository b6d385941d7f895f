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

int32_t mf_sat_rounding_mul_by_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        return mf_sat_left_shift(x, exponent);
    }
    return exponent < 0 ? mf_rounding_divide_by_pot_wide(x, -exponent) : x;
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: a 4th-order Taylor expansion around -1/8. */
static int32_t mf_exp_on_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                 /* a + 1/8 */
    const int32_t x2 = mf_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = mf_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = mf_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = mf_rounding_divide_by_pot(x4, 2);
    const int32_t poly = mf_rounding_divide_by_pot(
        mf_sat_rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + mf_sat_rounding_doubling_high_mul(exp_minus_one_eighth, x + poly);
}

int32_t mf_exp_on_negative_values_q5(int32_t a)
{
    const int32_t integer_bits = 5;
    const int32_t frac_bits = 31 - integer_bits;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = mf_exp_on_interval(mf_sat_left_shift(a_mod_quarter_minus_quarter, integer_bits));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t exp_neg_pot[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int32_t k = 0; k < 7; k++) {
        if ((remainder & (1 << (frac_bits - 2 + k))) != 0) {
            result = mf_sat_rounding_doubling_high_mul(result, exp_neg_pot[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

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
