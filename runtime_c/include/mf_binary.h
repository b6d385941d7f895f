/*
 * mf_binary.h - inner products of the 1-bit (b1) weight format. Internal; not part of the
 * public API.
 *
 * A b1 weight is +1 or -1: bit k of the packed stream (bit k % 8 of byte k / 8, least
 * significant first) is set for +1 and clear for -1; rows follow each other bit after bit, so
 * a row may start mid-byte (compiler/mcuforge/ops/packed_weights.py, pack_b1). No weight is
 * ever multiplied: the dot product adds the inputs whose bit is set and subtracts the others.
 *
 * Portable path: sum_k x[k] * s[k] = 2 * (sum of x[k] over set bits) - sum_k x[k]; the caller
 * passes the total of x once per patch (convolution) or input row (dense), so each weight
 * costs a mask and an add. Bits are read a 32-bit word (32 weights) at a time once a row's
 * bits are byte-aligned, then a byte at a time, and bit by bit in the unaligned head and tail.
 * DSP path (MF_USE_DSP): each nibble of 4 weights indexes a 16-entry table of +-1 halfword
 * pairs and two SMLADs multiply-accumulate them with four inputs (the head and tail bits as in
 * the portable path).
 */
#ifndef MF_BINARY_H
#define MF_BINARY_H

#include "mf_internal.h"

/* The halfword of a +-1 weight, and two of them (bits i and j of nibble n) in one word. */
#define MF_B1_HALF(n, i) ((((n) >> (i)) & 1u) ? 0x0001u : 0xFFFFu)
#define MF_B1_PAIR(n, i, j) (MF_B1_HALF(n, i) | (MF_B1_HALF(n, j) << 16))
/* Table rows: int16 inputs take weights (0, 1) and (2, 3); int8 inputs, widened by SXTB16 into
 * bytes (0, 2) and (1, 3), take those pairs. */
#define MF_B1_ROWS_S16(n) {MF_B1_PAIR(n, 0, 1), MF_B1_PAIR(n, 2, 3)}
#define MF_B1_ROWS_S8(n) {MF_B1_PAIR(n, 0, 2), MF_B1_PAIR(n, 1, 3)}
#define MF_B1_TABLE(ROWS)                                                                          \
    {ROWS(0u), ROWS(1u), ROWS(2u), ROWS(3u), ROWS(4u), ROWS(5u), ROWS(6u), ROWS(7u),               \
     ROWS(8u), ROWS(9u), ROWS(10u), ROWS(11u), ROWS(12u), ROWS(13u), ROWS(14u), ROWS(15u)}

/* 0 for a clear bit j of `bits`, all ones for a set one. */
#define MF_B1_MASK(bits, j) (-(int32_t)(((bits) >> (j)) & 1u))

/* Sum of x[j] over the set bits j of the low 8 bits of `bits` (int16 or int8 x). */
#define MF_B1_SET8(x, bits)                                                                        \
    (((int32_t)(x)[0] & MF_B1_MASK(bits, 0)) + ((int32_t)(x)[1] & MF_B1_MASK(bits, 1)) +           \
     ((int32_t)(x)[2] & MF_B1_MASK(bits, 2)) + ((int32_t)(x)[3] & MF_B1_MASK(bits, 3)) +           \
     ((int32_t)(x)[4] & MF_B1_MASK(bits, 4)) + ((int32_t)(x)[5] & MF_B1_MASK(bits, 5)) +           \
     ((int32_t)(x)[6] & MF_B1_MASK(bits, 6)) + ((int32_t)(x)[7] & MF_B1_MASK(bits, 7)))

/* Four bytes of the bit stream as a word, byte 0 lowest (any alignment, any byte order). */
static inline uint32_t mf_b1_word(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * The body of a b1 inner product over len weights from bit `first` of `packed`, for inputs x
 * of type T (int16_t: a convolution patch; int8_t: a dense input row); `total` is sum_k x[k]
 * over the same len inputs. DSP_BYTE(k, b) multiply-accumulates the 8 weights of bit byte b
 * with x[k..k+7] into `sum`.
 */
#if MF_USE_DSP
#define MF_B1_MIDDLE(DSP_BYTE)                                                                     \
    for (; k + 32 <= len; k += 32, p += 4) {                                                       \
        const uint32_t w = mf_b1_word(p);                                                          \
        DSP_BYTE(k, w & 0xFFu);                                                                    \
        DSP_BYTE(k + 8, (w >> 8) & 0xFFu);                                                         \
        DSP_BYTE(k + 16, (w >> 16) & 0xFFu);                                                       \
        DSP_BYTE(k + 24, w >> 24);                                                                 \
    }                                                                                              \
    for (; k + 8 <= len; k += 8) {                                                                 \
        const uint32_t b = *p++;                                                                   \
        DSP_BYTE(k, b);                                                                            \
    }                                                                                              \
    (void)total;
#define MF_B1_RESULT (sum + 2 * set - edge_total)
#else
#define MF_B1_MIDDLE(DSP_BYTE)                                                                     \
    for (; k + 32 <= len; k += 32, p += 4) {                                                       \
        const uint32_t w = mf_b1_word(p);                                                          \
        set += MF_B1_SET8(x + k, w) + MF_B1_SET8(x + k + 8, w >> 8) +                              \
               MF_B1_SET8(x + k + 16, w >> 16) + MF_B1_SET8(x + k + 24, w >> 24);                  \
    }                                                                                              \
    for (; k + 8 <= len; k += 8) {                                                                 \
        const uint32_t b = *p++;                                                                   \
        set += MF_B1_SET8(x + k, b);                                                               \
    }                                                                                              \
    (void)sum;                                                                                     \
    (void)edge_total;
#define MF_B1_RESULT (2 * set - total)
#endif

#define MF_B1_DOT(DSP_BYTE)                                                                        \
    const uint8_t *p = packed + (first >> 3);                                                      \
    const int32_t shift = first & 7;                                                               \
    int32_t k = 0;                                                                                 \
    int32_t set = 0;        /* x over set bits: everywhere (portable), head and tail (DSP) */      \
    int32_t sum = 0;        /* DSP: the signed sum of the byte-aligned middle */                   \
    int32_t edge_total = 0; /* DSP: sum of x over the head and tail */                             \
    if (shift != 0) {                                                                              \
        const uint32_t bits = (uint32_t)*p++ >> shift;                                             \
        const int32_t n = len < 8 - shift ? len : 8 - shift;                                       \
        for (; k < n; k++) {                                                                       \
            set += (int32_t)x[k] & MF_B1_MASK(bits, k);                                            \
            edge_total += x[k];                                                                    \
        }                                                                                          \
    }                                                                                              \
    MF_B1_MIDDLE(DSP_BYTE)                                                                         \
    if (k < len) {                                                                                 \
        const uint32_t bits = *p;                                                                  \
        for (int32_t j = 0; k < len; k++, j++) {                                                   \
            set += (int32_t)x[k] & MF_B1_MASK(bits, j);                                            \
            edge_total += x[k];                                                                    \
        }                                                                                          \
    }                                                                                              \
    return MF_B1_RESULT;

#if MF_USE_DSP
/* Four int16 inputs at x + k (two words) against one nibble's +-1 pairs. */
#define MF_B1_NIBBLE_S16(k, n)                                                                     \
    sum = mf_smlad(mf_read_u32(x + (k)), table[(n)][0], sum);                                       \
    sum = mf_smlad(mf_read_u32(x + (k) + 2), table[(n)][1], sum)
#define MF_B1_BYTE_S16(k, b)                                                                       \
    do {                                                                                           \
        MF_B1_NIBBLE_S16(k, (b) & 15u);                                                            \
        MF_B1_NIBBLE_S16((k) + 4, (b) >> 4);                                                       \
    } while (0)
/* Four int8 inputs at x + k (one word), widened by SXTB16, against one nibble's pairs. */
#define MF_B1_NIBBLE_S8(k, n)                                                                      \
    do {                                                                                           \
        const uint32_t xw = mf_read_u32(x + (k));                                                  \
        sum = mf_smlad(mf_sxtb16(xw), table[(n)][0], sum);                                          \
        sum = mf_smlad(mf_sxtb16_ror8(xw), table[(n)][1], sum);                                     \
    } while (0)
#define MF_B1_BYTE_S8(k, b)                                                                        \
    do {                                                                                           \
        MF_B1_NIBBLE_S8(k, (b) & 15u);                                                             \
        MF_B1_NIBBLE_S8((k) + 4, (b) >> 4);                                                        \
    } while (0)
#else
#define MF_B1_BYTE_S16(k, b)
#define MF_B1_BYTE_S8(k, b)
#endif

/* sum_k x[k] * s[k] over len b1 weights from bit `first`; total = sum_k x[k]. */
static inline int32_t mf_dot_s16_b1(const int16_t *x,
                                    const uint8_t *packed,
                                    int32_t first,
                                    int32_t len,
                                    int32_t total)
{
#if MF_USE_DSP
    static const uint32_t table[16][2] = MF_B1_TABLE(MF_B1_ROWS_S16);
#endif
    MF_B1_DOT(MF_B1_BYTE_S16)
}

/* The same over int8 inputs (a dense layer's row; the input offset is in the bias). */
static inline int32_t mf_dot_s8_b1(const int8_t *x,
                                   const uint8_t *packed,
                                   int32_t first,
                                   int32_t len,
                                   int32_t total)
{
#if MF_USE_DSP
    static const uint32_t table[16][2] = MF_B1_TABLE(MF_B1_ROWS_S8);
#endif
    MF_B1_DOT(MF_B1_BYTE_S8)
}

#endif /* MF_BINARY_H */
