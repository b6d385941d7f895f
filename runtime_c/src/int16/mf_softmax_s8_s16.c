/*
 * mf_softmax_s8_s16 - softmax over the last axis of an int8 input with an int16 output at
 * scale 1/65536, zero point -32768, as TFLite Micro computes it for that pair of types (its
 * reference Softmax templated on the output type; TFLite Micro's keyword model ends in one):
 * the int8 algorithm with the result shifted to 16 bits (mf_softmax_body.h).
 */
#include "mf_s16.h"

#define MF_SM_NAME mf_softmax_s8_s16
#define MF_SM_OUT_T int16_t
#define MF_SM_OUT_BITS 16
#define MF_SM_OUT_MIN MF_INT16_MIN
#define MF_SM_OUT_MAX MF_INT16_MAX
#include "mf_softmax_body.h"
