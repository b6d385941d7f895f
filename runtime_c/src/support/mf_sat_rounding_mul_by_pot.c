/*
 * mf_sat_rounding_mul_by_pot - multiplication by a power of two of either sign (see mf_fixed_point.h),
 * our rendering of the published gemmlowp/TFLite algorithm.
 */
#include "mf_fixed_point.h"

int32_t mf_sat_rounding_mul_by_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        return mf_sat_left_shift(x, exponent);
    }
    return exponent < 0 ? mf_rounding_divide_by_pot_wide(x, -exponent) : x;
}
