/*
 * mf_nn_mat_mult_s8 - the int8 matrix multiplies under convolution (im2col patches, 1x1
 * pixel rows) and dense layers: rows of k inputs times n filter rows of k weights, each sum
 * started from the (offset-folded) bias and requantized. Internal: see mf_internal.h.
 *
 * Portable path: two input rows by two output channels per pass, so every load feeds two
 * multiply-accumulates (one input row: four channels per pass). DSP path: the filter bytes are
 * split by SXTB16 into halfword pairs and multiplied two at a time by SMLAD, against two input
 * rows widened once to int16 in the matching order and interleaved (mf_nn_s8_to_s16_pair), or
 * widened on the fly when there is only one row. MVE path (Cortex-M55, Helium): replaces the
 * portable mf_nn_mat_mult_s8 and is taken by the callers instead of the DSP one: 16 int8
 * products per VMLADAVA, two rows by two channels (one row: four channels) per pass, the
 * k % 16 tail one predicated step; the requantization stays the scalar one.
 * The DSP routines are their own files beside this one: mf_nn_vec_mat_mult_s8.c (one row),
 * mf_nn_s8_to_s16_pair.c and mf_nn_mat_mult_s16_pair.c (two widened rows).
 */
#include "mf_internal.h"

#include <stddef.h>

#if MF_USE_MVE
#include <arm_mve.h>
#endif

#if MF_USE_MVE
/* MVE (Helium): sixteen int8 products per VMLADAVA, summed across the vector into a scalar
 * int32 accumulator; the sum is exact (int8 x int8 x 16 fits easily), so the order of additions
 * does not matter and the result equals the portable loops. The last k % 16 inputs are one
 * predicated step: VCTP8 masks the lanes past k, the zeroing loads leave them 0 (and do not read
 * past the rows), so they add nothing. */

/* Two rows by two channels: every input vector feeds two channels, every filter vector two
 * rows. */
static inline void mf_mve_2x2_s8(const int8_t *x0,
                                 const int8_t *x1,
                                 const int8_t *w0,
                                 const int8_t *w1,
                                 int32_t k,
                                 int32_t *a)
{
    int32_t a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3];
    int32_t i = k;
    for (; i >= 16; i -= 16) {
        const int8x16_t p = vldrbq_s8(x0);
        const int8x16_t q = vldrbq_s8(x1);
        const int8x16_t u = vldrbq_s8(w0);
        const int8x16_t v = vldrbq_s8(w1);
        a00 = vmladavaq_s8(a00, p, u);
        a01 = vmladavaq_s8(a01, p, v);
        a10 = vmladavaq_s8(a10, q, u);
        a11 = vmladavaq_s8(a11, q, v);
        x0 += 16;
        x1 += 16;
        w0 += 16;
        w1 += 16;
    }
    if (i > 0) {
        const mve_pred16_t m = vctp8q((uint32_t)i);
        const int8x16_t p = vldrbq_z_s8(x0, m);
        const int8x16_t q = vldrbq_z_s8(x1, m);
        const int8x16_t u = vldrbq_z_s8(w0, m);
        const int8x16_t v = vldrbq_z_s8(w1, m);
        a00 = vmladavaq_s8(a00, p, u);
        a01 = vmladavaq_s8(a01, p, v);
        a10 = vmladavaq_s8(a10, q, u);
        a11 = vmladavaq_s8(a11, q, v);
    }
    a[0] = a00;
    a[1] = a01;
    a[2] = a10;
    a[3] = a11;
}

/* One row by four channels w, w + k, w + 2k, w + 3k: every input vector feeds four channels. */
static inline void mf_mve_1x4_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t *a)
{
    const int8_t *w1 = w + k;
    const int8_t *w2 = w1 + k;
    const int8_t *w3 = w2 + k;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    int32_t i = k;
    for (; i >= 16; i -= 16) {
        const int8x16_t p = vldrbq_s8(x);
        a0 = vmladavaq_s8(a0, p, vldrbq_s8(w));
        a1 = vmladavaq_s8(a1, p, vldrbq_s8(w1));
        a2 = vmladavaq_s8(a2, p, vldrbq_s8(w2));
        a3 = vmladavaq_s8(a3, p, vldrbq_s8(w3));
        x += 16;
        w += 16;
        w1 += 16;
        w2 += 16;
        w3 += 16;
    }
    if (i > 0) {
        const mve_pred16_t m = vctp8q((uint32_t)i);
        const int8x16_t p = vldrbq_z_s8(x, m);
        a0 = vmladavaq_s8(a0, p, vldrbq_z_s8(w, m));
        a1 = vmladavaq_s8(a1, p, vldrbq_z_s8(w1, m));
        a2 = vmladavaq_s8(a2, p, vldrbq_z_s8(w2, m));
        a3 = vmladavaq_s8(a3, p, vldrbq_z_s8(w3, m));
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* acc + the dot product of x and w over k int8 values. */
static inline int32_t mf_mve_dot_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t acc)
{
    int32_t i = k;
    for (; i >= 16; i -= 16) {
        acc = vmladavaq_s8(acc, vldrbq_s8(x), vldrbq_s8(w));
        x += 16;
        w += 16;
    }
    if (i > 0) {
        const mve_pred16_t m = vctp8q((uint32_t)i);
        acc = vmladavaq_s8(acc, vldrbq_z_s8(x, m), vldrbq_z_s8(w, m));
    }
    return acc;
}

void mf_nn_mat_mult_s8(const int8_t *x0,
                       const int8_t *x1,
                       const int8_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    rq = &r;
    int32_t o = 0;
    if (x1 == NULL) {
        for (; o + 4 <= n; o += 4) {
            int32_t a[4] = {mf_nn_bias(rq, o), mf_nn_bias(rq, o + 1), mf_nn_bias(rq, o + 2),
                            mf_nn_bias(rq, o + 3)};
            mf_mve_1x4_s8(x0, filter + (size_t)o * k, k, a);
            out[o] = mf_nn_requant_out(rq, a[0], o);
            out[o + 1] = mf_nn_requant_out(rq, a[1], o + 1);
            out[o + 2] = mf_nn_requant_out(rq, a[2], o + 2);
            out[o + 3] = mf_nn_requant_out(rq, a[3], o + 3);
        }
    } else {
        int8_t *out1 = out + n;
        for (; o + 2 <= n; o += 2) {
            const int8_t *w0 = filter + (size_t)o * k;
            int32_t a[4];
            a[0] = mf_nn_bias(rq, o);
            a[1] = mf_nn_bias(rq, o + 1);
            a[2] = a[0];
            a[3] = a[1];
            mf_mve_2x2_s8(x0, x1, w0, w0 + k, k, a);
            out[o] = mf_nn_requant_out(rq, a[0], o);
            out[o + 1] = mf_nn_requant_out(rq, a[1], o + 1);
            out1[o] = mf_nn_requant_out(rq, a[2], o);
            out1[o + 1] = mf_nn_requant_out(rq, a[3], o + 1);
        }
        if (o < n) { /* the last odd channel, both rows */
            const int8_t *w0 = filter + (size_t)o * k;
            const int32_t b = mf_nn_bias(rq, o);
            out[o] = mf_nn_requant_out(rq, mf_mve_dot_s8(x0, w0, k, b), o);
            out1[o] = mf_nn_requant_out(rq, mf_mve_dot_s8(x1, w0, k, b), o);
            o++;
        }
    }
    for (; o < n; o++) { /* one row: the last n % 4 channels */
        const int8_t *w0 = filter + (size_t)o * k;
        out[o] = mf_nn_requant_out(rq, mf_mve_dot_s8(x0, w0, k, mf_nn_bias(rq, o)), o);
    }
}

#else /* !MF_USE_MVE */

/* Two accumulators of channel o (two rows) into *p0 and *p1: the channel's constants prepared
 * once (mf_rq1), and with an int8-range activation SSAT as the whole clamp (speed-m4). */
static inline void mf_pt_requant2(const mf_nn_requant *rq,
                                  int32_t o,
                                  int32_t a0,
                                  int32_t a1,
                                  int8_t *p0,
                                  int8_t *p1,
                                  int full_range)
{
    const int32_t q = o * rq->quant_step;
    const int32_t m = rq->multiplier[q], sh = rq->shift[q], off = rq->output_offset;
    mf_rq1 c = {0, 0, 0, 0};
    int32_t v0, v1;
    if (mf_rq1_init(&c, m, sh)) {
        v0 = mf_rq1_apply(&c, a0) + off;
        v1 = mf_rq1_apply(&c, a1) + off;
    } else {
        v0 = mf_requantize_fast(a0, m, sh) + off;
        v1 = mf_requantize_fast(a1, m, sh) + off;
    }
    if (full_range) {
        *p0 = (int8_t)mf_sat_s8(v0);
        *p1 = (int8_t)mf_sat_s8(v1);
    } else {
        *p0 = (int8_t)mf_clamp_i32(v0, rq->activation.min, rq->activation.max);
        *p1 = (int8_t)mf_clamp_i32(v1, rq->activation.min, rq->activation.max);
    }
}

/* One row by four channels. */
static void mf_mat_mult_1x4_s8(const int8_t *x,
                               const int8_t *w,
                               int32_t k,
                               int32_t o,
                               const mf_nn_requant *rq,
                               int8_t *out)
{
    const int8_t *w1 = w + k;
    const int8_t *w2 = w1 + k;
    const int8_t *w3 = w2 + k;
    int32_t a0 = mf_nn_bias(rq, o);
    int32_t a1 = mf_nn_bias(rq, o + 1);
    int32_t a2 = mf_nn_bias(rq, o + 2);
    int32_t a3 = mf_nn_bias(rq, o + 3);
    for (int32_t i = 0; i < k; i++) {
        const int32_t xv = x[i];
        a0 += xv * w[i];
        a1 += xv * w1[i];
        a2 += xv * w2[i];
        a3 += xv * w3[i];
    }
    out[o] = mf_nn_requant_out(rq, a0, o);
    out[o + 1] = mf_nn_requant_out(rq, a1, o + 1);
    out[o + 2] = mf_nn_requant_out(rq, a2, o + 2);
    out[o + 3] = mf_nn_requant_out(rq, a3, o + 3);
}

void mf_nn_mat_mult_s8(const int8_t *x0,
                       const int8_t *x1,
                       const int8_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    rq = &r;
    const int full_range = r.activation.min <= MF_INT8_MIN && r.activation.max >= MF_INT8_MAX;
    int32_t o = 0;
    if (x1 == NULL) {
        for (; o + 4 <= n; o += 4) {
            mf_mat_mult_1x4_s8(x0, filter + (size_t)o * k, k, o, rq, out);
        }
    } else {
        int8_t *out1 = out + n;
        for (; o + 2 <= n; o += 2) {
            const int8_t *w0 = filter + (size_t)o * k;
            const int8_t *w1 = w0 + k;
            int32_t a00 = mf_nn_bias(rq, o);
            int32_t a01 = mf_nn_bias(rq, o + 1);
            int32_t a10 = a00;
            int32_t a11 = a01;
            int32_t i = 0;
            for (; i + 2 <= k; i += 2) {
                const int32_t p0 = x0[i], p1 = x1[i], q0 = w0[i], q1 = w1[i];
                a00 += p0 * q0;
                a01 += p0 * q1;
                a10 += p1 * q0;
                a11 += p1 * q1;
                const int32_t r0 = x0[i + 1], r1 = x1[i + 1], s0 = w0[i + 1], s1 = w1[i + 1];
                a00 += r0 * s0;
                a01 += r0 * s1;
                a10 += r1 * s0;
                a11 += r1 * s1;
            }
            if (i < k) {
                a00 += x0[i] * w0[i];
                a01 += x0[i] * w1[i];
                a10 += x1[i] * w0[i];
                a11 += x1[i] * w1[i];
            }
            mf_pt_requant2(rq, o, a00, a10, out + o, out1 + o, full_range);
            mf_pt_requant2(rq, o + 1, a01, a11, out + o + 1, out1 + o + 1, full_range);
        }
        if (o < n) { /* the last odd channel, both rows */
            const int8_t *w0 = filter + (size_t)o * k;
            int32_t a0 = mf_nn_bias(rq, o);
            int32_t a1 = a0;
            for (int32_t i = 0; i < k; i++) {
                a0 += x0[i] * w0[i];
                a1 += x1[i] * w0[i];
            }
            out[o] = mf_nn_requant_out(rq, a0, o);
            out1[o] = mf_nn_requant_out(rq, a1, o);
            o++;
        }
    }
    for (; o < n; o++) { /* one row: the last n % 4 channels */
        const int8_t *w0 = filter + (size_t)o * k;
        int32_t a0 = mf_nn_bias(rq, o);
        for (int32_t i = 0; i < k; i++) {
            a0 += x0[i] * w0[i];
        }
        out[o] = mf_nn_requant_out(rq, a0, o);
    }
}

#endif /* MF_USE_MVE */
