/*
 * mf_convolve_sparse_s8 - 2-D convolution (NHWC x OHWI) whose filter is stored as a bitmap and
 * its nonzero values (mf_sparse_filter), read straight from flash: no dense copy is made.
 *
 * Same scheme as mf_convolve_s4: one int16 im2col patch per output pixel (input offset added,
 * padded cells 0), then one dot product per output channel over the row's nonzero weights
 * only. A zero mask byte skips 8 patch values; the value pointer runs on from row to row and
 * restarts for every output pixel.
 */
#include "mf_internal.h"

int32_t mf_convolve_sparse_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * input_dims->c * (int32_t)sizeof(int16_t);
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
    const mf_conv_params *p = conv_params;
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t needed = mf_convolve_sparse_s8_get_buffer_size(input_dims, filter_dims);
    if (ctx == NULL || ctx->buf == NULL || ctx->size < needed) {
        return MF_NO_SCRATCH;
    }
    assert(((uintptr_t)ctx->buf & 3u) == 0);
    int16_t *patch = (int16_t *)ctx->buf;
    const int32_t mask_bytes = (filter_dims->h * filter_dims->w * input_dims->c + 7) / 8;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                mf_im2col_s16(p, input_dims, in, filter_dims, oy, ox, patch);
                const uint8_t *mask = filter->mask;
                const int8_t *v = filter->values;
                for (int32_t oc = 0; oc < output_dims->c; oc++) {
                    int32_t acc = bias != NULL ? bias[oc] : 0;
                    for (int32_t k = 0; k < mask_bytes; k++) {
                        uint32_t m = *mask++;
                        const int16_t *xk = patch + 8 * k;
                        for (int32_t j = 0; m != 0u; j++, m >>= 1) {
                            if (m & 1u) {
                                acc += (int32_t)xk[j] * (int32_t)(*v++);
                            }
                        }
                    }
                    *output++ = mf_requantize_to_s8(acc,
                                                    quant_params->multiplier[oc],
                                                    quant_params->shift[oc],
                                                    p->output_offset,
                                                    &p->activation);
                }
            }
        }
    }
    return MF_OK;
}
