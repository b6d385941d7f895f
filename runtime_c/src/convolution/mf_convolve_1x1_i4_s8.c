/*
 * mf_convolve_1x1_i4_s8 - mf_convolve_1x1_s8 with the filter in the i4 layout (m4pw, issue
 * 12; mf_internal.h): pixel rows two at a time, widened into the scratch, by a group of four
 * channels per pass on DSP cores (mf_nn_i4_s8.c); the last odd row paired with itself.
 */
#include "mf_internal.h"

int32_t mf_convolve_1x1_i4_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)filter_dims;
    return mf_nn_i4_scratch_bytes(input_dims->c);
}

mf_status mf_convolve_1x1_i4_s8(const mf_context *ctx,
                                const mf_conv_params *conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *filter_dims,
                                const int32_t *filter,
                                const int32_t *bias,
                                const mf_dims *output_dims,
                                int8_t *output)
{
    const mf_conv_params *p = conv_params;
    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != input_dims->c ||
        p->stride.h != 1 || p->stride.w != 1 || p->padding.h != 0 || p->padding.w != 0 ||
        output_dims->c != filter_dims->n || output_dims->n != input_dims->n ||
        output_dims->h != input_dims->h || output_dims->w != input_dims->w ||
        input_dims->c < 1 || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    if (ctx == NULL || ctx->buf == NULL ||
        ctx->size < mf_convolve_1x1_i4_s8_get_buffer_size(input_dims, filter_dims)) {
        return MF_NO_SCRATCH;
    }
    assert(((uintptr_t)ctx->buf & 3u) == 0);
    const int32_t rows = input_dims->n * input_dims->h * input_dims->w;
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};
    mf_nn_i4_pairs_s8(input, rows, filter, input_dims->c, output_dims->c, &rq, (int16_t *)ctx->buf,
                      output);
    return MF_OK;
}
