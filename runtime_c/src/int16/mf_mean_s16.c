/*
 * mf_mean_s16 - int16 mean over H and W (16x8 mode; the host sees other contiguous axes as H) with
 * int32 sums, as mf_mean_s8; the body is shared with its int8/int16 twin in mf_pool_body.h.
 */
#include "mf_s16.h"

#define MF_POOL_T int16_t
#define MF_POOL_T_MIN MF_INT16_MIN
#define MF_POOL_ACT_VALID mf_activation_valid_s16
#define MF_MEAN_NAME mf_mean_s16
#include "mf_pool_body.h"
