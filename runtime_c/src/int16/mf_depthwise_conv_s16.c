/*
 * mf_depthwise_conv_s16 - depthwise 2-D convolution of int16 activations with int8 weights
 * (TFLite Micro's 16x8 DepthwiseConvPerChannel): output channel c * ch_mult + m sums input
 * channel c times its filter over the taps inside the input, in int64, plus the int64 bias,
 * requantized per output channel with the int64 MultiplyByQuantizedMultiplier.
 */
#include "mf_s16.h"

#include <stddef.h>

int32_t mf_depthwise_conv_s16_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mf_status mf_depthwise_conv_s16(const mf_context *ctx,
                                const mf_dw_conv_params *dw_conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int16_t *input,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                const int64_t *bias,
                                const mf_dims *output_dims,
                                int16_t *output)
{
    const mf_dw_conv_params *p = dw_conv_params;
    (void)ctx;
    const int32_t c_in = input_dims->c;
    const int32_t mult = p->ch_mult;
    const int32_t c_out = output_dims->c;
    if (p->input_offset != 0 || mult < 1 || c_out != c_in * mult || filter_dims->c != c_out ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c_in;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                for (int32_t o = 0; o < c_out; o++) {
                    const int32_t ch = o / mult;
                    int64_t acc = bias != NULL ? bias[o] : 0;
                    for (int32_t ky = 0; ky < kh; ky++) {
                        const int32_t y = y0 + ky * p->dilation.h;
                        if (y < 0 || y >= input_dims->h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < kw; kx++) {
                            const int32_t x = x0 + kx * p->dilation.w;
                            if (x < 0 || x >= input_dims->w) {
                                continue;
                            }
                            acc += (int32_t)in[((size_t)y * input_dims->w + x) * c_in + ch] *
                                   filter[((size_t)ky * kw + kx) * c_out + o];
                        }
                    }
                    *output++ = mf_requantize_s64_to_s16(acc, quant_params->multiplier[o],
                                                         quant_params->shift[o], p->output_offset,
                                                         &p->activation);
                }
            }
        }
    }
    return MF_OK;
}
