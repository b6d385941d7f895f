/*
 * mf_depthwise_conv3x3_s8 - the 3x3 depthwise convolution the compiler picks for Cortex-M55
 * (MVE) cores where mf_depthwise_conv3x3_s8_takes holds (speed-m55, issue 12): channel
 * multiplier 1, dilation 1, C % 8 == 0 and 32 <= C <= 128, at most one padded column on either
 * side. MVE builds run the eight-channels-per-vector path (mf_depthwise_conv3_mve16_s8.c)
 * without linking mf_depthwise_conv_s8's other Helium paths; other builds, and calls outside
 * those shapes, run mf_depthwise_conv_s8. Same arguments and results. No scratch.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_depthwise_conv3x3_s8_get_buffer_size(const mf_dims *input_dims,
                                                const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mf_status mf_depthwise_conv3x3_s8(const mf_context *ctx,
                                  const mf_dw_conv_params *dw_conv_params,
                                  const mf_per_channel_quant_params *quant_params,
                                  const mf_dims *input_dims,
                                  const int8_t *input,
                                  const mf_dims *filter_dims,
                                  const int8_t *filter,
                                  const int32_t *bias,
                                  const mf_dims *output_dims,
                                  int8_t *output)
{
#if MF_USE_MVE
    const mf_dw_conv_params *p = dw_conv_params;
    const int32_t c = input_dims->c;
    (void)ctx;
    if (p->ch_mult != 1 || output_dims->c != c || filter_dims->c != c || filter_dims->n != 1 ||
        filter_dims->h != 3 || filter_dims->w != 3 || output_dims->n != input_dims->n ||
        p->stride.h < 1 || p->stride.w < 1 || p->dilation.h != 1 || p->dilation.w != 1 ||
        p->padding.h < 0 || p->padding.w < 0 || !mf_activation_valid(&p->activation) ||
        bias == NULL || !mf_depthwise_conv3_mve16_takes(p, input_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    const size_t out_image = (size_t)output_dims->h * output_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        mf_depthwise_conv3_mve16_s8(p, &rq, input_dims, input + (size_t)b * in_image, filter,
                                    output_dims, output + (size_t)b * out_image);
    }
    return MF_OK;
#else
    return mf_depthwise_conv_s8(ctx, dw_conv_params, quant_params, input_dims, input, filter_dims,
                                filter, bias, output_dims, output);
#endif
}
