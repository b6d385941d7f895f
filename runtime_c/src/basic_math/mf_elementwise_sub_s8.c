/*
 * mf_elementwise_sub_s8 - int8 subtraction with 4-D broadcasting, as TFLite Micro's int8 Sub:
 * the same scaling as mf_elementwise_add_s8, then the rounded scaled inputs
 * are subtracted (negating a multiplier instead would round ties differently).
 */
#include "mf_broadcast.h"

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
    MF_BROADCAST_BINARY(mf_sub_element, p, input1_dims, input1, input2_dims, input2, output_dims, output);
    return MF_OK;
}
