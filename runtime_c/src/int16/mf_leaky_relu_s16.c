/*
 * mf_leaky_relu_s16 - int16 LEAKY_RELU and int16 RELU / RELU6 / RELU_N1_TO_1 / clamps, as
 * TFLite Micro's QuantizeLeakyRelu<int16_t> and ReluQuantized<int16_t>: x - zero point,
 * requantized with the identity multiplier where it is >= 0 and with the alpha multiplier where
 * it is negative (a clamp has both equal), plus the output zero point, clamped to the
 * activation range (int16's for LEAKY_RELU, the clamp's bounds for RELU-like ops). The
 * parameters are PReLU's; alpha_offset is unused (the slope is a constant).
 */
#include "mf_s16.h"

mf_status mf_leaky_relu_s16(const mf_prelu_params *leaky_relu_params,
                            int32_t size,
                            const int16_t *input,
                            int16_t *output)
{
    const mf_prelu_params p = *leaky_relu_params; /* locals: the output may alias them */
    if (size < 0 || !mf_activation_valid_s16(&p.activation) || p.identity_shift > 15 ||
        p.alpha_shift > 15 || p.identity_multiplier < 0 || p.alpha_multiplier < 0) {
        return MF_ARG_ERROR; /* shifts <= 15: |x - zero point| < 2^16 never wraps */
    }
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = input[i] - p.input_offset;
        const int32_t v = x >= 0 ? mf_requantize(x, p.identity_multiplier, p.identity_shift)
                                 : mf_requantize(x, p.alpha_multiplier, p.alpha_shift);
        output[i] = (int16_t)mf_clamp_i32(v + p.output_offset, p.activation.min, p.activation.max);
    }
    return MF_OK;
}
