/*
 * mf_depthwise_conv3_mve16_s8 - the Helium (MVE) 3x3 depthwise convolution with eight channels
 * per vector: channel multiplier 1, dilation 1, C % 8 == 0, any stride and padding, borders
 * included (speed-m55, issue 12).
 *
 * A tap of eight channels is one widening gather of eight input bytes into int16 lanes (byte
 * offsets kx * C + lane from the window row, so no address arithmetic per tap), one of eight
 * weights, and VMULLB / VMULLT: the products of the even and of the odd channels as int32,
 * added to two accumulators (even channels 0, 2, 4, 6 and odd 1, 3, 5, 7 of the group). The
 * products are exact and the sums too, so the result equals the scalar loops. A tap outside the
 * image multiplies the weights by the input zero point (the bias holds the input offset times
 * every weight, mf_nn.h), exactly what TFLite's skipped taps contribute.
 * Requantization: the even and odd channels' bias, multipliers and shifts are gathered with
 * stride 2, both accumulators requantized (mf_mve_nn.h), narrowed with saturation into the
 * bottom and top int16 lanes (which puts the eight channels back in order), then the output
 * offset added (saturating), clamped to the activation and stored as eight bytes. Saturating
 * to int16 first changes nothing: a value past int16 is past the activation range either way.
 * The interior and the left and right border columns are specialized with constant tap masks.
 * Output pixels are written in increasing order; a window reads its three input rows only.
 * Internal: see mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"

#include <stddef.h>
#include <string.h>

#if MF_USE_MVE

#define MF_DW16_ZROW 384 /* stack bytes of the zero-point row: C <= 128 */

typedef struct {
    const int8_t *filter; /* (3, 3, C) */
    int32_t c;
    int32_t zp; /* input zero point: what a padded cell holds */
    const int32_t *bias, *mult, *shift;
    int32_t offset, act_min, act_max;
} mf_dw16_layer;

#if !MF_MVE_ASM
/* One pixel, every group of eight channels: the intrinsics (the host, and on the target the
 * masks the assembly does not take), loops kept compact. r0..r2: window row ky's input at
 * column x0 + lo (channel 0), for the rows whose bit is set in `rows`; taps kx in [lo, hi)
 * inside, the others read the zero point. */
static void mf_dw16_pixel(const mf_dw16_layer *L,
                          const int8_t *r0,
                          const int8_t *r1,
                          const int8_t *r2,
                          uint32_t rows,
                          int32_t lo,
                          int32_t hi,
                          int8_t *out)
{
    const int32_t c = L->c;
    const int8_t *rp[3] = {r0, r1, r2};
    const uint16x8_t lanes = vidupq_n_u16(0, 1);
    const uint32x4_t even = vidupq_n_u32(0, 2);
    const int16x8_t zpv = vdupq_n_s16((int16_t)L->zp);
    for (int32_t g = 0; g < c; g += 8) {
        int32x4_t ae = vldrwq_gather_shifted_offset_s32(L->bias + g, even);
        int32x4_t ao = vldrwq_gather_shifted_offset_s32(L->bias + g + 1, even);
        for (int32_t t = 0; t < 9; t++) {
            const int32_t ky = t / 3, kx = t % 3;
            const int16x8_t wv = vldrbq_gather_offset_s16(L->filter + t * c + g, lanes);
            const int16x8_t xv = ((rows >> ky) & 1u) && kx >= lo && kx < hi
                                     ? vldrbq_gather_offset_s16(rp[ky] + (kx - lo) * c + g, lanes)
                                     : zpv;
            ae = vaddq_s32(ae, vmullbq_int_s16(xv, wv));
            ao = vaddq_s32(ao, vmulltq_int_s16(xv, wv));
        }
        const int32x4_t e =
            mf_mve_requantize(ae, vldrwq_gather_shifted_offset_s32(L->mult + g, even),
                              vldrwq_gather_shifted_offset_s32(L->shift + g, even));
        const int32x4_t o =
            mf_mve_requantize(ao, vldrwq_gather_shifted_offset_s32(L->mult + g + 1, even),
                              vldrwq_gather_shifted_offset_s32(L->shift + g + 1, even));
        int16x8_t v = vqmovntq_s32(vqmovnbq_s32(zpv, e), o);
        v = vminq_s16(vmaxq_s16(vqaddq_s16(v, vdupq_n_s16((int16_t)L->offset)),
                                vdupq_n_s16((int16_t)L->act_min)),
                      vdupq_n_s16((int16_t)L->act_max));
        vstrbq_s16(out + g, v);
    }
}
#endif /* !MF_MVE_ASM */

#if MF_MVE_ASM
/* The Cortex-M55 build of mf_dw16_pixel for the three rows inside, in one hand-scheduled block
 * (GCC spills the offset vectors of the intrinsic version to the stack on every tap). q5-q7:
 * the byte offsets kx * C + lane, loaded once per pixel (the requantization uses q0-q4 only);
 * q3 / q4: the even / odd channel sums; a tap inside is two
 * gathers, VMULLB, VMULLT and two VADDs, a tap in an outside column (left or right border)
 * takes the zero-point vector instead of the input gather. `k` (the layer block): even and odd
 * lane indices (u32), the three offset vectors, zero point, output offset, activation minimum
 * and maximum (int16 x 8 each). */
#define MF_DW16_IN(x, wo, xo)                                                                  \
    "vldrb.s16 q1, [%[w], " wo "]\n\t"                                                          \
    "vldrb.s16 q0, [%[" x "], " xo "]\n\t"                                                      \
    "vmullb.s16 q2, q0, q1\n\t"                                                                \
    "vadd.i32 q3, q3, q2\n\t"                                                                  \
    "vmullt.s16 q2, q0, q1\n\t"                                                                \
    "vadd.i32 q4, q4, q2\n\t"
#define MF_DW16_OUT(x, wo)                                                                      \
    "vldrb.s16 q1, [%[w], " wo "]\n\t"                                                          \
    "vldrh.u16 q0, [%[k], #80]\n\t"                                                             \
    "vmullb.s16 q2, q0, q1\n\t"                                                                \
    "vadd.i32 q3, q3, q2\n\t"                                                                  \
    "vmullt.s16 q2, q0, q1\n\t"                                                                \
    "vadd.i32 q4, q4, q2\n\t"
/* acc (q3 or q4) requantized with multipliers q0 and shifts q1: right = min(s, 0) as
 * s & (s >> 31), left = s - right (mf_mve_requantize). */
#define MF_DW16_REQ(acc)                                                                       \
    "vshr.s32 q2, q1, #31\n\t"                                                                 \
    "vand q2, q1, q2\n\t"                                                                      \
    "vsub.i32 q1, q1, q2\n\t"                                                                  \
    "vshl.s32 " acc ", " acc ", q1\n\t"                                                        \
    "vqrdmulh.s32 " acc ", " acc ", q0\n\t"                                                    \
    "vand q1, " acc ", q2\n\t"                                                                 \
    "vshr.s32 q1, q1, #31\n\t"                                                                 \
    "vqadd.s32 " acc ", " acc ", q1\n\t"                                                       \
    "vrshl.s32 " acc ", " acc ", q2\n\t"
#define MF_DW16_GROUPS(ROW)                                                                    \
    __asm__ volatile("ldr lr, [%[k], #144]\n\t"                                               \
                     "ldr r12, [%[k], #148]\n\t"                                              \
                     "vldrh.u16 q5, [%[t]]\n\t"                                                 \
                     "vldrh.u16 q6, [%[t], #16]\n\t"                                            \
                     "vldrh.u16 q7, [%[t], #32]\n\t"                                            \
                     "dls lr, lr\n"                                                            \
                     "1:\n\t"                                                                   \
                     "vldrw.u32 q2, [%[k]]\n\t"                                                 \
                     "vldrw.u32 q3, [%[bias], q2, uxtw #2]\n\t"                                 \
                     "vldrw.u32 q2, [%[k], #16]\n\t"                                            \
                     "vldrw.u32 q4, [%[bias], q2, uxtw #2]\n\t"                                 \
                     ROW("x0")                                \
                     "add %[w], %[w], r12\n\t" ROW("x1")                                     \
                     "add %[w], %[w], r12\n\t" ROW("x2")                                     \
                     "sub %[w], %[w], r12, lsl #1\n\t"                                      \
                     "adds %[x0], %[x0], #8\n\t"                                               \
                     "adds %[x1], %[x1], #8\n\t"                                               \
                     "adds %[x2], %[x2], #8\n\t"                                               \
                     "adds %[w], %[w], #8\n\t"                                                 \
                     "vldrw.u32 q2, [%[k]]\n\t"                                                 \
                     "vldrw.u32 q0, [%[mult], q2, uxtw #2]\n\t"                                 \
                     "vldrw.u32 q1, [%[shift], q2, uxtw #2]\n\t" MF_DW16_REQ("q3")              \
                     "vldrw.u32 q2, [%[k], #16]\n\t"                                            \
                     "vldrw.u32 q0, [%[mult], q2, uxtw #2]\n\t"                                 \
                     "vldrw.u32 q1, [%[shift], q2, uxtw #2]\n\t" MF_DW16_REQ("q4")              \
                     "vqmovnb.s32 q0, q3\n\t"                                                   \
                     "vqmovnt.s32 q0, q4\n\t"                                                   \
                     "vldrh.u16 q1, [%[k], #96]\n\t"                                            \
                     "vqadd.s16 q0, q0, q1\n\t"                                                 \
                     "vldrh.u16 q1, [%[k], #112]\n\t"                                           \
                     "vmax.s16 q0, q0, q1\n\t"                                                  \
                     "vldrh.u16 q1, [%[k], #128]\n\t"                                           \
                     "vmin.s16 q0, q0, q1\n\t"                                                  \
                     "vstrb.16 q0, [%[o]], #8\n\t"                                              \
                     "adds %[bias], %[bias], #32\n\t"                                          \
                     "adds %[mult], %[mult], #32\n\t"                                          \
                     "adds %[shift], %[shift], #32\n\t"                                        \
                     "le lr, 1b\n"                                                              \
                     : [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w),                \
                       [bias] "+r"(bias), [mult] "+r"(mult), [shift] "+r"(shift), [o] "+l"(out) \
                     : [k] "r"(k), [t] "r"(t)                                                   \
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "r12", "lr", "memory", "cc")
#define MF_DW16_ROW_ALL(x) MF_DW16_IN(x, "q5", "q5") MF_DW16_IN(x, "q6", "q6") MF_DW16_IN(x, "q7", "q7")
/* one column outside: its weights at offsets q5 times the zero point, the others at q6 and q7
 * in the weights and the input alike (left border: the row pointers one column left of the
 * image, never read there; offsets (0, C, 2C); right border: offsets (2C, 0, C)) */
#define MF_DW16_ROW_BORDER(x) MF_DW16_OUT(x, "q5") MF_DW16_IN(x, "q6", "q6") MF_DW16_IN(x, "q7", "q7")

/* One pixel, every group: mask 0 whole window, 1 column 0 outside, 2 column 2 outside; window
 * rows at x0, x1, x2 (mask 1: one column left of the first inside tap). */
__attribute__((noinline)) static void mf_dw16_pixel_asm(const int8_t *x0, const int8_t *x1,
                                                         const int8_t *x2, int8_t *out,
                                                         const mf_dw16_layer *L,
                                                         const uint32_t *k, int mask)
{
    const int8_t *w = L->filter;
    const int32_t *bias = L->bias, *mult = L->mult, *shift = L->shift;
    const uint32_t *t = k + (mask == 2 ? 38 : 8); /* the three offset vectors */
    if (mask == 0) {
        MF_DW16_GROUPS(MF_DW16_ROW_ALL);
    } else {
        MF_DW16_GROUPS(MF_DW16_ROW_BORDER);
    }
}

/* n pixels of one row with the same mask, window rows stepping `step` bytes per pixel. */
static void mf_dw16_run_asm(const mf_dw16_layer *L, const uint32_t *k, const int8_t *r0,
                            const int8_t *r1, const int8_t *r2, ptrdiff_t step, int32_t n,
                            int mask, int8_t *dst)
{
    if (mask == 1) { /* addresses only: the taps read are C bytes on */
        r0 = (const int8_t *)((uintptr_t)r0 - (uintptr_t)L->c);
        r1 = (const int8_t *)((uintptr_t)r1 - (uintptr_t)L->c);
        r2 = (const int8_t *)((uintptr_t)r2 - (uintptr_t)L->c);
    }
    for (int32_t i = 0; i < n; i++) {
        mf_dw16_pixel_asm(r0, r1, r2, dst, L, k, mask);
        r0 += step;
        r1 += step;
        r2 += step;
        dst += L->c;
    }
}
#undef MF_DW16_IN
#undef MF_DW16_OUT
#undef MF_DW16_REQ
#undef MF_DW16_GROUPS
#undef MF_DW16_ROW_ALL
#undef MF_DW16_ROW_BORDER
#endif /* MF_MVE_ASM */

/* n pixels of one output row (window rows inside or the zero-point row), taps [lo, hi) inside
 * along x (the whole window, or the left or right column outside: mf_depthwise_conv3_mve16_takes),
 * window rows at r0, r1, r2 stepping `step` bytes per pixel: in assembly on the target, with the
 * intrinsics on the host. `k`: mf_dw16_run_asm's layer block. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw16_run(const mf_dw16_layer *L, const uint32_t *k, const int8_t *r0,
                        const int8_t *r1, const int8_t *r2, ptrdiff_t step, int32_t n, int32_t lo,
                        int32_t hi, int8_t *out)
{
#if MF_MVE_ASM
    mf_dw16_run_asm(L, k, r0, r1, r2, step, n, hi == 3 ? lo : 2, out);
#else
    (void)k;
    for (int32_t i = 0; i < n; i++) {
        mf_dw16_pixel(L, r0 + i * step, r1 + i * step, r2 + i * step, 7u, lo, hi, out + i * L->c);
    }
#endif
}

int mf_depthwise_conv3_mve16_takes(const mf_dw_conv_params *p,
                                   const mf_dims *input_dims,
                                   const mf_dims *output_dims)
{
    const int32_t c = input_dims->c;
    /* every window has its left or right column inside at least, the other two too: padding of
     * at most one column on the left, the last window's right column at most one past the image */
    return c % 8 == 0 && c >= 32 && 3 * c <= MF_DW16_ZROW && input_dims->w >= 2 &&
           p->padding.w <= 1 &&
           (output_dims->w - 1) * p->stride.w - p->padding.w <= input_dims->w - 2;
}

void mf_depthwise_conv3_mve16_s8(const mf_dw_conv_params *p,
                                 const mf_nn_requant *rq,
                                 const mf_dims *input_dims,
                                 const int8_t *image,
                                 const int8_t *filter,
                                 const mf_dims *output_dims,
                                 int8_t *output)
{
    mf_dw16_layer L;
    L.filter = filter;
    L.c = input_dims->c;
    L.zp = -p->input_offset;
    L.bias = rq->bias;
    L.mult = rq->multiplier;
    L.shift = rq->shift;
    L.offset = rq->output_offset;
    L.act_min = rq->activation.min;
    L.act_max = rq->activation.max;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const ptrdiff_t rs = (ptrdiff_t)in_w * c;
    const int32_t ow = output_dims->w;
    /* mf_dw16_groups_asm's block: lane indices, tap offsets, zero point, output offset and
     * activation bounds */
    union {
        uint32_t u32[50];
        uint16_t u16[100];
    } k;
    for (int32_t l = 0; l < 4; l++) {
        k.u32[l] = 2u * (uint32_t)l;
        k.u32[4 + l] = 2u * (uint32_t)l + 1u;
    }
    k.u32[36] = (uint32_t)(c / 8);     /* groups */
    k.u32[37] = 3u * (uint32_t)c; /* filter bytes per window row */
    for (int32_t l = 0; l < 8; l++) {
        k.u16[16 + l] = (uint16_t)l;
        k.u16[24 + l] = (uint16_t)(c + l);
        k.u16[32 + l] = (uint16_t)(2 * c + l);
        k.u16[40 + l] = (uint16_t)(int16_t)L.zp;
        k.u16[48 + l] = (uint16_t)(int16_t)L.offset;
        k.u16[56 + l] = (uint16_t)(int16_t)L.act_min;
        k.u16[64 + l] = (uint16_t)(int16_t)L.act_max;
        k.u16[76 + l] = (uint16_t)(2 * c + l); /* right border: offsets (2C, 0, C) + lane */
        k.u16[84 + l] = (uint16_t)l;
        k.u16[92 + l] = (uint16_t)(c + l);
    }
    /* a window row outside the image: 3C zero-point bytes (C <= 128, _takes) */
    int8_t zrow[MF_DW16_ZROW];
    memset(zrow, L.zp, (size_t)(3 * c));
    /* output columns below x_hi have their window's right column inside the image */
    const int32_t last = in_w - 3 + p->padding.w;
    const int32_t x_hi = last < 0 ? 0 : mf_min_i32(last / p->stride.w + 1, ow);
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * p->stride.h - p->padding.h;
        uint32_t rows = 0;
        for (int32_t ky = 0; ky < 3; ky++) {
            rows |= (uint32_t)(y0 + ky >= 0 && y0 + ky < in_h) << ky;
        }
        int8_t *out = output + (size_t)oy * ow * c;
        for (int32_t ox = 0; ox < ow;) {
            const int32_t x0 = ox * p->stride.w - p->padding.w;
            const int32_t lo = mf_clamp_i32(-x0, 0, 3);
            const int32_t hi = mf_clamp_i32(in_w - x0, lo, 3);
            const uint32_t in = rows;
            /* window row ky at column x0 + lo, formed only for rows inside; rows outside read
             * the zero-point row when there is one */
            const int8_t *r[3] = {zrow, zrow, zrow};
            for (int32_t ky = 0; ky < 3; ky++) {
                if ((in >> ky) & 1u) {
                    r[ky] = image + (ptrdiff_t)(y0 + ky) * rs + (ptrdiff_t)(x0 + lo) * c;
                }
            }
            /* the interior of a row (whole windows) as one run, up to x_hi */
            const int32_t n = in == 7u && lo == 0 && hi == 3 && x_hi > ox ? x_hi - ox : 1;
            mf_dw16_run(&L, k.u32, r[0], r[1], r[2], (ptrdiff_t)p->stride.w * c, n, lo, hi, out);
            ox += n;
            out += (size_t)n * c;
        }
    }
}

#endif /* MF_USE_MVE */
