/*
 * mf_resize_bilinear_s16 - int16 bilinear resize of H and W. TFLite Micro has no int16
 * RESIZE_BILINEAR; this follows TFLite's reference ResizeBilinearInteger<int16_t>, the int8
 * definition with int64 sums (mf_resize_bilinear_body.h).
 */
#define MF_RB_NAME mf_resize_bilinear_s16
#define MF_RB_T int16_t
#define MF_RB_ACC int64_t
#include "mf_resize_bilinear_body.h"
