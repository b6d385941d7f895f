/*
 * mf_nn_mat_mult_s8 - the int8 matrix multiplies under convolution (im2col patches, 1x1
 * pixel rows) and dense layers: rows of k inputs times n filter rows of k weights, each sum
 * started from the (offset-folded) bias and requantized. Internal: see mf_internal.h.
 *
 * Portable path: two input rows by two output channels per pass, so every load feeds two
 * multiply-accumulates (one input row: four channels per pass). DSP path: the filter bytes are
 * split by SXTB16 into halfword pairs and multiplied two at a time by SMLAD, against two input
 * rows widened once to int16 in the matching order and interleaved (mf_nn_s8_to_s16_pair), or
 * widened on the fly when there is only one row. MVE path (Cortex-M55, Helium): replaces the
 * portable mf_nn_mat_mult_s8 and is taken by the callers instead of the DSP one: 16 int8
 * products per VMLADAVA, two rows by two channels (one row: four channels) per pass, the
 * k % 16 tail one predicated step; the four accumulators of a row are requantized as one
 * vector (mf_mve_nn.h), the channels past n % 4 masked by a tail predicate.
 * The DSP routines are their own files beside this one: mf_nn_vec_mat_mult_s8.c (one row),
 * mf_nn_s8_to_s16_pair.c and mf_nn_mat_mult_s16_pair.c (two widened rows).
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"
#include "mf_portable_nn.h"

#include <stddef.h>

#if MF_USE_MVE
/* MVE (Helium): sixteen int8 products per VMLADAVA, summed across the vector into a scalar
 * int32 accumulator; the sum is exact (int8 x int8 x 16 fits easily), so the order of additions
 * does not matter and the result equals the portable loops. The last k % 16 inputs are one
 * predicated step: VCTP8 masks the lanes past k, the zeroing loads leave them 0 (and do not read
 * past the rows), so they add nothing. */

#if MF_MVE_ASM
/* On the Cortex-M55 the three dot-product blocks are tail-predicated low-overhead loops in
 * inline assembly (DLSTP.8 / LETP: the last k % 16 lanes are masked by the loop itself, no
 * separate tail step), with post-incremented loads; GCC 12 makes neither from the intrinsics.
 * VMLADAVA needs even accumulator registers (constraint "Te"). The C twins below are what the
 * host (MF_EMULATE_MVE) runs; they compute the same sums. */
static inline void mf_mve_2x2_s8(const int8_t *x0,
                                 const int8_t *x1,
                                 const int8_t *w0,
                                 const int8_t *w1,
                                 int32_t k,
                                 int32_t *a)
{
    int32_t a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3];
    __asm__ volatile("dlstp.8 lr, %[k]\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x0]], #16\n\t"
                     "vldrb.8 q1, [%[x1]], #16\n\t"
                     "vldrb.8 q2, [%[w0]], #16\n\t"
                     "vmladava.s8 %[a00], q0, q2\n\t"
                     "vmladava.s8 %[a10], q1, q2\n\t"
                     "vldrb.8 q2, [%[w1]], #16\n\t"
                     "vmladava.s8 %[a01], q0, q2\n\t"
                     "vmladava.s8 %[a11], q1, q2\n\t"
                     "letp lr, 1b\n"
                     : [a00] "+Te"(a00), [a01] "+Te"(a01), [a10] "+Te"(a10), [a11] "+Te"(a11),
                       [x0] "+r"(x0), [x1] "+r"(x1), [w0] "+r"(w0), [w1] "+r"(w1)
                     : [k] "r"(k)
                     : "q0", "q1", "q2", "lr", "memory");
    a[0] = a00;
    a[1] = a01;
    a[2] = a10;
    a[3] = a11;
}

static inline void mf_mve_1x4_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t *a)
{
    const int8_t *w1 = w + k;
    const int8_t *w2 = w1 + k;
    const int8_t *w3 = w2 + k;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    __asm__ volatile("dlstp.8 lr, %[k]\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x]], #16\n\t"
                     "vldrb.8 q1, [%[w0]], #16\n\t"
                     "vmladava.s8 %[a0], q0, q1\n\t"
                     "vldrb.8 q2, [%[w1]], #16\n\t"
                     "vmladava.s8 %[a1], q0, q2\n\t"
                     "vldrb.8 q1, [%[w2]], #16\n\t"
                     "vmladava.s8 %[a2], q0, q1\n\t"
                     "vldrb.8 q2, [%[w3]], #16\n\t"
                     "vmladava.s8 %[a3], q0, q2\n\t"
                     "letp lr, 1b\n"
                     : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3),
                       [x] "+r"(x), [w0] "+r"(w), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3)
                     : [k] "r"(k)
                     : "q0", "q1", "q2", "lr", "memory");
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

static inline int32_t mf_mve_dot_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t acc)
{
    __asm__ volatile("dlstp.8 lr, %[k]\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x]], #16\n\t"
                     "vldrb.8 q1, [%[w]], #16\n\t"
                     "vmladava.s8 %[a], q0, q1\n\t"
                     "letp lr, 1b\n"
                     : [a] "+Te"(acc), [x] "+r"(x), [w] "+r"(w)
                     : [k] "r"(k)
                     : "q0", "q1", "lr", "memory");
    return acc;
}

/* Two rows by channels o..o+3 into two vectors of four accumulators (row 0's, row 1's), the
 * channels in lane order: a pass over the pairs (o, o+2) fills lanes 0 and 2, a pass over
 * (o+1, o+3) lanes 1 and 3, so only four accumulators are live at a time. One VMOV per lane:
 * QEMU 7.2 does not fill lanes as the two-register VMOV Qd[i], Qd[i-2], Rt, Rt2 specifies. */
#define MF_MVE_QUAD_PASS(hi, lo)                                                                \
    "movs %[a0], #0\n\t"                                                                        \
    "movs %[a1], #0\n\t"                                                                        \
    "movs %[a2], #0\n\t"                                                                        \
    "movs %[a3], #0\n\t"                                                                        \
    "dlstp.8 lr, %[k]\n"                                                                        \
    "1:\n\t"                                                                                    \
    "vldrb.8 q0, [%[p0]], #16\n\t"                                                              \
    "vldrb.8 q1, [%[p1]], #16\n\t"                                                              \
    "vldrb.8 q2, [%[wa]], #16\n\t"                                                              \
    "vmladava.s8 %[a0], q0, q2\n\t"                                                             \
    "vmladava.s8 %[a1], q1, q2\n\t"                                                             \
    "vldrb.8 q2, [%[wb]], #16\n\t"                                                              \
    "vmladava.s8 %[a2], q0, q2\n\t"                                                             \
    "vmladava.s8 %[a3], q1, q2\n\t"                                                             \
    "letp lr, 1b\n\t"                                                                           \
    "vmov.32 %q[v0][" hi "], %[a2]\n\t"                                                         \
    "vmov.32 %q[v0][" lo "], %[a0]\n\t"                                                         \
    "vmov.32 %q[v1][" hi "], %[a3]\n\t"                                                         \
    "vmov.32 %q[v1][" lo "], %[a1]\n"

/* Both passes in one block; w advances to the next quad's first row. */
static inline void mf_mve_quad2_s8(const int8_t *x0,
                                   const int8_t *x1,
                                   const int8_t **w,
                                   int32_t k,
                                   int32x4_t *r0,
                                   int32x4_t *r1)
{
    int32_t a0, a1, a2, a3;
    int32x4_t v0, v1;
    const int8_t *p0, *p1, *wa, *wb;
    const int8_t *wp = *w;
    __asm__ volatile("mov %[p0], %[x0]\n\t"
                     "mov %[p1], %[x1]\n\t"
                     "mov %[wa], %[wp]\n\t"
                     "add %[wb], %[wp], %[k], lsl #1\n\t"
                     MF_MVE_QUAD_PASS("2", "0")
                     "mov %[p0], %[x0]\n\t"
                     "mov %[p1], %[x1]\n\t"
                     "add %[wa], %[wp], %[k]\n\t"
                     "add %[wb], %[wa], %[k], lsl #1\n\t"
                     MF_MVE_QUAD_PASS("3", "1")
                     "add %[wp], %[wp], %[k], lsl #2\n"
                     : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3),
                       [p0] "=&r"(p0), [p1] "=&r"(p1), [wa] "=&r"(wa), [wb] "=&r"(wb),
                       [v0] "=&w"(v0), [v1] "=&w"(v1), [wp] "+r"(wp)
                     : [k] "r"(k), [x0] "r"(x0), [x1] "r"(x1)
                     : "q0", "q1", "q2", "lr", "memory");
    *w = wp;
    *r0 = v0;
    *r1 = v1;
}
#undef MF_MVE_QUAD_PASS

#else /* !MF_MVE_ASM */

/* Two rows by two channels: every input vector feeds two channels, every filter vector two
 * rows. */
static inline void mf_mve_2x2_s8(const int8_t *x0,
                                 const int8_t *x1,
                                 const int8_t *w0,
                                 const int8_t *w1,
                                 int32_t k,
                                 int32_t *a)
{
    int32_t a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3];
    int32_t i = k;
    for (; i >= 16; i -= 16) {
        const int8x16_t p = vldrbq_s8(x0);
        const int8x16_t q = vldrbq_s8(x1);
        const int8x16_t u = vldrbq_s8(w0);
        const int8x16_t v = vldrbq_s8(w1);
        a00 = vmladavaq_s8(a00, p, u);
        a01 = vmladavaq_s8(a01, p, v);
        a10 = vmladavaq_s8(a10, q, u);
        a11 = vmladavaq_s8(a11, q, v);
        x0 += 16;
        x1 += 16;
        w0 += 16;
        w1 += 16;
    }
    if (i > 0) {
        const mve_pred16_t m = vctp8q((uint32_t)i);
        const int8x16_t p = vldrbq_z_s8(x0, m);
        const int8x16_t q = vldrbq_z_s8(x1, m);
        const int8x16_t u = vldrbq_z_s8(w0, m);
        const int8x16_t v = vldrbq_z_s8(w1, m);
        a00 = vmladavaq_s8(a00, p, u);
        a01 = vmladavaq_s8(a01, p, v);
        a10 = vmladavaq_s8(a10, q, u);
        a11 = vmladavaq_s8(a11, q, v);
    }
    a[0] = a00;
    a[1] = a01;
    a[2] = a10;
    a[3] = a11;
}

/* One row by four channels w, w + k, w + 2k, w + 3k: every input vector feeds four channels. */
static inline void mf_mve_1x4_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t *a)
{
    const int8_t *w1 = w + k;
    const int8_t *w2 = w1 + k;
    const int8_t *w3 = w2 + k;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    int32_t i = k;
    for (; i >= 16; i -= 16) {
        const int8x16_t p = vldrbq_s8(x);
        a0 = vmladavaq_s8(a0, p, vldrbq_s8(w));
        a1 = vmladavaq_s8(a1, p, vldrbq_s8(w1));
        a2 = vmladavaq_s8(a2, p, vldrbq_s8(w2));
        a3 = vmladavaq_s8(a3, p, vldrbq_s8(w3));
        x += 16;
        w += 16;
        w1 += 16;
        w2 += 16;
        w3 += 16;
    }
    if (i > 0) {
        const mve_pred16_t m = vctp8q((uint32_t)i);
        const int8x16_t p = vldrbq_z_s8(x, m);
        a0 = vmladavaq_s8(a0, p, vldrbq_z_s8(w, m));
        a1 = vmladavaq_s8(a1, p, vldrbq_z_s8(w1, m));
        a2 = vmladavaq_s8(a2, p, vldrbq_z_s8(w2, m));
        a3 = vmladavaq_s8(a3, p, vldrbq_z_s8(w3, m));
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* acc + the dot product of x and w over k int8 values. */
static inline int32_t mf_mve_dot_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t acc)
{
    int32_t i = k;
    for (; i >= 16; i -= 16) {
        acc = vmladavaq_s8(acc, vldrbq_s8(x), vldrbq_s8(w));
        x += 16;
        w += 16;
    }
    if (i > 0) {
        const mve_pred16_t m = vctp8q((uint32_t)i);
        acc = vmladavaq_s8(acc, vldrbq_z_s8(x, m), vldrbq_z_s8(w, m));
    }
    return acc;
}

/* Two rows by channels o..o+3 (*w = channel o's row, advanced past the quad): the
 * accumulators as two vectors. */
static inline void mf_mve_quad2_s8(const int8_t *x0,
                                   const int8_t *x1,
                                   const int8_t **w,
                                   int32_t k,
                                   int32x4_t *r0,
                                   int32x4_t *r1)
{
    int32_t a[4] = {0, 0, 0, 0};
    int32_t b[4] = {0, 0, 0, 0};
    const int8_t *wp = *w;
    mf_mve_2x2_s8(x0, x1, wp, wp + k, k, a);
    mf_mve_2x2_s8(x0, x1, wp + 2 * (size_t)k, wp + 3 * (size_t)k, k, b);
    *w = wp + 4 * (size_t)k;
    *r0 = mf_mve_set4(a[0], a[1], b[0], b[1]);
    *r1 = mf_mve_set4(a[2], a[3], b[2], b[3]);
}
#endif /* MF_MVE_ASM */

/* One row: channels o..o+3 (those below n), requantized as one vector. */
#if defined(__GNUC__)
__attribute__((noinline)) /* the tails: out of the callers' frames */
#endif
static void mf_mve_row_quad(const int8_t *x,
                                   const int8_t *filter,
                                   int32_t k,
                                   int32_t n,
                                   int32_t o,
                                   const mf_nn_requant *rq,
                                   int8_t *out)
{
    const int8_t *w = filter + (size_t)o * k;
    int32_t a[4] = {0, 0, 0, 0};
    if (o + 4 <= n) {
        mf_mve_1x4_s8(x, w, k, a);
    } else {
        for (int32_t j = 0; j < n - o; j++) {
            a[j] = mf_mve_dot_s8(x, w + (size_t)j * k, k, 0);
        }
    }
    const mve_pred16_t p = vctp32q((uint32_t)(n - o));
    const int32x4_t acc = vaddq_s32(mf_mve_set4(a[0], a[1], a[2], a[3]), mf_mve_bias4(rq->bias, o, p));
    mf_mve_requant_store4(rq, acc, o, p, out + o);
}

/* Two rows: channels o..o+3 (those below n) of both, as two 2x2 blocks (or a 2x1 one), each
 * row's four requantized as one vector. */
#if defined(__GNUC__)
__attribute__((noinline)) /* the tails: out of the callers' frames */
#endif
static void mf_mve_rows_quad(const int8_t *x0,
                                    const int8_t *x1,
                                    const int8_t *filter,
                                    int32_t k,
                                    int32_t n,
                                    int32_t o,
                                    const mf_nn_requant *rq,
                                    int8_t *out0,
                                    int8_t *out1)
{
    int32_t a[4] = {0, 0, 0, 0};
    int32_t b[4] = {0, 0, 0, 0};
    const int32_t left = n - o;
    const int8_t *w = filter + (size_t)o * k;
    if (left >= 2) {
        mf_mve_2x2_s8(x0, x1, w, w + k, k, a);
    } else {
        a[0] = mf_mve_dot_s8(x0, w, k, 0);
        a[2] = mf_mve_dot_s8(x1, w, k, 0);
    }
    w += 2 * (size_t)k;
    if (left >= 4) {
        mf_mve_2x2_s8(x0, x1, w, w + k, k, b);
    } else if (left == 3) {
        b[0] = mf_mve_dot_s8(x0, w, k, 0);
        b[2] = mf_mve_dot_s8(x1, w, k, 0);
    }
    const mve_pred16_t p = vctp32q((uint32_t)left);
    const int32x4_t bias = mf_mve_bias4(rq->bias, o, p);
    const int32x4_t r0 = vaddq_s32(mf_mve_set4(a[0], a[1], b[0], b[1]), bias);
    const int32x4_t r1 = vaddq_s32(mf_mve_set4(a[2], a[3], b[2], b[3]), bias);
    const int32x4_t m = mf_mve_quant4(rq->multiplier, o, rq->quant_step, p);
    const int32x4_t s = mf_mve_quant4(rq->shift, o, rq->quant_step, p);
    const mf_activation act = rq->activation;
    vstrbq_p_s32(out0 + o,
                 mf_mve_offset_clamp(mf_mve_requantize(r0, m, s), rq->output_offset, act.min,
                                     act.max),
                 p);
    vstrbq_p_s32(out1 + o,
                 mf_mve_offset_clamp(mf_mve_requantize(r1, m, s), rq->output_offset, act.min,
                                     act.max),
                 p);
}

#if MF_MVE_ASM
/* Four channels of two rows of k <= 16 inputs: the rows loaded under VCTP (zero lanes past
 * k), each channel one 16-byte filter load (lanes past k meet the zeros, the reads stay inside
 * the filter when another quad follows: the caller's condition), two VMLADAV, the sums
 * stored. */
#define MF_MVE_SHORT_CH                                                                        \
    "vldrb.8 q2, [%[w]]\n\t"                                                                    \
    "add %[w], %[w], %[k]\n\t"                                                                 \
    "vmladav.s8 %[s0], q0, q2\n\t"                                                             \
    "vmladav.s8 %[s1], q1, q2\n\t"                                                             \
    "str %[s0], [%[sa]], #4\n\t"                                                               \
    "str %[s1], [%[sb]], #4\n\t"

static inline void mf_mve_short_quad_asm(const int8_t *x0, const int8_t *x1, const int8_t *w,
                                         int32_t k, int32_t *sa, int32_t *sb)
{
    int32_t s0, s1;
    __asm__ volatile("vctp.8 %[k]\n\t"
                     "vpstt\n\t"
                     "vldrbt.8 q0, [%[x0]]\n\t"
                     "vldrbt.8 q1, [%[x1]]\n\t" MF_MVE_SHORT_CH MF_MVE_SHORT_CH MF_MVE_SHORT_CH
                     "vpst\n\t"
                     "vldrbt.8 q2, [%[w]]\n\t"
                     "vmladav.s8 %[s0], q0, q2\n\t"
                     "vmladav.s8 %[s1], q1, q2\n\t"
                     "str %[s0], [%[sa]], #4\n\t"
                     "str %[s1], [%[sb]], #4\n"
                     : [w] "+r"(w), [sa] "+r"(sa), [sb] "+r"(sb), [s0] "=&Te"(s0),
                       [s1] "=&Te"(s1)
                     : [k] "r"(k), [x0] "r"(x0), [x1] "r"(x1)
                     : "q0", "q1", "q2", "memory");
}
#undef MF_MVE_SHORT_CH

/* `quads` whole quads of channels of two rows of k <= 16 inputs, requantized, in one block:
 * the rows loaded once, each channel a filter load, two VMLADAV and two lane moves, then
 * mf_mve_nn.h's requantization of both vectors (right shift min(s, 0), left shift s - right)
 * with the bias, multipliers and shifts post-incremented, and the output offset, activation
 * minimum and maximum from cfg (three vectors). The rows come in r0, r1 (zero past k). The
 * filter reads are unpredicated: the caller leaves the filter's last quad to the predicated C
 * code. */
#define MF_MVE_ROWQ_CH(lane)                                                                   \
    "vldrb.8 q2, [%[w]]\n\t"                                                                    \
    "add %[w], %[w], %[k]\n\t"                                                                 \
    "vmladav.s8 %[s0], %q[r0], q2\n\t"                                                         \
    "vmladav.s8 %[s1], %q[r1], q2\n\t"                                                         \
    "vmov.32 q3[" lane "], %[s0]\n\t"                                                          \
    "vmov.32 q4[" lane "], %[s1]\n\t"

#define MF_MVE_ROWQ_CH_P(lane)                                                                 \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q2, [%[w]]\n\t"                                                                   \
    "add %[w], %[w], %[k]\n\t"                                                                 \
    "vmladav.s8 %[s0], %q[r0], q2\n\t"                                                         \
    "vmladav.s8 %[s1], %q[r1], q2\n\t"                                                         \
    "vmov.32 q3[" lane "], %[s0]\n\t"                                                          \
    "vmov.32 q4[" lane "], %[s1]\n\t"

#define MF_MVE_ROWQ_BODY(CH)                                                                   \
    CH("0") CH("1") CH("2") CH("3")                                                            \
    "vldrw.u32 q5, [%[bias]], #16\n\t"                                                         \
    "vadd.i32 q3, q3, q5\n\t"                                                                  \
    "vadd.i32 q4, q4, q5\n\t"                                                                  \
    "vldrw.u32 q5, [%[mult]], #16\n\t"                                                         \
    "vldrw.u32 q6, [%[shift]], #16\n\t"                                                        \
    "vmov.i32 q7, #0\n\t"                                                                      \
    "vmin.s32 q7, q6, q7\n\t"                                                                  \
    "vsub.i32 q6, q6, q7\n\t"                                                                  \
    "vshl.s32 q3, q3, q6\n\t"                                                                  \
    "vshl.s32 q4, q4, q6\n\t"                                                                  \
    "vqrdmulh.s32 q3, q3, q5\n\t"                                                              \
    "vqrdmulh.s32 q4, q4, q5\n\t"                                                              \
    "vand q5, q3, q7\n\t"                                                                      \
    "vshr.s32 q5, q5, #31\n\t"                                                                 \
    "vqadd.s32 q3, q3, q5\n\t"                                                                 \
    "vrshl.s32 q3, q3, q7\n\t"                                                                 \
    "vand q5, q4, q7\n\t"                                                                      \
    "vshr.s32 q5, q5, #31\n\t"                                                                 \
    "vqadd.s32 q4, q4, q5\n\t"                                                                 \
    "vrshl.s32 q4, q4, q7\n\t"                                                                 \
    "vldrw.u32 q5, [%[cfg]]\n\t"                                                               \
    "vadd.i32 q3, q3, q5\n\t"                                                                  \
    "vadd.i32 q4, q4, q5\n\t"                                                                  \
    "vldrw.u32 q5, [%[cfg], #16]\n\t"                                                          \
    "vldrw.u32 q6, [%[cfg], #32]\n\t"                                                          \
    "vmax.s32 q3, q3, q5\n\t"                                                                  \
    "vmax.s32 q4, q4, q5\n\t"                                                                  \
    "vmin.s32 q3, q3, q6\n\t"                                                                  \
    "vmin.s32 q4, q4, q6\n\t"                                                                  \
    "vstrb.32 q3, [%[o0]], #4\n\t"                                                             \
    "vstrb.32 q4, [%[o1]], #4\n\t"

/* All quads of a row pair: the filter's last quad (after the loop) with predicated reads. */
static inline void mf_mve_short_quads_asm(int8x16_t r0, int8x16_t r1, const int8_t *w,
                                          int32_t k, int32_t quads, const int32_t *bias,
                                          const int32_t *mult, const int32_t *shift,
                                          const int32_t *cfg, int8_t *out0, int8_t *out1)
{
    int32_t s0, s1;
    __asm__ volatile("wls lr, %[quads], 2f\n"
                     "1:\n\t" MF_MVE_ROWQ_BODY(MF_MVE_ROWQ_CH)
                     "le lr, 1b\n"
                     "2:\n\t"
                     "vctp.8 %[k]\n\t" MF_MVE_ROWQ_BODY(MF_MVE_ROWQ_CH_P)
                     : [w] "+r"(w), [bias] "+r"(bias), [mult] "+r"(mult), [shift] "+r"(shift),
                       [o0] "+l"(out0), [o1] "+l"(out1), [s0] "=&Te"(s0), [s1] "=&Te"(s1)
                     : [k] "r"(k), [quads] "r"(quads), [r0] "w"(r0), [r1] "w"(r1), [cfg] "r"(cfg)
                     : "q2", "q3", "q4", "q5", "q6", "q7", "lr", "memory");
}
#undef MF_MVE_ROWQ_BODY
#undef MF_MVE_ROWQ_CH
#undef MF_MVE_ROWQ_CH_P
#endif

/* Two rows of at most 16 inputs (1x1 convolutions on few channels, first layers): both rows
 * stay in registers and every channel is one filter load and two VMLADAV, without a loop. */
/* One pair of rows for mf_mve_rows_short. */
static inline void mf_mve_rows_short_pair(const int8_t *x0,
                                          const int8_t *x1,
                                          const int8_t *filter,
                                          int32_t k,
                                          int32_t n,
                                          const mf_nn_requant *rq,
                                          const int32_t *cfg,
                                          int8_t *out0,
                                          int8_t *out1)
{
    (void)cfg;
    const mve_pred16_t pk = vctp8q((uint32_t)k);
    const int8x16_t r0 = vldrbq_z_s8(x0, pk);
    const int8x16_t r1 = vldrbq_z_s8(x1, pk);
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int32_t *bias = rq->bias, *mult = rq->multiplier, *shift = rq->shift;
    const int8_t *w = filter;
    int32_t o = 0;
#if MF_MVE_ASM
    if (n >= 4) { /* the quads in one block, the filter's last one with predicated reads */
        const int32_t quads = n / 4 - 1;
        mf_mve_short_quads_asm(r0, r1, w, k, quads, bias, mult, shift, cfg, out0, out1);
        o = 4 * quads;
        w += (size_t)o * k;
        o += 4;
        w += 4 * (size_t)k;
    }
#endif
    for (; o + 4 <= n; o += 4) {
        int32x4_t v0, v1;
#if MF_MVE_ASM
        /* Unpredicated 16-byte reads stay inside the filter while another quad follows. */
        if (o + 8 <= n) {
            int32_t sa[4], sb[4];
            mf_mve_short_quad_asm(x0, x1, w, k, sa, sb);
            v0 = vldrwq_s32(sa);
            v1 = vldrwq_s32(sb);
        } else {
            const int8x16_t w0 = vldrbq_z_s8(w, pk);
            const int8x16_t w1 = vldrbq_z_s8(w + k, pk);
            const int8x16_t w2 = vldrbq_z_s8(w + 2 * k, pk);
            const int8x16_t w3 = vldrbq_z_s8(w + 3 * k, pk);
            v0 = mf_mve_set4(vmladavq_s8(r0, w0), vmladavq_s8(r0, w1), vmladavq_s8(r0, w2),
                             vmladavq_s8(r0, w3));
            v1 = mf_mve_set4(vmladavq_s8(r1, w0), vmladavq_s8(r1, w1), vmladavq_s8(r1, w2),
                             vmladavq_s8(r1, w3));
        }
#else
        const int8x16_t w0 = vldrbq_z_s8(w, pk);
        const int8x16_t w1 = vldrbq_z_s8(w + k, pk);
        const int8x16_t w2 = vldrbq_z_s8(w + 2 * k, pk);
        const int8x16_t w3 = vldrbq_z_s8(w + 3 * k, pk);
        v0 = mf_mve_set4(vmladavq_s8(r0, w0), vmladavq_s8(r0, w1), vmladavq_s8(r0, w2),
                         vmladavq_s8(r0, w3));
        v1 = mf_mve_set4(vmladavq_s8(r1, w0), vmladavq_s8(r1, w1), vmladavq_s8(r1, w2),
                         vmladavq_s8(r1, w3));
#endif
        w += 4 * k;
        const int32x4_t b = vldrwq_s32(bias + o);
        const int32x4_t m = vldrwq_s32(mult + o);
        const int32x4_t sh = vldrwq_s32(shift + o);
        v0 = mf_mve_requantize(vaddq_s32(v0, b), m, sh);
        v1 = mf_mve_requantize(vaddq_s32(v1, b), m, sh);
        vstrbq_s32(out0 + o, mf_mve_offset_clamp(v0, off, lo, hi));
        vstrbq_s32(out1 + o, mf_mve_offset_clamp(v1, off, lo, hi));
    }
    for (; o < n; o++) { /* the last n % 4 channels */
        const int8x16_t wv = vldrbq_z_s8(w, pk);
        w += k;
        out0[o] = mf_nn_requant_out(rq, bias[o] + vmladavq_s8(r0, wv), o);
        out1[o] = mf_nn_requant_out(rq, bias[o] + vmladavq_s8(r1, wv), o);
    }
}

/* `pairs` pairs of rows of at most 16 inputs, each pair (x0, x1) followed by the next. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_rows_short(const int8_t *x0,
                              const int8_t *x1,
                              const int8_t *filter,
                              int32_t k,
                              int32_t n,
                              const mf_nn_requant *rq,
                              int8_t *out0,
                              int8_t *out1,
                              int32_t pairs)
{
    int32_t cfg[12]; /* output offset, activation minimum and maximum, four lanes each */
    for (int32_t l = 0; l < 4; l++) {
        cfg[l] = rq->output_offset;
        cfg[4 + l] = rq->activation.min;
        cfg[8 + l] = rq->activation.max;
    }
    for (; pairs > 0; pairs--) {
        mf_mve_rows_short_pair(x0, x1, filter, k, n, rq, cfg, out0, out1);
        x0 += 2 * k;
        x1 += 2 * k;
        out0 += 2 * n;
        out1 += 2 * n;
    }
}


#if MF_MVE_ASM
/* `quads` quads of channels of two rows of 16 < k <= 32 inputs, requantized, in one block:
 * each quad reloads the rows as two vectors (the second under the k - 16 lane predicate, so
 * zero past k), each channel is a 16-byte filter load, a predicated one for its last k - 16
 * bytes (no read past the channel), four VMLADAV(A) and two lane moves, then the
 * requantization of mf_mve_short_quads_asm (cfg: output offset, activation minimum, maximum). */
#define MF_MVE_MID2_CH(lane)                                                                   \
    "vldrb.8 q2, [%[w]]\n\t"                                                                    \
    "vmladav.s8 %[s0], q0, q2\n\t"                                                             \
    "vmladav.s8 %[s1], q5, q2\n\t"                                                             \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q2, [%[w], #16]\n\t"                                                              \
    "add %[w], %[w], %[k]\n\t"                                                                 \
    "vmladava.s8 %[s0], q1, q2\n\t"                                                            \
    "vmladava.s8 %[s1], q6, q2\n\t"                                                            \
    "vmov.32 q3[" lane "], %[s0]\n\t"                                                          \
    "vmov.32 q4[" lane "], %[s1]\n\t"

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_mid2_quads_asm(const int8_t *x0, const int8_t *x1, const int8_t *w,
                                  int32_t k, int32_t quads, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, const int32_t *cfg,
                                  int8_t *out0, int8_t *out1)
{
    int32_t s0, s1;
    __asm__ volatile("sub %[s0], %[k], #16\n\t"
                     "vctp.8 %[s0]\n\t"
                     "dls lr, %[quads]\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x0]]\n\t"
                     "vldrb.8 q5, [%[x1]]\n\t"
                     "vpstt\n\t"
                     "vldrbt.8 q1, [%[x0], #16]\n\t"
                     "vldrbt.8 q6, [%[x1], #16]\n\t" MF_MVE_MID2_CH("0") MF_MVE_MID2_CH("1")
                         MF_MVE_MID2_CH("2") MF_MVE_MID2_CH("3")
                     "vldrw.u32 q5, [%[bias]], #16\n\t"
                     "vadd.i32 q3, q3, q5\n\t"
                     "vadd.i32 q4, q4, q5\n\t"
                     "vldrw.u32 q5, [%[mult]], #16\n\t"
                     "vldrw.u32 q6, [%[shift]], #16\n\t"
                     "vmov.i32 q7, #0\n\t"
                     "vmin.s32 q7, q6, q7\n\t"
                     "vsub.i32 q6, q6, q7\n\t"
                     "vshl.s32 q3, q3, q6\n\t"
                     "vshl.s32 q4, q4, q6\n\t"
                     "vqrdmulh.s32 q3, q3, q5\n\t"
                     "vqrdmulh.s32 q4, q4, q5\n\t"
                     "vand q5, q3, q7\n\t"
                     "vshr.s32 q5, q5, #31\n\t"
                     "vqadd.s32 q3, q3, q5\n\t"
                     "vrshl.s32 q3, q3, q7\n\t"
                     "vand q5, q4, q7\n\t"
                     "vshr.s32 q5, q5, #31\n\t"
                     "vqadd.s32 q4, q4, q5\n\t"
                     "vrshl.s32 q4, q4, q7\n\t"
                     "vldrw.u32 q5, [%[cfg]]\n\t"
                     "vadd.i32 q3, q3, q5\n\t"
                     "vadd.i32 q4, q4, q5\n\t"
                     "vldrw.u32 q5, [%[cfg], #16]\n\t"
                     "vldrw.u32 q6, [%[cfg], #32]\n\t"
                     "vmax.s32 q3, q3, q5\n\t"
                     "vmax.s32 q4, q4, q5\n\t"
                     "vmin.s32 q3, q3, q6\n\t"
                     "vmin.s32 q4, q4, q6\n\t"
                     "vstrb.32 q3, [%[o0]], #4\n\t"
                     "vstrb.32 q4, [%[o1]], #4\n\t"
                     "le lr, 1b\n"
                     : [w] "+r"(w), [bias] "+r"(bias), [mult] "+r"(mult), [shift] "+r"(shift),
                       [o0] "+l"(out0), [o1] "+l"(out1), [s0] "=&Te"(s0), [s1] "=&Te"(s1)
                     : [k] "r"(k), [quads] "r"(quads), [x0] "r"(x0), [x1] "r"(x1), [cfg] "r"(cfg)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "memory");
}
#undef MF_MVE_MID2_CH

/* The whole quads of two rows of 16 < k <= 32 inputs (its own function: the caller's frame
 * stays small). Returns the channels done. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t mf_mve_mid2_quads(const int8_t *x0,
                                 const int8_t *x1,
                                 const int8_t *filter,
                                 int32_t k,
                                 int32_t n,
                                 const mf_nn_requant *rq,
                                 int8_t *out0,
                                 int8_t *out1)
{
    int32_t cfg[12]; /* output offset, activation minimum and maximum, four lanes each */
    for (int32_t l = 0; l < 4; l++) {
        cfg[l] = rq->output_offset;
        cfg[4 + l] = rq->activation.min;
        cfg[8 + l] = rq->activation.max;
    }
    mf_mve_mid2_quads_asm(x0, x1, filter, k, n / 4, rq->bias, rq->multiplier, rq->shift, cfg,
                          out0, out1);
    return n & ~3;
}
#endif

#if MF_MVE_ASM
/* speed-m55: `quads` quads of channels of two rows of 32 < k <= 48 inputs, requantized, in one
 * block (KWS's first layer: k = 40): each quad loads both rows as three vectors each (the third
 * under the k - 32 lane predicate, so zero past k), each channel is two 16-byte filter loads and
 * a predicated one for its last k - 32 bytes, six VMLADAV(A), a lane move of row 0's sum and a
 * store of row 1's (no vector register left: cfg[12..15]), then both rows requantized as in
 * mf_mve_mid2_quads_asm. */
#define MF_MVE_MID3_CH(lane, ofs)                                                              \
    "vldrb.8 q3, [%[w]]\n\t"                                                                    \
    "vmladav.s8 %[s0], q0, q3\n\t"                                                             \
    "vmladav.s8 %[s1], q5, q3\n\t"                                                             \
    "vldrb.8 q3, [%[w], #16]\n\t"                                                               \
    "vmladava.s8 %[s0], q1, q3\n\t"                                                            \
    "vmladava.s8 %[s1], q6, q3\n\t"                                                            \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q3, [%[w], #32]\n\t"                                                              \
    "add %[w], %[w], %[k]\n\t"                                                                 \
    "vmladava.s8 %[s0], q2, q3\n\t"                                                            \
    "vmladava.s8 %[s1], q7, q3\n\t"                                                            \
    "vmov.32 q4[" lane "], %[s0]\n\t"                                                          \
    "str %[s1], [%[cfg], #" ofs "]\n\t"

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_mid3_quads_asm(const int8_t *x0, const int8_t *x1, const int8_t *w,
                                  int32_t k, int32_t quads, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, int32_t *cfg,
                                  int8_t *out0, int8_t *out1)
{
    int32_t s0, s1;
    __asm__ volatile("sub %[s0], %[k], #32\n\t"
                     "vctp.8 %[s0]\n\t"
                     "dls lr, %[quads]\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[x0]]\n\t"
                     "vldrb.8 q1, [%[x0], #16]\n\t"
                     "vldrb.8 q5, [%[x1]]\n\t"
                     "vldrb.8 q6, [%[x1], #16]\n\t"
                     "vpstt\n\t"
                     "vldrbt.8 q2, [%[x0], #32]\n\t"
                     "vldrbt.8 q7, [%[x1], #32]\n\t" MF_MVE_MID3_CH("0", "48")
                         MF_MVE_MID3_CH("1", "52") MF_MVE_MID3_CH("2", "56")
                             MF_MVE_MID3_CH("3", "60")
                     "vldrw.u32 q3, [%[cfg], #48]\n\t"
                     "vldrw.u32 q5, [%[bias]], #16\n\t"
                     "vadd.i32 q4, q4, q5\n\t"
                     "vadd.i32 q3, q3, q5\n\t"
                     "vldrw.u32 q5, [%[mult]], #16\n\t"
                     "vldrw.u32 q6, [%[shift]], #16\n\t"
                     "vmov.i32 q7, #0\n\t"
                     "vmin.s32 q7, q6, q7\n\t"
                     "vsub.i32 q6, q6, q7\n\t"
                     "vshl.s32 q4, q4, q6\n\t"
                     "vshl.s32 q3, q3, q6\n\t"
                     "vqrdmulh.s32 q4, q4, q5\n\t"
                     "vqrdmulh.s32 q3, q3, q5\n\t"
                     "vand q5, q4, q7\n\t"
                     "vshr.s32 q5, q5, #31\n\t"
                     "vqadd.s32 q4, q4, q5\n\t"
                     "vrshl.s32 q4, q4, q7\n\t"
                     "vand q5, q3, q7\n\t"
                     "vshr.s32 q5, q5, #31\n\t"
                     "vqadd.s32 q3, q3, q5\n\t"
                     "vrshl.s32 q3, q3, q7\n\t"
                     "vldrw.u32 q5, [%[cfg]]\n\t"
                     "vadd.i32 q4, q4, q5\n\t"
                     "vadd.i32 q3, q3, q5\n\t"
                     "vldrw.u32 q5, [%[cfg], #16]\n\t"
                     "vldrw.u32 q6, [%[cfg], #32]\n\t"
                     "vmax.s32 q4, q4, q5\n\t"
                     "vmax.s32 q3, q3, q5\n\t"
                     "vmin.s32 q4, q4, q6\n\t"
                     "vmin.s32 q3, q3, q6\n\t"
                     "vstrb.32 q4, [%[o0]], #4\n\t"
                     "vstrb.32 q3, [%[o1]], #4\n\t"
                     "le lr, 1b\n"
                     : [w] "+r"(w), [bias] "+r"(bias), [mult] "+r"(mult), [shift] "+r"(shift),
                       [o0] "+l"(out0), [o1] "+l"(out1), [s0] "=&Te"(s0), [s1] "=&Te"(s1)
                     : [k] "r"(k), [quads] "r"(quads), [x0] "r"(x0), [x1] "r"(x1), [cfg] "r"(cfg)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "memory");
}
#undef MF_MVE_MID3_CH

/* The whole quads of two rows of 32 < k <= 48 inputs. Returns the channels done. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t mf_mve_mid3_quads(const int8_t *x0,
                                 const int8_t *x1,
                                 const int8_t *filter,
                                 int32_t k,
                                 int32_t n,
                                 const mf_nn_requant *rq,
                                 int8_t *out0,
                                 int8_t *out1)
{
    int32_t cfg[16]; /* output offset, activation minimum and maximum (four lanes each), row 1 */
    for (int32_t l = 0; l < 4; l++) {
        cfg[l] = rq->output_offset;
        cfg[4 + l] = rq->activation.min;
        cfg[8 + l] = rq->activation.max;
    }
    mf_mve_mid3_quads_asm(x0, x1, filter, k, n / 4, rq->bias, rq->multiplier, rq->shift, cfg,
                          out0, out1);
    return n & ~3;
}
#endif

/* One row (dense layers), the whole quads of channels (per-channel multipliers, a bias).
 * Returns the channels done (n & ~3). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t mf_mve_row_quads(const int8_t *x,
                                const int8_t *filter,
                                int32_t k,
                                int32_t n,
                                const mf_nn_requant *rq,
                                int8_t *out)
{
    const int32_t *bias = rq->bias, *mult = rq->multiplier, *shift = rq->shift;
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int32_t n4 = n & ~3;
    const int8_t *w = filter;
    for (int32_t o = 0; o < n4; o += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        mf_mve_1x4_s8(x, w, k, a);
        w += 4 * (size_t)k;
        const int32x4_t v = vaddq_s32(mf_mve_set4(a[0], a[1], a[2], a[3]), vldrwq_s32(bias + o));
        const int32x4_t r = mf_mve_requantize(v, vldrwq_s32(mult + o), vldrwq_s32(shift + o));
        vstrbq_s32(out + o, mf_mve_offset_clamp(r, off, lo, hi));
    }
    return n4;
}

/* Two rows, the whole quads of channels (per-channel multipliers, a bias): the passes of
 * mf_mve_quad2_s8 then both rows' requantization. Its own function, so that the loop has the
 * registers to itself. Returns the channels done (n & ~3). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t mf_mve_pair_quads(const int8_t *x0,
                                 const int8_t *x1,
                                 const int8_t *filter,
                                 int32_t k,
                                 int32_t n,
                                 const mf_nn_requant *rq,
                                 int8_t *out0,
                                 int8_t *out1)
{
    const int32_t *bias = rq->bias, *mult = rq->multiplier, *shift = rq->shift;
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int8_t *w = filter;
    const int32_t n4 = n & ~3;
    for (int32_t o = 0; o < n4; o += 4) {
        int32x4_t v0, v1;
        mf_mve_quad2_s8(x0, x1, &w, k, &v0, &v1);
        const int32x4_t b = vldrwq_s32(bias + o);
        const int32x4_t m = vldrwq_s32(mult + o);
        const int32x4_t sh = vldrwq_s32(shift + o);
        v0 = mf_mve_requantize(vaddq_s32(v0, b), m, sh);
        v1 = mf_mve_requantize(vaddq_s32(v1, b), m, sh);
        vstrbq_s32(out0 + o, mf_mve_offset_clamp(v0, off, lo, hi));
        vstrbq_s32(out1 + o, mf_mve_offset_clamp(v1, off, lo, hi));
    }
    return n4;
}

void mf_nn_mat_mult_s8(const int8_t *x0,
                       const int8_t *x1,
                       const int8_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    if (x1 == NULL) {
        int32_t o = 0;
        if (r.quant_step == 1 && r.bias != NULL) {
            o = mf_mve_row_quads(x0, filter, k, n, &r, out);
        }
        for (; o < n; o += 4) {
            mf_mve_row_quad(x0, filter, k, n, o, &r, out);
        }
    } else if (k <= 16 && r.quant_step == 1 && r.bias != NULL) {
        mf_mve_rows_short(x0, x1, filter, k, n, &r, out, out + n, 1);
    } else {
        int32_t o = 0;
#if MF_MVE_ASM
        if (k <= 32 && n >= 4 && r.quant_step == 1 && r.bias != NULL) { /* rows in registers */
            o = mf_mve_mid2_quads(x0, x1, filter, k, n, &r, out, out + n);
        }
        if (k > 32 && k <= 48 && n >= 4 && r.quant_step == 1 && r.bias != NULL) { /* speed-m55 */
            o = mf_mve_mid3_quads(x0, x1, filter, k, n, &r, out, out + n);
        }
#endif
        if (o == 0 && r.quant_step == 1 && r.bias != NULL) { /* whole quads unpredicated */
            o = mf_mve_pair_quads(x0, x1, filter, k, n, &r, out, out + n);
        }
        for (; o < n; o += 4) {
            mf_mve_rows_quad(x0, x1, filter, k, n, o, &r, out, out + n);
        }
    }
}

#if MF_MVE_ASM
/* One row of exactly 64 inputs (1x1 convolutions on 64 channels) held in four registers: each
 * channel is four post-incremented filter loads (the 64 bytes exactly) and four VMLADAV(A), a
 * lane move per channel, then the requantization of mf_mve_short_quads_asm for four channels;
 * `quads` quads of channels. */
#define MF_MVE_ROW64_CH(lane)                                                                  \
    "vldrb.8 q5, [%[w]], #16\n\t"                                                               \
    "vmladav.s8 %[s], q0, q5\n\t"                                                              \
    "vldrb.8 q5, [%[w]], #16\n\t"                                                               \
    "vmladava.s8 %[s], q1, q5\n\t"                                                             \
    "vldrb.8 q5, [%[w]], #16\n\t"                                                               \
    "vmladava.s8 %[s], q2, q5\n\t"                                                             \
    "vldrb.8 q5, [%[w]], #16\n\t"                                                               \
    "vmladava.s8 %[s], q3, q5\n\t"                                                             \
    "vmov.32 q4[" lane "], %[s]\n\t"

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_row64_quads_asm(const int8_t *x, int32_t rows, const int8_t *filter,
                                   int32_t quads, const int32_t *bias0, const int32_t *mult0,
                                   const int32_t *shift0, const int32_t *cfg, int8_t *out)
{
    int32_t s;
    for (int32_t r = 0; r < rows; r++, x += 64) { /* speed-m55: every row in one call */
    const int8_t *w = filter;
    const int32_t *bias = bias0, *mult = mult0, *shift = shift0;
    __asm__ volatile("vldrb.8 q0, [%[x]]\n\t"
                     "vldrb.8 q1, [%[x], #16]\n\t"
                     "vldrb.8 q2, [%[x], #32]\n\t"
                     "vldrb.8 q3, [%[x], #48]\n\t"
                     "dls lr, %[quads]\n"
                     "1:\n\t" MF_MVE_ROW64_CH("0") MF_MVE_ROW64_CH("1") MF_MVE_ROW64_CH("2")
                         MF_MVE_ROW64_CH("3")
                     "vldrw.u32 q5, [%[bias]], #16\n\t"
                     "vadd.i32 q4, q4, q5\n\t"
                     "vldrw.u32 q5, [%[mult]], #16\n\t"
                     "vldrw.u32 q6, [%[shift]], #16\n\t"
                     "vmov.i32 q7, #0\n\t"
                     "vmin.s32 q7, q6, q7\n\t"
                     "vsub.i32 q6, q6, q7\n\t"
                     "vshl.s32 q4, q4, q6\n\t"
                     "vqrdmulh.s32 q4, q4, q5\n\t"
                     "vand q5, q4, q7\n\t"
                     "vshr.s32 q5, q5, #31\n\t"
                     "vqadd.s32 q4, q4, q5\n\t"
                     "vrshl.s32 q4, q4, q7\n\t"
                     "vldrw.u32 q5, [%[cfg]]\n\t"
                     "vadd.i32 q4, q4, q5\n\t"
                     "vldrw.u32 q5, [%[cfg], #16]\n\t"
                     "vldrw.u32 q6, [%[cfg], #32]\n\t"
                     "vmax.s32 q4, q4, q5\n\t"
                     "vmin.s32 q4, q4, q6\n\t"
                     "vstrb.32 q4, [%[o]], #4\n\t"
                     "le lr, 1b\n"
                     : [w] "+r"(w), [bias] "+r"(bias), [mult] "+r"(mult), [shift] "+r"(shift),
                       [o] "+l"(out), [s] "=&Te"(s)
                     : [x] "r"(x), [quads] "r"(quads), [cfg] "r"(cfg)
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "lr", "memory");
    }
}
#undef MF_MVE_ROW64_CH
#endif

/* speed-m55: one output channel (U-Net's last 1x1): each row one dot product, four rows'
 * sums requantized as one vector and stored together (the outputs of consecutive rows are
 * consecutive bytes). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_rows_one_channel(const int8_t *x,
                                    int32_t rows,
                                    const int8_t *filter,
                                    int32_t k,
                                    const mf_nn_requant *rq,
                                    int8_t *out)
{
    const int32_t b = rq->bias != NULL ? rq->bias[0] : 0;
    const int32_t m = rq->multiplier[0], sh = rq->shift[0];
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const mve_pred16_t m16 = vctp8q((uint32_t)k);
    const int8x16_t w16 = vldrbq_z_s8(filter, m16); /* k <= 16: the filter in one register */
    for (int32_t r = 0; r < rows; r += 4) {
        int32_t a[4] = {b, b, b, b};
        const int32_t n = mf_min_i32(rows - r, 4);
        for (int32_t l = 0; l < n; l++) {
            const int8_t *xr = x + (size_t)(r + l) * k;
            a[l] = k <= 16 ? vmladavaq_s8(b, vldrbq_z_s8(xr, m16), w16)
                           : mf_mve_dot_s8(xr, filter, k, b);
        }
        const int32x4_t v = mf_mve_requantize_n(mf_mve_set4(a[0], a[1], a[2], a[3]), m, sh);
        vstrbq_p_s32(out + r, mf_mve_offset_clamp(v, off, lo, hi), vctp32q((uint32_t)n));
    }
}

/* Every row of a (rows x k) matrix, two at a time (mf_internal.h). */
void mf_nn_mat_mult_rows_s8(const int8_t *x,
                            int32_t rows,
                            const int8_t *filter,
                            int32_t k,
                            int32_t n,
                            const mf_nn_requant *rq,
                            int8_t *out)
{
    int32_t r = 0;
    if (n == 1) { /* speed-m55 */
        mf_mve_rows_one_channel(x, rows, filter, k, rq, out);
        return;
    }
#if MF_MVE_ASM
    if (k == 64 && (n & 3) == 0 && rq->quant_step == 1 && rq->bias != NULL) {
        int32_t cfg[12]; /* output offset, activation minimum and maximum, four lanes each */
        for (int32_t l = 0; l < 4; l++) {
            cfg[l] = rq->output_offset;
            cfg[4 + l] = rq->activation.min;
            cfg[8 + l] = rq->activation.max;
        }
        mf_mve_row64_quads_asm(x, rows, filter, n / 4, rq->bias, rq->multiplier, rq->shift, cfg,
                               out);
        return;
    }
#endif
    if (k <= 16 && rq->quant_step == 1 && rq->bias != NULL && rows >= 2) {
        const mf_nn_requant q = *rq;
        mf_mve_rows_short(x, x + k, filter, k, n, &q, out, out + n, rows / 2);
        r = rows & ~1;
    }
    for (; r + 2 <= rows; r += 2) {
        mf_nn_mat_mult_s8(x + (size_t)r * k, x + (size_t)(r + 1) * k, filter, k, n, rq,
                          out + (size_t)r * n);
    }
    if (r < rows) {
        mf_nn_mat_mult_s8(x + (size_t)r * k, NULL, filter, k, n, rq, out + (size_t)r * n);
    }
}

#else /* !MF_USE_MVE */

/* Two accumulators of channel o (two rows) into *p0 and *p1: the channel's constants prepared
 * once (mf_rq1), and with an int8-range activation SSAT as the whole clamp (speed-m4). */
static inline void mf_pt_requant2(const mf_nn_requant *rq,
                                  int32_t o,
                                  int32_t a0,
                                  int32_t a1,
                                  int8_t *p0,
                                  int8_t *p1,
                                  int full_range)
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
    if (full_range) {
        *p0 = (int8_t)mf_sat_s8(v0);
        *p1 = (int8_t)mf_sat_s8(v1);
    } else {
        *p0 = (int8_t)mf_clamp_i32(v0, rq->activation.min, rq->activation.max);
        *p1 = (int8_t)mf_clamp_i32(v1, rq->activation.min, rq->activation.max);
    }
}

/* m3 (issue 12): one requantization for every channel (per-tensor, negative shift: dense
 * layers), its constants prepared once per call; the clamp bounds within int8. */
typedef struct {
    mf_rq1 c;
    int32_t off, lo, hi;
} mf_pt_quant;

static inline int8_t mf_pt_out1(const mf_pt_quant *pq, int32_t acc)
{
    return (int8_t)mf_clamp_i32(mf_rq1_apply(&pq->c, acc) + pq->off, pq->lo, pq->hi);
}

/* One row by four channels (pq: the shared requantization, or NULL). */
static void mf_mat_mult_1x4_s8(const int8_t *x,
                               const int8_t *w,
                               int32_t k,
                               int32_t o,
                               const mf_nn_requant *rq,
                               const mf_pt_quant *pq,
                               int8_t *out)
{
    const int8_t *w1 = w + k;
    const int8_t *w2 = w1 + k;
    const int8_t *w3 = w2 + k;
    int32_t a0 = mf_nn_bias(rq, o);
    int32_t a1 = mf_nn_bias(rq, o + 1);
    int32_t a2 = mf_nn_bias(rq, o + 2);
    int32_t a3 = mf_nn_bias(rq, o + 3);
    int32_t i = 0;
#if !MF_USE_DSP && defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 2
    /* m3 (issue 12), Cortex-M3: eight inputs per pass in inline assembly, the five
     * pointers post-incremented (74 instructions per 32 multiply-accumulates; GCC's loop took 11
     * per 4). */
    if (k >= 4) {
        const int8_t *xp = x, *q0 = w, *q1 = w1, *q2 = w2, *q3 = w3;
        const int8_t *end = x + (k & ~3);
        int32_t xv, t;
#define MF_PT_1X4_STEP                                                                         \
    "ldrsb %[xv], [%[xp]], #1\n\t"                                                              \
    "ldrsb %[t], [%[q0]], #1\n\t"                                                               \
    "mla %[a0], %[xv], %[t], %[a0]\n\t"                                                          \
    "ldrsb %[t], [%[q1]], #1\n\t"                                                               \
    "mla %[a1], %[xv], %[t], %[a1]\n\t"                                                          \
    "ldrsb %[t], [%[q2]], #1\n\t"                                                               \
    "mla %[a2], %[xv], %[t], %[a2]\n\t"                                                          \
    "ldrsb %[t], [%[q3]], #1\n\t"                                                               \
    "mla %[a3], %[xv], %[t], %[a3]\n\t"
        /* An odd number of quads enters the loop at its second half. */
        __asm__ volatile("tst %[k], #4\n\t"
                         "bne 2f\n"
                         "1:\n\t" MF_PT_1X4_STEP MF_PT_1X4_STEP MF_PT_1X4_STEP MF_PT_1X4_STEP
                         "2:\n\t" MF_PT_1X4_STEP MF_PT_1X4_STEP MF_PT_1X4_STEP MF_PT_1X4_STEP
                         "cmp %[xp], %[end]\n\t"
                         "bne 1b\n"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                           [xv] "=&r"(xv), [t] "=&r"(t), [xp] "+r"(xp), [q0] "+r"(q0),
                           [q1] "+r"(q1), [q2] "+r"(q2), [q3] "+r"(q3)
                         : [end] "r"(end), [k] "r"(k)
                         : "cc", "memory");
#undef MF_PT_1X4_STEP
        i = k & ~3;
    }
#endif
    for (; i < k; i++) {
        const int32_t xv = x[i];
        a0 += xv * w[i];
        a1 += xv * w1[i];
        a2 += xv * w2[i];
        a3 += xv * w3[i];
    }
    if (pq != NULL) {
        out[o] = mf_pt_out1(pq, a0);
        out[o + 1] = mf_pt_out1(pq, a1);
        out[o + 2] = mf_pt_out1(pq, a2);
        out[o + 3] = mf_pt_out1(pq, a3);
        return;
    }
    out[o] = mf_nn_requant_out(rq, a0, o);
    out[o + 1] = mf_nn_requant_out(rq, a1, o + 1);
    out[o + 2] = mf_nn_requant_out(rq, a2, o + 2);
    out[o + 3] = mf_nn_requant_out(rq, a3, o + 3);
}

void mf_nn_mat_mult_s8(const int8_t *x0,
                       const int8_t *x1,
                       const int8_t *filter,
                       int32_t k,
                       int32_t n,
                       const mf_nn_requant *rq,
                       int8_t *out)
{
    const mf_nn_requant r = *rq; /* in locals: the output stores alias everything */
    rq = &r;
    int32_t o = 0;
#if MF_PT_PACKED
    /* m3: the convolutions take the packed pairs (mf_nn_mat_mult_pk_s8.c); two rows here (dense
     * with batches) are two one-row passes, whose loop is the faster one on a Cortex-M3, and the
     * two-row loops stay out of the flash. */
    if (x1 != NULL) {
        mf_nn_mat_mult_s8(x1, NULL, filter, k, n, rq, out + n);
        x1 = NULL;
    }
#else
    const int full_range = r.activation.min <= MF_INT8_MIN && r.activation.max >= MF_INT8_MAX;
#endif
    if (x1 == NULL) {
        mf_pt_quant q;
        const mf_pt_quant *pq = NULL;
        if (r.quant_step == 0 && mf_rq1_init(&q.c, r.multiplier[0], r.shift[0])) {
            q.off = r.output_offset;
            q.lo = r.activation.min > MF_INT8_MIN ? r.activation.min : MF_INT8_MIN;
            q.hi = r.activation.max < MF_INT8_MAX ? r.activation.max : MF_INT8_MAX;
            pq = &q;
        }
        for (; o + 4 <= n; o += 4) {
            mf_mat_mult_1x4_s8(x0, filter + (size_t)o * k, k, o, rq, pq, out);
        }
    }
#if !MF_PT_PACKED
    else {
        int8_t *out1 = out + n;
        for (; o + 2 <= n; o += 2) {
            const int8_t *w0 = filter + (size_t)o * k;
            const int8_t *w1 = w0 + k;
            int32_t a00 = mf_nn_bias(rq, o);
            int32_t a01 = mf_nn_bias(rq, o + 1);
            int32_t a10 = a00;
            int32_t a11 = a01;
            int32_t i = 0;
            for (; i + 2 <= k; i += 2) {
                const int32_t p0 = x0[i], p1 = x1[i], q0 = w0[i], q1 = w1[i];
                a00 += p0 * q0;
                a01 += p0 * q1;
                a10 += p1 * q0;
                a11 += p1 * q1;
                const int32_t r0 = x0[i + 1], r1 = x1[i + 1], s0 = w0[i + 1], s1 = w1[i + 1];
                a00 += r0 * s0;
                a01 += r0 * s1;
                a10 += r1 * s0;
                a11 += r1 * s1;
            }
            if (i < k) {
                a00 += x0[i] * w0[i];
                a01 += x0[i] * w1[i];
                a10 += x1[i] * w0[i];
                a11 += x1[i] * w1[i];
            }
            mf_pt_requant2(rq, o, a00, a10, out + o, out1 + o, full_range);
            mf_pt_requant2(rq, o + 1, a01, a11, out + o + 1, out1 + o + 1, full_range);
        }
        if (o < n) { /* the last odd channel, both rows */
            const int8_t *w0 = filter + (size_t)o * k;
            int32_t a0 = mf_nn_bias(rq, o);
            int32_t a1 = a0;
            for (int32_t i = 0; i < k; i++) {
                a0 += x0[i] * w0[i];
                a1 += x1[i] * w0[i];
            }
            out[o] = mf_nn_requant_out(rq, a0, o);
            out1[o] = mf_nn_requant_out(rq, a1, o);
            o++;
        }
    }
#endif
    for (; o < n; o++) { /* one row: the last n % 4 channels */
        const int8_t *w0 = filter + (size_t)o * k;
        int32_t a0 = mf_nn_bias(rq, o);
        for (int32_t i = 0; i < k; i++) {
            a0 += x0[i] * w0[i];
        }
        out[o] = mf_nn_requant_out(rq, a0, o);
    }
}

#endif /* MF_USE_MVE */
