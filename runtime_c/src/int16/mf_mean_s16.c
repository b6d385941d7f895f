/*
 * mf_mean_s16 - int16 mean over H and W (16x8 mode) (global average pooling) with requantization, as
 * TFLite Micro's QuantizedMeanOrSum: the sum of offset inputs is requantized once by a
 * multiplier that already holds input_scale / output_scale / (H * W); the host folds the
 * division into it (mcuforge.kernel_params.mean), so no divide runs on the device.
 */
#include "mf_s16.h"

#include <stddef.h>

mf_status mf_mean_s16(const mf_mean_params *mean_params,
                     const mf_dims *input_dims,
                     const int16_t *input,
                     int16_t *output)
{
    const mf_mean_params *p = mean_params;
    const int32_t c = input_dims->c;
    const int32_t count = input_dims->h * input_dims->w;
    if (count < 1 || !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)count * c;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_image;
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; i++) {
                sum += in[(size_t)i * c + ch] + p->input_offset;
            }
            const int32_t v = mf_requantize(sum, p->multiplier, p->shift) + p->output_offset;
            *output++ = (int16_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
        }
    }
    return MF_OK;
}
