/*
 * mf_mve_nn.h - Helium (MVE) helpers shared by the int8 kernels' MVE paths: requantization of
 * four int32 accumulators at once, bit-exact with TFLite Micro's double-rounding
 * MultiplyByQuantizedMultiplier (mf_requantize in mf_internal.h), and its per-channel loads.
 * Included by kernel files inside `#if MF_USE_MVE`; the intrinsics come from mf_mve.h (the
 * real ones on a Cortex-M55, the C emulation on the host with MF_EMULATE_MVE).
 *
 * Requantization of one lane, shift s split into left = max(s, 0) and right = min(s, 0):
 *   x = VQRDMULH(acc << left, multiplier)       gemmlowp's SaturatingRoundingDoublingHighMul:
 *                                               (2ab + 2^31) >> 32 floors exactly where
 *                                               gemmlowp's nudge-and-truncate does, and
 *                                               saturates the same single case;
 *   x = x - 1 where x < 0 and right < 0         (sign of x & right, a VAND and a VSHR #31)
 *   x = VRSHL(x, right)                         rounding half up of the decremented value =
 *                                               RoundingDivideByPOT's half away from zero.
 * The decrement is saturating (VQADD), so x = INT32_MIN stays INT32_MIN, whose half-up
 * rounding is the same as half away from zero's for every right shift in [1, 31].
 */
#ifndef MF_MVE_NN_H
#define MF_MVE_NN_H

#include "mf_internal.h"

#if MF_USE_MVE

/* Hand-scheduled Helium assembly (tail-predicated loops) on the target; the intrinsic C twins on
 * the host emulation and in unoptimized builds. */
#if !defined(MF_EMULATE_MVE) && defined(__OPTIMIZE__)
#define MF_MVE_ASM 1
#else
#define MF_MVE_ASM 0
#endif

/* Helpers called with constant flags (tail group or not, gather or not, tap masks) are forced
 * inline on the target, so that each call site is compiled for its flags without tests in the
 * tap loops; the host emulation keeps them out of line (compile time: every emulated intrinsic
 * is a loop, and the sanitizer build of the inlined copies takes minutes). */
#if defined(__GNUC__) && !defined(MF_EMULATE_MVE)
#define MF_MVE_INLINE inline __attribute__((always_inline))
#elif defined(__GNUC__)
#define MF_MVE_INLINE __attribute__((noinline))
#else
#define MF_MVE_INLINE inline
#endif

/* dst[0..n) = src[0..n), 16 bytes per VLDRB/VSTRB pair, the last under a tail predicate
 * (a WLSTP/LETP loop on the target). */
static inline void mf_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
#if MF_MVE_ASM
    __asm__ volatile("wlstp.8 lr, %[n], 2f\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[s]], #16\n\t"
                     "vstrb.8 q0, [%[d]], #16\n\t"
                     "letp lr, 1b\n"
                     "2:\n"
                     : [d] "+r"(dst), [s] "+r"(src)
                     : [n] "r"(n)
                     : "q0", "lr", "memory");
#else
    for (int32_t i = 0; i < n; i += 16) {
        const mve_pred16_t m = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(dst + i, vldrbq_z_s8(src + i, m), m);
    }
#endif
}

/* dst[0..n) = v (16 copies of the byte in a vector). */
static inline void mf_mve_fill(int8_t *dst, int8x16_t v, int32_t n)
{
#if MF_MVE_ASM
    __asm__ volatile("wlstp.8 lr, %[n], 2f\n"
                     "1:\n\t"
                     "vstrb.8 %q[v], [%[d]], #16\n\t"
                     "letp lr, 1b\n"
                     "2:\n"
                     : [d] "+r"(dst)
                     : [n] "r"(n), [v] "w"(v)
                     : "lr", "memory");
#else
    for (int32_t i = 0; i < n; i += 16) {
        vstrbq_p_s8(dst + i, v, vctp8q((uint32_t)(n - i)));
    }
#endif
}

/* acc * multiplier * 2^shift per lane, rounded as TFLite Micro does (see above). */
static inline int32x4_t mf_mve_requantize(int32x4_t acc, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(shift, zero);
    int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, vmaxq_s32(shift, zero)), multiplier);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31));
    return vrshlq_s32(x, right);
}

/* The same with one multiplier and shift for every lane. */
static inline int32x4_t mf_mve_requantize_n(int32x4_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t right = shift < 0 ? shift : 0;
    int32x4_t x = vqrdmulhq_n_s32(vshlq_r_s32(acc, shift > 0 ? shift : 0), multiplier);
    if (right < 0) {
        x = vqaddq_s32(x, vshrq_n_s32(x, 31));
        x = vrshlq_n_s32(x, right);
    }
    return x;
}

/* Output offset added, clamped to [lo, hi] (the activation, inside int8). */
static inline int32x4_t mf_mve_offset_clamp(int32x4_t x, int32_t offset, int32_t lo, int32_t hi)
{
    x = vaddq_n_s32(x, offset);
    return vminq_s32(vmaxq_s32(x, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}

/* Four consecutive per-channel values from o (step 1), or the per-tensor one (step 0); lanes
 * past `p` are not read. */
static inline int32x4_t mf_mve_quant4(const int32_t *v, int32_t o, int32_t step, mve_pred16_t p)
{
    return step != 0 ? vldrwq_z_s32(v + o, p) : vdupq_n_s32(v[0]);
}

/* Requantize the accumulators of channels o..o+3 (bias not included) and store the lanes
 * active in `p` as int8 at out[0..3]. */
static inline void mf_mve_requant_store4(const mf_nn_requant *rq,
                                         int32x4_t acc,
                                         int32_t o,
                                         mve_pred16_t p,
                                         int8_t *out)
{
    const int32x4_t m = mf_mve_quant4(rq->multiplier, o, rq->quant_step, p);
    const int32x4_t s = mf_mve_quant4(rq->shift, o, rq->quant_step, p);
    const int32x4_t v = mf_mve_offset_clamp(
        mf_mve_requantize(acc, m, s), rq->output_offset, rq->activation.min, rq->activation.max);
    vstrbq_p_s32(out, v, p);
}

/* The bias of channels o..o+3 (0 without a bias); lanes past `p` read as 0. */
static inline int32x4_t mf_mve_bias4(const int32_t *bias, int32_t o, mve_pred16_t p)
{
    return bias != NULL ? vldrwq_z_s32(bias + o, p) : vdupq_n_s32(0);
}

/* The vector (a0, a1, a2, a3). */
static inline int32x4_t mf_mve_set4(int32_t a0, int32_t a1, int32_t a2, int32_t a3)
{
    int32x4_t v = vdupq_n_s32(a0);
    v = vsetq_lane_s32(a1, v, 1);
    v = vsetq_lane_s32(a2, v, 2);
    return vsetq_lane_s32(a3, v, 3);
}

#endif /* MF_USE_MVE */

#endif /* MF_MVE_NN_H */
