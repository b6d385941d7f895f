/*
 * mf_concat_s8 - concatenation of 4-D int8 tensors along one axis.
 *
 * Seen from the axis, each input is `outer` blocks of (its axis length * inner) contiguous
 * bytes, and the output interleaves those blocks: one memcpy per input per outer index.
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

/* Product of the dims before (outer) and after (inner) `axis`. */
static void mf_split_dims(const mf_dims *d, int32_t axis, int32_t *outer, int32_t *inner)
{
    const int32_t v[4] = {d->n, d->h, d->w, d->c};
    *outer = 1;
    *inner = 1;
    for (int32_t i = 0; i < 4; i++) {
        if (i < axis) {
            *outer *= v[i];
        } else if (i > axis) {
            *inner *= v[i];
        }
    }
}

mf_status mf_concat_s8(int32_t num_inputs,
                       const int8_t *const *inputs,
                       const mf_dims *input_dims,
                       int32_t axis,
                       int8_t *output)
{
    if (num_inputs < 1 || axis < 0 || axis > 3) {
        return MF_ARG_ERROR;
    }
    int32_t outer = 0;
    int32_t inner = 0;
    mf_split_dims(&input_dims[0], axis, &outer, &inner);
    size_t out_block = 0; /* bytes of one outer index in the output */
    for (int32_t k = 0; k < num_inputs; k++) {
        int32_t o = 0;
        int32_t i = 0;
        mf_split_dims(&input_dims[k], axis, &o, &i);
        if (o != outer || i != inner) {
            return MF_ARG_ERROR;
        }
        out_block += (size_t)mf_dims_size(&input_dims[k]) / (size_t)outer;
    }
    size_t offset = 0; /* where input k starts inside an output block */
    for (int32_t k = 0; k < num_inputs; k++) {
        const size_t block = (size_t)mf_dims_size(&input_dims[k]) / (size_t)outer;
        for (int32_t o = 0; o < outer; o++) {
            memcpy(output + (size_t)o * out_block + offset, inputs[k] + (size_t)o * block, block);
        }
        offset += block;
    }
    return MF_OK;
}
