/*
 * mf_convolve_cb4 - 2-D convolution (NHWC x OHWI) whose weights are 4-bit indices into a
 * small int8 codebook (weight clustering), indices packed two per byte and read straight from
 * flash: no unpacked copy of the filter is ever made.
 *
 * Same scheme as mf_convolve_s8: one int16 im2col patch per output pixel (input offset added),
 * then one dot product per output channel, each weight looked up in the codebook of its layer
 * (or of its output channel). Row oc starts at nibble oc * KH * KW * C_in, mid-byte when
 * that length is odd. A DSP path can sum the patch per codebook entry first and multiply 16
 * times per row; the portable path looks each weight up.
 */
#include "mf_packed.h"

int32_t mf_convolve_cb4_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return mf_packed_conv_buffer_size(input_dims, filter_dims);
}

mf_status mf_convolve_cb4(const mf_context *ctx,
                          const mf_conv_params *conv_params,
                          const mf_per_channel_quant_params *quant_params,
                          const mf_dims *input_dims,
                          const int8_t *input,
                          const mf_dims *filter_dims,
                          const mf_cb4_filter *filter,
                          const int32_t *bias,
                          const mf_dims *output_dims,
                          int8_t *output)
{
    if (filter == NULL || filter->indices == NULL || filter->codebook == NULL) {
        return MF_ARG_ERROR;
    }
    MF_PACKED_CONVOLVE(/* nothing per pixel */,
                       const int8_t *book = filter->codebook + (filter->per_channel ? oc * 16 : 0);
                       acc = mf_dot_s16_cb4(patch, filter->indices, book, oc * patch_len, patch_len,
                                            acc););
}
