/*
 * mf_depthwise_conv_s8 - int8 depthwise convolution with channel multiplier and dilation.
 *
 * The bias comes with the input offset folded in (mf_nn.h), so each tap is a plain int8
 * product. Output pixels whose window lies inside the image (the interior, computed once) run
 * without bounds checks, four channels per pass with the window walked by pointer steps: on a
 * DSP core one word load of four input bytes and one of four weights per tap, split by SXTB16
 * and multiplied by SMLABB/SMLATT. Border pixels, and channel multipliers above 1, take the
 * plain loop, where a cell outside the image reads as the input zero point (which contributes
 * nothing, as TFLite's skipped cells). No scratch.
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

/* The range [lo, hi) of output positions whose window along one axis is inside [0, size). */
static void mf_interior(int32_t size,
                        int32_t out_size,
                        int32_t k,
                        int32_t stride,
                        int32_t pad,
                        int32_t dil,
                        int32_t *lo,
                        int32_t *hi)
{
    const int32_t first = (pad + stride - 1) / stride;
    const int32_t last_num = size - 1 + pad - (k - 1) * dil; /* o * stride <= last_num */
    const int32_t end = last_num < 0 ? 0 : last_num / stride + 1;
    *lo = mf_min_i32(first, out_size);
    *hi = mf_clamp_i32(end, *lo, out_size);
}

/* Any pixel, any channel multiplier: cells outside the image read as the zero point. */
static void mf_dw_pixel_generic(const mf_dw_conv_params *p,
                                const mf_nn_requant *rq,
                                const mf_dims *input_dims,
                                const int8_t *in,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                int32_t cout,
                                int32_t oy,
                                int32_t ox,
                                int8_t *out)
{
    const int32_t cin = input_dims->c;
    const int32_t zp = -p->input_offset;
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    for (int32_t ic = 0; ic < cin; ic++) {
        for (int32_t m = 0; m < p->ch_mult; m++) {
            const int32_t oc = ic * p->ch_mult + m;
            int32_t acc = mf_nn_bias(rq, oc);
            const int8_t *w = filter + oc;
            for (int32_t ky = 0; ky < filter_dims->h; ky++) {
                const int32_t iy = y0 + ky * p->dilation.h;
                const int row_in = iy >= 0 && iy < input_dims->h;
                for (int32_t kx = 0; kx < filter_dims->w; kx++) {
                    const int32_t ix = x0 + kx * p->dilation.w;
                    const int32_t xv = row_in && ix >= 0 && ix < input_dims->w
                                           ? in[((size_t)iy * input_dims->w + ix) * cin + ic]
                                           : zp;
                    acc += xv * *w;
                    w += cout;
                }
            }
            out[oc] = mf_nn_requant_out(rq, acc, oc);
        }
    }
}

/* Four channels times one tap: x and w point at the tap's four input bytes and weights. */
#if MF_USE_DSP
#define MF_DW_TAP4(xv, w)                                                                      \
    do {                                                                                       \
        const uint32_t wv_ = mf_read_u32(w);                                                   \
        const uint32_t xl_ = mf_sxtb16(xv);                                                    \
        const uint32_t wl_ = mf_sxtb16(wv_);                                                   \
        const uint32_t xh_ = mf_sxtb16_ror8(xv);                                               \
        const uint32_t wh_ = mf_sxtb16_ror8(wv_);                                              \
        a0 = mf_smlabb(xl_, wl_, a0);                                                          \
        a2 = mf_smlatt(xl_, wl_, a2);                                                          \
        a1 = mf_smlabb(xh_, wh_, a1);                                                          \
        a3 = mf_smlatt(xh_, wh_, a3);                                                          \
    } while (0)
#define MF_DW_IN4(x) mf_read_u32(x)
#else
#define MF_DW_TAP4(x, w)                                                                       \
    do {                                                                                       \
        a0 += (x)[0] * (w)[0];                                                                 \
        a1 += (x)[1] * (w)[1];                                                                 \
        a2 += (x)[2] * (w)[2];                                                                 \
        a3 += (x)[3] * (w)[3];                                                                 \
    } while (0)
#define MF_DW_IN4(x) (x)
#endif

/* A pixel with channel multiplier 1: `in` points at the window's top-left cell, which may lie
 * outside the image; only taps ky in [ky_lo, ky_hi), kx in [kx_lo, kx_hi) are inside, the
 * others read the zero point. Interior pixels pass the whole window. */
static void mf_dw_pixel_m1(const mf_dw_conv_params *p,
                           const mf_nn_requant *rq,
                           const mf_dims *input_dims,
                           const int8_t *image,
                           int32_t y0,
                           int32_t x0,
                           const mf_dims *filter_dims,
                           const int8_t *filter,
                           int32_t ky_lo,
                           int32_t ky_hi,
                           int32_t kx_lo,
                           int32_t kx_hi,
                           int8_t *out)
{
    const int32_t c_all = input_dims->c;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    const int32_t col_step = p->dilation.w * c_all;
    const int32_t full = ky_lo == 0 && ky_hi == kh && kx_lo == 0 && kx_hi == kw;
    /* Address arithmetic in integers: the window's corner may be outside the image. */
    const ptrdiff_t corner = ((ptrdiff_t)y0 * input_dims->w + x0) * c_all;
    const ptrdiff_t row_step = (ptrdiff_t)p->dilation.h * input_dims->w * c_all;
#if MF_USE_DSP
    const uint32_t zp4 = 0x01010101u * (uint8_t)(int8_t)(-p->input_offset);
#else
    const int8_t zp = (int8_t)(-p->input_offset);
    const int8_t zp4[4] = {zp, zp, zp, zp};
#endif
    int32_t c = 0;
    for (; c + 4 <= c_all; c += 4) {
        int32_t a0 = mf_nn_bias(rq, c);
        int32_t a1 = mf_nn_bias(rq, c + 1);
        int32_t a2 = mf_nn_bias(rq, c + 2);
        int32_t a3 = mf_nn_bias(rq, c + 3);
        const int8_t *w = filter + c;
        if (full && kw == 3) { /* the common 3-wide window, unrolled */
            const int8_t *row = image + corner + c;
            const int32_t cs2 = 2 * col_step;
            for (int32_t ky = 0; ky < kh; ky++) {
                MF_DW_TAP4(MF_DW_IN4(row), w);
                MF_DW_TAP4(MF_DW_IN4(row + col_step), w + c_all);
                MF_DW_TAP4(MF_DW_IN4(row + cs2), w + 2 * c_all);
                w += 3 * c_all;
                if (ky + 1 < kh) {
                    row += row_step;
                }
            }
        } else if (full) {
            const int8_t *row = image + corner + c;
            for (int32_t ky = 0; ky < kh; ky++) {
                for (int32_t kx = 0; kx < kw; kx++) {
                    MF_DW_TAP4(MF_DW_IN4(row + kx * col_step), w);
                    w += c_all;
                }
                if (ky + 1 < kh) {
                    row += row_step;
                }
            }
        } else {
            for (int32_t ky = 0; ky < kh; ky++) {
                const int row_in = ky >= ky_lo && ky < ky_hi;
                const int32_t lo = row_in ? kx_lo : kw;
                const int32_t hi = row_in ? kx_hi : kw;
                int32_t kx = 0;
                for (; kx < lo; kx++) {
                    MF_DW_TAP4(zp4, w);
                    w += c_all;
                }
                if (kx < hi) {
                    const int8_t *row = image + corner + ky * row_step + c;
                    for (; kx < hi; kx++) {
                        MF_DW_TAP4(MF_DW_IN4(row + kx * col_step), w);
                        w += c_all;
                    }
                }
                for (; kx < kw; kx++) {
                    MF_DW_TAP4(zp4, w);
                    w += c_all;
                }
            }
        }
        out[c] = mf_nn_requant_out(rq, a0, c);
        out[c + 1] = mf_nn_requant_out(rq, a1, c + 1);
        out[c + 2] = mf_nn_requant_out(rq, a2, c + 2);
        out[c + 3] = mf_nn_requant_out(rq, a3, c + 3);
    }
    for (; c < c_all; c++) {
        int32_t acc = mf_nn_bias(rq, c);
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < kh; ky++) {
            for (int32_t kx = 0; kx < kw; kx++) {
                const int inside = ky >= ky_lo && ky < ky_hi && kx >= kx_lo && kx < kx_hi;
                const int32_t xv =
                    inside ? image[corner + ky * row_step + kx * col_step + c] : -p->input_offset;
                acc += xv * *w;
                w += c_all;
            }
        }
        out[c] = mf_nn_requant_out(rq, acc, c);
    }
}

/* The taps [lo, hi) of a window starting at `start` (step `dil`) that fall inside [0, size). */
static void mf_taps_inside(int32_t start, int32_t k, int32_t dil, int32_t size, int32_t *lo,
                           int32_t *hi)
{
    int32_t a = 0;
    while (a < k && start + a * dil < 0) {
        a++;
    }
    int32_t b = k;
    while (b > a && start + (b - 1) * dil >= size) {
        b--;
    }
    *lo = a;
    *hi = b;
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
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};
    const size_t in_image = (size_t)input_dims->h * input_dims->w * cin;
    int32_t y_lo, y_hi, x_lo, x_hi;
    mf_interior(input_dims->h, output_dims->h, filter_dims->h, p->stride.h, p->padding.h,
                p->dilation.h, &y_lo, &y_hi);
    mf_interior(input_dims->w, output_dims->w, filter_dims->w, p->stride.w, p->padding.w,
                p->dilation.w, &x_lo, &x_hi);

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int row_inside = oy >= y_lo && oy < y_hi;
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                if (p->ch_mult != 1) {
                    mf_dw_pixel_generic(
                        p, &rq, input_dims, in, filter_dims, filter, cout, oy, ox, output);
                } else if (row_inside && ox >= x_lo && ox < x_hi) {
                    mf_dw_pixel_m1(p, &rq, input_dims, in, y0, x0, filter_dims, filter, 0,
                                   filter_dims->h, 0, filter_dims->w, output);
                } else {
                    int32_t ky_lo, ky_hi, kx_lo, kx_hi;
                    mf_taps_inside(y0, filter_dims->h, p->dilation.h, input_dims->h, &ky_lo,
                                   &ky_hi);
                    mf_taps_inside(x0, filter_dims->w, p->dilation.w, input_dims->w, &kx_lo,
                                   &kx_hi);
                    mf_dw_pixel_m1(p, &rq, input_dims, in, y0, x0, filter_dims, filter, ky_lo,
                                   ky_hi, kx_lo, kx_hi, output);
                }
                output += cout;
            }
        }
    }
    return MF_OK;
}
