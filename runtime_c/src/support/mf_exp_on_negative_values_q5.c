/*
 * mf_exp_on_negative_values_q5 - exp of a non-positive Q5.26 value in Q0.31 (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

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
