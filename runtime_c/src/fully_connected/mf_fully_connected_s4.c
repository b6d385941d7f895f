/*
 * mf_fully_connected_s4 - dense layer with symmetric int4 weights packed two per byte, read
 * straight from flash. Weight (o, i) is nibble o * accum_depth + i (low nibble first), so an
 * odd accum_depth makes every other row start mid-byte.
 */
#include "mf_packed.h"

int32_t mf_fully_connected_s4_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_s4(const mf_context *ctx,
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
    MF_PACKED_FULLY_CONNECTED(/* nothing per row */,
                              const int32_t first = o * accum_depth;
                              for (int32_t i = 0; i < accum_depth; i++) {
                                  acc += ((int32_t)x[i] + p->input_offset) *
                                         mf_nibble_s4(packed_filter, first + i);
                              });
}
