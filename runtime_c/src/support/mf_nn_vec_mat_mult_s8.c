/*
 * mf_nn_vec_mat_mult_s8 - DSP path (Cortex-M4/M7/M33): one int8 row of k inputs times n filter
 * rows, four channels per pass: the filter bytes split by SXTB16 into halfword pairs and
 * multiplied two at a time by SMLAD against the row widened on the fly. The Cortex-M inner loop
 * is inline assembly beside its C twin (the twin runs on the host with the DSP instructions
 * emulated, and at -O0). Internal: see mf_internal.h.
 */
#include "mf_internal.h"

#include <stddef.h>

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

#endif /* MF_USE_DSP */
