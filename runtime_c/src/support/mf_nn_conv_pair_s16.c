/*
 * mf_nn_conv_pair_s16 - m4first (issue 12): mf_convolve_s8's DSP matrix multiply. Two im2col
 * patches widened and interleaved by quads (mf_nn_s8_to_s16_pair's layout), their length
 * rounded up to a whole quad with zeros (by mf_convolve_s8), times n int8 filter rows of k values, two pixels by
 * two channels per pass with SMLAD. Against mf_nn_mat_mult_s16_pair (the 1x1 kernels' loop):
 * no scalar tail (the padded quad multiplies whatever weights follow a row by zero, the last
 * channel's own three bytes at most read one by one), the inner loop two quads per pass, and
 * the requantization of each channel pair done with its constants held in registers.
 * Internal: see mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_quads_2x2.h"

#include <stddef.h>

#if MF_USE_DSP

/* One out-of-line copy of the shared block for this file's callers (flash). */
#if defined(__GNUC__)
#define MF_ONE_COPY __attribute__((noinline)) /* one copy: flash (issue 12 allows 5% at most) */
#else
#define MF_ONE_COPY
#endif
static MF_ONE_COPY const int16_t *mf_quads_2x2(const int16_t *x,
                                               const int8_t *w0,
                                               int32_t k,
                                               int32_t quads,
                                               int32_t *a)
{
    return mf_quads_2x2_s16(x, w0, k, quads, a);
}

/* The first `tail` (1..3) bytes at w as the low bytes of a word, the rest zero: the padded
 * quad of a row near the end of the filter array (reading whole words would run past it). */
static inline uint32_t mf_tail_word(const int8_t *w, int32_t tail)
{
    uint32_t v = (uint8_t)w[0];
    if (tail > 1) {
        v |= (uint32_t)(uint8_t)w[1] << 8;
    }
    if (tail > 2) {
        v |= (uint32_t)(uint8_t)w[2] << 16;
    }
    return v;
}

/* acc[0], acc[1] (one channel, two pixels) requantized with that channel's constants. */
static MF_ONE_COPY void mf_rq_pair(int32_t m, int32_t s, int32_t *r0, int32_t *r1)
{
    mf_rq1 q = {0, 0, 0, 0};
    if (mf_rq1_init(&q, m, s)) {
        *r0 = mf_rq1_apply(&q, *r0);
        *r1 = mf_rq1_apply(&q, *r1);
    } else {
        *r0 = mf_requantize_fast(*r0, m, s);
        *r1 = mf_requantize_fast(*r1, m, s);
    }
}

/* Four values saturated to int8 packed into a word, v0 in the low byte. */
static inline uint32_t mf_pack4_s8(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__arm__)
    uint32_t v = (uint32_t)mf_ssat8(v0);
    __asm__("bfi %[v], %[b], #8, #8\n\t"
            "bfi %[v], %[c], #16, #8\n\t"
            "bfi %[v], %[d], #24, #8\n\t"
            : [v] "+r"(v)
            : [b] "r"(mf_ssat8(v1)), [c] "r"(mf_ssat8(v2)), [d] "r"(mf_ssat8(v3)));
    return v;
#else
    return (uint32_t)(uint8_t)mf_ssat8(v0) | (uint32_t)(uint8_t)mf_ssat8(v1) << 8 |
           (uint32_t)(uint8_t)mf_ssat8(v2) << 16 | (uint32_t)(uint8_t)mf_ssat8(v3) << 24;
#endif
}

#if !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__) && defined(__arm__)
/* What the assembly loop over channel pairs reads and advances (word offsets fixed below). */
typedef struct {
    const int16_t *x;     /* 0: the two patches */
    const int8_t *w;      /* 4: channel pair's first row, advanced */
    const int32_t *bias;  /* 8: advanced */
    const int32_t *mult;  /* 12: advanced */
    const int32_t *shift; /* 16: advanced, every one in [-31, -1] */
    int8_t *out;          /* 20: pixel 0's outputs of the pair, advanced; pixel 1's at + n */
    int32_t n;            /* 24 */
    int32_t kk;           /* 28: k - 4 */
    int32_t quads;        /* 32: quads per row, at least 1 (four per pass, quads % 4 first) */
    int32_t unused;       /* 36 */
    int32_t wstep;        /* 40: 2k - 4 quads, from the end of a pair's loop to the next pair */
    int32_t off;          /* 44: output offset */
    uint32_t lo;          /* 48: activation minimum in every byte */
    uint32_t hi;          /* 52: activation maximum in every byte */
    int32_t count;        /* 56: channel pairs to do, counted down */
} mf_pair_state;

/* One channel's requantization of two accumulators A, B, its shift in [-31, -1] (mf_rq1 formed
 * in registers): m in b0, r - 1 in c0, K in (b1, c1), the products in (n, kk). */
#define MF_RQ_ASM(A, B)                                                                          \
    "ldr %[b0], [%[x]], #4\n\t"                                                                  \
    "ldr %[c0], [%[w]], #4\n\t"                                                                  \
    "mvn %[c0], %[c0]\n\t"                                                                       \
    "mov %[u], #1\n\t"                                                                           \
    "lsl %[u], %[u], %[c0]\n\t"                                                                  \
    "lsl %[b1], %[u], #31\n\t"                                                                   \
    "orr %[b1], %[b1], #0x40000000\n\t"                                                          \
    "lsr %[c1], %[u], #1\n\t"                                                                    \
    "and %[u], %[" A "], #0x80000000\n\t"                                                        \
    "subs %[n], %[b1], %[u]\n\t"                                                                 \
    "sbc %[kk], %[c1], #0\n\t"                                                                   \
    "smlal %[n], %[kk], %[" A "], %[b0]\n\t"                                                     \
    "asr %[" A "], %[kk], %[c0]\n\t"                                                             \
    "and %[u], %[" B "], #0x80000000\n\t"                                                        \
    "subs %[n], %[b1], %[u]\n\t"                                                                 \
    "sbc %[kk], %[c1], #0\n\t"                                                                   \
    "smlal %[n], %[kk], %[" B "], %[b0]\n\t"                                                     \
    "asr %[" B "], %[kk], %[c0]\n\t"

/* The channel pairs of st, each: bias, the 2x2 multiply (MF_QUAD_2X2 with %[t] = the state
 * pointer's register once it is pushed), requantization, offset, SSAT, the four bytes packed
 * (BFI), clamped (SSUB8/SEL) and stored as two halfwords. Every value lives in a register; the
 * state pointer is kept on the stack. */
static void mf_pairs_2x2(mf_pair_state *st)
{
    int32_t a00, a01, a10, a11;
    uint32_t x, w, n, kk, b0, c0, b1, c1, u;
    __asm__ volatile(
        "push {%[t]}\n\t"
        "1:\n\t"
        "ldr %[t], [sp]\n\t"
        "ldr %[x], [%[t], #0]\n\t"
        "ldr %[w], [%[t], #4]\n\t"
        "ldr %[u], [%[t], #8]\n\t"
        "ldrd %[a00], %[a01], [%[u]], #8\n\t"
        "str %[u], [%[t], #8]\n\t"
        "mov %[a10], %[a00]\n\t"
        "mov %[a11], %[a01]\n\t"
        "ldr %[kk], [%[t], #28]\n\t"
        "ldr %[n], [%[t], #32]\n\t"
        "and %[u], %[n], #3\n\t" /* four quads per pass, entering so that quads % 4 come first */
        "add %[n], %[n], #3\n\t"
        "lsr %[n], %[n], #2\n\t"
        "cmp %[u], #2\n\t"
        "beq 4f\n\t"
        "bhi 3f\n\t"
        "cmp %[u], #1\n\t"
        "beq 5f\n\t"
        "2:\n\t" MF_QUAD_2X2
        "3:\n\t" MF_QUAD_2X2
        "4:\n\t" MF_QUAD_2X2
        "5:\n\t" MF_QUAD_2X2
        "subs %[n], %[n], #1\n\t"
        "bne 2b\n\t"
        "ldr %[t], [sp]\n\t"
        "ldr %[u], [%[t], #40]\n\t"
        "add %[w], %[w], %[u]\n\t"
        "str %[w], [%[t], #4]\n\t"
        "ldr %[x], [%[t], #12]\n\t"
        "ldr %[w], [%[t], #16]\n\t"
        MF_RQ_ASM("a00", "a10")
        MF_RQ_ASM("a01", "a11")
        "str %[x], [%[t], #12]\n\t"
        "str %[w], [%[t], #16]\n\t"
        "ldr %[u], [%[t], #44]\n\t"
        "add %[a00], %[a00], %[u]\n\t"
        "add %[a01], %[a01], %[u]\n\t"
        "add %[a10], %[a10], %[u]\n\t"
        "add %[a11], %[a11], %[u]\n\t"
        "ssat %[a00], #8, %[a00]\n\t"
        "ssat %[a01], #8, %[a01]\n\t"
        "ssat %[a10], #8, %[a10]\n\t"
        "ssat %[a11], #8, %[a11]\n\t"
        "bfi %[a00], %[a01], #8, #8\n\t"
        "bfi %[a00], %[a10], #16, #8\n\t"
        "bfi %[a00], %[a11], #24, #8\n\t"
        "ldrd %[b0], %[c0], [%[t], #48]\n\t"
        "ssub8 %[u], %[a00], %[b0]\n\t"
        "sel %[a00], %[a00], %[b0]\n\t"
        "ssub8 %[u], %[a00], %[c0]\n\t"
        "sel %[a00], %[c0], %[a00]\n\t"
        "ldrd %[x], %[w], [%[t], #20]\n\t"
        "strh %[a00], [%[x]]\n\t"
        "lsr %[a00], %[a00], #16\n\t"
        "strh %[a00], [%[x], %[w]]\n\t"
        "add %[x], %[x], #2\n\t"
        "str %[x], [%[t], #20]\n\t"
        "ldr %[u], [%[t], #56]\n\t"
        "subs %[u], %[u], #1\n\t"
        "str %[u], [%[t], #56]\n\t"
        "bne 1b\n\t"
        "pop {%[t]}\n\t"
        : [t] "+r"(st), [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11),
          [x] "=&r"(x), [w] "=&r"(w), [n] "=&r"(n), [kk] "=&r"(kk), [b0] "=&r"(b0),
          [c0] "=&r"(c0), [b1] "=&r"(b1), [c1] "=&r"(c1), [u] "=&r"(u)
        :
        : "cc", "memory");
}
#define MF_PAIRS_ASM 1
#else
#define MF_PAIRS_ASM 0
#endif

void mf_nn_conv_pair_s16(const int16_t *x,
                         const int8_t *filter,
                         int32_t k,
                         int32_t n,
                         const mf_nn_requant *rq,
                         int32_t shifts_ok,
                         int8_t *out)
{
    const int32_t quads = (k + 3) >> 2; /* the last one padded when k % 4 != 0 */
    const int32_t tail = k & 3;
    const int32_t *bias = rq->bias;
    const int32_t off = rq->output_offset;
    const uint32_t lo = 0x01010101u * (uint8_t)rq->activation.min;
    const uint32_t hi = 0x01010101u * (uint8_t)rq->activation.max;
    assert(rq->quant_step == 1);
    /* Channel pairs walked by pointer (few live values around the assembly). Those whose padded
     * quad reads only inside the filter array (it runs into the next row, multiplied by zero):
     * all but the last channel's pair when k % 4 != 0. */
    /* A row's padded quad runs past its end into the rows after it (multiplied by zero): rows
     * [0, fit) end at least 4 * quads - k bytes before the filter's end and read whole words. */
    const int32_t room = n * k - 4 * quads;
    const int32_t fit = room >= 0 ? room / k + 1 : 0;
    int32_t o = 0;
#if MF_PAIRS_ASM
    const int32_t safe = (fit < n ? fit : n) & ~1; /* channel pairs whose rows all fit */
    if (shifts_ok && bias != NULL && safe > 0) { /* the channel pairs in assembly */
        mf_pair_state st = {x, filter, bias, rq->multiplier, rq->shift, out, n, k - 4,
                            quads, 0, 2 * k - 4 * quads, off, lo, hi, safe >> 1};
        mf_pairs_2x2(&st);
        o = safe;
    }
#else
    (void)shifts_ok;
#endif
    /* The rest in C, channel pairs then an odd last channel (taken as a pair of itself); rows
     * past fit read their padded quad by bytes (k % 4 != 0 there: room < 0 needs it). */
    for (; o < n; o += 2) {
        const int32_t two = o + 1 < n;
        const int8_t *w0 = filter + (size_t)o * k;
        const int32_t step = two ? k : 0; /* channel 1's row from channel 0's */
        const int32_t qn = o + two < fit ? quads : quads - 1;
        int32_t a[4];
        a[0] = bias != NULL ? bias[o] : 0;
        a[1] = bias != NULL ? bias[o + two] : 0;
        a[2] = a[0];
        a[3] = a[1];
        const int16_t *xq = mf_quads_2x2(x, w0, step, qn, a);
        if (qn < quads) { /* rows past fit: their padded quad's weights by bytes */
            const int32_t at = 4 * qn;
            const uint32_t b0 = mf_read_u32(xq), c0 = mf_read_u32(xq + 2);
            const uint32_t b1 = mf_read_u32(xq + 4), c1 = mf_read_u32(xq + 6);
            const uint32_t t1 = mf_tail_word(w0 + step + at, tail);
            const uint32_t t0 = o < fit ? mf_read_u32(w0 + at) : mf_tail_word(w0 + at, tail);
            a[0] = mf_smlad(mf_sxtb16(t0), b0, a[0]);
            a[2] = mf_smlad(mf_sxtb16(t0), b1, a[2]);
            a[0] = mf_smlad(mf_sxtb16_ror8(t0), c0, a[0]);
            a[2] = mf_smlad(mf_sxtb16_ror8(t0), c1, a[2]);
            a[1] = mf_smlad(mf_sxtb16(t1), b0, a[1]);
            a[3] = mf_smlad(mf_sxtb16(t1), b1, a[3]);
            a[1] = mf_smlad(mf_sxtb16_ror8(t1), c0, a[1]);
            a[3] = mf_smlad(mf_sxtb16_ror8(t1), c1, a[3]);
        }
        mf_rq_pair(rq->multiplier[o], rq->shift[o], &a[0], &a[2]);
        mf_rq_pair(rq->multiplier[o + two], rq->shift[o + two], &a[1], &a[3]);
        /* pixel 0's two channels in the low half, pixel 1's in the high half; clamped to the
         * activation four bytes at a time, stored as two halfwords (one byte each when odd) */
        uint32_t v = mf_pack4_s8(a[0] + off, a[1] + off, a[2] + off, a[3] + off);
        v = mf_min_s8x4(mf_max_s8x4(v, lo), hi);
        if (two) {
            const uint16_t v0 = (uint16_t)v;
            const uint16_t v1 = (uint16_t)(v >> 16);
            memcpy(out + o, &v0, sizeof v0);
            memcpy(out + n + o, &v1, sizeof v1);
        } else {
            out[o] = (int8_t)(uint8_t)v;
            out[n + o] = (int8_t)(uint8_t)(v >> 16);
        }
    }
}

int32_t mf_nn_shifts_right(const int32_t *shift, int32_t n)
{
    for (int32_t o = 0; o < n; o++) {
        if (shift[o] >= 0 || shift[o] < -31) {
            return 0;
        }
    }
    return 1;
}

#endif /* MF_USE_DSP */
