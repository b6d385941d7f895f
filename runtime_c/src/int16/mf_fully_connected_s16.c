/*
 * mf_fully_connected_s16 - dense layer of int16 activations with int8 weights (TFLite Micro's
 * 16x8 FullyConnected): int64 sums of x * w (mf_dot_s16_s8: SMLAD on the DSP path), plus the
 * int64 bias, requantized with the int64 MultiplyByQuantizedMultiplier per tensor or per
 * output channel. Weights are symmetric
 * (filter_offset 0) and the input zero point is 0.
 */
#include "mf_s16.h"

#include <stddef.h>

int32_t mf_fully_connected_s16_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_s16(const mf_context *ctx,
                                 const mf_fc_params *fc_params,
                                 const mf_per_channel_quant_params *quant_params,
                                 int32_t batches,
                                 int32_t accum_depth,
                                 int32_t output_depth,
                                 const int16_t *input,
                                 const int8_t *filter,
                                 const int64_t *bias,
                                 int16_t *output)
{
    const mf_fc_params *p = fc_params;
    (void)ctx;
    if (p->input_offset != 0 || p->filter_offset != 0 || batches < 1 || accum_depth < 1 ||
        output_depth < 1 || !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    for (int32_t b = 0; b < batches; b++) {
        mf_channels_s16(input + (size_t)b * accum_depth, accum_depth, filter, output_depth, bias,
                        quant_params, p->per_channel, p->output_offset, &p->activation,
                        output + (size_t)b * output_depth);
    }
    return MF_OK;
}
