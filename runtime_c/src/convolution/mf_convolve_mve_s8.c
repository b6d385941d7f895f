/*
 * mf_convolve_mve_s8 - the Helium (MVE) path of mf_convolve_s8: the receptive fields of two
 * output pixels gathered as int8 patches (im2col, padded cells holding the input zero point,
 * which the offset-folded bias makes contribute nothing), then both multiplied with the filter
 * by mf_nn_mat_mult_s8's MVE blocks. The patches are built with vector copies and fills: each
 * window row inside the image is one run of KW * C_in bytes (dilation 1 along x), copied 16
 * bytes per VLDRB/VSTRB pair with the last bytes under a tail predicate (a tail-predicated
 * DLSTP/LETP loop on the Cortex-M55), instead of library memcpy/memset calls, which cost more
 * than the copy itself on the short runs of first layers (3 input channels: 9-byte rows).
 * First layers with 3x3 windows of at most 16 bytes per row (KW * C_in <= 16) build no patch
 * for pixels inside the image: the window rows are loaded straight into registers. Wider
 * windows inside the image are read in place as KH runs, and a strided 1x1 kernel multiplies
 * the input pixels themselves.
 * Called by mf_convolve_s8 after its argument checks. Internal: see mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"

#include <stddef.h>

#if MF_USE_MVE

/* The receptive field of output pixel (oy, ox) as KH * KW * C_in bytes. */
static void mf_mve_patch(const mf_conv_params *p,
                         const mf_dims *input_dims,
                         const int8_t *in,
                         const mf_dims *filter_dims,
                         int32_t oy,
                         int32_t ox,
                         int8x16_t pad,
                         int8_t *patch)
{
    const int32_t cin = input_dims->c;
    const int32_t kw = filter_dims->w;
    const int32_t run = kw * cin;
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    int32_t kx_lo = 0;
    int32_t kx_hi = kw;
    if (p->dilation.w == 1) {
        kx_lo = mf_clamp_i32(-x0, 0, kw);
        kx_hi = mf_clamp_i32(input_dims->w - x0, kx_lo, kw);
    }
    const int32_t kh = filter_dims->h;
    if (p->dilation.h == 1 && p->dilation.w == 1 && run <= 16 && kx_lo == 0 && kx_hi == kw &&
        y0 >= 0 && y0 + kh <= input_dims->h) {
        /* speed-m55: a window inside the image with rows of at most 16 bytes (first layers, KWS's
         * 10x4 on one channel): one predicated load and store per row */
        const mve_pred16_t m = vctp8q((uint32_t)run);
        const ptrdiff_t rs = (ptrdiff_t)input_dims->w * cin;
        const int8_t *src = in + ((ptrdiff_t)y0 * input_dims->w + x0) * cin;
        for (int32_t ky = 0; ky < kh; ky++) {
            vstrbq_p_s8(patch, vldrbq_z_s8(src, m), m);
            src += rs;
            patch += run;
        }
        return;
    }
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        if (iy < 0 || iy >= input_dims->h) {
            mf_mve_fill(patch, pad, run);
        } else if (p->dilation.w == 1) {
            const int8_t *row = in + (size_t)iy * input_dims->w * cin;
            if (kx_lo > 0) {
                mf_mve_fill(patch, pad, kx_lo * cin);
            }
            mf_mve_copy(patch + kx_lo * cin, row + (ptrdiff_t)(x0 + kx_lo) * cin,
                        (kx_hi - kx_lo) * cin);
            if (kx_hi < kw) {
                mf_mve_fill(patch + kx_hi * cin, pad, (kw - kx_hi) * cin);
            }
        } else {
            const int8_t *row = in + (size_t)iy * input_dims->w * cin;
            for (int32_t kx = 0; kx < kw; kx++) {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= input_dims->w) {
                    mf_mve_fill(patch + kx * cin, pad, cin);
                } else {
                    mf_mve_copy(patch + kx * cin, row + (size_t)ix * cin, cin);
                }
            }
        }
        patch += run;
    }
}

#if MF_MVE_ASM
/* Four channels of a first layer whose window rows are RUN bytes (a literal: the filter
 * pointer advances by post-increment): the six window rows loaded under a VCTP predicate,
 * then per channel three filter rows, six VMLADAV and the two sums stored (the fourth
 * channel's last row under the predicate: it must not read past the filter). GCC keeps six
 * vector operands in registers badly, so the whole step is one assembly block. */
#define MF_MVE_CONV3_CH(run)                                                                   \
    "vldrb.8 q6, [%[w]], #" run "\n\t"                                                          \
    "vmladav.s8 %[s0], q0, q6\n\t"                                                             \
    "vmladav.s8 %[s1], q3, q6\n\t"                                                             \
    "vldrb.8 q6, [%[w]], #" run "\n\t"                                                          \
    "vmladava.s8 %[s0], q1, q6\n\t"                                                            \
    "vmladava.s8 %[s1], q4, q6\n\t"                                                            \
    "vldrb.8 q6, [%[w]], #" run "\n\t"                                                          \
    "vmladava.s8 %[s0], q2, q6\n\t"                                                            \
    "vmladava.s8 %[s1], q5, q6\n\t"                                                            \
    "str %[s0], [%[sa]], #4\n\t"                                                               \
    "str %[s1], [%[sb]], #4\n\t"
#define MF_MVE_CONV3_CH_LAST(run)                                                              \
    "vldrb.8 q6, [%[w]], #" run "\n\t"                                                          \
    "vmladav.s8 %[s0], q0, q6\n\t"                                                             \
    "vmladav.s8 %[s1], q3, q6\n\t"                                                             \
    "vldrb.8 q6, [%[w]], #" run "\n\t"                                                          \
    "vmladava.s8 %[s0], q1, q6\n\t"                                                            \
    "vmladava.s8 %[s1], q4, q6\n\t"                                                            \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q6, [%[w]], #" run "\n\t"                                                         \
    "vmladava.s8 %[s0], q2, q6\n\t"                                                            \
    "vmladava.s8 %[s1], q5, q6\n\t"                                                            \
    "str %[s0], [%[sa]], #4\n\t"                                                               \
    "str %[s1], [%[sb]], #4\n\t"
#define MF_MVE_CONV3_CH_P(run)                                                                 \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q6, [%[w]], #" run "\n\t"                                                         \
    "vmladav.s8 %[s0], q0, q6\n\t"                                                             \
    "vmladav.s8 %[s1], q3, q6\n\t"                                                             \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q6, [%[w]], #" run "\n\t"                                                         \
    "vmladava.s8 %[s0], q1, q6\n\t"                                                            \
    "vmladava.s8 %[s1], q4, q6\n\t"                                                            \
    "vpst\n\t"                                                                                  \
    "vldrbt.8 q6, [%[w]], #" run "\n\t"                                                         \
    "vmladava.s8 %[s0], q2, q6\n\t"                                                            \
    "vmladava.s8 %[s1], q5, q6\n\t"                                                            \
    "str %[s0], [%[sa]], #4\n\t"                                                               \
    "str %[s1], [%[sb]], #4\n\t"
#define MF_MVE_CONV3_QUAD(run, c0, c1, c2, c3)                                                 \
    __asm__ volatile("vctp.8 %[n]\n\t"                                                         \
                     "vpstt\n\t"                                                               \
                     "vldrbt.8 q0, [%[a]]\n\t"                                                 \
                     "vldrbt.8 q3, [%[b]]\n\t"                                                 \
                     "add %[t], %[a], %[rs]\n\t"                                               \
                     "vpst\n\t"                                                                \
                     "vldrbt.8 q1, [%[t]]\n\t"                                                 \
                     "add %[t], %[t], %[rs]\n\t"                                               \
                     "vpst\n\t"                                                                \
                     "vldrbt.8 q2, [%[t]]\n\t"                                                 \
                     "add %[t], %[b], %[rs]\n\t"                                               \
                     "vpst\n\t"                                                                \
                     "vldrbt.8 q4, [%[t]]\n\t"                                                 \
                     "add %[t], %[t], %[rs]\n\t"                                               \
                     "vpst\n\t"                                                                \
                     "vldrbt.8 q5, [%[t]]\n\t" c0(run) c1(run) c2(run) c3(run)                 \
                     : [w] "+r"(w), [sa] "+r"(pa), [sb] "+r"(pb), [s0] "=&Te"(s0),             \
                       [s1] "=&Te"(s1), [t] "=&r"(t)                                           \
                     : [n] "r"(run_n), [a] "r"(a), [b] "r"(b), [rs] "r"(row_step)              \
                     : "q0", "q1", "q2", "q3", "q4", "q5", "q6", "memory")

/* The sums of channels o..o+3 into sa[0..3] (pixel a) and sb[0..3] (pixel b); false when
 * RUN has no assembly variant. */
static inline int mf_mve_conv3_quad_asm(const int8_t *a, const int8_t *b, ptrdiff_t row_step,
                                        int32_t run, const int8_t *w, int last, int32_t *sa,
                                        int32_t *sb)
{
    int32_t s0, s1;
    const int8_t *t;
    int32_t *pa = sa, *pb = sb;
    const uint32_t run_n = (uint32_t)run;
    /* Sixteen-byte filter reads past a channel's last row land in the next quad's channels;
     * the filter's last quad reads every row under the predicate. */
    if (run == 9 && !last) {
        MF_MVE_CONV3_QUAD("9", MF_MVE_CONV3_CH, MF_MVE_CONV3_CH, MF_MVE_CONV3_CH,
                          MF_MVE_CONV3_CH_LAST);
    } else if (run == 3 && !last) {
        MF_MVE_CONV3_QUAD("3", MF_MVE_CONV3_CH, MF_MVE_CONV3_CH, MF_MVE_CONV3_CH,
                          MF_MVE_CONV3_CH_LAST);
    } else if (run == 9) {
        MF_MVE_CONV3_QUAD("9", MF_MVE_CONV3_CH_P, MF_MVE_CONV3_CH_P, MF_MVE_CONV3_CH_P,
                          MF_MVE_CONV3_CH_P);
    } else if (run == 3) {
        MF_MVE_CONV3_QUAD("3", MF_MVE_CONV3_CH_P, MF_MVE_CONV3_CH_P, MF_MVE_CONV3_CH_P,
                          MF_MVE_CONV3_CH_P);
    } else {
        return 0;
    }
    return 1;
}
#undef MF_MVE_CONV3_QUAD
#undef MF_MVE_CONV3_CH_LAST

/* mf_mve_conv3_pair for C_out % 4 == 0 and the runs with an assembly variant; false
 * otherwise. Its own function, so that the C twin's six window registers are not live here. */
static __attribute__((noinline)) int mf_mve_conv3_pair_asm(const int8_t *a,
                                                           const int8_t *b,
                                                           ptrdiff_t row_step,
                                                           int32_t run,
                                                           const int8_t *filter,
                                                           int32_t n,
                                                           const mf_nn_requant *rq,
                                                           int8_t *out0,
                                                           int8_t *out1)
{
    if ((n & 3) != 0 || (run != 9 && run != 3)) {
        return 0;
    }
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int32_t *bias = rq->bias, *mult = rq->multiplier, *shift = rq->shift;
    const int8_t *w = filter;
    int32_t sa[4], sb[4];
    for (int32_t o = 0; o < n; o += 4) {
        mf_mve_conv3_quad_asm(a, b, row_step, run, w, o + 4 == n, sa, sb);
        w += 12 * run;
        const int32x4_t bv = vldrwq_s32(bias + o);
        const int32x4_t m = vldrwq_s32(mult + o);
        const int32x4_t sh = vldrwq_s32(shift + o);
        const int32x4_t va = mf_mve_requantize(vaddq_s32(vldrwq_s32(sa), bv), m, sh);
        const int32x4_t vb = mf_mve_requantize(vaddq_s32(vldrwq_s32(sb), bv), m, sh);
        vstrbq_s32(out0 + o, mf_mve_offset_clamp(va, off, lo, hi));
        vstrbq_s32(out1 + o, mf_mve_offset_clamp(vb, off, lo, hi));
    }
    return 1;
}
#undef MF_MVE_CONV3_CH
#endif

/* ---- first layers: 3 window rows of at most 16 bytes (KW * C_in <= 16, dilation 1) -------
 * The three rows of two pixels' windows stay in six registers (zeroing loads of `run` bytes),
 * and every output channel is three filter loads and six VMLADAV: no patch is built. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_conv3_pair(const int8_t *a,
                              const int8_t *b,
                              ptrdiff_t row_step,
                              int32_t run,
                              const int8_t *filter,
                              int32_t n,
                              const mf_nn_requant *rq,
                              int8_t *out0,
                              int8_t *out1)
{
    const mve_pred16_t pr = vctp8q((uint32_t)run);
    const int8x16_t a0 = vldrbq_z_s8(a, pr);
    const int8x16_t a1 = vldrbq_z_s8(a + row_step, pr);
    const int8x16_t a2 = vldrbq_z_s8(a + 2 * row_step, pr);
    const int8x16_t b0 = vldrbq_z_s8(b, pr);
    const int8x16_t b1 = vldrbq_z_s8(b + row_step, pr);
    const int8x16_t b2 = vldrbq_z_s8(b + 2 * row_step, pr);
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int32_t *bias = rq->bias, *mult = rq->multiplier, *shift = rq->shift;
    const int32_t k = 3 * run;
    const int8_t *w = filter;
    int32_t sa[4], sb[4];
    for (int32_t o = 0; o < n; o += 4) {
        const int32_t left = mf_min_i32(n - o, 4);
        for (int32_t j = 0; j < left; j++) {
            /* The filter rows read as 16 bytes (lanes past `run` meet zeros in the window rows)
             * where those stay inside the filter, else under the predicate. One filter
             * register, reloaded: the six window rows take the others. */
            int32_t s0, s1;
            if ((n - o - j) * k - 2 * run >= 16) { /* 16 bytes from the last row stay inside */
                int8x16_t wv = vldrbq_s8(w);
                s0 = vmladavq_s8(a0, wv);
                s1 = vmladavq_s8(b0, wv);
                wv = vldrbq_s8(w + run);
                s0 = vmladavaq_s8(s0, a1, wv);
                s1 = vmladavaq_s8(s1, b1, wv);
                wv = vldrbq_s8(w + 2 * run);
                s0 = vmladavaq_s8(s0, a2, wv);
                s1 = vmladavaq_s8(s1, b2, wv);
            } else {
                int8x16_t wv = vldrbq_z_s8(w, pr);
                s0 = vmladavq_s8(a0, wv);
                s1 = vmladavq_s8(b0, wv);
                wv = vldrbq_z_s8(w + run, pr);
                s0 = vmladavaq_s8(s0, a1, wv);
                s1 = vmladavaq_s8(s1, b1, wv);
                wv = vldrbq_z_s8(w + 2 * run, pr);
                s0 = vmladavaq_s8(s0, a2, wv);
                s1 = vmladavaq_s8(s1, b2, wv);
            }
            sa[j] = s0;
            sb[j] = s1;
            w += k;
        }
        const mve_pred16_t p = vctp32q((uint32_t)left);
        const int32x4_t bv = vldrwq_z_s32(bias + o, p);
        const int32x4_t m = vldrwq_z_s32(mult + o, p);
        const int32x4_t sh = vldrwq_z_s32(shift + o, p);
        const int32x4_t va = mf_mve_requantize(vaddq_s32(vldrwq_s32(sa), bv), m, sh);
        const int32x4_t vb = mf_mve_requantize(vaddq_s32(vldrwq_s32(sb), bv), m, sh);
        vstrbq_p_s32(out0 + o, mf_mve_offset_clamp(va, off, lo, hi), p);
        vstrbq_p_s32(out1 + o, mf_mve_offset_clamp(vb, off, lo, hi), p);
    }
}


/* ---- windows inside the image read in place ------------------------------------------------
 * The patch of a pixel whose window is inside the image is KH runs of RUN = KW * C_in bytes, RS
 * bytes apart in the input: the dot products walk the runs where they lie instead of copying
 * them. a[0..3] += x0.wa, x0.wb, x1.wa, x1.wb over the KH runs (the filter rows are contiguous,
 * KH * RUN bytes). */
static inline void mf_mve_seg_2x2(const int8_t *x0, const int8_t *x1, ptrdiff_t rs,
                                  const int8_t *wa, const int8_t *wb, int32_t kh, int32_t run,
                                  int32_t *a)
{
#if MF_MVE_ASM
    /* Post-incremented loads advance 16 bytes per step, the last step too, so the pointers
     * are put back by the steps' excess (16 * ceil(RUN / 16) - RUN) after each run. */
    const int32_t over = ((run + 15) & ~15) - run;
    const ptrdiff_t xgap = rs - run - over;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    __asm__ volatile("1:\n\t"
                     "dlstp.8 lr, %[run]\n"
                     "2:\n\t"
                     "vldrb.8 q0, [%[x0]], #16\n\t"
                     "vldrb.8 q1, [%[x1]], #16\n\t"
                     "vldrb.8 q2, [%[wa]], #16\n\t"
                     "vmladava.s8 %[a0], q0, q2\n\t"
                     "vmladava.s8 %[a2], q1, q2\n\t"
                     "vldrb.8 q2, [%[wb]], #16\n\t"
                     "vmladava.s8 %[a1], q0, q2\n\t"
                     "vmladava.s8 %[a3], q1, q2\n\t"
                     "letp lr, 2b\n\t"
                     "add %[x0], %[x0], %[xgap]\n\t"
                     "add %[x1], %[x1], %[xgap]\n\t"
                     "sub %[wa], %[wa], %[over]\n\t"
                     "sub %[wb], %[wb], %[over]\n\t"
                     "subs %[kh], %[kh], #1\n\t"
                     "bne 1b\n"
                     : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3),
                       [x0] "+r"(x0), [x1] "+r"(x1), [wa] "+r"(wa), [wb] "+r"(wb), [kh] "+r"(kh)
                     : [run] "r"(run), [xgap] "r"(xgap), [over] "r"(over)
                     : "q0", "q1", "q2", "lr", "memory", "cc");
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
#else
    for (int32_t ky = 0; ky < kh; ky++) {
        for (int32_t i = 0; i < run; i += 16) {
            const mve_pred16_t m = vctp8q((uint32_t)(run - i));
            const int8x16_t p = vldrbq_z_s8(x0 + ky * rs + i, m);
            const int8x16_t q = vldrbq_z_s8(x1 + ky * rs + i, m);
            const int8x16_t u = vldrbq_z_s8(wa + ky * run + i, m);
            const int8x16_t v = vldrbq_z_s8(wb + ky * run + i, m);
            a[0] = vmladavaq_s8(a[0], p, u);
            a[1] = vmladavaq_s8(a[1], p, v);
            a[2] = vmladavaq_s8(a[2], q, u);
            a[3] = vmladavaq_s8(a[3], q, v);
        }
    }
#endif
}

/* Two pixels whose windows are inside the image (corners a, b), C_out % 4 == 0 channels: four
 * channels per step as two 2x2 passes, requantized as two vectors. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_mve_seg_pair(const int8_t *a, const int8_t *b, ptrdiff_t rs, int32_t kh,
                            int32_t run, const int8_t *filter, int32_t n,
                            const mf_nn_requant *rq, int8_t *out0, int8_t *out1)
{
    const int32_t k = kh * run;
    const int32_t off = rq->output_offset, lo = rq->activation.min, hi = rq->activation.max;
    const int32_t *bias = rq->bias, *mult = rq->multiplier, *shift = rq->shift;
    const int8_t *w = filter;
    for (int32_t o = 0; o < n; o += 4) {
        int32_t e[4] = {0, 0, 0, 0}; /* channels o and o + 2 */
        int32_t f[4] = {0, 0, 0, 0}; /* channels o + 1 and o + 3 */
        mf_mve_seg_2x2(a, b, rs, w, w + 2 * k, kh, run, e);
        mf_mve_seg_2x2(a, b, rs, w + k, w + 3 * k, kh, run, f);
        w += 4 * k;
        const int32x4_t bv = vldrwq_s32(bias + o);
        const int32x4_t m = vldrwq_s32(mult + o);
        const int32x4_t sh = vldrwq_s32(shift + o);
        const int32x4_t v0 = mf_mve_requantize(vaddq_s32(mf_mve_set4(e[0], f[0], e[1], f[1]), bv), m, sh);
        const int32x4_t v1 = mf_mve_requantize(vaddq_s32(mf_mve_set4(e[2], f[2], e[3], f[3]), bv), m, sh);
        vstrbq_s32(out0 + o, mf_mve_offset_clamp(v0, off, lo, hi));
        vstrbq_s32(out1 + o, mf_mve_offset_clamp(v1, off, lo, hi));
    }
}

void mf_convolve_mve_s8(const mf_conv_params *p,
                        const mf_nn_requant *rq,
                        const mf_dims *input_dims,
                        const int8_t *input,
                        const mf_dims *filter_dims,
                        const int8_t *filter,
                        const mf_dims *output_dims,
                        int8_t *patches,
                        int8_t *output)
{
    const int32_t len = filter_dims->h * filter_dims->w * input_dims->c;
    const int32_t cout = output_dims->c;
    const int32_t ow = output_dims->w;
    const int32_t pixels = output_dims->h * ow;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const int8x16_t pad = vdupq_n_s8((int8_t)(-p->input_offset));
    const int32_t run = filter_dims->w * input_dims->c;
    const int plain = p->dilation.h == 1 && p->dilation.w == 1 && rq->quant_step == 1 &&
                      rq->bias != NULL;
    const int first = plain && filter_dims->h == 3 && run <= 16;      /* rows in registers */
    const int wide = plain && run > 16 && (cout & 3) == 0;           /* runs read in place */
    const int point = plain && filter_dims->h == 1 && filter_dims->w == 1 && !wide; /* strided 1x1 */
    const int direct = first || wide || point;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        int32_t px = 0;
        if (direct && (ow & 1) == 0) { /* pairs within rows */
            const ptrdiff_t row_step = (ptrdiff_t)input_dims->w * input_dims->c;
            const ptrdiff_t px_step = (ptrdiff_t)p->stride.w * input_dims->c;
            for (int32_t oy = 0; oy < output_dims->h; oy++) {
                const int32_t y0 = oy * p->stride.h - p->padding.h;
                const int row_in = y0 >= 0 && y0 + filter_dims->h <= input_dims->h;
                for (int32_t ox = 0; ox < ow; ox += 2) {
                    const int32_t x0 = ox * p->stride.w - p->padding.w;
                    if (row_in && x0 >= 0 && x0 + p->stride.w + filter_dims->w <= input_dims->w) {
                        const int8_t *a = in + ((ptrdiff_t)y0 * input_dims->w + x0) * input_dims->c;
                        if (point) { /* the patch is the input pixel itself */
                            mf_nn_mat_mult_s8(a, a + px_step, filter, len, cout, rq, output);
                        } else if (first) {
#if MF_MVE_ASM
                            if (!mf_mve_conv3_pair_asm(a, a + px_step, row_step, run, filter,
                                                       cout, rq, output, output + cout))
#endif
                            {
                                mf_mve_conv3_pair(a, a + px_step, row_step, run, filter, cout,
                                                  rq, output, output + cout);
                            }
                        } else {
                            mf_mve_seg_pair(a, a + px_step, row_step, filter_dims->h, run, filter,
                                            cout, rq, output, output + cout);
                        }
                    } else {
                        mf_mve_patch(p, input_dims, in, filter_dims, oy, ox, pad, patches);
                        mf_mve_patch(p, input_dims, in, filter_dims, oy, ox + 1, pad,
                                     patches + len);
                        mf_nn_mat_mult_s8(patches, patches + len, filter, len, cout, rq, output);
                    }
                    output += 2 * cout;
                }
            }
            px = pixels;
        }
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
            mf_mve_patch(p, input_dims, in, filter_dims, px / ow, px % ow, pad, patches);
            mf_mve_patch(p, input_dims, in, filter_dims, q / ow, q % ow, pad, patches + len);
            mf_nn_mat_mult_s8(patches, patches + len, filter, len, cout, rq, output);
            output += 2 * cout;
        }
        if (px < pixels) {
            mf_mve_patch(p, input_dims, in, filter_dims, px / ow, px % ow, pad, patches);
            mf_nn_mat_mult_s8(patches, NULL, filter, len, cout, rq, output);
            output += cout;
        }
    }
}

#endif /* MF_USE_MVE */
