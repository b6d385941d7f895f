/*
 * mf_add_sub_body.h - the body of the ADD and SUB kernels (int8 and int16), as TFLite Micro's
 * Add and Sub: both inputs offset, shifted left by left_shift, scaled to a common scale, the
 * rounded scaled inputs added or subtracted (negating a multiplier instead would round ties
 * differently), rescaled to the output, offset and clamped; 4-D broadcasting. Internal; not
 * part of the public API. Included once by each kernel file after defining:
 *   MF_AS_NAME      the function's name (mf_elementwise_add_s8, ...)
 *   MF_AS_T         the element type (int8_t, int16_t)
 *   MF_AS_OP        + or -
 *   MF_AS_VALID(p)  whether the parameters suit the type (shift and activation ranges)
 * and optionally MF_AS_VECTOR(p, input1_dims, input1, input2_dims, input2, output_dims, output),
 * a vector path that returns nonzero when it computed the output (inputs of shapes it takes).
 */
#include "mf_broadcast.h"

static inline MF_AS_T mf_add_sub_element(const mf_add_params *p, int32_t a, int32_t b)
{
    const int32_t v =
        mf_add_scaled_input(
            a, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift)
            MF_AS_OP mf_add_scaled_input(
                b, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
    const int32_t r = mf_requantize_fast(v, p->output_multiplier, p->output_shift) + p->output_offset;
    return (MF_AS_T)mf_clamp_i32(r, p->activation.min, p->activation.max);
}

mf_status MF_AS_NAME(const mf_add_params *add_sub_params,
                     const mf_dims *input1_dims,
                     const MF_AS_T *input1,
                     const mf_dims *input2_dims,
                     const MF_AS_T *input2,
                     const mf_dims *output_dims,
                     MF_AS_T *output)
{
    /* A copy in locals: every output store may alias the parameters, which would otherwise be
     * read again for each element. */
    const mf_add_params params = *add_sub_params;
    const mf_add_params *p = &params;
    if (!MF_AS_VALID(p) || !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
#ifdef MF_AS_VECTOR
    if (MF_AS_VECTOR(p, input1_dims, input1, input2_dims, input2, output_dims, output)) {
        return MF_OK;
    }
#endif
    MF_BROADCAST_BINARY_T(MF_AS_T, mf_add_sub_element, p, input1_dims, input1, input2_dims, input2,
                          output_dims, output);
    return MF_OK;
}
