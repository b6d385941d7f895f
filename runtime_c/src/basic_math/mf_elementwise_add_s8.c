/*
 * mf_elementwise_add_s8 - int8 addition with 4-D broadcasting, as TFLite Micro's int8 Add
 * (mf_add_sub_body.h).
 */
#define MF_AS_NAME mf_elementwise_add_s8
#define MF_AS_T int8_t
#define MF_AS_OP +
#define MF_AS_VALID(p) mf_add_params_valid(p)
#include "mf_add_sub_body.h"
