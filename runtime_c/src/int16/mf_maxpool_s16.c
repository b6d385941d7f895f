/*
 * mf_maxpool_s16 - int16 max pooling (16x8 mode); window cells outside the input are ignored.
 */
#include "mf_s16.h"

#include <stddef.h>

mf_status mf_maxpool_s16(const mf_pool_params *pool_params,
                        const mf_dims *input_dims,
                        const int16_t *input,
                        const mf_dims *filter_dims,
                        const mf_dims *output_dims,
                        int16_t *output)
{
    const mf_pool_params *p = pool_params;
    const int32_t c = input_dims->c;
    if (output_dims->c != c || output_dims->n != input_dims->n || p->stride.h < 1 ||
        p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 || filter_dims->h < 1 ||
        filter_dims->w < 1 || !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            const int32_t ky_start = mf_max_i32(0, -y0);
            const int32_t ky_end = mf_min_i32(filter_dims->h, input_dims->h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                const int32_t kx_start = mf_max_i32(0, -x0);
                const int32_t kx_end = mf_min_i32(filter_dims->w, input_dims->w - x0);
                assert(ky_end > ky_start && kx_end > kx_start);
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t best = MF_INT16_MIN;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int16_t *row = in + ((size_t)(y0 + ky) * input_dims->w) * c;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            best = mf_max_i32(best, row[(size_t)(x0 + kx) * c + ch]);
                        }
                    }
                    *output++ =
                        (int16_t)mf_clamp_i32(best, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}
