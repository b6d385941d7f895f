/*
 * mf_convolve3x3_s8 - speed-m55 (issue 12): the Helium kernel of ResNet-8's 3x3 convolutions,
 * chosen for MVE targets by mcuforge.kernels.target where its shapes hold (see _takes below);
 * every other call, and every build without MVE, is mf_convolve_s8's. Same arguments, scratch
 * and access pattern as mf_convolve_s8 (output pixels in increasing order, each group's window
 * rows read before any of its outputs is written).
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"

#include <stddef.h>

int32_t mf_convolve3x3_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return mf_convolve_s8_get_buffer_size(input_dims, filter_dims);
}

#if MF_USE_MVE

/* ---- speed-m55: 3x3, stride 1 (C_in of 16, 32 or 64) or 2 (C_in of 16 or 32) --------------
 * ResNet-8's convolutions. Three output pixels of a row by two output channels per pass: for
 * each window row and each 16 input channels, the input pixels the three windows cover (5 at
 * stride 1, 7 at stride 2) are loaded once (a pixel's vector serves up to three windows at
 * different taps), then the three taps of each of the two channels, walking the filter by
 * post-increments, are multiplied with VMLADAVA: 11 (13) loads for 18 multiply-accumulates of
 * 16 lanes, no patch built. Groups whose input columns or three rows reach outside the image
 * (and a row's last group) are gathered first into a 3-row patch with the zero point in the
 * padded cells. The passes of a block of 4, 8 or 16 channels store their sums (channel o + c,
 * pixel j at sums[3 * c + j]); four channels of a pixel are then one gather load, requantized
 * together. */
#define MF_C3_GROUP 3 /* output pixels per group */

#if MF_MVE_ASM
/* the three taps of channels a (wa, in register WA) and b (wb, in WB) on the input vectors
 * Tk0..Tk2 of tap k; MLA0 is vmladav (the first row of C_in 16: no zeroing) or vmladava;
 * filter post-increments i1, i2, i3 */
#define MF_C3_TAP(mla, inc, wra, wrb, p0, p1, p2)                                              \
    "vldrb.8 " wra ", [%[wa]], #" inc "\n\t"                                                    \
    mla " %[a0], " p0 ", " wra "\n\t"                                                          \
    mla " %[a1], " p1 ", " wra "\n\t"                                                          \
    mla " %[a2], " p2 ", " wra "\n\t"                                                          \
    "vldrb.8 " wrb ", [%[wb]], #" inc "\n\t"                                                    \
    mla " %[b0], " p0 ", " wrb "\n\t"                                                          \
    mla " %[b1], " p1 ", " wrb "\n\t"                                                          \
    mla " %[b2], " p2 ", " wrb "\n\t"
#define MF_C3_MLA "vmladava.s8"
/* stride 1: pixel i, tap k reads input column i + k (q0..q4) */
#define MF_C3_TAPS1(mla0, i1, i2, i3)                                                          \
    MF_C3_TAP(mla0, i1, "q5", "q6", "q0", "q1", "q2")                                          \
    MF_C3_TAP(MF_C3_MLA, i2, "q5", "q6", "q1", "q2", "q3")                                     \
    MF_C3_TAP(MF_C3_MLA, i3, "q5", "q6", "q2", "q3", "q4")
/* stride 2: column 2i + k (q0..q6), one filter register */
#define MF_C3_TAPS2(mla0, i1, i2, i3)                                                          \
    MF_C3_TAP(mla0, i1, "q7", "q7", "q0", "q2", "q4")                                          \
    MF_C3_TAP(MF_C3_MLA, i2, "q7", "q7", "q1", "q3", "q5")                                     \
    MF_C3_TAP(MF_C3_MLA, i3, "q7", "q7", "q2", "q4", "q6")
/* C_in 16: the five or seven pixels of row pointer r (immediate offsets) */
#define MF_C3_IN16(r)                                                                          \
    "vldrb.8 q0, [%[" r "]]\n\t"                                                                \
    "vldrb.8 q1, [%[" r "], #16]\n\t"                                                           \
    "vldrb.8 q2, [%[" r "], #32]\n\t"                                                           \
    "vldrb.8 q3, [%[" r "], #48]\n\t"                                                           \
    "vldrb.8 q4, [%[" r "], #64]\n\t"
#define MF_C3_IN16_7(r)                                                                        \
    MF_C3_IN16(r) "vldrb.8 q5, [%[" r "], #80]\n\t"                                             \
                  "vldrb.8 q6, [%[" r "], #96]\n\t"
/* C_in 32 or 64: 16 channels of the five (seven) pixels at x (pixels C apart), x left 16 bytes
 * on (post-increments, then BACK = 4C - 16 or 6C - 16 subtracted) */
#define MF_C3_INW(c, back)                                                                     \
    "vldrb.8 q0, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q1, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q2, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q3, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q4, [%[x]]\n\t"                                                                    \
    "sub %[x], %[x], #" back "\n\t"
#define MF_C3_INW7(c, back)                                                                    \
    "vldrb.8 q0, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q1, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q2, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q3, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q4, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q5, [%[x]], #" c "\n\t"                                                            \
    "vldrb.8 q6, [%[x]]\n\t"                                                                    \
    "sub %[x], %[x], #" back "\n\t"
/* the six sums stored (sums[0..5], the pointer advanced) and both filter pointers, which
 * walked K bytes, moved to the next channel pair */
#define MF_C3_STORE(k)                                                                         \
    "strd %[a0], %[a1], [%[s]], #8\n\t"                                                         \
    "strd %[a2], %[b0], [%[s]], #8\n\t"                                                         \
    "strd %[b1], %[b2], [%[s]], #8\n\t"                                                         \
    "mov %[wa], %[wb]\n\t"                                                                      \
    "add %[wb], %[wb], #" k "\n\t"
#define MF_C3_OUTS                                                                             \
    [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [b0] "=&Te"(b0), [b1] "=&Te"(b1),       \
        [b2] "=&Te"(b2), [wa] "+r"(wa), [wb] "+r"(wb), [s] "+r"(sums)
/* the vector registers a pass uses: stride 1 keeps q7 */
#define MF_C3_CLOB1 "q0", "q1", "q2", "q3", "q4", "q5", "q6", "memory"
#define MF_C3_CLOB2 "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "memory"
/* C_in 16: the three rows unrolled (row pointers x0, x1, x2) */
#define MF_C3_ASM16(in, taps, k, clob)                                                               \
    __asm__ volatile(in("x0") taps("vmladav.s8", "16", "16", "16") in("x1")                    \
                         taps(MF_C3_MLA, "16", "16", "16") in("x2")                            \
                             taps(MF_C3_MLA, "16", "16", "16") MF_C3_STORE(k)                  \
                     : MF_C3_OUTS                                                              \
                     : [x0] "r"(in0), [x1] "r"(in1), [x2] "r"(in2)                             \
                     : clob)
/* C_in 32 or 64: a loop over the three rows */
#define MF_C3_ROWS(body, kb, clob)                                                                 \
    __asm__ volatile("movs %[a0], #0\n\t"                                                      \
                     "movs %[a1], #0\n\t"                                                      \
                     "movs %[a2], #0\n\t"                                                      \
                     "movs %[b0], #0\n\t"                                                      \
                     "movs %[b1], #0\n\t"                                                      \
                     "movs %[b2], #0\n\t"                                                      \
                     "1:\n\t" body "add %[x], %[x], %[radj]\n\t"                               \
                     "subs %[n], %[n], #1\n\t"                                                 \
                     "bne 1b\n\t" MF_C3_STORE(kb)                                              \
                     : MF_C3_OUTS, [x] "+r"(x), [n] "+r"(rows)                                 \
                     : [radj] "r"(radj)                                                        \
                     : clob, "cc")
#endif

/* The sums of output channels 0..n-1 (n even) of filter (n x 3 x 3 x C_in) for the three windows
 * at in (rows RS apart, pixels C_in apart, windows STRIDE pixels apart): sums[3 * c + j]. */
static void mf_mve_c3_block(const int8_t *in, ptrdiff_t rs, const int8_t *filter, int32_t cin,
                            int32_t stride, int32_t n, int32_t *sums)
{
    const int32_t k = 9 * cin;
    const int8_t *wa = filter, *wb = filter + k;
#if MF_MVE_ASM
    const int8_t *in0 = in, *in1 = in + rs, *in2 = in + 2 * rs;
    int32_t a0, a1, a2, b0, b1, b2;
    const int8_t *const end = filter + n * k;
    if (cin == 16 && stride == 1) {
        do {
            MF_C3_ASM16(MF_C3_IN16, MF_C3_TAPS1, "144", MF_C3_CLOB1);
        } while (wa != end);
    } else if (cin == 16) {
        do {
            MF_C3_ASM16(MF_C3_IN16_7, MF_C3_TAPS2, "144", MF_C3_CLOB2);
        } while (wa != end);
    } else {
        const ptrdiff_t radj = rs - cin; /* a row's loads leave x C_in bytes on */
        /* taps C apart: +C, +C, then 16 - 2C to the next 16 channels or +16 to the next row */
        do {
            const int8_t *x = in;
            int32_t rows = 3;
            if (cin == 32 && stride == 1) {
                MF_C3_ROWS(MF_C3_INW("32", "112") MF_C3_TAPS1(MF_C3_MLA, "32", "32", "-48")
                           MF_C3_INW("32", "112") MF_C3_TAPS1(MF_C3_MLA, "32", "32", "16"), "288",
                           MF_C3_CLOB1);
            } else if (cin == 32) {
                MF_C3_ROWS(MF_C3_INW7("32", "176") MF_C3_TAPS2(MF_C3_MLA, "32", "32", "-48")
                           MF_C3_INW7("32", "176") MF_C3_TAPS2(MF_C3_MLA, "32", "32", "16"), "288",
                           MF_C3_CLOB2);
            } else {
                MF_C3_ROWS(MF_C3_INW("64", "240") MF_C3_TAPS1(MF_C3_MLA, "64", "64", "-112")
                           MF_C3_INW("64", "240") MF_C3_TAPS1(MF_C3_MLA, "64", "64", "-112")
                           MF_C3_INW("64", "240") MF_C3_TAPS1(MF_C3_MLA, "64", "64", "-112")
                           MF_C3_INW("64", "240") MF_C3_TAPS1(MF_C3_MLA, "64", "64", "16"), "576",
                           MF_C3_CLOB1);
            }
        } while (wa != end);
    }
    (void)a0;
    (void)a1;
    (void)a2;
    (void)b0;
    (void)b1;
    (void)b2;
#undef MF_C3_TAP
#undef MF_C3_MLA
#undef MF_C3_TAPS1
#undef MF_C3_TAPS2
#undef MF_C3_IN16
#undef MF_C3_IN16_7
#undef MF_C3_INW
#undef MF_C3_INW7
#undef MF_C3_STORE
#undef MF_C3_OUTS
#undef MF_C3_ASM16
#undef MF_C3_ROWS
#undef MF_C3_CLOB1
#undef MF_C3_CLOB2
#else
    for (int32_t pair = 0; pair < n / 2; pair++) {
        int32_t s[2 * MF_C3_GROUP] = {0, 0, 0, 0, 0, 0};
        for (int32_t ky = 0; ky < 3; ky++) {
            for (int32_t j = 0; j < cin; j += 16) {
                for (int32_t kx = 0; kx < 3; kx++) {
                    const int8x16_t u = vldrbq_s8(wa + (ky * 3 + kx) * cin + j);
                    const int8x16_t w = vldrbq_s8(wb + (ky * 3 + kx) * cin + j);
                    for (int32_t i = 0; i < MF_C3_GROUP; i++) {
                        const int8x16_t v = vldrbq_s8(in + ky * rs + (i * stride + kx) * cin + j);
                        s[i] = vmladavaq_s8(s[i], v, u);
                        s[MF_C3_GROUP + i] = vmladavaq_s8(s[MF_C3_GROUP + i], v, w);
                    }
                }
            }
        }
        for (int32_t i = 0; i < 2 * MF_C3_GROUP; i++) {
            sums[i] = s[i];
        }
        sums += 2 * MF_C3_GROUP;
        wa += 2 * k;
        wb += 2 * k;
    }
#endif
}

/* Whether mf_mve_conv3 takes the layer: 3x3, dilation 1, stride 1 with C_in of 16, 32 or 64 or
 * stride 2 with C_in of 16 or 32, C_out % 4 == 0 and at most 5 * C_in, per-channel quantization
 * with a bias (the group's patch, at most 3 x 7 pixels, and its staged outputs, 3 * C_out
 * bytes, fit the scratch's 36 * C_in bytes). */
static int mf_mve_conv3_takes(const mf_conv_params *p, const mf_nn_requant *rq,
                              const mf_dims *input_dims, const mf_dims *filter_dims,
                              const mf_dims *output_dims)
{
    const int32_t cin = input_dims->c, s = p->stride.w;
    return filter_dims->h == 3 && filter_dims->w == 3 && p->stride.h == s &&
           ((s == 1 && (cin == 16 || cin == 32 || cin == 64)) || (s == 2 && (cin == 16 || cin == 32))) &&
           p->dilation.h == 1 && p->dilation.w == 1 && (output_dims->c & 3) == 0 &&
           3 * output_dims->c <= 15 * cin && rq->quant_step == 1 && rq->bias != NULL;
}

/* One image: groups of three output pixels along each row (see above). Out of line: the
 * passes' operands need every general register. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_conv3(const mf_conv_params *p, const mf_nn_requant *rq,
                         const mf_dims *input_dims, const int8_t *in, const int8_t *filter,
                         const mf_dims *output_dims, int8_t *patch, int8_t *output)
{
    const int32_t cin = input_dims->c, cout = output_dims->c, stride = p->stride.w;
    const int32_t cols = 2 * stride + 3; /* input columns of a group */
    const int32_t in_h = input_dims->h, in_w = input_dims->w;
    const int32_t k = 9 * cin;
    /* output channels per block of passes (sums on the stack): 16, 8 or 4 */
    const int32_t block = (cout & 15) == 0 ? 16 : (cout & 7) == 0 ? 8 : 4;
    const ptrdiff_t rs = (ptrdiff_t)in_w * cin;
    const int8x16_t pad = vdupq_n_s8((int8_t)(-p->input_offset));
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    /* channels o..o+3 of pixel j: sums[{0, 3, 6, 9} + j] */
    static const uint32_t lane_offsets[4] = {0, MF_C3_GROUP, 2 * MF_C3_GROUP, 3 * MF_C3_GROUP};
    const uint32x4_t lanes = vldrwq_u32(lane_offsets);
    int32_t sums[16 * MF_C3_GROUP];
    /* More channels than one block: a group's outputs are staged behind the patch and copied
     * out once every block has read the input, which the output may overlap (issue 13). */
    int8_t *const stage = patch + 3 * 7 * cin;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * stride - p->padding.h;
        for (int32_t ox = 0; ox < output_dims->w; ox += MF_C3_GROUP) {
            const int32_t n = mf_min_i32(output_dims->w - ox, MF_C3_GROUP);
            const int32_t x0 = ox * stride - p->padding.w;
            const int8_t *x;
            ptrdiff_t step;
            if (y0 >= 0 && y0 + 3 <= in_h && x0 >= 0 && x0 + cols <= in_w) {
                x = in + (ptrdiff_t)y0 * rs + (ptrdiff_t)x0 * cin;
                step = rs;
            } else { /* the 3 x COLS input pixels, the zero point outside the image */
                const int32_t lo_x = mf_clamp_i32(-x0, 0, cols);
                const int32_t hi_x = mf_clamp_i32(in_w - x0, lo_x, cols);
                for (int32_t r = 0; r < 3; r++) {
                    int8_t *dst = patch + r * cols * cin;
                    const int32_t iy = y0 + r;
                    if (iy < 0 || iy >= in_h || hi_x == lo_x) {
                        mf_mve_fill(dst, pad, cols * cin);
                        continue;
                    }
                    if (lo_x > 0) {
                        mf_mve_fill(dst, pad, lo_x * cin);
                    }
                    mf_mve_copy(dst + lo_x * cin, in + (ptrdiff_t)iy * rs + (ptrdiff_t)(x0 + lo_x) * cin,
                                (hi_x - lo_x) * cin);
                    if (hi_x < cols) {
                        mf_mve_fill(dst + hi_x * cin, pad, (cols - hi_x) * cin);
                    }
                }
                x = patch;
                step = (ptrdiff_t)cols * cin;
            }
            int8_t *const dst = output + ((ptrdiff_t)oy * output_dims->w + ox) * cout;
            int8_t *out = cout > block ? stage : dst;
            const int8_t *w = filter;
            const int32_t *q = sums;
            for (int32_t o = 0; o < cout; o += 4, q += 4 * MF_C3_GROUP) {
                if ((o & (block - 1)) == 0) {
                    mf_mve_c3_block(x, step, w, cin, stride, block, sums);
                    w += block * k;
                    q = sums;
                }
                const int32x4_t bv = vldrwq_s32(rq->bias + o);
                const int32x4_t m = vldrwq_s32(rq->multiplier + o);
                const int32x4_t sh = vldrwq_s32(rq->shift + o);
                int32x4_t v = mf_mve_requantize(
                    vaddq_s32(vldrwq_gather_shifted_offset_s32(q, lanes), bv), m, sh);
                vstrbq_s32(out + o, mf_mve_offset_clamp(v, off, lo, hi));
                if (n > 1) {
                    v = mf_mve_requantize(
                        vaddq_s32(vldrwq_gather_shifted_offset_s32(q + 1, lanes), bv), m, sh);
                    vstrbq_s32(out + cout + o, mf_mve_offset_clamp(v, off, lo, hi));
                }
                if (n > 2) {
                    v = mf_mve_requantize(
                        vaddq_s32(vldrwq_gather_shifted_offset_s32(q + 2, lanes), bv), m, sh);
                    vstrbq_s32(out + 2 * cout + o, mf_mve_offset_clamp(v, off, lo, hi));
                }
            }
            if (out != dst) {
                mf_mve_copy(dst, out, n * cout);
            }
        }
    }
}

#endif /* MF_USE_MVE */

mf_status mf_convolve3x3_s8(const mf_context *ctx,
                            const mf_conv_params *conv_params,
                            const mf_per_channel_quant_params *quant_params,
                            const mf_dims *input_dims,
                            const int8_t *input,
                            const mf_dims *filter_dims,
                            const int8_t *filter,
                            const int32_t *bias,
                            const mf_dims *output_dims,
                            int8_t *output)
{
#if MF_USE_MVE
    const mf_conv_params *p = conv_params;
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};
    if (filter_dims->c == input_dims->c && output_dims->c == filter_dims->n &&
        output_dims->n == input_dims->n && p->padding.h >= 0 && p->padding.w >= 0 &&
        mf_activation_valid(&p->activation) &&
        mf_mve_conv3_takes(p, &rq, input_dims, filter_dims, output_dims)) {
        if (ctx == NULL || ctx->buf == NULL ||
            ctx->size < mf_convolve_s8_get_buffer_size(input_dims, filter_dims)) {
            return MF_NO_SCRATCH;
        }
        const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
        const size_t out_image = (size_t)output_dims->h * output_dims->w * output_dims->c;
        for (int32_t b = 0; b < input_dims->n; b++) {
            mf_mve_conv3(p, &rq, input_dims, input + (size_t)b * in_image, filter, output_dims,
                         (int8_t *)ctx->buf, output + (size_t)b * out_image);
        }
        return MF_OK;
    }
#endif
    return mf_convolve_s8(ctx, conv_params, quant_params, input_dims, input, filter_dims, filter,
                          bias, output_dims, output);
}
