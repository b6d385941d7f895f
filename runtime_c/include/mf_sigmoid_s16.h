/*
 * mf_sigmoid_s16.h - the body of TFLite's int16 Logistic and Tanh, shared by mf_logistic_s16 and
 * mf_tanh_s16. Internal; not part of the public API.
 *
 * The input is scaled to the table's 1 / (3 * 4096) by (x * input_multiplier + round) >>
 * input_left_shift; |x| is interpolated in the 256-entry sigmoid(i / 24) table (unsigned Q0.16)
 * on 9 fraction bits for the sigmoid, on 8 for tanh (tanh(x) = 2 sigmoid(2x) - 1); beyond the
 * table it saturates; the sign is folded back (sigmoid(-x) = 1 - sigmoid(x), tanh odd) and the
 * result rounded to Q0.15.
 */
#ifndef MF_SIGMOID_S16_H
#define MF_SIGMOID_S16_H

#include "mf_s16.h"

/* `tanh` is a constant in each caller, so the branches on it fold away. */
static inline mf_status mf_sigmoid_table_s16(const mf_int16_activation_params *activation_params,
                                             int32_t size,
                                             const uint16_t *sigmoid_table,
                                             const int16_t *input,
                                             int16_t *output,
                                             int tanh)
{
    const mf_int16_activation_params p = *activation_params; /* locals: may run in place */
    if (size < 0 || p.input_multiplier < 0 || p.input_left_shift < 0 || p.input_left_shift > 31) {
        return MF_ARG_ERROR;
    }
    const int32_t frac = tanh ? 8 : 9;
    const int32_t round = p.input_left_shift > 0 ? (int32_t)1 << (p.input_left_shift - 1) : 0;
    for (int32_t i = 0; i < size; i++) {
        const int32_t v = (input[i] * p.input_multiplier + round) >> p.input_left_shift;
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        const uint32_t uh = a >> frac;
        int32_t r; /* the table's value at |x|, Q0.16 with `frac` more fraction bits */
        if (uh >= 255) {
            r = tanh ? (int32_t)(0xFFFFu << 8) : (int32_t)(0x7FFFu << 10);
        } else {
            const uint32_t ua = sigmoid_table[uh];
            const uint32_t ub = sigmoid_table[uh + 1];
            r = (int32_t)((ua << frac) + (a & ((1u << frac) - 1)) * (ub - ua));
        }
        if (tanh) {
            r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
            output[i] = (int16_t)(r >> 8);
        } else {
            r = v >= 0 ? r + (1 << 9) : (1 << 25) - r + (1 << 9) - 1;
            output[i] = (int16_t)(r >> 10);
        }
    }
    return MF_OK;
}

#endif /* MF_SIGMOID_S16_H */
