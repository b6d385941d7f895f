/*
 * mf_fully_connected_sparse_s8 - dense layer whose weights are stored as a bitmap and their
 * nonzero values (mf_sparse_filter), read straight from flash. Each row walks its mask bytes:
 * a zero byte skips 8 inputs, a set bit takes the next value. Rows are consecutive in `values`,
 * so the value pointer simply runs on; it restarts for every batch.
 */
#include "mf_packed.h"

int32_t mf_fully_connected_sparse_s8_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_sparse_s8(const mf_context *ctx,
                                       const mf_fc_params *fc_params,
                                       const mf_per_channel_quant_params *quant_params,
                                       int32_t batches,
                                       int32_t accum_depth,
                                       int32_t output_depth,
                                       const int8_t *input,
                                       const mf_sparse_filter *filter,
                                       const int32_t *bias,
                                       int8_t *output)
{
    const int32_t mask_bytes = (accum_depth + 7) / 8;
    MF_PACKED_FULLY_CONNECTED(const uint8_t *mask = filter->mask; const int8_t *v = filter->values;,
                              for (int32_t k = 0; k < mask_bytes; k++) {
                                  uint32_t m = *mask++;
                                  const int8_t *xk = x + 8 * k;
                                  for (int32_t j = 0; m != 0u; j++, m >>= 1) {
                                      if (m & 1u) {
                                          acc += ((int32_t)xk[j] + p->input_offset) *
                                                 (int32_t)(*v++);
                                      }
                                  }
                              });
}
