/*
 * mf_transpose_s8 - permutation of the axes of a 4-D int8 tensor.
 *
 * Walks the output in order and reads the input through permuted strides, so writes are
 * sequential (the cheaper side to keep sequential on a cache-less MCU with write buffers).
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_transpose_s8(const mf_dims *input_dims,
                          const int8_t *input,
                          const int32_t *perm,
                          int8_t *output)
{
    const int32_t in_shape[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    const int32_t in_stride[4] = {input_dims->h * input_dims->w * input_dims->c,
                                  input_dims->w * input_dims->c,
                                  input_dims->c,
                                  1};
    int32_t seen = 0;
    for (int32_t i = 0; i < 4; i++) {
        if (perm[i] < 0 || perm[i] > 3 || (seen & (1 << perm[i])) != 0) {
            return MF_ARG_ERROR;
        }
        seen |= 1 << perm[i];
    }
    int32_t shape[4];
    int32_t stride[4];
    for (int32_t i = 0; i < 4; i++) {
        shape[i] = in_shape[perm[i]];
        stride[i] = in_stride[perm[i]];
    }
    for (int32_t a = 0; a < shape[0]; a++) {
        for (int32_t b = 0; b < shape[1]; b++) {
            for (int32_t c = 0; c < shape[2]; c++) {
                const int8_t *src =
                    input + (size_t)a * stride[0] + (size_t)b * stride[1] + (size_t)c * stride[2];
                for (int32_t d = 0; d < shape[3]; d++) {
                    *output++ = src[(size_t)d * stride[3]];
                }
            }
        }
    }
    return MF_OK;
}
