/*
 * mf_lstm_s8 - TFLite's fused LSTM over a whole sequence, integer form (recurrent area).
 *
 * Follows TFLite Micro's integer LSTM (int8 input, output and hidden state, int8 weights,
 * int16 gates and cell state): per step and batch row, each gate is an input fully connected
 * plus a recurrent one, each requantized to int16 Q3.12 and added with saturation, then the
 * int16 sigmoid (tanh for the cell gate) that interpolates TFLite's sigmoid table; the cell
 * is c = f*c + i*g at its power-of-two scale, the hidden state h = tanh(c) * o in int8.
 * The input offsets are folded into the biases by the compiler (sum (x + off) * w =
 * sum x * w + off * sum w), which is exact in integers.
 * Without hidden_state/cell_state (NULL) the state starts at zero in the scratch buffer on every
 * call (whole-sequence use); with them, the caller's persistent buffers (B x H int8 and int16)
 * are read and left holding the last step's state, so the next call continues the stream.
 * The dot products use SMLAD on the DSP path and VMLADAV (sixteen int8 products, predicated
 * tails) on the MVE path (Cortex-M55).
 */
#include "mf_internal.h"
#include "mf_rows_s8.h"

#include <stddef.h>
#include <string.h>

#if MF_USE_MVE
#include "mf_mve.h"
#endif

#define MF_INT16_MIN (-32768)
#define MF_INT16_MAX 32767

/* sigmoid(i / 24) in unsigned 0.16 fixed point: the table TFLite's int16 activations use. */
static const uint16_t mf_sigmoid_table_u16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432,
    42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475,
    49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485,
    55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519,
    59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036,
    62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405,
    64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179,
    65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337,
    65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
    65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517,
    65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
    65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533,
    65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535};

static inline int32_t mf_clamp_s16(int32_t v) { return mf_clamp_i32(v, MF_INT16_MIN, MF_INT16_MAX); }

/* Sigmoid of a Q3.12 value (the 3/4 input scaling folded in as x * 3): Q0.15. */
static int16_t mf_sigmoid_q15(int32_t x)
{
    const int32_t v = x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t ua = mf_sigmoid_table_u16[uh];
        const uint32_t ub = mf_sigmoid_table_u16[uh + 1u];
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* Tanh as 2 sigmoid(2x) - 1 on (x * multiplier) >> shift, rounded: Q0.15. */
static int16_t mf_tanh_q15(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t rounding = shift > 0 ? (1 << (shift - 1)) : 0;
    const int32_t v = (x * multiplier + rounding) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255u) {
        r = (int32_t)(0xFFFFu << 8);
    } else {
        const uint32_t ua = mf_sigmoid_table_u16[uh];
        const uint32_t ub = mf_sigmoid_table_u16[uh + 1u];
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

static int32_t mf_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    int32_t acc = 0;
    int32_t k = 0;
#if MF_USE_MVE
    /* Helium: sixteen products per VMLADAVA; the last n % 16 lanes are masked by VCTP8, the
     * zeroing loads leave them 0 and read nothing past the rows. The sum is exact in int32. */
    for (; k < n; k += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - k));
        acc = vmladavaq_s8(acc, vldrbq_z_s8(a + k, p), vldrbq_z_s8(b + k, p));
    }
    return acc;
#elif MF_USE_DSP
    /* four products per two SMLADs (the sum is exact: the offsets are in the biases) */
    for (; k + 4 <= n; k += 4) {
        const uint32_t av = mf_read_u32(a + k);
        const uint32_t bv = mf_read_u32(b + k);
        acc = mf_smlad(mf_sxtb16(av), mf_sxtb16(bv), acc);
        acc = mf_smlad(mf_sxtb16_ror8(av), mf_sxtb16_ror8(bv), acc);
    }
#endif
    for (; k < n; k++) {
        acc += (int32_t)a[k] * (int32_t)b[k];
    }
    return acc;
}

#if MF_USE_MVE
/* The MVE path works on four hidden units at a time, each lane computing what the scalar code
 * computes for one unit (the results are bit-identical). */

/* mf_requantize per lane: VQRDMULH is TFLite's SaturatingRoundingDoublingHighMul; the rounding
 * right shift rounds half away from zero by taking one off negative values before VRSHL's
 * round-half-up (saturating, as INT32_MIN then gives the same result). */
static inline int32x4_t mf_requantize_mve(int32x4_t x, int32_t multiplier, int32_t shift)
{
    if (shift > 0) {
        x = vshlq_s32(x, vdupq_n_s32(shift)); /* wraps, as mf_shift_left */
    }
    x = vqrdmulhq_n_s32(x, multiplier);
    if (shift < 0) {
        x = vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), vdupq_n_s32(shift));
    }
    return x;
}

static inline int32x4_t mf_clamp_s16_mve(int32x4_t v)
{
    return vmaxq_s32(vminq_s32(v, vdupq_n_s32(MF_INT16_MAX)), vdupq_n_s32(MF_INT16_MIN));
}

/* mf_sigmoid_q15 per lane; the table reads are gathers. */
static inline int32x4_t mf_sigmoid_q15_mve(int32x4_t x)
{
    const int32x4_t v = vmulq_n_s32(x, 3);
    const int32x4_t a = vabsq_s32(v);
    const int32x4_t uh = vshrq_n_s32(a, 9);
    const uint32x4_t idx = vreinterpretq_u32_s32(vminq_s32(uh, vdupq_n_s32(254)));
    const int32x4_t ua = vreinterpretq_s32_u32(vldrhq_gather_shifted_offset_u32(mf_sigmoid_table_u16, idx));
    const int32x4_t ub =
        vreinterpretq_s32_u32(vldrhq_gather_shifted_offset_u32(mf_sigmoid_table_u16 + 1, idx));
    int32x4_t r = vaddq_s32(vshlq_n_s32(ua, 9), vmulq_s32(vandq_s32(a, vdupq_n_s32(0x1FF)), vsubq_s32(ub, ua)));
    r = vpselq_s32(vdupq_n_s32(0x7FFF << 10), r, vcmpgeq_n_s32(uh, 255));
    r = vpselq_s32(vsubq_s32(vdupq_n_s32((1 << 25) + (1 << 9) - 1), r), vaddq_n_s32(r, 1 << 9),
                   vcmpltq_n_s32(v, 0));
    return vshrq_n_s32(r, 10);
}

/* mf_tanh_q15 per lane. */
static inline int32x4_t mf_tanh_q15_mve(int32x4_t x, int32_t multiplier, int32_t shift)
{
    const int32x4_t v = vrshlq_s32(vmulq_n_s32(x, multiplier), vdupq_n_s32(-shift));
    const int32x4_t a = vabsq_s32(v);
    const int32x4_t uh = vshrq_n_s32(a, 8);
    const uint32x4_t idx = vreinterpretq_u32_s32(vminq_s32(uh, vdupq_n_s32(254)));
    const int32x4_t ua = vreinterpretq_s32_u32(vldrhq_gather_shifted_offset_u32(mf_sigmoid_table_u16, idx));
    const int32x4_t ub =
        vreinterpretq_s32_u32(vldrhq_gather_shifted_offset_u32(mf_sigmoid_table_u16 + 1, idx));
    int32x4_t r = vaddq_s32(vshlq_n_s32(ua, 8), vmulq_s32(vandq_s32(a, vdupq_n_s32(0xFF)), vsubq_s32(ub, ua)));
    r = vpselq_s32(vdupq_n_s32((int32_t)(0xFFFFu << 8)), r, vcmpgeq_n_s32(uh, 255));
    r = vpselq_s32(vsubq_s32(vdupq_n_s32((1 << 23) + (1 << 7) - 1), r), vaddq_n_s32(r, (1 << 7) - (1 << 23)),
                   vcmpltq_n_s32(v, 0));
    return vshrq_n_s32(r, 8);
}
#endif

/* Gate g, unit j from its input and recurrent dot products (without bias): both requantized to
 * Q3.12 and added with int16 saturation, then sigmoid (tanh for the cell gate) in Q0.15. The
 * multipliers are >= 0 (QuantizeMultiplier's), so the one-multiply requantization applies. */
static inline int16_t mf_gate(const mf_lstm_weights *w, int32_t g, int32_t H, int32_t j, int32_t dot_in,
                              int32_t dot_rec)
{
    const int32_t acc_in = w->input_bias[g * H + j] + dot_in;
    const int32_t acc_rec = w->recurrent_bias[g * H + j] + dot_rec;
    const int32_t pre =
        mf_clamp_s16(mf_clamp_s16(mf_requantize_fast(acc_in, w->multiplier[g], w->shift[g])) +
                     mf_clamp_s16(mf_requantize_fast(acc_rec, w->multiplier[4 + g], w->shift[4 + g])));
    return g == 2 ? mf_tanh_q15(pre, 3, 0) : mf_sigmoid_q15(pre);
}

int32_t mf_lstm_s8_get_buffer_size(int32_t batches, int32_t hidden_size)
{
    /* cell state and four gates (int16), then the hidden state (int8) */
    return batches * hidden_size * (5 * (int32_t)sizeof(int16_t) + 1);
}

mf_status mf_lstm_s8(const mf_context *ctx,
                     const mf_lstm_params *p,
                     const mf_lstm_weights *w,
                     const int8_t *input,
                     int8_t *hidden_state,
                     int16_t *cell_state,
                     int8_t *output)
{
    const int32_t B = p->batches, T = p->time_steps, I = p->input_size, H = p->hidden_size;
    if (B < 1 || T < 1 || I < 1 || H < 1 || p->hidden_zp < MF_INT8_MIN || p->hidden_zp > MF_INT8_MAX ||
        p->tanh_shift < 0 || p->tanh_shift > 30 || p->cell_clip < 0 || p->cell_clip > MF_INT16_MAX) {
        return MF_ARG_ERROR;
    }
    if ((hidden_state == NULL) != (cell_state == NULL)) {
        return MF_ARG_ERROR;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < mf_lstm_s8_get_buffer_size(B, H)) {
        return MF_NO_SCRATCH;
    }
    const size_t state = (size_t)B * (size_t)H;
    int16_t *cell = (int16_t *)ctx->buf;
    int16_t *gates = cell + state; /* (4, B, H): input, forget, cell, output gates */
    int8_t *hidden = (int8_t *)(gates + 4 * state);
    if (hidden_state != NULL) {
        /* persistent state (stateful area): carried over from the previous call */
        hidden = hidden_state;
        cell = cell_state;
    } else {
        memset(cell, 0, state * sizeof(int16_t));
        memset(hidden, p->hidden_zp, state);
    }

    for (int32_t t = 0; t < T; t++) {
        for (int32_t b = 0; b < B; b++) {
            const size_t row = p->time_major ? (size_t)t * (size_t)B + (size_t)b
                                             : (size_t)b * (size_t)T + (size_t)t;
            const int8_t *x = input + row * (size_t)I;
            int8_t *h = hidden + (size_t)b * (size_t)H;
            for (int32_t g = 0; g < 4; g++) {
                const int8_t *wg = w->input_weights + (size_t)g * (size_t)H * (size_t)I;
                const int8_t *rg = w->recurrent_weights + (size_t)g * (size_t)H * (size_t)H;
                int16_t *out = gates + (size_t)g * state + (size_t)b * (size_t)H;
                int32_t j = 0;
#if MF_USE_MVE
                for (; j + 4 <= H; j += 4) { /* four units: mf_gate per lane */
                    const int32x4_t acc_in = vaddq_s32(mf_dot4_rows_s8_mve(x, wg + (size_t)j * I, I),
                                                       vldrwq_s32(w->input_bias + g * H + j));
                    const int32x4_t acc_rec = vaddq_s32(mf_dot4_rows_s8_mve(h, rg + (size_t)j * H, H),
                                                        vldrwq_s32(w->recurrent_bias + g * H + j));
                    const int32x4_t pre = mf_clamp_s16_mve(vaddq_s32(
                        mf_clamp_s16_mve(mf_requantize_mve(acc_in, w->multiplier[g], w->shift[g])),
                        mf_clamp_s16_mve(mf_requantize_mve(acc_rec, w->multiplier[4 + g], w->shift[4 + g]))));
                    vstrhq_s32(out + j, g == 2 ? mf_tanh_q15_mve(pre, 3, 0) : mf_sigmoid_q15_mve(pre));
                }
#else
                for (; j + 4 <= H; j += 4) { /* four rows share each input load */
                    int32_t sums_in[4] = {0, 0, 0, 0};
                    int32_t sums_rec[4] = {0, 0, 0, 0};
                    mf_dot4_rows_s8(x, wg + (size_t)j * I, I, sums_in);
                    mf_dot4_rows_s8(h, rg + (size_t)j * H, H, sums_rec);
                    for (int32_t r = 0; r < 4; r++) {
                        out[j + r] = mf_gate(w, g, H, j + r, sums_in[r], sums_rec[r]);
                    }
                }
#endif
                for (; j < H; j++) {
                    out[j] = mf_gate(w, g, H, j, mf_dot_s8(x, wg + (size_t)j * I, I),
                                     mf_dot_s8(h, rg + (size_t)j * H, H));
                }
            }
            const int16_t *ig = gates + (size_t)b * (size_t)H;
            const int16_t *fg = ig + state;
            const int16_t *gg = fg + state;
            const int16_t *og = gg + state;
            int16_t *c = cell + (size_t)b * (size_t)H;
            int8_t *y = output + row * (size_t)H;
            int32_t j = 0;
#if MF_USE_MVE
            for (; j + 4 <= H; j += 4) { /* four units: the scalar loop below per lane */
                const int32x4_t kept = mf_clamp_s16_mve(mf_requantize_mve(
                    vmulq_s32(vldrhq_s32(fg + j), vldrhq_s32(c + j)), w->mul_multiplier[0], w->mul_shift[0]));
                const int32x4_t added = mf_clamp_s16_mve(mf_requantize_mve(
                    vmulq_s32(vldrhq_s32(ig + j), vldrhq_s32(gg + j)), w->mul_multiplier[1], w->mul_shift[1]));
                int32x4_t cj = mf_clamp_s16_mve(vaddq_s32(kept, added));
                if (p->cell_clip > 0) {
                    cj = vmaxq_s32(vminq_s32(cj, vdupq_n_s32(p->cell_clip)), vdupq_n_s32(-p->cell_clip));
                }
                vstrhq_s32(c + j, cj);
                const int32x4_t th = mf_tanh_q15_mve(cj, p->tanh_multiplier, p->tanh_shift);
                int32x4_t hj = vaddq_n_s32(
                    mf_requantize_mve(vmulq_s32(th, vldrhq_s32(og + j)), w->mul_multiplier[2], w->mul_shift[2]),
                    p->hidden_zp);
                hj = vmaxq_s32(vminq_s32(hj, vdupq_n_s32(MF_INT8_MAX)), vdupq_n_s32(MF_INT8_MIN));
                vstrbq_s32(h + j, hj);
                vstrbq_s32(y + j, hj);
            }
#endif
            for (; j < H; j++) {
                const int32_t kept = mf_clamp_s16(
                    mf_requantize_fast((int32_t)fg[j] * c[j], w->mul_multiplier[0], w->mul_shift[0]));
                const int32_t added = mf_clamp_s16(
                    mf_requantize_fast((int32_t)ig[j] * gg[j], w->mul_multiplier[1], w->mul_shift[1]));
                int32_t cj = mf_clamp_s16(kept + added);
                if (p->cell_clip > 0) {
                    cj = mf_clamp_i32(cj, -p->cell_clip, p->cell_clip);
                }
                c[j] = (int16_t)cj;
                const int32_t th = mf_tanh_q15(cj, p->tanh_multiplier, p->tanh_shift);
                const int32_t hj = p->hidden_zp +
                                   mf_requantize_fast(th * og[j], w->mul_multiplier[2], w->mul_shift[2]);
                h[j] = (int8_t)mf_clamp_i32(hj, MF_INT8_MIN, MF_INT8_MAX);
                y[j] = h[j];
            }
        }
    }
    return MF_OK;
}
