/*
 * mf_logistic_s16 - int16 sigmoid (TFLite's int16 Logistic): the input scaled to the table's
 * 1 / (3 * 4096) by (x * input_multiplier + round) >> input_left_shift, |x| interpolated in
 * the 256-entry sigmoid(i / 24) table (unsigned Q0.16) on 9 fraction bits, the sign folded
 * back (sigmoid(-x) = 1 - sigmoid(x)), output Q0.15. May run in place.
 */
#include "mf_s16.h"

mf_status mf_logistic_s16(const mf_int16_activation_params *activation_params,
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
        const uint32_t uh = a >> 9;
        uint32_t r;
        if (uh >= 255) {
            r = 0x7FFFu << 10;
        } else {
            const uint32_t ua = sigmoid_table[uh];
            const uint32_t ub = sigmoid_table[uh + 1];
            r = (ua << 9) + (a & 0x1FF) * (ub - ua);
        }
        r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
        output[i] = (int16_t)(r >> 10);
    }
    return MF_OK;
}
