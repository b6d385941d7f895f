/*
 * mf_s16.h - helpers of the int16-activation kernels (TFLite's 16x8 mode: int16 activations,
 * symmetric with zero point 0, int8 weights, int64 biases). Internal; not part of the public API.
 */
#ifndef MF_S16_H
#define MF_S16_H

#include "mf_internal.h"

#define MF_INT16_MIN (-32768)
#define MF_INT16_MAX 32767

/* A clamp range within int16. */
static inline int mf_activation_valid_s16(const mf_activation *act)
{
    return act->min >= MF_INT16_MIN && act->max <= MF_INT16_MAX && act->min <= act->max;
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

#endif /* MF_S16_H */
