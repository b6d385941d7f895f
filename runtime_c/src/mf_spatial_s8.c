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

/* ---- transposed convolution ------------------------------------------------------------ */

/* The taps of one output coordinate: with pos = output index + padding, tap k reaches it from
 * input index (pos - k) / stride when that division is exact and the index is inside [0, size).
 * Those taps are k = first + j * stride for input index last - j, j = 0 .. count - 1. */
typedef struct {
    int32_t first; /* first tap */
    int32_t last;  /* input index of the first tap */
    int32_t count; /* number of taps */
} mf_taps;

static mf_taps mf_transpose_taps(int32_t pos, int32_t stride, int32_t kernel, int32_t size)
{
    mf_taps t;
    const int32_t k0 = pos % stride;
    const int32_t i0 = (pos - k0) / stride;
    const int32_t skip = i0 >= size ? i0 - size + 1 : 0; /* taps reading past the input's end */
    t.first = k0 + skip * stride;
    t.last = i0 - skip;
    t.count = 0;
    if (t.first < kernel && t.last >= 0) {
        t.count = mf_min_i32((kernel - t.first + stride - 1) / stride, t.last + 1);
    }
    return t;
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
    const size_t in_row = (size_t)input_dims->w * c_in;
    const size_t filter_kernel_row = (size_t)filter_dims->w * c_in;
    const int32_t off = p->input_offset;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const mf_taps ty =
                mf_transpose_taps(oy + p->padding.h, p->stride.h, filter_dims->h, input_dims->h);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const mf_taps tx =
                    mf_transpose_taps(ox + p->padding.w, p->stride.w, filter_dims->w, input_dims->w);
                /* no taps: the output is the bias alone (and the origin is never read) */
                const int any = ty.count > 0 && tx.count > 0;
                const int8_t *in0 =
                    any ? in + (size_t)ty.last * in_row + (size_t)tx.last * c_in : in;
                const size_t f0 =
                    any ? (size_t)ty.first * filter_kernel_row + (size_t)tx.first * c_in : 0;
                for (int32_t oc = 0; oc < c_out; oc++) {
                    int32_t acc = bias != NULL ? bias[oc] : 0;
                    const int8_t *fy = filter + (size_t)oc * filter_row + f0;
                    const int8_t *vy = in0;
                    for (int32_t jy = 0; jy < (any ? ty.count : 0); jy++) {
                        const int8_t *f = fy;
                        const int8_t *v = vy;
                        for (int32_t jx = 0; jx < tx.count; jx++) {
                            for (int32_t i = 0; i < c_in; i++) {
                                acc += (v[i] + off) * f[i];
                            }
                            f += (size_t)p->stride.w * c_in;
                            v -= c_in;
                        }
                        fy += (size_t)p->stride.h * filter_kernel_row;
                        vy -= in_row;
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
