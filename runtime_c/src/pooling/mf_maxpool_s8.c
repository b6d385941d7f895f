/*
 * mf_maxpool_s8 - int8 max pooling; window cells outside the input are ignored; the body is shared
 * with its int8/int16 twin in mf_pool_body.h. MVE path (speed-m55): sixteen channels a vector,
 * VMAX over the window cells from the activation's minimum (max then clamp = max from the
 * minimum, then min with the maximum), the last C % 16 under a tail predicate.
 */
#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve_nn.h"

static int8_t *mf_maxpool_pixel_mve(const int8_t *in, int32_t input_w, int32_t c, int32_t y0,
                                    int32_t x0, int32_t ky_start, int32_t ky_end, int32_t kx_start,
                                    int32_t kx_end, const mf_activation *act, int8_t *output)
{
    const int8x16_t lo = vdupq_n_s8((int8_t)act->min);
    const int8x16_t hi = vdupq_n_s8((int8_t)act->max);
    for (int32_t ch = 0; ch < c; ch += 16) {
        const mve_pred16_t m = vctp8q((uint32_t)(c - ch));
        int8x16_t best = lo;
        for (int32_t ky = ky_start; ky < ky_end; ky++) {
            const int8_t *x = in + ((size_t)(y0 + ky) * input_w + (size_t)(x0 + kx_start)) * c + ch;
            for (int32_t kx = kx_start; kx < kx_end; kx++) {
                best = vmaxq_s8(best, vldrbq_z_s8(x, m));
                x += c;
            }
        }
        vstrbq_p_s8(output + ch, vminq_s8(best, hi), m);
    }
    return output + c;
}
#define MF_MAXPOOL_VECTOR_PIXEL mf_maxpool_pixel_mve
#endif

#define MF_POOL_T int8_t
#define MF_POOL_T_MIN MF_INT8_MIN
#define MF_POOL_ACT_VALID mf_activation_valid
#define MF_MAXPOOL_NAME mf_maxpool_s8
#include "mf_pool_body.h"
