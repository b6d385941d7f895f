/*
 * mf_nn_i4_rows_s8 - rows of k int8 inputs times n output channels whose weights come in the
 * "i4" layout (m4pw, issue 12): the kernel behind mf_convolve_1x1_i4_s8 and
 * mf_fully_connected_i4_s8, chosen for Cortex-M4/M7/M33 (kernels/target.py). Internal: see
 * mf_internal.h, which gives the layout.
 *
 * The trick: a halfword h = (w_a + 128) + 256 * w_b holds two channels' weights for one input
 * and is a valid int16 (w_a + 128 in [0, 255], w_b in [-128, 127]). SMLAD of x against the raw
 * halfwords sums P = sum x * h; SXTB16 ROR 8 of the same word gives the w_b halfwords, and SMLAD
 * sums B = sum x * w_b. Then sum x * w_a = P - 256 * B - 128 * sum x, modulo 2^32 (every step
 * wraps as SMLAD does, and the true result fits int32). One load, one SXTB16 and two SMLADs make
 * four multiply-accumulates per row, against one load, two SXTB16s and two SMLADs for plain int8
 * weights. Bias and the -128 * sum x term start the accumulators.
 *
 * DSP paths: mf_nn_i4_pairs_s8 (1x1 convolutions) widens two rows into the scratch (SXTB16
 * order: quads of inputs (0, 2) and (1, 3), the order the layout keeps; an odd last row paired
 * with itself) and takes them by a group of four channels per pass, one pair's loop after the
 * other (LDRD of the pair's words, LDM of both rows' widened quad: 12 instructions per 16
 * multiply-accumulates), each row's four outputs stored as one word; mf_nn_i4_rows_s8 (dense
 * layers) takes one row by four channels straight from its int8 values (LDM of the group's four
 * words: 16 per 16). Both loops take four quads a pass, entered part-way for the rest. The
 * Cortex-M loops are inline assembly beside their C twins (the twins run on the host with the
 * DSP instructions emulated, and at -O0). Portable path: the layout decoded weight by weight.
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

/* Weight (o, i) of the i4 layout with k4 = k rounded up to 4 (mf_internal.h). */
static inline int32_t mf_i4_weight(const int8_t *packed, int32_t k4, int32_t o, int32_t i)
{
    const int32_t s = i & 3;
    const int32_t word = ((o >> 1) & 1) * 2 + (s & 1);
    const size_t at = (size_t)(o >> 2) * 4u * (size_t)k4 + (size_t)(i >> 2) * 16u +
                      (size_t)word * 4u + (size_t)(s >> 1) * 2u + (size_t)(o & 1);
    const uint8_t b = (uint8_t)packed[at];
    return (o & 1) ? (int32_t)(int8_t)b : (int32_t)b - 128;
}

#if MF_USE_DSP

/* Row sums of the widened pair buffer are taken while widening: x16 holds quads (row 0 inputs
 * 0, 2 | 1, 3, row 1 inputs 0, 2 | 1, 3), the last partial quad zero-padded. */
static void mf_i4_widen_pair(const int8_t *r0, const int8_t *r1, int32_t k, int16_t *x16,
                             int32_t *sum0, int32_t *sum1)
{
    int32_t s0 = 0, s1 = 0;
    int32_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const uint32_t v0 = mf_read_u32(r0 + i);
        const uint32_t v1 = mf_read_u32(r1 + i);
        const uint32_t l0 = mf_sxtb16(v0), h0 = mf_sxtb16_ror8(v0);
        const uint32_t l1 = mf_sxtb16(v1), h1 = mf_sxtb16_ror8(v1);
        mf_write_u32(x16, l0);
        mf_write_u32(x16 + 2, h0);
        mf_write_u32(x16 + 4, l1);
        mf_write_u32(x16 + 6, h1);
        s0 = mf_smlad(l0, 0x00010001u, mf_smlad(h0, 0x00010001u, s0));
        s1 = mf_smlad(l1, 0x00010001u, mf_smlad(h1, 0x00010001u, s1));
        x16 += 8;
    }
    if (i < k) {
        int8_t q0[4] = {0, 0, 0, 0}, q1[4] = {0, 0, 0, 0};
        for (int32_t j = 0; i + j < k; j++) {
            q0[j] = r0[i + j];
            q1[j] = r1[i + j];
            s0 += q0[j];
            s1 += q1[j];
        }
        const uint32_t v0 = mf_read_u32(q0), v1 = mf_read_u32(q1);
        mf_write_u32(x16, mf_sxtb16(v0));
        mf_write_u32(x16 + 2, mf_sxtb16_ror8(v0));
        mf_write_u32(x16 + 4, mf_sxtb16(v1));
        mf_write_u32(x16 + 6, mf_sxtb16_ror8(v1));
    }
    *sum0 = s0;
    *sum1 = s1;
}

/* Accumulators of one channel pair and two rows (P0, P1, B0, B1) plus `quads` quads: x the
 * widened pair (8 halfwords a quad), w the pair's lo word of the first quad (lo and hi words
 * adjacent, 16 bytes a quad). Inline: the caller's loop keeps everything else. */
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__ARM_ARCH) /* -O0: C */
#define MF_I4_BODY_2X2                                                                        \
    "ldrd %[wl], %[wh], [%[w]], #16\n\t"                                                      \
    "ldmia %[x]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                                           \
    "smlad %[p0], %[wl], %[x0], %[p0]\n\t"                                                    \
    "smlad %[p1], %[wl], %[x2], %[p1]\n\t"                                                    \
    "sxtb16 %[wl], %[wl], ror #8\n\t"                                                         \
    "smlad %[b0], %[wl], %[x0], %[b0]\n\t"                                                    \
    "smlad %[b1], %[wl], %[x2], %[b1]\n\t"                                                    \
    "smlad %[p0], %[wh], %[x1], %[p0]\n\t"                                                    \
    "smlad %[p1], %[wh], %[x3], %[p1]\n\t"                                                    \
    "sxtb16 %[wh], %[wh], ror #8\n\t"                                                         \
    "smlad %[b0], %[wh], %[x1], %[b0]\n\t"                                                    \
    "smlad %[b1], %[wh], %[x3], %[b1]\n\t"
#define MF_I4_MAC_2X2(X_, W_, N_, P0_, P1_, B0_, B1_)                                            \
    do {                                                                                      \
        register uint32_t x0 __asm__("r8");                                                   \
        register uint32_t x1 __asm__("r9");                                                   \
        register uint32_t x2 __asm__("r10");                                                  \
        register uint32_t x3 __asm__("r11");                                                  \
        const int16_t *xp_ = (X_);                                                             \
        const int8_t *wp_ = (W_);                                                              \
        int32_t n_ = (N_);                                                                 \
        uint32_t wl, wh;                                                                      \
        /* N_ >= 1 quad (k >= 1): no test */                                                 \
        __asm__ volatile("adds %[n], %[n], #3\n\t" /* ceil(quads / 4) passes of four */     \
                         "lsrs %[n], %[n], #1\n\t" /* r = (quads + 3) % 4 picks the */      \
                         "bcs 5f\n\t"               /* body to enter at: r = 3 the */        \
                         "lsrs %[n], %[n], #1\n\t" /* first, 2 the second, 1 the third, */  \
                         "bcs 2f\n\t"               /* 0 the fourth */                      \
                         "b 4f\n\t"                                                          \
                         "5:\n\t"                                                            \
                         "lsrs %[n], %[n], #1\n\t"                                           \
                         "bcc 3f\n\t"                                                        \
                         "1:\n\t" MF_I4_BODY_2X2 "2:\n\t" MF_I4_BODY_2X2                       \
                         "3:\n\t" MF_I4_BODY_2X2 "4:\n\t" MF_I4_BODY_2X2                       \
                         "subs %[n], %[n], #1\n\t"                                           \
                         "bne 1b\n\t"                                                        \
                         : [p0] "+r"(P0_), [p1] "+r"(P1_), [b0] "+r"(B0_), [b1] "+r"(B1_),        \
                           [x] "+r"(xp_), [w] "+r"(wp_), [n] "+r"(n_), [wl] "=&r"(wl),        \
                           [wh] "=&r"(wh), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),    \
                           [x3] "=&r"(x3)                                                     \
                         :                                                                    \
                         : "cc", "memory");                                                   \
    } while (0)
#else
#define MF_I4_MAC_2X2(X_, W_, N_, P0_, P1_, B0_, B1_)                                            \
    do {                                                                                      \
        const int16_t *xp_ = (X_);                                                             \
        const int8_t *wp_ = (W_);                                                              \
        for (int32_t q_ = 0; q_ < (N_); q_++, xp_ += 8, wp_ += 16) {                       \
            const uint32_t x0 = mf_read_u32(xp_), x1 = mf_read_u32(xp_ + 2);                  \
            const uint32_t x2 = mf_read_u32(xp_ + 4), x3 = mf_read_u32(xp_ + 6);              \
            const uint32_t wl = mf_read_u32(wp_), wh = mf_read_u32(wp_ + 4);                  \
            P0_ = mf_smlad(wh, x1, mf_smlad(wl, x0, P0_));                                    \
            P1_ = mf_smlad(wh, x3, mf_smlad(wl, x2, P1_));                                    \
            B0_ = mf_smlad(mf_sxtb16_ror8(wh), x1, mf_smlad(mf_sxtb16_ror8(wl), x0, B0_));    \
            B1_ = mf_smlad(mf_sxtb16_ror8(wh), x3, mf_smlad(mf_sxtb16_ror8(wl), x2, B1_));    \
        }                                                                                     \
    } while (0)
#endif

/* Accumulators of one group's two channel pairs for one row (P0, P1, B0, B1) plus `quads`
 * quads of int8 inputs x; w the group's first quad (16 bytes: pair 0 lo, hi, pair 1 lo, hi). */
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__ARM_ARCH) /* -O0: C */
#define MF_I4_BODY_1X4                                                                        \
    "ldr %[xh], [%[x]], #4\n\t"                                                               \
    "ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                           \
    "sxtb16 %[xl], %[xh]\n\t"                                                                 \
    "sxtb16 %[xh], %[xh], ror #8\n\t"                                                         \
    "smlad %[p0], %[w0], %[xl], %[p0]\n\t"                                                    \
    "smlad %[p1], %[w2], %[xl], %[p1]\n\t"                                                    \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                         \
    "sxtb16 %[w2], %[w2], ror #8\n\t"                                                         \
    "smlad %[b0], %[w0], %[xl], %[b0]\n\t"                                                    \
    "smlad %[b1], %[w2], %[xl], %[b1]\n\t"                                                    \
    "smlad %[p0], %[w1], %[xh], %[p0]\n\t"                                                    \
    "smlad %[p1], %[w3], %[xh], %[p1]\n\t"                                                    \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                         \
    "sxtb16 %[w3], %[w3], ror #8\n\t"                                                         \
    "smlad %[b0], %[w1], %[xh], %[b0]\n\t"                                                    \
    "smlad %[b1], %[w3], %[xh], %[b1]\n\t"
#define MF_I4_MAC_1X4(X_, W_, N_, P0_, P1_, B0_, B1_)                                            \
    do {                                                                                      \
        register uint32_t w0 __asm__("r8");                                                   \
        register uint32_t w1 __asm__("r9");                                                   \
        register uint32_t w2 __asm__("r10");                                                  \
        register uint32_t w3 __asm__("r11");                                                  \
        const int8_t *xp_ = (X_);                                                              \
        const int8_t *wp_ = (W_);                                                              \
        int32_t n_ = (N_);                                                                 \
        uint32_t xl, xh;                                                                      \
        if (n_ > 0) /* the loop takes at least one quad */                                     \
        __asm__ volatile("adds %[n], %[n], #3\n\t" /* as MF_I4_MAC_2X2: four quads */        \
                         "lsrs %[n], %[n], #1\n\t" /* a pass, entered at the body */        \
                         "bcs 5f\n\t"               /* (quads + 3) % 4 picks */               \
                         "lsrs %[n], %[n], #1\n\t"                                           \
                         "bcs 2f\n\t"                                                        \
                         "b 4f\n\t"                                                          \
                         "5:\n\t"                                                            \
                         "lsrs %[n], %[n], #1\n\t"                                           \
                         "bcc 3f\n\t"                                                        \
                         "1:\n\t" MF_I4_BODY_1X4 "2:\n\t" MF_I4_BODY_1X4                       \
                         "3:\n\t" MF_I4_BODY_1X4 "4:\n\t" MF_I4_BODY_1X4                       \
                         "subs %[n], %[n], #1\n\t"                                           \
                         "bne 1b\n\t"                                                        \
                         : [p0] "+r"(P0_), [p1] "+r"(P1_), [b0] "+r"(B0_), [b1] "+r"(B1_),        \
                           [x] "+r"(xp_), [w] "+r"(wp_), [n] "+r"(n_), [xl] "=&r"(xl),        \
                           [xh] "=&r"(xh), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2),    \
                           [w3] "=&r"(w3)                                                     \
                         :                                                                    \
                         : "cc", "memory");                                                   \
    } while (0)
#else
#define MF_I4_MAC_1X4(X_, W_, N_, P0_, P1_, B0_, B1_)                                            \
    do {                                                                                      \
        const int8_t *xp_ = (X_);                                                              \
        const int8_t *wp_ = (W_);                                                              \
        for (int32_t q_ = 0; q_ < (N_); q_++, xp_ += 4, wp_ += 16) {                       \
            const uint32_t xv = mf_read_u32(xp_);                                             \
            const uint32_t xl = mf_sxtb16(xv), xh = mf_sxtb16_ror8(xv);                       \
            const uint32_t w0 = mf_read_u32(wp_), w1 = mf_read_u32(wp_ + 4);                  \
            const uint32_t w2 = mf_read_u32(wp_ + 8), w3 = mf_read_u32(wp_ + 12);             \
            P0_ = mf_smlad(w1, xh, mf_smlad(w0, xl, P0_));                                    \
            P1_ = mf_smlad(w3, xh, mf_smlad(w2, xl, P1_));                                    \
            B0_ = mf_smlad(mf_sxtb16_ror8(w1), xh, mf_smlad(mf_sxtb16_ror8(w0), xl, B0_));    \
            B1_ = mf_smlad(mf_sxtb16_ror8(w3), xh, mf_smlad(mf_sxtb16_ror8(w2), xl, B1_));    \
        }                                                                                     \
    } while (0)
#endif

/* The starting P accumulator of channel pair (a, b) for a row summing to sx (mod 2^32). */
static inline int32_t mf_i4_p0(int32_t bias_a, int32_t bias_b, int32_t sx)
{
    return (int32_t)((uint32_t)bias_a + ((uint32_t)bias_b << 8) - ((uint32_t)sx << 7));
}

/* sum x * w_a from P and B (mod 2^32; the true value fits int32). */
static inline int32_t mf_i4_acc_a(int32_t p, int32_t b)
{
    return (int32_t)((uint32_t)p - ((uint32_t)b << 8));
}

/* mf_requantize_fast out of line: the rare shifts mf_rq1 does not take (shift >= 0). */
static __attribute__((noinline)) int32_t mf_i4_rq_slow(int32_t acc, int32_t m, int32_t s)
{
    return mf_requantize_fast(acc, m, s);
}

/* acc requantized with (m, s), output offset not added: mf_requantize_fast's value. */
static inline int32_t mf_i4_rq(int32_t acc, int32_t m, int32_t s)
{
    mf_rq1 q = {0, 0, 0, 0};
    return mf_rq1_init(&q, m, s) ? mf_rq1_apply(&q, acc) : mf_i4_rq_slow(acc, m, s);
}

/* acc requantized to int8 with channel o's constants, offset added, clamped. */
static inline int8_t mf_i4_out1(const mf_nn_requant *rq, int32_t acc, int32_t o)
{
    const int32_t q = o * rq->quant_step;
    const int32_t v = mf_i4_rq(acc, rq->multiplier[q], rq->shift[q]) + rq->output_offset;
    return (int8_t)mf_clamp_i32(v, rq->activation.min, rq->activation.max);
}

/* Four requantized values plus the output offset, saturated to int8 and packed little-endian
 * (BFI on Armv7-M), then clamped to the activation's bytes lo, hi four at a time. */
static inline uint32_t mf_i4_pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3, int32_t off,
                                   uint32_t lo, uint32_t hi)
{
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__ARM_ARCH)
    uint32_t v, t;
    __asm__("add %[v], %[v0], %[off]\n\t"
            "ssat %[v], #8, %[v]\n\t"
            "add %[t], %[v1], %[off]\n\t"
            "ssat %[t], #8, %[t]\n\t"
            "bfi %[v], %[t], #8, #8\n\t"
            "add %[t], %[v2], %[off]\n\t"
            "ssat %[t], #8, %[t]\n\t"
            "bfi %[v], %[t], #16, #8\n\t"
            "add %[t], %[v3], %[off]\n\t"
            "ssat %[t], #8, %[t]\n\t"
            "bfi %[v], %[t], #24, #8\n\t"
            "ssub8 %[t], %[v], %[lo]\n\t"
            "sel %[v], %[v], %[lo]\n\t"
            "ssub8 %[t], %[v], %[hi]\n\t"
            "sel %[v], %[hi], %[v]\n\t"
            : [v] "=&r"(v), [t] "=&r"(t)
            : [v0] "r"(v0), [v1] "r"(v1), [v2] "r"(v2), [v3] "r"(v3), [off] "r"(off),
              [lo] "r"(lo), [hi] "r"(hi)
            : "cc");
    return v;
#else
    uint32_t v = (uint8_t)mf_ssat8(v0 + off);
    v |= (uint32_t)(uint8_t)mf_ssat8(v1 + off) << 8;
    v |= (uint32_t)(uint8_t)mf_ssat8(v2 + off) << 16;
    v |= (uint32_t)(uint8_t)mf_ssat8(v3 + off) << 24;
    return mf_min_s8x4(mf_max_s8x4(v, lo), hi);
#endif
}

/* The sum of k int8 values. */
static inline int32_t mf_i4_sum(const int8_t *x, int32_t k)
{
    int32_t s = 0;
    int32_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const uint32_t v = mf_read_u32(x + i);
        s = mf_smlad(mf_sxtb16(v), 0x00010001u, mf_smlad(mf_sxtb16_ror8(v), 0x00010001u, s));
    }
    for (; i < k; i++) {
        s += x[i];
    }
    return s;
}

/* One row x (k int8 inputs) by every channel, four at a time. */
static inline __attribute__((always_inline)) void mf_i4_row_body(const int8_t *x,
                                                                 const int8_t *packed,
                                                                 int32_t k,
                                                                 int32_t n,
                                                                 const mf_nn_requant *rq,
                                                                 int8_t *out,
                                                                 const int tensor_rq)
{
    const int32_t k4 = (k + 3) & ~3;
    const int32_t quads = k >> 2;
    const int32_t tail = k & 3;
    const int32_t *bias = rq->bias;
    const int32_t *mult = rq->multiplier;
    const int32_t *shift = rq->shift;
    const int32_t step = rq->quant_step;
    const int32_t off = rq->output_offset;
    const uint32_t lo = 0x01010101u * (uint8_t)rq->activation.min;
    const uint32_t hi = 0x01010101u * (uint8_t)rq->activation.max;
    const int32_t sx = mf_i4_sum(x, k);
    mf_rq1 q1 = {0, 0, 0, 0};
    if (tensor_rq) { /* the caller checked that mf_rq1 takes the shift */
        (void)mf_rq1_init(&q1, mult[0], shift[0]);
    }
    uint32_t xt = 0; /* the last partial quad, zero-padded */
    if (tail) {
        int8_t q[4] = {0, 0, 0, 0};
        memcpy(q, x + 4 * quads, (size_t)tail);
        xt = mf_read_u32(q);
    }
    const int8_t *w = packed;
    int32_t o = 0;
    for (; o < n; o += 4, w += 4 * k4) {
        int32_t b[4] = {0, 0, 0, 0};
        if (bias != NULL) {
            if (o + 4 <= n) {
                b[0] = bias[o];
                b[1] = bias[o + 1];
                b[2] = bias[o + 2];
                b[3] = bias[o + 3];
            } else {
                for (int32_t c = 0; o + c < n; c++) {
                    b[c] = bias[o + c];
                }
            }
        }
        int32_t p0 = mf_i4_p0(b[0], b[1], sx), p1 = mf_i4_p0(b[2], b[3], sx);
        int32_t b0 = b[1], b1 = b[3];
        MF_I4_MAC_1X4(x, w, quads, p0, p1, b0, b1);
        if (tail) {
            const int8_t *wt = w + 16 * quads;
            const uint32_t xl = mf_sxtb16(xt), xh = mf_sxtb16_ror8(xt);
            const uint32_t w0 = mf_read_u32(wt), w1 = mf_read_u32(wt + 4);
            const uint32_t w2 = mf_read_u32(wt + 8), w3 = mf_read_u32(wt + 12);
            p0 = mf_smlad(w1, xh, mf_smlad(w0, xl, p0));
            p1 = mf_smlad(w3, xh, mf_smlad(w2, xl, p1));
            b0 = mf_smlad(mf_sxtb16_ror8(w1), xh, mf_smlad(mf_sxtb16_ror8(w0), xl, b0));
            b1 = mf_smlad(mf_sxtb16_ror8(w3), xh, mf_smlad(mf_sxtb16_ror8(w2), xl, b1));
        }
        const int32_t acc[4] = {mf_i4_acc_a(p0, b0), b0, mf_i4_acc_a(p1, b1), b1};
        if (o + 4 <= n && tensor_rq) { /* one channel's constants for the whole row */
            mf_write_u32(out + o, mf_i4_pack4(mf_rq1_apply(&q1, acc[0]), mf_rq1_apply(&q1, acc[1]),
                                              mf_rq1_apply(&q1, acc[2]), mf_rq1_apply(&q1, acc[3]),
                                              off, lo, hi));
        } else if (o + 4 <= n) {
            const int32_t q = o * step;
            mf_write_u32(out + o, mf_i4_pack4(mf_i4_rq(acc[0], mult[q], shift[q]),
                                              mf_i4_rq(acc[1], mult[q + step], shift[q + step]),
                                              mf_i4_rq(acc[2], mult[q + 2 * step], shift[q + 2 * step]),
                                              mf_i4_rq(acc[3], mult[q + 3 * step], shift[q + 3 * step]),
                                              off, lo, hi));
        } else {
            for (int32_t c = 0; o + c < n; c++) {
                out[o + c] = mf_i4_out1(rq, acc[c], o + c);
            }
        }
    }
}

/* One row by every channel: the body compiled apart for one requantization for the whole row
 * (per-tensor quantization, the usual case for dense layers) and for per-channel constants. */
static __attribute__((noinline)) void mf_i4_row(const int8_t *x, const int8_t *packed, int32_t k,
                                                int32_t n, const mf_nn_requant *rq, int8_t *out)
{
    if (rq->quant_step == 0 && rq->shift[0] < 0 && rq->shift[0] >= -31) {
        mf_i4_row_body(x, packed, k, n, rq, out, 1);
    } else {
        mf_i4_row_body(x, packed, k, n, rq, out, 0);
    }
}

/* Two accumulators a, b of one channel requantized with (m, s): mf_requantize_fast's values.
 * mf_rq1's sum for shifts in [-31, -2], where its constant's low word is 2^30 (an RSBS
 * immediate) and its high word 2^(-s - 2); other shifts out of line. */
static inline void mf_i4_rq2(int32_t a, int32_t b, int32_t m, int32_t s, int32_t *ra, int32_t *rb)
{
    const uint32_t u = (uint32_t)s + 31u; /* 29 - (r - 2) for a right shift r = -s */
    if (u > 29u) {
        *ra = mf_i4_rq_slow(a, m, s);
        *rb = mf_i4_rq_slow(b, m, s);
        return;
    }
    const uint32_t khi = 0x20000000u >> u; /* 2^(r - 2) */
    const uint32_t r1 = ~(uint32_t)s;      /* r - 1 */
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__ARM_ARCH)
    uint32_t t, lo, hia, hib;
    __asm__("and %[t], %[a], #0x80000000\n\t"
            "rsbs %[lo], %[t], #0x40000000\n\t"
            "sbc %[hia], %[khi], #0\n\t"
            "smlal %[lo], %[hia], %[a], %[m]\n\t"
            "and %[t], %[b], #0x80000000\n\t"
            "rsbs %[lo], %[t], #0x40000000\n\t"
            "sbc %[hib], %[khi], #0\n\t"
            "smlal %[lo], %[hib], %[b], %[m]\n\t"
            : [t] "=&r"(t), [lo] "=&r"(lo), [hia] "=&r"(hia), [hib] "=&r"(hib)
            : [a] "r"(a), [b] "r"(b), [khi] "r"(khi), [m] "r"(m)
            : "cc");
    (void)lo;
    *ra = (int32_t)hia >> r1;
    *rb = (int32_t)hib >> r1;
#else
    const uint64_t k = ((uint64_t)khi << 32) | 0x40000000u;
    const uint64_t pa = k - ((uint32_t)a & 0x80000000u) + (uint64_t)((int64_t)a * m);
    const uint64_t pb = k - ((uint32_t)b & 0x80000000u) + (uint64_t)((int64_t)b * m);
    *ra = (int32_t)(uint32_t)(pa >> 32) >> r1;
    *rb = (int32_t)(uint32_t)(pb >> 32) >> r1;
#endif
}

/* Channel pair (a, b) of two widened rows (x16, row sums times 128 t0, t1): bias ba, bb, the
 * pair's weights at w; the four outputs requantized with a's and b's multiplier and shift (at
 * mult0, shift0 and mult1, shift1), offset added, saturated and clamped to lo, hi, packed as (row 0 a, b, row 1 a, b). */
static inline __attribute__((always_inline)) uint32_t mf_i4_pair_word(
    const int16_t *x16, const int8_t *w, int32_t quads, uint32_t ba, uint32_t bb, uint32_t t0,
    uint32_t t1, const int32_t *mult0, const int32_t *mult1, const int32_t *shift0,
    const int32_t *shift1, int32_t off, uint32_t lo, uint32_t hi)
{
    int32_t p0 = (int32_t)(ba + (bb << 8) - t0), p1 = (int32_t)(ba + (bb << 8) - t1);
    int32_t b0 = (int32_t)bb, b1 = (int32_t)bb;
    MF_I4_MAC_2X2(x16, w, quads, p0, p1, b0, b1);
    const int32_t a00 = mf_i4_acc_a(p0, b0), a10 = mf_i4_acc_a(p1, b1);
    int32_t r00, r10, r01, r11;
    mf_i4_rq2(a00, a10, *mult0, *shift0, &r00, &r10);
    mf_i4_rq2(b0, b1, *mult1, *shift1, &r01, &r11);
    return mf_i4_pack4(r00, r01, r10, r11, off, lo, hi);
}

/* Two rows, widened into x16 (mf_i4_widen_pair), by every channel, a group of four (two
 * pairs) per pass, each row's four outputs stored as one word; row 0's outputs at out, row 1's
 * at out1 (the same place when both rows are one). A last partial group runs whole (the layout
 * pads it with zero weights) on copies of its constants padded with the last channel's, and
 * stores only its channels. Per-channel quantization (quant_step 1). */
static __attribute__((noinline)) void mf_i4_pair(const int16_t *x16, int32_t s0, int32_t s1,
                                                 const int8_t *packed, int32_t k, int32_t n,
                                                 const mf_nn_requant *rq, int8_t *out,
                                                 int8_t *out1)
{
    static const int32_t no_bias[4] = {0, 0, 0, 0};
    const int32_t k4 = (k + 3) & ~3;
    const int32_t quads = k4 >> 2;
    const int32_t bstep = rq->bias != NULL ? 4 : 0;
    const int32_t *bias = rq->bias != NULL ? rq->bias : no_bias;
    const int32_t *mult = rq->multiplier;
    const int32_t *shift = rq->shift;
    const int32_t off = rq->output_offset;
    const uint32_t lo = 0x01010101u * (uint8_t)rq->activation.min;
    const uint32_t hi = 0x01010101u * (uint8_t)rq->activation.max;
    const uint32_t t0 = (uint32_t)s0 << 7, t1 = (uint32_t)s1 << 7;
    const int8_t *w = packed;
    int32_t pad[3][4]; /* a partial group's bias, multipliers, shifts */
    for (int32_t o = 0; o < n; o += 4, w += 4 * k4, bias += bstep, mult += 4, shift += 4) {
        const int32_t *b = bias, *m = mult, *sh = shift;
        const int32_t left = n - o;
        if (left < 4) {
            for (int32_t c = 0; c < 4; c++) {
                const int32_t i = c < left ? c : left - 1;
                pad[0][c] = bias[bstep != 0 ? i : c];
                pad[1][c] = mult[i];
                pad[2][c] = shift[i];
            }
            b = pad[0];
            m = pad[1];
            sh = pad[2];
        }
        const uint32_t va = mf_i4_pair_word(x16, w, quads, (uint32_t)b[0], (uint32_t)b[1], t0,
                                            t1, m, m + 1, sh, sh + 1, off, lo, hi);
        const uint32_t vb = mf_i4_pair_word(x16, w + 8, quads, (uint32_t)b[2], (uint32_t)b[3],
                                            t0, t1, m + 2, m + 3, sh + 2, sh + 3, off, lo, hi);
        const uint32_t v0 = (va & 0xffffu) | (vb << 16);    /* PKHBT: row 0's four */
        const uint32_t v1 = (va >> 16) | (vb & 0xffff0000u); /* PKHTB: row 1's four */
        if (left >= 4) {
            mf_write_u32(out + o, v0);
            mf_write_u32(out1 + o, v1);
        } else {
            for (int32_t c = 0; c < left; c++) {
                out[o + c] = (int8_t)(v0 >> (8 * c));
                out1[o + c] = (int8_t)(v1 >> (8 * c));
            }
        }
    }
}

#endif /* MF_USE_DSP */

int32_t mf_nn_i4_scratch_bytes(int32_t k)
{
    return 2 * ((k + 3) & ~3) * (int32_t)sizeof(int16_t);
}

#if !MF_USE_DSP
/* Portable builds: the layout decoded weight by weight. */
static void mf_i4_plain(const int8_t *x, int32_t rows, const int8_t *packed, int32_t k, int32_t n,
                        const mf_nn_requant *r, int8_t *out)
{
    const int32_t k4 = (k + 3) & ~3;
    for (int32_t row = 0; row < rows; row++) {
        const int8_t *xr = x + (size_t)row * (size_t)k;
        for (int32_t o = 0; o < n; o++) {
            int32_t acc = mf_nn_bias(r, o);
            for (int32_t i = 0; i < k; i++) {
                acc += xr[i] * mf_i4_weight(packed, k4, o, i);
            }
            out[(size_t)row * (size_t)n + (size_t)o] = mf_nn_requant_out(r, acc, o);
        }
    }
}
#endif

void mf_nn_i4_rows_s8(const int8_t *x,
                      int32_t rows,
                      const int32_t *filter,
                      int32_t k,
                      int32_t n,
                      const mf_nn_requant *rq,
                      int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    const int8_t *packed = (const int8_t *)filter; /* word-aligned: LDM takes it */
#if MF_USE_DSP
    for (int32_t row = 0; row < rows; row++) {
        mf_i4_row(x + (size_t)row * (size_t)k, packed, k, n, &r, out + (size_t)row * (size_t)n);
    }
#else
    mf_i4_plain(x, rows, packed, k, n, &r, out);
#endif
}

void mf_nn_i4_pairs_s8(const int8_t *x,
                       int32_t rows,
                       const int32_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int16_t *scratch,
                       int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    const int8_t *packed = (const int8_t *)filter; /* word-aligned: LDRD takes it */
#if MF_USE_DSP
    assert(r.quant_step == 1);
    for (int32_t row = 0; row < rows; row += 2) {
        const int8_t *x0 = x + (size_t)row * (size_t)k;
        int8_t *o0 = out + (size_t)row * (size_t)n;
        const int last = row + 1 == rows; /* an odd last row: a pair of itself, written twice */
        int32_t s0, s1;
        mf_i4_widen_pair(x0, last ? x0 : x0 + k, k, scratch, &s0, &s1);
        mf_i4_pair(scratch, s0, s1, packed, k, n, &r, o0, last ? o0 : o0 + n);
    }
#else
    (void)scratch;
    mf_i4_plain(x, rows, packed, k, n, &r, out);
#endif
}
