/*
 * mf_avgpool_s8 - int8 average pooling. Only window cells inside the input are summed and
 * counted; the mean rounds half away from zero: (sum +- count / 2) / count with C's
 * truncating division, as TFLite Micro's reference does. MVE path: the window sums of four
 * channels at a time in the int32 lanes of a vector (predicated for the last C % 4), then the
 * rounding division per channel as above.
 */
#include "mf_internal.h"
#if MF_USE_MVE
#include "mf_mve_nn.h"
#endif

#include <stddef.h>

int32_t mf_avgpool_s8_get_buffer_size(int32_t output_w, int32_t channels)
{
    (void)output_w;
    (void)channels;
    return 0;
}

mf_status mf_avgpool_s8(const mf_context *ctx,
                        const mf_pool_params *pool_params,
                        const mf_dims *input_dims,
                        const int8_t *input,
                        const mf_dims *filter_dims,
                        const mf_dims *output_dims,
                        int8_t *output)
{
    const mf_pool_params *p = pool_params;
    (void)ctx;
    const int32_t c = input_dims->c;
    if (output_dims->c != c || output_dims->n != input_dims->n || p->stride.h < 1 ||
        p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 || filter_dims->h < 1 ||
        filter_dims->w < 1 || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            const int32_t ky_start = mf_max_i32(0, -y0);
            const int32_t ky_end = mf_min_i32(filter_dims->h, input_dims->h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                const int32_t kx_start = mf_max_i32(0, -x0);
                const int32_t kx_end = mf_min_i32(filter_dims->w, input_dims->w - x0);
                const int32_t count = (ky_end - ky_start) * (kx_end - kx_start);
                /* The compiler never emits a window lying wholly in the padding. */
                assert(count > 0);
#if MF_USE_MVE
                for (int32_t ch = 0; ch < c; ch += 4) {
                    const mve_pred16_t m = vctp32q((uint32_t)(c - ch));
                    int32x4_t acc = vdupq_n_s32(0);
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int8_t *x =
                            in + ((size_t)(y0 + ky) * input_dims->w + (size_t)(x0 + kx_start)) * c +
                            ch;
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
                        const int32_t avg =
                            sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                        *output++ =
                            (int8_t)mf_clamp_i32(avg, p->activation.min, p->activation.max);
                    }
                }
                continue;
#endif
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t sum = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int8_t *row = in + ((size_t)(y0 + ky) * input_dims->w) * c;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            sum += row[(size_t)(x0 + kx) * c + ch];
                        }
                    }
                    const int32_t avg =
                        sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ =
                        (int8_t)mf_clamp_i32(avg, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}
