/*
 * mf_avgpool_s8 - int8 average pooling, the mean rounded half away from zero as TFLite Micro's
 * reference does; the body is shared with its int8/int16 twin in mf_pool_body.h.
 */
#define MF_POOL_T int8_t
#define MF_POOL_T_MIN MF_INT8_MIN
#define MF_POOL_ACT_VALID mf_activation_valid
#define MF_AVGPOOL_NAME mf_avgpool_s8
#define MF_AVGPOOL_BUFFER_SIZE_NAME mf_avgpool_s8_get_buffer_size
#include "mf_pool_body.h"
