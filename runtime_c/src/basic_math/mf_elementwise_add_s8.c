/*
 * mf_elementwise_add_s8 - int8 addition with 4-D broadcasting, as TFLite Micro's int8 Add
 * (mf_add_sub_body.h). MVE path (inputs of equal shape): four elements per vector, each input's
 * offset and left shift in one VMLAS, the three rescalings as in mf_mve_nn.h (bit-exact with the
 * scalar mf_requantize_fast), the last size % 4 elements under a tail predicate.
 */
#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve_nn.h"

/* Four elements: loads masked by `m` when `tail`. Shifts here are never positive (input and
 * output shifts <= 0, mf_add_params_valid), so each rescaling is VQRDMULH by the scalar
 * multiplier then mf_mve_nn.h's rounding right shift by the vector r (-right shift in lanes). */
static MF_MVE_INLINE void mf_mve_add4(const mf_add_params *p, const int8_t *a, const int8_t *b,
                                     int8_t *out, int32x4_t pow2, int32_t off1, int32_t off2,
                                     int32x4_t r1, int32x4_t r2, int32x4_t ro, int tail,
                                     mve_pred16_t m)
{
    const int32x4_t xa = tail ? vldrbq_z_s32(a, m) : vldrbq_s32(a);
    const int32x4_t xb = tail ? vldrbq_z_s32(b, m) : vldrbq_s32(b);
    int32x4_t x = vqrdmulhq_n_s32(vmlasq_n_s32(xa, pow2, off1), p->input1_multiplier);
    int32x4_t y = vqrdmulhq_n_s32(vmlasq_n_s32(xb, pow2, off2), p->input2_multiplier);
    x = vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, r1), 31)), r1);
    y = vrshlq_s32(vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, r2), 31)), r2);
    int32x4_t v = vqrdmulhq_n_s32(vaddq_s32(x, y), p->output_multiplier);
    v = vrshlq_s32(vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, ro), 31)), ro);
    v = mf_mve_offset_clamp(v, p->output_offset, p->activation.min, p->activation.max);
    if (tail) {
        vstrbq_p_s32(out, v, m);
    } else {
        vstrbq_s32(out, v);
    }
}

static void mf_mve_add_s8(const mf_add_params *p,
                          const int8_t *a,
                          const int8_t *b,
                          int8_t *out,
                          int32_t size)
{
    const int32x4_t pow2 = vdupq_n_s32((int32_t)(1u << p->left_shift));
    const int32_t off1 = (int32_t)((uint32_t)p->input1_offset << p->left_shift);
    const int32_t off2 = (int32_t)((uint32_t)p->input2_offset << p->left_shift);
    const int32x4_t r1 = vdupq_n_s32(p->input1_shift);
    const int32x4_t r2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t ro = vdupq_n_s32(p->output_shift);
    const mve_pred16_t all = vctp32q(4);
    int32_t i = 0;
    for (; i + 4 <= size; i += 4) {
        mf_mve_add4(p, a + i, b + i, out + i, pow2, off1, off2, r1, r2, ro, 0, all);
    }
    if (i < size) {
        mf_mve_add4(p, a + i, b + i, out + i, pow2, off1, off2, r1, r2, ro, 1,
                    vctp32q((uint32_t)(size - i)));
    }
}

static int mf_add_vector(const mf_add_params *p, const mf_dims *input1_dims, const int8_t *input1,
                         const mf_dims *input2_dims, const int8_t *input2, const mf_dims *output_dims,
                         int8_t *output)
{
    if (!mf_dims_equal(input1_dims, input2_dims)) {
        return 0;
    }
    mf_mve_add_s8(p, input1, input2, output, mf_dims_size(output_dims));
    return 1;
}
#define MF_AS_VECTOR mf_add_vector
#endif

#define MF_AS_NAME mf_elementwise_add_s8
#define MF_AS_T int8_t
#define MF_AS_OP +
#define MF_AS_VALID(p) mf_add_params_valid(p)
#include "mf_add_sub_body.h"
