/*
 * mf_requantize_s16 - QUANTIZE between integer encodings where one side is int16 (int8 -> int16,
 * int16 -> int8, int16 -> int16), as TFLite Micro's Requantize: (x - input zero point)
 * scaled by input_scale / output_scale with the 32-bit MultiplyByQuantizedMultiplier, output
 * zero point added, saturated to the output type. input_bits / output_bits (8 or 16) give the
 * element types of input and output; int8 -> int8 requantization is a lookup table instead.
 */
#include "mf_s16.h"

mf_status mf_requantize_s16(const mf_requantize_params *requantize_params,
                            int32_t size,
                            const void *input,
                            void *output)
{
    const mf_requantize_params p = *requantize_params;
    if (size < 0 || (p.input_bits != 8 && p.input_bits != 16) ||
        (p.output_bits != 8 && p.output_bits != 16) || p.multiplier < 0) {
        return MF_ARG_ERROR;
    }
    const int32_t lo = p.output_bits == 8 ? MF_INT8_MIN : MF_INT16_MIN;
    const int32_t hi = p.output_bits == 8 ? MF_INT8_MAX : MF_INT16_MAX;
    const int8_t *in8 = (const int8_t *)input;
    const int16_t *in16 = (const int16_t *)input;
    int8_t *out8 = (int8_t *)output;
    int16_t *out16 = (int16_t *)output;
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = (p.input_bits == 8 ? in8[i] : in16[i]) + p.input_offset;
        const int32_t v = mf_clamp_i32(mf_requantize(x, p.multiplier, p.shift) + p.output_offset, lo, hi);
        if (p.output_bits == 8) {
            out8[i] = (int8_t)v;
        } else {
            out16[i] = (int16_t)v;
        }
    }
    return MF_OK;
}
