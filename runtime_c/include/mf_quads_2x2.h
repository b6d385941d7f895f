/*
 * mf_quads_2x2.h - the 2x2 SMLAD block shared by mf_nn_conv_pair_s16 (general convolutions)
 * and mf_nn_mat_mult_s16_pair (1x1 convolutions) on DSP cores: a[0..3] (rows 0, 1 by channels
 * 0, 1: a00, a01, a10, a11) plus `quads` steps of four inputs; x holds two rows' widened quads
 * interleaved (8 halfwords per step, the layout of mf_nn_s8_to_s16_pair), w0 channel 0's filter
 * bytes and w0 + k channel 1's; returns x advanced past the quads. Inline assembly (two quads
 * per pass, an odd count entering at the second) beside its C twin.
 */
#ifndef MF_QUADS_2X2_H
#define MF_QUADS_2X2_H

#include "mf_internal.h"

#if MF_USE_DSP

/* One quad of the 2x2 block: x holds the two patches' widened quads (8 halfwords), %[w]
 * channel 0's four weight bytes (post-incremented), %[w] + kk - 4 ... channel 1's. */
#define MF_QUAD_2X2                                                                              \
    "ldrd %[b0], %[c0], [%[x]], #8\n\t"                                                          \
    "ldrd %[b1], %[c1], [%[x]], #8\n\t"                                                          \
    "ldr %[t], [%[w]], #4\n\t"                                                                   \
    "sxtb16 %[u], %[t]\n\t"                                                                      \
    "smlad %[a00], %[u], %[b0], %[a00]\n\t"                                                      \
    "smlad %[a10], %[u], %[b1], %[a10]\n\t"                                                      \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                              \
    "smlad %[a00], %[t], %[c0], %[a00]\n\t"                                                      \
    "smlad %[a10], %[t], %[c1], %[a10]\n\t"                                                      \
    "ldr %[t], [%[w], %[kk]]\n\t"                                                                \
    "sxtb16 %[u], %[t]\n\t"                                                                      \
    "smlad %[a01], %[u], %[b0], %[a01]\n\t"                                                      \
    "smlad %[a11], %[u], %[b1], %[a11]\n\t"                                                      \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                              \
    "smlad %[a01], %[t], %[c0], %[a01]\n\t"                                                      \
    "smlad %[a11], %[t], %[c1], %[a11]\n\t"

#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) /* -O0 keeps a frame pointer: C */
static inline const int16_t *mf_quads_2x2_s16(const int16_t *x,
                                              const int8_t *w0,
                                              int32_t k,
                                              int32_t quads,
                                              int32_t *a)
{
    if (quads <= 0) {
        return x;
    }
    const int32_t kk = k - 4; /* channel 1 from w0 after its post-increment */
    int32_t n = quads;
    uint32_t b0, c0, b1, c1, t, u;
    /* two quads per pass, an odd count entering at the second */
    __asm__ volatile("tst %[n], #1\n\t"
                     "add %[n], %[n], #1\n\t"
                     "lsr %[n], %[n], #1\n\t"
                     "bne 2f\n\t"
                     "1:\n\t" MF_QUAD_2X2 "2:\n\t" MF_QUAD_2X2
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [a00] "+r"(a[0]), [a01] "+r"(a[1]), [a10] "+r"(a[2]), [a11] "+r"(a[3]),
                       [x] "+r"(x), [w] "+r"(w0), [n] "+r"(n), [b0] "=&r"(b0), [c0] "=&r"(c0),
                       [b1] "=&r"(b1), [c1] "=&r"(c1), [t] "=&r"(t), [u] "=&r"(u)
                     : [kk] "r"(kk)
                     : "cc", "memory");
    return x;
}
#else
static inline const int16_t *mf_quads_2x2_s16(const int16_t *x,
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

#endif /* MF_USE_DSP */
#endif /* MF_QUADS_2X2_H */
