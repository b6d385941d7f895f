/*
 * mf_elementwise_maximum_s16 - int16 elementwise maximum with 4-D broadcasting, as TFLite Micro's
 * MAXIMUM (mf_minmax_body.h): the codes of one shared quantization compare directly.
 */
#define MF_MM_NAME mf_elementwise_maximum_s16
#define MF_MM_T int16_t
#define MF_MM_CMP >
#include "mf_minmax_body.h"
