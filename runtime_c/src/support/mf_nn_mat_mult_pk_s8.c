/*
 * mf_nn_mat_mult_pk_s8 - m3 (issue 12): the int8 matrix multiply of the portable family for a
 * packed row pair (mf_portable_nn.h): two rows by two output channels per pass, one SMLAL per
 * filter value and channel (two multiply-accumulates), the 64-bit sums split every
 * MF_PK_CHUNK inputs. On ARMv7-M the loop is inline assembly, four inputs per pass: 20
 * instructions per 16 multiply-accumulates (two LDRD of the packed pair, eight LDRSB of the
 * filter, eight SMLAL, the compare and branch); elsewhere (the host) the same sums in C.
 */
#include "mf_portable_nn.h"

#include <stddef.h>

#if MF_PT_PACKED

/* Add the two dot products held in t = s0 + s1 * 2^23 (|s0| < 2^22) to *a0 and *a1. */
static inline void mf_pk_split(int64_t t, int32_t *a0, int32_t *a1)
{
    const int32_t s0 = (int32_t)((uint32_t)t << 9) >> 9;
    *a0 += s0;
    *a1 += (int32_t)((t - s0) >> 23);
}

/* t0 += sum p[i] * w0[i], t1 += sum p[i] * w1[i] over i < len (len <= MF_PK_CHUNK). */
static inline void mf_pk_dot2(const int32_t *p,
                              const int8_t *w0,
                              const int8_t *w1,
                              int32_t len,
                              int64_t *t0,
                              int64_t *t1)
{
    int64_t s0 = 0, s1 = 0;
    int32_t i = 0;
#if defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 2
    const int32_t quads = len >> 2;
    if (quads > 0) {
        uint32_t l0 = 0, h0 = 0, l1 = 0, h1 = 0;
        int32_t x0, x1, a, b;
        const int32_t *xp = p;
        const int32_t *end = p + 4 * quads;
        const int8_t *q0 = w0, *q1 = w1;
#define MF_PK_STEP2                                                                            \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t"                                                       \
    "ldrsb %[a], [%[q0]], #1\n\t"                                                              \
    "ldrsb %[b], [%[q1]], #1\n\t"                                                              \
    "smlal %[l0], %[h0], %[x0], %[a]\n\t"                                                      \
    "smlal %[l1], %[h1], %[x0], %[b]\n\t"                                                      \
    "ldrsb %[a], [%[q0]], #1\n\t"                                                              \
    "ldrsb %[b], [%[q1]], #1\n\t"                                                              \
    "smlal %[l0], %[h0], %[x1], %[a]\n\t"                                                      \
    "smlal %[l1], %[h1], %[x1], %[b]\n\t"
        __asm__ volatile("1:\n\t" MF_PK_STEP2 MF_PK_STEP2
                         "cmp %[xp], %[end]\n\t"
                         "bne 1b\n"
                         : [l0] "+r"(l0), [h0] "+r"(h0), [l1] "+r"(l1), [h1] "+r"(h1),
                           [x0] "=&r"(x0), [x1] "=&r"(x1), [a] "=&r"(a), [b] "=&r"(b),
                           [xp] "+r"(xp), [q0] "+r"(q0), [q1] "+r"(q1)
                         : [end] "r"(end)
                         : "cc", "memory");
#undef MF_PK_STEP2
        s0 = (int64_t)(((uint64_t)h0 << 32) | l0);
        s1 = (int64_t)(((uint64_t)h1 << 32) | l1);
        i = 4 * quads;
    }
#endif
    for (; i < len; i++) {
        s0 += (int64_t)p[i] * w0[i];
        s1 += (int64_t)p[i] * w1[i];
    }
    *t0 = s0;
    *t1 = s1;
}

/* Channel o's two accumulators requantized to the int8 outputs *p0, *p1 (activation lo..hi,
 * already within int8). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void mf_pk_out2(const mf_nn_requant *rq,
                              int32_t o,
                              int32_t a0,
                              int32_t a1,
                              int8_t *p0,
                              int8_t *p1,
                              int32_t lo,
                              int32_t hi)
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
    *p0 = (int8_t)mf_clamp_i32(v0, lo, hi);
    *p1 = (int8_t)mf_clamp_i32(v1, lo, hi);
}

void mf_nn_mat_mult_pk_s8(const int32_t *p,
                          const int8_t *filter,
                          int32_t k,
                          int32_t n,
                          const mf_nn_requant *rq,
                          int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    rq = &r;
    const int32_t lo = r.activation.min > MF_INT8_MIN ? r.activation.min : MF_INT8_MIN;
    const int32_t hi = r.activation.max < MF_INT8_MAX ? r.activation.max : MF_INT8_MAX;
    int8_t *out1 = out + n;
    const int8_t *w0 = filter;
    for (int32_t o = 0; o < n; o += 2) {
        /* An odd last channel runs as a pair with itself (the second result dropped). */
        const int two = o + 1 < n;
        const int8_t *w1 = two ? w0 + k : w0;
        int32_t a00 = mf_nn_bias(rq, o);
        int32_t a01 = two ? mf_nn_bias(rq, o + 1) : 0;
        int32_t a10 = a00, a11 = a01;
        int64_t t0, t1;
        if (k <= MF_PK_CHUNK) {
            mf_pk_dot2(p, w0, w1, k, &t0, &t1);
            mf_pk_split(t0, &a00, &a10);
            mf_pk_split(t1, &a01, &a11);
        } else {
            for (int32_t i = 0; i < k; i += MF_PK_CHUNK) {
                const int32_t len = k - i < MF_PK_CHUNK ? k - i : MF_PK_CHUNK;
                mf_pk_dot2(p + i, w0 + i, w1 + i, len, &t0, &t1);
                mf_pk_split(t0, &a00, &a10);
                mf_pk_split(t1, &a01, &a11);
            }
        }
        mf_pk_out2(rq, o, a00, a10, out + o, out1 + o, lo, hi);
        if (two) {
            mf_pk_out2(rq, o + 1, a01, a11, out + o + 1, out1 + o + 1, lo, hi);
        }
        w0 = w1 + k;
    }
}

#else
typedef int mf_nn_mat_mult_pk_s8_unused; /* ARMv6-M, DSP and MVE builds: not used */
#endif /* MF_PT_PACKED */
