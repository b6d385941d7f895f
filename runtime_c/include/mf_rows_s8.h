/*
 * mf_rows_s8.h - dot products of one int8 vector with four consecutive int8 rows, for the
 * recurrent kernels (LSTM gates, SVDF feature filters; recurrent area). Internal.
 *
 * sums[r] += sum_k x[k] * w[r * n + k] for r < 4, exactly in int32 (the callers' offsets are in
 * their biases). Each input element is loaded once for the four rows: on the MVE path
 * (Cortex-M55) sixteen lanes per VMLADAVA with a VCTP-predicated tail, on the DSP path
 * (Cortex-M4/M7/M33) four bytes per word split by SXTB16 into two SMLADs, portable C otherwise.
 */
#ifndef MF_ROWS_S8_H
#define MF_ROWS_S8_H

#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve.h"
#endif

#if MF_USE_MVE
/* The four sums (from zero) as one vector: lane r holds row r's. */
static inline int32x4_t mf_dot4_rows_s8_mve(const int8_t *x, const int8_t *w, int32_t n)
{
    const int8_t *w1 = w + n;
    const int8_t *w2 = w1 + n;
    const int8_t *w3 = w2 + n;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (n <= 16) { /* speed-m55: one vector (an LSTM's small input and state), no loop */
        const mve_pred16_t p = vctp8q((uint32_t)n);
        const int8x16_t xv = vldrbq_z_s8(x, p);
        a0 = vmladavq_s8(xv, vldrbq_z_s8(w, p));
        a1 = vmladavq_s8(xv, vldrbq_z_s8(w1, p));
        a2 = vmladavq_s8(xv, vldrbq_z_s8(w2, p));
        a3 = vmladavq_s8(xv, vldrbq_z_s8(w3, p));
        n = 0;
    }
    for (int32_t k = 0; k < n; k += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - k));
        const int8x16_t xv = vldrbq_z_s8(x + k, p);
        a0 = vmladavaq_s8(a0, xv, vldrbq_z_s8(w + k, p));
        a1 = vmladavaq_s8(a1, xv, vldrbq_z_s8(w1 + k, p));
        a2 = vmladavaq_s8(a2, xv, vldrbq_z_s8(w2 + k, p));
        a3 = vmladavaq_s8(a3, xv, vldrbq_z_s8(w3 + k, p));
    }
    int32x4_t v = vdupq_n_s32(a0);
    v = vsetq_lane_s32(a1, v, 1);
    v = vsetq_lane_s32(a2, v, 2);
    return vsetq_lane_s32(a3, v, 3);
}
#endif

static inline void mf_dot4_rows_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t *sums)
{
#if MF_USE_MVE
    vstrwq_s32(sums, vaddq_s32(vldrwq_s32(sums), mf_dot4_rows_s8_mve(x, w, n)));
#else
    const int8_t *w1 = w + n;
    const int8_t *w2 = w1 + n;
    const int8_t *w3 = w2 + n;
    int32_t a0 = sums[0], a1 = sums[1], a2 = sums[2], a3 = sums[3];
    int32_t k = 0;
#if MF_USE_DSP
    for (; k + 4 <= n; k += 4) {
        const uint32_t xv = mf_read_u32(x + k);
        const uint32_t xe = mf_sxtb16(xv);
        const uint32_t xo = mf_sxtb16_ror8(xv);
        uint32_t wv = mf_read_u32(w + k);
        a0 = mf_smlad(xo, mf_sxtb16_ror8(wv), mf_smlad(xe, mf_sxtb16(wv), a0));
        wv = mf_read_u32(w1 + k);
        a1 = mf_smlad(xo, mf_sxtb16_ror8(wv), mf_smlad(xe, mf_sxtb16(wv), a1));
        wv = mf_read_u32(w2 + k);
        a2 = mf_smlad(xo, mf_sxtb16_ror8(wv), mf_smlad(xe, mf_sxtb16(wv), a2));
        wv = mf_read_u32(w3 + k);
        a3 = mf_smlad(xo, mf_sxtb16_ror8(wv), mf_smlad(xe, mf_sxtb16(wv), a3));
    }
#endif
    for (; k < n; k++) {
        const int32_t xk = x[k];
        a0 += xk * w[k];
        a1 += xk * w1[k];
        a2 += xk * w2[k];
        a3 += xk * w3[k];
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
#endif
}

#endif /* MF_ROWS_S8_H */
