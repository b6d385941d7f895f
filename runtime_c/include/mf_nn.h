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

/* -- recurrent area --------------------------------------------------------------------- */

/*
 * A contiguous window of one axis: the input seen as (outer, axis_len, inner) gives the output
 * (outer, size, inner) from element `begin` of the axis on (begin + size <= axis_len).
 */
mf_status mf_slice_axis_s8(int32_t outer,
                           int32_t axis_len,
                           int32_t inner,
                           int32_t begin,
                           int32_t size,
                           const int8_t *input,
                           int8_t *output);

/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM, integer form of TFLite Micro (int8 activations, int16 gates and
 * cell state), over a whole sequence; the state starts at zero on every call. Input (B, T, I)
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

mf_status mf_lstm_s8(const mf_context *ctx,
                     const mf_lstm_params *lstm_params,
                     const mf_lstm_weights *weights,
                     const int8_t *input,
                     int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* MF_NN_H */
