/*
 * mf_convolve_s4 - 2-D convolution (NHWC x OHWI) with symmetric int4 weights packed two per
 * byte, read straight from flash: no unpacked copy of the filter is ever made.
 *
 * Same scheme as mf_convolve_s8: one int16 im2col patch per output pixel (input offset added),
 * then one dot product per output channel, here with the packed filter row. Row oc starts at
 * nibble oc * KH * KW * C_in, which is mid-byte when that length is odd.
 */
#include "mf_internal.h"

int32_t mf_convolve_s4_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * input_dims->c * (int32_t)sizeof(int16_t);
}

mf_status mf_convolve_s4(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const uint8_t *packed_filter,
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
    const int32_t needed = mf_convolve_s4_get_buffer_size(input_dims, filter_dims);
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
                for (int32_t oc = 0; oc < output_dims->c; oc++) {
                    const int32_t acc = mf_dot_s16_s4(
                        patch, packed_filter, oc * patch_len, patch_len, bias != NULL ? bias[oc] : 0);
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
