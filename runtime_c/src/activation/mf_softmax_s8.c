/*
 * mf_softmax_s8 - int8 softmax over the last axis, bit-exact with TFLite Micro: gemmlowp's
 * fixed-point exp and reciprocal per row (mf_softmax_rows.h), output at scale 1/256, zero
 * point -128.
 */
#include "mf_softmax_rows.h"

mf_status mf_softmax_s8(const mf_softmax_params *softmax_params,
                        int32_t rows,
                        int32_t depth,
                        const int8_t *input,
                        int8_t *output)
{
    const mf_softmax_params *p = softmax_params;
    if (!mf_softmax_params_valid(p, rows, depth)) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        int8_t *y = output + (size_t)r * depth;
        const mf_softmax_row row = mf_softmax_row_begin(p, x, depth);
        for (int32_t c = 0; c < depth; c++) {
            y[c] = (int8_t)mf_softmax_output(p, &row, x[c], 8, MF_INT8_MIN, MF_INT8_MAX);
        }
    }
    return MF_OK;
}
