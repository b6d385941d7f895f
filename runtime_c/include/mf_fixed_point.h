/*
 * mf_fixed_point.h - gemmlowp-style fixed-point helpers shared by the division and
 * normalization kernels (DIV, L2 normalization). Internal; not part of the public API.
 * Qm.n = m integer bits, n fraction bits, in an int32.
 */
#ifndef MF_FIXED_POINT_H
#define MF_FIXED_POINT_H

#include "mf_internal.h"

/* Leading zero bits of x (32 for 0). */
int32_t mf_clz_u32(uint32_t x);

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out (three Newton-Raphson steps in Q2.29). */
int32_t mf_one_over_one_plus_x_q31(int32_t x);

/* 1 / sqrt(acc) for acc >= 0 as a Q0.31 multiplier and a shift (<= 0, right shift), as
 * TFLite's GetInvSqrtQuantizedMultiplierExp; acc <= 1 gives (INT32_MAX, 0). */
void mf_inv_sqrt_multiplier(int32_t acc, int32_t *multiplier, int32_t *shift);

/* x / 2^exponent rounded half away from zero, for any exponent >= 0. */
int32_t mf_rounding_divide_by_pot_wide(int32_t x, int32_t exponent);

/* x * 2^exponent for either sign of exponent: saturating left shift, or rounding right shift. */
int32_t mf_sat_rounding_mul_by_pot(int32_t x, int32_t exponent);

/* exp(a) for a <= 0 in Q5.26, result Q0.31 (gemmlowp's exp_on_negative_values). */
int32_t mf_exp_on_negative_values_q5(int32_t a);

/* log(x) for x >= 1 in Q12.19, result Q5.26 (TFLite's log_x_for_x_greater_than_or_equal_to_1). */
int32_t mf_log_q12_to_q5(int32_t x);

#endif /* MF_FIXED_POINT_H */
