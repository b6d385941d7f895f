/*
 * mf_internal.h - fixed-point arithmetic and small helpers shared by the kernels.
 *
 * The requantization helpers reproduce TensorFlow Lite Micro's default ("double rounding")
 * MultiplyByQuantizedMultiplier bit for bit: a saturating rounding doubling high multiply,
 * then a rounding (half away from zero) right shift. The compiler's Python oracle
 * (mcuforge.reference.qmath) does the same arithmetic on numpy integers.
 *
 * Feature macros: MF_USE_DSP / MF_USE_MVE are derived from the compiler's __ARM_FEATURE_*
 * macros here, so every kernel file can put its optimized path next to the portable one
 * behind `#if MF_USE_DSP` without repeating the detection. Defining MF_PORTABLE forces the
 * portable C paths; defining MF_EMULATE_DSP turns the DSP paths on with the instructions
 * emulated in C (mf_dsp.h), which is how the host tests check the Cortex-M4 code. Defining
 * MF_EMULATE_MVE does the same for the Helium paths (mf_mve.h) and the DSP paths with them,
 * as a Cortex-M55 has both.
 */
#ifndef MF_INTERNAL_H
#define MF_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mf_nn.h"

#if defined(MF_EMULATE_MVE) && !defined(MF_EMULATE_DSP)
#define MF_EMULATE_DSP 1 /* a Cortex-M55 has the DSP extension beside MVE */
#endif

#if defined(MF_EMULATE_DSP) ||                                                              \
    (defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(MF_PORTABLE))
#define MF_USE_DSP 1
#include "mf_dsp.h"
#else
#define MF_USE_DSP 0
#endif

#if defined(MF_EMULATE_MVE) ||                                                              \
    (defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MF_PORTABLE))
#define MF_USE_MVE 1
#include "mf_mve.h"
#else
#define MF_USE_MVE 0
#endif

#define MF_INT8_MIN (-128)
#define MF_INT8_MAX 127

static inline int32_t mf_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t mf_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

static inline int32_t mf_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Round-half-up high 32 bits of 2*a*b; the one overflowing case (INT32_MIN squared)
 * saturates. The nudge is asymmetric (1 - 2^30 for negative products) because gemmlowp's
 * division truncates toward zero; keeping it asymmetric is what makes us bit-exact. */
static inline int32_t mf_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded half away from zero; exponent in [0, 31]. */
static inline int32_t mf_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    assert(exponent >= 0 && exponent <= 31);
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* >> of a negative value is implementation-defined in C99; every compiler we target
     * shifts arithmetically, as TFLite also assumes. */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^shift with shift <= 31 - bits used: the left shift done on unsigned so that the
 * wrap (which valid models never reach) is not undefined behaviour. */
static inline int32_t mf_shift_left(int32_t x, int32_t shift)
{
    assert(shift >= 0 && shift < 32);
    return (int32_t)((uint32_t)x << shift);
}

/* TFLite's MultiplyByQuantizedMultiplier: x * multiplier / 2^31 * 2^shift. */
static inline int32_t mf_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mf_rounding_divide_by_pot(
        mf_sat_rounding_doubling_high_mul(mf_shift_left(x, left), multiplier), right);
}

/* Branch hints (GCC and Clang); plain conditions elsewhere. */
#if defined(__GNUC__)
#define MF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MF_UNLIKELY(x) (x)
#endif

/* Make the compiler forget how a pointer was computed, so that it keeps one pointer rather than
 * deriving a strength-reduced copy (and a spilled register) for every address used from it. */
#if defined(__GNUC__)
#define MF_OPAQUE(p) __asm__("" : "+r"(p))
#else
#define MF_OPAQUE(p) ((void)0)
#endif

/* mf_requantize for a multiplier in [0, 2^31), the only kind QuantizeMultiplier produces, in
 * one 64-bit multiply-accumulate and one shift. With m >= 0 the saturating case cannot occur,
 * and the high multiply's asymmetric nudge followed by a division truncating toward zero equals
 * adding 2^30 and flooring: x = floor((acc * m + 2^30) / 2^31). The rounding right shift by r
 * (half away from zero) is floor((x + 2^(r-1) - [x < 0]) / 2^r), and since floor(floor(y / a)
 * / b) = floor(y / (a * b)), both roundings fold into one constant added before the multiply:
 *     result = (acc * m + 2^30 + (2^(r-1) - [x < 0]) * 2^31) >> (31 + r),
 * the shift taken as the high word shifted by r - 1. [x < 0] equals [acc < 0] here: a negative
 * accumulator whose x rounds to 0 gives 0 either way. A left shift (shift >= 0) needs no
 * rounding shift; it is the rare branch. Checked against mf_requantize on 2e8 random operands
 * including both int32 extremes. */
static inline int32_t mf_requantize_fast(int32_t acc, int32_t multiplier, int32_t shift)
{
    assert(multiplier >= 0 && shift >= -31 && shift < 32);
    if (MF_UNLIKELY(shift >= 0)) {
        const int64_t prod =
            (int64_t)mf_shift_left(acc, shift) * multiplier + ((int64_t)1 << 30);
        return (int32_t)(prod >> 31); /* |prod| < 2^62: fits */
    }
    const int32_t r1 = -shift - 1; /* [0, 30] */
    const uint32_t t = (1u << r1) + (uint32_t)(acc >> 31); /* 2^(r-1) - [acc < 0] >= 0 */
    const uint64_t round = ((uint64_t)(t >> 1) << 32) | ((t << 31) | 0x40000000u);
    const int64_t prod = (int64_t)((uint64_t)((int64_t)acc * multiplier) + round);
    return (int32_t)(prod >> 32) >> r1;
}

/* ---- speed-m4 (issue 12): requantization with per-channel constants hoisted -------------
 * mf_requantize_fast for one channel whose shift is negative (r = -shift >= 1), the constants
 * prepared once per channel: result = (acc * m + K - [acc < 0] * 2^31) >> (31 + r) with
 * K = 2^30 + 2^(30 + r), the same sum mf_requantize_fast forms (2^(r-1) - [acc < 0]) * 2^31 +
 * 2^30, so bit-exact with it; on a Cortex-M the body is AND, SUBS, SBC, SMLAL, ASR. */
typedef struct {
    int32_t m;
    int32_t r1;   /* r - 1, in [0, 30] */
    uint32_t klo; /* K's low and high words */
    uint32_t khi;
} mf_rq1;

/* Whether (m, shift) takes mf_rq1_apply; the rare shift >= 0 keeps mf_requantize_fast. */
static inline int mf_rq1_init(mf_rq1 *q, int32_t m, int32_t shift)
{
    if (shift >= 0 || shift < -31) {
        return 0;
    }
    const uint32_t t = 1u << (-shift - 1);
    q->m = m;
    q->r1 = -shift - 1;
    q->khi = t >> 1;
    q->klo = (t << 31) | 0x40000000u;
    return 1;
}

static inline int32_t mf_rq1_apply(const mf_rq1 *q, int32_t acc)
{
#if defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && (__ARM_ARCH_ISA_THUMB == 2) &&           \
    !defined(MF_EMULATE_DSP) && defined(__OPTIMIZE__)
    /* Armv7-M and later: the 64-bit constant minus the sign bit, then one SMLAL. */
    uint32_t t, lo, hi;
    __asm__("and %[t], %[acc], #0x80000000\n\t"
            "subs %[lo], %[klo], %[t]\n\t"
            "sbc %[hi], %[khi], #0\n\t"
            "smlal %[lo], %[hi], %[acc], %[m]\n\t"
            : [t] "=&r"(t), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [acc] "r"(acc), [klo] "r"(q->klo), [khi] "r"(q->khi), [m] "r"(q->m)
            : "cc");
    (void)lo;
    return (int32_t)hi >> q->r1;
#else
    const uint64_t k = (((uint64_t)q->khi << 32) | q->klo) - ((uint32_t)acc & 0x80000000u);
    const uint64_t prod = k + (uint64_t)((int64_t)acc * q->m);
    return (int32_t)(uint32_t)(prod >> 32) >> q->r1;
#endif
}

/* x saturated to int8 (one SSAT on Armv7-M and later). */
static inline int32_t mf_sat_s8(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && !defined(MF_EMULATE_DSP)
    return __builtin_arm_ssat(x, 8);
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}
/* ---- end speed-m4 ---------------------------------------------------------------------- */

/* Requantize a 32-bit accumulator and place it in the output range. */
static inline int8_t mf_requantize_to_s8(int32_t acc,
                                         int32_t multiplier,
                                         int32_t shift,
                                         int32_t output_offset,
                                         const mf_activation *act)
{
    const int32_t v = mf_requantize_fast(acc, multiplier, shift) + output_offset;
    return (int8_t)mf_clamp_i32(v, act->min, act->max);
}

/* ---- gemmlowp-style Q-format helpers (softmax) ----------------------------------------- */

/* x * 2^exponent for exponent > 0, saturated to int32. */
static inline int32_t mf_sat_left_shift(int32_t x, int32_t exponent)
{
    assert(exponent > 0 && exponent < 31);
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return mf_shift_left(x, exponent);
}

/* ---- shapes ------------------------------------------------------------------------------ */

static inline int32_t mf_dims_size(const mf_dims *d) { return d->n * d->h * d->w * d->c; }

static inline int mf_dims_equal(const mf_dims *a, const mf_dims *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/* Whether `in` broadcasts to `out`: each dim equal or 1. */
static inline int mf_dims_broadcast_to(const mf_dims *in, const mf_dims *out)
{
    return (in->n == out->n || in->n == 1) && (in->h == out->h || in->h == 1) &&
           (in->w == out->w || in->w == 1) && (in->c == out->c || in->c == 1);
}

/* Element strides of `in` read as if it had the output's shape: 0 along broadcast axes. */
static inline void mf_broadcast_strides(const mf_dims *in, const mf_dims *out, int32_t strides[4])
{
    const int32_t sc = 1;
    const int32_t sw = in->c;
    const int32_t sh = in->w * in->c;
    const int32_t sn = in->h * in->w * in->c;
    strides[0] = (in->n == 1 && out->n != 1) ? 0 : sn;
    strides[1] = (in->h == 1 && out->h != 1) ? 0 : sh;
    strides[2] = (in->w == 1 && out->w != 1) ? 0 : sw;
    strides[3] = (in->c == 1 && out->c != 1) ? 0 : sc;
}

static inline int mf_activation_valid(const mf_activation *act)
{
    return act->min >= MF_INT8_MIN && act->max <= MF_INT8_MAX && act->min <= act->max;
}

/* ---- ADD / SUB: one input brought to the common scale ---------------------------------- */

/* (x + offset) * 2^left_shift * multiplier * 2^shift: TFLite's scaled input of ADD and SUB. */
static inline int32_t mf_add_scaled_input(int32_t x,
                                          int32_t offset,
                                          int32_t left_shift,
                                          int32_t multiplier,
                                          int32_t shift)
{
    return mf_requantize_fast(mf_shift_left(x + offset, left_shift), multiplier, shift);
}

static inline int mf_add_params_valid(const mf_add_params *p)
{
    return p->left_shift >= 0 && p->left_shift <= 23 && p->input1_shift <= 0 &&
           p->input2_shift <= 0 && p->output_shift <= 0 && mf_activation_valid(&p->activation);
}

/* ---- convolutions: the im2col patch -------------------------------------------------- */

/* Fill `patch` with the receptive field of output pixel (out_y, out_x) of batch image `in`,
 * the input offset added; padded cells become 0 (what TFLite's skipped taps amount to). */
static inline void mf_im2col_s16(const mf_conv_params *p,
                                 const mf_dims *input_dims,
                                 const int8_t *in,
                                 const mf_dims *filter_dims,
                                 int32_t out_y,
                                 int32_t out_x,
                                 int16_t *patch)
{
    const int32_t cin = input_dims->c;
    const int32_t y0 = out_y * p->stride.h - p->padding.h;
    const int32_t x0 = out_x * p->stride.w - p->padding.w;
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        for (int32_t kx = 0; kx < filter_dims->w; kx++) {
            const int32_t ix = x0 + kx * p->dilation.w;
            if (iy < 0 || iy >= input_dims->h || ix < 0 || ix >= input_dims->w) {
                for (int32_t c = 0; c < cin; c++) {
                    patch[c] = 0;
                }
            } else {
                const int8_t *src = in + ((size_t)iy * input_dims->w + ix) * cin;
                for (int32_t c = 0; c < cin; c++) {
                    patch[c] = (int16_t)(src[c] + p->input_offset);
                }
            }
            patch += cin;
        }
    }
}

/* memcpy for the short runs of an im2col patch (a few channels times a few taps), where a
 * library call costs more than the copy: below 16 bytes, word by word (fixed-size memcpy is a
 * plain load and store) and the last n % 4 bytes one by one; the library call above. */
static inline void mf_copy_s8(int8_t *dst, const int8_t *src, size_t n)
{
    if (n >= 16) {
        memcpy(dst, src, n);
        return;
    }
    for (; n >= 4; n -= 4) {
        memcpy(dst, src, 4);
        dst += 4;
        src += 4;
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
}

/* The receptive field of output pixel (out_y, out_x) as raw int8 values, padded cells holding
 * the input zero point (-input_offset): with the input offset folded into the bias on the host
 * (kernel_params), a padded cell then contributes exactly nothing, as in TFLite. */
static inline void mf_im2col_s8(const mf_conv_params *p,
                                const mf_dims *input_dims,
                                const int8_t *in,
                                const mf_dims *filter_dims,
                                int32_t out_y,
                                int32_t out_x,
                                int8_t *patch)
{
    const int32_t cin = input_dims->c;
    const int32_t kw = filter_dims->w;
    const int8_t pad = (int8_t)(-p->input_offset);
    const int32_t y0 = out_y * p->stride.h - p->padding.h;
    const int32_t x0 = out_x * p->stride.w - p->padding.w;
    /* Taps kx in [kx_lo, kx_hi) are inside the image along x (dilation 1: one run of bytes). */
    int32_t kx_lo = 0;
    int32_t kx_hi = kw;
    if (p->dilation.w == 1) {
        kx_lo = mf_clamp_i32(-x0, 0, kw);
        kx_hi = mf_clamp_i32(input_dims->w - x0, kx_lo, kw);
    }
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        if (iy < 0 || iy >= input_dims->h) {
            memset(patch, pad, (size_t)kw * cin);
        } else if (p->dilation.w == 1) {
            /* speed-m4: no memset call for the (usual) empty borders */
            if (kx_lo > 0) {
                memset(patch, pad, (size_t)kx_lo * cin);
            }
            if (kx_hi > kx_lo) {
                mf_copy_s8(patch + kx_lo * cin,
                       in + ((size_t)iy * input_dims->w + (size_t)(x0 + kx_lo)) * cin,
                       (size_t)(kx_hi - kx_lo) * cin);
            }
            if (kx_hi < kw) {
                memset(patch + kx_hi * cin, pad, (size_t)(kw - kx_hi) * cin);
            }
        } else {
            for (int32_t kx = 0; kx < kw; kx++) {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= input_dims->w) {
                    memset(patch + kx * cin, pad, (size_t)cin);
                } else {
                    mf_copy_s8(patch + kx * cin, in + ((size_t)iy * input_dims->w + ix) * cin,
                           (size_t)cin);
                }
            }
        }
        patch += kw * cin;
    }
}

/* ---- int8 matrix multiplies shared by convolution and dense layers (mf_nn_mat_mult_s8.c) -- */

/* Bias and requantization of the output channels of one multiply. The bias already holds the
 * input offset times the filter row sums (folded on the host), so the products are plain
 * int8 x int8. quant_step is 1 for per-channel multipliers, 0 for one per tensor. */
typedef struct {
    const int32_t *bias; /* NULL: zero */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t quant_step;
    int32_t output_offset;
    mf_activation activation;
} mf_nn_requant;

static inline int8_t mf_nn_requant_out(const mf_nn_requant *rq, int32_t acc, int32_t o)
{
    const int32_t q = o * rq->quant_step;
    return mf_requantize_to_s8(
        acc, rq->multiplier[q], rq->shift[q], rq->output_offset, &rq->activation);
}

#if MF_USE_DSP
/* Four accumulators requantized with multipliers m[0], m[step], m[2 * step], m[3 * step] (and
 * the same shifts), packed little-endian into one word: output offset added and saturated to
 * int8 one by one, then clamped to the activation four bytes at a time. */
static inline uint32_t mf_requant4_s8(const int32_t *m,
                                      const int32_t *s,
                                      int32_t step,
                                      int32_t off,
                                      const mf_activation *act,
                                      int32_t a0,
                                      int32_t a1,
                                      int32_t a2,
                                      int32_t a3)
{
    const uint32_t v0 = (uint8_t)mf_ssat8(mf_requantize_fast(a0, m[0], s[0]) + off);
    const uint32_t v1 = (uint8_t)mf_ssat8(mf_requantize_fast(a1, m[step], s[step]) + off);
    const uint32_t v2 =
        (uint8_t)mf_ssat8(mf_requantize_fast(a2, m[2 * step], s[2 * step]) + off);
    const uint32_t v3 =
        (uint8_t)mf_ssat8(mf_requantize_fast(a3, m[3 * step], s[3 * step]) + off);
    const uint32_t v = v0 | (v1 << 8) | (v2 << 16) | (v3 << 24);
    const uint32_t lo = 0x01010101u * (uint8_t)act->min;
    const uint32_t hi = 0x01010101u * (uint8_t)act->max;
    return mf_min_s8x4(mf_max_s8x4(v, lo), hi);
}
#endif

static inline int32_t mf_nn_bias(const mf_nn_requant *rq, int32_t o)
{
    return rq->bias != NULL ? rq->bias[o] : 0;
}

/* Portable or MVE: out[r * n + o] = requant(bias[o] + sum_i x_r[i] * filter[o * k + i]) for the row
 * x0 and, when x1 is not NULL, the row x1 too (two rows share every filter load). */
void mf_nn_mat_mult_s8(const int8_t *x0,
                       const int8_t *x1,
                       const int8_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int8_t *out);

#if MF_USE_DSP
/* DSP: the same for one int8 row, SXTB16 + SMLAD, four output channels per pass. */
void mf_nn_vec_mat_mult_s8(const int8_t *x,
                           const int8_t *filter,
                           int32_t k,
                           int32_t n,
                           const mf_nn_requant *rq,
                           int8_t *out);

/* Two int8 rows widened for mf_nn_mat_mult_s16_pair: per four inputs, row 0's then row 1's
 * values in SXTB16 order (x0 x2 x1 x3); the len % 4 values at the end, row 0's then row 1's. */
void mf_nn_s8_to_s16_pair(const int8_t *r0, const int8_t *r1, int16_t *dst, int32_t len);

/* DSP: mf_nn_mat_mult_s8 for two rows widened and interleaved by mf_nn_s8_to_s16_pair, two
 * rows by two output channels per pass (one pointer for both rows: the Cortex-M loop is 18
 * instructions per 16 multiply-accumulates, in inline assembly). */
void mf_nn_mat_mult_s16_pair(const int16_t *x,
                             const int8_t *filter,
                             int32_t k,
                             int32_t n,
                             const mf_nn_requant *rq,
                             int8_t *out);

/* m4first (issue 12): mf_convolve_s8's DSP multiply (src/support/mf_nn_conv_pair_s16.c): two
 * patches in mf_nn_s8_to_s16_pair's layout, (k + 3) / 4 whole quads each (the values past k
 * zero), times n filter rows of k int8 values, two pixels by two channels per pass; shifts_ok
 * from mf_nn_shifts_right. */
void mf_nn_conv_pair_s16(const int16_t *x,
                         const int8_t *filter,
                         int32_t k,
                         int32_t n,
                         const mf_nn_requant *rq,
                         int32_t shifts_ok,
                         int8_t *out);
/* Whether every shift[0..n) is in [-31, -1] (mf_nn_conv_pair_s16's requantization in registers;
 * otherwise pass 0). */
int32_t mf_nn_shifts_right(const int32_t *shift, int32_t n);

#endif

/* ---- m4pw (issue 12): the i4 weight layout (mf_nn_i4_s8.c) ----------------------------
 * The weights (n, k) int8 padded with zeros to n4 = n rounded up to 4 channels and k4 = k
 * rounded up to 4 inputs. Channels go in groups of four (4 * k4 bytes each, in order), a group
 * holds two channel pairs (2g, 2g + 1), each input quad of a group 16 bytes: pair 0's "lo"
 * word, pair 0's "hi" word, pair 1's lo word, pair 1's hi word. A lo word holds inputs 0 and 2
 * of the quad, a hi word inputs 1 and 3 (SXTB16 order), one halfword per input: low byte
 * w[a][i] + 128 (as uint8), high byte w[b][i] (a, b the pair's even and odd channel). Passed
 * as int32_t words (little-endian), so always word-aligned for LDRD and LDM.
 * mcuforge.kernels.dsp_i4.pack_i4 is the packer. */
int32_t mf_nn_i4_scratch_bytes(int32_t k);

/* out[r * n + o] = requant(bias[o] + sum_i x[r * k + i] * w[o][i]) for `rows` rows, w in the i4
 * layout, outputs written row by row. mf_nn_i4_rows_s8: one row at a time, read in place, four
 * channels per pass (any quant_step). mf_nn_i4_pairs_s8: two rows at a time widened into the
 * scratch (mf_nn_i4_scratch_bytes(k) bytes, 4-aligned), a group of four channels (two pairs)
 * per pass, the last odd row paired with itself; per-channel quantization (quant_step 1). */
void mf_nn_i4_rows_s8(const int8_t *x,
                      int32_t rows,
                      const int32_t *filter,
                      int32_t k,
                      int32_t n,
                      const mf_nn_requant *rq,
                      int8_t *out);
void mf_nn_i4_pairs_s8(const int8_t *x,
                       int32_t rows,
                       const int32_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int16_t *scratch,
                       int8_t *out);
/* ---- end m4pw ---- */

/* The two variants behind mf_depthwise_conv_s8 (src/convolution/), called after its checks:
 * channel multiplier 1 (3x3 interior rows, tap lists, DSP/MVE paths) and multipliers above 1. */
void mf_depthwise_conv_m1_s8(const mf_dw_conv_params *p,
                             const mf_nn_requant *rq,
                             const mf_dims *input_dims,
                             const int8_t *input,
                             const mf_dims *filter_dims,
                             const int8_t *filter,
                             const mf_dims *output_dims,
                             int8_t *output);
void mf_depthwise_conv_mult_s8(const mf_dw_conv_params *p,
                               const mf_nn_requant *rq,
                               const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *filter_dims,
                               const int8_t *filter,
                               const mf_dims *output_dims,
                               int8_t *output);
#if MF_USE_MVE
/* speed-m55: the Helium variant taken instead of both on MVE cores (any multiplier, kernel,
 * stride, dilation; src/convolution/mf_depthwise_conv_mve_s8.c). */
void mf_depthwise_conv_mve_s8(const mf_dw_conv_params *p,
                              const mf_nn_requant *rq,
                              const mf_dims *input_dims,
                              const int8_t *input,
                              const mf_dims *filter_dims,
                              const int8_t *filter,
                              const mf_dims *output_dims,
                              int8_t *output);
/* speed-m55: mf_nn_mat_mult_s8 over all rows of a (rows x k) matrix in one call (1x1
 * convolutions on MVE): rows of at most 16 inputs stay in registers across the whole layer. */
void mf_nn_mat_mult_rows_s8(const int8_t *x,
                            int32_t rows,
                            const int8_t *filter,
                            int32_t k,
                            int32_t n,
                            const mf_nn_requant *rq,
                            int8_t *out);
/* speed-m55: mf_convolve_s8's Helium path, after its checks (src/convolution/
 * mf_convolve_mve_s8.c): vector-built int8 patches of two pixels in `patches` (2 * KH * KW * C_in
 * bytes of the scratch), then mf_nn_mat_mult_s8. */
void mf_convolve_mve_s8(const mf_conv_params *p,
                        const mf_nn_requant *rq,
                        const mf_dims *input_dims,
                        const int8_t *input,
                        const mf_dims *filter_dims,
                        const int8_t *filter,
                        const mf_dims *output_dims,
                        int8_t *patches,
                        int8_t *output);
/* speed-m55: 3x3 depthwise, channel multiplier 1, dilation 1, C % 8 == 0, with a bias and
 * per-channel multipliers: eight channels per vector in int16 lanes, VMULLB/VMULLT (src/
 * convolution/mf_depthwise_conv3_mve16_s8.c); one batch image, where _takes says so (32 <= C
 * <= 128, at most one padded column on either side). */
int mf_depthwise_conv3_mve16_takes(const mf_dw_conv_params *p,
                                   const mf_dims *input_dims,
                                   const mf_dims *output_dims);
void mf_depthwise_conv3_mve16_s8(const mf_dw_conv_params *p,
                                 const mf_nn_requant *rq,
                                 const mf_dims *input_dims,
                                 const int8_t *image,
                                 const int8_t *filter,
                                 const mf_dims *output_dims,
                                 int8_t *output);
/* speed-m55: mf_transpose_conv_s8's output-channel loop on MVE cores (src/convolution/
 * mf_transpose_conv_mve_s8.c): all c_out outputs of one pixel from its int16 patch of `len`
 * values and the phase block (c_out rows of `len` weights, full quads stored (0, 2, 1, 3)). */
void mf_transpose_conv_mve_pixel(const int16_t *patch,
                                 const int8_t *block,
                                 int32_t len,
                                 int32_t c_out,
                                 const mf_nn_requant *rq,
                                 int8_t *out);
#endif

/* ---- 4-bit weights (compiler/ops/packed_weights.py) ------------------------------------ */

/* Nibble i of a packed array: element 2k is the low nibble of byte k, 2k+1 the high one. */
static inline int32_t mf_nibble_u4(const uint8_t *packed, int32_t i)
{
    const uint8_t b = packed[i >> 1];
    return (i & 1) ? (int32_t)(b >> 4) : (int32_t)(b & 0x0F);
}

/* Nibble i as a two's-complement int4 value in [-8, 7]. */
static inline int32_t mf_nibble_s4(const uint8_t *packed, int32_t i)
{
    return (mf_nibble_u4(packed, i) ^ 8) - 8;
}

/* acc + sum_k x[k] * w[first + k] over len int4 weights read straight from flash. */
static inline int32_t mf_dot_s16_s4(const int16_t *x,
                                    const uint8_t *packed,
                                    int32_t first,
                                    int32_t len,
                                    int32_t acc)
{
    for (int32_t k = 0; k < len; k++) {
        acc += (int32_t)x[k] * mf_nibble_s4(packed, first + k);
    }
    return acc;
}

/* acc + sum_k x[k] * book[index[first + k]] over len 4-bit codebook indices. */
static inline int32_t mf_dot_s16_cb4(const int16_t *x,
                                     const uint8_t *packed,
                                     const int8_t *book,
                                     int32_t first,
                                     int32_t len,
                                     int32_t acc)
{
    for (int32_t k = 0; k < len; k++) {
        acc += (int32_t)x[k] * book[mf_nibble_u4(packed, first + k)];
    }
    return acc;
}

#endif /* MF_INTERNAL_H */
