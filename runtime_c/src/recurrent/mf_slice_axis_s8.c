/*
 * mf_slice_axis_s8 - a contiguous window of one axis of an int8 tensor (recurrent area).
 *
 * The tensor is seen as (outer, axis_len, inner): every one of the `outer` blocks contributes
 * `size * inner` consecutive bytes starting at element `begin` of the axis.
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

mf_status mf_slice_axis_s8(int32_t outer,
                           int32_t axis_len,
                           int32_t inner,
                           int32_t begin,
                           int32_t size,
                           const int8_t *input,
                           int8_t *output)
{
    if (outer < 0 || inner < 0 || size < 0 || begin < 0 || begin + size > axis_len) {
        return MF_ARG_ERROR;
    }
    const size_t block = (size_t)size * (size_t)inner;
    const size_t in_stride = (size_t)axis_len * (size_t)inner;
    const int8_t *src = input + (size_t)begin * (size_t)inner;
    for (int32_t o = 0; o < outer; o++) {
        memcpy(output, src, block);
        output += block;
        src += in_stride;
    }
    return MF_OK;
}
