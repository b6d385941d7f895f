/*
 * mf_rounding_divide_by_pot_wide - rounding division by a power of two for any exponent (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

int32_t mf_rounding_divide_by_pot_wide(int32_t x, int32_t exponent)
{
    if (exponent > 62) {
        return 0;
    }
    const int64_t mask = ((int64_t)1 << exponent) - 1;
    const int64_t remainder = (int64_t)x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}
