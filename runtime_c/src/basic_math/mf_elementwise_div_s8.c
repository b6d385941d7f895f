/*
 * mf_elementwise_div_s8 - int8 division with 4-D broadcasting, bit-exact with TFLite Micro's
 * int8 Div: the divisor's sign moves to the dividend, its reciprocal comes from the fixed-point
 * 1 / (1 + x) of the softmax kernels (normalized to [1, 2)), the dividend is normalized by its
 * redundant sign bits, and the quotient is requantized by
 * input1_scale / (input2_scale * output_scale). A zero divisor (undefined in TFLite) saturates
 * to the activation bound of the dividend's sign, or gives the output offset for 0 / 0.
 */
#include "mf_broadcast.h"
#include "mf_fixed_point.h"

static inline int8_t mf_div_element(const mf_mul_params *p, int32_t a, int32_t b)
{
    int32_t x = a + p->input1_offset;
    int32_t d = b + p->input2_offset;
    if (d < 0) {
        x = -x;
        d = -d;
    }
    if (d == 0) {
        const int32_t v = x > 0 ? p->activation.max : (x < 0 ? p->activation.min : p->output_offset);
        return (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
    }
    const int32_t d_clz = mf_clz_u32((uint32_t)d);
    const int32_t recip_shift = 31 - d_clz;
    const int32_t d_norm_minus_one = (int32_t)(((uint32_t)d << d_clz) - 0x80000000u);
    const int32_t reciprocal = mf_one_over_one_plus_x_q31(d_norm_minus_one);
    const int32_t headroom = mf_clz_u32((uint32_t)(x >= 0 ? x : ~x)) - 1;
    const int32_t unscaled =
        mf_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << headroom), reciprocal);
    const int32_t right_shift = headroom + recip_shift - p->output_shift;
    const int32_t scaled = mf_sat_rounding_doubling_high_mul(unscaled, p->output_multiplier);
    const int32_t v = (right_shift >= 0 ? mf_rounding_divide_by_pot_wide(scaled, right_shift)
                                        : mf_shift_left(scaled, -right_shift)) +
                      p->output_offset;
    return (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
}

mf_status mf_elementwise_div_s8(const mf_mul_params *div_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output)
{
    const mf_mul_params params = *div_params;
    const mf_mul_params *p = &params;
    if (!mf_activation_valid(&p->activation) || !mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY(mf_div_element, p, input1_dims, input1, input2_dims, input2, output_dims, output);
    return MF_OK;
}
