/*
 * mf_maxpool_s16 - int16 max pooling (16x8 mode); window cells outside the input are ignored; the
 * body is shared with its int8/int16 twin in mf_pool_body.h.
 */
#include "mf_s16.h"

#define MF_POOL_T int16_t
#define MF_POOL_T_MIN MF_INT16_MIN
#define MF_POOL_ACT_VALID mf_activation_valid_s16
#define MF_MAXPOOL_NAME mf_maxpool_s16
#include "mf_pool_body.h"
