/*
 * mf_convolve_b1 - 2-D convolution (NHWC x OHWI) with 1-bit weights (+1 / -1, the scale is in
 * the per-channel requantization), packed 8 per byte and read straight from flash.
 *
 * Same scheme as mf_convolve_s4: one int16 im2col patch per output pixel (input offset added,
 * padded cells 0) and its total, then per output channel the patch values of the row's set
 * bits added and the others subtracted (mf_binary.h). Row oc starts at bit oc * KH * KW * C_in.
 */
#include "mf_binary.h"
#include "mf_packed.h"

int32_t mf_convolve_b1_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return mf_packed_conv_buffer_size(input_dims, filter_dims);
}

mf_status mf_convolve_b1(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const uint8_t *packed_filter,
                         const int32_t *bias,
                         const mf_dims *output_dims,
                         int8_t *output)
{
    MF_PACKED_CONVOLVE(int32_t total = 0;
                       for (int32_t k = 0; k < patch_len; k++) { total += patch[k]; },
                       acc += mf_dot_s16_b1(patch, packed_filter, oc * patch_len, patch_len, total););
}
