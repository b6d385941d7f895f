/*
 * mf_softmax_s8 - int8 softmax over the last axis, bit-exact with TFLite Micro: gemmlowp's
 * fixed-point exp and reciprocal per row, output at scale 1/256, zero point -128
 * (mf_softmax_body.h, shared with mf_softmax_s8_s16).
 */
#define MF_SM_NAME mf_softmax_s8
#define MF_SM_OUT_T int8_t
#define MF_SM_OUT_BITS 8
#define MF_SM_OUT_MIN MF_INT8_MIN
#define MF_SM_OUT_MAX MF_INT8_MAX
#include "mf_softmax_body.h"
