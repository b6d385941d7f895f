/*
 * mf_prelu_s8 - int8 PReLU with alpha broadcast against the input, as TFLite Micro's
 * BroadcastPrelu: non-negative offset inputs are requantized with the identity multiplier,
 * negative ones are multiplied by the offset alpha first and use the alpha multiplier.
 */
#include "mf_internal.h"

#include <stddef.h>

static inline int8_t mf_prelu_element(const mf_prelu_params *p, int32_t x, int32_t alpha)
{
    const int32_t xv = x + p->input_offset;
    int32_t v;
    if (xv >= 0) {
        v = mf_requantize(xv, p->identity_multiplier, p->identity_shift);
    } else {
        v = mf_requantize(xv * (alpha + p->alpha_offset), p->alpha_multiplier, p->alpha_shift);
    }
    v += p->output_offset;
    return (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
}

mf_status mf_prelu_s8(const mf_prelu_params *prelu_params,
                      const mf_dims *input_dims,
                      const int8_t *input,
                      const mf_dims *alpha_dims,
                      const int8_t *alpha,
                      int8_t *output)
{
    const mf_prelu_params *p = prelu_params;
    if (!mf_dims_broadcast_to(alpha_dims, input_dims) || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    int32_t sa[4];
    mf_broadcast_strides(alpha_dims, input_dims, sa);
    for (int32_t n = 0; n < input_dims->n; n++) {
        for (int32_t h = 0; h < input_dims->h; h++) {
            for (int32_t w = 0; w < input_dims->w; w++) {
                const int8_t *a =
                    alpha + (size_t)n * sa[0] + (size_t)h * sa[1] + (size_t)w * sa[2];
                for (int32_t c = 0; c < input_dims->c; c++) {
                    *output++ = mf_prelu_element(p, *input++, a[c * sa[3]]);
                }
            }
        }
    }
    return MF_OK;
}
