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
            out[o] = mf_nn_requant_out(rq, a00, o);
            out[o + 1] = mf_nn_requant_out(rq, a01, o + 1);
            out1[o] = mf_nn_requant_out(rq, a10, o);
            out1[o + 1] = mf_nn_requant_out(rq, a11, o + 1);
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

#if MF_USE_DSP

/* Outputs o..o+3 of one row from their accumulators, packed into one word (mf_requant4_s8). */
static inline void mf_requant_1x4(const mf_nn_requant *rq,
                                  int32_t o,
                                  int32_t a0,
                                  int32_t a1,
                                  int32_t a2,
                                  int32_t a3,
                                  int8_t *out)
{
    const int32_t q = o * rq->quant_step;
    mf_write_u32(out + o, mf_requant4_s8(rq->multiplier + q, rq->shift + q, rq->quant_step,
                                         rq->output_offset, &rq->activation, a0, a1, a2, a3));
}

/* a[0..3] plus `quads` steps of four inputs of x against four filter rows, w .. w + 3k: one word
 * of inputs and one of each row per step, split by SXTB16. The Cortex-M loop is inline assembly,
 * 25 instructions per 16 multiply-accumulates: rows 0 and 2 are post-incremented pointers, rows
 * 1 and 3 are read k - 4 bytes past them, so 13 registers suffice and nothing spills. Not
 * inlined: inside its caller GCC cannot free 13 registers for the asm at -O1 and above. */
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) /* -O0 keeps a frame pointer: C */
static __attribute__((noinline)) void mf_mac_1x4_s8(const int8_t *x,
                                 const int8_t *w,
                                 int32_t k,
                                 int32_t quads,
                                 int32_t *a)
{
    if (quads <= 0) {
        return;
    }
    const int32_t k1 = k - 4; /* rows 1 and 3 from rows 0 and 2 after their post-increments */
    const int8_t *w2 = w + 2 * k;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    uint32_t xl, xh, t, u;
    __asm__ volatile("1:\n\t"
                     "ldr %[xh], [%[x]], #4\n\t"
                     "ldr %[t], [%[w]], #4\n\t"
                     "sxtb16 %[xl], %[xh]\n\t"
                     "sxtb16 %[xh], %[xh], ror #8\n\t"
                     "sxtb16 %[u], %[t]\n\t"
                     "sxtb16 %[t], %[t], ror #8\n\t"
                     "smlad %[a0], %[u], %[xl], %[a0]\n\t"
                     "smlad %[a0], %[t], %[xh], %[a0]\n\t"
                     "ldr %[t], [%[w], %[k1]]\n\t"
                     "sxtb16 %[u], %[t]\n\t"
                     "sxtb16 %[t], %[t], ror #8\n\t"
                     "smlad %[a1], %[u], %[xl], %[a1]\n\t"
                     "smlad %[a1], %[t], %[xh], %[a1]\n\t"
                     "ldr %[t], [%[w2]], #4\n\t"
                     "sxtb16 %[u], %[t]\n\t"
                     "sxtb16 %[t], %[t], ror #8\n\t"
                     "smlad %[a2], %[u], %[xl], %[a2]\n\t"
                     "smlad %[a2], %[t], %[xh], %[a2]\n\t"
                     "ldr %[t], [%[w2], %[k1]]\n\t"
                     "sxtb16 %[u], %[t]\n\t"
                     "sxtb16 %[t], %[t], ror #8\n\t"
                     "smlad %[a3], %[u], %[xl], %[a3]\n\t"
                     "smlad %[a3], %[t], %[xh], %[a3]\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x),
                       [w] "+r"(w), [w2] "+r"(w2), [n] "+r"(quads), [xl] "=&r"(xl),
                       [xh] "=&r"(xh), [t] "=&r"(t), [u] "=&r"(u)
                     : [k1] "r"(k1)
                     : "cc", "memory");
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}
#else
static __attribute__((noinline)) void mf_mac_1x4_s8(const int8_t *x,
                                 const int8_t *w,
                                 int32_t k,
                                 int32_t quads,
                                 int32_t *a)
{
    for (int32_t q = 0; q < quads; q++) {
        const uint32_t xv = mf_read_u32(x + 4 * q);
        const uint32_t xl = mf_sxtb16(xv);
        const uint32_t xh = mf_sxtb16_ror8(xv);
        for (int32_t r = 0; r < 4; r++) {
            const uint32_t wv = mf_read_u32(w + (size_t)r * k + 4 * q);
            a[r] = mf_smlad(mf_sxtb16(wv), xl, a[r]);
            a[r] = mf_smlad(mf_sxtb16_ror8(wv), xh, a[r]);
        }
    }
}
#endif

void mf_nn_vec_mat_mult_s8(const int8_t *x,
                           const int8_t *filter,
                           int32_t k,
                           int32_t n,
                           const mf_nn_requant *rq,
                           int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    rq = &r;
    const int32_t k4 = k & ~3;
    int32_t o = 0;
    for (; o + 4 <= n; o += 4) {
        const int8_t *w0 = filter + (size_t)o * k;
        const int8_t *w1 = w0 + k;
        const int8_t *w2 = w1 + k;
        const int8_t *w3 = w2 + k;
        int32_t acc[4] = {mf_nn_bias(rq, o), mf_nn_bias(rq, o + 1), mf_nn_bias(rq, o + 2),
                          mf_nn_bias(rq, o + 3)};
        mf_mac_1x4_s8(x, w0, k, k4 >> 2, acc);
        int32_t a0 = acc[0];
        int32_t a1 = acc[1];
        int32_t a2 = acc[2];
        int32_t a3 = acc[3];
        w0 += k4;
        w1 += k4;
        w2 += k4;
        w3 += k4;
        for (int32_t i = k4; i < k; i++) {
            const int32_t xv = x[i];
            a0 += xv * *w0++;
            a1 += xv * *w1++;
            a2 += xv * *w2++;
            a3 += xv * *w3++;
        }
        mf_requant_1x4(rq, o, a0, a1, a2, a3, out);
    }
    for (; o < n; o++) {
        const int8_t *w0 = filter + (size_t)o * k;
        int32_t a0 = mf_nn_bias(rq, o);
        int32_t i = 0;
        for (; i < k4; i += 4) {
            const uint32_t xv = mf_read_u32(x + i);
            const uint32_t wv = mf_read_u32(w0 + i);
            a0 = mf_smlad(mf_sxtb16(wv), mf_sxtb16(xv), a0);
            a0 = mf_smlad(mf_sxtb16_ror8(wv), mf_sxtb16_ror8(xv), a0);
        }
        for (; i < k; i++) {
            a0 += x[i] * w0[i];
        }
        out[o] = mf_nn_requant_out(rq, a0, o);
    }
}

void mf_nn_s8_to_s16_pair(const int8_t *r0, const int8_t *r1, int16_t *dst, int32_t len)
{
    int32_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const uint32_t v0 = mf_read_u32(r0 + i);
        const uint32_t v1 = mf_read_u32(r1 + i);
        mf_write_u32(dst, mf_sxtb16(v0));
        mf_write_u32(dst + 2, mf_sxtb16_ror8(v0));
        mf_write_u32(dst + 4, mf_sxtb16(v1));
        mf_write_u32(dst + 6, mf_sxtb16_ror8(v1));
        dst += 8;
    }
    const int32_t tail = len - i;
    for (int32_t j = 0; j < tail; j++) {
        dst[j] = r0[i + j];
        dst[tail + j] = r1[i + j];
    }
}

/* a[0..3] (rows 0, 1 by channels 0, 1: a00, a01, a10, a11) plus `quads` steps of four inputs:
 * x holds the two rows' widened quads interleaved (8 halfwords per step), w0 channel 0's
 * filter bytes and w0 + k channel 1's. Returns x advanced past the quads. */
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) /* -O0 keeps a frame pointer: C */
static inline const int16_t *mf_mac_2x2_s16(const int16_t *x,
                                            const int8_t *w0,
                                            int32_t k,
                                            int32_t quads,
                                            int32_t *a)
{
    if (quads <= 0) {
        return x;
    }
    const int32_t kk = k - 4; /* channel 1 from w0 after its post-increment */
    uint32_t b0, c0, b1, c1, t, u;
    __asm__ volatile("1:\n\t"
                     "ldrd %[b0], %[c0], [%[x]], #8\n\t"
                     "ldrd %[b1], %[c1], [%[x]], #8\n\t"
                     "ldr %[t], [%[w]], #4\n\t"
                     "sxtb16 %[u], %[t]\n\t"
                     "smlad %[a00], %[u], %[b0], %[a00]\n\t"
                     "smlad %[a10], %[u], %[b1], %[a10]\n\t"
                     "sxtb16 %[t], %[t], ror #8\n\t"
                     "smlad %[a00], %[t], %[c0], %[a00]\n\t"
                     "smlad %[a10], %[t], %[c1], %[a10]\n\t"
                     "ldr %[t], [%[w], %[kk]]\n\t"
                     "sxtb16 %[u], %[t]\n\t"
                     "smlad %[a01], %[u], %[b0], %[a01]\n\t"
                     "smlad %[a11], %[u], %[b1], %[a11]\n\t"
                     "sxtb16 %[t], %[t], ror #8\n\t"
                     "smlad %[a01], %[t], %[c0], %[a01]\n\t"
                     "smlad %[a11], %[t], %[c1], %[a11]\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [a00] "+r"(a[0]), [a01] "+r"(a[1]), [a10] "+r"(a[2]), [a11] "+r"(a[3]),
                       [x] "+r"(x), [w] "+r"(w0), [n] "+r"(quads), [b0] "=&r"(b0),
                       [c0] "=&r"(c0), [b1] "=&r"(b1), [c1] "=&r"(c1), [t] "=&r"(t),
                       [u] "=&r"(u)
                     : [kk] "r"(kk)
                     : "cc", "memory");
    return x;
}
#else
static inline const int16_t *mf_mac_2x2_s16(const int16_t *x,
                                            const int8_t *w0,
                                            int32_t k,
                                            int32_t quads,
                                            int32_t *a)
{
    for (int32_t q = 0; q < quads; q++) {
        const uint32_t b0 = mf_read_u32(x), c0 = mf_read_u32(x + 2);
        const uint32_t b1 = mf_read_u32(x + 4), c1 = mf_read_u32(x + 6);
        uint32_t t = mf_read_u32(w0);
        a[0] = mf_smlad(mf_sxtb16(t), b0, a[0]);
        a[2] = mf_smlad(mf_sxtb16(t), b1, a[2]);
        a[0] = mf_smlad(mf_sxtb16_ror8(t), c0, a[0]);
        a[2] = mf_smlad(mf_sxtb16_ror8(t), c1, a[2]);
        t = mf_read_u32(w0 + k);
        a[1] = mf_smlad(mf_sxtb16(t), b0, a[1]);
        a[3] = mf_smlad(mf_sxtb16(t), b1, a[3]);
        a[1] = mf_smlad(mf_sxtb16_ror8(t), c0, a[1]);
        a[3] = mf_smlad(mf_sxtb16_ror8(t), c1, a[3]);
        x += 8;
        w0 += 4;
    }
    return x;
}
#endif

void mf_nn_mat_mult_s16_pair(const int16_t *x,
                             const int8_t *filter,
                             int32_t k,
                             int32_t n,
                             const mf_nn_requant *rq,
                             int8_t *out)
{
    const int32_t quads = k >> 2;
    const int32_t tail = k - 4 * quads;
    const int16_t *t0 = x + 8 * quads; /* row 0's last k % 4 values, then row 1's */
    const int16_t *t1 = t0 + tail;
    int8_t *out1 = out + n;
    const int8_t *w0 = filter;
    /* The requantization parameters walked by pointer and the activation bytes held in locals:
     * int8 output stores may alias anything, so fields read through rq would be reloaded. */
    const int32_t *bias = rq->bias;
    const int32_t *mult = rq->multiplier;
    const int32_t *shift = rq->shift;
    const int32_t off = rq->output_offset;
    const uint32_t lo = 0x0101u * (uint8_t)rq->activation.min;
    const uint32_t hi = 0x0101u * (uint8_t)rq->activation.max;
    assert(rq->quant_step == 1);
    int32_t o = 0;
    for (; o + 2 <= n; o += 2) {
        int32_t a[4];
        a[0] = bias != NULL ? bias[o] : 0;
        a[1] = bias != NULL ? bias[o + 1] : 0;
        a[2] = a[0];
        a[3] = a[1];
        mf_mac_2x2_s16(x, w0, k, quads, a);
        const int8_t *w1 = w0 + k;
        for (int32_t i = 0; i < tail; i++) {
            const int32_t q0 = w0[4 * quads + i];
            const int32_t q1 = w1[4 * quads + i];
            a[0] += t0[i] * q0;
            a[2] += t1[i] * q0;
            a[1] += t0[i] * q1;
            a[3] += t1[i] * q1;
        }
        w0 = w1 + k;
        const int32_t m0 = mult[o], s0 = shift[o], m1 = mult[o + 1], s1 = shift[o + 1];
        uint32_t v0 = (uint8_t)mf_ssat8(mf_requantize_fast(a[0], m0, s0) + off);
        uint32_t v1 = (uint8_t)mf_ssat8(mf_requantize_fast(a[2], m0, s0) + off);
        v0 |= (uint32_t)(uint8_t)mf_ssat8(mf_requantize_fast(a[1], m1, s1) + off) << 8;
        v1 |= (uint32_t)(uint8_t)mf_ssat8(mf_requantize_fast(a[3], m1, s1) + off) << 8;
        v0 = mf_min_s8x4(mf_max_s8x4(v0, lo), hi);
        v1 = mf_min_s8x4(mf_max_s8x4(v1, lo), hi);
        out[o] = (int8_t)v0;
        out[o + 1] = (int8_t)(v0 >> 8);
        out1[o] = (int8_t)v1;
        out1[o + 1] = (int8_t)(v1 >> 8);
    }
    if (o < n) {
        int32_t a0 = mf_nn_bias(rq, o);
        int32_t a1 = a0;
        const int16_t *q = x;
        for (int32_t i = 0; i < quads; i++) {
            const uint32_t wv = mf_read_u32(w0 + 4 * i);
            const uint32_t wl = mf_sxtb16(wv);
            const uint32_t wh = mf_sxtb16_ror8(wv);
            a0 = mf_smlad(wl, mf_read_u32(q), a0);
            a0 = mf_smlad(wh, mf_read_u32(q + 2), a0);
            a1 = mf_smlad(wl, mf_read_u32(q + 4), a1);
            a1 = mf_smlad(wh, mf_read_u32(q + 6), a1);
            q += 8;
        }
        for (int32_t i = 0; i < tail; i++) {
            a0 += t0[i] * w0[4 * quads + i];
            a1 += t1[i] * w0[4 * quads + i];
        }
        out[o] = mf_nn_requant_out(rq, a0, o);
        out1[o] = mf_nn_requant_out(rq, a1, o);
    }
}

#endif /* MF_USE_DSP */
