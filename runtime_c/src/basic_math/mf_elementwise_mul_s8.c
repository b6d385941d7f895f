/*
 * mf_elementwise_mul_s8 - int8 multiplication with 4-D broadcasting, as TFLite Micro's int8 Mul:
 * the product of the offset inputs is requantized once.
 */
#include "mf_broadcast.h"

static inline int8_t mf_mul_element(const mf_mul_params *p, int32_t a, int32_t b)
{
    const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
    const int32_t v =
        mf_requantize_fast(prod, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
}

mf_status mf_elementwise_mul_s8(const mf_mul_params *mul_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output)
{
    /* A copy in locals: every int8 output store may alias the parameters, which would
     * otherwise be read again for each element. */
    const mf_mul_params params = *mul_params;
    const mf_mul_params *p = &params;
    if (!mf_activation_valid(&p->activation) || !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY(mf_mul_element, p, input1_dims, input1, input2_dims, input2, output_dims, output);
    return MF_OK;
}
