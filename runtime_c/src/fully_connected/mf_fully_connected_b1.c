/*
 * mf_fully_connected_b1 - dense layer with 1-bit weights (+1 / -1, the scale is in the
 * requantization), packed 8 per byte and read straight from flash. Weight (o, i) is bit
 * o * accum_depth + i, so an accum_depth that is not a multiple of 8 starts rows mid-byte.
 *
 * As for mf_fully_connected_s8, the bias comes with the input offset folded in
 * (bias + input_offset * sum of the row's +-1 weights), so each row is a plain add/subtract
 * over the raw int8 inputs (mf_binary.h); fc_params->input_offset is not read.
 */
#include "mf_binary.h"
#include "mf_packed.h"

int32_t mf_fully_connected_b1_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_b1(const mf_context *ctx,
                                const mf_fc_params *fc_params,
                                const mf_per_channel_quant_params *quant_params,
                                int32_t batches,
                                int32_t accum_depth,
                                int32_t output_depth,
                                const int8_t *input,
                                const uint8_t *packed_filter,
                                const int32_t *bias,
                                int8_t *output)
{
    MF_PACKED_FULLY_CONNECTED(int32_t total = 0;
                              for (int32_t i = 0; i < accum_depth; i++) { total += x[i]; },
                              acc += mf_dot_s8_b1(x, packed_filter, o * accum_depth, accum_depth,
                                                  total););
}
