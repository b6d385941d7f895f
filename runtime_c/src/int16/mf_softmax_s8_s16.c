/*
 * mf_softmax_s8_s16 - softmax over the last axis of an int8 input with an int16 output at
 * scale 1/65536, zero point -32768, as TFLite Micro's softmax computes it for that pair of
 * types (its reference Softmax templated on the output type; TFLite Micro's keyword model ends
 * in one): the int8 algorithm (mf_softmax_rows.h) with the result shifted to 16 bits.
 */
#include "mf_s16.h"
#include "mf_softmax_rows.h"

mf_status mf_softmax_s8_s16(const mf_softmax_params *softmax_params,
                            int32_t rows,
                            int32_t depth,
                            const int8_t *input,
                            int16_t *output)
{
    const mf_softmax_params *p = softmax_params;
    if (!mf_softmax_params_valid(p, rows, depth)) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        int16_t *y = output + (size_t)r * depth;
        const mf_softmax_row row = mf_softmax_row_begin(p, x, depth);
        for (int32_t c = 0; c < depth; c++) {
            y[c] = (int16_t)mf_softmax_output(p, &row, x[c], 16, MF_INT16_MIN, MF_INT16_MAX);
        }
    }
    return MF_OK;
}
