/*
 * mf_resize_bilinear_body.h - the body of the bilinear resize kernels, TFLite's
 * ResizeBilinearInteger in 10-bit fixed point, for one element type. Internal; not part of the
 * public API. Included once by each kernel file after defining:
 *   MF_RB_NAME  the function's name (mf_resize_bilinear_s8, _s16)
 *   MF_RB_T     the element type (int8_t, int16_t)
 *   MF_RB_ACC   the sum's type: 4 values times weights of up to 2^20 in total must fit
 *               (int32_t for int8, int64_t for int16)
 * The compiler's tables hold each output row's and column's two neighbours and fraction. The
 * sum (in 2^20 units) is rounded half away from zero: (sum +- 2^19) / 2^20, truncating.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status MF_RB_NAME(const mf_dims *input_dims,
                     const MF_RB_T *input,
                     const mf_dims *output_dims,
                     const int32_t *y_table,
                     const int32_t *x_table,
                     MF_RB_T *output)
{
    const int32_t c = input_dims->c;
    if (output_dims->n != input_dims->n || output_dims->c != c) {
        return MF_ARG_ERROR;
    }
    const int32_t one = 1 << 10;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const MF_RB_T *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t *ty = y_table + 3 * oy;
            const MF_RB_T *top = in + (size_t)ty[0] * input_dims->w * c;
            const MF_RB_T *bottom = in + (size_t)ty[1] * input_dims->w * c;
            const int32_t wy0 = one - ty[2], wy1 = ty[2];
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t *tx = x_table + 3 * ox;
                const size_t x0 = (size_t)tx[0] * c, x1 = (size_t)tx[1] * c;
                const int32_t wx0 = one - tx[2], wx1 = tx[2];
                /* each product of two weights is at most 2^20 */
                const MF_RB_ACC w00 = wy0 * wx0, w10 = wy1 * wx0, w01 = wy0 * wx1, w11 = wy1 * wx1;
                for (int32_t ch = 0; ch < c; ch++) {
                    const MF_RB_ACC sum = top[x0 + ch] * w00 + bottom[x0 + ch] * w10 +
                                          top[x1 + ch] * w01 + bottom[x1 + ch] * w11;
                    const MF_RB_ACC half = sum > 0 ? (1 << 19) : -(1 << 19);
                    *output++ = (MF_RB_T)((sum + half) / (1 << 20));
                }
            }
        }
    }
    return MF_OK;
}
