/*
 * mf_softmax_s8 - int8 softmax over the last axis, bit-exact with TFLite Micro.
 *
 * Per row: differences to the row maximum are scaled into Q5.26, exponentiated in Q0.31
 * with gemmlowp's exp-on-negative-values, summed in Q12.19, and the sum's reciprocal is
 * found by Newton-Raphson; each output is exp * reciprocal shifted to 8 bits.
 * The fixed-point pieces below are our own rendering of that published algorithm; the names
 * of the Q formats say where the binary point sits (Qm.n = m integer bits, n fraction bits).
 */
#include "mf_internal.h"

#include <stddef.h>

#define MF_SOFTMAX_DIFF_BITS 5  /* integer bits of the scaled difference (Q5.26) */
#define MF_SOFTMAX_ACCUM_BITS 12 /* integer bits of the sum of exponentials (Q12.19) */

/* Q0.31 product, the fixed-point "*" of gemmlowp. */
static inline int32_t mf_q_mul(int32_t a, int32_t b)
{
    return mf_sat_rounding_doubling_high_mul(a, b);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: a 4th-order Taylor expansion around -1/8. */
static int32_t mf_exp_on_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                 /* a + 1/8 */
    const int32_t x2 = mf_q_mul(x, x);
    const int32_t x3 = mf_q_mul(x2, x);
    const int32_t x4 = mf_q_mul(x2, x2);
    const int32_t x4_over_4 = mf_rounding_divide_by_pot(x4, 2);
    const int32_t poly = mf_rounding_divide_by_pot(mf_q_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + mf_q_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0: a in Q5.26, result in Q0.31. The fractional quarter goes through the
 * polynomial; each set bit of the remaining multiple of 1/4 multiplies by a constant
 * exp(-2^k). */
static int32_t mf_exp_on_negative_values(int32_t a)
{
    const int32_t frac_bits = 31 - MF_SOFTMAX_DIFF_BITS;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = (a & mask) - one_quarter;
    int32_t result =
        mf_exp_on_interval(mf_sat_left_shift(a_mod_quarter_minus_quarter, MF_SOFTMAX_DIFF_BITS));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    /* exp(-2^k) in Q0.31 for k = -2 .. 4; bits at or above 2^5 cannot occur in Q5.26. */
    static const int32_t exp_neg_pot[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int32_t k = 0; k < 7; k++) {
        const int32_t bit = 1 << (frac_bits - 2 + k);
        if ((remainder & bit) != 0) {
            result = mf_q_mul(result, exp_neg_pot[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out, by three Newton-Raphson steps in Q2.29. */
static int32_t mf_one_over_one_plus_x(int32_t x)
{
    /* (x + 1) / 2 rounded, computed in 64 bits: gemmlowp's RoundingHalfSum with One = MAX. */
    const int64_t sum = (int64_t)x + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_over_17 = 1515870810;      /* 48/17 in Q2.29 */
    const int32_t cneg32_over_17 = -1010580540; /* -32/17 in Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t r = c48_over_17 + mf_q_mul(half_denominator, cneg32_over_17);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t hd_times_r = mf_q_mul(half_denominator, r);
        const int32_t one_minus = one_q2 - hd_times_r;
        r = r + mf_sat_left_shift(mf_q_mul(r, one_minus), 2);
    }
    return mf_sat_left_shift(r, 1);
}

static int32_t mf_count_leading_zeros(uint32_t x)
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

mf_status mf_softmax_s8(const mf_softmax_params *softmax_params,
                        int32_t rows,
                        int32_t depth,
                        const int8_t *input,
                        int8_t *output)
{
    const mf_softmax_params *p = softmax_params;
    if (rows < 0 || depth < 1 || p->input_left_shift < 0 || p->input_left_shift > 31 ||
        p->diff_min > 0) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        int8_t *y = output + (size_t)r * depth;
        int32_t max = MF_INT8_MIN;
        for (int32_t c = 0; c < depth; c++) {
            max = mf_max_i32(max, x[c]);
        }
        int32_t sum = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                const int32_t scaled = mf_sat_rounding_doubling_high_mul(
                    mf_shift_left(diff, p->input_left_shift), p->input_multiplier);
                sum += mf_rounding_divide_by_pot(mf_exp_on_negative_values(scaled),
                                                 MF_SOFTMAX_ACCUM_BITS);
            }
        }
        /* Normalize the sum to [1, 2) and take 1 / sum there; the shift comes back below. */
        const int32_t headroom_plus_one = mf_count_leading_zeros((uint32_t)sum);
        const int32_t bits_over_unit = MF_SOFTMAX_ACCUM_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t reciprocal = mf_one_over_one_plus_x(shifted_sum_minus_one);
        const int32_t out_shift = bits_over_unit + 31 - 8;

        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                const int32_t scaled = mf_sat_rounding_doubling_high_mul(
                    mf_shift_left(diff, p->input_left_shift), p->input_multiplier);
                const int32_t e = mf_exp_on_negative_values(scaled);
                const int32_t v =
                    mf_rounding_divide_by_pot(mf_q_mul(reciprocal, e), out_shift) + MF_INT8_MIN;
                y[c] = (int8_t)mf_clamp_i32(v, MF_INT8_MIN, MF_INT8_MAX);
            } else {
                y[c] = MF_INT8_MIN;
            }
        }
    }
    return MF_OK;
}
