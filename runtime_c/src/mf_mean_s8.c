/*
 * mf_mean_s8 - int8 mean over H and W (global average pooling) with requantization, as
 * TFLite Micro's integer Mean: requantize the offset sum first, then divide by the cell
 * count rounding half away from zero, so the multiplier never has to carry 1 / count.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_mean_s8(const mf_mean_params *mean_params,
                     const mf_dims *input_dims,
                     const int8_t *input,
                     int8_t *output)
{
    const mf_mean_params *p = mean_params;
    const int32_t c = input_dims->c;
    const int32_t count = input_dims->h * input_dims->w;
    if (count < 1 || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)count * c;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; i++) {
                sum += in[(size_t)i * c + ch] + p->input_offset;
            }
            int32_t v = mf_requantize(sum, p->multiplier, p->shift);
            v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
            v += p->output_offset;
            *output++ = (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
        }
    }
    return MF_OK;
}
