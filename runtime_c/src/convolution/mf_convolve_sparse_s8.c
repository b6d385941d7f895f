/*
 * mf_convolve_sparse_s8 - 2-D convolution (NHWC x OHWI) whose filter is stored as a bitmap and
 * its nonzero values (mf_sparse_filter), read straight from flash: no dense copy is made.
 *
 * Same scheme as mf_convolve_s4: one int16 im2col patch per output pixel (input offset added,
 * padded cells 0), then one dot product per output channel over the row's nonzero weights
 * only. A zero mask byte skips 8 patch values; the value pointer runs on from row to row and
 * restarts for every output pixel.
 */
#include "mf_packed.h"

int32_t mf_convolve_sparse_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return mf_packed_conv_buffer_size(input_dims, filter_dims);
}

mf_status mf_convolve_sparse_s8(const mf_context *ctx,
                                const mf_conv_params *conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *filter_dims,
                                const mf_sparse_filter *filter,
                                const int32_t *bias,
                                const mf_dims *output_dims,
                                int8_t *output)
{
    MF_PACKED_CONVOLVE(const int32_t mask_bytes = (patch_len + 7) / 8;
                       const uint8_t *mask = filter->mask;
                       const int8_t *v = filter->values;,
                       for (int32_t k = 0; k < mask_bytes; k++) {
                           uint32_t m = *mask++;
                           const int16_t *xk = patch + 8 * k;
                           for (int32_t j = 0; m != 0u; j++, m >>= 1) {
                               if (m & 1u) {
                                   acc += (int32_t)xk[j] * (int32_t)(*v++);
                               }
                           }
                       });
}
