/*
 * mf_lut_s8 - 256-entry int8 table lookup. Any int8 -> int8 function of one value (LOGISTIC,
 * TANH, HARD_SWISH, LEAKY_RELU, CLAMP, requantization) becomes one load per value; the
 * compiler builds the table from the Python integer reference, so it is bit-exact.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output)
{
    if (table == NULL || size < 0) {
        return MF_ARG_ERROR;
    }
    /* Element by element, reading before writing, so input == output is fine. */
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[(int32_t)input[i] + 128];
    }
    return MF_OK;
}
