/*
 * mf_elementwise_add_s8 - int8 addition with 4-D broadcasting, as TFLite Micro's int8 Add
 * (mf_add_sub_body.h). MVE path (inputs of equal shape): four elements per vector, each input's
 * offset and left shift in one VMLAS, the three rescalings as in mf_mve_nn.h (bit-exact with the
 * scalar mf_requantize_fast), the last size % 4 elements under a tail predicate.
 */
#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve_nn.h"

/* Four elements: loads masked by `m` when `tail`. Shifts here are never positive (input and
 * output shifts <= 0, mf_add_params_valid), so each rescaling is VQRDMULH by the scalar
 * multiplier then mf_mve_nn.h's rounding right shift by the vector r (-right shift in lanes). */
static MF_MVE_INLINE void mf_mve_add4(const mf_add_params *p, const int8_t *a, const int8_t *b,
                                     int8_t *out, int32x4_t pow2, int32_t off1, int32_t off2,
                                     int32x4_t r1, int32x4_t r2, int32x4_t ro, int tail,
                                     mve_pred16_t m)
{
    const int32x4_t xa = tail ? vldrbq_z_s32(a, m) : vldrbq_s32(a);
    const int32x4_t xb = tail ? vldrbq_z_s32(b, m) : vldrbq_s32(b);
    int32x4_t x = vqrdmulhq_n_s32(vmlasq_n_s32(xa, pow2, off1), p->input1_multiplier);
    int32x4_t y = vqrdmulhq_n_s32(vmlasq_n_s32(xb, pow2, off2), p->input2_multiplier);
    x = vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, r1), 31)), r1);
    y = vrshlq_s32(vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, r2), 31)), r2);
    int32x4_t v = vqrdmulhq_n_s32(vaddq_s32(x, y), p->output_multiplier);
    v = vrshlq_s32(vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, ro), 31)), ro);
    v = mf_mve_offset_clamp(v, p->output_offset, p->activation.min, p->activation.max);
    if (tail) {
        vstrbq_p_s32(out, v, m);
    } else {
        vstrbq_s32(out, v);
    }
}

static void mf_mve_add_s8(const mf_add_params *p,
                          const int8_t *a,
                          const int8_t *b,
                          int8_t *out,
                          int32_t size)
{
    const int32x4_t pow2 = vdupq_n_s32((int32_t)(1u << p->left_shift));
    const int32_t off1 = (int32_t)((uint32_t)p->input1_offset << p->left_shift);
    const int32_t off2 = (int32_t)((uint32_t)p->input2_offset << p->left_shift);
    const int32x4_t r1 = vdupq_n_s32(p->input1_shift);
    const int32x4_t r2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t ro = vdupq_n_s32(p->output_shift);
    const mve_pred16_t all = vctp32q(4);
    int32_t i = 0;
    for (; i + 4 <= size; i += 4) {
        mf_mve_add4(p, a + i, b + i, out + i, pow2, off1, off2, r1, r2, ro, 0, all);
    }
    if (i < size) {
        mf_mve_add4(p, a + i, b + i, out + i, pow2, off1, off2, r1, r2, ro, 1,
                    vctp32q((uint32_t)(size - i)));
    }
}

static int mf_add_vector(const mf_add_params *p, const mf_dims *input1_dims, const int8_t *input1,
                         const mf_dims *input2_dims, const int8_t *input2, const mf_dims *output_dims,
                         int8_t *output)
{
    if (!mf_dims_equal(input1_dims, input2_dims)) {
        return 0;
    }
    mf_mve_add_s8(p, input1, input2, output, mf_dims_size(output_dims));
    return 1;
}
#define MF_AS_VECTOR mf_add_vector
#else
/* ---- add2 (issue 12): inputs of equal shape on the DSP and portable paths ----------------
 * Each input's rescaling mf_requantize_fast((x + offset) << left_shift, m, -r) with r >= 0 is,
 * for u = x + offset and s = left_shift + 1 - r >= 0, the high word of one 64-bit sum:
 *     floor((u * m * 2^s + K - [u < 0] * N) / 2^32),  K = 2^31 + 2^(31 - r), N = 2^(32 - r)
 * (r = 0: K = 2^31, N = 0). It is mf_requantize_fast's floor((acc * m + 2^30 + (2^(r-1) -
 * [acc < 0]) * 2^31) / 2^(31 + r)) with numerator and denominator divided by 2^(r - 1), which
 * keeps every term an integer while left_shift >= r - 1. K - N >= 0, so the constant fits the
 * low word and the other input's scaled value can ride in the high word: one SMLAL gives the sum.
 * A multiplier of exactly 2^30 (the input of the larger scale: TFLite's 0.5, so one input always
 * has it) with r <= left_shift - 1 is a plain left shift by left_shift - 1 - r. The output is
 * mf_rq1_apply with the output offset folded in. mf_add_fast_loop has every shift a literal
 * (TFLite's left_shift 20, small input shifts): 16-17 instructions per element on a Cortex-M3/M4
 * against about 49 for the general path; mf_add_pow2_loop takes the other parameters with a
 * 2^30 multiplier; anything else takes the general path. Checked on all 256 x 256 input pairs
 * (tests/runtime/test_add_fast_kernels.py, tests/test_qemu_add.py). */
#if defined(__GNUC__)
#define MF_ADD_INLINE inline __attribute__((always_inline))
#else
#define MF_ADD_INLINE inline
#endif

typedef struct {
    int32_t off;
    int32_t s;     /* left shift of u, [0, 23] */
    int32_t m;
    uint32_t k;    /* K */
    uint32_t n;    /* N */
    int32_t pow2;  /* 1: the scaled input is also u << p2 */
    int32_t p2;
} mf_add_in;

static int mf_add_in_init(mf_add_in *q, int32_t off, int32_t left, int32_t m, int32_t shift)
{
    const int32_t r = -shift; /* >= 0: mf_add_params_valid */
    const int32_t s = left + 1 - r;
    const int32_t bound = 128 + (off < 0 ? -off : off);
    if (r > 31 || s < 0 || s > 23 || off < -256 || off > 256 ||
        ((int64_t)bound << s) >= INT32_MAX) {
        return 0;
    }
    q->off = off;
    q->m = m;
    q->s = s;
    q->k = r == 0 ? 0x80000000u : 0x80000000u + (1u << (31 - r));
    q->n = r == 0 ? 0u : (uint32_t)(((uint64_t)1 << (32 - r)) & 0xFFFFFFFFu);
    q->pow2 = m == 0x40000000 && s >= 2;
    q->p2 = s - 2; /* u * 2^30 * 2^s / 2^32, K - [u < 0] * N in [0, 2^32) */
    return 1;
}

/* The scaled input plus `base` (an int32 that the caller adds anyway). */
static MF_ADD_INLINE int32_t mf_add_in_apply(const mf_add_in *q, int32_t x, int32_t base)
{
    const int32_t u = x + q->off;
    const uint32_t lo = q->k - (q->n & (uint32_t)(u >> 31));
    const int64_t acc = (int64_t)base * ((int64_t)1 << 32) + (int64_t)lo;
    return (int32_t)((acc + (int64_t)mf_shift_left(u, q->s) * q->m) >> 32);
}

/* The output: mf_rq1_apply with the output offset folded into K's high word ((h + off * 2^r1)
 * >> r1 = (h >> r1) + off), then the clamp. */
static MF_ADD_INLINE int8_t mf_add_out(const mf_rq1 *o, int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)mf_clamp_i32(mf_rq1_apply(o, v), lo, hi);
}

/* Input a's scaled value is (a + offset) << p2, the offset's part added to b's high word. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_add_pow2_loop(const mf_add_in *qa, const mf_add_in *qb, const mf_rq1 *o,
                             int32_t lo, int32_t hi, const int8_t *a, const int8_t *b, int8_t *out,
                             int32_t size)
{
    const mf_add_in ib = *qb;
    const mf_rq1 oq = *o;
    const int32_t as = qa->p2, c = mf_shift_left(qa->off, qa->p2);
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = a[i], y = b[i];
        out[i] = mf_add_out(&oq, mf_add_in_apply(&ib, y, c + mf_shift_left(x, as)), lo, hi);
    }
}

/* mf_rq1_apply's high word (before the shift by r1) for K's low word 2^30. */
static MF_ADD_INLINE int32_t mf_add_rq_out(int32_t v, int32_t m, uint32_t khi)
{
#if defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && (__ARM_ARCH_ISA_THUMB == 2) &&           \
    !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__)
    uint32_t t, lo, hi;
    __asm__("and %[t], %[v], #0x80000000\n\t"
            "rsbs %[lo], %[t], #0x40000000\n\t"
            "sbc %[hi], %[khi], #0\n\t"
            "smlal %[lo], %[hi], %[v], %[m]\n\t"
            : [t] "=&r"(t), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [v] "r"(v), [khi] "r"(khi), [m] "r"(m)
            : "cc");
    (void)lo;
    return (int32_t)hi;
#else
    const uint64_t k = (((uint64_t)khi << 32) | 0x40000000u) - ((uint32_t)v & 0x80000000u);
    return (int32_t)(uint32_t)((k + (uint64_t)((int64_t)v * m)) >> 32);
#endif
}

/* mf_add_pow2_loop for TFLite's usual case with every shift a literal, so that the loop's
 * constants fit the registers: left_shift 20 (a's scaled value (a + offset) << 19), b's right
 * shift rb in [0, 3] (its K and N literals), an output right shift of at least 2 (K's low word
 * 2^30), the clamp's upper bound 127 (one SSAT, then the lower bound unless it is -128). */
static MF_ADD_INLINE void mf_add_fast_loop(const mf_add_in *qa, const mf_add_in *qb,
                                           const mf_rq1 *o, int32_t lo, const int8_t *a,
                                           const int8_t *b, int8_t *out, int32_t size, int rb,
                                           int clamp_lo)
{
    const int32_t c = mf_shift_left(qa->off, 19), bm = qb->m;
    const int32_t boff = mf_shift_left(qb->off, 21 - rb); /* w = (b << s) + boff = u << s */
    const int32_t om = o->m, r1 = o->r1;
    const uint32_t khi = o->khi;
    const uint32_t k = rb == 0 ? 0x80000000u : 0x80000000u + (1u << (31 - rb) % 32);
    const uint32_t n = rb == 0 ? 0u : 1u << (32 - rb) % 32;
    const int8_t *const end = b + size;
    while (b != end) {
        const int32_t w = mf_shift_left(*b++, 21 - rb) + boff;
        const uint32_t lb = k - (((uint32_t)w >> 31) * n);
        const int32_t base = c + mf_shift_left(*a++, 19);
        const int64_t acc = (int64_t)base * ((int64_t)1 << 32) + (int64_t)lb;
        const int32_t v = (int32_t)((acc + (int64_t)w * bm) >> 32);
        const int32_t q = mf_sat_s8(mf_add_rq_out(v, om, khi) >> r1);
        *out++ = (int8_t)(clamp_lo && q < lo ? lo : q);
    }
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int mf_add_fast(const mf_add_in *qa, const mf_add_in *qb, const mf_rq1 *o, int32_t lo,
                       int32_t hi, const int8_t *a, const int8_t *b, int8_t *out, int32_t size)
{
    if (qa->p2 != 19 || hi != 127 || o->klo != 0x40000000u) {
        return 0;
    }
    const int clamp_lo = lo > -128; /* else SSAT is the whole clamp (activation NONE, or RELU
                                     * with output zero point -128) */
#define MF_ADD_FAST(rb)                                                                          \
    case 2 * (21 - (rb)):                                                                        \
        mf_add_fast_loop(qa, qb, o, lo, a, b, out, size, rb, 0);                                 \
        return 1;                                                                                \
    case 2 * (21 - (rb)) + 1:                                                                    \
        mf_add_fast_loop(qa, qb, o, lo, a, b, out, size, rb, 1);                                 \
        return 1;
    switch (2 * qb->s + clamp_lo) { /* qb->s = 21 - rb */
        MF_ADD_FAST(0)
        MF_ADD_FAST(1)
        MF_ADD_FAST(2)
        MF_ADD_FAST(3)
    default:
        return 0;
    }
#undef MF_ADD_FAST
}

static int mf_add_vector(const mf_add_params *p, const mf_dims *input1_dims, const int8_t *input1,
                         const mf_dims *input2_dims, const int8_t *input2, const mf_dims *output_dims,
                         int8_t *output)
{
    mf_add_in q1, q2;
    mf_rq1 o;
    if (!mf_dims_equal(input1_dims, input2_dims) ||
        !mf_add_in_init(&q1, p->input1_offset, p->left_shift, p->input1_multiplier,
                        p->input1_shift) ||
        !mf_add_in_init(&q2, p->input2_offset, p->left_shift, p->input2_multiplier,
                        p->input2_shift) ||
        !mf_rq1_init(&o, p->output_multiplier, p->output_shift)) {
        return 0;
    }
    const int32_t size = mf_dims_size(output_dims);
    const int32_t lo = p->activation.min, hi = p->activation.max;
    o.khi += (uint32_t)p->output_offset << o.r1;
    const int fast = p->left_shift == 20; /* the literals of mf_add_fast_loop assume it */
    if (fast && q1.pow2 && mf_add_fast(&q1, &q2, &o, lo, hi, input1, input2, output, size)) {
        return 1;
    }
    if (fast && q2.pow2 && mf_add_fast(&q2, &q1, &o, lo, hi, input2, input1, output, size)) {
        return 1;
    }
    if (q1.pow2) {
        mf_add_pow2_loop(&q1, &q2, &o, lo, hi, input1, input2, output, size);
    } else if (q2.pow2) { /* the sum of the two scaled inputs commutes */
        mf_add_pow2_loop(&q2, &q1, &o, lo, hi, input2, input1, output, size);
    } else { /* neither multiplier 2^30: not what TFLite's parameters give; the general path */
        return 0;
    }
    return 1;
}
#define MF_AS_VECTOR mf_add_vector
/* ---- end add2 ----------------------------------------------------------------------------- */
#endif

#define MF_AS_NAME mf_elementwise_add_s8
#define MF_AS_T int8_t
#define MF_AS_OP +
#define MF_AS_VALID(p) mf_add_params_valid(p)
#include "mf_add_sub_body.h"
