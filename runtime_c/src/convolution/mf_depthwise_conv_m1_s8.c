/*
 * mf_depthwise_conv_m1_s8 - the depthwise variant for channel multiplier 1, four channels per
 * pass: on a DSP core one word load of four input bytes and one of four weights per tap, split
 * by SXTB16 and multiplied by SMLABB/SMLATT (inline assembly on a Cortex-M, beside its C twin).
 * Output pixels whose window lies inside the image (the interior, computed once) take an
 * unrolled path for 3x3 windows, row by row; border pixels walk the taps inside the image, and a
 * tap outside reads the input zero point (which contributes nothing, as TFLite's skipped
 * cells). With MVE the interior 3x3 groups load each tap's four bytes widened to int32 lanes
 * and multiply-add them as one vector; border pixels as on DSP. Called by mf_depthwise_conv_s8
 * after its argument checks. Internal: see mf_internal.h.
 */
#include "mf_internal.h"

#include <stddef.h>

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

/* ---- four channels of one output pixel ----------------------------------------------------
 * acc[0..3] are the sums of channels c..c+3. A tap inside the image reads the four input bytes
 * at x and the four weights at w; a tap outside reads the zero point (zp, the same for every
 * channel) instead. On a Cortex-M each tap is a short inline-assembly block (word loads, SXTB16,
 * SMLABB/SMLATT: compilers spread the same C over more registers than there are and spill);
 * the emulated DSP build runs the same operations in C, the portable build plain C. */
#if MF_USE_DSP && !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__)
#define MF_DW_ASM_TAP(off)                                                                     \
    "ldr %[x], [%[row]" off "]\n\t"                                                            \
    "ldr %[wv], [%[w]" off "]\n\t"                                                             \
    "sxtb16 %[t1], %[x]\n\t"                                                                   \
    "sxtb16 %[t2], %[wv]\n\t"                                                                  \
    "smlabb %[a0], %[t1], %[t2], %[a0]\n\t"                                                    \
    "smlatt %[a2], %[t1], %[t2], %[a2]\n\t"                                                    \
    "sxtb16 %[t1], %[x], ror #8\n\t"                                                           \
    "sxtb16 %[t2], %[wv], ror #8\n\t"                                                          \
    "smlabb %[a1], %[t1], %[t2], %[a1]\n\t"                                                    \
    "smlatt %[a3], %[t1], %[t2], %[a3]\n\t"
#define MF_DW_ASM_ACC [a0] "+r"(acc[0]), [a1] "+r"(acc[1]), [a2] "+r"(acc[2]), [a3] "+r"(acc[3])

/* Three taps of a window row: x, x + cs, x + cs2 (and the same offsets from w). */
static inline void mf_dw_row3(const int8_t *x, const int8_t *w, int32_t cs, int32_t cs2,
                              int32_t *acc)
{
    uint32_t xv, wv, t1, t2;
    __asm__(MF_DW_ASM_TAP("") MF_DW_ASM_TAP(", %[cs]") MF_DW_ASM_TAP(", %[cs2]")
            : MF_DW_ASM_ACC, [x] "=&r"(xv), [wv] "=&r"(wv), [t1] "=&r"(t1), [t2] "=&r"(t2)
            : [row] "r"(x), [w] "r"(w), [cs] "r"(cs), [cs2] "r"(cs2)
            : "memory");
}

static inline void mf_dw_tap(const int8_t *x, const int8_t *w, int32_t *acc)
{
    uint32_t xv, wv, t1, t2;
    __asm__(MF_DW_ASM_TAP("")
            : MF_DW_ASM_ACC, [x] "=&r"(xv), [wv] "=&r"(wv), [t1] "=&r"(t1), [t2] "=&r"(t2)
            : [row] "r"(x), [w] "r"(w)
            : "memory");
}

/* zp2: the zero point in both halfwords. */
static inline void mf_dw_tap_zp(uint32_t zp2, const int8_t *w, int32_t *acc)
{
    uint32_t wv, t2;
    __asm__("ldr %[wv], [%[w]]\n\t"
            "sxtb16 %[t2], %[wv]\n\t"
            "smlabb %[a0], %[z], %[t2], %[a0]\n\t"
            "smlatt %[a2], %[z], %[t2], %[a2]\n\t"
            "sxtb16 %[t2], %[wv], ror #8\n\t"
            "smlabb %[a1], %[z], %[t2], %[a1]\n\t"
            "smlatt %[a3], %[z], %[t2], %[a3]\n\t"
            : MF_DW_ASM_ACC, [wv] "=&r"(wv), [t2] "=&r"(t2)
            : [z] "r"(zp2), [w] "r"(w)
            : "memory");
}
#else
static inline void mf_dw_tap(const int8_t *x, const int8_t *w, int32_t *acc)
{
#if MF_USE_DSP
    const uint32_t xv = mf_read_u32(x);
    const uint32_t wv = mf_read_u32(w);
    const uint32_t xl = mf_sxtb16(xv);
    const uint32_t wl = mf_sxtb16(wv);
    const uint32_t xh = mf_sxtb16_ror8(xv);
    const uint32_t wh = mf_sxtb16_ror8(wv);
    acc[0] = mf_smlabb(xl, wl, acc[0]);
    acc[2] = mf_smlatt(xl, wl, acc[2]);
    acc[1] = mf_smlabb(xh, wh, acc[1]);
    acc[3] = mf_smlatt(xh, wh, acc[3]);
#else
    acc[0] += x[0] * w[0];
    acc[1] += x[1] * w[1];
    acc[2] += x[2] * w[2];
    acc[3] += x[3] * w[3];
#endif
}

static inline void mf_dw_row3(const int8_t *x, const int8_t *w, int32_t cs, int32_t cs2,
                              int32_t *acc)
{
    mf_dw_tap(x, w, acc);
    mf_dw_tap(x + cs, w + cs, acc);
    mf_dw_tap(x + cs2, w + cs2, acc);
}

static inline void mf_dw_tap_zp(uint32_t zp2, const int8_t *w, int32_t *acc)
{
    const int32_t zp = (int32_t)(int16_t)(uint16_t)(zp2 & 0xFFFFu);
    acc[0] += zp * w[0];
    acc[1] += zp * w[1];
    acc[2] += zp * w[2];
    acc[3] += zp * w[3];
}
#endif

/* Requantize acc[0..3] into out[c..c+3]. */
static inline void mf_dw_store4(const mf_nn_requant *rq, const int32_t *acc, int32_t c, int8_t *out)
{
#if MF_USE_DSP
    mf_write_u32(out + c, mf_requant4_s8(rq->multiplier + c, rq->shift + c, 1, rq->output_offset,
                                         &rq->activation, acc[0], acc[1], acc[2], acc[3]));
#else
    out[c] = mf_nn_requant_out(rq, acc[0], c);
    out[c + 1] = mf_nn_requant_out(rq, acc[1], c + 1);
    out[c + 2] = mf_nn_requant_out(rq, acc[2], c + 2);
    out[c + 3] = mf_nn_requant_out(rq, acc[3], c + 3);
#endif
}

static inline void mf_dw_bias4(const int32_t *bias, int32_t c, int32_t *acc)
{
    if (bias != NULL) {
        acc[0] = bias[c];
        acc[1] = bias[c + 1];
        acc[2] = bias[c + 2];
        acc[3] = bias[c + 3];
    } else {
        acc[0] = acc[1] = acc[2] = acc[3] = 0;
    }
}

/* A 3x3 window inside the image, dilation 1 along x, channel multiplier 1: four channels per
 * pass, the three window rows unrolled. `x` is the window's top-left cell, channel 0;
 * row_step the input step between window rows. Channels below C & ~3 only. */
static void mf_dw_3x3_groups(const mf_nn_requant *rq,
                             const int8_t *x,
                             const int8_t *filter,
                             int32_t c_all,
                             ptrdiff_t row_step,
                             int8_t *out)
{
    const int32_t c4 = c_all & ~3;
    const int32_t cs2 = 2 * c_all;
    /* Held in locals: the output stores may alias anything, fields read through rq would be
     * reloaded for every group. */
    const mf_nn_requant r = *rq;
#if MF_USE_MVE
    /* MVE: the four channels' input bytes and weights of a tap widened to int32 lanes by one
     * load each, one vector multiply and add per tap (exact, as the scalar products). */
    for (int32_t c = 0; c < c4; c += 4) {
        int32x4_t a = r.bias != NULL ? vldrwq_s32(r.bias + c) : vdupq_n_s32(0);
        const int8_t *row = x + c;
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < 3; ky++) {
            a = vaddq_s32(a, vmulq_s32(vldrbq_s32(row), vldrbq_s32(w)));
            a = vaddq_s32(a, vmulq_s32(vldrbq_s32(row + c_all), vldrbq_s32(w + c_all)));
            a = vaddq_s32(a, vmulq_s32(vldrbq_s32(row + cs2), vldrbq_s32(w + cs2)));
            row += row_step;
            w += cs2 + c_all;
        }
        int32_t acc[4];
        vstrwq_s32(acc, a);
        mf_dw_store4(&r, acc, c, out);
    }
#else
    for (int32_t c = 0; c < c4; c += 4) {
        int32_t acc[4];
        mf_dw_bias4(r.bias, c, acc);
        const int8_t *row = x + c;
        const int8_t *w = filter + c;
        mf_dw_row3(row, w, c_all, cs2, acc);
        mf_dw_row3(row + row_step, w + cs2 + c_all, c_all, cs2, acc);
        mf_dw_row3(row + 2 * row_step, w + 2 * (cs2 + c_all), c_all, cs2, acc);
        mf_dw_store4(&r, acc, c, out);
    }
#endif
}

/* The interior pixels of one output row, 3x3 window, dilation 1 along x, channel multiplier 1,
 * C % 4 == 0: `x` is the first pixel's window corner, x_step the input step between pixels. */
static void mf_dw_3x3_run(const mf_nn_requant *rq,
                          const int8_t *x,
                          ptrdiff_t x_step,
                          int32_t count,
                          const int8_t *filter,
                          int32_t c_all,
                          ptrdiff_t row_step,
                          int8_t *out)
{
    for (int32_t i = 0; i < count; i++) {
        mf_dw_3x3_groups(rq, x, filter, c_all, row_step, out);
        x += x_step;
        out += c_all;
    }
}

/* Windows of up to this many taps go through a tap list at border pixels. */
#define MF_DW_LIST_TAPS 25

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
    const uint32_t zp2 = 0x00010001u * (uint16_t)(int16_t)(-p->input_offset);
    const mf_nn_requant r = *rq; /* in locals, as in mf_dw_3x3_groups */
    rq = &r;
    int32_t c = 0;
    if (full && kh == 3 && kw == 3 && p->dilation.w == 1) {
        mf_dw_3x3_groups(rq, image + corner, filter, c_all, row_step, out);
        c = c_all & ~3;
    }
    if (kh * kw <= MF_DW_LIST_TAPS && c + 4 <= c_all) {
        /* The window as a list of tap addresses, made once per pixel: a tap inside the image
         * steps through the channels, one outside stays on a word of zero points. */
        const uint32_t zp4 = 0x01010101u * (uint8_t)(-p->input_offset);
        const int8_t *src[MF_DW_LIST_TAPS];
        int32_t step[MF_DW_LIST_TAPS];
        int32_t t = 0;
        for (int32_t ky = 0; ky < kh; ky++) {
            for (int32_t kx = 0; kx < kw; kx++, t++) {
                const int inside = ky >= ky_lo && ky < ky_hi && kx >= kx_lo && kx < kx_hi;
                src[t] = inside ? image + corner + ky * row_step + kx * col_step + c
                                : (const int8_t *)&zp4;
                step[t] = inside ? 4 : 0;
            }
        }
        for (; c + 4 <= c_all; c += 4) {
            int32_t acc[4];
            mf_dw_bias4(rq->bias, c, acc);
            const int8_t *w = filter + c;
            for (t = 0; t < kh * kw; t++) {
                mf_dw_tap(src[t], w, acc);
                src[t] += step[t];
                w += c_all;
            }
            mf_dw_store4(rq, acc, c, out);
        }
    }
    for (; c + 4 <= c_all; c += 4) {
        int32_t acc[4];
        mf_dw_bias4(rq->bias, c, acc);
        const int8_t *w = filter + c;
        for (int32_t ky = 0; ky < kh; ky++) {
            const int row_in = ky >= ky_lo && ky < ky_hi;
            const int32_t lo = row_in ? kx_lo : kw;
            const int32_t hi = row_in ? kx_hi : kw;
            int32_t kx = 0;
            for (; kx < lo; kx++) {
                mf_dw_tap_zp(zp2, w, acc);
                w += c_all;
            }
            const int8_t *x = image + corner + ky * row_step + kx * col_step + c;
            for (; kx < hi; kx++) {
                mf_dw_tap(x, w, acc);
                x += col_step;
                w += c_all;
            }
            for (; kx < kw; kx++) {
                mf_dw_tap_zp(zp2, w, acc);
                w += c_all;
            }
        }
        mf_dw_store4(rq, acc, c, out);
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

void mf_depthwise_conv_m1_s8(const mf_dw_conv_params *p,
                             const mf_nn_requant *rq,
                             const mf_dims *input_dims,
                             const int8_t *input,
                             const mf_dims *filter_dims,
                             const int8_t *filter,
                             const mf_dims *output_dims,
                             int8_t *output)
{
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * cin;
    int32_t y_lo, y_hi, x_lo, x_hi;
    mf_interior(input_dims->h, output_dims->h, filter_dims->h, p->stride.h, p->padding.h,
                p->dilation.h, &y_lo, &y_hi);
    mf_interior(input_dims->w, output_dims->w, filter_dims->w, p->stride.w, p->padding.w,
                p->dilation.w, &x_lo, &x_hi);

    /* Interior pixels of the common case go row by row, without the per-pixel set-up. */
    const int run3x3 = filter_dims->h == 3 && filter_dims->w == 3 && p->dilation.w == 1 &&
                       (cin & 3) == 0;
    const ptrdiff_t row_step = (ptrdiff_t)p->dilation.h * input_dims->w * cin;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int row_inside = oy >= y_lo && oy < y_hi;
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                if (run3x3 && row_inside && ox == x_lo && x_hi > x_lo) {
                    const ptrdiff_t corner = ((ptrdiff_t)y0 * input_dims->w + x0) * cin;
                    mf_dw_3x3_run(rq, in + corner, (ptrdiff_t)p->stride.w * cin, x_hi - x_lo,
                                  filter, cin, row_step, output);
                    output += (size_t)(x_hi - x_lo) * cout;
                    ox = x_hi - 1;
                    continue;
                }
                if (row_inside && ox >= x_lo && ox < x_hi) {
                    mf_dw_pixel_m1(p, rq, input_dims, in, y0, x0, filter_dims, filter, 0,
                                   filter_dims->h, 0, filter_dims->w, output);
                } else {
                    int32_t ky_lo, ky_hi, kx_lo, kx_hi;
                    mf_taps_inside(y0, filter_dims->h, p->dilation.h, input_dims->h, &ky_lo,
                                   &ky_hi);
                    mf_taps_inside(x0, filter_dims->w, p->dilation.w, input_dims->w, &kx_lo,
                                   &kx_hi);
                    mf_dw_pixel_m1(p, rq, input_dims, in, y0, x0, filter_dims, filter, ky_lo,
                                   ky_hi, kx_lo, kx_hi, output);
                }
                output += cout;
            }
        }
    }
}
