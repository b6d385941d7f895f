/*
 * mf_strided_copy_s8 - the generic N-D strided copy of int8 elements (see mf_nn.h).
 *
 * The compiler merges contiguous axes and drops axes of size 1 before emitting a copy, so the
 * innermost axis is usually long: it is a memcpy when both sides are dense, a memset when the
 * input stride is 0 (broadcast/tile of one element), and a strided loop otherwise. The outer
 * axes are walked with an odometer, keeping running input/output offsets.
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

mf_status mf_strided_copy_s8(const mf_copy_params *copy_params, const int8_t *input, int8_t *output)
{
    const int32_t rank = copy_params->rank;
    if (rank < 1 || rank > MF_COPY_MAX_RANK) {
        return MF_ARG_ERROR;
    }
    for (int32_t k = 0; k < rank; k++) {
        if (copy_params->shape[k] < 0) {
            return MF_ARG_ERROR;
        }
        if (copy_params->shape[k] == 0) {
            return MF_OK;
        }
    }
    const int32_t inner = copy_params->shape[rank - 1];
    const ptrdiff_t in_step = copy_params->input_stride[rank - 1];
    const ptrdiff_t out_step = copy_params->output_stride[rank - 1];
    int32_t index[MF_COPY_MAX_RANK] = {0};
    ptrdiff_t in_off = 0;
    ptrdiff_t out_off = 0;
    for (;;) {
        const int8_t *src = input + in_off;
        int8_t *dst = output + out_off;
        if (in_step == 1 && out_step == 1) {
            memcpy(dst, src, (size_t)inner);
        } else if (in_step == 0 && out_step == 1) {
            memset(dst, *src, (size_t)inner);
        } else {
            for (int32_t i = 0; i < inner; i++) {
                dst[(ptrdiff_t)i * out_step] = src[(ptrdiff_t)i * in_step];
            }
        }
        /* Advance the odometer over the outer axes. */
        int32_t k = rank - 2;
        while (k >= 0) {
            index[k]++;
            in_off += copy_params->input_stride[k];
            out_off += copy_params->output_stride[k];
            if (index[k] < copy_params->shape[k]) {
                break;
            }
            in_off -= (ptrdiff_t)copy_params->input_stride[k] * copy_params->shape[k];
            out_off -= (ptrdiff_t)copy_params->output_stride[k] * copy_params->shape[k];
            index[k] = 0;
            k--;
        }
        if (k < 0) {
            return MF_OK;
        }
    }
}
