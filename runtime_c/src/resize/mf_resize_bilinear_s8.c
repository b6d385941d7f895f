/*
 * mf_resize_bilinear_s8 - int8 bilinear resize of H and W, TFLite Micro's ResizeBilinearInteger
 * (mf_resize_bilinear_body.h; |sum| <= 128 * 2^22 fits int32 exactly).
 */
#define MF_RB_NAME mf_resize_bilinear_s8
#define MF_RB_T int8_t
#define MF_RB_ACC int32_t
#include "mf_resize_bilinear_body.h"
