/*
 * mf_fully_connected_b1 - dense layer with 1-bit weights (+1 / -1, the scale is in the
 * requantization), packed 8 per byte and read straight from flash. Weight (o, i) is bit
 * o * accum_depth + i, so an accum_depth that is not a multiple of 8 starts rows mid-byte.
 *
 * Each input row is viewed as u = x + 128 (unsigned bytes, mf_binary.h): acc = bias + 2 * S - T
 * with S the sum of u over the row's set bits and T over the whole row; the bias comes with
 * (input_offset - 128) * (sum of the row's +-1 weights) folded in, so fc_params->input_offset is
 * not read. The int8 inputs are read as unsigned bytes x ^ 0x80 on the fly. Scratch: none.
 */
#include "mf_binary.h"

int32_t mf_fully_connected_b1_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

mf_status mf_fully_connected_b1(const mf_context *ctx,
                                const mf_fc_params *fc_params,
                                const mf_per_channel_quant_params *quant_params,
                                int32_t batches,
                                int32_t accum_depth,
                                int32_t output_depth,
                                const int8_t *input,
                                const uint8_t *packed_filter,
                                const int32_t *bias,
                                int8_t *output)
{
    const mf_fc_params *p = fc_params;
    if (batches < 0 || accum_depth < 1 || output_depth < 1 || p->filter_offset != 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    (void)ctx;
    for (int32_t b = 0; b < batches; b++) {
        const uint8_t *u = (const uint8_t *)input + (size_t)b * accum_depth;
        const int32_t total = mf_b1_total_u8(u, 0x80808080u, accum_depth);
        for (int32_t o = 0; o < output_depth; o++) {
            const int32_t set = mf_b1_set_u8(u, 0x80808080u, packed_filter, o * accum_depth, accum_depth);
            const int32_t acc = (bias != NULL ? bias[o] : 0) + 2 * set - total;
            const int32_t q = p->per_channel ? o : 0;
            *output++ = mf_requantize_to_s8(acc, quant_params->multiplier[q], quant_params->shift[q],
                                            p->output_offset, &p->activation);
        }
    }
    return MF_OK;
}
