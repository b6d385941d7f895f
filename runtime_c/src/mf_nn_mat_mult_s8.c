/*
 * mf_nn_mat_mult_s8 - the int8 matrix multiplies under convolution (im2col patches, 1x1
 * pixel rows) and dense layers: rows of k inputs times n filter rows of k weights, each sum
 * started from the (offset-folded) bias and requantized. Internal: see mf_internal.h.
 *
 * Portable path: two input rows by two output channels per pass, so every load feeds two
 * multiply-accumulates (one input row: four channels per pass). DSP path: the filter bytes are
 * split by SXTB16 into halfword pairs and multiplied two at a time by SMLAD, against input
 * rows widened once to int16 in the matching order (mf_nn_s8_to_s16_reordered), or widened on
 * the fly when there is only one row.
 */
#include "mf_internal.h"

#include <stddef.h>

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

#if MF_USE_DSP

void mf_nn_s8_to_s16_reordered(const int8_t *src, int16_t *dst, int32_t len)
{
    int32_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const uint32_t v = mf_read_u32(src + i);
        mf_write_u32(dst + i, mf_sxtb16(v));
        mf_write_u32(dst + i + 2, mf_sxtb16_ror8(v));
    }
    for (; i < len; i++) {
        dst[i] = src[i];
    }
}

void mf_nn_vec_mat_mult_s8(const int8_t *x,
                           const int8_t *filter,
                           int32_t k,
                           int32_t n,
                           const mf_nn_requant *rq,
                           int8_t *out)
{
    const int32_t k4 = k & ~3;
    int32_t o = 0;
    for (; o + 4 <= n; o += 4) {
        const int8_t *w0 = filter + (size_t)o * k;
        const int8_t *w1 = w0 + k;
        const int8_t *w2 = w1 + k;
        const int8_t *w3 = w2 + k;
        int32_t a0 = mf_nn_bias(rq, o);
        int32_t a1 = mf_nn_bias(rq, o + 1);
        int32_t a2 = mf_nn_bias(rq, o + 2);
        int32_t a3 = mf_nn_bias(rq, o + 3);
        /* One index counting up to 0 against the ends of the five rows: no compare, and few
         * enough live registers that the loop does not spill on Armv7-M. */
        const int8_t *const xe = x + k4;
        const int8_t *const e0 = w0 + k4;
        const int8_t *const e1 = w1 + k4;
        const int8_t *const e2 = w2 + k4;
        const int8_t *const e3 = w3 + k4;
        for (ptrdiff_t i = -(ptrdiff_t)k4; i != 0; i += 4) {
            const uint32_t xv = mf_read_u32(xe + i);
            const uint32_t xl = mf_sxtb16(xv);
            const uint32_t xh = mf_sxtb16_ror8(xv);
            uint32_t wv = mf_read_u32(e0 + i);
            a0 = mf_smlad(mf_sxtb16(wv), xl, a0);
            a0 = mf_smlad(mf_sxtb16_ror8(wv), xh, a0);
            wv = mf_read_u32(e1 + i);
            a1 = mf_smlad(mf_sxtb16(wv), xl, a1);
            a1 = mf_smlad(mf_sxtb16_ror8(wv), xh, a1);
            wv = mf_read_u32(e2 + i);
            a2 = mf_smlad(mf_sxtb16(wv), xl, a2);
            a2 = mf_smlad(mf_sxtb16_ror8(wv), xh, a2);
            wv = mf_read_u32(e3 + i);
            a3 = mf_smlad(mf_sxtb16(wv), xl, a3);
            a3 = mf_smlad(mf_sxtb16_ror8(wv), xh, a3);
        }
        w0 = e0;
        w1 = e1;
        w2 = e2;
        w3 = e3;
        for (int32_t i = k4; i < k; i++) {
            const int32_t xv = x[i];
            a0 += xv * *w0++;
            a1 += xv * *w1++;
            a2 += xv * *w2++;
            a3 += xv * *w3++;
        }
        out[o] = mf_nn_requant_out(rq, a0, o);
        out[o + 1] = mf_nn_requant_out(rq, a1, o + 1);
        out[o + 2] = mf_nn_requant_out(rq, a2, o + 2);
        out[o + 3] = mf_nn_requant_out(rq, a3, o + 3);
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

void mf_nn_mat_mult_s16(const int16_t *x0,
                        const int16_t *x1,
                        const int8_t *filter,
                        int32_t k,
                        int32_t n,
                        const mf_nn_requant *rq,
                        int8_t *out)
{
    const int32_t k4 = k & ~3;
    int8_t *out1 = out + n;
    const int8_t *w0 = filter;
    int32_t o = 0;
    for (; o + 2 <= n; o += 2) {
        const int8_t *w1 = w0 + k;
        int32_t a00 = mf_nn_bias(rq, o);
        int32_t a01 = mf_nn_bias(rq, o + 1);
        int32_t a10 = a00;
        int32_t a11 = a01;
        const int16_t *p0 = x0;
        const int16_t *p1 = x1;
        int32_t count = k4 >> 2;
        while (count-- > 0) {
            const uint32_t b0 = mf_read_u32(p0);
            const uint32_t b1 = mf_read_u32(p1);
            uint32_t wv = mf_read_u32(w0);
            w0 += 4;
            uint32_t wl = mf_sxtb16(wv);
            uint32_t wh = mf_sxtb16_ror8(wv);
            const uint32_t c0 = mf_read_u32(p0 + 2);
            const uint32_t c1 = mf_read_u32(p1 + 2);
            p0 += 4;
            p1 += 4;
            a00 = mf_smlad(wl, b0, a00);
            a10 = mf_smlad(wl, b1, a10);
            a00 = mf_smlad(wh, c0, a00);
            a10 = mf_smlad(wh, c1, a10);
            wv = mf_read_u32(w1);
            w1 += 4;
            wl = mf_sxtb16(wv);
            wh = mf_sxtb16_ror8(wv);
            a01 = mf_smlad(wl, b0, a01);
            a11 = mf_smlad(wl, b1, a11);
            a01 = mf_smlad(wh, c0, a01);
            a11 = mf_smlad(wh, c1, a11);
        }
        for (int32_t i = k4; i < k; i++) {
            const int32_t q0 = *w0++;
            const int32_t q1 = *w1++;
            a00 += x0[i] * q0;
            a10 += x1[i] * q0;
            a01 += x0[i] * q1;
            a11 += x1[i] * q1;
        }
        w0 = w1;
        out[o] = mf_nn_requant_out(rq, a00, o);
        out[o + 1] = mf_nn_requant_out(rq, a01, o + 1);
        out1[o] = mf_nn_requant_out(rq, a10, o);
        out1[o + 1] = mf_nn_requant_out(rq, a11, o + 1);
    }
    if (o < n) {
        int32_t a0 = mf_nn_bias(rq, o);
        int32_t a1 = a0;
        int32_t i = 0;
        for (; i < k4; i += 4) {
            const uint32_t wv = mf_read_u32(w0 + i);
            const uint32_t wl = mf_sxtb16(wv);
            const uint32_t wh = mf_sxtb16_ror8(wv);
            a0 = mf_smlad(wl, mf_read_u32(x0 + i), a0);
            a0 = mf_smlad(wh, mf_read_u32(x0 + i + 2), a0);
            a1 = mf_smlad(wl, mf_read_u32(x1 + i), a1);
            a1 = mf_smlad(wh, mf_read_u32(x1 + i + 2), a1);
        }
        for (; i < k; i++) {
            a0 += x0[i] * w0[i];
            a1 += x1[i] * w0[i];
        }
        out[o] = mf_nn_requant_out(rq, a0, o);
        out1[o] = mf_nn_requant_out(rq, a1, o);
    }
}

#endif /* MF_USE_DSP */
