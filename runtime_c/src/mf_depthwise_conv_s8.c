/*
 * mf_depthwise_conv_s8 - int8 depthwise convolution with channel multiplier and dilation.
 *
 * Portable path: TFLite's loop order (pixel, input channel, multiplier, window), skipping
 * window cells outside the image, so it needs no scratch.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_depthwise_conv_s8_get_buffer_size(const mf_dims *input_dims,
                                             const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mf_status mf_depthwise_conv_s8(const mf_context *ctx,
                               const mf_dw_conv_params *dw_conv_params,
                               const mf_per_channel_quant_params *quant_params,
                               const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *filter_dims,
                               const int8_t *filter,
                               const int32_t *bias,
                               const mf_dims *output_dims,
                               int8_t *output)
{
    const mf_dw_conv_params *p = dw_conv_params;
    (void)ctx;
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;
    if (p->ch_mult < 1 || cout != cin * p->ch_mult || filter_dims->c != cout ||
        filter_dims->n != 1 || output_dims->n != input_dims->n || p->stride.h < 1 ||
        p->stride.w < 1 || p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 ||
        p->padding.w < 0 || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * cin;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                for (int32_t ic = 0; ic < cin; ic++) {
                    for (int32_t m = 0; m < p->ch_mult; m++) {
                        const int32_t oc = ic * p->ch_mult + m;
                        int32_t acc = bias != NULL ? bias[oc] : 0;
                        for (int32_t ky = 0; ky < filter_dims->h; ky++) {
                            const int32_t iy = y0 + ky * p->dilation.h;
                            if (iy < 0 || iy >= input_dims->h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < filter_dims->w; kx++) {
                                const int32_t ix = x0 + kx * p->dilation.w;
                                if (ix < 0 || ix >= input_dims->w) {
                                    continue;
                                }
                                const int32_t xv =
                                    in[((size_t)iy * input_dims->w + ix) * cin + ic];
                                const int32_t wv =
                                    filter[((size_t)ky * filter_dims->w + kx) * cout + oc];
                                acc += (xv + p->input_offset) * wv;
                            }
                        }
                        *output++ = mf_requantize_to_s8(acc,
                                                        quant_params->multiplier[oc],
                                                        quant_params->shift[oc],
                                                        p->output_offset,
                                                        &p->activation);
                    }
                }
            }
        }
    }
    return MF_OK;
}
