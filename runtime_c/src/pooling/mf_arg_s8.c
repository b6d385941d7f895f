/*
 * mf_arg_s8 - ARG_MAX / ARG_MIN of int8 values along one axis, as TFLite Micro's arg_min_max.cc:
 * a strict comparison keeps the first extreme index; select_last (ONNX) keeps the last one.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_arg_s8(int32_t outer,
                    int32_t axis_len,
                    int32_t inner,
                    int32_t largest,
                    int32_t select_last,
                    int32_t index_bytes,
                    const int8_t *input,
                    void *output)
{
    if (outer < 0 || axis_len < 1 || inner < 0 || (index_bytes != 4 && index_bytes != 8) ||
        output == NULL) {
        return MF_ARG_ERROR;
    }
    /* Compare sign-flipped values for ARG_MIN, so one loop serves both. */
    const int32_t sign = largest ? 1 : -1;
    for (int32_t o = 0; o < outer; o++) {
        const int8_t *row = input + (size_t)o * axis_len * inner;
        for (int32_t i = 0; i < inner; i++) {
            int32_t best = sign * row[i];
            int32_t at = 0;
            for (int32_t a = 1; a < axis_len; a++) {
                const int32_t v = sign * row[(size_t)a * inner + i];
                if (v > best || (select_last && v == best)) {
                    best = v;
                    at = a;
                }
            }
            /* memcpy: the arena slot need not be aligned for the index type (--alignment 1). */
            int8_t *dst = (int8_t *)output + ((size_t)o * inner + i) * (size_t)index_bytes;
            if (index_bytes == 4) {
                const int32_t v = at;
                memcpy(dst, &v, sizeof(v));
            } else {
                const int64_t v = at;
                memcpy(dst, &v, sizeof(v));
            }
        }
    }
    return MF_OK;
}
