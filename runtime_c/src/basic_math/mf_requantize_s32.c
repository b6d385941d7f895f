/*
 * mf_requantize_s32 - QUANTIZE from int8 or int16 to int32, as TFLite Micro's Requantize with an
 * int32 output (kernels/quantize_common.cc, the int8 -> int32 and int16 -> int32 cases): the
 * input minus its zero point, scaled by input_scale / output_scale with TFLite's 32-bit
 * MultiplyByQuantizedMultiplier, plus the output zero point. TFLite Micro's keyword_scrambled_8bit
 * ends with one (its int16 softmax to an int32 output). The sum with the zero point is formed
 * in 64 bits and saturated to int32, where TFLite's int32 sum would overflow. input_bits (8 or
 * 16) gives the input's element type; output_bits must be 32.
 */
#include "mf_internal.h"

mf_status mf_requantize_s32(const mf_requantize_params *requantize_params,
                            int32_t size,
                            const void *input,
                            int32_t *output)
{
    const mf_requantize_params p = *requantize_params;
    if (size < 0 || (p.input_bits != 8 && p.input_bits != 16) || p.output_bits != 32 ||
        p.multiplier < 0 || p.shift < -31 || p.shift > 31) {
        return MF_ARG_ERROR;
    }
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = (p.input_bits == 8 ? (int32_t)((const int8_t *)input)[i]
                                              : (int32_t)((const int16_t *)input)[i]) + p.input_offset;
        const int64_t v = (int64_t)mf_requantize(x, p.multiplier, p.shift) + (int64_t)p.output_offset;
        output[i] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
    }
    return MF_OK;
}
