/*
 * mf_elementwise_maximum_s8 - int8 elementwise maximum with 4-D broadcasting, as TFLite Micro's
 * int8 MAXIMUM: inputs and output share one quantization, so the larger code is the answer.
 */
#include "mf_broadcast.h"

#define MF_MAXIMUM_ELEMENT(p, a, b) ((void)(p), (int8_t)((a) > (b) ? (a) : (b)))

mf_status mf_elementwise_maximum_s8(const mf_dims *input1_dims,
                                  const int8_t *input1,
                                  const mf_dims *input2_dims,
                                  const int8_t *input2,
                                  const mf_dims *output_dims,
                                  int8_t *output)
{
    if (!mf_dims_broadcast_to(input1_dims, output_dims) ||
        !mf_dims_broadcast_to(input2_dims, output_dims)) {
        return MF_ARG_ERROR;
    }
    MF_BROADCAST_BINARY(MF_MAXIMUM_ELEMENT, 0, input1_dims, input1, input2_dims, input2, output_dims,
                        output);
    return MF_OK;
}
