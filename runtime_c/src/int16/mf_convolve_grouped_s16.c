/*
 * mf_convolve_grouped_s16 - grouped 2-D convolution of int16 activations with int8 weights
 * (TFLite Micro's 16x8 ConvPerChannel with groups = C_in / filter depth D): output channel o of
 * group g = o / (C_out / groups) reads input channels [g * D, (g + 1) * D). Per output pixel and
 * group, the group's receptive field is gathered into an int16 patch (scratch: KH * KW * D
 * values, padding as 0: the zero point is 0), then mf_channels_s16 takes the group's filter rows.
 */
#include "mf_s16.h"

#include <stddef.h>

int32_t mf_convolve_grouped_s16_get_buffer_size(const mf_dims *input_dims,
                                                const mf_dims *filter_dims)
{
    (void)input_dims;
    return 2 * filter_dims->h * filter_dims->w * filter_dims->c;
}

mf_status mf_convolve_grouped_s16(const mf_context *ctx,
                                  const mf_conv_params *conv_params,
                                  const mf_per_channel_quant_params *quant_params,
                                  const mf_dims *input_dims,
                                  const int16_t *input,
                                  const mf_dims *filter_dims,
                                  const int8_t *filter,
                                  const int64_t *bias,
                                  const mf_dims *output_dims,
                                  int16_t *output)
{
    const mf_conv_params *p = conv_params;
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    const int32_t d = filter_dims->c;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    if (p->input_offset != 0 || d < 1 || c_in % d != 0 || filter_dims->n != c_out ||
        c_out % (c_in / d) != 0 || output_dims->n != input_dims->n || p->stride.h < 1 ||
        p->stride.w < 1 || p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 ||
        p->padding.w < 0 || !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t groups = c_in / d;
    const int32_t per_group = c_out / groups;
    const int32_t depth = kh * kw * d; /* filter row length */
    if (ctx == NULL || ctx->buf == NULL || ctx->size < 2 * depth) {
        return MF_NO_SCRATCH;
    }
    int16_t *patch = (int16_t *)ctx->buf;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c_in;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                for (int32_t g = 0; g < groups; g++) {
                    int16_t *dst = patch;
                    for (int32_t ky = 0; ky < kh; ky++) {
                        const int32_t y = y0 + ky * p->dilation.h;
                        for (int32_t kx = 0; kx < kw; kx++, dst += d) {
                            const int32_t x = x0 + kx * p->dilation.w;
                            if (y < 0 || y >= input_dims->h || x < 0 || x >= input_dims->w) {
                                memset(dst, 0, sizeof(int16_t) * (size_t)d);
                            } else {
                                memcpy(dst, in + ((size_t)y * input_dims->w + x) * c_in + (size_t)g * d,
                                       sizeof(int16_t) * (size_t)d);
                            }
                        }
                    }
                    const int32_t o = g * per_group;
                    const mf_per_channel_quant_params q = {quant_params->multiplier + o,
                                                           quant_params->shift + o};
                    mf_channels_s16(patch, depth, filter + (size_t)o * depth, per_group,
                                    bias != NULL ? bias + o : NULL, &q, 1, p->output_offset,
                                    &p->activation, output + o);
                }
                output += c_out;
            }
        }
    }
    return MF_OK;
}
