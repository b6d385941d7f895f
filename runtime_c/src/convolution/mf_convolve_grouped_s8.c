/*
 * mf_convolve_grouped_s8 - grouped int8 2-D convolution (TFLite's CONV_2D whose filter depth
 * is below the input depth): output channel oc of group g = oc / (C_out / groups) reads input
 * channels [g * D, (g + 1) * D), D = filter depth. A direct loop over the output, each value
 * computed once, so it needs no scratch. The bias carries the input offset folded in
 * (mf_nn.h), so padded cells read as the zero point (-input_offset) and contribute nothing.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_convolve_grouped_s8(const mf_context *ctx,
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
    const int32_t depth = filter_dims->c;
    const int32_t c_out = output_dims->c;
    (void)ctx;
    if (p->stride.h < 1 || p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        p->dilation.h < 1 || p->dilation.w < 1 || !mf_activation_valid(&p->activation) || depth < 1 || input_dims->c % depth != 0 ||
        filter_dims->n != c_out || c_out % (input_dims->c / depth) != 0 ||
        output_dims->n != input_dims->n) {
        return MF_ARG_ERROR;
    }
    const int32_t per_group = c_out / (input_dims->c / depth);
    const int32_t pad_value = -p->input_offset; /* padding holds the zero point */
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const size_t filter_row = (size_t)filter_dims->h * filter_dims->w * depth;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                for (int32_t oc = 0; oc < c_out; oc++) {
                    const int8_t *f = filter + (size_t)oc * filter_row;
                    const int32_t first = (oc / per_group) * depth;
                    int32_t acc = bias != NULL ? bias[oc] : 0;
                    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
                        const int32_t iy = y0 + ky * p->dilation.h;
                        for (int32_t kx = 0; kx < filter_dims->w; kx++, f += depth) {
                            const int32_t ix = x0 + kx * p->dilation.w;
                            if (iy < 0 || iy >= input_dims->h || ix < 0 || ix >= input_dims->w) {
                                for (int32_t i = 0; i < depth; i++) {
                                    acc += pad_value * f[i];
                                }
                                continue;
                            }
                            const int8_t *px =
                                in + ((size_t)iy * input_dims->w + ix) * input_dims->c + first;
                            for (int32_t i = 0; i < depth; i++) {
                                acc += px[i] * f[i];
                            }
                        }
                    }
                    acc = mf_requantize_fast(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    acc += p->output_offset;
                    *output++ = (int8_t)mf_clamp_i32(acc, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}

int32_t mf_convolve_grouped_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}
