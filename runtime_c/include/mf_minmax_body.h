/*
 * mf_minmax_body.h - the body of the MAXIMUM and MINIMUM kernels (int8 and int16), as TFLite
 * Micro's MaximumMinimumBroadcastSlow: inputs and output share one quantization, so the codes
 * compare directly; 4-D broadcasting. Internal; not part of the public API. Included once by
 * each kernel file after defining:
 *   MF_MM_NAME  the function's name (mf_elementwise_maximum_s8, ...)
 *   MF_MM_T     the element type (int8_t, int16_t)
 *   MF_MM_CMP   > for the maximum, < for the minimum
 */
#include "mf_broadcast.h"

#define MF_MM_ELEMENT(p, a, b) ((void)(p), (MF_MM_T)((a) MF_MM_CMP (b) ? (a) : (b)))

mf_status MF_MM_NAME(const mf_dims *input1_dims,
                     const MF_MM_T *input1,
                     const mf_dims *input2_dims,
                     const MF_MM_T *input2,
                     const mf_dims *output_dims,
                     MF_MM_T *output)
{
    if (!mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY_T(MF_MM_T, MF_MM_ELEMENT, 0, input1_dims, input1, input2_dims, input2,
                          output_dims, output);
    return MF_OK;
}
