/*
 * mf_elementwise_minimum_s8 - int8 elementwise minimum with 4-D broadcasting, as TFLite Micro's
 * MINIMUM (mf_minmax_body.h): the codes of one shared quantization compare directly.
 */
#define MF_MM_NAME mf_elementwise_minimum_s8
#define MF_MM_T int8_t
#define MF_MM_CMP <
#include "mf_minmax_body.h"
