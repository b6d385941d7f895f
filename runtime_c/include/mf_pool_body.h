/*
 * mf_pool_body.h - the bodies of the pooling kernels (average and max pooling over windows,
 * mean over H and W) for one element type: int8, and int16 in 16x8 mode. Internal; not part of
 * the public API. A kernel file defines the element type and one of the kernels' names, then
 * includes this header:
 *   MF_POOL_T            the element type (int8_t, int16_t)
 *   MF_POOL_T_MIN        its minimum (the max-pooling start value)
 *   MF_POOL_ACT_VALID    the function checking an activation range of the type
 * and one of
 *   MF_AVGPOOL_NAME, MF_AVGPOOL_BUFFER_SIZE_NAME   average pooling: only window cells inside
 *       the input are summed (int32) and counted; the mean rounds half away from zero,
 *       (sum +- count / 2) / count with C's truncating division, as TFLite Micro's reference
 *   MF_MAXPOOL_NAME      max pooling; window cells outside the input are ignored
 *   MF_MEAN_NAME         mean over H and W with requantization, as TFLite Micro's
 *       QuantizedMeanOrSum: the int32 sum of offset inputs requantized once by a multiplier that
 *       already holds input_scale / output_scale / (H * W) (mcuforge.kernel_params.mean)
 * and, for a vector path, optionally (each returns the output pointer past what it wrote):
 *   MF_AVGPOOL_VECTOR_PIXEL(in, input_w, c, y0, x0, ky_start, ky_end, kx_start, kx_end, count,
 *       activation, output)   one output pixel's C averages
 *   MF_MEAN_VECTOR_IMAGE(in, count, c, params, output)   one image's C means
 *   MF_MAXPOOL_VECTOR_PIXEL(in, input_w, c, y0, x0, ky_start, ky_end, kx_start, kx_end,
 *       activation, output)   one output pixel's C maxima, clamped to the activation
 */
#include "mf_internal.h"

#include <stddef.h>

#if defined(MF_AVGPOOL_NAME) || defined(MF_MAXPOOL_NAME)

static inline int mf_pool_args_valid(const mf_pool_params *p,
                                     const mf_dims *input_dims,
                                     const mf_dims *filter_dims,
                                     const mf_dims *output_dims)
{
    return output_dims->c == input_dims->c && output_dims->n == input_dims->n &&
           p->stride.h >= 1 && p->stride.w >= 1 && p->padding.h >= 0 && p->padding.w >= 0 &&
           filter_dims->h >= 1 && filter_dims->w >= 1 && MF_POOL_ACT_VALID(&p->activation);
}


#endif

#ifdef MF_AVGPOOL_NAME
int32_t MF_AVGPOOL_BUFFER_SIZE_NAME(int32_t output_w, int32_t channels)
{
    (void)output_w;
    (void)channels;
    return 0;
}

mf_status MF_AVGPOOL_NAME(const mf_context *ctx,
                          const mf_pool_params *pool_params,
                          const mf_dims *input_dims,
                          const MF_POOL_T *input,
                          const mf_dims *filter_dims,
                          const mf_dims *output_dims,
                          MF_POOL_T *output)
{
    const mf_pool_params *p = pool_params;
    (void)ctx;
    if (!mf_pool_args_valid(p, input_dims, filter_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    const int32_t c = input_dims->c;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const MF_POOL_T *in = input + (size_t)b * in_image;
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
#ifdef MF_AVGPOOL_VECTOR_PIXEL
                output = MF_AVGPOOL_VECTOR_PIXEL(in, input_dims->w, c, y0, x0, ky_start, ky_end,
                                                 kx_start, kx_end, count, &p->activation, output);
                continue;
#endif
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t sum = 0;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const MF_POOL_T *row = in + ((size_t)(y0 + ky) * input_dims->w) * c;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            sum += row[(size_t)(x0 + kx) * c + ch];
                        }
                    }
                    const int32_t avg =
                        sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = (MF_POOL_T)mf_clamp_i32(avg, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}
#endif

#ifdef MF_MAXPOOL_NAME
mf_status MF_MAXPOOL_NAME(const mf_pool_params *pool_params,
                          const mf_dims *input_dims,
                          const MF_POOL_T *input,
                          const mf_dims *filter_dims,
                          const mf_dims *output_dims,
                          MF_POOL_T *output)
{
    const mf_pool_params *p = pool_params;
    if (!mf_pool_args_valid(p, input_dims, filter_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    const int32_t c = input_dims->c;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const MF_POOL_T *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            const int32_t ky_start = mf_max_i32(0, -y0);
            const int32_t ky_end = mf_min_i32(filter_dims->h, input_dims->h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                const int32_t kx_start = mf_max_i32(0, -x0);
                const int32_t kx_end = mf_min_i32(filter_dims->w, input_dims->w - x0);
                assert(ky_end > ky_start && kx_end > kx_start);
#ifdef MF_MAXPOOL_VECTOR_PIXEL /* speed-m55: the vector path of the kernel file */
                output = MF_MAXPOOL_VECTOR_PIXEL(in, input_dims->w, c, y0, x0, ky_start, ky_end,
                                                 kx_start, kx_end, &p->activation, output);
                continue;
#endif
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t best = MF_POOL_T_MIN;
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const MF_POOL_T *row = in + ((size_t)(y0 + ky) * input_dims->w) * c;
                        for (int32_t kx = kx_start; kx < kx_end; kx++) {
                            best = mf_max_i32(best, row[(size_t)(x0 + kx) * c + ch]);
                        }
                    }
                    *output++ = (MF_POOL_T)mf_clamp_i32(best, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}
#endif

#ifdef MF_MEAN_NAME
mf_status MF_MEAN_NAME(const mf_mean_params *mean_params,
                       const mf_dims *input_dims,
                       const MF_POOL_T *input,
                       MF_POOL_T *output)
{
    const mf_mean_params *p = mean_params;
    const int32_t c = input_dims->c;
    const int32_t count = input_dims->h * input_dims->w;
    if (count < 1 || !MF_POOL_ACT_VALID(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)count * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const MF_POOL_T *in = input + (size_t)b * in_image;
#ifdef MF_MEAN_VECTOR_IMAGE
        output = MF_MEAN_VECTOR_IMAGE(in, count, c, p, output);
        continue;
#endif
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; i++) {
                sum += in[(size_t)i * c + ch] + p->input_offset;
            }
            const int32_t v = mf_requantize(sum, p->multiplier, p->shift) + p->output_offset;
            *output++ = (MF_POOL_T)mf_clamp_i32(v, p->activation.min, p->activation.max);
        }
    }
    return MF_OK;
}
#endif
