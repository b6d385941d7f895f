/*
 * mf_depthwise_conv_rows_s8 - the depthwise kernel of the portable and DSP paths (speed-m4,
 * issue 12): any kernel size, stride, dilation and channel multiplier. Channels are taken in
 * groups of up to four; for a group, each input row the windows need is copied once into an
 * int16 row per channel (a ring of KH rows in the scratch buffer), padded on both sides and
 * above/below the image with the input zero point, which the folded bias cancels (a padded cell
 * contributes nothing, as TFLite's skipped taps). Every output pixel then reads whole window
 * rows without a bounds check, and each output channel is computed along an output row with
 * its weights (widened once per group) and its requantization constants (mf_rq1) held fixed:
 * on a DSP core two neighbouring taps of a row are one SMLAD (one unaligned word of the int16
 * row by a widened weight pair), portable C multiplies tap by tap. The output is written with
 * the stride of the channel count. A kernel of its own, picked by the compiler per layer
 * (kernels/convolution.py, dw_rows_taken) so that a model links only the depthwise code it runs;
 * MVE builds go to mf_depthwise_conv_s8.
 */
#include "mf_internal.h"

#include <stddef.h>

/* The row loops stay separate functions (few live values each, nothing spilled); their bodies
 * are specialized by constant arguments. */
#if defined(__GNUC__)
#define MF_INLINE static inline __attribute__((always_inline))
#define MF_NOINLINE static __attribute__((noinline))
#else
#define MF_INLINE static inline
#define MF_NOINLINE static
#endif

/* Four bytes from any address, little-endian (memcpy: one LDR on Armv7-M). */
static inline uint32_t mf_read_u32_any(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if MF_USE_DSP
/* m4dw (issue 12): the DSP instructions this file needs beyond mf_dsp.h, emulated in C on the
 * host (MF_EMULATE_DSP). mf_dw_smlabt: c + a.h0 * b.h1; mf_dw_smlatb: c + a.h1 * b.h0;
 * mf_dw_smmlar(a, b, t): the high word of t * 2^32 + a * b + 2^31 (SMMLAR, rounded most
 * significant word multiply-accumulate); mf_dw_pkhbt16(a, b): a's low half, b's low half
 * above; mf_dw_pkhtb16(a, b): b's high half, a's high half above; mf_dw_bfi8(a, b): a with
 * b's low byte in its second byte (BFI). */
#if defined(MF_EMULATE_DSP)
static inline int32_t mf_dw_smlabt(uint32_t a, uint32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(mf_half_lo(a) * mf_half_hi(b)));
}

static inline int32_t mf_dw_smlatb(uint32_t a, uint32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(mf_half_hi(a) * mf_half_lo(b)));
}

static inline uint32_t mf_dw_pkhbt16(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }

static inline uint32_t mf_dw_bfi8(uint32_t a, uint32_t b) { return (a & ~0xFF00u) | ((b & 0xFFu) << 8); }

static inline uint32_t mf_dw_pkhtb16(uint32_t a, uint32_t b)
{
    return (a & 0xFFFF0000u) | (b >> 16);
}

static inline int32_t mf_dw_smmlar(int32_t a, int32_t b, int32_t t)
{
    const uint64_t s = ((uint64_t)(uint32_t)t << 32) + (uint64_t)((int64_t)a * b) + 0x80000000u;
    return (int32_t)(uint32_t)(s >> 32);
}
#else
static inline int32_t mf_dw_smlabt(uint32_t a, uint32_t b, int32_t c)
{
    return __smlabt((int32_t)a, (int32_t)b, c);
}

static inline int32_t mf_dw_smlatb(uint32_t a, uint32_t b, int32_t c)
{
    return __smlatb((int32_t)a, (int32_t)b, c);
}

static inline uint32_t mf_dw_bfi8(uint32_t a, uint32_t b)
{
    __asm__("bfi %0, %1, #8, #8" : "+r"(a) : "r"(b));
    return a;
}

static inline uint32_t mf_dw_pkhbt16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline uint32_t mf_dw_pkhtb16(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t mf_dw_smmlar(int32_t a, int32_t b, int32_t t)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(t));
    return r;
}
#endif

/* m4dw: requantization of a doubled accumulator d = 2 * acc (the group's widened weights and
 * bias doubled, so every SMLAD sums twice the products) in four instructions. With s = [d < 0]
 * and c = 2^(r-1) + off * 2^r (off the output offset, r = -shift >= 1), the SMMLAR high word
 * h = floor((c - s) * 2^32 + d * m + 2^31) / 2^32) shifted right by r is
 * floor((acc * m + 2^30 + 2^(30+r) + off * 2^(31+r) - s * 2^31) / 2^(31+r)), the numerator
 * mf_rq1_apply forms with the output offset folded in (mf_dw_rq_init), so bit-exact with it
 * and with mf_requantize_fast + off. Taken when r <= 22 and |acc| < 2^30 (d fits int32; the
 * weights' bound is checked when the group is widened). */
typedef struct {
    int32_t m;
    int32_t r;
    int32_t c;
    int32_t b2; /* the channel's bias, doubled: the group's sums start from it */
} mf_dw_rq2;

static inline int32_t mf_dw_rq2_apply(int32_t d, int32_t m, int32_t c, int32_t r)
{
    const int32_t t = c + (d >> 31); /* one ADD with an ASR #31 operand */
    return mf_dw_smmlar(d, m, t) >> r;
}
#endif

/* Columns of a padded row: every column a window reaches, plus one (the SMLAD pair of an odd
 * kernel width reads one cell past the last tap, with weight 0), rounded up to even. */
static int32_t mf_dw_rows_cols(int32_t out_w, int32_t kw, int32_t stride_w, int32_t dil_w)
{
    const int32_t reach = (out_w - 1) * stride_w + (kw - 1) * dil_w + 1;
    return (reach + 2) & ~1;
}


/* Output rows per pass: one for rows of more than 12 outputs; narrower rows enough for about
 * 32 outputs per channel (the set-up of a pass then pays; m4dw: 12 before), at most 8. At most
 * the output height. */
static int32_t mf_dw_rows_per_pass(const mf_dims *output_dims)
{
    const int32_t ow = output_dims->w > 0 ? output_dims->w : 1;
    const int32_t t = ow > 12 ? 1 : mf_clamp_i32((32 + ow - 1) / ow, 1, 8);
    return mf_clamp_i32(output_dims->h, 1, t);
}

/* Ring rows: every input row that `t` consecutive output rows read. */
static int32_t mf_dw_ring_rows(int32_t t, int32_t stride_h, int32_t kh, int32_t dil_h)
{
    return (t - 1) * stride_h + (kh - 1) * dil_h + 1;
}

int32_t mf_depthwise_conv_rows_s8_get_buffer_size(const mf_dims *input_dims,
                         const mf_dims *filter_dims,
                         const mf_dims *output_dims,
                         int32_t stride_h,
                         int32_t stride_w,
                         int32_t dilation_h,
                         int32_t dilation_w)
{
    if (input_dims->c < 1 || stride_h < 1 || dilation_h < 1) {
        return 0;
    }
    const int32_t c = input_dims->c;
    const int32_t g = c < 4 ? c : 4;
    const int32_t n = g * (output_dims->c / c);
    const int32_t kh = filter_dims->h;
    const int32_t kw2 = (filter_dims->w + 1) & ~1;
    const int32_t cols = mf_dw_rows_cols(output_dims->w, filter_dims->w, stride_w, dilation_w);
    const int32_t t = mf_dw_rows_per_pass(output_dims);
    const int32_t r = mf_dw_ring_rows(t, stride_h, filter_dims->h, dilation_h);
    return 4 * r + 4 * t * kh + (int32_t)sizeof(mf_rq1) * n + 2 * n * kh * kw2 +
           2 * g * r * cols + 4 * n * t * output_dims->w;
}

#if !MF_USE_MVE /* MVE builds run mf_depthwise_conv_s8's paths */

#if MF_USE_DSP && !defined(MF_EMULATE_DSP) && defined(__thumb2__) && defined(__GNUC__)
#define MF_DW_ASM 1
/* m4dw: the 3x3 rows of `channels` channels in assembly (the loop of mf_dw_acc_row's DSP
 * path, the same products): for each channel, rows_n output rows of count >= 2 outputs
 * (count / 2 pairs, then the last output alone when count is odd) into acc (consecutive),
 * tap rows at base + row_off[3 t .. 3 t + 2] (halfwords), the weights as five words
 * {w0, w1, w2, v01, v2w} at wv; the next channel's planes `plane_bytes` on, its five words 24
 * bytes on, its bias `bias_step` bytes on. Registers: r0-r2 the tap rows, r3 the sums, r4-r8
 * the weights, r9 the bias, r10 / r11 the pair's sums, r12 the loaded word, lr the pairs' end.
 * 24 instructions per pair, 13 for a single output (any stride: its taps start the row). */
typedef struct {
    const int16_t *base;   /* 0 */
    const int32_t *row_off; /* 4 */
    int32_t rows_n;        /* 8 */
    const uint32_t *wv;    /* 12 */
    const int32_t *bias;   /* 16, never NULL */
    int32_t bias_step;     /* 20 */
    int32_t *acc;          /* 24 */
    int32_t count;         /* 28 */
    int32_t channels;      /* 32 */
    int32_t plane_bytes;   /* 36 */
    int32_t full_bytes;    /* 40, stride 1: 4 * the outputs of a row in whole blocks of five */
    int32_t tail;          /* 44, stride 1: the outputs after them (0 .. 4) */
} mf_dw_asm_job;
void mf_dw_rows3x3_s1_asm(const mf_dw_asm_job *job);
void mf_dw_rows3x3_s2_asm(const mf_dw_asm_job *job);
#define MF_DW_ASM_PROLOGUE(NAME)                                                                   \
    "  .text\n  .syntax unified\n  .thumb\n  .align 2\n  .global " NAME "\n  .hidden " NAME        \
    "\n  .type " NAME ", %function\n  .thumb_func\n" NAME ":\n"                                    \
    "  push {r4-r11, lr}\n  sub sp, sp, #36\n  str r0, [sp, #20]\n"                                \
    "  ldr r1, [r0, #0]\n  str r1, [sp, #0]\n  ldr r1, [r0, #12]\n  str r1, [sp, #32]\n"          \
    "  ldr r1, [r0, #16]\n  str r1, [sp, #28]\n  ldr r1, [r0, #32]\n  str r1, [sp, #24]\n"        \
    "  ldr r3, [r0, #24]\n  ldr r12, [r0, #28]\n"                                                  \
    "  bic r1, r12, #1\n  lsls r1, r1, #2\n  str r1, [sp, #12]\n"                                 \
    "  and r1, r12, #1\n  str r1, [sp, #16]\n"                                                     \
    "4:\n  ldr r12, [sp, #32]\n  ldm r12!, {r4-r8}\n  adds r12, r12, #4\n  str r12, [sp, #32]\n"  \
    "  ldr lr, [sp, #20]\n  ldr r12, [sp, #28]\n  ldr r9, [r12]\n  ldr r1, [lr, #20]\n"          \
    "  add r12, r12, r1\n  str r12, [sp, #28]\n"                                                   \
    "  ldr r12, [lr, #4]\n  str r12, [sp, #4]\n  ldr r12, [lr, #8]\n  str r12, [sp, #8]\n"        \
    "1:\n  ldr r12, [sp, #4]\n  ldm r12!, {r0, r1, r2}\n  str r12, [sp, #4]\n"                      \
    "  ldr lr, [sp, #0]\n  add r0, lr, r0, lsl #1\n  add r1, lr, r1, lsl #1\n"                     \
    "  add r2, lr, r2, lsl #1\n  ldr lr, [sp, #12]\n  add lr, r3, lr\n2:\n"
#define MF_DW_ASM_EPILOGUE(NAME)                                                                   \
    "  strd r10, r11, [r3], #8\n  cmp r3, lr\n  bne 2b\n"                                          \
    "  ldr r12, [sp, #16]\n  cmp r12, #0\n  beq 3f\n"                                               \
    "  ldr r12, [r0]\n  smlad r10, r12, r4, r9\n  ldr r12, [r0, #4]\n  smlabb r10, r12, r7, r10\n"   \
    "  ldr r12, [r1]\n  smlad r10, r12, r5, r10\n  ldr r12, [r1, #4]\n  smlabt r10, r12, r7, r10\n" \
    "  ldr r12, [r2]\n  smlad r10, r12, r6, r10\n  ldr r12, [r2, #4]\n  smlabb r10, r12, r8, r10\n" \
    "  str r10, [r3], #4\n3:\n"                                                                     \
    "  ldr r12, [sp, #8]\n  subs r12, r12, #1\n  str r12, [sp, #8]\n  bne 1b\n"                    \
    "  ldr lr, [sp, #20]\n  ldr r1, [lr, #36]\n  ldr r12, [sp, #0]\n  add r12, r12, r1\n"         \
    "  str r12, [sp, #0]\n  ldr r12, [sp, #24]\n  subs r12, r12, #1\n  str r12, [sp, #24]\n"      \
    "  bne 4b\n"                                                                                   \
    "  add sp, sp, #36\n  pop {r4-r11, pc}\n  .size " NAME ", .-" NAME "\n"
/* dw2 (issue 12): the stride-1 3x3 rows, five outputs per block: tap row k's weights as two
 * words W = (w_k0, w_k1), V = (w_k1, w_k2) (six words per channel at wv), so that each loaded
 * word of the row (halfwords x, x + 1) feeds up to four products: output x by W (SMLAD), output
 * x - 1 by x's half times w_k0 (SMLATB) ... The sums start from the bias held five times at sp.
 * Registers: r0-r2 the tap rows, r3 the sums, r4-r8 five outputs, r9 / r10 a row's weights,
 * r11 the loaded word, r12 the blocks' end, lr the channel's weights. 49 instructions per five
 * outputs; a row's last outputs: one (15 instructions), two (21) or 3 .. 4 as a block of four
 * (its words stay within two halfwords past the row's last column, inside the scratch). Stack: 0 bias x5, 20 job, 24 base,
 * 28 row_off cursor, 32 its end, 36 channels left, 40 bias pointer, 44 full_bytes, 48 tail. */
__asm__("  .text\n  .syntax unified\n  .thumb\n  .align 2\n  .global mf_dw_rows3x3_s1_asm\n"
        "  .hidden mf_dw_rows3x3_s1_asm\n  .type mf_dw_rows3x3_s1_asm, %function\n"
        "  .thumb_func\nmf_dw_rows3x3_s1_asm:\n"
        "  push {r4-r11, lr}\n  sub sp, sp, #52\n  str r0, [sp, #20]\n"
        "  ldr r1, [r0, #40]\n  str r1, [sp, #44]\n  ldr r1, [r0, #44]\n  str r1, [sp, #48]\n"
        "  ldr r1, [r0, #0]\n  str r1, [sp, #24]\n  ldr r1, [r0, #16]\n  str r1, [sp, #40]\n"
        "  ldr r1, [r0, #32]\n  str r1, [sp, #36]\n  ldr lr, [r0, #12]\n  ldr r3, [r0, #24]\n"
        "4:\n  ldr r0, [sp, #20]\n  ldr r12, [sp, #40]\n  ldr r1, [r12]\n  ldr r2, [r0, #20]\n"
        "  add r12, r12, r2\n  str r12, [sp, #40]\n  mov r4, r1\n  mov r5, r1\n  mov r6, r1\n"
        "  mov r7, r1\n  stm sp, {r1, r4-r7}\n"
        "  ldr r11, [r0, #4]\n  str r11, [sp, #28]\n  ldr r12, [r0, #8]\n"
        "  add r12, r12, r12, lsl #1\n  add r12, r11, r12, lsl #2\n  str r12, [sp, #32]\n"
        "3:\n  ldm r11!, {r0, r1, r2}\n  str r11, [sp, #28]\n"
        "  ldr r12, [sp, #24]\n  add r0, r12, r0, lsl #1\n  add r1, r12, r1, lsl #1\n"
        "  add r2, r12, r2, lsl #1\n  ldr r12, [sp, #44]\n"
        "  adds r12, r3, r12\n  cmp r3, r12\n  beq 5f\n"
        "2:\n  ldm sp, {r4-r8}\n"
        "  ldrd r9, r10, [lr, #0]\n  ldr r11, [r0], #10\n"
        "  smlad r4, r11, r9, r4\n  smlatb r5, r11, r9, r5\n  ldr r11, [r0, #-6]\n"
        "  smlabt r4, r11, r10, r4\n  smlad r5, r11, r10, r5\n  smlad r6, r11, r9, r6\n"
        "  smlatb r7, r11, r9, r7\n  ldr r11, [r0, #-2]\n  smlabt r6, r11, r10, r6\n"
        "  smlad r7, r11, r10, r7\n  smlad r8, r11, r9, r8\n  ldr r11, [r0, #2]\n"
        "  smlabt r8, r11, r10, r8\n"
        "  ldrd r9, r10, [lr, #8]\n  ldr r11, [r1], #10\n"
        "  smlad r4, r11, r9, r4\n  smlatb r5, r11, r9, r5\n  ldr r11, [r1, #-6]\n"
        "  smlabt r4, r11, r10, r4\n  smlad r5, r11, r10, r5\n  smlad r6, r11, r9, r6\n"
        "  smlatb r7, r11, r9, r7\n  ldr r11, [r1, #-2]\n  smlabt r6, r11, r10, r6\n"
        "  smlad r7, r11, r10, r7\n  smlad r8, r11, r9, r8\n  ldr r11, [r1, #2]\n"
        "  smlabt r8, r11, r10, r8\n"
        "  ldrd r9, r10, [lr, #16]\n  ldr r11, [r2], #10\n"
        "  smlad r4, r11, r9, r4\n  smlatb r5, r11, r9, r5\n  ldr r11, [r2, #-6]\n"
        "  smlabt r4, r11, r10, r4\n  smlad r5, r11, r10, r5\n  smlad r6, r11, r9, r6\n"
        "  smlatb r7, r11, r9, r7\n  ldr r11, [r2, #-2]\n  smlabt r6, r11, r10, r6\n"
        "  smlad r7, r11, r10, r7\n  smlad r8, r11, r9, r8\n  ldr r11, [r2, #2]\n"
        "  smlabt r8, r11, r10, r8\n"
        "  stm r3!, {r4-r8}\n  cmp r3, r12\n  bne 2b\n"
        "5:\n  ldr r12, [sp, #48]\n  cmp r12, #0\n  beq 6f\n  cmp r12, #2\n  bhi 10f\n"
        "  ldm sp, {r4, r5}\n  blo 11f\n"
        "  ldrd r9, r10, [lr, #0]\n  ldr r11, [r0]\n  smlad r4, r11, r9, r4\n"
        "  smlatb r5, r11, r9, r5\n  ldr r11, [r0, #4]\n  smlabt r4, r11, r10, r4\n"
        "  smlad r5, r11, r10, r5\n"
        "  ldrd r9, r10, [lr, #8]\n  ldr r11, [r1]\n  smlad r4, r11, r9, r4\n"
        "  smlatb r5, r11, r9, r5\n  ldr r11, [r1, #4]\n  smlabt r4, r11, r10, r4\n"
        "  smlad r5, r11, r10, r5\n"
        "  ldrd r9, r10, [lr, #16]\n  ldr r11, [r2]\n  smlad r4, r11, r9, r4\n"
        "  smlatb r5, r11, r9, r5\n  ldr r11, [r2, #4]\n  smlabt r4, r11, r10, r4\n"
        "  smlad r5, r11, r10, r5\n"
        "  strd r4, r5, [r3], #8\n  b 6f\n11:\n"
        "  ldrd r9, r10, [lr, #0]\n  ldr r11, [r0]\n  smlad r4, r11, r9, r4\n"
        "  ldr r11, [r0, #4]\n  smlabt r4, r11, r10, r4\n"
        "  ldrd r9, r10, [lr, #8]\n  ldr r11, [r1]\n  smlad r4, r11, r9, r4\n"
        "  ldr r11, [r1, #4]\n  smlabt r4, r11, r10, r4\n"
        "  ldrd r9, r10, [lr, #16]\n  ldr r11, [r2]\n  smlad r4, r11, r9, r4\n"
        "  ldr r11, [r2, #4]\n  smlabt r4, r11, r10, r4\n"
        "  str r4, [r3], #4\n  b 6f\n10:\n  ldm sp, {r4-r7}\n"
        "  ldrd r9, r10, [lr, #0]\n  ldr r11, [r0]\n"
        "  smlad r4, r11, r9, r4\n  smlatb r5, r11, r9, r5\n  ldr r11, [r0, #4]\n"
        "  smlabt r4, r11, r10, r4\n  smlad r5, r11, r10, r5\n  smlad r6, r11, r9, r6\n"
        "  smlatb r7, r11, r9, r7\n  ldr r11, [r0, #8]\n  smlabt r6, r11, r10, r6\n"
        "  smlad r7, r11, r10, r7\n"
        "  ldrd r9, r10, [lr, #8]\n  ldr r11, [r1]\n"
        "  smlad r4, r11, r9, r4\n  smlatb r5, r11, r9, r5\n  ldr r11, [r1, #4]\n"
        "  smlabt r4, r11, r10, r4\n  smlad r5, r11, r10, r5\n  smlad r6, r11, r9, r6\n"
        "  smlatb r7, r11, r9, r7\n  ldr r11, [r1, #8]\n  smlabt r6, r11, r10, r6\n"
        "  smlad r7, r11, r10, r7\n"
        "  ldrd r9, r10, [lr, #16]\n  ldr r11, [r2]\n"
        "  smlad r4, r11, r9, r4\n  smlatb r5, r11, r9, r5\n  ldr r11, [r2, #4]\n"
        "  smlabt r4, r11, r10, r4\n  smlad r5, r11, r10, r5\n  smlad r6, r11, r9, r6\n"
        "  smlatb r7, r11, r9, r7\n  ldr r11, [r2, #8]\n  smlabt r6, r11, r10, r6\n"
        "  smlad r7, r11, r10, r7\n"
        "  cmp r12, #3\n  beq 9f\n  stm r3!, {r4-r7}\n  b 6f\n9:\n  stm r3!, {r4-r6}\n"
        "6:\n  ldrd r11, r12, [sp, #28]\n  cmp r11, r12\n  bne 3b\n"
        "  add lr, lr, #24\n  ldr r0, [sp, #20]\n  ldr r1, [r0, #36]\n  ldr r12, [sp, #24]\n"
        "  add r12, r12, r1\n  str r12, [sp, #24]\n  ldr r12, [sp, #36]\n  subs r12, r12, #1\n"
        "  str r12, [sp, #36]\n  bne 4b\n"
        "  add sp, sp, #52\n  pop {r4-r11, pc}\n  .size mf_dw_rows3x3_s1_asm, .-mf_dw_rows3x3_s1_asm\n");
__asm__(MF_DW_ASM_PROLOGUE("mf_dw_rows3x3_s2_asm")
        "  ldr r12, [r0, #4]\n  smlabb r10, r12, r7, r9\n  smlad r11, r12, r4, r9\n"
        "  ldr r12, [r0, #8]\n  smlabb r11, r12, r7, r11\n"
        "  ldr r12, [r0], #8\n  smlad r10, r12, r4, r10\n"
        "  ldr r12, [r1, #4]\n  smlabt r10, r12, r7, r10\n  smlad r11, r12, r5, r11\n"
        "  ldr r12, [r1, #8]\n  smlabt r11, r12, r7, r11\n"
        "  ldr r12, [r1], #8\n  smlad r10, r12, r5, r10\n"
        "  ldr r12, [r2, #4]\n  smlabb r10, r12, r8, r10\n  smlad r11, r12, r6, r11\n"
        "  ldr r12, [r2, #8]\n  smlabb r11, r12, r8, r11\n"
        "  ldr r12, [r2], #8\n  smlad r10, r12, r6, r10\n"
        MF_DW_ASM_EPILOGUE("mf_dw_rows3x3_s2_asm"));
#else
#define MF_DW_ASM 0
#endif

/* The accumulators of one output channel along one output row: acc[i] = bias + the window of
 * output pixel i (base + row_off[ky] is the padded row of tap row ky of the channel, column 0
 * the first window's left edge; w16 the channel's widened weights, KW2 per tap row). KIND: 3 =
 * 3x3 with dilation 1, 2 = any width with dilation 1 (tap pairs), 1 = dilation along x above
 * 1. SW: the stride along x when it is 1 or 2 (0: `sw`), so the pointer steps are constants. */
MF_INLINE void mf_dw_acc_row(const int16_t *base,
                             const int32_t *row_off,
                             int32_t rows_n,
                             const int16_t *w16,
                             int32_t kh,
                             int32_t kw,
                             int32_t kw2,
                             int32_t sw,
                             int32_t dw,
                             int32_t count,
                             int32_t bias,
                             int32_t *acc,
                             const int KIND,
                             const int SW)
{
    const int32_t step = SW != 0 ? SW : sw;
    if (KIND == 3) {
#if MF_USE_DSP
        /* m4dw: the channel's weights as five words (mf_dw_rows_run): the pairs (w00, w01),
         * (w10, w11), (w20, w21), the third column of rows 0 and 1 (w02, w12), w22 alone. */
        const uint32_t *wv = (const uint32_t *)(const void *)w16;
        const uint32_t w0 = wv[0], w1 = wv[1], w2 = wv[2], v01 = wv[3], v2w = wv[4];
        (void)kw2;
#if MF_DW_ASM
        if (count >= 2) {
            const mf_dw_asm_job job = {base, row_off, rows_n, wv, &bias, 0, acc, count, 1, 0,
                                       4 * (count - count % 5), count % 5};
            if (step == 1) {
                mf_dw_rows3x3_s1_asm(&job);
            } else {
                mf_dw_rows3x3_s2_asm(&job);
            }
            return;
        }
#endif
#else
        const int32_t w00 = w16[0], w01 = w16[1], w02 = w16[2];
        const int32_t w10 = w16[kw2], w11 = w16[kw2 + 1], w12 = w16[kw2 + 2];
        const int32_t w20 = w16[2 * kw2], w21 = w16[2 * kw2 + 1], w22 = w16[2 * kw2 + 2];
#endif
        for (int32_t t = 0; t < rows_n; t++, row_off += 3) {
            const int16_t *r0 = base + row_off[0], *r1 = base + row_off[1],
                          *r2 = base + row_off[2];
            int32_t *const end = acc + count;
#if MF_USE_DSP
            /* m4dw: two neighbouring outputs per pass. Stride 1: the pairs at columns 0, 1 and
             * 2 of a row give the taps (0, 1) of both outputs and tap 2 of each from one word
             * (its low and high halves); stride 2: columns 0, 2 and 4, the middle pair both
             * output 0's tap 2 and output 1's taps (0, 1). 12 multiplies and 9 loads for 18
             * products; an odd row's last output alone. Assembly builds run this loop in
             * mf_dw_rows3x3_s1_asm / _s2_asm (rows of one output come here). */
#if !MF_DW_ASM
            int32_t *const end2 = acc + (count & ~1);
            while (acc != end2) {
                uint32_t x = mf_read_u32(r0), y = mf_read_u32(r0 + (SW == 1 ? 1 : 2)),
                         z = mf_read_u32(r0 + (SW == 1 ? 2 : 4));
                int32_t a0 = mf_smlad(x, w0, bias);
                int32_t a1;
                if (SW == 1) {
                    a1 = mf_smlad(y, w0, bias);
                    a0 = mf_smlabb(z, v01, a0);
                    a1 = mf_dw_smlatb(z, v01, a1);
                } else {
                    a0 = mf_smlabb(y, v01, a0);
                    a1 = mf_smlad(y, w0, bias);
                    a1 = mf_smlabb(z, v01, a1);
                }
                x = mf_read_u32(r1);
                y = mf_read_u32(r1 + (SW == 1 ? 1 : 2));
                z = mf_read_u32(r1 + (SW == 1 ? 2 : 4));
                a0 = mf_smlad(x, w1, a0);
                if (SW == 1) {
                    a1 = mf_smlad(y, w1, a1);
                    a0 = mf_dw_smlabt(z, v01, a0);
                    a1 = mf_smlatt(z, v01, a1);
                } else {
                    a0 = mf_dw_smlabt(y, v01, a0);
                    a1 = mf_smlad(y, w1, a1);
                    a1 = mf_dw_smlabt(z, v01, a1);
                }
                x = mf_read_u32(r2);
                y = mf_read_u32(r2 + (SW == 1 ? 1 : 2));
                z = mf_read_u32(r2 + (SW == 1 ? 2 : 4));
                a0 = mf_smlad(x, w2, a0);
                if (SW == 1) {
                    a1 = mf_smlad(y, w2, a1);
                    a0 = mf_smlabb(z, v2w, a0);
                    a1 = mf_dw_smlatb(z, v2w, a1);
                } else {
                    a0 = mf_smlabb(y, v2w, a0);
                    a1 = mf_smlad(y, w2, a1);
                    a1 = mf_smlabb(z, v2w, a1);
                }
                acc[0] = a0;
                acc[1] = a1;
                acc += 2;
                r0 += 2 * step;
                r1 += 2 * step;
                r2 += 2 * step;
            }
#endif
            if (acc != end) {
                int32_t a = mf_smlad(mf_read_u32(r0), w0, bias);
                a = mf_smlabb(mf_read_u32(r0 + 2), v01, a);
                a = mf_smlad(mf_read_u32(r1), w1, a);
                a = mf_dw_smlabt(mf_read_u32(r1 + 2), v01, a);
                a = mf_smlad(mf_read_u32(r2), w2, a);
                *acc++ = mf_smlabb(mf_read_u32(r2 + 2), v2w, a);
            }
#else
            while (acc != end) {
                int32_t a = bias + r0[0] * w00 + r0[1] * w01 + r0[2] * w02;
                a += r1[0] * w10 + r1[1] * w11 + r1[2] * w12;
                *acc++ = a + r2[0] * w20 + r2[1] * w21 + r2[2] * w22;
                r0 += step;
                r1 += step;
                r2 += step;
            }
#endif
        }
        return;
    }
    for (int32_t t = 0; t < rows_n; t++, row_off += kh) {
        int32_t i = 0;
#if MF_USE_DSP
        if (KIND == 2) {
            /* m4dw: four neighbouring outputs per pass share each loaded weight pair (9
             * instructions per 8 products instead of 12). */
            for (; i + 4 <= count; i += 4) {
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                const int16_t *w = w16;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int16_t *r = base + row_off[ky] + i * step;
                    for (int32_t kx = 0; kx < kw2; kx += 2) { /* the pad weight is 0 */
                        const uint32_t wp = mf_read_u32(w + kx);
                        a0 = mf_smlad(mf_read_u32(r + kx), wp, a0);
                        a1 = mf_smlad(mf_read_u32(r + step + kx), wp, a1);
                        a2 = mf_smlad(mf_read_u32(r + 2 * step + kx), wp, a2);
                        a3 = mf_smlad(mf_read_u32(r + 3 * step + kx), wp, a3);
                    }
                    w += kw2;
                }
                acc[0] = a0;
                acc[1] = a1;
                acc[2] = a2;
                acc[3] = a3;
                acc += 4;
            }
        }
#endif
        for (; i < count; i++) {
            int32_t a = bias;
            const int32_t x = i * step;
            const int16_t *w = w16;
            for (int32_t ky = 0; ky < kh; ky++) {
                const int16_t *r = base + row_off[ky] + x;
                if (KIND == 2) {
#if MF_USE_DSP
                    for (int32_t kx = 0; kx < kw2; kx += 2) { /* the pad weight is 0 */
                        a = mf_smlad(mf_read_u32(r + kx), mf_read_u32(w + kx), a);
                    }
#else
                    for (int32_t kx = 0; kx < kw; kx++) {
                        a += r[kx] * w[kx];
                    }
#endif
                } else {
                    for (int32_t kx = 0; kx < kw; kx++) {
                        a += r[kx * dw] * w[kx];
                    }
                }
                w += kw2;
            }
            *acc++ = a;
        }
    }
}

/* m4dw: the 3x3 rows of the group's g channels (multiplier 1) in one assembly call; dw2: stride
 * 1 with any multiplier and count (one call per input channel when the multiplier is above 1). */
static void mf_dw_rows3x3_group(const int16_t *planes, int32_t plane, const int32_t *row_off,
                                int32_t rows_n, const int16_t *w16, int32_t g, int32_t mult,
                                int32_t count, const int32_t *bias, int32_t bstep, int32_t *acc,
                                int32_t sw)
{
#if MF_DW_ASM
    static const int32_t zero = 0;
    /* dw2: stride 1 runs every count and multiplier: one call per input channel (its mult
     * output channels read the same planes) or, multiplier 1, one call for the group. */
    const int32_t per = mult == 1 ? g : mult;
    const int32_t full = sw == 1 ? count - count % 5 : 0;
    mf_dw_asm_job job = {planes, row_off, rows_n, (const uint32_t *)(const void *)w16,
                         bias != NULL ? bias : &zero,
                         bias != NULL ? bstep * (int32_t)sizeof(int32_t) : 0,
                         acc, count, per, mult == 1 ? plane * (int32_t)sizeof(int16_t) : 0,
                         4 * full, count - full};
    if (sw != 1) { /* multiplier 1 and count >= 2 (MF_DW_ACC_GROUP) */
        mf_dw_rows3x3_s2_asm(&job);
        return;
    }
    const int32_t calls = mult == 1 ? 1 : g;
    for (int32_t c = 0; c < calls; c++) {
        mf_dw_rows3x3_s1_asm(&job);
        job.base += plane;
        job.wv += 6 * per;
        job.bias += bias != NULL ? bstep * per : 0;
        job.acc += per * rows_n * count;
    }
#else
    (void)planes, (void)plane, (void)row_off, (void)rows_n, (void)w16, (void)g, (void)count;
    (void)bias, (void)bstep, (void)acc, (void)sw, (void)mult;
#endif
}

/* The sums of every output channel of a group along `rows_n` output rows (g input channels by
 * mult: channel j's padded rows at planes + (j / mult) * plane, its weights at w16 + j * kh *
 * kw2, its sums at acc + j * rows_n * count, row t's tap rows at row_off + t * kh). One function
 * per window kind, so each row loop is compiled on its own. */
#define MF_DW_ACC_GROUP(NAME, KHV, KWV, KW2V, SWV, DWV, KIND, SWC)                                \
    MF_NOINLINE void NAME(const int16_t *planes, int32_t plane, const int32_t *row_off,            \
                          int32_t rows_n, const int16_t *w16, int32_t g, int32_t mult,             \
                          int32_t kh, int32_t kw, int32_t sw, int32_t dw, int32_t count,           \
                          const int32_t *bias, int32_t bstep, int32_t *acc)                        \
    {                                                                                              \
        const int32_t kw2 = (kw + 1) & ~1;                                                         \
        if (MF_DW_ASM && (KIND) == 3 && ((SWC) == 1 || (mult == 1 && count >= 2))) {             \
            mf_dw_rows3x3_group(planes, plane, row_off, rows_n, w16, g, mult, count, bias, bstep,  \
                                acc, (SWC)); /* m4dw, dw2: assembly calls */                       \
            return;                                                                                \
        }                                                                                          \
        (void)kh;                                                                                  \
        (void)sw;                                                                                  \
        (void)dw;                                                                                  \
        (void)kw2;                                                                                 \
        for (int32_t c = 0; c < g; c++) {                                                          \
            const int16_t *base = planes + (size_t)c * plane;                                      \
            for (int32_t m = 0; m < mult; m++) {                                                   \
                int32_t b = 0;                                                                     \
                if (bias != NULL) {                                                                \
                    b = *bias;                                                                     \
                    bias += bstep;                                                                 \
                }                                                                                  \
                mf_dw_acc_row(base, row_off, rows_n, w16, KHV, KWV, KW2V, SWV, DWV, count, b, acc, \
                              KIND, SWC);                                                          \
                acc += rows_n * count;                                                             \
                w16 += (KHV) * (KW2V);                                                             \
            }                                                                                      \
        }                                                                                          \
    }

MF_DW_ACC_GROUP(mf_dw_acc_3x3_s1, 3, 3, 4, 1, 1, 3, 1)
MF_DW_ACC_GROUP(mf_dw_acc_3x3_s2, 3, 3, 4, 2, 1, 3, 2)
MF_DW_ACC_GROUP(mf_dw_acc_pairs, kh, kw, kw2, sw, 1, 2, 0)
MF_DW_ACC_GROUP(mf_dw_acc_dilated, kh, kw, kw2, sw, dw, 1, 0)

/* acc[0 .. count) requantized into out, out + step, ...: FAST with the channel's mf_rq1 and the
 * output offset folded into its constant, CLAMP when the activation is narrower than int8. */
MF_INLINE void mf_dw_requant_run(const int32_t *acc,
                                 int32_t count,
                                 const mf_rq1 *rq1,
                                 int32_t mult,
                                 int32_t shift,
                                 int32_t off,
                                 int32_t lo,
                                 int32_t hi,
                                 int8_t *out,
                                 int32_t step,
                                 const int FAST,
                                 const int CLAMP)
{
    const mf_rq1 q = *rq1;
    for (int32_t i = 0; i < count; i++) {
        int32_t v = FAST ? mf_rq1_apply(&q, acc[i])
                         : mf_requantize_fast(acc[i], mult, shift) + off;
        v = mf_sat_s8(v);
        if (CLAMP) {
            v = v < lo ? lo : (v > hi ? hi : v);
        }
        *out = (int8_t)v;
        out += step;
    }
}

/* Channel j's requantization, prepared once per group: mf_rq1 with the output offset folded in
 * (its low word always has bit 30 set), or for the rare generic form klo = 0 with the channel's
 * multiplier in m and its shift in r1. */
typedef mf_rq1 mf_dw_rq;

MF_NOINLINE void mf_dw_rq_init(mf_dw_rq *t, int32_t mult, int32_t shift, int32_t off)
{
    mf_rq1 q = {0, 0, 0, 0};
    /* The output offset joins the rounding constant when the sum stays below 2^63: with
     * r <= 22, |acc * m| < 2^62, K < 2^53 and |off| * 2^(31 + r) <= 2^60. */
    const int fast = mf_rq1_init(&q, mult, shift) && q.r1 <= 21;
    if (fast) {
        const uint64_t k = (((uint64_t)q.khi << 32) | q.klo) +
                           (uint64_t)((int64_t)off * ((int64_t)1 << (32 + q.r1)));
        q.khi = (uint32_t)(k >> 32);
        q.klo = (uint32_t)k;
    }
    if (!fast) {
        q.m = mult;
        q.r1 = shift;
        q.klo = 0;
        q.khi = 0;
    }
    *t = q;
}

/* The sums of `n` channels (acc + j * count) requantized into out + j (pixel stride `step`). */
MF_NOINLINE void mf_dw_requant_group(const int32_t *acc,
                                     const mf_dw_rq *rqt,
                                     int32_t n,
                                     int32_t count,
                                     int32_t off,
                                     const mf_activation *act,
                                     int8_t *out,
                                     int32_t step)
{
    const int32_t lo = act->min, hi = act->max;
    const int clamp = lo > MF_INT8_MIN || hi < MF_INT8_MAX;
    for (int32_t j = 0; j < n; j++) {
        const mf_dw_rq *t = rqt + j;
        const int32_t *a = acc + (size_t)j * count;
        if (t->klo == 0) { /* a left shift or a tiny multiplier: rare */
            mf_dw_requant_run(a, count, t, t->m, t->r1, off, lo, hi, out + j, step, 0,
                              1);
        } else if (clamp) {
            mf_dw_requant_run(a, count, t, 0, 0, 0, lo, hi, out + j, step, 1, 1);
        } else {
            mf_dw_requant_run(a, count, t, 0, 0, 0, lo, hi, out + j, step, 1, 0);
        }
    }
}

#if MF_USE_DSP
/* m4dw: whether the group's n output channels (oc0 ..) take mf_dw_rq2: every shift in
 * [-22, -1] and |bias| + 128 * 128 * taps below 2^30 (|w| <= 128, so a doubled sum fits
 * int32). */
MF_NOINLINE int mf_dw_group_doubles(const int32_t *bias, const mf_nn_requant *rq, int32_t oc0,
                                    int32_t n, int32_t taps)
{
    const int64_t room = ((int64_t)1 << 30) - (int64_t)128 * 128 * taps;
    for (int32_t j = 0; j < n; j++) {
        const int32_t shift = rq->shift[oc0 + j];
        const int64_t b = bias != NULL ? bias[j] : 0;
        if (shift > -1 || shift < -22 || rq->multiplier[oc0 + j] < 0 || b >= room || -b >= room) {
            return 0;
        }
    }
    return 1;
}

/* m4dw: channel j's mf_dw_rq2 (the group doubles, mf_dw_group_doubles). */
MF_INLINE void mf_dw_rq2_init(mf_dw_rq2 *q, int32_t m, int32_t shift, int32_t off, int32_t bias)
{
    const int32_t r = -shift;
    q->m = m;
    q->r = r;
    q->c = (int32_t)((1u << (r - 1)) + (uint32_t)off * (1u << r));
    q->b2 = 2 * bias;
}

/* m4dw: channels q[0] and q[1] (sums at a and a + count) into o[0] and o[1], pixel stride
 * `step`: one halfword store per pixel; CLAMP: the activation range, lo and hi as four bytes. */
MF_INLINE void mf_dw_rq2_pair_run(const int32_t *a,
                                  int32_t count,
                                  const mf_dw_rq2 *q,
                                  int8_t *o,
                                  int32_t step,
                                  uint32_t lo,
                                  uint32_t hi,
                                  const int CLAMP)
{
    const int32_t m0 = q[0].m, r0 = q[0].r, c0 = q[0].c;
    const int32_t m1 = q[1].m, r1 = q[1].r, c1 = q[1].c;
    const int32_t *const end = a + count;
    while (a != end) {
        const int32_t d1 = a[count];
        const int32_t d0 = *a++;
        const int32_t v0 = mf_ssat8(mf_dw_rq2_apply(d0, m0, c0, r0));
        const int32_t v1 = mf_ssat8(mf_dw_rq2_apply(d1, m1, c1, r1));
        uint32_t v = mf_dw_bfi8((uint32_t)v0, (uint32_t)v1);
        if (CLAMP) {
            v = mf_min_s8x4(mf_max_s8x4(v, lo), hi);
        }
        const uint16_t pair = (uint16_t)v; /* one STRH, any alignment */
        memcpy(o, &pair, sizeof pair);
        o += step;
    }
}

MF_NOINLINE void mf_dw_rq2_pair(const int32_t *a, int32_t count, const mf_dw_rq2 *q, int8_t *o,
                                int32_t step)
{
    mf_dw_rq2_pair_run(a, count, q, o, step, 0, 0, 0);
}

MF_NOINLINE void mf_dw_rq2_pair_clamp(const int32_t *a, int32_t count, const mf_dw_rq2 *q,
                                      int8_t *o, int32_t step, uint32_t lo, uint32_t hi)
{
    mf_dw_rq2_pair_run(a, count, q, o, step, lo, hi, 1);
}

/* m4dw: the doubled sums of `n` channels (acc + j * count) requantized with mf_dw_rq2 into
 * out + j (pixel stride `step`), two channels at a time. */
MF_NOINLINE void mf_dw_requant2_group(const int32_t *acc,
                                      const mf_dw_rq2 *q,
                                      int32_t n,
                                      int32_t count,
                                      const mf_activation *act,
                                      int8_t *out,
                                      int32_t step)
{
    const int clamp = act->min > MF_INT8_MIN || act->max < MF_INT8_MAX;
    const uint32_t lo = 0x01010101u * (uint8_t)act->min, hi = 0x01010101u * (uint8_t)act->max;
    int32_t j = 0;
    for (; j + 2 <= n; j += 2) {
        if (clamp) {
            mf_dw_rq2_pair_clamp(acc + (size_t)j * count, count, q + j, out + j, step, lo, hi);
        } else {
            mf_dw_rq2_pair(acc + (size_t)j * count, count, q + j, out + j, step);
        }
    }
    if (j < n) {
        const int32_t m0 = q[j].m, r0 = q[j].r, c0 = q[j].c;
        const int32_t *a = acc + (size_t)j * count;
        int8_t *o = out + j;
        for (int32_t i = 0; i < count; i++) {
            int32_t v = mf_ssat8(mf_dw_rq2_apply(a[i], m0, c0, r0));
            if (clamp) {
                v = mf_clamp_i32(v, act->min, act->max);
            }
            *o = (int8_t)v;
            o += step;
        }
    }
}
#endif

/* The image columns of one ring row of channels c0 .. c0 + g - 1: `xn` pixels from src (the
 * row's first image pixel, channel c0; pixel stride c), or the zero point for a row outside the
 * image (src NULL), into dst, dst + plane, ... (the row's first image column of each channel).
 * m4dw: the padded columns of every ring row hold the zero point from the group's start
 * (mf_dw_rows_run) and are never written again, so a row copies only its image columns. */
MF_INLINE void mf_dw_fill_row(const int8_t *src,
                                int32_t c,
                                int32_t g,
                                int32_t xn,
                                int16_t zp,
                                int16_t *dst,
                                int32_t plane)
{
    if (src == NULL) {
        for (int32_t j = 0; j < g; j++) {
            int16_t *d = dst + (size_t)j * plane;
            for (int32_t k = 0; k < xn; k++) {
                d[k] = zp;
            }
        }
        return;
    }
    if (g == 4) {
        /* Four channels at once: one word of input bytes per column (unaligned loads are
         * allowed where these paths run), its bytes sign-extended into the four rows. */
        int16_t *d0 = dst, *d1 = dst + plane, *d2 = dst + 2 * plane, *d3 = dst + 3 * plane;
        const int8_t *s = src;
        int32_t k = 0;
        /* (DSP builds copy rows of two columns and more in mf_dw_fill_span, two columns at a
         * time.) */
        for (; k < xn; k++) {
            const uint32_t v = mf_read_u32_any(s);
            d0[k] = (int8_t)(uint8_t)v;
            d1[k] = (int8_t)(uint8_t)(v >> 8);
            d2[k] = (int8_t)(uint8_t)(v >> 16);
            d3[k] = (int8_t)(uint8_t)(v >> 24);
            s += c;
        }
        return;
    }
    for (int32_t j = 0; j < g; j++) {
        int16_t *d = dst + (size_t)j * plane;
        const int8_t *s = src + j;
        for (int32_t k = 0; k < xn; k++) {
            d[k] = *s;
            s += c;
        }
    }
}

/* The ring of a group and how its rows are filled (constant over the group's passes). */
typedef struct {
    size_t in_row;     /* bytes per input row */
    int32_t in_h, cin, g, xn;
    int16_t zp;
    int16_t *planes_g; /* ring row 0's first image column, channel 0 */
    int32_t cols, plane, ring, kh, sh, dh;
} mf_dw_ring;

/* dw2: input rows iy .. y_last into ring slots slot, slot + 1, ... (mod ring): one call per span,
 * the ring's values loaded once (the row copies inlined). */
MF_NOINLINE void mf_dw_fill_span(const mf_dw_ring *r, const int8_t *in_g, int32_t iy,
                                 int32_t y_last, int32_t slot)
{
    const int32_t c = r->cin, g = r->g, xn = r->xn, plane = r->plane, cols = r->cols;
    const int32_t ring = r->ring, in_h = r->in_h;
    const int16_t zp = r->zp;
    const size_t in_row = r->in_row;
    int16_t *const planes_g = r->planes_g;
#if MF_USE_DSP
    if (g == 4 && xn >= 2) {
        /* m4dw, dw2: the four channels' rows two columns at a time: PKHBT / PKHTB put the two
         * pixels' channels 0, 1 and 2, 3 side by side, SXTB16 (plain and rotated by 8) widens
         * each channel's pair of columns into one word of its row; one destination pointer,
         * the other rows at fixed byte offsets (a small row set-up). */
        const size_t pb = (size_t)plane * sizeof(int16_t);
        const int32_t pairs = xn >> 1;
        for (; iy <= y_last; iy++) {
            int16_t *d = planes_g + (size_t)slot * cols;
            slot = slot + 1 == ring ? 0 : slot + 1;
            if (iy < 0 || iy >= in_h) {
                mf_dw_fill_row(NULL, c, g, xn, zp, d, plane);
                continue;
            }
            const int8_t *src = in_g + (size_t)iy * in_row;
            int16_t *const end = d + 2 * pairs;
            while (d != end) {
                const uint32_t v0 = mf_read_u32_any(src), v1 = mf_read_u32_any(src + c);
                const uint32_t t01 = mf_dw_pkhbt16(v0, v1);
                const uint32_t t23 = mf_dw_pkhtb16(v1, v0);
                char *const db = (char *)d;
                mf_write_u32(d, mf_sxtb16(t01));
                mf_write_u32(db + pb, mf_sxtb16_ror8(t01));
                mf_write_u32(db + 2 * pb, mf_sxtb16(t23));
                mf_write_u32(db + 3 * pb, mf_sxtb16_ror8(t23));
                src += 2 * c;
                d += 2;
            }
            if (xn & 1) {
                const uint32_t v = mf_read_u32_any(src);
                char *const db = (char *)d;
                d[0] = (int8_t)(uint8_t)v;
                *(int16_t *)(void *)(db + pb) = (int8_t)(uint8_t)(v >> 8);
                *(int16_t *)(void *)(db + 2 * pb) = (int8_t)(uint8_t)(v >> 16);
                *(int16_t *)(void *)(db + 3 * pb) = (int8_t)(uint8_t)(v >> 24);
            }
        }
        return;
    }
#endif
    for (; iy <= y_last; iy++) {
        const int inside = iy >= 0 && iy < in_h;
        mf_dw_fill_row(inside ? in_g + (size_t)iy * in_row : NULL, c, g, xn, zp,
                       planes_g + (size_t)slot * cols, plane);
        slot = slot + 1 == ring ? 0 : slot + 1;
    }
}

/* The tap rows of `rows_n` output rows whose first reads input row y0: each row not in the ring
 * is copied in (from in_g, row 0's first image pixel of the group), and the ring offset of
 * every tap row goes to row_off. The rows one pass reads differ mod `ring`: each is copied once
 * while it stays in the ring. Slots step with the rows (m4dw: its own function, so that its few
 * values stay in registers; no division per row). */
MF_NOINLINE void mf_dw_pass_rows(const mf_dw_ring *r, const int8_t *in_g, int32_t *slot_row,
                                 int32_t *row_off, int32_t y0, int32_t rows_n)
{
    const int32_t ring = r->ring, kh = r->kh, dh = r->dh, cols = r->cols;
    int32_t s0 = y0 % ring;
    s0 += s0 < 0 ? ring : 0;
    if (dh == 1) {
        /* Tap rows without dilation: the pass reads rows y0 .. y_last, and the rows already
         * copied (slot_row[0]: the last one, this group) are a prefix of them; the ring holds
         * exactly y_last - y0 + 1 rows, row y at slot y mod ring. */
        const int32_t y_last = y0 + (rows_n - 1) * r->sh + kh - 1;
        int32_t iy = slot_row[0] < y0 ? y0 : slot_row[0] + 1;
        int32_t slot = s0 + (iy - y0);
        while (slot >= ring) {
            slot -= ring;
        }
        if (iy <= y_last) {
            mf_dw_fill_span(r, in_g, iy, y_last, slot);
        }
        slot_row[0] = y_last;
        if (kh == 3 && r->sh == 1) { /* dw2: row t's tap rows are row t + 1's first two */
            const int32_t wrap = ring * cols;
            int32_t o0 = s0 * cols, o1 = o0 + cols;
            o1 = o1 == wrap ? 0 : o1;
            for (int32_t t = 0; t < rows_n; t++) {
                int32_t o2 = o1 + cols;
                o2 = o2 == wrap ? 0 : o2;
                row_off[0] = o0;
                row_off[1] = o1;
                row_off[2] = o2;
                row_off += 3;
                o0 = o1;
                o1 = o2;
            }
            return;
        }
        for (int32_t t = 0; t < rows_n; t++) {
            int32_t off = s0 * cols;
            for (int32_t ky = 0; ky < kh; ky++) {
                *row_off++ = off;
                off += cols;
                off = off == ring * cols ? 0 : off;
            }
            s0 += r->sh;
            while (s0 >= ring) {
                s0 -= ring;
            }
        }
        return;
    }
    for (int32_t t = 0; t < rows_n; t++) {
        int32_t slot = s0, iy = y0;
        for (int32_t ky = 0; ky < kh; ky++) {
            if (slot_row[slot] != iy) {
                mf_dw_fill_span(r, in_g, iy, iy, slot);
                slot_row[slot] = iy;
            }
            *row_off++ = slot * cols;
            iy += dh; /* tap rows step by the dilation (below `ring`) */
            slot += dh;
            slot -= slot >= ring ? ring : 0;
        }
        y0 += r->sh;
        s0 += r->sh;
        while (s0 >= ring) {
            s0 -= ring;
        }
    }
}

static void mf_dw_rows_run(const mf_dw_conv_params *p,
                               const mf_nn_requant *rq,
                               const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *filter_dims,
                               const int8_t *filter,
                               const mf_dims *output_dims,
                               int8_t *output,
                               void *scratch)
{
    const int32_t cin = input_dims->c;
    const int32_t mult = p->ch_mult;
    const int32_t cout = output_dims->c;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    const int32_t kw2 = (kw + 1) & ~1;
    const int32_t sw = p->stride.w;
    const int32_t dw = p->dilation.w;
    const int32_t oh = output_dims->h;
    const int32_t ow = output_dims->w;
    const int32_t cols = mf_dw_rows_cols(ow, kw, sw, dw);
    const int32_t gmax = cin < 4 ? cin : 4;
    const int32_t tmax = mf_dw_rows_per_pass(output_dims);
    const int32_t ring = mf_dw_ring_rows(tmax, p->stride.h, kh, p->dilation.h);
    const int16_t zp = (int16_t)(-p->input_offset);
    const size_t in_image = (size_t)input_dims->h * input_dims->w * cin;
    const size_t out_image = (size_t)oh * ow * cout;
    /* Scratch (mf_dw_rows_bytes): the input row in each ring slot, the slot of each tap row of
     * each output row of a pass (int32), the group's requantization, widened weights, padded
     * rows (a ring per channel), and the sums of a pass per output channel of the group. */
    int32_t *slot_row = (int32_t *)scratch;
    int32_t *row_off = slot_row + ring;
    mf_dw_rq *rqt = (mf_dw_rq *)(void *)(row_off + tmax * kh);
    int16_t *w16 = (int16_t *)(void *)(rqt + gmax * mult);
    int16_t *planes = w16 + (size_t)gmax * mult * kh * kw2;
    const int32_t plane = ring * cols; /* halfwords per channel */
    int32_t *acc = (int32_t *)(void *)(planes + (size_t)gmax * plane);
    /* Image columns [xa, xb) land in ring columns [pad_w + xa, pad_w + xb). */
    const int32_t xa = mf_clamp_i32(-p->padding.w, 0, input_dims->w);
    const int32_t xb = mf_clamp_i32(cols - p->padding.w, xa, input_dims->w);
    const int32_t xn = xb - xa;
    int16_t *const planes_g = planes + p->padding.w + xa; /* a ring row's first image column */
    const int32_t sh = p->stride.h, ph = p->padding.h, dh = p->dilation.h, in_h = input_dims->h;
    const size_t in_row = (size_t)input_dims->w * cin;

    /* Every cell of the rings starts as the zero point: the padded columns stay so for every
     * group, a row's image columns are copied in (mf_dw_fill_row) before any read. */
    {
        const uint32_t zz = (uint16_t)zp * 0x10001u; /* plane is even: whole words */
        uint32_t *z = (uint32_t *)(void *)planes;
        for (size_t k = 0; k < (size_t)gmax * plane / 2; k++) {
            z[k] = zz;
        }
    }
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        int8_t *out_b = output + (size_t)b * out_image;
        for (int32_t c0 = 0; c0 < cin; c0 += 4) {
            const int32_t g = cin - c0 < 4 ? cin - c0 : 4;
            const int32_t n = g * mult; /* output channels c0 * mult .. + n, contiguous */
            const int32_t oc0 = c0 * mult;
            const int32_t *bias = rq->bias != NULL ? rq->bias + oc0 : NULL;
            int32_t bstep = 1;
            int dbl = 0;
#if MF_USE_DSP
            /* m4dw: doubled sums and the four-instruction requantization where the group
             * allows (the bias then comes from the group's table, doubled). */
            dbl = mf_dw_group_doubles(bias, rq, oc0, n, kh * kw);
#endif
            const int32_t wmul = dbl ? 2 : 1;
#if MF_USE_DSP
            const int w3x3 = kh == 3 && kw == 3 && p->dilation.w == 1 && (sw == 1 || sw == 2);
#endif
            /* The group's weights, widened (doubled for mf_dw_rq2), each row padded to an
             * even width with 0. */
            for (int32_t j = 0; j < n; j++) {
                int16_t *wd = w16 + (size_t)j * kh * kw2;
                const int8_t *f = filter + oc0 + j;
#if MF_USE_DSP
                if (w3x3) { /* m4dw: straight into the five words of the 3x3 rows */
                    uint32_t t[9];
                    for (int32_t k = 0; k < 9; k++) {
                        t[k] = (uint16_t)(int16_t)(wmul * f[(size_t)k * cout]);
                    }
                    const uint32_t wv[5] = {t[0] | (t[1] << 16), t[3] | (t[4] << 16),
                                            t[6] | (t[7] << 16), t[2] | (t[5] << 16), t[8]};
                    /* dw2: (w_k0, w_k1), (w_k1, w_k2) per tap row k for the stride-1 assembly */
                    const uint32_t w6[6] = {wv[0], t[1] | (t[2] << 16), wv[1],
                                            t[4] | (t[5] << 16), wv[2], t[7] | (t[8] << 16)};
                    if (MF_DW_ASM && sw == 1) {
                        memcpy(wd, w6, sizeof w6);
                    } else {
                        memcpy(wd, wv, sizeof wv);
                    }
                    wd += 3 * kw2;
                } else
#endif
                for (int32_t ky = 0; ky < kh; ky++) {
                    for (int32_t kx = 0; kx < kw; kx++) {
                        *wd++ = (int16_t)(wmul * *f);
                        f += cout;
                    }
                    if (kw2 != kw) {
                        *wd++ = 0;
                    }
                }
#if MF_USE_DSP
                if (dbl) {
                    mf_dw_rq2_init((mf_dw_rq2 *)(void *)&rqt[j], rq->multiplier[oc0 + j],
                                   rq->shift[oc0 + j], rq->output_offset,
                                   bias != NULL ? bias[j] : 0);
                    continue;
                }
#endif
                mf_dw_rq_init(&rqt[j], rq->multiplier[oc0 + j], rq->shift[oc0 + j],
                              rq->output_offset);
            }
#if MF_USE_DSP
            if (dbl) {
                bias = &((const mf_dw_rq2 *)(const void *)rqt)->b2;
                bstep = (int32_t)(sizeof(mf_dw_rq2) / sizeof(int32_t));
            }
#endif
            for (int32_t k = 0; k < ring; k++) {
                slot_row[k] = INT32_MIN;
            }

            const int8_t *const in_g = in + (size_t)xa * cin + c0; /* row 0's first image pixel */
            const mf_dw_ring ring_ctx = {in_row, in_h, cin, g, xn, zp, planes_g, cols, plane, ring,
                                         kh, sh, dh};
            for (int32_t oy = 0; oy < oh; oy += tmax) {
                const int32_t rows_n = oh - oy < tmax ? oh - oy : tmax;
                mf_dw_pass_rows(&ring_ctx, in_g, slot_row, row_off, oy * sh - ph, rows_n);
#define MF_DW_ACC_ARGS planes, plane, row_off, rows_n, w16, g, mult, kh, kw, sw, dw, ow, bias, bstep, acc
                if (kh == 3 && kw == 3 && dw == 1 && sw == 1) {
                    mf_dw_acc_3x3_s1(MF_DW_ACC_ARGS);
                } else if (kh == 3 && kw == 3 && dw == 1 && sw == 2) {
                    mf_dw_acc_3x3_s2(MF_DW_ACC_ARGS);
                } else if (dw == 1) {
                    mf_dw_acc_pairs(MF_DW_ACC_ARGS);
                } else {
                    mf_dw_acc_dilated(MF_DW_ACC_ARGS);
                }
#undef MF_DW_ACC_ARGS
#if MF_USE_DSP
                if (dbl) {
                    mf_dw_requant2_group(acc, (const mf_dw_rq2 *)(const void *)rqt, n,
                                         rows_n * ow, &rq->activation,
                                         out_b + (size_t)oy * ow * cout + oc0, cout);
                    continue;
                }
#endif
                mf_dw_requant_group(acc, rqt, n, rows_n * ow, rq->output_offset, &rq->activation,
                                    out_b + (size_t)oy * ow * cout + oc0, cout);
            }
        }
    }
}

#endif /* !MF_USE_MVE */

mf_status mf_depthwise_conv_rows_s8(const mf_context *ctx,
                                    const mf_dw_conv_params *dw_conv_params,
                                    const mf_per_channel_quant_params *quant_params,
                                    const mf_dims *input_dims,
                                    const int8_t *input,
                                    const mf_dims *filter_dims,
                                    const int8_t *filter,
                                    const int32_t *bias,
                                    const mf_dims *output_dims,
                                    int8_t *output)
{
    const mf_dw_conv_params *p = dw_conv_params;
#if !MF_USE_MVE
    const int32_t cin = input_dims->c;
    if (p->ch_mult < 1 || cin < 1 || output_dims->c != cin * p->ch_mult ||
        filter_dims->c != output_dims->c || filter_dims->n != 1 ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    if (ctx != NULL && ctx->buf != NULL &&
        ctx->size >= mf_depthwise_conv_rows_s8_get_buffer_size(input_dims, filter_dims,
                                                                output_dims, p->stride.h,
                                                                p->stride.w, p->dilation.h,
                                                                p->dilation.w)) {
        assert(((uintptr_t)ctx->buf & 3u) == 0);
        const mf_nn_requant rq = {bias,          quant_params->multiplier, quant_params->shift, 1,
                                  p->output_offset, p->activation};
        mf_dw_rows_run(p, &rq, input_dims, input, filter_dims, filter, output_dims, output,
                       ctx->buf);
        return MF_OK;
    }
    return MF_NO_SCRATCH;
#else
    /* MVE builds: mf_depthwise_conv_s8's paths. */
    return mf_depthwise_conv_s8(ctx, p, quant_params, input_dims, input, filter_dims, filter, bias,
                                output_dims, output);
#endif
}
