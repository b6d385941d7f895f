/*
 * mf_spatial_s8 - spatial ops that are not plain windows: grouped convolution, transposed
 * convolution, nearest and bilinear resize. Straightforward loops over the output; each output
 * value is computed once, so none of them needs scratch memory.
 */
#include "mf_internal.h"

#include <stddef.h>

static int mf_conv_args_valid(const mf_conv_params *p)
{
    return p->stride.h >= 1 && p->stride.w >= 1 && p->padding.h >= 0 && p->padding.w >= 0 &&
           p->dilation.h >= 1 && p->dilation.w >= 1 && mf_activation_valid(&p->activation);
}

/* ---- grouped convolution --------------------------------------------------------------- */

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
    if (!mf_conv_args_valid(p) || depth < 1 || input_dims->c % depth != 0 ||
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
                    acc = mf_requantize(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
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

/* ---- transposed convolution ------------------------------------------------------------ */

/* First tap k >= 0 with (pos - k) divisible by stride, and that many steps: the taps of an
 * output coordinate `pos` (= output index + padding) are k, k + stride, ... below `size`. */
static int32_t mf_first_tap(int32_t pos, int32_t stride)
{
    return pos % stride;
}

mf_status mf_transpose_conv_s8(const mf_conv_params *conv_params,
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
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    if (!mf_conv_args_valid(p) || p->dilation.h != 1 || p->dilation.w != 1 ||
        filter_dims->c != c_in || filter_dims->n != c_out || output_dims->n != input_dims->n) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c_in;
    const size_t filter_row = (size_t)filter_dims->h * filter_dims->w * c_in;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t py = oy + p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t px = ox + p->padding.w;
                for (int32_t oc = 0; oc < c_out; oc++) {
                    int32_t acc = 0;
                    for (int32_t ky = mf_first_tap(py, p->stride.h); ky < filter_dims->h;
                         ky += p->stride.h) {
                        const int32_t iy = (py - ky) / p->stride.h;
                        if (py < ky || iy >= input_dims->h) {
                            continue;
                        }
                        for (int32_t kx = mf_first_tap(px, p->stride.w); kx < filter_dims->w;
                             kx += p->stride.w) {
                            const int32_t ix = (px - kx) / p->stride.w;
                            if (px < kx || ix >= input_dims->w) {
                                continue;
                            }
                            const int8_t *v = in + ((size_t)iy * input_dims->w + ix) * c_in;
                            const int8_t *f =
                                filter + (size_t)oc * filter_row + ((size_t)ky * filter_dims->w + kx) * c_in;
                            for (int32_t i = 0; i < c_in; i++) {
                                acc += (v[i] + p->input_offset) * f[i];
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    acc = mf_requantize(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    acc += p->output_offset;
                    *output++ = (int8_t)mf_clamp_i32(acc, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}

/* ---- resize ---------------------------------------------------------------------------- */

mf_status mf_resize_nearest_s8(const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *output_dims,
                               const int32_t *rows,
                               const int32_t *cols,
                               int8_t *output)
{
    const int32_t c = input_dims->c;
    if (output_dims->n != input_dims->n || output_dims->c != c) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            assert(rows[oy] >= 0 && rows[oy] < input_dims->h);
            const int8_t *row = in + (size_t)rows[oy] * input_dims->w * c;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                assert(cols[ox] >= 0 && cols[ox] < input_dims->w);
                memcpy(output, row + (size_t)cols[ox] * c, (size_t)c);
                output += c;
            }
        }
    }
    return MF_OK;
}

mf_status mf_resize_bilinear_s8(const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *output_dims,
                                const int32_t *y_table,
                                const int32_t *x_table,
                                int8_t *output)
{
    const int32_t c = input_dims->c;
    if (output_dims->n != input_dims->n || output_dims->c != c) {
        return MF_ARG_ERROR;
    }
    const int32_t one = 1 << 10;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t *ty = y_table + 3 * oy;
            const int8_t *top = in + (size_t)ty[0] * input_dims->w * c;
            const int8_t *bottom = in + (size_t)ty[1] * input_dims->w * c;
            const int32_t wy0 = one - ty[2], wy1 = ty[2];
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t *tx = x_table + 3 * ox;
                const size_t x0 = (size_t)tx[0] * c, x1 = (size_t)tx[1] * c;
                const int32_t wx0 = one - tx[2], wx1 = tx[2];
                for (int32_t ch = 0; ch < c; ch++) {
                    /* |weights| <= 2048 per axis, so |sum| <= 128 * 2^22 fits int32 exactly */
                    const int32_t sum = top[x0 + ch] * wy0 * wx0 + bottom[x0 + ch] * wy1 * wx0 +
                                        top[x1 + ch] * wy0 * wx1 + bottom[x1 + ch] * wy1 * wx1;
                    const int32_t half = sum > 0 ? (1 << 19) : -(1 << 19);
                    *output++ = (int8_t)((sum + half) / (1 << 20));
                }
            }
        }
    }
    return MF_OK;
}
