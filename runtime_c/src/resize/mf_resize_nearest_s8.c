/*
 * mf_resize_nearest_s8 - nearest-neighbour resize of H and W: the row and column index tables
 * (computed by the compiler) say which input pixel each output pixel copies.
 */
#include "mf_internal.h"

#include <stddef.h>

mf_status mf_resize_nearest_s8(const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *output_dims,
                               const int32_t *rows,
                               const int32_t *cols,
                               int8_t *output)
{
    const int32_t c = input_dims->c;
    if (output_dims->n != input_dims->n || output_dims->c != c) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            assert(rows[oy] >= 0 && rows[oy] < input_dims->h);
            const int8_t *row = in + (size_t)rows[oy] * input_dims->w * c;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                assert(cols[ox] >= 0 && cols[ox] < input_dims->w);
                memcpy(output, row + (size_t)cols[ox] * c, (size_t)c);
                output += c;
            }
        }
    }
    return MF_OK;
}
