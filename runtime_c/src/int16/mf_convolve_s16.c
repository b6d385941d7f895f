/*
 * mf_convolve_s16 - 2-D convolution of int16 activations with int8 weights (TFLite Micro's 16x8
 * ConvPerChannel): int64 sums of x * w over the taps inside the input (the input zero point is
 * 0, so padding adds nothing), plus the int64 bias, requantized per output channel with the
 * int64 MultiplyByQuantizedMultiplier. Each output pixel's receptive field is gathered once
 * into an int16 patch (scratch: KH * KW * D values, padding as 0; a filter row wholly inside the
 * input is one copy), then one dot product per output channel (mf_dot_s16_s8: SMLAD on the DSP
 * path; on the MVE path VMLALDAV, four channels per input load). A 1x1 filter needs no patch:
 * each output pixel reads its input pixel in place.
 *
 * Grouped convolution (ConvPerChannel's groups = C_in / D for a filter depth D below C_in):
 * output channel o of group g = o / (C_out / groups) reads input channels [g * D, (g + 1) * D);
 * the patch holds one group's channels at a time. Without groups, D = C_in and groups = 1.
 */
#include "mf_s16.h"

#include <stddef.h>

int32_t mf_convolve_s16_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)input_dims;
    if (filter_dims->h == 1 && filter_dims->w == 1) {
        return 0; /* the receptive field is one pixel: read in place */
    }
    return 2 * filter_dims->h * filter_dims->w * filter_dims->c; /* one int16 patch */
}

/* The output channels [g * per_group, (g + 1) * per_group) of group g from its depth input
 * values x: the group's filter rows, biases and multipliers. (An ungrouped convolution calls
 * mf_channels_s16 directly and pays nothing for groups.) */
static void mf_group_channels_s16(const int16_t *x,
                                  int32_t depth,
                                  int32_t g,
                                  int32_t per_group,
                                  const mf_conv_params *p,
                                  const mf_per_channel_quant_params *q,
                                  const int8_t *filter,
                                  const int64_t *bias,
                                  int16_t *output)
{
    const int32_t o = g * per_group;
    const mf_per_channel_quant_params group_q = {q->multiplier + o, q->shift + o};
    mf_channels_s16(x, depth, filter + (size_t)o * depth, per_group, bias != NULL ? bias + o : NULL,
                    &group_q, 1, p->output_offset, &p->activation, output + o);
}

/* The receptive field of the output pixel with corner (y0, x0), channels [c0, c0 + d) of each
 * tap, into patch; taps outside the input as 0 (zero point 0: no effect). */
static inline void mf_gather_s16(const int16_t *in,
                                 const mf_dims *input_dims,
                                 const mf_conv_params *p,
                                 int32_t y0,
                                 int32_t x0,
                                 int32_t kh,
                                 int32_t kw,
                                 int32_t c0,
                                 int32_t d,
                                 int16_t *patch)
{
    int16_t *dst = patch;
    for (int32_t ky = 0; ky < kh; ky++) {
        const int32_t y = y0 + ky * p->dilation.h;
        if (d == input_dims->c && p->dilation.w == 1 && x0 >= 0 && x0 + kw <= input_dims->w && y >= 0 &&
            y < input_dims->h) { /* the row's taps are contiguous: one copy */
            memcpy(dst, in + ((size_t)y * input_dims->w + x0) * input_dims->c,
                   sizeof(int16_t) * (size_t)(kw * d));
            dst += kw * d;
            continue;
        }
        for (int32_t kx = 0; kx < kw; kx++, dst += d) {
            const int32_t x = x0 + kx * p->dilation.w;
            if (y < 0 || y >= input_dims->h || x < 0 || x >= input_dims->w) {
                memset(dst, 0, sizeof(int16_t) * (size_t)d);
            } else {
                memcpy(dst, in + ((size_t)y * input_dims->w + x) * input_dims->c + c0,
                       sizeof(int16_t) * (size_t)d);
            }
        }
    }
}

/* A 1x1 filter: each output pixel reads one input pixel (or, in the padding, only its bias). */
static mf_status mf_pointwise_s16(const mf_conv_params *p,
                                  const mf_per_channel_quant_params *q,
                                  const mf_dims *input_dims,
                                  const int16_t *input,
                                  int32_t depth,
                                  const int8_t *filter,
                                  const int64_t *bias,
                                  const mf_dims *output_dims,
                                  int16_t *output)
{
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    const int32_t groups = c_in / depth;
    const int32_t per_group = c_out / groups;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x = ox * p->stride.w - p->padding.w;
                const int inside = y >= 0 && y < input_dims->h && x >= 0 && x < input_dims->w;
                const int16_t *in =
                    input + (((size_t)b * input_dims->h + (inside ? y : 0)) * input_dims->w +
                             (inside ? x : 0)) * c_in;
                if (inside && groups == 1) {
                    mf_channels_s16(in, c_in, filter, c_out, bias, q, 1, p->output_offset,
                                    &p->activation, output);
                } else if (inside) {
                    for (int32_t g = 0; g < groups; g++) {
                        mf_group_channels_s16(in + (size_t)g * depth, depth, g, per_group, p, q, filter,
                                              bias, output);
                    }
                } else {
                    for (int32_t o = 0; o < c_out; o++) { /* all taps in the padding */
                        output[o] = mf_requantize_s64_to_s16(bias != NULL ? bias[o] : 0,
                                                             q->multiplier[o], q->shift[o],
                                                             p->output_offset, &p->activation);
                    }
                }
                output += c_out;
            }
        }
    }
    return MF_OK;
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
    const mf_per_channel_quant_params *q = quant_params;

    if (kh == 1 && kw == 1) {
        return mf_pointwise_s16(p, q, input_dims, input, d, filter, bias, output_dims, output);
    }
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
                if (groups == 1) {
                    mf_gather_s16(in, input_dims, p, y0, x0, kh, kw, 0, d, patch);
                    mf_channels_s16(patch, depth, filter, c_out, bias, q, 1, p->output_offset,
                                    &p->activation, output);
                } else {
                    for (int32_t g = 0; g < groups; g++) { /* the patch holds one group at a time */
                        mf_gather_s16(in, input_dims, p, y0, x0, kh, kw, g * d, d, patch);
                        mf_group_channels_s16(patch, depth, g, per_group, p, q, filter, bias, output);
                    }
                }
                output += c_out;
            }
        }
    }
    return MF_OK;
}
