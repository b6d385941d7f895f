/*
 * mf_resize_bilinear_s8 - bilinear resize of H and W in TFLM's 10-bit fixed point
 * (ResizeBilinearInteger); the compiler's tables hold each output row's and column's two
 * neighbours and fraction.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_resize_bilinear_s8(const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *output_dims,
                                const int32_t *y_table,
                                const int32_t *x_table,
                                int8_t *output)
{
    const int32_t c = input_dims->c;
    if (output_dims->n != input_dims->n || output_dims->c != c) {
        return MF_ARG_ERROR;
    }
    const int32_t one = 1 << 10;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t *ty = y_table + 3 * oy;
            const int8_t *top = in + (size_t)ty[0] * input_dims->w * c;
            const int8_t *bottom = in + (size_t)ty[1] * input_dims->w * c;
            const int32_t wy0 = one - ty[2], wy1 = ty[2];
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t *tx = x_table + 3 * ox;
                const size_t x0 = (size_t)tx[0] * c, x1 = (size_t)tx[1] * c;
                const int32_t wx0 = one - tx[2], wx1 = tx[2];
                for (int32_t ch = 0; ch < c; ch++) {
                    /* |weights| <= 2048 per axis, so |sum| <= 128 * 2^22 fits int32 exactly */
                    const int32_t sum = top[x0 + ch] * wy0 * wx0 + bottom[x0 + ch] * wy1 * wx0 +
                                        top[x1 + ch] * wy0 * wx1 + bottom[x1 + ch] * wy1 * wx1;
                    const int32_t half = sum > 0 ? (1 << 19) : -(1 << 19);
                    *output++ = (int8_t)((sum + half) / (1 << 20));
                }
            }
        }
    }
    return MF_OK;
}
