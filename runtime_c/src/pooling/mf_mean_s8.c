/*
 * mf_mean_s8 - int8 mean over H and W (global average pooling) with requantization, as TFLite
 * Micro's QuantizedMeanOrSum; the body is shared with its int8/int16 twin in mf_pool_body.h.
 * MVE path: the sums of four channels per vector and their requantization (mf_mve_nn.h) in lanes.
 */
#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve_nn.h"

static int8_t *mf_mean_image_mve(const int8_t *in, int32_t count, int32_t c, const mf_mean_params *p,
                                 int8_t *output)
{
    for (int32_t ch = 0; ch < c; ch += 4) {
        const mve_pred16_t m = vctp32q((uint32_t)(c - ch));
        int32x4_t acc = vdupq_n_s32(0);
        const int8_t *x = in + ch;
        for (int32_t i = 0; i < count; i++) {
            acc = vaddq_s32(acc, vldrbq_z_s32(x, m));
            x += c;
        }
        /* sum of (x + offset) = sum of x + count * offset (modulo 2^32 either way) */
        acc = vaddq_n_s32(acc, (int32_t)((uint32_t)count * (uint32_t)p->input_offset));
        const int32x4_t v = mf_mve_offset_clamp(mf_mve_requantize_n(acc, p->multiplier, p->shift),
                                                p->output_offset, p->activation.min, p->activation.max);
        vstrbq_p_s32(output + ch, v, m);
    }
    return output + c;
}
#define MF_MEAN_VECTOR_IMAGE mf_mean_image_mve
#endif

#define MF_POOL_T int8_t
#define MF_POOL_T_MIN MF_INT8_MIN
#define MF_POOL_ACT_VALID mf_activation_valid
#define MF_MEAN_NAME mf_mean_s8
#include "mf_pool_body.h"
