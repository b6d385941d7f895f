/*
 * mf_elementwise_minimum_s16 - int16 elementwise minimum with 4-D broadcasting, as TFLite Micro's
 * MINIMUM for int16 (MaximumMinimumBroadcastSlow): inputs and output share one quantization,
 * so the codes compare directly.
 */
#include "mf_broadcast.h"

#define MF_MINIMUM_ELEMENT_S16(p, a, b) ((void)(p), (int16_t)((a) < (b) ? (a) : (b)))

mf_status mf_elementwise_minimum_s16(const mf_dims *input1_dims,
                                     const int16_t *input1,
                                     const mf_dims *input2_dims,
                                     const int16_t *input2,
                                     const mf_dims *output_dims,
                                     int16_t *output)
{
    if (!mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY_T(int16_t, MF_MINIMUM_ELEMENT_S16, 0, input1_dims, input1, input2_dims,
                          input2, output_dims, output);
    return MF_OK;
}
