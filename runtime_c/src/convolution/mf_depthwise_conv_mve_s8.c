/*
 * mf_depthwise_conv_mve_s8 - the Helium (MVE) depthwise convolution: every channel multiplier,
 * kernel size, stride and dilation, borders included. Output channels sit in the four int32
 * lanes of a vector: a tap is one widening load of four input bytes (a gather when the channel
 * multiplier is above 1: lane l reads input channel (oc + l) / ch_mult), one of four weights,
 * a VMUL and a VADD (the products are exact, so the sum equals the scalar one). A tap outside
 * the image multiplies the weights by the input zero point (VMLA by a scalar): the bias holds
 * the input offset times every weight (mf_nn.h), so the padded cells contribute exactly what
 * TFLite's skipped cells do. Pixels whose window lies inside the image go two at a time,
 * sharing each weight load. The last C % 4 channels are one tail-predicated group.
 * The four accumulators of a group are requantized as one vector (mf_mve_nn.h).
 * Called by mf_depthwise_conv_s8 after its argument checks on MVE cores. Internal: see
 * mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"

#include <stddef.h>

#if MF_USE_MVE

/* What every pixel of a layer shares. */
typedef struct {
    const int8_t *image;  /* this batch image */
    const int8_t *filter; /* (KH, KW, C_out) */
    int32_t in_h, in_w, in_c, out_c;
    int32_t kh, kw, dil_h, dil_w;
    int32_t zp; /* input zero point: what a padded cell holds */
    ptrdiff_t row_step; /* input bytes between window rows: dil_h * W * C_in */
    ptrdiff_t col_step; /* between window columns: dil_w * C_in */
    int32_t cfg[12];    /* output offset, activation minimum and maximum, four lanes each */
} mf_dw_layer;

/* The four input values of output channels oc..oc+3 at one input pixel: contiguous for channel
 * multiplier 1 (`off` unused), gathered at byte offsets `off` otherwise. `p` masks the tail. */
static MF_MVE_INLINE int32x4_t mf_dw_x(const int8_t *pixel, int32_t oc, uint32x4_t off, int gather,
                                int tail, mve_pred16_t p)
{
    if (gather) {
        return tail ? vldrbq_gather_offset_z_s32(pixel, off, p)
                    : vldrbq_gather_offset_s32(pixel, off);
    }
    return tail ? vldrbq_z_s32(pixel + oc, p) : vldrbq_s32(pixel + oc);
}

static MF_MVE_INLINE int32x4_t mf_dw_w(const int8_t *w, int tail, mve_pred16_t p)
{
    return tail ? vldrbq_z_s32(w, p) : vldrbq_s32(w);
}

/* One pixel, channels oc..oc+3: window taps ky in [ky_lo, ky_hi), kx in [kx_lo, kx_hi) are
 * inside the image, the others read the zero point. `corner` is the input offset of tap
 * (0, 0), possibly outside the image (only inside taps form addresses). */
static MF_MVE_INLINE int32x4_t mf_dw_pixel(const mf_dw_layer *L, ptrdiff_t corner, int32_t ky_lo,
                                    int32_t ky_hi, int32_t kx_lo, int32_t kx_hi, int32_t oc,
                                    uint32x4_t off, int gather, int tail, mve_pred16_t p,
                                    int32x4_t acc)
{
    const int8_t *w = L->filter + oc;
    const int32_t cout = L->out_c;
    for (int32_t ky = 0; ky < L->kh; ky++) {
        const int row_in = ky >= ky_lo && ky < ky_hi;
        const int32_t lo = row_in ? kx_lo : L->kw;
        const int32_t hi = row_in ? kx_hi : L->kw;
        int32_t kx = 0;
        for (; kx < lo; kx++) {
            acc = vmlaq_n_s32(acc, mf_dw_w(w, tail, p), L->zp);
            w += cout;
        }
        if (kx < hi) {
            const int8_t *x = L->image + corner + ky * L->row_step + kx * L->col_step;
            for (; kx < hi; kx++) {
                acc = vaddq_s32(acc, vmulq_s32(mf_dw_x(x, oc, off, gather, tail, p),
                                               mf_dw_w(w, tail, p)));
                x += L->col_step;
                w += cout;
            }
        }
        for (; kx < L->kw; kx++) {
            acc = vmlaq_n_s32(acc, mf_dw_w(w, tail, p), L->zp);
            w += cout;
        }
    }
    return acc;
}

/* One pixel, channels oc..oc+3, a window of at most 32 taps: bit ky * kw + kx of `inside` set
 * for the taps inside the image (the others read the zero point). With kh and kw constants
 * (3x3) the taps unroll and each one is a test of a bit. */
static MF_MVE_INLINE int32x4_t mf_dw_masked(const mf_dw_layer *L, int32_t kh, int32_t kw,
                                           ptrdiff_t corner, uint32_t inside, int32_t oc,
                                           uint32x4_t off, int gather, int tail,
                                           mve_pred16_t p, int32x4_t acc)
{
    const int8_t *w = L->filter + oc;
    const int32_t cout = L->out_c;
    for (int32_t ky = 0; ky < kh; ky++) {
            for (int32_t kx = 0; kx < kw; kx++) {
            const int32x4_t wv = mf_dw_w(w, tail, p);
            if ((inside >> (ky * kw + kx)) & 1u) {
                const int8_t *x = L->image + corner + ky * L->row_step + kx * L->col_step;
                acc = vaddq_s32(acc, vmulq_s32(mf_dw_x(x, oc, off, gather, tail, p), wv));
            } else {
                acc = vmlaq_n_s32(acc, wv, L->zp);
            }
            w += cout;
        }
    }
    return acc;
}

/* Two pixels with whole windows inside the image (corners x0 and x1), channels oc..oc+3: each
 * weight vector is loaded once for both. */
static MF_MVE_INLINE void mf_dw_pair(const mf_dw_layer *L, int32_t kh, int32_t kw,
                                     const int8_t *x0, const int8_t *x1, int32_t oc,
                                     uint32x4_t off, int gather, int tail, mve_pred16_t p,
                                     int32x4_t *acc0, int32x4_t *acc1)
{
    const int8_t *w = L->filter + oc;
    const int32_t cout = L->out_c;
    int32x4_t a0 = *acc0, a1 = *acc1;
    for (int32_t ky = 0; ky < kh; ky++) {
        const int8_t *r0 = x0 + ky * L->row_step;
        const int8_t *r1 = x1 + ky * L->row_step;
            for (int32_t kx = 0; kx < kw; kx++) {
            const int32x4_t wv = mf_dw_w(w, tail, p);
            a0 = vaddq_s32(a0, vmulq_s32(mf_dw_x(r0, oc, off, gather, tail, p), wv));
            a1 = vaddq_s32(a1, vmulq_s32(mf_dw_x(r1, oc, off, gather, tail, p), wv));
            r0 += L->col_step;
            r1 += L->col_step;
            w += cout;
        }
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* ---- 3x3, channel multiplier 1, dilation 1 along x ---------------------------------------
 * Tap kx of a window row is kx * C bytes after the row's first cell, in the input and in the
 * filter alike (C_out = C), so three offset vectors o[kx] = kx * C + (0, 1, 2, 3) address every
 * tap as a gather from a row pointer: a tap is two gathers, a VMUL and a VADD, with no address
 * arithmetic. */
typedef struct {
    uint32x4_t o0, o1, o2;
} mf_dw3_offsets;

#define MF_DW3_ROW2(xa, xb, wr)                                                                \
    do {                                                                                       \
        int32x4_t wv = vldrbq_gather_offset_s32(wr, o.o0);                                     \
        a0 = vaddq_s32(a0, vmulq_s32(vldrbq_gather_offset_s32(xa, o.o0), wv));                 \
        a1 = vaddq_s32(a1, vmulq_s32(vldrbq_gather_offset_s32(xb, o.o0), wv));                 \
        wv = vldrbq_gather_offset_s32(wr, o.o1);                                               \
        a0 = vaddq_s32(a0, vmulq_s32(vldrbq_gather_offset_s32(xa, o.o1), wv));                 \
        a1 = vaddq_s32(a1, vmulq_s32(vldrbq_gather_offset_s32(xb, o.o1), wv));                 \
        wv = vldrbq_gather_offset_s32(wr, o.o2);                                               \
        a0 = vaddq_s32(a0, vmulq_s32(vldrbq_gather_offset_s32(xa, o.o2), wv));                 \
        a1 = vaddq_s32(a1, vmulq_s32(vldrbq_gather_offset_s32(xb, o.o2), wv));                 \
    } while (0)

/* Two pixels whose windows are inside the image (x0, x1: their top-left cells, channel oc;
 * w: the filter at tap 0, channel oc), channels oc..oc+3. */
static MF_MVE_INLINE void mf_dw3_pair(const int8_t *x0, const int8_t *x1, ptrdiff_t rs,
                                      const int8_t *w, ptrdiff_t wrs, mf_dw3_offsets o,
                                      int32x4_t *acc0, int32x4_t *acc1)
{
    int32x4_t a0 = *acc0, a1 = *acc1;
#if MF_MVE_ASM
    /* The same taps scheduled by hand: one temporary vector for the products, the row pointers
     * stepped in place (GCC recomputes every tap's address and spills). */
#define MF_DW3_ASM_ROW                                                                         \
    "vldrb.s32 %q[wv], [%[w], %q[o0]]\n\t"                                                     \
    "vldrb.s32 %q[t], [%[p0], %q[o0]]\n\t"                                                     \
    "vmul.i32 %q[t], %q[t], %q[wv]\n\t"                                                        \
    "vadd.i32 %q[a0], %q[a0], %q[t]\n\t"                                                       \
    "vldrb.s32 %q[t], [%[p1], %q[o0]]\n\t"                                                     \
    "vmul.i32 %q[t], %q[t], %q[wv]\n\t"                                                        \
    "vadd.i32 %q[a1], %q[a1], %q[t]\n\t"                                                       \
    "vldrb.s32 %q[wv], [%[w], %q[o1]]\n\t"                                                     \
    "vldrb.s32 %q[t], [%[p0], %q[o1]]\n\t"                                                     \
    "vmul.i32 %q[t], %q[t], %q[wv]\n\t"                                                        \
    "vadd.i32 %q[a0], %q[a0], %q[t]\n\t"                                                       \
    "vldrb.s32 %q[t], [%[p1], %q[o1]]\n\t"                                                     \
    "vmul.i32 %q[t], %q[t], %q[wv]\n\t"                                                        \
    "vadd.i32 %q[a1], %q[a1], %q[t]\n\t"                                                       \
    "vldrb.s32 %q[wv], [%[w], %q[o2]]\n\t"                                                     \
    "vldrb.s32 %q[t], [%[p0], %q[o2]]\n\t"                                                     \
    "vmul.i32 %q[t], %q[t], %q[wv]\n\t"                                                        \
    "vadd.i32 %q[a0], %q[a0], %q[t]\n\t"                                                       \
    "vldrb.s32 %q[t], [%[p1], %q[o2]]\n\t"                                                     \
    "vmul.i32 %q[t], %q[t], %q[wv]\n\t"                                                        \
    "vadd.i32 %q[a1], %q[a1], %q[t]\n\t"
    int32x4_t wv, t;
    __asm__ volatile(MF_DW3_ASM_ROW
                     "add %[p0], %[p0], %[rs]\n\t"
                     "add %[p1], %[p1], %[rs]\n\t"
                     "add %[w], %[w], %[wrs]\n\t" MF_DW3_ASM_ROW
                     "add %[p0], %[p0], %[rs]\n\t"
                     "add %[p1], %[p1], %[rs]\n\t"
                     "add %[w], %[w], %[wrs]\n\t" MF_DW3_ASM_ROW
                     : [a0] "+w"(a0), [a1] "+w"(a1), [wv] "=&w"(wv), [t] "=&w"(t),
                       [p0] "+r"(x0), [p1] "+r"(x1), [w] "+r"(w)
                     : [rs] "r"(rs), [wrs] "r"(wrs), [o0] "w"(o.o0), [o1] "w"(o.o1),
                       [o2] "w"(o.o2)
                     : "memory");
#undef MF_DW3_ASM_ROW
#else
    MF_DW3_ROW2(x0, x1, w);
    MF_DW3_ROW2(x0 + rs, x1 + rs, w + wrs);
    MF_DW3_ROW2(x0 + 2 * rs, x1 + 2 * rs, w + 2 * wrs);
#endif
    *acc0 = a0;
    *acc1 = a1;
}
#undef MF_DW3_ROW2

/* One pixel, channels oc..oc+3, the taps whose bit (3 ky + kx) is set in `inside` read the
 * image at byte offset xo + ky * rs + kx * C from `image`, the others the zero point. Called
 * with constant masks for the usual cases (whole window, left or right column outside), so
 * that the tests fold away. */
#define MF_DW3_TAP(bit, wr, ov, xoff)                                                         \
    do {                                                                                       \
        const int32x4_t wv = vldrbq_gather_offset_s32(wr, ov);                                  \
        if (inside & (1u << (bit))) {                                                          \
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(image + (xoff)), wv));                   \
        } else {                                                                               \
            acc = vmlaq_n_s32(acc, wv, zp);                                                    \
        }                                                                                      \
    } while (0)

static MF_MVE_INLINE int32x4_t mf_dw3_masked(const int8_t *image, ptrdiff_t xo, ptrdiff_t rs,
                                             ptrdiff_t c, int32_t zp, uint32_t inside,
                                             const int8_t *w, mf_dw3_offsets o, int32x4_t acc)
{
    const ptrdiff_t wrs = 3 * c;
    MF_DW3_TAP(0, w, o.o0, xo);
    MF_DW3_TAP(1, w, o.o1, xo + c);
    MF_DW3_TAP(2, w, o.o2, xo + 2 * c);
    MF_DW3_TAP(3, w + wrs, o.o0, xo + rs);
    MF_DW3_TAP(4, w + wrs, o.o1, xo + rs + c);
    MF_DW3_TAP(5, w + wrs, o.o2, xo + rs + 2 * c);
    MF_DW3_TAP(6, w + 2 * wrs, o.o0, xo + 2 * rs);
    MF_DW3_TAP(7, w + 2 * wrs, o.o1, xo + 2 * rs + c);
    MF_DW3_TAP(8, w + 2 * wrs, o.o2, xo + 2 * rs + 2 * c);
    return acc;
}
#undef MF_DW3_TAP

/* The full groups (C & ~3 channels) of two interior pixels (pair: corners corner0, corner1)
 * or of one pixel with the taps `inside`; per-channel multipliers and a bias (the fast path's
 * condition). Everything the loop needs is in locals: the int8 output stores may alias any
 * memory, so fields read through pointers would be reloaded in every group. */
static MF_MVE_INLINE void mf_dw3_groups(const mf_dw_layer *L, const mf_nn_requant *rq,
                                        mf_dw3_offsets o, ptrdiff_t corner0, ptrdiff_t corner1,
                                        int pair, uint32_t inside, int8_t *out0, int8_t *out1)
{
    const int32_t c4 = L->out_c & ~3;
    const ptrdiff_t c = L->in_c;
    const ptrdiff_t rs = L->row_step;
    const int32_t zp = L->zp;
    const int8_t *image = L->image;
    const int8_t *w = L->filter;
    const int32_t *bias = rq->bias;
    const int32_t *mult = rq->multiplier;
    const int32_t *shift = rq->shift;
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int8_t *x0 = pair ? image + corner0 : image;
    const int8_t *x1 = pair ? image + corner1 : image;
    for (int32_t oc = 0; oc < c4; oc += 4) {
        const int32x4_t b = vldrwq_s32(bias);
        if (pair) {
            int32x4_t a0 = b, a1 = b;
            mf_dw3_pair(x0, x1, rs, w, 3 * c, o, &a0, &a1);
            const int32x4_t m = vldrwq_s32(mult);
            const int32x4_t sh = vldrwq_s32(shift);
            vstrbq_s32(out0, mf_mve_offset_clamp(mf_mve_requantize(a0, m, sh), off, lo, hi));
            vstrbq_s32(out1, mf_mve_offset_clamp(mf_mve_requantize(a1, m, sh), off, lo, hi));
            x0 += 4;
            x1 += 4;
            out1 += 4;
        } else {
            const int32x4_t a = mf_dw3_masked(image, corner0 + oc, rs, c, zp, inside, w, o, b);
            const int32x4_t m = vldrwq_s32(mult);
            const int32x4_t sh = vldrwq_s32(shift);
            vstrbq_s32(out0, mf_mve_offset_clamp(mf_mve_requantize(a, m, sh), off, lo, hi));
        }
        out0 += 4;
        w += 4;
        bias += 4;
        mult += 4;
        shift += 4;
    }
}

/* One pixel's full groups, the usual masks as constants. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
#if MF_MVE_ASM
/* All full groups of one pixel whose three window rows are inside the image, in one block: a
 * tap inside is two gathers (offset vectors q5-q7), VMUL and VADD; a tap in an outside column
 * (left or right border) is the weights times the zero point (VMLA by a scalar); then the
 * requantization of mf_dw3_pair_groups_asm for one vector. The window corner may lie one column
 * left of the image: only inside taps are read. */
#define MF_DW3S_IN(q)                                                                          \
    "vldrb.s32 q0, [%[w], " q "]\n\t"                                                           \
    "vldrb.s32 q1, [%[x], " q "]\n\t"                                                           \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q3, q3, q1\n\t"
#define MF_DW3S_OUT(q)                                                                         \
    "vldrb.s32 q0, [%[w], " q "]\n\t"                                                           \
    "vmla.s32 q3, q0, %[zp]\n\t"
#define MF_DW3S_GROUPS(T0, T1, T2)                                                             \
    __asm__ volatile("vldrw.u32 q5, [%[op]]\n\t"                                               \
                     "vldrw.u32 q6, [%[op], #16]\n\t"                                           \
                     "vldrw.u32 q7, [%[op], #32]\n\t"                                           \
                     "dls lr, %[groups]\n"                                                      \
                     "1:\n\t"                                                                   \
                     "vldrw.u32 q3, [%[bias]], #16\n\t" T0("q5") T1("q6") T2("q7")              \
                     "add %[x], %[x], %[rs]\n\t"                                               \
                     "add %[w], %[w], %[wrs]\n\t" T0("q5") T1("q6") T2("q7")                    \
                     "add %[x], %[x], %[rs]\n\t"                                               \
                     "add %[w], %[w], %[wrs]\n\t" T0("q5") T1("q6") T2("q7")                    \
                     "sub %[x], %[x], %[rs], lsl #1\n\t"                                       \
                     "sub %[w], %[w], %[wrs], lsl #1\n\t"                                      \
                     "adds %[x], %[x], #4\n\t"                                                 \
                     "adds %[w], %[w], #4\n\t"                                                 \
                     "vldrw.u32 q0, [%[mult]], #16\n\t"                                        \
                     "vldrw.u32 q1, [%[shift]], #16\n\t"                                       \
                     "vmov.i32 q2, #0\n\t"                                                     \
                     "vmin.s32 q2, q1, q2\n\t"                                                 \
                     "vsub.i32 q1, q1, q2\n\t"                                                 \
                     "vshl.s32 q3, q3, q1\n\t"                                                 \
                     "vqrdmulh.s32 q3, q3, q0\n\t"                                             \
                     "vand q0, q3, q2\n\t"                                                     \
                     "vshr.s32 q0, q0, #31\n\t"                                                \
                     "vqadd.s32 q3, q3, q0\n\t"                                                \
                     "vrshl.s32 q3, q3, q2\n\t"                                                \
                     "vldrw.u32 q0, [%[cfg]]\n\t"                                              \
                     "vadd.i32 q3, q3, q0\n\t"                                                 \
                     "vldrw.u32 q0, [%[cfg], #16]\n\t"                                         \
                     "vldrw.u32 q1, [%[cfg], #32]\n\t"                                         \
                     "vmax.s32 q3, q3, q0\n\t"                                                 \
                     "vmin.s32 q3, q3, q1\n\t"                                                 \
                     "vstrb.32 q3, [%[o]], #4\n\t"                                             \
                     "le lr, 1b\n"                                                              \
                     : [x] "+r"(x), [w] "+r"(w), [bias] "+r"(bias), [mult] "+r"(mult),          \
                       [shift] "+r"(shift), [o] "+l"(out)                                      \
                     : [rs] "r"(rs), [wrs] "r"(wrs), [groups] "r"(groups), [cfg] "r"(cfg),      \
                       [op] "r"(o), [zp] "r"(zp)                                               \
                     : "q0", "q1", "q2", "q3", "q5", "q6", "q7", "lr", "memory", "cc")

/* mask: 0x1FF (whole window), 0x1B6 (column 0 outside) or 0x0DB (column 2 outside). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw3_single_groups_asm(const int8_t *x, ptrdiff_t rs, const int8_t *w,
                                     ptrdiff_t wrs, int32_t groups, const int32_t *bias,
                                     const int32_t *mult, const int32_t *shift,
                                     const int32_t *cfg, const mf_dw3_offsets *o, int32_t zp,
                                     uint32_t mask, int8_t *out)
{
    if (mask == 0x1FFu) {
        MF_DW3S_GROUPS(MF_DW3S_IN, MF_DW3S_IN, MF_DW3S_IN);
    } else if (mask == 0x1B6u) {
        MF_DW3S_GROUPS(MF_DW3S_OUT, MF_DW3S_IN, MF_DW3S_IN);
    } else {
        MF_DW3S_GROUPS(MF_DW3S_IN, MF_DW3S_IN, MF_DW3S_OUT);
    }
}
#undef MF_DW3S_GROUPS
#undef MF_DW3S_OUT
#undef MF_DW3S_IN
#endif

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw3_single(const mf_dw_layer *L, const mf_nn_requant *rq, mf_dw3_offsets o,
                          ptrdiff_t corner, uint32_t inside, int8_t *out)
{
#if MF_MVE_ASM
    if ((inside == 0x1FFu || inside == 0x1B6u || inside == 0x0DBu) && L->out_c >= 4) {
        /* Address arithmetic in integers: the corner may be one column left of the image. */
        const int8_t *x = (const int8_t *)((uintptr_t)L->image + (uintptr_t)corner);
        mf_dw3_single_groups_asm(x, L->row_step, L->filter, 3 * (ptrdiff_t)L->out_c,
                                 L->out_c / 4, rq->bias, rq->multiplier, rq->shift, L->cfg, &o,
                                 L->zp, inside, out);
        return;
    }
#endif
    if (inside == 0x1FFu) {
        mf_dw3_groups(L, rq, o, corner, 0, 0, 0x1FFu, out, NULL);
    } else if (inside == 0x1B6u) { /* column 0 outside (left border) */
        mf_dw3_groups(L, rq, o, corner, 0, 0, 0x1B6u, out, NULL);
    } else if (inside == 0x0DBu) { /* column 2 outside (right border) */
        mf_dw3_groups(L, rq, o, corner, 0, 0, 0x0DBu, out, NULL);
    } else {
        mf_dw3_groups(L, rq, o, corner, 0, 0, inside, out, NULL);
    }
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
/* `count` pairs of interior pixels along a row, the first at corner0 (the pixels `pstep` input
 * bytes apart): one call per run, not per pair. */
#if MF_MVE_ASM
/* All full groups of one pair of interior pixels in one block: per group the bias as both
 * accumulators, the nine taps of mf_dw3_pair (offset vectors in q5-q7, row pointers stepped in
 * place and put back), and mf_mve_nn.h's requantization (cfg: output offset, activation minimum
 * and maximum in four lanes each), both pixels stored; bias, multipliers, shifts and outputs
 * post-incremented. */
#define MF_DW3G_ROW                                                                            \
    "vldrb.s32 q0, [%[w], q5]\n\t"                                                              \
    "vldrb.s32 q1, [%[x0], q5]\n\t"                                                             \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q3, q3, q1\n\t"                                                                  \
    "vldrb.s32 q1, [%[x1], q5]\n\t"                                                             \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q4, q4, q1\n\t"                                                                  \
    "vldrb.s32 q0, [%[w], q6]\n\t"                                                              \
    "vldrb.s32 q1, [%[x0], q6]\n\t"                                                             \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q3, q3, q1\n\t"                                                                  \
    "vldrb.s32 q1, [%[x1], q6]\n\t"                                                             \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q4, q4, q1\n\t"                                                                  \
    "vldrb.s32 q0, [%[w], q7]\n\t"                                                              \
    "vldrb.s32 q1, [%[x0], q7]\n\t"                                                             \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q3, q3, q1\n\t"                                                                  \
    "vldrb.s32 q1, [%[x1], q7]\n\t"                                                             \
    "vmul.i32 q1, q1, q0\n\t"                                                                  \
    "vadd.i32 q4, q4, q1\n\t"

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw3_pair_groups_asm(const int8_t *x0, const int8_t *x1, ptrdiff_t rs,
                                   const int8_t *w, ptrdiff_t wrs, int32_t groups,
                                   const int32_t *bias, const int32_t *mult,
                                   const int32_t *shift, const int32_t *cfg,
                                   const mf_dw3_offsets *o, int8_t *out0, int8_t *out1)
{
    __asm__ volatile("vldrw.u32 q5, [%[op]]\n\t"
                     "vldrw.u32 q6, [%[op], #16]\n\t"
                     "vldrw.u32 q7, [%[op], #32]\n\t"
                     "dls lr, %[groups]\n"
                     "1:\n\t"
                     "vldrw.u32 q3, [%[bias]], #16\n\t"
                     "vmov q4, q3\n\t" MF_DW3G_ROW
                     "add %[x0], %[x0], %[rs]\n\t"
                     "add %[x1], %[x1], %[rs]\n\t"
                     "add %[w], %[w], %[wrs]\n\t" MF_DW3G_ROW
                     "add %[x0], %[x0], %[rs]\n\t"
                     "add %[x1], %[x1], %[rs]\n\t"
                     "add %[w], %[w], %[wrs]\n\t" MF_DW3G_ROW
                     "sub %[x0], %[x0], %[rs], lsl #1\n\t"
                     "sub %[x1], %[x1], %[rs], lsl #1\n\t"
                     "sub %[w], %[w], %[wrs], lsl #1\n\t"
                     "adds %[x0], %[x0], #4\n\t"
                     "adds %[x1], %[x1], #4\n\t"
                     "adds %[w], %[w], #4\n\t"
                     "vldrw.u32 q0, [%[mult]], #16\n\t"
                     "vldrw.u32 q1, [%[shift]], #16\n\t"
                     "vmov.i32 q2, #0\n\t"
                     "vmin.s32 q2, q1, q2\n\t"
                     "vsub.i32 q1, q1, q2\n\t"
                     "vshl.s32 q3, q3, q1\n\t"
                     "vshl.s32 q4, q4, q1\n\t"
                     "vqrdmulh.s32 q3, q3, q0\n\t"
                     "vqrdmulh.s32 q4, q4, q0\n\t"
                     "vand q0, q3, q2\n\t"
                     "vshr.s32 q0, q0, #31\n\t"
                     "vqadd.s32 q3, q3, q0\n\t"
                     "vrshl.s32 q3, q3, q2\n\t"
                     "vand q0, q4, q2\n\t"
                     "vshr.s32 q0, q0, #31\n\t"
                     "vqadd.s32 q4, q4, q0\n\t"
                     "vrshl.s32 q4, q4, q2\n\t"
                     "vldrw.u32 q0, [%[cfg]]\n\t"
                     "vadd.i32 q3, q3, q0\n\t"
                     "vadd.i32 q4, q4, q0\n\t"
                     "vldrw.u32 q0, [%[cfg], #16]\n\t"
                     "vldrw.u32 q1, [%[cfg], #32]\n\t"
                     "vmax.s32 q3, q3, q0\n\t"
                     "vmax.s32 q4, q4, q0\n\t"
                     "vmin.s32 q3, q3, q1\n\t"
                     "vmin.s32 q4, q4, q1\n\t"
                     "vstrb.32 q3, [%[o0]], #4\n\t"
                     "vstrb.32 q4, [%[o1]], #4\n\t"
                     "le lr, 1b\n"
                     : [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [bias] "+r"(bias),
                       [mult] "+r"(mult), [shift] "+r"(shift), [o0] "+l"(out0), [o1] "+l"(out1)
                     : [rs] "r"(rs), [wrs] "r"(wrs), [groups] "r"(groups), [cfg] "r"(cfg),
                       [op] "r"(o)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "memory", "cc");
}
#undef MF_DW3G_ROW
#endif

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw3_pairs(const mf_dw_layer *L, const mf_nn_requant *rq, mf_dw3_offsets o,
                         ptrdiff_t corner0, ptrdiff_t pstep, int32_t count, int8_t *out0)
{
    const int32_t cout = L->out_c;
#if MF_MVE_ASM
    if (cout >= 4) {
        for (int32_t i = 0; i < count; i++) {
            mf_dw3_pair_groups_asm(L->image + corner0, L->image + corner0 + pstep, L->row_step,
                                   L->filter, 3 * (ptrdiff_t)cout, cout / 4, rq->bias,
                                   rq->multiplier, rq->shift, L->cfg, &o, out0, out0 + cout);
            corner0 += 2 * pstep;
            out0 += 2 * cout;
        }
    }
#else
    for (int32_t i = 0; i < count; i++) {
        mf_dw3_groups(L, rq, o, corner0, corner0 + pstep, 1, 0x1FFu, out0, out0 + cout);
        corner0 += 2 * pstep;
        out0 += 2 * cout;
    }
#endif
}

/* Byte offsets, from an input pixel, of the input channels of output channels oc..oc+3. */
static inline uint32x4_t mf_dw_offsets(int32_t oc, int32_t mult)
{
    uint32x4_t v = vidupq_n_u32((uint32_t)oc, 1);
    if (mult > 1) {
        uint32_t o[4];
        for (int32_t l = 0; l < 4; l++) {
            o[l] = (uint32_t)((oc + l) / mult);
        }
        v = vldrwq_u32(o);
    }
    return v;
}

/* All channel groups of one pixel (or of two interior pixels when out1 is not NULL). */
static MF_MVE_INLINE void mf_dw_groups(const mf_dw_layer *L, const mf_nn_requant *rq, int32_t mult,
                                int gather, ptrdiff_t corner0, ptrdiff_t corner1, int32_t ky_lo,
                                int32_t ky_hi, int32_t kx_lo, int32_t kx_hi, int8_t *out0,
                                int8_t *out1)
{
    int32_t oc = 0;
    const int32_t cout = L->out_c;
    for (; oc < cout; oc += 4) {
        const int tail = oc + 4 > cout;
        const mve_pred16_t p = vctp32q((uint32_t)(cout - oc));
        const uint32x4_t off = gather ? mf_dw_offsets(oc, mult) : vdupq_n_u32(0);
        const int32x4_t bias = mf_mve_bias4(rq->bias, oc, p);
        if (out1 != NULL) {
            int32x4_t a0 = bias, a1 = bias;
            const int8_t *x0 = L->image + corner0;
            const int8_t *x1 = L->image + corner1;
            if (tail) {
                mf_dw_pair(L, L->kh, L->kw, x0, x1, oc, off, gather, 1, p, &a0, &a1);
            } else {
                mf_dw_pair(L, L->kh, L->kw, x0, x1, oc, off, gather, 0, p, &a0, &a1);
            }
            mf_mve_requant_store4(rq, a0, oc, p, out0 + oc);
            mf_mve_requant_store4(rq, a1, oc, p, out1 + oc);
        } else {
            const int32x4_t a =
                tail ? mf_dw_pixel(L, corner0, ky_lo, ky_hi, kx_lo, kx_hi, oc, off, gather, 1, p,
                                   bias)
                     : mf_dw_pixel(L, corner0, ky_lo, ky_hi, kx_lo, kx_hi, oc, off, gather, 0, p,
                                   bias);
            mf_mve_requant_store4(rq, a, oc, p, out0 + oc);
        }
    }
}

/* The taps [lo, hi) of a window starting at `start` (step `dil`) that fall inside [0, size). */
static void mf_dw_taps_inside(int32_t start, int32_t k, int32_t dil, int32_t size, int32_t *lo,
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

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw_image(const mf_dw_layer *L, const mf_dw_conv_params *p,
                        const mf_nn_requant *rq, const mf_dims *output_dims, int gather,
                        int8_t *output)
{
    const int32_t cout = L->out_c;
    const int32_t ow = output_dims->w;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * p->stride.h - p->padding.h;
        int32_t ky_lo, ky_hi;
        mf_dw_taps_inside(y0, L->kh, L->dil_h, L->in_h, &ky_lo, &ky_hi);
        const int row_inside = ky_lo == 0 && ky_hi == L->kh;
        for (int32_t ox = 0; ox < ow; ox++) {
            const int32_t x0 = ox * p->stride.w - p->padding.w;
            int32_t kx_lo, kx_hi;
            mf_dw_taps_inside(x0, L->kw, L->dil_w, L->in_w, &kx_lo, &kx_hi);
            const ptrdiff_t corner = ((ptrdiff_t)y0 * L->in_w + x0) * L->in_c;
            int8_t *out = output + ((size_t)oy * ow + ox) * cout;
            if (row_inside && kx_lo == 0 && kx_hi == L->kw && ox + 1 < ow) {
                const int32_t x1 = x0 + p->stride.w;
                if (x1 + (L->kw - 1) * L->dil_w < L->in_w) { /* the next window inside too */
                    const ptrdiff_t corner1 = corner + (ptrdiff_t)p->stride.w * L->in_c;
                    mf_dw_groups(L, rq, p->ch_mult, gather, corner, corner1, 0, 0, 0, 0, out,
                                 out + cout);
                    ox++;
                    continue;
                }
            }
            mf_dw_groups(L, rq, p->ch_mult, gather, corner, 0, ky_lo, ky_hi, kx_lo, kx_hi, out,
                         NULL);
        }
    }
}

/* The C % 4 channels left after the full groups of one pixel (3x3, any mask). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw3_tail(const mf_dw_layer *L, const mf_nn_requant *rq, ptrdiff_t corner,
                        uint32_t inside, int8_t *out)
{
    const int32_t oc = L->out_c & ~3;
    const mve_pred16_t p = vctp32q((uint32_t)(L->out_c - oc));
    const int32x4_t a = mf_dw_masked(L, 3, 3, corner, inside, oc, vdupq_n_u32(0), 0, 1, p,
                                     mf_mve_bias4(rq->bias, oc, p));
    mf_mve_requant_store4(rq, a, oc, p, out + oc);
}

/* 3x3 windows, channel multiplier 1, dilation 1 along x: row by row, the pixels whose windows
 * are inside the image two at a time, the others with a mask of their inside taps. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_dw3_image(const mf_dw_layer *L, const mf_dw_conv_params *p,
                         const mf_nn_requant *rq, const mf_dims *output_dims, int8_t *output)
{
    const uint32_t c = (uint32_t)L->in_c;
    const mf_dw3_offsets o = {vidupq_n_u32(0, 1), vidupq_n_u32(c, 1), vidupq_n_u32(2 * c, 1)};
    const int32_t cout = L->out_c;
    const int32_t ow = output_dims->w;
    const int32_t sw = p->stride.w;
    const int tail = (cout & 3) != 0;
    /* Output columns [x_lo, x_hi) have all three taps inside along x. */
    const int32_t x_lo = mf_min_i32((p->padding.w + sw - 1) / sw, ow);
    const int32_t last = L->in_w - 3 + p->padding.w;
    const int32_t x_hi = mf_clamp_i32(last < 0 ? 0 : last / sw + 1, x_lo, ow);
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * p->stride.h - p->padding.h;
        int32_t ky_lo, ky_hi;
        mf_dw_taps_inside(y0, 3, L->dil_h, L->in_h, &ky_lo, &ky_hi);
        uint32_t rows = 0; /* bits 3 ky .. 3 ky + 2 for the rows inside */
        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
            rows |= 7u << (3 * ky);
        }
        int8_t *out = output + (size_t)oy * ow * cout;
        for (int32_t ox = 0; ox < ow;) {
            const int32_t x0 = ox * sw - p->padding.w;
            const ptrdiff_t corner = ((ptrdiff_t)y0 * L->in_w + x0) * L->in_c;
            if (rows == 0x1FFu && ox >= x_lo && ox + 1 < x_hi) {
                const ptrdiff_t corner1 = corner + (ptrdiff_t)sw * L->in_c;
                if (!tail) { /* the whole run of interior pairs in one call */
                    const int32_t pairs = (x_hi - ox) / 2;
                    mf_dw3_pairs(L, rq, o, corner, corner1 - corner, pairs, out);
                    ox += 2 * pairs;
                    out += 2 * (size_t)pairs * cout;
                    continue;
                }
                mf_dw3_pairs(L, rq, o, corner, corner1 - corner, 1, out);
                if (tail) {
                    mf_dw3_tail(L, rq, corner, 0x1FFu, out);
                    mf_dw3_tail(L, rq, corner1, 0x1FFu, out + cout);
                }
                ox += 2;
                out += 2 * cout;
                continue;
            }
            const int32_t kx_lo = mf_clamp_i32(-x0, 0, 3);
            const int32_t kx_hi = mf_clamp_i32(L->in_w - x0, kx_lo, 3);
            const uint32_t cols = ((1u << kx_hi) - 1u) & ~((1u << kx_lo) - 1u);
            const uint32_t inside = rows & (cols * 0x49u); /* the column bits in every row */
            mf_dw3_single(L, rq, o, corner, inside, out);
            if (tail) {
                mf_dw3_tail(L, rq, corner, inside, out);
            }
            ox++;
            out += cout;
        }
    }
}

void mf_depthwise_conv_mve_s8(const mf_dw_conv_params *p,
                              const mf_nn_requant *rq,
                              const mf_dims *input_dims,
                              const int8_t *input,
                              const mf_dims *filter_dims,
                              const int8_t *filter,
                              const mf_dims *output_dims,
                              int8_t *output)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    mf_dw_layer L;
    L.filter = filter;
    L.in_h = input_dims->h;
    L.in_w = input_dims->w;
    L.in_c = input_dims->c;
    L.out_c = output_dims->c;
    L.kh = filter_dims->h;
    L.kw = filter_dims->w;
    L.dil_h = p->dilation.h;
    L.dil_w = p->dilation.w;
    L.zp = -p->input_offset;
    L.row_step = (ptrdiff_t)p->dilation.h * input_dims->w * input_dims->c;
    L.col_step = (ptrdiff_t)p->dilation.w * input_dims->c;
    for (int32_t l = 0; l < 4; l++) {
        L.cfg[l] = r.output_offset;
        L.cfg[4 + l] = r.activation.min;
        L.cfg[8 + l] = r.activation.max;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const size_t out_image = (size_t)output_dims->h * output_dims->w * output_dims->c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        L.image = input + (size_t)b * in_image;
        int8_t *out = output + (size_t)b * out_image;
        if (p->ch_mult == 1 && L.kh == 3 && L.kw == 3 && L.dil_w == 1 && L.dil_h == 1 &&
            r.bias != NULL && r.quant_step == 1 &&
            mf_depthwise_conv3_mve16_takes(p, input_dims, output_dims)) {
            /* speed-m55: eight channels per vector (mf_depthwise_conv3_mve16_s8.c); below 32
             * channels the per-pixel work of the four-lane paths costs less (VWW: C = 8, 16) */
            mf_depthwise_conv3_mve16_s8(p, &r, input_dims, L.image, filter, output_dims, out);
        } else if (p->ch_mult == 1 && L.kh == 3 && L.kw == 3 && L.dil_w == 1 && r.bias != NULL &&
                   r.quant_step == 1) {
            mf_dw3_image(&L, p, &r, output_dims, out);
        } else { /* every other case: input lanes gathered (offsets (oc + l) / ch_mult) */
            mf_dw_image(&L, p, &r, output_dims, 1, out);
        }
    }
}

#endif /* MF_USE_MVE */
