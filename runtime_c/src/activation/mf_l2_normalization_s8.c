/*
 * mf_l2_normalization_s8 - int8 L2 normalization over the last axis, bit-exact with TFLite
 * Micro's int8 L2Normalization: per row, the sum of squared centred inputs gives an inverse
 * square root multiplier (mf_inv_sqrt_multiplier); each centred input times it, with 7 more
 * bits of left shift, is the output at scale 1/128, zero point 0.
 */
#include "mf_fixed_point.h"

#include <stddef.h>

mf_status mf_l2_normalization_s8(const mf_l2_norm_params *l2_params,
                                 int32_t rows,
                                 int32_t depth,
                                 const int8_t *input,
                                 int8_t *output)
{
    const int32_t offset = l2_params->input_offset;
    if (rows < 0 || depth < 1 || depth > 32768) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        int8_t *y = output + (size_t)r * depth;
        int32_t acc = 0;
        for (int32_t c = 0; c < depth; c++) {
            const int32_t v = x[c] + offset;
            acc += v * v;
        }
        int32_t multiplier;
        int32_t shift;
        mf_inv_sqrt_multiplier(acc, &multiplier, &shift);
        for (int32_t c = 0; c < depth; c++) {
            const int32_t v = mf_requantize(x[c] + offset, multiplier, shift + 7);
            y[c] = (int8_t)mf_clamp_i32(v, MF_INT8_MIN, MF_INT8_MAX);
        }
    }
    return MF_OK;
}
