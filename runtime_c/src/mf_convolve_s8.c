/*
 * mf_convolve_s8 - general int8 2-D convolution (NHWC x OHWI), per-channel requantization.
 *
 * Portable path: for each output pixel, gather the receptive field once into an int16
 * im2col patch with the input offset already added (padded cells become 0, which is what
 * TFLite's "skip cells outside the image" amounts to), then take one dot product per output
 * channel. The int16 patch is what a DSP path (two 16-bit MACs per SMLAD) wants too.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_convolve_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * input_dims->c * (int32_t)sizeof(int16_t);
}

/* Dot product of an int16 patch with one int8 filter row. The portable loop is what every
 * target can run; a DSP path (SXTB16 + SMLAD, two MACs per instruction) or an MVE path goes
 * here behind MF_USE_DSP / MF_USE_MVE and must give the same sum. */
static inline int32_t mf_dot_s16_s8(const int16_t *patch,
                                    const int8_t *w,
                                    int32_t len,
                                    int32_t acc)
{
    for (int32_t i = 0; i < len; i++) {
        acc += (int32_t)patch[i] * w[i];
    }
    return acc;
}

mf_status mf_convolve_s8(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const int8_t *filter,
                         const int32_t *bias,
                         const mf_dims *output_dims,
                         int8_t *output)
{
    const mf_conv_params *p = conv_params;
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t needed = mf_convolve_s8_get_buffer_size(input_dims, filter_dims);
    if (ctx == NULL || ctx->buf == NULL || ctx->size < needed) {
        return MF_NO_SCRATCH;
    }
    assert(((uintptr_t)ctx->buf & 3u) == 0);
    int16_t *patch = (int16_t *)ctx->buf;
    const int32_t patch_len = filter_dims->h * filter_dims->w * input_dims->c;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                mf_im2col_s16(p, input_dims, in, filter_dims, oy, ox, patch);
                const int8_t *w = filter;
                for (int32_t oc = 0; oc < output_dims->c; oc++) {
                    const int32_t acc =
                        mf_dot_s16_s8(patch, w, patch_len, bias != NULL ? bias[oc] : 0);
                    w += patch_len;
                    *output++ = mf_requantize_to_s8(acc,
                                                    quant_params->multiplier[oc],
                                                    quant_params->shift[oc],
                                                    p->output_offset,
                                                    &p->activation);
                }
            }
        }
    }
    return MF_OK;
}
