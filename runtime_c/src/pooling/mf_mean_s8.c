/*
 * mf_mean_s8 - int8 mean over H and W (global average pooling) with requantization, as
 * TFLite Micro's QuantizedMeanOrSum: the sum of offset inputs is requantized once by a
 * multiplier that already holds input_scale / output_scale / (H * W); the host folds the
 * division into it (mcuforge.kernel_params.mean), so no divide runs on the device. MVE path:
 * the sums of four channels per vector and their requantization (mf_mve_nn.h) in lanes.
 */
#include "mf_internal.h"
#if MF_USE_MVE
#include "mf_mve_nn.h"
#endif

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
#if MF_USE_MVE
        for (int32_t ch = 0; ch < c; ch += 4) {
            const mve_pred16_t m = vctp32q((uint32_t)(c - ch));
            int32x4_t acc = vdupq_n_s32(0);
            const int8_t *x = in + ch;
            for (int32_t i = 0; i < count; i++) {
                acc = vaddq_s32(acc, vldrbq_z_s32(x, m));
                x += c;
            }
            /* sum of (x + offset) = sum of x + count * offset (modulo 2^32 either way) */
            acc = vaddq_n_s32(acc, (int32_t)((uint32_t)count * (uint32_t)p->input_offset));
            const int32x4_t v = mf_mve_offset_clamp(mf_mve_requantize_n(acc, p->multiplier, p->shift),
                                                    p->output_offset, p->activation.min,
                                                    p->activation.max);
            vstrbq_p_s32(output + ch, v, m);
        }
        output += c;
        continue;
#endif
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; i++) {
                sum += in[(size_t)i * c + ch] + p->input_offset;
            }
            const int32_t v = mf_requantize(sum, p->multiplier, p->shift) + p->output_offset;
            *output++ = (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
        }
    }
    return MF_OK;
}
