/*
 * mf_tanh_s16 - int16 hyperbolic tangent (TFLite's int16 Tanh), tanh(x) = 2 sigmoid(2x) - 1 on
 * the sigmoid table of mf_logistic_s16 (mf_sigmoid_s16.h); output Q0.15. May run in place.
 */
#include "mf_sigmoid_s16.h"

mf_status mf_tanh_s16(const mf_int16_activation_params *activation_params,
                      int32_t size,
                      const uint16_t *sigmoid_table,
                      const int16_t *input,
                      int16_t *output)
{
    return mf_sigmoid_table_s16(activation_params, size, sigmoid_table, input, output, 1);
}
