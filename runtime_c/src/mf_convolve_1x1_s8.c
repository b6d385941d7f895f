/*
 * mf_convolve_1x1_s8 - 1x1 convolution, stride 1, no padding: every pixel is an independent
 * row, so the whole tensor is one (pixels x C_in) by (C_in x C_out) matrix multiply.
 *
 * The input offset is taken out of the multiply: sum (x + off) * w = sum x * w + off * sum w.
 * The portable path sums w alongside the products (no scratch); an optimized path can
 * precompute the per-channel sums once, or the compiler can fold them into the bias.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_convolve_1x1_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

mf_status mf_convolve_1x1_s8(const mf_context *ctx,
                             const mf_conv_params *conv_params,
                             const mf_per_channel_quant_params *quant_params,
                             const mf_dims *input_dims,
                             const int8_t *input,
                             const mf_dims *filter_dims,
                             const int8_t *filter,
                             const int32_t *bias,
                             const mf_dims *output_dims,
                             int8_t *output)
{
    const mf_conv_params *p = conv_params;
    (void)ctx;
    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != input_dims->c ||
        p->stride.h != 1 || p->stride.w != 1 || p->padding.h != 0 || p->padding.w != 0 ||
        output_dims->c != filter_dims->n || output_dims->n != input_dims->n ||
        output_dims->h != input_dims->h || output_dims->w != input_dims->w ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    /* Dilation does not matter for a 1x1 kernel. */
    const int32_t rows = input_dims->n * input_dims->h * input_dims->w;
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;

    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * cin;
        const int8_t *w = filter;
        for (int32_t oc = 0; oc < cout; oc++) {
            int32_t acc = bias != NULL ? bias[oc] : 0;
            int32_t sum_w = 0;
            for (int32_t i = 0; i < cin; i++) {
                acc += (int32_t)x[i] * w[i];
                sum_w += w[i];
            }
            /* Exact in int32: the same terms as TFLite's sum of (x + off) * w, regrouped. */
            acc += sum_w * p->input_offset;
            w += cin;
            *output++ = mf_requantize_to_s8(acc,
                                            quant_params->multiplier[oc],
                                            quant_params->shift[oc],
                                            p->output_offset,
                                            &p->activation);
        }
    }
    return MF_OK;
}
