/*
 * mf_depthwise_conv_s8 - int8 depthwise convolution with channel multiplier and dilation: the
 * argument checks, then one of two variants, each in its own file: mf_depthwise_conv_m1_s8
 * (channel multiplier 1: 3x3 interior rows, per-pixel tap lists, DSP/MVE paths) and
 * mf_depthwise_conv_mult_s8 (multipliers above 1, plain loop). The bias comes with the input
 * offset folded in (mf_nn.h), so each tap is a plain int8 product. No scratch.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_depthwise_conv_s8_get_buffer_size(const mf_dims *input_dims,
                                             const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mf_status mf_depthwise_conv_s8(const mf_context *ctx,
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
    const mf_dw_conv_params *p = dw_conv_params;
    (void)ctx;
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;
    if (p->ch_mult < 1 || cout != cin * p->ch_mult || filter_dims->c != cout ||
        filter_dims->n != 1 || output_dims->n != input_dims->n || p->stride.h < 1 ||
        p->stride.w < 1 || p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 ||
        p->padding.w < 0 || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};
    if (p->ch_mult == 1) {
        mf_depthwise_conv_m1_s8(
            p, &rq, input_dims, input, filter_dims, filter, output_dims, output);
    } else {
        mf_depthwise_conv_mult_s8(
            p, &rq, input_dims, input, filter_dims, filter, output_dims, output);
    }
    return MF_OK;
}
