/*
 * mf_nn.h - the mcuforge int8 kernel library: the one public header.
 *
 * Conventions shared by every kernel:
 *  - Activations are int8, laid out NHWC (channel fastest), dense, no row padding.
 *  - Quantization is affine: real = scale * (q - zero_point). Kernels never see scales; the
 *    compiler turns them into integer offsets and fixed-point multipliers on the host
 *    (compiler/kernel_params.py). An "offset" added to an input is minus its zero point;
 *    the offset added to an output is its zero point.
 *  - A multiplier is a Q31 significand in [2^30, 2^31) (or 0) and a shift: real factor =
 *    multiplier / 2^31 * 2^shift; shift > 0 shifts left. Rounding follows TensorFlow Lite
 *    Micro's reference kernels bit for bit.
 *  - Kernels that need scratch memory take an mf_context and have an *_get_buffer_size
 *    function so the planner can reserve it on the host; the library never allocates.
 *  - Arguments the caller can get wrong in a way that is cheap to see return MF_ARG_ERROR;
 *    everything else is an assert (compiled out with NDEBUG): the compiler validated it.
 *  - Input and output buffers must not overlap unless the function says it may run in place.
 *  - The int8-weight convolution, depthwise and dense kernels take the input offset folded into
 *    the bias (TinyEngine's precomputation, done by compiler/kernel_params.py): their bias[o]
 *    is the layer's bias + input_offset * (sum of filter row o), so the inner loops multiply raw
 *    int8 inputs. Padding reads as the input zero point, which then contributes nothing.
 *    The 4-bit and sparse kernels take the layer's own bias.
 */
#ifndef MF_NN_H
#define MF_NN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a kernel returns. */
typedef enum {
    MF_OK = 0,
    MF_ARG_ERROR = -1, /* an argument is out of its documented range */
    MF_NO_SCRATCH = -2 /* the context's buffer is missing or smaller than get_buffer_size */
} mf_status;

/* A 4-D NHWC shape. Lower-rank tensors pad their shape with leading 1s. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} mf_dims;

/* A (height, width) pair: strides, top/left padding, dilations. */
typedef struct {
    int32_t h;
    int32_t w;
} mf_tile;

/* Clamp range of a quantized output, fused activation included; within [-128, 127]. */
typedef struct {
    int32_t min;
    int32_t max;
} mf_activation;

/* Scratch memory handed to a kernel: buf must be 4-byte aligned (kernels keep int16/int32
 * values there); it may be NULL when size is 0. */
typedef struct {
    void *buf;
    int32_t size; /* bytes */
} mf_context;

/* Per-output-channel requantization: arrays of output-channel length. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} mf_per_channel_quant_params;

/* One requantization for a whole tensor. */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} mf_per_tensor_quant_params;

/* Convolution: padding is top/left only; bottom/right padding follows from the output dims. */
typedef struct {
    int32_t input_offset;  /* -input zero point, [-127, 128] */
    int32_t output_offset; /* output zero point, [-128, 127] */
    mf_tile stride;        /* >= 1 */
    mf_tile padding;       /* >= 0 */
    mf_tile dilation;      /* >= 1 */
    mf_activation activation;
} mf_conv_params;

/* Depthwise convolution: output channel c * ch_mult + m reads input channel c. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t ch_mult; /* >= 1 */
    mf_tile stride;
    mf_tile padding;
    mf_tile dilation;
    mf_activation activation;
} mf_dw_conv_params;

/* Fully connected. per_channel != 0: quant arrays have one entry per output channel,
 * otherwise only entry 0 is read. */
typedef struct {
    int32_t input_offset;
    int32_t filter_offset; /* -filter zero point; 0 for symmetric weights */
    int32_t output_offset;
    int32_t per_channel;
    mf_activation activation;
} mf_fc_params;

/* Average and max pooling: input and output share scale and zero point. */
typedef struct {
    mf_tile stride;
    mf_tile padding;
    mf_activation activation;
} mf_pool_params;

/* Mean over H and W with requantization: multiplier and shift represent
 * input_scale / output_scale / (H * W), as TFLite Micro prepares them. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t multiplier;
    int32_t shift;
    mf_activation activation;
} mf_mean_params;

/* Quantized ADD and SUB: both inputs are brought to a common scale with left_shift bits of
 * headroom (TFLite uses 20 for int8), combined, then rescaled to the output. */
typedef struct {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift; /* <= 0 */
    int32_t input2_multiplier;
    int32_t input2_shift; /* <= 0 */
    int32_t output_multiplier;
    int32_t output_shift; /* <= 0 */
    mf_activation activation;
} mf_add_params;

/* Quantized MUL: multiplier = input1_scale * input2_scale / output_scale. */
typedef struct {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    mf_activation activation;
} mf_mul_params;

/* Softmax (output scale 1/256, zero point -128): input differences to the row maximum are
 * scaled by beta * input_scale into Q5.26 by (input_multiplier, input_left_shift); differences
 * below diff_min (<= 0) give exp = 0. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift; /* >= 0 */
    int32_t diff_min;
} mf_softmax_params;

/* L2 normalization (elementwise-ops): input_offset is minus the input zero point; the output
 * has scale 1/128 and zero point 0. */
typedef struct {
    int32_t input_offset;
} mf_l2_norm_params;

/* Log-softmax (elementwise-ops; output scale 16/256, zero point 127): as mf_softmax_params,
 * plus the reverse scaling (multiplier, shift <= 0) of the input scaling, which bounds the
 * differences that still give an output above -128. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t reverse_multiplier;
    int32_t reverse_shift;
    int32_t diff_min;
} mf_log_softmax_params;

/* PReLU: x >= 0 -> x * identity, x < 0 -> x * alpha * alpha_mult, each requantized. */
typedef struct {
    int32_t input_offset;
    int32_t alpha_offset;
    int32_t output_offset;
    int32_t identity_multiplier; /* input_scale / output_scale */
    int32_t identity_shift;
    int32_t alpha_multiplier; /* input_scale * alpha_scale / output_scale */
    int32_t alpha_shift;
    mf_activation activation;
} mf_prelu_params;

/* Weights stored as 4-bit codebook indices (weight clustering): weight k of the filter, in its
 * row-major order, is codebook[index k] where index k is nibble k of `indices` (two per byte,
 * element 2j in the low nibble of byte j, rows running on across byte boundaries). The codebook
 * holds 16 int8 values for the whole layer, or 16 per output channel when per_channel != 0. */
typedef struct {
    const uint8_t *indices;
    const int8_t *codebook;
    int32_t per_channel;
} mf_cb4_filter;

/* Constant padding of a 4-D tensor: before[i]/after[i] cells on axis i (n, h, w, c). */
typedef struct {
    int32_t before[4];
    int32_t after[4];
    int8_t value; /* the quantized pad constant; the output zero point for zero padding */
} mf_pad_params;

/* ---------------------------------------------------------------------------------------
 * Convolutions
 * ------------------------------------------------------------------------------------- */

/*
 * General 2-D convolution, NHWC input x OHWI filter -> NHWC output.
 *   input_dims  (N, H, W, C_in)       filter_dims (C_out, KH, KW, C_in)
 *   bias        C_out int32 values, the input offset folded in (see the top), or NULL for 0
 *   output_dims (N, OH, OW, C_out)    quant_params: C_out multipliers and shifts
 * Padded cells contribute nothing (they hold the input zero point, -input_offset).
 * Scratch: mf_convolve_s8_get_buffer_size(input_dims, filter_dims) bytes in ctx.
 */
mf_status mf_convolve_s8(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const int8_t *filter,
                         const int32_t *bias,
                         const mf_dims *output_dims,
                         int8_t *output);

/* Scratch bytes for mf_convolve_s8: two im2col patches of KH * KW * C_in int16 values, plus
 * their 2 * KH * KW * C_in int8 staging when C_in % 4 != 0. */
int32_t mf_convolve_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/* speed-m55 (issue 12): mf_convolve_s8 for the 3x3 convolutions of ResNet-8 on Helium: the
 * compiler chooses it for MVE targets (mcuforge.kernels.target) where the filter is 3x3, the
 * dilation 1, the stride 1 with C_in of 16, 32 or 64 or 2 with C_in of 16 or 32, C_out % 4 == 0
 * and C_out <= 5 * C_in; three output pixels by two channels per inline-assembly pass. Any other
 * call, and every build without MVE, runs mf_convolve_s8. Same arguments and scratch
 * (mf_convolve3x3_s8_get_buffer_size = mf_convolve_s8_get_buffer_size). */
mf_status mf_convolve3x3_s8(const mf_context *ctx,
                            const mf_conv_params *conv_params,
                            const mf_per_channel_quant_params *quant_params,
                            const mf_dims *input_dims,
                            const int8_t *input,
                            const mf_dims *filter_dims,
                            const int8_t *filter,
                            const int32_t *bias,
                            const mf_dims *output_dims,
                            int8_t *output);
int32_t mf_convolve3x3_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/*
 * 1x1 convolution with stride 1 and no padding: a (N*H*W, C_in) x (C_out, C_in)^T matrix
 * multiply. Same arguments as mf_convolve_s8; stride, padding and dilation must be 1, 0, 1
 * (MF_ARG_ERROR otherwise) and filter_dims (C_out, 1, 1, C_in); bias folded as for
 * mf_convolve_s8.
 * Scratch: mf_convolve_1x1_s8_get_buffer_size() bytes: two pixel rows of C_in int16 values.
 */
mf_status mf_convolve_1x1_s8(const mf_context *ctx,
                             const mf_conv_params *conv_params,
                             const mf_per_channel_quant_params *quant_params,
                             const mf_dims *input_dims,
                             const int8_t *input,
                             const mf_dims *filter_dims,
                             const int8_t *filter,
                             const int32_t *bias,
                             const mf_dims *output_dims,
                             int8_t *output);

int32_t mf_convolve_1x1_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/* ---- speed-m4 (issue 12) ---- */
/*
 * 1x1 convolution to one output channel (C_out == 1): the arguments and scratch of
 * mf_convolve_1x1_s8, which it hands anything else to (and a non-negative shift, and the whole
 * layer in Helium builds).
 * Scratch: mf_convolve_1x1_one_s8_get_buffer_size() bytes, as mf_convolve_1x1_s8.
 */
mf_status mf_convolve_1x1_one_s8(const mf_context *ctx,
                                 const mf_conv_params *conv_params,
                                 const mf_per_channel_quant_params *quant_params,
                                 const mf_dims *input_dims,
                                 const int8_t *input,
                                 const mf_dims *filter_dims,
                                 const int8_t *filter,
                                 const int32_t *bias,
                                 const mf_dims *output_dims,
                                 int8_t *output);

int32_t mf_convolve_1x1_one_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);
/* ---- end speed-m4 ---- */

/*
 * Depthwise 2-D convolution with channel multiplier and dilation.
 *   input_dims (N, H, W, C)   filter_dims (1, KH, KW, C * ch_mult)
 *   output_dims (N, OH, OW, C * ch_mult); bias and quant arrays have C * ch_mult entries.
 *   bias[oc] = layer bias + input_offset * sum over (ky, kx) of filter[ky][kx][oc], or NULL.
 * Scratch: none (mf_depthwise_conv_s8_get_buffer_size returns 0).
 */
mf_status mf_depthwise_conv_s8(const mf_context *ctx,
                               const mf_dw_conv_params *dw_conv_params,
                               const mf_per_channel_quant_params *quant_params,
                               const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *filter_dims,
                               const int8_t *filter,
                               const int32_t *bias,
                               const mf_dims *output_dims,
                               int8_t *output);

int32_t mf_depthwise_conv_s8_get_buffer_size(const mf_dims *input_dims,
                                             const mf_dims *filter_dims);

/* speed-m4 (issue 12) */
/* speed-m55 (issue 12) */
/*
 * Depthwise 3x3 convolution, same arguments and results as mf_depthwise_conv_s8, chosen by the
 * compiler for Cortex-M55 (MVE) targets where the shape allows it (channel multiplier 1,
 * dilation 1, a bias, C % 8 == 0 and 32 <= C <= 128, input width >= 2, at most one padded column
 * left and right: mcuforge.kernels.target): eight channels per Helium vector, without linking
 * mf_depthwise_conv_s8's other paths. MVE builds return MF_ARG_ERROR outside those shapes;
 * other builds run mf_depthwise_conv_s8. No scratch.
 */
mf_status mf_depthwise_conv3x3_s8(const mf_context *ctx,
                                  const mf_dw_conv_params *dw_conv_params,
                                  const mf_per_channel_quant_params *quant_params,
                                  const mf_dims *input_dims,
                                  const int8_t *input,
                                  const mf_dims *filter_dims,
                                  const int8_t *filter,
                                  const int32_t *bias,
                                  const mf_dims *output_dims,
                                  int8_t *output);

int32_t mf_depthwise_conv3x3_s8_get_buffer_size(const mf_dims *input_dims,
                                                const mf_dims *filter_dims);

/*
 * Depthwise 2-D convolution, same arguments and results as mf_depthwise_conv_s8, on padded int16
 * rows (portable and DSP paths: up to four channels at a time, each input row copied once into
 * the scratch with the zero point around it, then each output channel along up to four output
 * rows with its widened weights; SMLAD tap pairs on a DSP core). The compiler picks it per layer
 * where it is faster than mf_depthwise_conv_s8's paths on a Cortex-M4; MVE builds, and calls
 * with too little scratch, run mf_depthwise_conv_s8.
 * Scratch: mf_depthwise_conv_rows_s8_get_buffer_size(input_dims, filter_dims, output_dims,
 * stride.h, stride.w, dilation.h, dilation.w) bytes.
 */
mf_status mf_depthwise_conv_rows_s8(const mf_context *ctx,
                                    const mf_dw_conv_params *dw_conv_params,
                                    const mf_per_channel_quant_params *quant_params,
                                    const mf_dims *input_dims,
                                    const int8_t *input,
                                    const mf_dims *filter_dims,
                                    const int8_t *filter,
                                    const int32_t *bias,
                                    const mf_dims *output_dims,
                                    int8_t *output);

int32_t mf_depthwise_conv_rows_s8_get_buffer_size(const mf_dims *input_dims,
                                                  const mf_dims *filter_dims,
                                                  const mf_dims *output_dims,
                                                  int32_t stride_h,
                                                  int32_t stride_w,
                                                  int32_t dilation_h,
                                                  int32_t dilation_w);

/*
 * Fully connected: for each of `batches` rows of `accum_depth` inputs, what TFLite computes,
 * out[o] = requant(sum_i (x[i] + input_offset) * (w[o, i] + filter_offset) + layer_bias[o]),
 * as out[o] = requant(sum_i x[i] * w[o, i] + filter_offset * sum_i x[i] + bias[o]) with
 * bias[o] = layer_bias[o] + input_offset * (sum_i w[o, i] + accum_depth * filter_offset):
 * fc_params->input_offset is not read.
 *   filter (output_depth, accum_depth) row-major; bias output_depth int32 values or NULL.
 * Scratch: none (mf_fully_connected_s8_get_buffer_size returns 0).
 */
mf_status mf_fully_connected_s8(const mf_context *ctx,
                                const mf_fc_params *fc_params,
                                const mf_per_channel_quant_params *quant_params,
                                int32_t batches,
                                int32_t accum_depth,
                                int32_t output_depth,
                                const int8_t *input,
                                const int8_t *filter,
                                const int32_t *bias,
                                int8_t *output);

int32_t mf_fully_connected_s8_get_buffer_size(int32_t accum_depth, int32_t output_depth);

/* ---- m4pw (issue 12): the i4 weight layout, chosen for Cortex-M4/M7/M33 ----------------
 * mf_convolve_1x1_s8 and mf_fully_connected_s8 (symmetric weights) with the filter packed in
 * the i4 layout (mf_internal.h; mcuforge.kernels.dsp_i4.pack_i4): channel pairs held as
 * halfwords (w_a + 128) + 256 * w_b, four channels interleaved, inputs in SXTB16 order, as
 * little-endian int32 words (C_out and C_in rounded up to 4: C_out4 * C_in4 / 4 words).
 * Arguments, bias (input offset folded in) and results as for the _s8 kernels.
 * Scratch: mf_convolve_1x1_i4_s8_get_buffer_size() bytes (two widened pixel rows);
 * mf_fully_connected_i4_s8 takes none.
 */
mf_status mf_convolve_1x1_i4_s8(const mf_context *ctx,
                                const mf_conv_params *conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *filter_dims,
                                const int32_t *filter,
                                const int32_t *bias,
                                const mf_dims *output_dims,
                                int8_t *output);

int32_t mf_convolve_1x1_i4_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

mf_status mf_fully_connected_i4_s8(const mf_context *ctx,
                                   const mf_fc_params *fc_params,
                                   const mf_per_channel_quant_params *quant_params,
                                   int32_t batches,
                                   int32_t accum_depth,
                                   int32_t output_depth,
                                   const int8_t *input,
                                   const int32_t *filter,
                                   const int32_t *bias,
                                   int8_t *output);

int32_t mf_fully_connected_i4_s8_get_buffer_size(int32_t accum_depth, int32_t output_depth);
/* ---- end m4pw ---- */

/* ---------------------------------------------------------------------------------------
 * 4-bit weights: int4 (symmetric, two per byte) and 4-bit codebook indices. The filters are
 * read where they lie (flash); the packing is compiler/ops/packed_weights.py's. Activations,
 * bias, requantization and results are exactly those of the _s8 kernels on the unpacked
 * weights.
 * ------------------------------------------------------------------------------------- */

/*
 * mf_convolve_s8 with int4 weights in [-8, 7]: filter_dims (C_out, KH, KW, C_in) values packed
 * two per byte, element 2j in the low nibble of byte j, in OHWI order across row boundaries
 * ((C_out * KH * KW * C_in + 1) / 2 bytes).
 * Scratch: mf_convolve_s4_get_buffer_size(input_dims, filter_dims) bytes (the s8 patch).
 */
mf_status mf_convolve_s4(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const uint8_t *packed_filter,
                         const int32_t *bias,
                         const mf_dims *output_dims,
                         int8_t *output);

int32_t mf_convolve_s4_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/*
 * mf_convolve_s8 whose OHWI filter is given as 4-bit codebook indices (mf_cb4_filter).
 * Scratch: mf_convolve_cb4_get_buffer_size(input_dims, filter_dims) bytes (the s8 patch).
 */
mf_status mf_convolve_cb4(const mf_context *ctx,
                          const mf_conv_params *conv_params,
                          const mf_per_channel_quant_params *quant_params,
                          const mf_dims *input_dims,
                          const int8_t *input,
                          const mf_dims *filter_dims,
                          const mf_cb4_filter *filter,
                          const int32_t *bias,
                          const mf_dims *output_dims,
                          int8_t *output);

int32_t mf_convolve_cb4_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/*
 * mf_fully_connected_s8 with int4 weights (output_depth, accum_depth) packed two per byte as
 * for mf_convolve_s4. Weights are symmetric: fc_params->filter_offset must be 0.
 * Scratch: none (mf_fully_connected_s4_get_buffer_size returns 0).
 */
mf_status mf_fully_connected_s4(const mf_context *ctx,
                                const mf_fc_params *fc_params,
                                const mf_per_channel_quant_params *quant_params,
                                int32_t batches,
                                int32_t accum_depth,
                                int32_t output_depth,
                                const int8_t *input,
                                const uint8_t *packed_filter,
                                const int32_t *bias,
                                int8_t *output);

int32_t mf_fully_connected_s4_get_buffer_size(int32_t accum_depth, int32_t output_depth);

/*
 * mf_fully_connected_s8 whose (output_depth, accum_depth) weights are 4-bit codebook indices
 * (mf_cb4_filter); fc_params->filter_offset must be 0. Scratch: none.
 */
mf_status mf_fully_connected_cb4(const mf_context *ctx,
                                 const mf_fc_params *fc_params,
                                 const mf_per_channel_quant_params *quant_params,
                                 int32_t batches,
                                 int32_t accum_depth,
                                 int32_t output_depth,
                                 const int8_t *input,
                                 const mf_cb4_filter *filter,
                                 const int32_t *bias,
                                 int8_t *output);

int32_t mf_fully_connected_cb4_get_buffer_size(int32_t accum_depth, int32_t output_depth);

/* ---------------------------------------------------------------------------------------
 * Sparse int8 weights (unstructured pruning): a bitmap and the nonzero values, read where they
 * lie (flash); the packing is compiler/ops/packed_weights.py's pack_sparse. Zero weights cost
 * one bit and no multiply; a zero mask byte skips 8 weights at once. Results are exactly those
 * of the _s8 kernels on the dense weights. Weights are symmetric (filter zero point 0).
 * ------------------------------------------------------------------------------------- */

/* A weight matrix of C_out rows of K weights (K = KH * KW * C_in for OHWI filters, accum_depth
 * for dense layers). `mask` holds (K + 7) / 8 bytes per row: bit j (least significant first)
 * of row o's byte b is set when weight (o, 8b + j) is nonzero; bits past K are 0. `values`
 * holds the nonzero weights of row 0, then row 1, ..., each row in its element order. */
typedef struct {
    const uint8_t *mask;
    const int8_t *values;
} mf_sparse_filter;

/*
 * mf_convolve_s8 (any kernel size, stride, dilation, padding) with a sparse OHWI filter.
 * Scratch: mf_convolve_sparse_s8_get_buffer_size(input_dims, filter_dims) bytes (one int16
 * im2col patch of KH * KW * C_in values).
 */
mf_status mf_convolve_sparse_s8(const mf_context *ctx,
                                const mf_conv_params *conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *filter_dims,
                                const mf_sparse_filter *filter,
                                const int32_t *bias,
                                const mf_dims *output_dims,
                                int8_t *output);

int32_t mf_convolve_sparse_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/*
 * mf_fully_connected_s8 with sparse (output_depth, accum_depth) weights; fc_params->filter_offset
 * must be 0. Scratch: none (mf_fully_connected_sparse_s8_get_buffer_size returns 0).
 */
mf_status mf_fully_connected_sparse_s8(const mf_context *ctx,
                                       const mf_fc_params *fc_params,
                                       const mf_per_channel_quant_params *quant_params,
                                       int32_t batches,
                                       int32_t accum_depth,
                                       int32_t output_depth,
                                       const int8_t *input,
                                       const mf_sparse_filter *filter,
                                       const int32_t *bias,
                                       int8_t *output);

int32_t mf_fully_connected_sparse_s8_get_buffer_size(int32_t accum_depth, int32_t output_depth);

/* -- 1-bit weights (issue 16) ----------------------------------------------------------------
 * b1: every weight is +1 or -1 (BinaryConnect / BWN: the per-channel scale alpha_c is in the
 * requantization), one bit per weight, bit k of the filter at bit k % 8 of byte k / 8 (least
 * significant first), set for +1, clear for -1, in OHWI / (O, I) order across row boundaries
 * ((count + 7) / 8 bytes; compiler/mcuforge/ops/packed_weights.py pack_b1). The kernels add the
 * inputs of set bits and subtract the others. */

/*
 * mf_convolve_s8 with 1-bit weights (filter_dims (C_out, KH, KW, C_in) bits, packed as above).
 * The bias comes with (input_offset - 128) * (sum of each row's +-1 weights) folded in, as the
 * kernels sum x + 128 (runtime_c/include/mf_binary.h); conv_params->input_offset gives the value
 * of padded cells. Scratch: mf_convolve_b1_get_buffer_size(input_dims, filter_dims) bytes (one
 * patch of KH * KW * C_in bytes).
 */
mf_status mf_convolve_b1(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const uint8_t *packed_filter,
                         const int32_t *bias,
                         const mf_dims *output_dims,
                         int8_t *output);

int32_t mf_convolve_b1_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/*
 * mf_fully_connected_s8 with 1-bit (output_depth, accum_depth) weights packed as above. The bias
 * comes with (input_offset - 128) * (sum of each row's +-1 weights) folded in (as for
 * mf_convolve_b1); fc_params->filter_offset must be 0. Scratch: none.
 */
mf_status mf_fully_connected_b1(const mf_context *ctx,
                                const mf_fc_params *fc_params,
                                const mf_per_channel_quant_params *quant_params,
                                int32_t batches,
                                int32_t accum_depth,
                                int32_t output_depth,
                                const int8_t *input,
                                const uint8_t *packed_filter,
                                const int32_t *bias,
                                int8_t *output);

int32_t mf_fully_connected_b1_get_buffer_size(int32_t accum_depth, int32_t output_depth);
/* -- end 1-bit weights -- */

/* ---------------------------------------------------------------------------------------
 * Pooling and reductions
 * ------------------------------------------------------------------------------------- */

/*
 * Average pooling over KH x KW windows (filter_dims (1, KH, KW, 1)); only cells inside the
 * input count, and the mean rounds half away from zero as TFLite does.
 *   input_dims (N, H, W, C), output_dims (N, OH, OW, C).
 * Scratch: mf_avgpool_s8_get_buffer_size(...) bytes (0 for the portable path).
 */
mf_status mf_avgpool_s8(const mf_context *ctx,
                        const mf_pool_params *pool_params,
                        const mf_dims *input_dims,
                        const int8_t *input,
                        const mf_dims *filter_dims,
                        const mf_dims *output_dims,
                        int8_t *output);

int32_t mf_avgpool_s8_get_buffer_size(int32_t output_w, int32_t channels);

/* Max pooling; same shapes as mf_avgpool_s8, no scratch. Padded cells are ignored. */
mf_status mf_maxpool_s8(const mf_pool_params *pool_params,
                        const mf_dims *input_dims,
                        const int8_t *input,
                        const mf_dims *filter_dims,
                        const mf_dims *output_dims,
                        int8_t *output);

/*
 * Mean over H and W: input (N, H, W, C) -> output (N, 1, 1, C), as TFLite Micro's
 * QuantizedMeanOrSum: the sum of (x + input_offset) over H * W cells, requantized once.
 */
mf_status mf_mean_s8(const mf_mean_params *mean_params,
                     const mf_dims *input_dims,
                     const int8_t *input,
                     int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Elementwise
 * ------------------------------------------------------------------------------------- */

/*
 * a + b with 4-D broadcasting: every input dim equals the output dim or is 1.
 * May run in place when an input has the output's dims.
 */
mf_status mf_elementwise_add_s8(const mf_add_params *add_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output);

/* a - b; same parameters and broadcasting as mf_elementwise_add_s8. (TFLite rounds the
 * scaled second input before subtracting, so negating its multiplier in an add would not
 * be bit-exact: hence a kernel of its own.) */
mf_status mf_elementwise_sub_s8(const mf_add_params *sub_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output);

/* a * b with the same broadcasting as mf_elementwise_add_s8. */
mf_status mf_elementwise_mul_s8(const mf_mul_params *mul_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output);

/*
 * PReLU with alpha broadcast against the input (alpha_dims each 1 or equal to input_dims;
 * usually (1, 1, 1, C) for per-channel slopes). Output has input_dims.
 */
mf_status mf_prelu_s8(const mf_prelu_params *prelu_params,
                      const mf_dims *input_dims,
                      const int8_t *input,
                      const mf_dims *alpha_dims,
                      const int8_t *alpha,
                      int8_t *output);

/*
 * Table lookup: output[i] = table[input[i] + 128] for `size` values. The compiler fills the
 * 256-entry table on the host from the integer reference of LOGISTIC, TANH, HARD_SWISH,
 * LEAKY_RELU, CLAMP and requantization, so those ops are bit-exact by construction.
 * May run in place.
 */
mf_status mf_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output);

/*
 * Softmax over the last axis: `rows` rows of `depth` values. Output scale 1/256, zero point
 * -128. Bit-exact with TFLite Micro's int8 softmax (gemmlowp fixed-point exp and reciprocal).
 */
mf_status mf_softmax_s8(const mf_softmax_params *softmax_params,
                        int32_t rows,
                        int32_t depth,
                        const int8_t *input,
                        int8_t *output);

/* ---- elementwise-ops: min/max, division, L2 normalization ---------------------------- */

/* max(a, b) and min(a, b) with the same broadcasting as mf_elementwise_add_s8. Inputs and
 * output share one quantization (as TFLite requires), so codes compare directly. May run in
 * place. */
mf_status mf_elementwise_maximum_s8(const mf_dims *input1_dims,
                                    const int8_t *input1,
                                    const mf_dims *input2_dims,
                                    const int8_t *input2,
                                    const mf_dims *output_dims,
                                    int8_t *output);

mf_status mf_elementwise_minimum_s8(const mf_dims *input1_dims,
                                    const int8_t *input1,
                                    const mf_dims *input2_dims,
                                    const int8_t *input2,
                                    const mf_dims *output_dims,
                                    int8_t *output);

/* a / b with the same broadcasting as mf_elementwise_add_s8, bit-exact with TFLite Micro's
 * int8 Div. Parameters as mf_mul_params, with output multiplier and shift representing
 * input1_scale / (input2_scale * output_scale). A zero divisor saturates to the activation
 * bound of the dividend's sign. May run in place. */
mf_status mf_elementwise_div_s8(const mf_mul_params *div_params,
                                const mf_dims *input1_dims,
                                const int8_t *input1,
                                const mf_dims *input2_dims,
                                const int8_t *input2,
                                const mf_dims *output_dims,
                                int8_t *output);

/*
 * L2 normalization over the last axis: `rows` rows of `depth` values (depth <= 32768),
 * x / ||x||. Output scale 1/128, zero point 0. Bit-exact with TFLite Micro's int8 kernel.
 */
mf_status mf_l2_normalization_s8(const mf_l2_norm_params *l2_params,
                                 int32_t rows,
                                 int32_t depth,
                                 const int8_t *input,
                                 int8_t *output);

/*
 * Log-softmax over the last axis: `rows` rows of `depth` values (depth <= 4096). Output scale
 * 16/256, zero point 127. Bit-exact with TFLite Micro's int8 LogSoftmax.
 */
mf_status mf_log_softmax_s8(const mf_log_softmax_params *log_softmax_params,
                            int32_t rows,
                            int32_t depth,
                            const int8_t *input,
                            int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Data movement
 * ------------------------------------------------------------------------------------- */

/* Constant padding: output dims are input dims plus before + after on each axis. */
mf_status mf_pad_s8(const mf_pad_params *pad_params,
                    const mf_dims *input_dims,
                    const int8_t *input,
                    int8_t *output);

/*
 * Concatenation of num_inputs 4-D tensors along axis (0..3 = n, h, w, c). All inputs share
 * quantization and agree off the axis; the output is their join.
 */
mf_status mf_concat_s8(int32_t num_inputs,
                       const int8_t *const *inputs,
                       const mf_dims *input_dims,
                       int32_t axis,
                       int8_t *output);

/* Transpose: output axis i is input axis perm[i]; perm is a permutation of 0..3. */
mf_status mf_transpose_s8(const mf_dims *input_dims,
                          const int8_t *input,
                          const int32_t *perm,
                          int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Attention (issue 11): batched matrix product of two run-time tensors (src/fully_connected/)
 * ------------------------------------------------------------------------------------- */

/* BatchMatMul: out = requant(sum_k (lhs + lhs_offset) * (rhs + rhs_offset)), one multiplier for
 * the tensor (lhs_scale * rhs_scale / output_scale). adj_x != 0: lhs is stored (K, M) per batch;
 * adj_y != 0: rhs is stored (N, K) (TFLite's adj_x / adj_y). */
typedef struct {
    int32_t lhs_offset;
    int32_t rhs_offset;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t adj_x;
    int32_t adj_y;
    mf_activation activation;
} mf_batch_matmul_params;

/*
 * Batched matrix product, bit-exact with TFLite Micro's int8 BatchMatMul.
 *   lhs_dims (B0, B1, M, K), or (B0, B1, K, M) with adj_x
 *   rhs_dims (B0', B1', K, N), or (B0', B1', N, K) with adj_y
 *   output_dims (max(B0, B0'), max(B1, B1'), M, N)
 * Each batch axis of an operand is the output's or 1 (broadcast). Lower ranks pad with leading 1s.
 * K <= 14000, so that the int32 offset terms cannot overflow (the compiler checks it).
 * Scratch: mf_batch_matmul_s8_get_buffer_size(lhs_dims, rhs_dims, adj_x, adj_y) bytes: 8 * N,
 * plus K * N unless adj_y, plus M * K with adj_x (transposed copies of one batch matrix).
 */
mf_status mf_batch_matmul_s8(const mf_context *ctx,
                             const mf_batch_matmul_params *params,
                             const mf_dims *lhs_dims,
                             const int8_t *lhs,
                             const mf_dims *rhs_dims,
                             const int8_t *rhs,
                             const mf_dims *output_dims,
                             int8_t *output);

int32_t mf_batch_matmul_s8_get_buffer_size(const mf_dims *lhs_dims,
                                           const mf_dims *rhs_dims,
                                           int32_t adj_x,
                                           int32_t adj_y);

/* ---------------------------------------------------------------------------------------
 * Reductions and normalization (area: reductions)
 * ------------------------------------------------------------------------------------- */

/* Rank of the shapes mf_reduce_s8 takes: lower ranks pad with leading 1s. */
#define MF_REDUCE_RANK 5

/* What mf_reduce_s8 computes per output value. */
typedef enum {
    MF_REDUCE_SUM = 0, /* requantize(sum of (x + input_offset)) + output_offset: MEAN and SUM */
    MF_REDUCE_MAX = 1, /* the largest raw value (input and output share quantization) */
    MF_REDUCE_MIN = 2  /* the smallest raw value */
} mf_reduce_kind;

/* MEAN / SUM / REDUCE_MAX / REDUCE_MIN. For MF_REDUCE_SUM, multiplier and shift hold
 * input_scale / output_scale, and for a mean also 1 / count, as TFLite Micro's
 * QuantizedMeanOrSum prepares them; the other fields are unused by MAX and MIN. */
typedef struct {
    int32_t kind; /* an mf_reduce_kind */
    int32_t input_offset;
    int32_t output_offset;
    int32_t multiplier;
    int32_t shift;
    mf_activation activation;
} mf_reduce_params;

/*
 * Reduction over the axes i with reduced[i] != 0 of a dense row-major tensor of dims `shape`
 * (shape and reduced: MF_REDUCE_RANK values each, shape values >= 1). The output holds the
 * kept axes in order (keepdims or not is only a matter of the output's declared shape). At most
 * 2^22 values are summed per output.
 */
mf_status mf_reduce_s8(const mf_reduce_params *reduce_params,
                       const int32_t *shape,
                       const int32_t *reduced,
                       const int8_t *input,
                       int8_t *output);

/*
 * ARG_MAX (largest != 0) or ARG_MIN over the middle axis of an (outer, axis_len, inner) int8
 * tensor: output[o * inner + i] is the index of the extreme value, the first one on ties (the
 * last one when select_last != 0, ONNX's select_last_index). index_bytes is 4 (int32_t output)
 * or 8 (int64_t output).
 */
mf_status mf_arg_s8(int32_t outer,
                    int32_t axis_len,
                    int32_t inner,
                    int32_t largest,
                    int32_t select_last,
                    int32_t index_bytes,
                    const int8_t *input,
                    void *output);

/*
 * (a - b)^2 with 4-D broadcasting, as TFLite Micro's int8 SQUARED_DIFFERENCE: both inputs offset,
 * shifted left by left_shift (7), scaled by input multipliers (shift <= 0), subtracted, squared
 * and requantized by output_multiplier / output_shift (shift may be > 0). Fields as mf_add_params.
 */
mf_status mf_squared_difference_s8(const mf_add_params *params,
                                   const mf_dims *input1_dims,
                                   const int8_t *input1,
                                   const mf_dims *input2_dims,
                                   const int8_t *input2,
                                   const mf_dims *output_dims,
                                   int8_t *output);

/* Layer normalization over the last axis; see mf_layer_norm_s8. */
typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int64_t eps;           /* epsilon / input_scale^2 * depth^3, rounded: in sum(c^2) units */
    mf_activation activation;
} mf_layer_norm_params;

/*
 * Layer normalization of each row of `depth` int8 values (rows * depth values, channel fastest),
 * with int32/int64 integer arithmetic only (mcuforge's definition; TFLite Micro has no such op):
 *   d_i = x_i + input_offset,  c_i = depth * d_i - sum_j d_j       (exact: depth times x - mean)
 *   v   = sum_i c_i^2 + eps                                         (int64)
 *   s   = isqrt(v * 4^k) with k the largest making v * 4^k < 2^62   (s in [2^30, 2^31))
 *   r   = round(2^62 / s);  z_i = round(c_i * r / 2^(32 - k))      (z_i = c_i / sqrt(v) in Q30)
 *   y_i = round((requantize(z_i, multiplier[i], shift[i]) + bias[i]) / 256) + output_offset,
 * clamped, where multiplier/shift hold gamma_i * sqrt(depth) / output_scale * 2^-22 and bias[i]
 * is beta_i / output_scale * 256, rounded. Rounding is half away from zero throughout.
 * depth in [1, 4096].
 */
mf_status mf_layer_norm_s8(const mf_layer_norm_params *params,
                           int32_t rows,
                           int32_t depth,
                           const int32_t *multiplier,
                           const int32_t *shift,
                           const int32_t *bias,
                           const int8_t *input,
                           int8_t *output);

/* ---------------------------------------------------------------------------------------
 * Spatial ops (spatial-ops area): grouped and transposed convolution (src/convolution/),
 * resize (src/resize/); none needs scratch.
 * ------------------------------------------------------------------------------------- */

/*
 * Grouped 2-D convolution (TFLite's CONV_2D with filter depth < input depth): groups =
 * C_in / filter_dims->c, output channel oc reads input channels [g * D, (g + 1) * D) with
 * g = oc / (C_out / groups) and D = filter_dims->c. Arguments as mf_convolve_s8 (bias with the
 * input offset folded in over the filter row of oc; padding reads as the zero point).
 * Scratch: none (mf_convolve_grouped_s8_get_buffer_size returns 0; ctx may hold NULL).
 */
mf_status mf_convolve_grouped_s8(const mf_context *ctx,
                                 const mf_conv_params *conv_params,
                                 const mf_per_channel_quant_params *quant_params,
                                 const mf_dims *input_dims,
                                 const int8_t *input,
                                 const mf_dims *filter_dims,
                                 const int8_t *filter,
                                 const int32_t *bias,
                                 const mf_dims *output_dims,
                                 int8_t *output);

int32_t mf_convolve_grouped_s8_get_buffer_size(const mf_dims *input_dims,
                                               const mf_dims *filter_dims);

/*
 * Transposed convolution (TFLite TRANSPOSE_CONV, ONNX ConvTranspose), TFLM's integer reference:
 *   input_dims (N, H, W, C_in)   filter_dims (C_out, KH, KW, C_in)   output_dims (N, OH, OW, C_out)
 * Input pixel (y, x) adds (input + input_offset) * w[oc][ky][kx] to output pixel
 * (y * stride.h - padding.h + ky, x * stride.w - padding.w + kx) when inside the output; then
 * the layer's own bias (NOT folded; NULL for none), requantization per output channel, the
 * output offset and the clamp. Dilation must be 1.
 * `filter` holds w grouped by stride phase: for each (py, px) in row-major order over
 * (stride.h, stride.w), the block w[:, py::stride.h, px::stride.w, :] (C_out, rows, columns,
 * C_in), row-major; the compiler writes it (kernels/convolution.py transpose_phases).
 * Scratch: mf_transpose_conv_s8_get_buffer_size(input_dims, filter_dims, stride.h, stride.w)
 * bytes, 4-byte aligned (one int16 patch of ceil(KH / stride.h) * ceil(KW / stride.w) * C_in).
 */
mf_status mf_transpose_conv_s8(const mf_context *ctx,
                               const mf_conv_params *conv_params,
                               const mf_per_channel_quant_params *quant_params,
                               const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *filter_dims,
                               const int8_t *filter,
                               const int32_t *bias,
                               const mf_dims *output_dims,
                               int8_t *output);

int32_t mf_transpose_conv_s8_get_buffer_size(const mf_dims *input_dims,
                                             const mf_dims *filter_dims,
                                             int32_t stride_h,
                                             int32_t stride_w);

/* Nearest-neighbour resize: output pixel (oy, ox) copies input pixel (rows[oy], cols[ox]);
 * rows has output_dims->h entries in [0, H), cols output_dims->w entries in [0, W). */
mf_status mf_resize_nearest_s8(const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *output_dims,
                               const int32_t *rows,
                               const int32_t *cols,
                               int8_t *output);

/*
 * Bilinear resize in TFLM's 10-bit fixed point: y_table holds (lo, hi, frac) for each output
 * row, x_table for each output column (frac in 1/1024, weights 1024 - frac and frac). Output =
 * sum of the four neighbours times their weights, / 2^20 rounded half away from zero. Input and
 * output share quantization.
 */
mf_status mf_resize_bilinear_s8(const mf_dims *input_dims,
                                const int8_t *input,
                                const mf_dims *output_dims,
                                const int32_t *y_table,
                                const int32_t *x_table,
                                int8_t *output);

/* --- tflite-import: the generic N-D strided copy ------------------------------------------- */

#define MF_COPY_MAX_RANK 8

/*
 * One N-D strided copy: for every index (i_0, ..., i_{rank-1}) below shape,
 *   output[sum i_k * output_stride[k]] = input[sum i_k * input_stride[k]]
 * (strides in elements). An input stride may be 0 (broadcast, tile) or negative (reversed
 * slices; the caller passes the pointer of the first element read). Slices, splits, gathers,
 * tiles, broadcasts, concatenations and transposes of any rank up to MF_COPY_MAX_RANK are one
 * or a few such copies, computed by the compiler. Output elements must not overlap the input.
 */
typedef struct {
    int32_t rank; /* 1..MF_COPY_MAX_RANK */
    int32_t shape[MF_COPY_MAX_RANK];
    int32_t input_stride[MF_COPY_MAX_RANK];
    int32_t output_stride[MF_COPY_MAX_RANK];
} mf_copy_params;

mf_status mf_strided_copy_s8(const mf_copy_params *copy_params, const int8_t *input, int8_t *output);

/* -- recurrent area --------------------------------------------------------------------- */

/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM, integer form of TFLite Micro (int8 activations, int16 gates and
 * cell state), over a whole sequence; the state starts at zero on every call, or is carried
 * over in the caller's buffers. Input (B, T, I)
 * or (T, B, I) with time_major, output likewise with H features.
 */
typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t hidden_size;
    int32_t time_major;
    int32_t hidden_zp;       /* zero point of the hidden state and of the output */
    int32_t tanh_multiplier; /* tanh(cell): (c * tanh_multiplier) >> tanh_shift, rounded */
    int32_t tanh_shift;
    int32_t cell_clip;       /* |c| <= cell_clip when > 0 */
} mf_lstm_params;

typedef struct {
    const int8_t *input_weights;     /* (4, H, I), gates input, forget, cell, output */
    const int8_t *recurrent_weights; /* (4, H, H) */
    const int32_t *input_bias;       /* (4, H): bias + input offset x row sums */
    const int32_t *recurrent_bias;   /* (4, H): -hidden_zp x row sums */
    const int32_t *multiplier;       /* 8: the input FC of each gate to Q3.12, then the recurrent FC */
    const int32_t *shift;            /* 8 */
    const int32_t *mul_multiplier;   /* 3: forget x cell, input x cell gate, tanh(cell) x output */
    const int32_t *mul_shift;        /* 3 */
} mf_lstm_weights;

/* Scratch bytes of mf_lstm_s8: the cell state, four gates and the hidden state. */
int32_t mf_lstm_s8_get_buffer_size(int32_t batches, int32_t hidden_size);

/* hidden_state (B x H int8) and cell_state (B x H int16): both NULL for a state that starts at
 * zero on every call, or both the caller's persistent buffers (stateful area), carried over. */
mf_status mf_lstm_s8(const mf_context *ctx,
                     const mf_lstm_params *lstm_params,
                     const mf_lstm_weights *weights,
                     const int8_t *input,
                     int8_t *hidden_state,
                     int16_t *cell_state,
                     int8_t *output);

/* -- stateful area --------------------------------------------------------------------- */

/*
 * SVDF, integer form of TFLite Micro: input (batches, input_size) int8, output (batches,
 * num_filters / rank) int8. `state` is the layer's memory, batches x num_filters x memory_size
 * int16 (filter-major), kept by the caller between calls and reset to state_zp; each call ages
 * it by one step. No scratch. Multiplier/shift pairs as TFLite's QuantizeMultiplier gives them;
 * the zero points of input and state are folded into the two bias arrays on the host.
 */
typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t num_filters;        /* units x rank */
    int32_t memory_size;
    int32_t rank;
    int32_t state_zp;
    int32_t output_zp;
    int32_t feature_multiplier; /* input x feature weights -> state scale */
    int32_t feature_shift;
    int32_t output_multiplier;  /* state x time weights -> output scale */
    int32_t output_shift;
} mf_svdf_params;

typedef struct {
    const int8_t *feature_weights; /* (num_filters, input_size) */
    const int32_t *feature_bias;   /* (num_filters): -input zero point x row sum */
    const int16_t *time_weights;   /* (num_filters, memory_size) */
    const int32_t *bias;           /* (num_filters / rank): bias - state_zp x unit's time weight sum */
} mf_svdf_weights;

mf_status mf_svdf_s8(const mf_svdf_params *svdf_params,
                     const mf_svdf_weights *weights,
                     const int8_t *input,
                     int16_t *state,
                     int8_t *output);

/* -- real models (TFLite Micro's keyword_scrambled_8bit): SVDF with int8 time weights and state */

/*
 * SVDF with int8 time weights and an int8 memory (TFLite Micro's EvalInt8SvdfReference): as
 * mf_svdf_s8, with `state` batches x num_filters x memory_size int8 and state_zp in [-128, 127].
 */
typedef struct {
    const int8_t *feature_weights; /* (num_filters, input_size) */
    const int32_t *feature_bias;   /* (num_filters): -input zero point x row sum */
    const int8_t *time_weights;    /* (num_filters, memory_size) */
    const int32_t *bias;           /* (num_filters / rank): bias - state_zp x unit's time weight sum */
} mf_svdf_s8_weights;

mf_status mf_svdf_s8_s8(const mf_svdf_params *svdf_params,
                        const mf_svdf_s8_weights *weights,
                        const int8_t *input,
                        int8_t *state,
                        int8_t *output);

/* ---------------------------------------------------------------------------------------
 * int16 activations (issue 11: TFLite's 16x8 mode). Activations are int16 with zero point 0
 * (input_offset and output_offset are 0), weights int8 symmetric, biases int64; activation
 * ranges lie within [-32768, 32767]. The parameter structs are the int8 kernels'. Each kernel
 * is TFLite Micro's 16x8 integer definition (src/int16/ says which, per file). Data movement
 * (pad, concatenation, transpose, slices) runs through the int8 byte-moving kernels.
 * ------------------------------------------------------------------------------------- */

/* Convolution, filter_dims (C_out, KH, KW, D): int64 sums, per-channel int64 requantization.
 * D = C_in, or a filter depth below C_in for a grouped convolution (groups = C_in / D, output
 * channel o reads input channels [g * D, (g + 1) * D) of its group g = o / (C_out / groups)). */
mf_status mf_convolve_s16(const mf_context *ctx,
                          const mf_conv_params *conv_params,
                          const mf_per_channel_quant_params *quant_params,
                          const mf_dims *input_dims,
                          const int16_t *input,
                          const mf_dims *filter_dims,
                          const int8_t *filter,
                          const int64_t *bias,
                          const mf_dims *output_dims,
                          int16_t *output);

int32_t mf_convolve_s16_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims);

/* Depthwise convolution, filter_dims (1, KH, KW, C * ch_mult). */
mf_status mf_depthwise_conv_s16(const mf_context *ctx,
                                const mf_dw_conv_params *dw_conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int16_t *input,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                const int64_t *bias,
                                const mf_dims *output_dims,
                                int16_t *output);

int32_t mf_depthwise_conv_s16_get_buffer_size(const mf_dims *input_dims,
                                              const mf_dims *filter_dims);

/* Fully connected, filter (output_depth, accum_depth); filter_offset 0. */
mf_status mf_fully_connected_s16(const mf_context *ctx,
                                 const mf_fc_params *fc_params,
                                 const mf_per_channel_quant_params *quant_params,
                                 int32_t batches,
                                 int32_t accum_depth,
                                 int32_t output_depth,
                                 const int16_t *input,
                                 const int8_t *filter,
                                 const int64_t *bias,
                                 int16_t *output);

int32_t mf_fully_connected_s16_get_buffer_size(int32_t accum_depth, int32_t output_depth);

/* ADD and SUB (left_shift 15) and MUL with 4-D broadcasting; may run in place. */
mf_status mf_elementwise_add_s16(const mf_add_params *add_params,
                                 const mf_dims *input1_dims,
                                 const int16_t *input1,
                                 const mf_dims *input2_dims,
                                 const int16_t *input2,
                                 const mf_dims *output_dims,
                                 int16_t *output);

mf_status mf_elementwise_sub_s16(const mf_add_params *sub_params,
                                 const mf_dims *input1_dims,
                                 const int16_t *input1,
                                 const mf_dims *input2_dims,
                                 const int16_t *input2,
                                 const mf_dims *output_dims,
                                 int16_t *output);

mf_status mf_elementwise_mul_s16(const mf_mul_params *mul_params,
                                 const mf_dims *input1_dims,
                                 const int16_t *input1,
                                 const mf_dims *input2_dims,
                                 const int16_t *input2,
                                 const mf_dims *output_dims,
                                 int16_t *output);

/* Average (int32 sums, rounded half away from zero) and max pooling. */
mf_status mf_avgpool_s16(const mf_context *ctx,
                         const mf_pool_params *pool_params,
                         const mf_dims *input_dims,
                         const int16_t *input,
                         const mf_dims *filter_dims,
                         const mf_dims *output_dims,
                         int16_t *output);

int32_t mf_avgpool_s16_get_buffer_size(int32_t output_w, int32_t channels);

mf_status mf_maxpool_s16(const mf_pool_params *pool_params,
                         const mf_dims *input_dims,
                         const int16_t *input,
                         const mf_dims *filter_dims,
                         const mf_dims *output_dims,
                         int16_t *output);

/* Mean over H and W (int32 sums), as mf_mean_s8. */
mf_status mf_mean_s16(const mf_mean_params *mean_params,
                      const mf_dims *input_dims,
                      const int16_t *input,
                      int16_t *output);

/* Requantization between int8 and int16 (QUANTIZE): input_bits / output_bits are 8 or 16. */
typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t multiplier;
    int32_t shift;
    int32_t input_bits;
    int32_t output_bits;
} mf_requantize_params;

mf_status mf_requantize_s16(const mf_requantize_params *requantize_params,
                            int32_t size,
                            const void *input,
                            void *output);

/* -- real models (TFLite Micro's keyword_scrambled_8bit): QUANTIZE to an int32 output */

/* Requantization from int8 or int16 (input_bits 8 or 16) to int32 (output_bits 32), as TFLite
 * Micro's Requantize; the output zero point is added in 64 bits and saturated to int32. */
mf_status mf_requantize_s32(const mf_requantize_params *requantize_params,
                            int32_t size,
                            const void *input,
                            int32_t *output);

/* -- real models (TFLite Micro's seanet integration tests): TRANSPOSE_CONV in 16x8 mode */

/* Transposed convolution, int16 activations (zero point 0), int8 OHWI weights, int64 bias:
 * output pixel (y * stride - padding + k) receives input pixel y through tap k; padding is the
 * top/left crop. No scratch. */
mf_status mf_transpose_conv_s16(const mf_conv_params *conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int16_t *input,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                const int64_t *bias,
                                const mf_dims *output_dims,
                                int16_t *output);

/* The input scaling of the int16 table kernels (SOFTMAX, LOGISTIC, TANH): x * input_multiplier,
 * rounded and shifted right by input_left_shift. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
} mf_int16_activation_params;

/* Softmax over the last axis (int16 in, Q0.15 out): the activation params scale input
 * differences by input_scale * beta / (10 / 65535); exp_lut and reciprocal_lut are the
 * 513-entry tables of exp over [-10, 0] and 1 / (1 + x) over [0, 1]. May run in place. */
mf_status mf_softmax_s16(const mf_int16_activation_params *softmax_params,
                         int32_t rows,
                         int32_t depth,
                         const int16_t *exp_lut,
                         const int16_t *reciprocal_lut,
                         const int16_t *input,
                         int16_t *output);

/* LOGISTIC and TANH (int16 in, Q0.15 out): input to the table's scale 1 / (3 * 4096) by
 * (x * input_multiplier + round) >> input_left_shift; sigmoid_table holds sigmoid(i / 24),
 * i = 0..255, unsigned Q0.16. May run in place. */

mf_status mf_logistic_s16(const mf_int16_activation_params *activation_params,
                          int32_t size,
                          const uint16_t *sigmoid_table,
                          const int16_t *input,
                          int16_t *output);

mf_status mf_tanh_s16(const mf_int16_activation_params *activation_params,
                      int32_t size,
                      const uint16_t *sigmoid_table,
                      const int16_t *input,
                      int16_t *output);

/* --- int16-ops: LEAKY_RELU and clamps, MINIMUM/MAXIMUM, bilinear resize, BATCH_MATMUL, grouped
 * convolution (16x8: mf_convolve_s16), and softmax of an int8 input with an int16 output ---- */

/* LEAKY_RELU and RELU-like clamps, with mf_prelu_params (alpha_offset unused: the slope is a
 * constant folded into alpha_multiplier): x - input zero point, requantized by the identity
 * multiplier where it is >= 0 and by the alpha multiplier where it is negative (equal for a
 * clamp; shifts <= 15), plus the output zero point, clamped to `activation`. */
/* May run in place. */
mf_status mf_leaky_relu_s16(const mf_prelu_params *leaky_relu_params,
                            int32_t size,
                            const int16_t *input,
                            int16_t *output);

/* max(a, b) and min(a, b) of int16 codes, broadcasting as mf_elementwise_maximum_s8. */
mf_status mf_elementwise_maximum_s16(const mf_dims *input1_dims,
                                     const int16_t *input1,
                                     const mf_dims *input2_dims,
                                     const int16_t *input2,
                                     const mf_dims *output_dims,
                                     int16_t *output);

mf_status mf_elementwise_minimum_s16(const mf_dims *input1_dims,
                                     const int16_t *input1,
                                     const mf_dims *input2_dims,
                                     const int16_t *input2,
                                     const mf_dims *output_dims,
                                     int16_t *output);

/* Bilinear resize as mf_resize_bilinear_s8, int16 values, int64 sums. */
mf_status mf_resize_bilinear_s16(const mf_dims *input_dims,
                                 const int16_t *input,
                                 const mf_dims *output_dims,
                                 const int32_t *y_table,
                                 const int32_t *x_table,
                                 int16_t *output);

/* Batched matrix product of int16 operands (zero points 0, lhs_offset = rhs_offset = 0) with the
 * shapes of mf_batch_matmul_s8: int64 sums, TFLite's int64 requantization. No scratch. */
mf_status mf_batch_matmul_s16(const mf_batch_matmul_params *params,
                              const mf_dims *lhs_dims,
                              const int16_t *lhs,
                              const mf_dims *rhs_dims,
                              const int16_t *rhs,
                              const mf_dims *output_dims,
                              int16_t *output);

/* Softmax of an int8 input (mf_softmax_params as mf_softmax_s8) with an int16 output at scale
 * 1/65536, zero point -32768, as TFLite Micro computes that pair of types. */
mf_status mf_softmax_s8_s16(const mf_softmax_params *softmax_params,
                            int32_t rows,
                            int32_t depth,
                            const int8_t *input,
                            int16_t *output);

/* ---------------------------------------------------------------------------------------
 * ic area (issue 13): a residual block computed row by row
 * ------------------------------------------------------------------------------------- */

/* The two convolutions of mf_residual_rows_s8 (stride 1, dilation 1; top/left padding, the
 * bottom/right padding following from output dims equal to the input's H and W) and the order
 * of the add's operands. */
typedef struct {
    int32_t a_input_offset, a_output_offset;
    int32_t a_pad_h, a_pad_w;
    int32_t a_act_min, a_act_max;
    int32_t b_input_offset, b_output_offset;
    int32_t b_pad_h, b_pad_w;
    int32_t b_act_min, b_act_max;
    int32_t shortcut_first; /* 1: the add's input1 is the block input x, else conv B's output */
} mf_residual_rows_params;

/*
 * y = add(conv_b(conv_a(x)), x) (or add(x, conv_b(...)) when shortcut_first), computed one output
 * row at a time: the conv-A rows that conv-B row r needs are kept in a buffer of KH_b rows in
 * scratch, conv-B row r goes to a scratch row, then the add of that row with x's row r is written
 * to output row r. Each piece is a call of mf_convolve_s8 (on a band of rows, with the band's top
 * padding) or mf_elementwise_add_s8 on one row, so the results are theirs bit for bit.
 *   input_dims (N, H, W, C)   filter_a_dims (CM, KH_a, KW_a, C)   filter_b_dims (C, KH_b, KW_b, CM)
 *   output_dims = input_dims; biases with the input offsets folded in, as for mf_convolve_s8.
 * output may be input (in place): output row r is written after conv-A row r + b_pad_h, the last
 * that reads input row r when a_pad_h <= b_pad_h (MF_ARG_ERROR otherwise), as are paddings of a
 * filter's size or more.
 * Scratch: mf_residual_rows_s8_get_buffer_size(input_dims, filter_a_dims, filter_b_dims) bytes.
 */
mf_status mf_residual_rows_s8(const mf_context *ctx,
                              const mf_residual_rows_params *rows_params,
                              const mf_add_params *add_params,
                              const mf_per_channel_quant_params *quant_a,
                              const mf_per_channel_quant_params *quant_b,
                              const mf_dims *input_dims,
                              const int8_t *input,
                              const mf_dims *filter_a_dims,
                              const int8_t *filter_a,
                              const int32_t *bias_a,
                              const mf_dims *filter_b_dims,
                              const int8_t *filter_b,
                              const int32_t *bias_b,
                              const mf_dims *output_dims,
                              int8_t *output);

/* Scratch bytes of mf_residual_rows_s8: KH_b rows of W x CM int8 (conv A's rows), one row of
 * W x C int8 (conv B's), each rounded up to 4 bytes, then the larger scratch of its two
 * mf_convolve_s8 calls. */
int32_t mf_residual_rows_s8_get_buffer_size(const mf_dims *input_dims,
                                            const mf_dims *filter_a_dims,
                                            const mf_dims *filter_b_dims);

#ifdef __cplusplus
}
#endif

#endif /* MF_NN_H */
