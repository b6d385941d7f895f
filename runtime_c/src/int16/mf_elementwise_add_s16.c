/*
 * mf_elementwise_add_s16 - int16 addition with 4-D broadcasting, as TFLite Micro's int16 general
 * path: both inputs offset (zero points are 0 in 16x8 mode), shifted left by left_shift (15),
 * scaled to a common scale, combined, rescaled to the output and clamped.
 */
#include "mf_broadcast.h"
#include "mf_s16.h"

static inline int16_t mf_add_element_s16(const mf_add_params *p, int32_t a, int32_t b)
{
    const int32_t v =
        mf_add_scaled_input(
            a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift) +
        mf_add_scaled_input(
            b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
    const int32_t r = mf_requantize_fast(v, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int16_t)mf_clamp_i32(r, p->activation.min, p->activation.max);
}

mf_status mf_elementwise_add_s16(const mf_add_params *add_params,
                                 const mf_dims *input1_dims,
                                 const int16_t *input1,
                                 const mf_dims *input2_dims,
                                 const int16_t *input2,
                                 const mf_dims *output_dims,
                                 int16_t *output)
{
    const mf_add_params params = *add_params; /* locals: output stores may alias them */
    const mf_add_params *p = &params;
    if (p->left_shift < 0 || p->left_shift > 15 || p->input1_shift > 0 || p->input2_shift > 0 ||
        p->output_shift > 0 || !mf_activation_valid_s16(&p->activation) ||
        !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY_T(int16_t, mf_add_element_s16, p, input1_dims, input1, input2_dims, input2,
                          output_dims, output);
    return MF_OK;
}
