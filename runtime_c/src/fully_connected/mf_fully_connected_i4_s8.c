/*
 * mf_fully_connected_i4_s8 - mf_fully_connected_s8 (symmetric weights) with the filter in the
 * i4 layout (m4pw, issue 12; mf_internal.h): each batch row by four output channels per pass
 * straight from its int8 inputs (mf_nn_i4_s8.c), no scratch.
 */
#include "mf_internal.h"

int32_t mf_fully_connected_i4_s8_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_i4_s8(const mf_context *ctx,
                                   const mf_fc_params *fc_params,
                                   const mf_per_channel_quant_params *quant_params,
                                   int32_t batches,
                                   int32_t accum_depth,
                                   int32_t output_depth,
                                   const int8_t *input,
                                   const int32_t *filter,
                                   const int32_t *bias,
                                   int8_t *output)
{
    const mf_fc_params *p = fc_params;
    (void)ctx;
    if (batches < 0 || accum_depth < 1 || output_depth < 1 || p->filter_offset != 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const mf_nn_requant rq = {bias,
                              quant_params->multiplier,
                              quant_params->shift,
                              p->per_channel ? 1 : 0,
                              p->output_offset,
                              p->activation};
    mf_nn_i4_rows_s8(input, batches, filter, accum_depth, output_depth, &rq, output);
    return MF_OK;
}
