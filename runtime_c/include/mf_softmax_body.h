/*
 * mf_softmax_body.h - TFLite Micro's softmax of an int8 input, the body of mf_softmax_s8 (int8
 * out, scale 1/256, zero point -128) and mf_softmax_s8_s16 (int16 out, scale 1/65536, zero point
 * -32768, as TFLite Micro writes it for that pair of types). Internal; not part of the public
 * API. Included once by each kernel file after defining:
 *   MF_SM_NAME      the function's name
 *   MF_SM_OUT_T     the output type (int8_t, int16_t)
 *   MF_SM_OUT_BITS  its bits (8, 16); MF_SM_OUT_MIN, MF_SM_OUT_MAX its range
 *
 * Per row: the differences to the row maximum are scaled into Q5.26, exponentiated in Q0.31
 * (gemmlowp's exp on negative values), summed in Q12.19; the sum is normalized to [1, 2) and
 * its reciprocal found by Newton-Raphson. An output is exp * reciprocal shifted down to the
 * output's bits, plus the output type's minimum (its zero point), clamped. Differences below
 * diff_min give the minimum. Qm.n = m integer bits, n fraction bits.
 */
#ifndef MF_SOFTMAX_BODY_H
#define MF_SOFTMAX_BODY_H

#include "mf_fixed_point.h"

#include <stddef.h>

#define MF_SOFTMAX_ACCUM_BITS 12 /* integer bits of the sum of exponentials (Q12.19) */

/* What a row's outputs need: its maximum, the reciprocal of its sum of exponentials (Q0.31),
 * and the sum's bits above one. */
typedef struct {
    int32_t max;
    int32_t reciprocal;
    int32_t bits_over_unit;
} mf_softmax_row;

/* exp(beta * scale * diff) in Q0.31 for diff = x - max >= diff_min. */
static inline int32_t mf_softmax_exp(const mf_softmax_params *p, int32_t diff)
{
    return mf_exp_on_negative_values_q5(mf_sat_rounding_doubling_high_mul(
        mf_shift_left(diff, p->input_left_shift), p->input_multiplier));
}

static inline mf_softmax_row mf_softmax_row_begin(const mf_softmax_params *p,
                                                  const int8_t *x,
                                                  int32_t depth)
{
    mf_softmax_row row;
    row.max = MF_INT8_MIN;
    for (int32_t c = 0; c < depth; c++) {
        row.max = mf_max_i32(row.max, x[c]);
    }
    int32_t sum = 0; /* Q12.19 */
    for (int32_t c = 0; c < depth; c++) {
        const int32_t diff = x[c] - row.max;
        if (diff >= p->diff_min) {
            sum += mf_rounding_divide_by_pot(mf_softmax_exp(p, diff), MF_SOFTMAX_ACCUM_BITS);
        }
    }
    const int32_t headroom_plus_one = mf_clz_u32((uint32_t)sum);
    row.bits_over_unit = MF_SOFTMAX_ACCUM_BITS - headroom_plus_one;
    row.reciprocal = mf_one_over_one_plus_x_q31(
        (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31)));
    return row;
}

/* The output of value x in a type of out_bits bits (8 or 16) whose range is [out_min, out_max]. */
static inline int32_t mf_softmax_output(const mf_softmax_params *p,
                                        const mf_softmax_row *row,
                                        int32_t x,
                                        int32_t out_bits,
                                        int32_t out_min,
                                        int32_t out_max)
{
    const int32_t diff = x - row->max;
    if (diff < p->diff_min) {
        return out_min;
    }
    const int32_t scaled = mf_sat_rounding_doubling_high_mul(row->reciprocal, mf_softmax_exp(p, diff));
    const int32_t v = mf_rounding_divide_by_pot(scaled, row->bits_over_unit + 31 - out_bits) + out_min;
    return mf_clamp_i32(v, out_min, out_max);
}

#endif /* MF_SOFTMAX_BODY_H */

mf_status MF_SM_NAME(const mf_softmax_params *softmax_params,
                     int32_t rows,
                     int32_t depth,
                     const int8_t *input,
                     MF_SM_OUT_T *output)
{
    const mf_softmax_params *p = softmax_params;
    if (rows < 0 || depth < 1 || p->input_left_shift < 0 || p->input_left_shift > 31 ||
        p->diff_min > 0) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        MF_SM_OUT_T *y = output + (size_t)r * depth;
        const mf_softmax_row row = mf_softmax_row_begin(p, x, depth);
        for (int32_t c = 0; c < depth; c++) {
            y[c] = (MF_SM_OUT_T)mf_softmax_output(p, &row, x[c], MF_SM_OUT_BITS, MF_SM_OUT_MIN,
                                                  MF_SM_OUT_MAX);
        }
    }
    return MF_OK;
}
