/*
 * mf_log_softmax_s8 - int8 log-softmax over the last axis, bit-exact with TFLite Micro's int8
 * LogSoftmax: differences to the row maximum scaled into Q5.26, their exponentials summed in
 * Q12.19, the log of the sum (Q5.26) subtracted and cut to 1/16 steps around zero point 127.
 */
#include "mf_fixed_point.h"

#include <stddef.h>

mf_status mf_log_softmax_s8(const mf_log_softmax_params *log_softmax_params,
                            int32_t rows,
                            int32_t depth,
                            const int8_t *input,
                            int8_t *output)
{
    const mf_log_softmax_params *p = log_softmax_params;
    if (rows < 0 || depth < 1 || depth > 4096 || p->input_left_shift < 0 ||
        p->input_left_shift > 31 || p->reverse_shift > 0 || p->diff_min > 0) {
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
                const int32_t scaled =
                    mf_requantize(diff, p->input_multiplier, p->input_left_shift);
                sum += mf_rounding_divide_by_pot(mf_exp_on_negative_values_q5(scaled), 12);
            }
        }
        const int32_t log_sum = mf_log_q12_to_q5(sum);
        const int32_t adjusted_min = mf_max_i32(
            p->diff_min - 1,
            mf_requantize(log_sum + INT32_MIN, p->reverse_multiplier, p->reverse_shift));
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = x[c] - max;
            if (diff > adjusted_min) {
                const int32_t scaled =
                    mf_requantize(diff, p->input_multiplier, p->input_left_shift);
                const int32_t v = mf_rounding_divide_by_pot(scaled - log_sum, 31 - 5 - 4) + 127;
                y[c] = (int8_t)mf_clamp_i32(v, MF_INT8_MIN, MF_INT8_MAX);
            } else {
                y[c] = MF_INT8_MIN;
            }
        }
    }
    return MF_OK;
}
