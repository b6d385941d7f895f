/*
 * mf_fully_connected_cb4 - dense layer whose weights are 4-bit indices into a small int8
 * codebook (weight clustering), packed two per byte and read straight from flash. Weight
 * (o, i) is entry index[o * accum_depth + i] of the layer's codebook (or of row o's).
 */
#include "mf_packed.h"

int32_t mf_fully_connected_cb4_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_cb4(const mf_context *ctx,
                                 const mf_fc_params *fc_params,
                                 const mf_per_channel_quant_params *quant_params,
                                 int32_t batches,
                                 int32_t accum_depth,
                                 int32_t output_depth,
                                 const int8_t *input,
                                 const mf_cb4_filter *filter,
                                 const int32_t *bias,
                                 int8_t *output)
{
    if (filter == NULL || filter->indices == NULL || filter->codebook == NULL) {
        return MF_ARG_ERROR;
    }
    MF_PACKED_FULLY_CONNECTED(/* nothing per row */,
                              const int8_t *book =
                                  filter->codebook + (filter->per_channel ? o * 16 : 0);
                              const int32_t first = o * accum_depth;
                              for (int32_t i = 0; i < accum_depth; i++) {
                                  acc += ((int32_t)x[i] + p->input_offset) *
                                         book[mf_nibble_u4(filter->indices, first + i)];
                              });
}
