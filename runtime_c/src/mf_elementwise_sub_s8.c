/*
 * mf_elementwise_sub_s8 - int8 subtraction with 4-D broadcasting, as TFLite Micro's int8 Sub:
 * the same scaling as mf_elementwise_add_s8, then the rounded scaled inputs
 * are subtracted (negating a multiplier instead would round ties differently).
 */
#include "mf_internal.h"

#include <stddef.h>

static inline int8_t mf_sub_element(const mf_add_params *p, int32_t a, int32_t b)
{
    const int32_t diff =
        mf_add_scaled_input(
            a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift) -
        mf_add_scaled_input(
            b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
    const int32_t v =
        mf_requantize_fast(diff, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
}

mf_status mf_elementwise_sub_s8(const mf_add_params *sub_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output)
{
    /* A copy in locals: every int8 output store may alias the parameters, which would
     * otherwise be read again for each element. */
    const mf_add_params params = *sub_params;
    const mf_add_params *p = &params;
    if (!mf_add_params_valid(p) || !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    if (mf_dims_equal(input1_dims, input2_dims)) {
        /* No broadcasting: one flat loop, the case optimized paths will vectorize. */
        const int32_t size = mf_dims_size(output_dims);
        for (int32_t i = 0; i < size; i++) {
            output[i] = mf_sub_element(p, input1[i], input2[i]);
        }
        return MF_OK;
    }
    int32_t s1[4];
    int32_t s2[4];
    mf_broadcast_strides(input1_dims, output_dims, s1);
    mf_broadcast_strides(input2_dims, output_dims, s2);
    for (int32_t n = 0; n < output_dims->n; n++) {
        for (int32_t h = 0; h < output_dims->h; h++) {
            for (int32_t w = 0; w < output_dims->w; w++) {
                const int8_t *a =
                    input1 + (size_t)n * s1[0] + (size_t)h * s1[1] + (size_t)w * s1[2];
                const int8_t *b =
                    input2 + (size_t)n * s2[0] + (size_t)h * s2[1] + (size_t)w * s2[2];
                for (int32_t c = 0; c < output_dims->c; c++) {
                    *output++ = mf_sub_element(p, a[c * s1[3]], b[c * s2[3]]);
                }
            }
        }
    }
    return MF_OK;
}
