/*
 * mf_svdf_s8 - TFLite's SVDF layer, integer form, with its persistent memory (stateful area).
 *
 * Follows TFLite Micro's integer SVDF (int8 input, feature weights and output, int16 time
 * weights and activation state, int32 bias). Each call:
 *   1. ages the memory: every filter's M slots move one step toward the oldest;
 *   2. fills the newest slot of each filter with its feature response to the input, the int32
 *      sum of (x - input zero point) * w requantized to the state's scale and saturated to
 *      int16, plus the state's zero point, stored modulo 2^16 (TFLite Micro adds the zero point
 *      after its clamp; with TF's int16 state, zero point 0, nothing wraps);
 *   3. for each unit, sums over its `rank` filters the dot product of the filter's memory
 *      (minus the state zero point) with its time weights, adds the bias and requantizes to
 *      int8 at the output's encoding. No fused activation, as in TFLite Micro.
 * The zero points are folded on the host, exactly in integers: feature_bias[f] holds -input
 * zero point x the sum of feature row f, and bias[u] holds the layer's bias minus the state zero
 * point x the sum of unit u's time weights, so the inner loops are plain dot products (SMLAD on
 * the DSP path: four int8 or two int16 products per pair of instructions).
 * The state (batches x filters x memory int16, filter-major) belongs to the caller and must
 * survive between calls; the generated model keeps it outside the arena and resets it to the
 * state zero point. The sums are accumulated per unit directly, so no scratch is needed.
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

static int32_t mf_svdf_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t i = 0;
#if MF_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = mf_read_u32(x + i);
        const uint32_t wv = mf_read_u32(w + i);
        acc = mf_smlad(mf_sxtb16(xv), mf_sxtb16(wv), acc);
        acc = mf_smlad(mf_sxtb16_ror8(xv), mf_sxtb16_ror8(wv), acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)x[i] * (int32_t)w[i];
    }
    return acc;
}

static int32_t mf_svdf_dot_s16(const int16_t *a, const int16_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
#if MF_USE_DSP
    for (; i + 2 <= n; i += 2) {
        acc = mf_smlad(mf_read_u32(a + i), mf_read_u32(b + i), acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

mf_status mf_svdf_s8(const mf_svdf_params *p,
                     const mf_svdf_weights *w,
                     const int8_t *input,
                     int16_t *state,
                     int8_t *output)
{
    const int32_t B = p->batches, I = p->input_size, F = p->num_filters, M = p->memory_size;
    if (B < 1 || I < 1 || F < 1 || M < 1 || p->rank < 1 || F % p->rank != 0 ||
        p->output_zp < MF_INT8_MIN || p->output_zp > MF_INT8_MAX || state == NULL) {
        return MF_ARG_ERROR;
    }
    const int32_t units = F / p->rank;
    const size_t memory = (size_t)F * (size_t)M; /* state values per batch row */
    /* 1. one step older: the flat buffer moves by one; each filter's newest slot is rewritten */
    memmove(state, state + 1, ((size_t)B * memory - 1u) * sizeof(int16_t));
    for (int32_t b = 0; b < B; b++) {
        const int8_t *x = input + (size_t)b * (size_t)I;
        int16_t *s = state + (size_t)b * memory;
        /* 2. the feature filter's response goes into the newest slot */
        for (int32_t f = 0; f < F; f++) {
            const int32_t acc = mf_svdf_dot_s8(x, w->feature_weights + (size_t)f * (size_t)I, I,
                                               w->feature_bias[f]);
            const int32_t v = mf_clamp_i32(mf_requantize(acc, p->feature_multiplier, p->feature_shift),
                                           -32768, 32767) + p->state_zp;
            /* zero point after the clamp, stored modulo 2^16, as TFLite Micro (its issue #2721) */
            s[(size_t)f * (size_t)M + (size_t)(M - 1)] = (int16_t)(((v + 32768) & 0xFFFF) - 32768);
        }
        /* 3. time filter over each filter's memory, rank sum, bias, requantize */
        for (int32_t u = 0; u < units; u++) {
            const size_t first = (size_t)u * (size_t)p->rank * (size_t)M; /* filter u * rank */
            const int32_t acc = mf_svdf_dot_s16(w->time_weights + first, s + first, p->rank * M, w->bias[u]);
            const int32_t y = mf_requantize(acc, p->output_multiplier, p->output_shift) + p->output_zp;
            output[(size_t)b * (size_t)units + (size_t)u] = (int8_t)mf_clamp_i32(y, MF_INT8_MIN, MF_INT8_MAX);
        }
    }
    return MF_OK;
}
