/*
 * mf_broadcast.h - the loop shared by the elementwise binary kernels (add, sub, mul).
 * Internal; not part of the public API.
 */
#ifndef MF_BROADCAST_H
#define MF_BROADCAST_H

#include "mf_internal.h"

#include <stddef.h>

/*
 * output = ELEMENT(p, a, b) over NHWC tensors: one flat loop when both inputs have the same dims
 * (the common case), else 4-D broadcasting with stride 0 along broadcast axes. A macro rather
 * than a function taking an element callback, so that ELEMENT inlines into the loop.
 */
#define MF_BROADCAST_BINARY(ELEMENT, p, input1_dims, input1, input2_dims, input2, output_dims,     \
                            output)                                                                \
    MF_BROADCAST_BINARY_T(int8_t, ELEMENT, p, input1_dims, input1, input2_dims, input2,            \
                          output_dims, output)

/* The same loop over elements of type T (int16: the 16x8 kernels). */
#define MF_BROADCAST_BINARY_T(T, ELEMENT, p, input1_dims, input1, input2_dims, input2,             \
                              output_dims, output)                                                 \
    do {                                                                                           \
        if (mf_dims_equal((input1_dims), (input2_dims))) {                                         \
            const int32_t mf_size_ = mf_dims_size(output_dims);                                    \
            for (int32_t mf_i_ = 0; mf_i_ < mf_size_; mf_i_++) {                                   \
                (output)[mf_i_] = ELEMENT((p), (input1)[mf_i_], (input2)[mf_i_]);                  \
            }                                                                                      \
        } else {                                                                                   \
            int32_t mf_s1_[4];                                                                     \
            int32_t mf_s2_[4];                                                                     \
            T *mf_out_ = (output);                                                                 \
            mf_broadcast_strides((input1_dims), (output_dims), mf_s1_);                            \
            mf_broadcast_strides((input2_dims), (output_dims), mf_s2_);                            \
            for (int32_t mf_n_ = 0; mf_n_ < (output_dims)->n; mf_n_++) {                           \
                for (int32_t mf_h_ = 0; mf_h_ < (output_dims)->h; mf_h_++) {                       \
                    for (int32_t mf_w_ = 0; mf_w_ < (output_dims)->w; mf_w_++) {                   \
                        const T *mf_a_ = (input1) + (size_t)mf_n_ * mf_s1_[0] +                    \
                                              (size_t)mf_h_ * mf_s1_[1] + (size_t)mf_w_ * mf_s1_[2]; \
                        const T *mf_b_ = (input2) + (size_t)mf_n_ * mf_s2_[0] +                    \
                                              (size_t)mf_h_ * mf_s2_[1] + (size_t)mf_w_ * mf_s2_[2]; \
                        for (int32_t mf_c_ = 0; mf_c_ < (output_dims)->c; mf_c_++) {               \
                            *mf_out_++ =                                                           \
                                ELEMENT((p), mf_a_[mf_c_ * mf_s1_[3]], mf_b_[mf_c_ * mf_s2_[3]]);  \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#endif /* MF_BROADCAST_H */
