/*
 * mf_squared_difference_s8 - int8 (a - b)^2 with 4-D broadcasting, as TFLite Micro's
 * SQUARED_DIFFERENCE: ADD's input scaling (left_shift 7 here), the scaled difference squared in
 * int32 (at most (255 * 2^7)^2 < 2^31), then one requantization whose shift may be positive.
 */
#include "mf_broadcast.h"

static inline int8_t mf_sqdiff_element(const mf_add_params *p, int32_t a, int32_t b)
{
    const int32_t diff =
        mf_add_scaled_input(
            a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift) -
        mf_add_scaled_input(
            b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
    const int32_t v =
        mf_requantize_fast(diff * diff, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
}

mf_status mf_squared_difference_s8(const mf_add_params *params,
                                   const mf_dims *input1_dims,
                                   const int8_t *input1,
                                   const mf_dims *input2_dims,
                                   const int8_t *input2,
                                   const mf_dims *output_dims,
                                   int8_t *output)
{
    const mf_add_params local = *params;
    const mf_add_params *p = &local;
    if (p->left_shift < 0 || p->left_shift > 7 || p->input1_shift > 0 || p->input2_shift > 0 ||
        p->output_shift > 31 || p->output_shift < -31 || p->output_multiplier < 0 ||
        !mf_activation_valid(&p->activation) ||
        !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY(mf_sqdiff_element, p, input1_dims, input1, input2_dims, input2, output_dims,
                        output);
    return MF_OK;
}
