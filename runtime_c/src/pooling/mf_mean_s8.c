/*
 * mf_mean_s8 - int8 mean over H and W (global average pooling) with requantization, as TFLite
 * Micro's QuantizedMeanOrSum; the body is shared with its int8/int16 twin in mf_pool_body.h.
 */
#define MF_POOL_T int8_t
#define MF_POOL_T_MIN MF_INT8_MIN
#define MF_POOL_ACT_VALID mf_activation_valid
#define MF_MEAN_NAME mf_mean_s8
#include "mf_pool_body.h"
