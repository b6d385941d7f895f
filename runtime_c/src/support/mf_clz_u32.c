/*
 * mf_clz_u32 - leading zero bits of a 32-bit word (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

int32_t mf_clz_u32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}
