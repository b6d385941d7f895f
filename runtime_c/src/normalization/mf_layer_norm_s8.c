/*
 * mf_layer_norm_s8 - int8 layer normalization over the last axis in integer arithmetic, as
 * defined in mf_nn.h (and mcuforge/ops/layer_norm.py, its Python twin): exact centred values,
 * an int64 sum of squares, a 31-bit integer square root, one reciprocal per row, then a
 * per-channel requantization that carries gamma, with beta added at 1/256 LSB.
 */
#include "mf_internal.h"

#include <stddef.h>

/* floor(sqrt(v)) for v < 2^62, bit by bit. */
static uint32_t mf_isqrt_u64(uint64_t v)
{
    uint64_t root = 0;
    uint64_t bit = (uint64_t)1 << 62;
    while (bit > v) {
        bit >>= 2;
    }
    while (bit != 0) {
        if (v >= root + bit) {
            v -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)root;
}

/* x / 2^n rounded half away from zero, n in [1, 62]. */
static int64_t mf_round_shift_i64(int64_t x, int32_t n)
{
    const int64_t half = (int64_t)1 << (n - 1);
    return x >= 0 ? (x + half) >> n : -((-x + half) >> n);
}

mf_status mf_layer_norm_s8(const mf_layer_norm_params *params,
                           int32_t rows,
                           int32_t depth,
                           const int32_t *multiplier,
                           const int32_t *shift,
                           const int32_t *bias,
                           const int8_t *input,
                           int8_t *output)
{
    const mf_layer_norm_params p = *params;
    if (rows < 0 || depth < 1 || depth > 4096 || p.eps < 0 || p.eps > ((int64_t)1 << 60) ||
        !mf_activation_valid(&p.activation)) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        int8_t *y = output + (size_t)r * depth;
        int32_t sum = 0;
        for (int32_t i = 0; i < depth; i++) {
            sum += x[i] + p.input_offset;
        }
        uint64_t v = (uint64_t)p.eps;
        for (int32_t i = 0; i < depth; i++) {
            const int64_t c = (int64_t)depth * (x[i] + p.input_offset) - sum;
            v += (uint64_t)(c * c);
        }
        int64_t recip = 0;
        int32_t k = 0;
        if (v != 0) {
            while (v < ((uint64_t)1 << 60)) {
                v <<= 2;
                k++;
            }
            const uint64_t s = mf_isqrt_u64(v);
            recip = (int64_t)((((uint64_t)1 << 62) + s / 2) / s);
        }
        for (int32_t i = 0; i < depth; i++) {
            const int64_t c = (int64_t)depth * (x[i] + p.input_offset) - sum;
            const int32_t z = (int32_t)mf_round_shift_i64(c * recip, 32 - k);
            const int64_t acc = (int64_t)mf_requantize(z, multiplier[i], shift[i]) + bias[i];
            const int64_t q = mf_round_shift_i64(acc, 8) + p.output_offset;
            y[i] = (int8_t)(q < p.activation.min ? p.activation.min
                                                 : (q > p.activation.max ? p.activation.max : q));
        }
    }
    return MF_OK;
}
