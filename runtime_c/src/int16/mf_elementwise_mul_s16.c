/*
 * mf_elementwise_mul_s16 - int16 multiplication with 4-D broadcasting, as TFLite Micro's int16
 * Mul: (a + offset1) * (b + offset2) in int32, requantized by input1_scale * input2_scale /
 * output_scale, output zero point added, clamped.
 */
#include "mf_broadcast.h"
#include "mf_s16.h"

static inline int16_t mf_mul_element_s16(const mf_mul_params *p, int32_t a, int32_t b)
{
    const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
    const int32_t r = mf_requantize(prod, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int16_t)mf_clamp_i32(r, p->activation.min, p->activation.max);
}

mf_status mf_elementwise_mul_s16(const mf_mul_params *mul_params,
                                 const mf_dims *input1_dims,
                                 const int16_t *input1,
                                 const mf_dims *input2_dims,
                                 const int16_t *input2,
                                 const mf_dims *output_dims,
                                 int16_t *output)
{
    const mf_mul_params params = *mul_params;
    const mf_mul_params *p = &params;
    if (p->input1_offset != 0 || p->input2_offset != 0 || !mf_activation_valid_s16(&p->activation) ||
        !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY_T(int16_t, mf_mul_element_s16, p, input1_dims, input1, input2_dims, input2,
                          output_dims, output);
    return MF_OK;
}
