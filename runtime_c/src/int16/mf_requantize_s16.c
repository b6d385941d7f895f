/*
 * mf_requantize_s16 - QUANTIZE between integer encodings where one side is int16 (int8 -> int16,
 * int16 -> int8, int16 -> int16), as TFLite Micro's Requantize: (x - input zero point)
 * scaled by input_scale / output_scale with the 32-bit MultiplyByQuantizedMultiplier, output
 * zero point added, saturated to the output type. input_bits / output_bits (8 or 16) give the
 * element types of input and output; int8 -> int8 requantization is a lookup table instead.
 */
#include "mf_s16.h"

/* The loop for one pair of types; in_bits and out_bits are constants at each call, so each
 * pair gets its own loop with no per-element type branches. mf_requantize_fast equals TFLite's
 * MultiplyByQuantizedMultiplier for the multipliers in [0, 2^31) the host gives. */
static inline void mf_requantize_loop(const mf_requantize_params *p,
                                      int32_t size,
                                      const void *input,
                                      void *output,
                                      int32_t in_bits,
                                      int32_t out_bits)
{
    const int32_t lo = out_bits == 8 ? MF_INT8_MIN : MF_INT16_MIN;
    const int32_t hi = out_bits == 8 ? MF_INT8_MAX : MF_INT16_MAX;
    for (int32_t i = 0; i < size; i++) {
        const int32_t x =
            (in_bits == 8 ? ((const int8_t *)input)[i] : ((const int16_t *)input)[i]) + p->input_offset;
        const int32_t v =
            mf_clamp_i32(mf_requantize_fast(x, p->multiplier, p->shift) + p->output_offset, lo, hi);
        if (out_bits == 8) {
            ((int8_t *)output)[i] = (int8_t)v;
        } else {
            ((int16_t *)output)[i] = (int16_t)v;
        }
    }
}

mf_status mf_requantize_s16(const mf_requantize_params *requantize_params,
                            int32_t size,
                            const void *input,
                            void *output)
{
    const mf_requantize_params p = *requantize_params; /* locals: the output may alias them */
    if (size < 0 || (p.input_bits != 8 && p.input_bits != 16) ||
        (p.output_bits != 8 && p.output_bits != 16) || p.multiplier < 0 || p.shift < -31 ||
        p.shift > 31) {
        return MF_ARG_ERROR;
    }
    if (p.input_bits == 8 && p.output_bits == 8) {
        mf_requantize_loop(&p, size, input, output, 8, 8);
    } else if (p.input_bits == 8) {
        mf_requantize_loop(&p, size, input, output, 8, 16);
    } else if (p.output_bits == 8) {
        mf_requantize_loop(&p, size, input, output, 16, 8);
    } else {
        mf_requantize_loop(&p, size, input, output, 16, 16);
    }
    return MF_OK;
}
