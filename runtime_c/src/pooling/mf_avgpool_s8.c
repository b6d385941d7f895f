/*
 * mf_avgpool_s8 - int8 average pooling, the mean rounded half away from zero as TFLite Micro's
 * reference does; the body is shared with its int8/int16 twin in mf_pool_body.h. MVE path: the
 * window sums of four channels at a time in the int32 lanes of a vector (predicated for the last
 * C % 4), then the rounding division per channel as the scalar path does it.
 */
#include "mf_internal.h"

#if MF_USE_MVE
#include "mf_mve_nn.h"

static int8_t *mf_avgpool_pixel_mve(const int8_t *in, int32_t input_w, int32_t c, int32_t y0,
                                    int32_t x0, int32_t ky_start, int32_t ky_end, int32_t kx_start,
                                    int32_t kx_end, int32_t count, const mf_activation *act,
                                    int8_t *output)
{
    if ((ky_end - ky_start) * (kx_end - kx_start) <= 255) {
        /* speed-m55: a sum of at most 255 int8 values fits int16: eight channels a vector */
        for (int32_t ch = 0; ch < c; ch += 8) {
            const mve_pred16_t m = vctp16q((uint32_t)(c - ch));
            int16x8_t acc = vdupq_n_s16(0);
            for (int32_t ky = ky_start; ky < ky_end; ky++) {
                const int8_t *x =
                    in + ((size_t)(y0 + ky) * input_w + (size_t)(x0 + kx_start)) * c + ch;
                for (int32_t kx = kx_start; kx < kx_end; kx++) {
                    acc = vaddq_s16(acc, vldrbq_z_s16(x, m));
                    x += c;
                }
            }
            int16_t sums[8];
            vstrhq_p_s16(sums, acc, 0xFFFF);
            const int32_t n = mf_min_i32(c - ch, 8);
            for (int32_t l = 0; l < n; l++) {
                const int32_t sum = sums[l];
                const int32_t avg =
                    sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                *output++ = (int8_t)mf_clamp_i32(avg, act->min, act->max);
            }
        }
        return output;
    }
    for (int32_t ch = 0; ch < c; ch += 4) {
        const mve_pred16_t m = vctp32q((uint32_t)(c - ch));
        int32x4_t acc = vdupq_n_s32(0);
        for (int32_t ky = ky_start; ky < ky_end; ky++) {
            const int8_t *x = in + ((size_t)(y0 + ky) * input_w + (size_t)(x0 + kx_start)) * c + ch;
            for (int32_t kx = kx_start; kx < kx_end; kx++) {
                acc = vaddq_s32(acc, vldrbq_z_s32(x, m));
                x += c;
            }
        }
        int32_t sums[4];
        vstrwq_s32(sums, acc);
        const int32_t n = mf_min_i32(c - ch, 4);
        for (int32_t l = 0; l < n; l++) {
            const int32_t sum = sums[l];
            const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
            *output++ = (int8_t)mf_clamp_i32(avg, act->min, act->max);
        }
    }
    return output;
}
#define MF_AVGPOOL_VECTOR_PIXEL mf_avgpool_pixel_mve
#endif

#define MF_POOL_T int8_t
#define MF_POOL_T_MIN MF_INT8_MIN
#define MF_POOL_ACT_VALID mf_activation_valid
#define MF_AVGPOOL_NAME mf_avgpool_s8
#define MF_AVGPOOL_BUFFER_SIZE_NAME mf_avgpool_s8_get_buffer_size
#include "mf_pool_body.h"
