/*
 * mf_convolve_s16 - 2-D convolution of int16 activations with int8 weights (TFLite Micro's 16x8
 * ConvPerChannel): int64 sums of x * w over the taps inside the input (the input zero point is
 * 0, so padding adds nothing), plus the int64 bias, requantized per output channel with the
 * int64 MultiplyByQuantizedMultiplier. A 1x1, stride 1, unpadded filter takes a plain matrix
 * multiply path with the same arithmetic.
 */
#include "mf_s16.h"

#include <stddef.h>

int32_t mf_convolve_s16_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

/* One output pixel's channels from a row of C_in inputs (the 1x1 path). */
static void mf_pointwise_s16(const mf_conv_params *p,
                             const mf_per_channel_quant_params *q,
                             const int16_t *in,
                             int32_t c_in,
                             const int8_t *filter,
                             int32_t c_out,
                             const int64_t *bias,
                             int16_t *out)
{
    for (int32_t o = 0; o < c_out; o++) {
        const int8_t *w = filter + (size_t)o * c_in;
        int64_t acc = bias != NULL ? bias[o] : 0;
        for (int32_t i = 0; i < c_in; i++) {
            acc += (int32_t)in[i] * w[i];
        }
        out[o] = mf_requantize_s64_to_s16(acc, q->multiplier[o], q->shift[o], p->output_offset,
                                          &p->activation);
    }
}

mf_status mf_convolve_s16(const mf_context *ctx,
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
    (void)ctx;
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    if (p->input_offset != 0 || filter_dims->c != c_in || filter_dims->n != c_out ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c_in;
    const size_t out_image = (size_t)output_dims->h * output_dims->w * c_out;
    const size_t filter_row = (size_t)kh * kw * c_in;

    if (kh == 1 && kw == 1 && p->stride.h == 1 && p->stride.w == 1 && p->padding.h == 0 &&
        p->padding.w == 0 && output_dims->h == input_dims->h && output_dims->w == input_dims->w) {
        const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
        for (int32_t i = 0; i < pixels; i++) {
            mf_pointwise_s16(p, quant_params, input + (size_t)i * c_in, c_in, filter, c_out, bias,
                             output + (size_t)i * c_out);
        }
        return MF_OK;
    }

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_image;
        int16_t *out = output + (size_t)b * out_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                for (int32_t o = 0; o < c_out; o++) {
                    const int8_t *w = filter + (size_t)o * filter_row;
                    int64_t acc = 0;
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
                            const int16_t *px = in + ((size_t)y * input_dims->w + x) * c_in;
                            const int8_t *wk = w + ((size_t)ky * kw + kx) * c_in;
                            int32_t sum = 0; /* c_in products of 2^22 each: widened per tap */
                            for (int32_t i = 0; i < c_in; i++) {
                                sum += (int32_t)px[i] * wk[i];
                                if ((i & 255) == 255) {
                                    acc += sum;
                                    sum = 0;
                                }
                            }
                            acc += sum;
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[o];
                    }
                    *out++ = mf_requantize_s64_to_s16(acc, quant_params->multiplier[o],
                                                      quant_params->shift[o], p->output_offset,
                                                      &p->activation);
                }
            }
        }
    }
    return MF_OK;
}
