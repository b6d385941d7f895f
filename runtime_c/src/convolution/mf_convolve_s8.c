/*
 * mf_convolve_s8 - general int8 2-D convolution (NHWC x OHWI), per-channel requantization.
 *
 * The bias comes with the input offset folded in (mf_nn.h), so the receptive field of an
 * output pixel is gathered as raw int8 values (im2col), padded cells holding the input zero
 * point, which then contributes nothing; two output pixels at a time are multiplied with the
 * filter (mf_nn_mat_mult_s8.c), so every filter load feeds both.
 *
 * Portable path: the two int8 patches, two pixels by two output channels per pass.
 * DSP path: the two patches widened to int16 in SXTB16 order and interleaved quad by quad
 * (mf_nn_s8_to_s16_pair's layout), each padded to whole quads with zeros: with C_in % 4 == 0
 * written straight from the image (a window row inside it as one run of quads), else staged as
 * int8 first (both pixels of a pair in one pass when their windows lie inside); then two pixels
 * by two channels in mf_nn_conv_pair_s16 (m4first, issue 12: an inline-assembly loop over the
 * channel pairs, 66 instructions per 64 multiply-accumulates, the requantization in registers);
 * a last odd pixel takes the int8 row path. MVE path: the portable one (int8 patches), with mf_nn_mat_mult_s8 in Helium.
 * Portable cores with SMLAL (Cortex-M3; m3, issue 12): the two pixels' patches packed into one
 * word per tap value (mf_portable_nn.h: 4 * len bytes, within the scratch), two
 * multiply-accumulates per SMLAL; a last odd pixel and ARMv6-M take the int8 patches.
 */
#include "mf_internal.h"
#include "mf_portable_nn.h"

#include <stddef.h>

int32_t mf_convolve_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    /* The DSP path: two patches of KH * KW * C_in int16 values rounded up to whole quads,
     * widened and interleaved; when C_in % 4 != 0 they are first gathered as int8 behind them
     * (2 * len4 bytes more). The MVE path uses the first 2 * len bytes, the portable one 2 * len
     * (int8 patches) or, with MF_PT_PACKED, 4 * len (a packed pixel pair). */
    const int32_t len = filter_dims->h * filter_dims->w * input_dims->c;
    const int32_t len4 = (len + 3) & ~3; /* m4first: patches padded to whole quads */
    return 2 * len4 * (int32_t)sizeof(int16_t) + ((input_dims->c & 3) != 0 ? 2 * len4 : 0);
}

#if MF_USE_DSP && !MF_USE_MVE /* MVE: the int8 rows of mf_nn_mat_mult_s8 */
/* m4first (issue 12): `quads` words from src widened into dst's 8-halfword groups (the two
 * SXTB16 halves of each word in the group's first half, the second half left to the other
 * pixel); returns dst past them. One LDR, two SXTB16 and one STRD per word on the target. */
static inline int16_t *mf_widen_quads(const int8_t *src, int16_t *dst, int32_t quads)
{
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__arm__)
    if (quads & 1) {
        uint32_t t, a, b;
        __asm__ volatile("ldr %[t], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[t]\n\t"
                         "sxtb16 %[b], %[t], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [t] "=&r"(t), [a] "=&r"(a), [b] "=&r"(b)
                         :
                         : "memory");
    }
    int32_t pairs = quads >> 1;
    if (pairs > 0) {
        uint32_t t, a, b, u;
        __asm__ volatile("1:\n\t"
                         "ldr %[t], [%[s]], #4\n\t"
                         "ldr %[u], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[t]\n\t"
                         "sxtb16 %[b], %[t], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         "sxtb16 %[a], %[u]\n\t"
                         "sxtb16 %[b], %[u], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(pairs), [t] "=&r"(t), [a] "=&r"(a),
                           [b] "=&r"(b), [u] "=&r"(u)
                         :
                         : "cc", "memory");
    }
    return dst;
#else
    for (int32_t q = 0; q < quads; q++) {
        const uint32_t v = mf_read_u32(src);
        src += 4;
        mf_write_u32(dst, mf_sxtb16(v));
        mf_write_u32(dst + 2, mf_sxtb16_ror8(v));
        dst += 8;
    }
    return dst;
#endif
}

/* Row r's half of the interleaved int16 patches of mf_nn_s8_to_s16_pair (dst = the buffer +
 * 4 * r halfwords, 4-byte aligned), for C_in % 4 == 0, straight from the image: every tap is
 * whole quads, each written as its two SXTB16 halves into the first or second half of its
 * 8-halfword group; a window row inside the image with dilation 1 along x is one run of
 * KW * C_in / 4 quads (m4first). Padded taps hold the zero point, which the folded bias cancels
 * (mf_im2col_s8). */
static void mf_patch_quads_s16(const mf_conv_params *p,
                               const mf_dims *input_dims,
                               const int8_t *in,
                               const mf_dims *filter_dims,
                               int32_t oy,
                               int32_t ox,
                               int16_t *dst)
{
    const int32_t cq = input_dims->c >> 2;
    const uint32_t pad = mf_sxtb16(0x01010101u * (uint8_t)(-p->input_offset));
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    const int32_t kw = filter_dims->w;
    const int row_run = p->dilation.w == 1 && x0 >= 0 && x0 + kw <= input_dims->w;
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        const int row_in = iy >= 0 && iy < input_dims->h;
        const int8_t *src_row = row_in ? in + (size_t)iy * input_dims->w * input_dims->c : in;
        if (row_in && row_run) {
            dst = mf_widen_quads(src_row + (size_t)x0 * input_dims->c, dst, kw * cq);
            continue;
        }
        for (int32_t kx = 0; kx < kw; kx++) {
            const int32_t ix = x0 + kx * p->dilation.w;
            if (row_in && ix >= 0 && ix < input_dims->w) {
                dst = mf_widen_quads(src_row + (size_t)ix * input_dims->c, dst, cq);
            } else {
                for (int32_t q = 0; q < cq; q++) {
                    mf_write_u32(dst, pad);
                    mf_write_u32(dst + 2, pad);
                    dst += 8;
                }
            }
        }
    }
}
#endif

#if !MF_USE_MVE && !MF_USE_DSP && !MF_PT_PACKED /* DSP: mf_stage_pair_inside_s8 (m4first) */
/* ---- speed-m4 (issue 12): the patch of a pixel whose window lies inside the image -----------
 * mf_im2col_s8 for that common case (dilation 1 along x): each window row is one run of
 * KW * C_in bytes, copied a word at a time with no bounds checks; returns 0 (nothing written)
 * when the window reaches outside, for mf_im2col_s8 to handle. The portable path takes it for
 * every pixel (the DSP path stages pixel pairs: mf_stage_pair_inside_s8). */
#if defined(__GNUC__)
__attribute__((noinline)) /* one copy: every call site inlining it cost 0.5 KB of flash */
#endif
static int mf_im2col_inside_s8(const mf_conv_params *p,
                                      const mf_dims *input_dims,
                                      const int8_t *in,
                                      const mf_dims *filter_dims,
                                      int32_t out_y,
                                      int32_t out_x,
                                      int8_t *patch)
{
    const int32_t y0 = out_y * p->stride.h - p->padding.h;
    const int32_t x0 = out_x * p->stride.w - p->padding.w;
    const int32_t kh = filter_dims->h;
    if (p->dilation.w != 1 || y0 < 0 || x0 < 0 || x0 + filter_dims->w > input_dims->w ||
        y0 + (kh - 1) * p->dilation.h >= input_dims->h) {
        return 0;
    }
    const int32_t run = filter_dims->w * input_dims->c;
    const size_t row_step = (size_t)p->dilation.h * input_dims->w * input_dims->c;
    const int8_t *src = in + ((size_t)y0 * input_dims->w + (size_t)x0) * input_dims->c;
    for (int32_t ky = 0; ky < kh; ky++) {
        int32_t i = 0;
        for (; i + 4 <= run; i += 4) {
            memcpy(patch + i, src + i, 4); /* one LDR and one STR where unaligned access is allowed */
        }
        for (; i < run; i++) {
            patch[i] = src[i];
        }
        patch += run;
        src += row_step;
    }
    return 1;
}
#endif

#if MF_PT_PACKED || (MF_USE_DSP && !MF_USE_MVE)
/* Pixels px and px + 1 (row-major over output rows of width ow): 1 with the first input value of
 * each one's window in *s0 and *s1 when both windows lie inside the image and dilation is 1
 * along x (each window row is then one run of KW * C_in bytes, the next row dilation.h input rows
 * on), else 0. Shared by the packed (m3) and DSP (m4first) pair gathers. */
static int mf_pair_windows_inside(const mf_conv_params *p,
                                  const mf_dims *input_dims,
                                  const int8_t *in,
                                  const mf_dims *filter_dims,
                                  int32_t px,
                                  int32_t ow,
                                  const int8_t **s0,
                                  const int8_t **s1)
{
    const int32_t kh = filter_dims->h, kw = filter_dims->w, c = input_dims->c;
    const int32_t iw = input_dims->w;
    const int32_t y_end = input_dims->h - (kh - 1) * p->dilation.h; /* window tops below it */
    const int32_t oy0 = px / ow, ox0 = px - oy0 * ow;
    const int32_t wraps = ox0 + 1 == ow;
    const int32_t ya = oy0 * p->stride.h - p->padding.h, xa = ox0 * p->stride.w - p->padding.w;
    const int32_t yb = wraps ? ya + p->stride.h : ya;
    const int32_t xb = wraps ? -p->padding.w : xa + p->stride.w;
    if (p->dilation.w != 1 || ya < 0 || xa < 0 || xb < 0 || yb >= y_end || xa + kw > iw ||
        xb + kw > iw) {
        return 0;
    }
    *s0 = in + ((size_t)ya * iw + (size_t)xa) * c;
    *s1 = in + ((size_t)yb * iw + (size_t)xb) * c;
    return 1;
}
#endif

#if MF_PT_PACKED
/* ---- m3 (issue 12): the patch of a pixel written into a packed row pair (mf_portable_nn.h):
 * high 0 stores the values (the pair's first pixel), high 1 adds them times 2^23 (its second).
 * Padded cells hold the input zero point, as in mf_im2col_s8. */
static void mf_pk_put(int32_t *dst, const int8_t *src, int32_t n, int high)
{
    if (high) {
        for (int32_t i = 0; i < n; i++) {
            dst[i] = (int32_t)((uint32_t)dst[i] + ((uint32_t)(int32_t)src[i] << 23));
        }
    } else {
        for (int32_t i = 0; i < n; i++) {
            dst[i] = src[i];
        }
    }
}

static void mf_pk_fill(int32_t *dst, int8_t v, int32_t n, int high)
{
    const uint32_t add = high ? (uint32_t)(int32_t)v << 23 : 0u;
    for (int32_t i = 0; i < n; i++) {
        dst[i] = high ? (int32_t)((uint32_t)dst[i] + add) : v;
    }
}

/* The packed patches of pixels px and px + 1 (row-major over output rows of width ow) when both
 * windows lie inside the image and dilation is 1 along x: per window row one run of KW * C_in
 * values from each pixel, packed in one pass; returns 0 (nothing written) otherwise. */
#if defined(__GNUC__)
__attribute__((noinline)) /* its locals off mf_convolve_s8's frame (the stack estimate) */
#endif
static int mf_pk_pair_inside_s8(const mf_conv_params *p,
                                const mf_dims *input_dims,
                                const int8_t *in,
                                const mf_dims *filter_dims,
                                int32_t px,
                                int32_t ow,
                                int32_t *dst)
{
    const int8_t *s0;
    const int8_t *s1;
    if (!mf_pair_windows_inside(p, input_dims, in, filter_dims, px, ow, &s0, &s1)) {
        return 0;
    }
    const int32_t kh = filter_dims->h;
    const int32_t run = filter_dims->w * input_dims->c;
    const size_t row_step = (size_t)p->dilation.h * input_dims->w * input_dims->c;
    for (int32_t ky = 0; ky < kh; ky++) {
        mf_nn_pack_pair_s8(s0, s1, dst, run);
        dst += run;
        s0 += row_step;
        s1 += row_step;
    }
    return 1;
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_im2col_pk_s8(const mf_conv_params *p,
                            const mf_dims *input_dims,
                            const int8_t *in,
                            const mf_dims *filter_dims,
                            int32_t out_y,
                            int32_t out_x,
                            int32_t *dst,
                            int high)
{
    const int32_t cin = input_dims->c;
    const int32_t kw = filter_dims->w;
    const int8_t pad = (int8_t)(-p->input_offset);
    const int32_t y0 = out_y * p->stride.h - p->padding.h;
    const int32_t x0 = out_x * p->stride.w - p->padding.w;
    int32_t kx_lo = 0;
    int32_t kx_hi = kw;
    if (p->dilation.w == 1) {
        kx_lo = mf_clamp_i32(-x0, 0, kw);
        kx_hi = mf_clamp_i32(input_dims->w - x0, kx_lo, kw);
    }
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        const int8_t *row = in + (iy > 0 ? (size_t)iy * input_dims->w * cin : 0);
        if (iy < 0 || iy >= input_dims->h) {
            mf_pk_fill(dst, pad, kw * cin, high);
        } else if (p->dilation.w == 1) {
            mf_pk_fill(dst, pad, kx_lo * cin, high);
            mf_pk_put(dst + kx_lo * cin, row + (size_t)(x0 + kx_lo) * cin, (kx_hi - kx_lo) * cin,
                      high);
            mf_pk_fill(dst + kx_hi * cin, pad, (kw - kx_hi) * cin, high);
        } else {
            for (int32_t kx = 0; kx < kw; kx++) {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= input_dims->w) {
                    mf_pk_fill(dst + kx * cin, pad, cin, high);
                } else {
                    mf_pk_put(dst + kx * cin, row + (size_t)ix * cin, cin, high);
                }
            }
        }
        dst += kw * cin;
    }
}
#endif

#if MF_USE_DSP && !MF_USE_MVE
/* ---- m4first (issue 12): the int8 patches of a pixel pair, both windows inside the image ----
 * Pixels px and px + 1 (row-major over output rows of width ow) when both windows lie inside
 * the image and dilation is 1 along x: each window row one run of KW * C_in bytes, both
 * pixels' runs copied in one pass a word at a time (d0, then d0 + gap); returns 0 (nothing
 * written) otherwise. One setup for the pair where mf_im2col_inside_s8 took one per pixel. */
static int mf_stage_pair_inside_s8(const mf_conv_params *p,
                                   const mf_dims *input_dims,
                                   const int8_t *in,
                                   const mf_dims *filter_dims,
                                   int32_t px,
                                   int32_t ow,
                                   int32_t gap,
                                   int8_t *d0)
{
    const int8_t *s0;
    const int8_t *s1;
    if (!mf_pair_windows_inside(p, input_dims, in, filter_dims, px, ow, &s0, &s1)) {
        return 0;
    }
    const int32_t kh = filter_dims->h;
    const int32_t run = filter_dims->w * input_dims->c;
    const size_t row_step = (size_t)p->dilation.h * input_dims->w * input_dims->c;
    int8_t *d1 = d0 + gap;
    for (int32_t ky = 0; ky < kh; ky++) {
        int32_t i = 0;
        for (; i + 4 <= run; i += 4) {
            mf_write_u32(d0 + i, mf_read_u32(s0 + i));
            mf_write_u32(d1 + i, mf_read_u32(s1 + i));
        }
        for (; i < run; i++) {
            d0[i] = s0[i];
            d1[i] = s1[i];
        }
        d0 += run;
        d1 += run;
        s0 += row_step;
        s1 += row_step;
    }
    return 1;
}
#endif

mf_status mf_convolve_s8(const mf_context *ctx,
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
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t needed = mf_convolve_s8_get_buffer_size(input_dims, filter_dims);
    if (ctx == NULL || ctx->buf == NULL || ctx->size < needed) {
        return MF_NO_SCRATCH;
    }
    assert(((uintptr_t)ctx->buf & 3u) == 0);
    const int32_t len = filter_dims->h * filter_dims->w * input_dims->c;
    const int32_t cout = output_dims->c;
    const int32_t ow = output_dims->w;
    const int32_t pixels = output_dims->h * ow;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};

#if MF_USE_MVE /* Helium: vector-built patches (mf_convolve_mve_s8.c) */
    mf_convolve_mve_s8(p, &rq, input_dims, input, filter_dims, filter, output_dims,
                       (int8_t *)ctx->buf, output);
    return MF_OK;
#endif
#if !MF_USE_MVE && !MF_USE_DSP && !MF_PT_PACKED
    const int runs = p->dilation.w == 1; /* window rows are runs of bytes: mf_im2col_inside_s8 */
#endif
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        int32_t px = 0;
#if MF_USE_DSP && !MF_USE_MVE /* MVE: the int8 rows of mf_nn_mat_mult_s8 */
        const int32_t shifts_ok = mf_nn_shifts_right(quant_params->shift, cout);
        int16_t *rows = (int16_t *)ctx->buf;
        /* C_in % 4 != 0: the int8 patches, len4 bytes apart, their last len4 - len bytes zero */
        const int32_t len4 = (len + 3) & ~3;
        int8_t *staged = (int8_t *)(rows + 2 * len4);
        if ((input_dims->c & 3) != 0) {
            memset(staged, 0, 2 * (size_t)len4);
        }
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
            if ((input_dims->c & 3) == 0) {
                mf_patch_quads_s16(p, input_dims, in, filter_dims, px / ow, px % ow, rows);
                mf_patch_quads_s16(p, input_dims, in, filter_dims, q / ow, q % ow, rows + 4);
            } else if (mf_stage_pair_inside_s8(p, input_dims, in, filter_dims, px, ow, len4, staged)) {
                mf_nn_s8_to_s16_pair(staged, staged + len4, rows, len4);
            } else { /* a window reaching outside (or dilated along x): the general gather */
                mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, staged);
                mf_im2col_s8(p, input_dims, in, filter_dims, q / ow, q % ow, staged + len4);
                mf_nn_s8_to_s16_pair(staged, staged + len4, rows, len4);
            }
            mf_nn_conv_pair_s16(rows, filter, len, cout, &rq, shifts_ok, output);
            output += 2 * cout;
        }
        if (px < pixels) {
            int8_t *patch = (int8_t *)ctx->buf;
            mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patch);
            mf_nn_vec_mat_mult_s8(patch, filter, len, cout, &rq, output);
            output += cout;
        }
#else
#if MF_PT_PACKED /* m3: the pixel pair's patches packed straight from the image */
        int32_t *pk = (int32_t *)ctx->buf;
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
            if (!mf_pk_pair_inside_s8(p, input_dims, in, filter_dims, px, ow, pk)) {
                mf_im2col_pk_s8(p, input_dims, in, filter_dims, px / ow, px % ow, pk, 0);
                mf_im2col_pk_s8(p, input_dims, in, filter_dims, q / ow, q % ow, pk, 1);
            }
            mf_nn_mat_mult_pk_s8(pk, filter, len, cout, &rq, output, output + cout);
            output += 2 * cout;
        }
        if (px < pixels) { /* a last odd pixel: a pair with itself, one row stored */
            mf_im2col_pk_s8(p, input_dims, in, filter_dims, px / ow, px % ow, pk, 0);
            mf_im2col_pk_s8(p, input_dims, in, filter_dims, px / ow, px % ow, pk, 1);
            mf_nn_mat_mult_pk_s8(pk, filter, len, cout, &rq, output, NULL);
            output += cout;
        }
#else
        int8_t *patches = (int8_t *)ctx->buf;
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
#if !MF_USE_MVE
            if (!runs ||
                !mf_im2col_inside_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patches)) {
                mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patches);
            }
            if (!runs || !mf_im2col_inside_s8(p, input_dims, in, filter_dims, q / ow, q % ow,
                                     patches + len)) {
                mf_im2col_s8(p, input_dims, in, filter_dims, q / ow, q % ow, patches + len);
            }
#else
            mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patches);
            mf_im2col_s8(p, input_dims, in, filter_dims, q / ow, q % ow, patches + len);
#endif
            mf_nn_mat_mult_s8(patches, patches + len, filter, len, cout, &rq, output);
            output += 2 * cout;
        }
        if (px < pixels) {
            mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patches);
            mf_nn_mat_mult_s8(patches, NULL, filter, len, cout, &rq, output);
            output += cout;
        }
#endif /* MF_PT_PACKED */
#endif
    }
    return MF_OK;
}
