/*
 * mf_s16.h - helpers of the int16-activation kernels (TFLite's 16x8 mode: int16 activations,
 * symmetric with zero point 0, int8 weights, int64 biases). Internal; not part of the public API.
 */
#ifndef MF_S16_H
#define MF_S16_H

#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve.h"
#endif

#define MF_INT16_MIN (-32768)
#define MF_INT16_MAX 32767

/* A clamp range within int16. */
static inline int mf_activation_valid_s16(const mf_activation *act)
{
    return act->min >= MF_INT16_MIN && act->max <= MF_INT16_MAX && act->min <= act->max;
}

/* ADD / SUB parameters of the int16 kernels: left_shift up to 15 (TFLite's int16 headroom),
 * multipliers below 1, an int16 clamp range. */
static inline int mf_add_params_valid_s16(const mf_add_params *p)
{
    return p->left_shift >= 0 && p->left_shift <= 15 && p->input1_shift <= 0 &&
           p->input2_shift <= 0 && p->output_shift <= 0 && mf_activation_valid_s16(&p->activation);
}

/* TFLite's MultiplyByQuantizedMultiplier for int64 accumulators (its 16x8 kernels): the Q31
 * multiplier is first rounded to Q15 (saturating at 0x7FFF), then one rounding-up right shift
 * by 15 - shift. The host keeps shift in [-31, 7], so the shift is in [8, 46]. */
static inline int64_t mf_requantize_s64(int64_t acc, int32_t multiplier, int32_t shift)
{
    assert(multiplier >= 0 && shift >= -31 && shift < 8);
    const int64_t reduced =
        multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total = 15 - shift;
    /* >> of a negative value is implementation-defined in C99; every target shifts arithmetically,
     * as TFLite assumes. */
    return (acc * reduced + ((int64_t)1 << (total - 1))) >> total;
}

/* sum x[i] * w[i] for i < n, int16 activations times int8 weights, exactly (int64). Partial
 * sums run in int32 over at most 256 products (each at most 2^22 in magnitude), then widen.
 * The DSP path (Cortex-M4/M7/M33) multiplies two pairs per SMLAD: the weights of four bytes
 * split by SXTB16 into (w0, w2) and (w1, w3), the inputs repacked (PKHBT/PKHTB) to match. */
static inline int64_t mf_dot_s16_s8(const int16_t *x, const int8_t *w, int32_t n)
{
    int64_t acc = 0;
    int32_t i = 0;
#if MF_USE_MVE
    /* Helium (seq-more): eight products per VMLALDAVA into the int64 sum, the weights widened by
     * the load (VLDRB.S16), the last n % 8 lanes masked by VCTP16 (zeroing loads). */
    for (; i < n; i += 8) {
        const mve_pred16_t p = vctp16q((uint32_t)(n - i));
        acc = vmlaldavaq_s16(acc, vldrhq_z_s16(x + i, p), vldrbq_z_s16(w + i, p));
    }
    return acc;
#elif MF_USE_DSP
    while (n - i >= 4) {
        const int32_t end = i + mf_min_i32((n - i) & ~3, 256);
        int32_t sum = 0;
        for (; i < end; i += 4) {
            const uint32_t x01 = mf_read_u32(x + i);
            const uint32_t x23 = mf_read_u32(x + i + 2);
            const uint32_t w4 = mf_read_u32(w + i);
            const uint32_t x02 = (x01 & 0xFFFFu) | (x23 << 16);
            const uint32_t x13 = (x01 >> 16) | (x23 & 0xFFFF0000u);
            sum = mf_smlad(x02, mf_sxtb16(w4), sum);
            sum = mf_smlad(x13, mf_sxtb16_ror8(w4), sum);
        }
        acc += sum;
    }
#endif
    while (i < n) {
        const int32_t end = i + mf_min_i32(n - i, 256);
        int32_t sum = 0;
        for (; i < end; i++) {
            sum += (int32_t)x[i] * w[i];
        }
        acc += sum;
    }
    return acc;
}

/* mf_dot_s16_s8 for two weight rows at once (two output channels): each input word is loaded
 * and repacked once for both. */
static inline void mf_dot2_s16_s8(const int16_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                                  int64_t *acc0, int64_t *acc1)
{
    int64_t a0 = 0;
    int64_t a1 = 0;
    int32_t i = 0;
#if MF_USE_MVE
    for (; i < n; i += 8) { /* as mf_dot_s16_s8, one input load for both rows (seq-more) */
        const mve_pred16_t p = vctp16q((uint32_t)(n - i));
        const int16x8_t xv = vldrhq_z_s16(x + i, p);
        a0 = vmlaldavaq_s16(a0, xv, vldrbq_z_s16(w0 + i, p));
        a1 = vmlaldavaq_s16(a1, xv, vldrbq_z_s16(w1 + i, p));
    }
#elif MF_USE_DSP
    while (n - i >= 4) {
        const int32_t end = i + mf_min_i32((n - i) & ~3, 256);
        int32_t s0 = 0;
        int32_t s1 = 0;
        for (; i < end; i += 4) {
            const uint32_t x01 = mf_read_u32(x + i);
            const uint32_t x23 = mf_read_u32(x + i + 2);
            const uint32_t x02 = (x01 & 0xFFFFu) | (x23 << 16);
            const uint32_t x13 = (x01 >> 16) | (x23 & 0xFFFF0000u);
            const uint32_t u = mf_read_u32(w0 + i);
            const uint32_t v = mf_read_u32(w1 + i);
            s0 = mf_smlad(x02, mf_sxtb16(u), s0);
            s0 = mf_smlad(x13, mf_sxtb16_ror8(u), s0);
            s1 = mf_smlad(x02, mf_sxtb16(v), s1);
            s1 = mf_smlad(x13, mf_sxtb16_ror8(v), s1);
        }
        a0 += s0;
        a1 += s1;
    }
#endif
    while (i < n) {
        const int32_t end = i + mf_min_i32(n - i, 256);
        int32_t s0 = 0;
        int32_t s1 = 0;
        for (; i < end; i++) {
            s0 += (int32_t)x[i] * w0[i];
            s1 += (int32_t)x[i] * w1[i];
        }
        a0 += s0;
        a1 += s1;
    }
    *acc0 = a0;
    *acc1 = a1;
}

#if MF_USE_MVE
/* mf_dot_s16_s8 for four weight rows at once (four output channels, rows of n at w): one input
 * load per four VMLALDAVAs (seq-more). */
static inline void mf_dot4_s16_s8(const int16_t *x, const int8_t *w, int32_t n, int64_t *acc)
{
    const int8_t *w1 = w + n;
    const int8_t *w2 = w1 + n;
    const int8_t *w3 = w2 + n;
    int64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t i = 0; i < n; i += 8) {
        const mve_pred16_t p = vctp16q((uint32_t)(n - i));
        const int16x8_t xv = vldrhq_z_s16(x + i, p);
        a0 = vmlaldavaq_s16(a0, xv, vldrbq_z_s16(w + i, p));
        a1 = vmlaldavaq_s16(a1, xv, vldrbq_z_s16(w1 + i, p));
        a2 = vmlaldavaq_s16(a2, xv, vldrbq_z_s16(w2 + i, p));
        a3 = vmlaldavaq_s16(a3, xv, vldrbq_z_s16(w3 + i, p));
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* mf_requantize_s64_to_s16 of four accumulators (channels k..k+3 of q, or entry 0 for all when
 * !per_channel) in one vector when every accumulator fits in int32 and every shift is <= -2;
 * returns 0 (nothing written) otherwise, for the scalar code to do it. With P = acc * reduced,
 * VMULH by reduced * 2^16 gives floor(P / 2^16) exactly, and VRSHL's round-half-up shift by
 * n = total - 16 >= 1 then gives floor((P + 2^(total-1)) / 2^total), TFLite's result: adding the
 * integer 2^(n-1) before flooring commutes with the first floor (seq-more). */
static inline int mf_requantize4_s16_mve(const int64_t *acc,
                                         const mf_per_channel_quant_params *q,
                                         int32_t k,
                                         int per_channel,
                                         int32_t output_offset,
                                         const mf_activation *act,
                                         int16_t *out)
{
    int32x4_t m;
    int32x4_t shift;
    if (per_channel) {
        m = vldrwq_s32(q->multiplier + k);
        shift = vldrwq_s32(q->shift + k);
    } else {
        m = vdupq_n_s32(q->multiplier[0]);
        shift = vdupq_n_s32(q->shift[0]);
    }
    if (vmaxvq_s32(INT32_MIN, shift) > -2) {
        return 0;
    }
    int32x4_t x = vdupq_n_s32(0);
    for (int32_t r = 0; r < 4; r++) {
        if ((uint64_t)(acc[r] + ((int64_t)1 << 31)) >> 32 != 0) {
            return 0;
        }
    }
    x = vsetq_lane_s32((int32_t)acc[0], x, 0);
    x = vsetq_lane_s32((int32_t)acc[1], x, 1);
    x = vsetq_lane_s32((int32_t)acc[2], x, 2);
    x = vsetq_lane_s32((int32_t)acc[3], x, 3);
    /* reduced = m < 0x7FFF0000 ? (m + 2^15) >> 16 : 0x7FFF (m >= 0), times 2^16 */
    const int32x4_t reduced = vpselq_s32(vdupq_n_s32(0x7FFF), vshrq_n_s32(vaddq_n_s32(m, 1 << 15), 16),
                                         vcmpgeq_n_s32(m, 0x7FFF0000));
    int32x4_t v = vmulhq_s32(x, vshlq_n_s32(reduced, 16));
    v = vrshlq_s32(v, vaddq_n_s32(shift, 1)); /* right by total - 16 = -(shift + 1) */
    v = vaddq_n_s32(v, output_offset);
    v = vmaxq_s32(vminq_s32(v, vdupq_n_s32(act->max)), vdupq_n_s32(act->min));
    vstrhq_s32(out, v);
    return 1;
}
#endif

/* Requantize an int64 accumulator, add the output zero point, clamp to the activation range. */
static inline int16_t mf_requantize_s64_to_s16(int64_t acc,
                                               int32_t multiplier,
                                               int32_t shift,
                                               int32_t output_offset,
                                               const mf_activation *act)
{
    int64_t v = mf_requantize_s64(acc, multiplier, shift) + output_offset;
    v = v < act->min ? act->min : (v > act->max ? act->max : v);
    return (int16_t)v;
}

/* TFLite's int16 table lookup with interpolation: 513-entry table, index 256 + (v >> 7), the
 * low 7 bits interpolating to the next entry (rounded), int16 wrap as the reference has it. */
static inline int16_t mf_lut_lookup_s16(int32_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t base = lut[index];
    const int32_t slope = (int16_t)(lut[index + 1] - base);
    return (int16_t)(base + ((slope * (value & 0x7F) + 64) >> 7));
}

/* One input vector of `depth` values against `channels` filter rows (row o at filter + o * depth):
 * the int64 sums plus bias, requantized (per channel, or with entry 0 when !per_channel), written
 * to out[0..channels). Channels go in pairs through mf_dot2_s16_s8. */
static inline void mf_channels_s16(const int16_t *x,
                                   int32_t depth,
                                   const int8_t *filter,
                                   int32_t channels,
                                   const int64_t *bias,
                                   const mf_per_channel_quant_params *q,
                                   int per_channel,
                                   int32_t output_offset,
                                   const mf_activation *act,
                                   int16_t *out)
{
    int32_t o = 0;
#if MF_USE_MVE
    for (; o + 4 <= channels; o += 4) { /* four channels per pass (seq-more) */
        int64_t a[4];
        mf_dot4_s16_s8(x, filter + (size_t)o * depth, depth, a);
        for (int32_t r = 0; r < 4; r++) {
            a[r] += bias != NULL ? bias[o + r] : 0;
        }
        if (mf_requantize4_s16_mve(a, q, o, per_channel, output_offset, act, out + o)) {
            continue;
        }
        for (int32_t r = 0; r < 4; r++) {
            const int32_t k = per_channel ? o + r : 0;
            out[o + r] = mf_requantize_s64_to_s16(a[r], q->multiplier[k], q->shift[k], output_offset, act);
        }
    }
#endif
    for (; o + 1 < channels; o += 2) {
        int64_t a0;
        int64_t a1;
        mf_dot2_s16_s8(x, filter + (size_t)o * depth, filter + (size_t)(o + 1) * depth, depth, &a0,
                       &a1);
        const int32_t k0 = per_channel ? o : 0;
        const int32_t k1 = per_channel ? o + 1 : 0;
        out[o] = mf_requantize_s64_to_s16(a0 + (bias != NULL ? bias[o] : 0), q->multiplier[k0],
                                          q->shift[k0], output_offset, act);
        out[o + 1] = mf_requantize_s64_to_s16(a1 + (bias != NULL ? bias[o + 1] : 0),
                                              q->multiplier[k1], q->shift[k1], output_offset, act);
    }
    if (o < channels) {
        const int32_t k = per_channel ? o : 0;
        const int64_t a = mf_dot_s16_s8(x, filter + (size_t)o * depth, depth);
        out[o] = mf_requantize_s64_to_s16(a + (bias != NULL ? bias[o] : 0), q->multiplier[k],
                                          q->shift[k], output_offset, act);
    }
}

#endif /* MF_S16_H */
