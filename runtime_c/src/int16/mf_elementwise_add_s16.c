/*
 * mf_elementwise_add_s16 - int16 addition with 4-D broadcasting, as TFLite Micro's int16 general
 * path (mf_add_sub_body.h; zero points are 0 in 16x8 mode, left_shift 15).
 */
#include "mf_s16.h"

#define MF_AS_NAME mf_elementwise_add_s16
#define MF_AS_T int16_t
#define MF_AS_OP +
#define MF_AS_VALID(p) mf_add_params_valid_s16(p)
#include "mf_add_sub_body.h"
