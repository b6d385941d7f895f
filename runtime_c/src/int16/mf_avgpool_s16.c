/*
 * mf_avgpool_s16 - int16 average pooling (16x8 mode): int32 sums, rounded as mf_avgpool_s8; the
 * body is shared with its int8/int16 twin in mf_pool_body.h.
 */
#include "mf_s16.h"

#define MF_POOL_T int16_t
#define MF_POOL_T_MIN MF_INT16_MIN
#define MF_POOL_ACT_VALID mf_activation_valid_s16
#define MF_AVGPOOL_NAME mf_avgpool_s16
#define MF_AVGPOOL_BUFFER_SIZE_NAME mf_avgpool_s16_get_buffer_size
#include "mf_pool_body.h"
