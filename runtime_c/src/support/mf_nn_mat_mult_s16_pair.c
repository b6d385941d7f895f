/*
 * mf_nn_mat_mult_s16_pair - DSP path: two rows widened and interleaved by mf_nn_s8_to_s16_pair
 * times n int8 filter rows, two rows by two channels per pass with SMLAD; the inner loop is
 * mf_quads_2x2_s16 (mf_quads_2x2.h), shared with the general convolution. Internal:
 * see mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_quads_2x2.h"

#include <stddef.h>

#if MF_USE_DSP

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
    const uint32_t lo = 0x01010101u * (uint8_t)rq->activation.min;
    const uint32_t hi = 0x01010101u * (uint8_t)rq->activation.max;
    assert(rq->quant_step == 1);
    const int full_range =
        rq->activation.min <= MF_INT8_MIN && rq->activation.max >= MF_INT8_MAX;
    int32_t o = 0;
    for (; o + 2 <= n; o += 2) {
        int32_t a[4];
        a[0] = bias != NULL ? bias[o] : 0;
        a[1] = bias != NULL ? bias[o + 1] : 0;
        a[2] = a[0];
        a[3] = a[1];
        mf_quads_2x2_s16(x, w0, k, quads, a);
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
        /* Each channel's constants prepared once for its two rows (mf_rq1; speed-m4). */
        mf_rq1 q0 = {0, 0, 0, 0}, q1 = {0, 0, 0, 0};
        int32_t r00, r10, r01, r11;
        if (mf_rq1_init(&q0, m0, s0)) {
            r00 = mf_rq1_apply(&q0, a[0]);
            r10 = mf_rq1_apply(&q0, a[2]);
        } else {
            r00 = mf_requantize_fast(a[0], m0, s0);
            r10 = mf_requantize_fast(a[2], m0, s0);
        }
        if (mf_rq1_init(&q1, m1, s1)) {
            r01 = mf_rq1_apply(&q1, a[1]);
            r11 = mf_rq1_apply(&q1, a[3]);
        } else {
            r01 = mf_requantize_fast(a[1], m1, s1);
            r11 = mf_requantize_fast(a[3], m1, s1);
        }
        if (full_range) { /* the activation is int8's range: SSAT is the whole clamp */
            out[o] = (int8_t)mf_ssat8(r00 + off);
            out[o + 1] = (int8_t)mf_ssat8(r01 + off);
            out1[o] = (int8_t)mf_ssat8(r10 + off);
            out1[o + 1] = (int8_t)mf_ssat8(r11 + off);
            continue;
        }
        /* speed-m4: the four outputs packed into one word (row 0's two channels low, row 1's
         * high), clamped to the activation four bytes at a time, and stored as two halfwords
         * (out[o], out[o + 1] and out1[o], out1[o + 1]). */
        uint32_t v = (uint8_t)mf_ssat8(r00 + off);
        v |= (uint32_t)(uint8_t)mf_ssat8(r01 + off) << 8;
        v |= (uint32_t)(uint8_t)mf_ssat8(r10 + off) << 16;
        v |= (uint32_t)mf_ssat8(r11 + off) << 24;
        v = mf_min_s8x4(mf_max_s8x4(v, lo), hi);
        const uint16_t v0 = (uint16_t)v;
        const uint16_t v1 = (uint16_t)(v >> 16);
        memcpy(out + o, &v0, sizeof v0);
        memcpy(out1 + o, &v1, sizeof v1);
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
