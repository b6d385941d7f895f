/*
 * mf_tanh_s16 - int16 hyperbolic tangent (TFLite's int16 Tanh): tanh(x) = 2 sigmoid(2x) - 1,
 * so the sigmoid table of mf_logistic_s16 is interpolated on 8 fraction bits of the scaled
 * |x|, recentred and the sign folded back; output Q0.15. May run in place.
 */
#include "mf_s16.h"

mf_status mf_tanh_s16(const mf_int16_activation_params *activation_params,
                      int32_t size,
                      const uint16_t *sigmoid_table,
                      const int16_t *input,
                      int16_t *output)
{
    const mf_int16_activation_params p = *activation_params;
    if (size < 0 || p.input_multiplier < 0 || p.input_left_shift < 0 || p.input_left_shift > 31) {
        return MF_ARG_ERROR;
    }
    const int32_t round = p.input_left_shift > 0 ? (int32_t)1 << (p.input_left_shift - 1) : 0;
    for (int32_t i = 0; i < size; i++) {
        const int32_t v = (input[i] * p.input_multiplier + round) >> p.input_left_shift;
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t uh = a >> 8;
        int32_t r;
        if (uh >= 255) {
            r = (int32_t)(0xFFFFu << 8);
        } else {
            const uint32_t ua = sigmoid_table[uh];
            const uint32_t ub = sigmoid_table[uh + 1];
            r = (int32_t)((ua << 8) + (a & 0xFF) * (ub - ua));
        }
        r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(r >> 8);
    }
    return MF_OK;
}
