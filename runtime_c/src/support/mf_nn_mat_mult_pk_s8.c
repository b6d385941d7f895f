/*
 * mf_nn_mat_mult_pk_s8 - m3 (issue 12): the int8 matrix multiply of the portable family for a
 * packed row pair (mf_portable_nn.h): two rows by two output channels per pass, one SMLAL per
 * filter value and channel (two multiply-accumulates), the 64-bit sums split every
 * MF_PK_CHUNK inputs at most. Channels go by blocks of MF_PK_BLOCK: the sums of a block (two
 * rows, bias not yet added) wait on the stack, then one loop adds the bias and requantizes.
 * On ARMv7-M a whole block's channel pairs are one inline-assembly block (mf_pk_pairs_asm),
 * four inputs per pass: 20 instructions per 16 multiply-accumulates (two LDRD of the packed
 * pair, eight LDRSB of the filter, eight SMLAL, the compare and branch), 31 per pair besides;
 * elsewhere (the host, and an odd last channel) the same sums in C.
 */
#include "mf_portable_nn.h"

#include <stddef.h>

#if MF_PT_PACKED

#if defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 2
#define MF_PK_ASM_PAIRS 1 /* ARMv7-M: every channel in mf_pk_pairs_asm */
#else
#define MF_PK_ASM_PAIRS 0 /* the host: the same sums in C */
#endif

void mf_nn_pack_pair_s8(const int8_t *x0, const int8_t *x1, int32_t *p, int32_t k)
{
    int32_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const int32_t a0 = x0[i], a1 = x0[i + 1], a2 = x0[i + 2], a3 = x0[i + 3];
        const int32_t b0 = x1[i], b1 = x1[i + 1], b2 = x1[i + 2], b3 = x1[i + 3];
        p[i] = (int32_t)((uint32_t)a0 + ((uint32_t)b0 << 23));
        p[i + 1] = (int32_t)((uint32_t)a1 + ((uint32_t)b1 << 23));
        p[i + 2] = (int32_t)((uint32_t)a2 + ((uint32_t)b2 << 23));
        p[i + 3] = (int32_t)((uint32_t)a3 + ((uint32_t)b3 << 23));
    }
    for (; i < k; i++) {
        p[i] = (int32_t)((uint32_t)(int32_t)x0[i] + ((uint32_t)(int32_t)x1[i] << 23));
    }
}

#if !MF_PK_ASM_PAIRS
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
    for (int32_t i = 0; i < len; i++) {
        s0 += (int64_t)p[i] * w0[i];
        s1 += (int64_t)p[i] * w1[i];
    }
    *t0 = s0;
    *t1 = s1;
}
#endif

/* Channels per block: their sums wait on the stack (two rows each) for the requantization, so
 * neither loop holds the other's values in registers. */
#define MF_PK_BLOCK 8

/* The block's sums (acc: row 0, row 1 per channel) of channels o .. o + nb - 1 plus the bias,
 * requantized by rq into out0[j], out1[j] (out1 NULL: row 1 dropped). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_pk_block_out(const int32_t *acc,
                            int32_t nb,
                            const mf_nn_requant *rq,
                            int32_t o,
                            int8_t *out0,
                            int8_t *out1)
{
    /* in locals: the output stores alias everything */
    const int32_t step = rq->quant_step, off = rq->output_offset;
    const int32_t *bias = rq->bias != NULL ? rq->bias + o : NULL;
    const int32_t *mult = rq->multiplier + o * step, *shift = rq->shift + o * step;
    const int32_t lo = rq->activation.min > MF_INT8_MIN ? rq->activation.min : MF_INT8_MIN;
    const int32_t hi = rq->activation.max < MF_INT8_MAX ? rq->activation.max : MF_INT8_MAX;
    for (int32_t j = 0; j < nb; j++) {
        const int32_t m = *mult, sh = *shift;
        const int32_t b = bias != NULL ? bias[j] : 0;
        mult += step;
        shift += step;
        mf_rq1 c = {0, 0, 0, 0};
        int32_t v0, v1;
        if (mf_rq1_init(&c, m, sh)) {
            v0 = mf_rq1_apply(&c, acc[0] + b);
            v1 = mf_rq1_apply(&c, acc[1] + b);
        } else {
            v0 = mf_requantize_fast(acc[0] + b, m, sh);
            v1 = mf_requantize_fast(acc[1] + b, m, sh);
        }
        acc += 2;
        out0[j] = (int8_t)mf_clamp_i32(v0 + off, lo, hi);
        if (out1 != NULL) {
            out1[j] = (int8_t)mf_clamp_i32(v1 + off, lo, hi);
        }
    }
}
#if MF_PK_ASM_PAIRS

/* `pairs` channel pairs (filter rows of k values from w) of a packed row pair over inputs
 * [0, len) (4 <= len <= MF_PK_CHUNK; p and w at the chunk's start), in one block of inline
 * assembly: per pair the two 64-bit sums, split, stored as acc = row 0 and row 1 of the first
 * channel, then of the second (no bias). Per pair 31 instructions besides the 20 per four
 * inputs and 7 per input of the len % 4; the lengths and the pair count live in memory
 * operands. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_pk_pairs_asm(const int32_t *p,
                            const int8_t *w,
                            int32_t k,
                            int32_t len,
                            int32_t pairs,
                            int32_t *acc,
                            int32_t add)
{
    uint32_t l0, h0, l1, h1;
    int32_t x0, x1, a;
    const int32_t *xp = p;
    const int32_t *end = p + (len & ~3);
    const int8_t *q0 = w, *q1 = w + k;
    int32_t kk = k, n4 = len & ~3, rem = len & 3, skip = k - len, left = pairs;
#define MF_PK_STEP2                                                                            \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t"                                                       \
    "ldrsb %[a], [%[q0]], #1\n\t"                                                              \
    "smlal %[l0], %[h0], %[x0], %[a]\n\t"                                                      \
    "ldrsb %[a], [%[q1]], #1\n\t"                                                              \
    "smlal %[l1], %[h1], %[x0], %[a]\n\t"                                                      \
    "ldrsb %[a], [%[q0]], #1\n\t"                                                              \
    "smlal %[l0], %[h0], %[x1], %[a]\n\t"                                                      \
    "ldrsb %[a], [%[q1]], #1\n\t"                                                              \
    "smlal %[l1], %[h1], %[x1], %[a]\n\t"
#define MF_PK_SPLIT(l, h, s)                                                                   \
    "sbfx %[" s "], %[" l "], #0, #23\n\t"                                                      \
    "subs %[" l "], %[" l "], %[" s "]\n\t"                                                     \
    "sbc %[" h "], %[" h "], %[" s "], asr #31\n\t"                                             \
    "lsrs %[" l "], %[" l "], #23\n\t"                                                          \
    "orr %[" h "], %[" l "], %[" h "], lsl #9\n\t"
    __asm__ volatile("0:\n\t"
                     "movs %[l0], #0\n\t"
                     "movs %[h0], #0\n\t"
                     "movs %[l1], #0\n\t"
                     "movs %[h1], #0\n\t"
                     "ldr %[a], %[n4]\n\t"
                     "sub %[xp], %[end], %[a], lsl #2\n\t"
                     "cmp %[xp], %[end]\n\t"
                     "beq 5f\n"
                     "1:\n\t" MF_PK_STEP2 MF_PK_STEP2
                     "cmp %[xp], %[end]\n\t"
                     "bne 1b\n"
                     "5:\n\t"
                     "ldr %[x1], %[rem]\n\t"
                     "cmp %[x1], #0\n\t"
                     "beq 3f\n"
                     "2:\n\t"
                     "ldr %[x0], [%[xp]], #4\n\t"
                     "ldrsb %[a], [%[q0]], #1\n\t"
                     "smlal %[l0], %[h0], %[x0], %[a]\n\t"
                     "ldrsb %[a], [%[q1]], #1\n\t"
                     "smlal %[l1], %[h1], %[x0], %[a]\n\t"
                     "subs %[x1], %[x1], #1\n\t"
                     "bne 2b\n"
                     "3:\n\t" MF_PK_SPLIT("l0", "h0", "x0") MF_PK_SPLIT("l1", "h1", "a")
                     "ldr %[l0], %[add]\n\t"
                     "cmp %[l0], #0\n\t"
                     "beq 4f\n\t"
                     "ldrd %[l0], %[l1], [%[acc]]\n\t"
                     "add %[x0], %[x0], %[l0]\n\t"
                     "add %[h0], %[h0], %[l1]\n\t"
                     "ldrd %[l0], %[l1], [%[acc], #8]\n\t"
                     "add %[a], %[a], %[l0]\n\t"
                     "add %[h1], %[h1], %[l1]\n"
                     "4:\n\t"
                     "strd %[x0], %[h0], [%[acc]], #8\n\t"
                     "strd %[a], %[h1], [%[acc]], #8\n\t"
                     "ldr %[a], %[skip]\n\t"
                     "add %[q0], %[q1], %[a]\n\t"
                     "ldr %[a], %[kk]\n\t"
                     "add %[q1], %[q0], %[a]\n\t"
                     "ldr %[a], %[left]\n\t"
                     "subs %[a], %[a], #1\n\t"
                     "str %[a], %[left]\n\t"
                     "bne 0b\n"
                     : [l0] "=&r"(l0), [h0] "=&r"(h0), [l1] "=&r"(l1), [h1] "=&r"(h1),
                       [x0] "=&r"(x0), [x1] "=&r"(x1), [a] "=&r"(a), [xp] "+&r"(xp),
                       [q0] "+&r"(q0), [q1] "+&r"(q1), [acc] "+&r"(acc), [left] "+m"(left)
                     : [end] "r"(end), [kk] "m"(kk), [n4] "m"(n4), [rem] "m"(rem),
                       [skip] "m"(skip), [add] "m"(add)
                     : "cc", "memory");
#undef MF_PK_STEP2
#undef MF_PK_SPLIT
}

/* One channel (an odd last one; filter row w) of a packed row pair over inputs [0, len)
 * (len <= MF_PK_CHUNK): its 64-bit sum, split into acc[0] (row 0) and acc[1] (row 1), added
 * to them when add is not 0. Four inputs per pass in 12 instructions (two LDRD, four LDRSB,
 * four SMLAL, compare and branch), where a pair with itself would take 20. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_pk_one_s8(const int32_t *p, const int8_t *w, int32_t len, int32_t *acc,
                         int32_t add)
{
    uint32_t lo = 0, hi = 0;
    int32_t x0, x1, a, b;
    const int32_t *xp = p;
    const int32_t *end = p + (len & ~3);
    if (xp != end) {
        __asm__ volatile("1:\n\t"
                         "ldrd %[x0], %[x1], [%[xp]], #8\n\t"
                         "ldrsb %[a], [%[w]], #1\n\t"
                         "ldrsb %[b], [%[w]], #1\n\t"
                         "smlal %[lo], %[hi], %[x0], %[a]\n\t"
                         "smlal %[lo], %[hi], %[x1], %[b]\n\t"
                         "ldrd %[x0], %[x1], [%[xp]], #8\n\t"
                         "ldrsb %[a], [%[w]], #1\n\t"
                         "ldrsb %[b], [%[w]], #1\n\t"
                         "smlal %[lo], %[hi], %[x0], %[a]\n\t"
                         "smlal %[lo], %[hi], %[x1], %[b]\n\t"
                         "cmp %[xp], %[end]\n\t"
                         "bne 1b\n"
                         : [lo] "+r"(lo), [hi] "+r"(hi), [x0] "=&r"(x0), [x1] "=&r"(x1),
                           [a] "=&r"(a), [b] "=&r"(b), [xp] "+r"(xp), [w] "+r"(w)
                         : [end] "r"(end)
                         : "cc", "memory");
    }
    int64_t t = (int64_t)(((uint64_t)hi << 32) | lo);
    for (int32_t i = 0; i < (len & 3); i++) {
        t += (int64_t)xp[i] * w[i];
    }
    const int32_t s0 = (int32_t)((uint32_t)t << 9) >> 9;
    const int32_t s1 = (int32_t)((t - s0) >> 23);
    acc[0] = add ? acc[0] + s0 : s0;
    acc[1] = add ? acc[1] + s1 : s1;
}

#endif

void mf_nn_mat_mult_pk_s8(const int32_t *p,
                          const int8_t *filter,
                          int32_t k,
                          int32_t n,
                          const mf_nn_requant *rq,
                          int8_t *out,
                          int8_t *out1)
{
    int32_t o = 0;
#if MF_PK_ASM_PAIRS
    { /* the channels in assembly, by blocks */
        int32_t acc[2 * MF_PK_BLOCK];
        /* Deeper rows in even chunks, all but the last a multiple of 4 (256: 128 + 128, not
         * 252 + 4), none longer than MF_PK_CHUNK; the chunks after the first add to the
         * block's sums. */
        const int32_t chunks = (k + MF_PK_CHUNK - 1) / MF_PK_CHUNK;
        const int32_t clen = ((k + chunks - 1) / chunks + 3) & ~3;
        while (o < n) {
            const int32_t nb = n - o < MF_PK_BLOCK ? n - o : MF_PK_BLOCK;
            const int32_t even = nb & ~1;
            const int8_t *wb = filter + (size_t)o * k;
            for (int32_t i = 0; i < k; i += clen) {
                const int32_t len = k - i < clen ? k - i : clen;
                if (even > 0) {
                    mf_pk_pairs_asm(p + i, wb + i, k, len, even / 2, acc, i);
                }
                if (nb & 1) { /* an odd last channel */
                    mf_pk_one_s8(p + i, wb + (size_t)even * k + i, len, acc + 2 * even, i);
                }
            }
            mf_pk_block_out(acc, nb, rq, o, out + o, out1 != NULL ? out1 + o : NULL);
            o += nb;
        }
    }
#else
    const int8_t *w0 = filter + (size_t)o * k;
    for (; o < n; o += 2) { /* any depth; the last odd channel */
        /* An odd last channel runs as a pair with itself (the second result dropped). */
        const int two = o + 1 < n;
        const int8_t *w1 = two ? w0 + k : w0;
        int32_t acc[4] = {0, 0, 0, 0};
        for (int32_t i = 0; i < k; i += MF_PK_CHUNK) {
            const int32_t len = k - i < MF_PK_CHUNK ? k - i : MF_PK_CHUNK;
            int64_t t0, t1;
            mf_pk_dot2(p + i, w0 + i, w1 + i, len, &t0, &t1);
            mf_pk_split(t0, &acc[0], &acc[1]);
            mf_pk_split(t1, &acc[2], &acc[3]);
        }
        mf_pk_block_out(acc, two ? 2 : 1, rq, o, out + o, out1 != NULL ? out1 + o : NULL);
        w0 = w1 + k;
    }
#endif
}

#else
typedef int mf_nn_mat_mult_pk_s8_unused; /* ARMv6-M, DSP and MVE builds: not used */
#endif /* MF_PT_PACKED */
