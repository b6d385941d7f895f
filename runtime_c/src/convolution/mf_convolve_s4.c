/*
 * mf_convolve_s4 - 2-D convolution (NHWC x OHWI) with symmetric int4 weights packed two per
 * byte, read straight from flash: no unpacked copy of the filter is ever made.
 *
 * Same scheme as mf_convolve_s8: one int16 im2col patch per output pixel (input offset added),
 * then one dot product per output channel, here with the packed filter row. Row oc starts at
 * nibble oc * KH * KW * C_in, which is mid-byte when that length is odd.
 */
#include "mf_packed.h"

int32_t mf_convolve_s4_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return mf_packed_conv_buffer_size(input_dims, filter_dims);
}

mf_status mf_convolve_s4(const mf_context *ctx,
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
    MF_PACKED_CONVOLVE(/* nothing per pixel */,
                       acc = mf_dot_s16_s4(patch, packed_filter, oc * patch_len, patch_len, acc););
}
