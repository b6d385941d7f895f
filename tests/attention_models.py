"""Small attention models built the way users build them, for the attention tests (issue 11).

Keras: self-attention written with `tf.linalg.matmul`, with `Dot` layers and with
`MultiHeadAttention`, converted to int8 by TF's converter. PyTorch: one- and multi-head
self-attention encoders (Q/K/V projections, K transposed, scaled, softmax over the last axis,
the product with V, output projection, residual), exported by `torch.onnx.export`; multi-head
models split heads with `view` + `transpose` to (B, heads, T, d), staying within rank 4, or
contract (B, T, heads, d) tensors with `torch.einsum`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# -- Keras ---------------------------------------------------------------------------------------


def _tf() -> Any:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf
    return tf


def keras_matmul(batch: int | None, t: int = 8, d: int = 12) -> Any:
    """Q K^T / sqrt(d) with `tf.linalg.matmul(transpose_b=True)`, softmax, times V, output Dense,
    residual Add: BATCH_MATMUL with adj_y, then without."""
    tf = _tf()
    k = tf.keras
    x = k.Input((t, d), batch_size=batch)
    q, key, v = (k.layers.Dense(d)(x) for _ in range(3))
    s = k.layers.Lambda(lambda a: tf.linalg.matmul(a[0], a[1], transpose_b=True) / math.sqrt(d))([q, key])
    o = k.layers.Lambda(lambda a: tf.linalg.matmul(a[0], a[1]))([k.layers.Softmax()(s), v])
    return k.Model(x, k.layers.Add()([x, k.layers.Dense(d)(o)]))


def keras_transpose_a(batch: int | None, t: int = 6, d: int = 5) -> Any:
    """`tf.linalg.matmul(transpose_a=True)`: a (d x d) channel-affinity matrix, X^T X, softmax,
    then X times it: BATCH_MATMUL with adj_x."""
    tf = _tf()
    k = tf.keras
    x = k.Input((t, d), batch_size=batch)
    h = k.layers.Dense(d, activation="tanh")(x)
    g = k.layers.Lambda(lambda a: tf.linalg.matmul(a[0], a[1], transpose_a=True))([h, x])
    return k.Model(x, k.layers.Lambda(lambda a: tf.linalg.matmul(a[0], a[1]))([x, k.layers.Softmax()(g)]))


def keras_dot(batch: int | None, t: int = 6, d: int = 8) -> Any:
    """Keras `Dot(axes=(2, 2))` for the scores and `Dot(axes=(2, 1))` for the weighted sum."""
    k = _tf().keras
    x = k.Input((t, d), batch_size=batch)
    q, key = k.layers.Dense(d)(x), k.layers.Dense(d)(x)
    a = k.layers.Softmax()(k.layers.Dot(axes=(2, 2))([q, key]))
    return k.Model(x, k.layers.Dot(axes=(2, 1))([a, x]))


def keras_mha(batch: int | None, t: int = 8, d: int = 16, heads: int = 2, key_dim: int = 8) -> Any:
    """Keras `MultiHeadAttention` (self-attention) with a residual Add."""
    k = _tf().keras
    x = k.Input((t, d), batch_size=batch)
    y = k.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)(x, x)
    return k.Model(x, k.layers.Add()([x, y]))


def keras_shared_key(batch: int | None, t: int = 7, d: int = 8, heads: int = 2) -> Any:
    """Multi-query attention: per-head queries (1, heads, T, dh) against one key (1, 1, T, dh)
    shared by every head: BATCH_MATMUL broadcasting the rhs batch axis."""
    tf = _tf()
    k = tf.keras
    dh = d // heads
    x = k.Input((t, d), batch_size=batch)
    q = k.layers.Permute((2, 1, 3))(k.layers.Reshape((t, heads, dh))(k.layers.Dense(d)(x)))
    key = k.layers.Lambda(lambda a: tf.expand_dims(a, 1))(k.layers.Dense(dh)(x))
    s = k.layers.Lambda(lambda a: tf.linalg.matmul(a[0], a[1], transpose_b=True))([q, key])
    return k.Model(x, k.layers.Softmax()(s))


# name -> (builder, batch). The matmul/Dot models use batch_size=1: with a free batch TF writes
# SHAPE/GATHER/REDUCE_PROD/PACK shape arithmetic before their Dense layers, which TFLite Micro
# itself cannot load (no REDUCE_PROD kernel), so there is no oracle. MultiHeadAttention converts
# without shape ops at batch None, as users leave it.
KERAS_MODELS: dict[str, tuple[Callable[..., Any], int | None]] = {
    "matmul_t8_d12": (keras_matmul, 1),
    "matmul_t5_d4": (lambda b: keras_matmul(b, 5, 4), 1),
    "transpose_a": (keras_transpose_a, 1),
    "dot": (keras_dot, 1),
    "mha_2x8": (keras_mha, None),
    "mha_1x4_t5": (lambda b: keras_mha(b, 5, 12, 1, 4), None),
    "mha_3x4_t9": (lambda b: keras_mha(b, 9, 8, 3, 4), None),
    "shared_key": (keras_shared_key, 1),
}


def keras_int8(name: str, calib: np.ndarray) -> bytes:
    """KERAS_MODELS[name] with seeded weights, converted to full int8 (int8 in and out)."""
    import tflite_models

    build, batch = KERAS_MODELS[name]
    _tf().keras.utils.set_random_seed(7)
    return tflite_models.to_tflite(build(batch), True, calib)


def keras_input_shape(name: str) -> tuple[int, ...]:
    build, batch = KERAS_MODELS[name]
    _tf().keras.utils.set_random_seed(7)
    return tuple(build(batch).inputs[0].shape[1:])


# -- PyTorch -------------------------------------------------------------------------------------


def _encoder(torch: Any, d: int, heads: int, scale: str, residual: bool) -> Any:
    nn = torch.nn

    class SelfAttention(nn.Module):
        """(B, T, d) -> (B, T, d): heads of d // heads channels, (B, heads, T, dh) in between."""

        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            dh = d // heads

            def split(y: Any) -> Any:
                return y.view(b, t, heads, dh).transpose(1, 2) if heads > 1 else y

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            s = q @ k.transpose(-2, -1)
            s = s / math.sqrt(dh) if scale == "div" else s * (1.0 / math.sqrt(dh))
            y = torch.softmax(s, dim=-1) @ v
            if heads > 1:
                y = y.transpose(1, 2).reshape(b, t, d)
            y = self.o(y)
            return x + y if residual else y

    return SelfAttention()


def _multi_query(torch: Any, d: int, heads: int) -> Any:
    """Multi-query attention: per-head queries, one key and value head shared by all heads
    (MatMul broadcasting (B, 1, T, dh) against (B, heads, T, dh))."""
    nn = torch.nn
    dh = d // heads

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.o = nn.Linear(d, d), nn.Linear(d, d)
            self.k, self.v = nn.Linear(d, dh), nn.Linear(d, dh)

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            q = self.q(x).view(b, t, heads, dh).transpose(1, 2)
            k, v = self.k(x).unsqueeze(1), self.v(x).unsqueeze(1)
            a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1)
            return x + self.o((a @ v).transpose(1, 2).reshape(b, t, d))

    return Net()


def _sdpa(torch: Any, d: int, heads: int) -> Any:
    """`F.scaled_dot_product_attention` over (B, heads, T, dh); its export computes the scale
    from the query's shape (Shape, Slice, Cast, Sqrt: folded at import) and scales Q and K^T by
    its square root each."""
    nn = torch.nn
    dh = d // heads

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape

            def split(y: Any) -> Any:
                return y.view(b, t, heads, dh).transpose(1, 2)

            y = torch.nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)),
                                                                 split(self.v(x)))
            return x + self.o(y.transpose(1, 2).reshape(b, t, d))

    return Net()


def _einsum(torch: Any, d: int, heads: int) -> Any:
    """Heads kept as (B, T, heads, dh) and contracted with `torch.einsum` (ONNX Einsum)."""
    nn = torch.nn
    dh = d // heads

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            q, k, v = (f(x).view(b, t, heads, dh) for f in (self.q, self.k, self.v))
            a = torch.softmax(torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh), dim=-1)
            return x + self.o(torch.einsum("bhqk,bkhd->bqhd", a, v).reshape(b, t, d))

    return Net()


def _gemm_encoder(torch: Any, t: int, d: int) -> Any:
    """The tokens as a 2-D (T, d) matrix: nn.Linear exports Gemm, the scores MatMul is 2-D."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x: Any) -> Any:
            x = x.reshape(t, d)
            a = torch.softmax(self.q(x) @ self.k(x).t() / math.sqrt(d), dim=-1)
            return (x + self.o(a @ self.v(x))).reshape(1, t, d)

    return Net()


# name -> (builder(torch), input shape, dynamic batch)
TORCH_MODELS: dict[str, tuple[Callable[[Any], Any], tuple[int, ...], bool]] = {
    "one_head_t16_d32": (lambda t: _encoder(t, 32, 1, "div", True), (1, 16, 32), False),
    "one_head_t7_d12_mul": (lambda t: _encoder(t, 12, 1, "mul", False), (1, 7, 12), False),
    "two_heads_t8_d16": (lambda t: _encoder(t, 16, 2, "div", True), (1, 8, 16), False),
    "two_heads_t5_d24_dynamic": (lambda t: _encoder(t, 24, 2, "div", True), (1, 5, 24), True),
    "four_heads_t12_d16_mul": (lambda t: _encoder(t, 16, 4, "mul", True), (1, 12, 16), False),
    "multi_query_t6_d16": (lambda t: _multi_query(t, 16, 4), (1, 6, 16), False),
    "sdpa_two_heads_t10_d20": (lambda t: _sdpa(t, 20, 2), (1, 10, 20), False),
    "einsum_two_heads_t6_d12": (lambda t: _einsum(t, 12, 2), (1, 6, 12), False),
    "gemm_t9_d8": (lambda t: _gemm_encoder(t, 9, 8), (1, 9, 8), False),
}


def torch_export(name: str, path: Path, seed: int = 0) -> None:
    import torch

    build, shape, dynamic = TORCH_MODELS[name]
    torch.manual_seed(seed)
    model = build(torch).eval()
    axes = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic else None
    torch.onnx.export(model, (torch.randn(*shape),), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)
