"""The fuzzer's sequence ops, over (T, F) values ((N, T, F) in every front end): Dense per time
step, self-attention (q kᵀ of two projections of the same input, softmax, times v; Keras's
MultiHeadAttention with 1-2 heads), LSTM and GRU (last step or the whole sequence), 1-D pooling and
the mean or max over time.

Weights are in Keras's layout (`kernel` (F, units), gates of an LSTM i, f, c, o and of a GRU z, r,
h, GRU biases (2, 3H) for reset_after=True); ONNX and torch reorder them the way their exporters
write them (ONNX LSTM gates i, o, f, c; torch GRU gates r, z, n).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mcuforge.fuzz.ops.base import (
    OpGen,
    Params,
    Weights,
    act_choice,
    bias,
    he,
    keras_act,
    onnx_act,
    torch_act,
)
from mcuforge.fuzz.spec import Shape

UNITS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 32)
HIDDEN = (2, 3, 4, 5, 7, 8, 9, 12, 16)


def seq(shapes: Sequence[Shape]) -> bool:
    return len(shapes[0]) == 2


def _multi_node(b: Any, op: str, inputs: list[str], outputs: int, **attrs: Any) -> list[str]:
    """A node with several outputs (the OnnxBuilder's `node` gives one)."""
    from onnx import helper

    names = [f"v{len(b.nodes)}_{op.lower()}_{i}" for i in range(outputs)]
    b.nodes.append(helper.make_node(op, inputs, names, name=f"n{len(b.nodes)}_{op}", **attrs))
    return names


def _i64(values: Sequence[int]) -> np.ndarray:
    return np.array(values, np.int64)


# -- Dense per time step -----------------------------------------------------------------------------


def _dense_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {"units": int(rng.choice(UNITS)), "act": act_choice(rng)} if seq(shapes) else None


def _dense_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    f = shapes[0][-1]
    return {"kernel": he(rng, (f, p["units"]), f), "bias": bias(rng, p["units"])}


def _dense_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.Dense(p["units"], activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _dense_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    """What torch.onnx writes for nn.Linear over (N, T, F): MatMul, then Add."""
    y = b.node("Add", [b.node("MatMul", [xs[0], b.const(w["kernel"])]), b.const(w["bias"])])
    return onnx_act(b, p["act"], y)


# -- self-attention ----------------------------------------------------------------------------------


def _attn_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not seq(shapes):
        return None
    return {"heads": int(rng.choice([1, 1, 2])), "key_dim": int(rng.choice([2, 4, 8]))}


def _attn_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    """Keras MultiHeadAttention's variables: q, k, v kernels (F, heads, key_dim) and biases
    (heads, key_dim); the output kernel (heads, key_dim, F) and bias (F,)."""
    f, h, d = shapes[0][-1], p["heads"], p["key_dim"]
    w = {}
    for name in ("q", "k", "v"):
        w[f"w{name}"] = he(rng, (f, h, d), f)
        w[f"b{name}"] = (rng.standard_normal((h, d)) * 0.1).astype(np.float32)
    w["wo"], w["bo"] = he(rng, (h, d, f), h * d), bias(rng, f)
    return w


ATTN_ORDER = ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo")


def _attn_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.MultiHeadAttention(num_heads=p["heads"], key_dim=p["key_dim"])
    y = layer(xs[0], xs[0])
    layer.set_weights([w[n] for n in ATTN_ORDER])
    return y


def _attn_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    t, f = b.shape(xs[0])
    h, d = p["heads"], p["key_dim"]

    def proj(name: str) -> str:
        kernel, bias_ = w[f"w{name}"].reshape(f, h * d), w[f"b{name}"].reshape(h * d)
        y = b.node("Add", [b.node("MatMul", [xs[0], b.const(kernel)]), b.const(bias_)])
        return y if h == 1 else b.node("Reshape", [y, b.const(_i64([-1, t, h, d]))])

    q = b.node("Mul", [proj("q"), b.const(np.float32(1.0 / math.sqrt(d)))])
    k, v = proj("k"), proj("v")
    if h == 1:  # (N, T, d): q kᵀ, softmax, times v
        scores = b.node("MatMul", [q, b.node("Transpose", [k], perm=[0, 2, 1])])
        ctx = b.node("MatMul", [b.node("Softmax", [scores], axis=-1), v])
    else:  # (N, heads, T, d)
        q = b.node("Transpose", [q], perm=[0, 2, 1, 3])
        scores = b.node("MatMul", [q, b.node("Transpose", [k], perm=[0, 2, 3, 1])])
        ctx = b.node("MatMul", [b.node("Softmax", [scores], axis=-1),
                                b.node("Transpose", [v], perm=[0, 2, 1, 3])])
        ctx = b.node("Transpose", [ctx], perm=[0, 2, 1, 3])
        ctx = b.node("Reshape", [ctx, b.const(_i64([-1, t, h * d]))])
    out = b.node("MatMul", [ctx, b.const(w["wo"].reshape(h * d, f))])
    return b.node("Add", [out, b.const(w["bo"])])


def _attn_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    t, f = p["_shape"]
    h, d = p["heads"], p["key_dim"]
    x = xs[0]

    def proj(name: str) -> Any:
        y = x @ w[f"w{name}"].reshape(f, h * d) + w[f"b{name}"].reshape(h * d)
        return y if h == 1 else y.reshape(-1, t, h, d).transpose(1, 2)

    q, k, v = proj("q") / math.sqrt(d), proj("k"), proj("v")
    ctx = F.softmax(q @ k.transpose(-1, -2), dim=-1) @ v
    if h > 1:
        ctx = ctx.transpose(1, 2).reshape(-1, t, h * d)
    return ctx @ w["wo"].reshape(h * d, f) + w["bo"]


# -- LSTM and GRU ------------------------------------------------------------------------------------


def _rnn_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not seq(shapes):
        return None
    return {"units": int(rng.choice(HIDDEN)), "seq": bool(rng.random() < 0.5)}


def _rnn_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not seq(shapes):
        return None
    return (shapes[0][0], p["units"]) if p["seq"] else (p["units"],)


def _rnn_weights(gates: int) -> Callable[[np.random.Generator, Params, Sequence[Shape]], Weights]:
    def weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
        f, u = shapes[0][-1], p["units"]
        scale = 1.0 / math.sqrt(u)
        w = {"kernel": he(rng, (f, gates * u), f),
             "recurrent": rng.uniform(-scale, scale, (u, gates * u)).astype(np.float32)}
        shape = (gates * u,) if gates == 4 else (2, gates * u)  # GRU: input and recurrent biases
        w["bias"] = (rng.standard_normal(shape) * 0.2).astype(np.float32)
        return w
    return weights


def _gate_order(m: np.ndarray, order: Sequence[int], units: int, axis: int = 0) -> np.ndarray:
    """Gate blocks of `units` along `axis`, reordered."""
    blocks = np.split(m, len(order), axis=axis)
    assert blocks[0].shape[axis] == units
    return np.ascontiguousarray(np.concatenate([blocks[i] for i in order], axis=axis))


LSTM_ONNX = (0, 3, 1, 2)  # Keras i, f, c, o -> ONNX i, o, f, c
GRU_TORCH = (1, 0, 2)  # Keras z, r, h -> torch r, z, n


def _rnn_keras(kind: str) -> Callable[..., Any]:
    def build(k: Any, p: Params, xs: list, w: Weights) -> Any:
        if kind == "lstm":
            layer = k.layers.LSTM(p["units"], return_sequences=p["seq"], unroll=True)
        else:
            layer = k.layers.GRU(p["units"], return_sequences=p["seq"], unroll=True, reset_after=True)
        y = layer(xs[0])
        layer.set_weights([w["kernel"], w["recurrent"], w["bias"]])
        return y
    return build


def _rnn_onnx(kind: str) -> Callable[..., str]:
    def build(b: Any, p: Params, xs: list[str], w: Weights) -> str:
        u = p["units"]
        x = b.node("Transpose", [xs[0]], perm=[1, 0, 2])  # (T, N, F): layout 0, as torch exports
        if kind == "lstm":
            wx = _gate_order(w["kernel"].T, LSTM_ONNX, u)
            wh = _gate_order(w["recurrent"].T, LSTM_ONNX, u)
            bb = np.concatenate([_gate_order(w["bias"], LSTM_ONNX, u), np.zeros(4 * u, np.float32)])
            attrs: dict[str, Any] = {}
        else:
            wx, wh = np.ascontiguousarray(w["kernel"].T), np.ascontiguousarray(w["recurrent"].T)
            bb, attrs = w["bias"].reshape(-1), {"linear_before_reset": 1}
        y, y_h = _multi_node(b, kind.upper(), [x, b.const(wx[None]), b.const(wh[None]), b.const(bb[None])], 2,
                             hidden_size=u, **attrs)
        if p["seq"]:  # Y (T, 1, N, H) -> (N, T, H)
            return b.node("Transpose", [b.node("Squeeze", [y, b.const(_i64([1]))])], perm=[1, 0, 2])
        return b.node("Squeeze", [y_h, b.const(_i64([0]))])  # Y_h (1, N, H) -> (N, H)
    return build


def _rnn_torch(kind: str) -> Callable[..., Any]:
    def build(F: Any, p: Params, xs: list, w: dict) -> Any:
        """nn.LSTM / nn.GRU's own functional call (batch first, zero initial state): what the
        module's forward runs, without a module whose random initialization would be traced."""
        import torch

        x = xs[0]
        h0 = x.new_zeros((1, x.shape[0], p["units"]))
        params = [w[n] for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
        if kind == "lstm":
            out = torch._VF.lstm(x, (h0, h0), params, True, 1, 0.0, False, False, True)[0]
        else:
            out = torch._VF.gru(x, h0, params, True, 1, 0.0, False, False, True)[0]
        return out if p["seq"] else out[:, -1]
    return build


def _lstm_torch_weights(w: Weights) -> Weights:
    return {"weight_ih_l0": np.ascontiguousarray(w["kernel"].T),
            "weight_hh_l0": np.ascontiguousarray(w["recurrent"].T),
            "bias_ih_l0": w["bias"], "bias_hh_l0": np.zeros_like(w["bias"])}


def _gru_torch_weights(w: Weights) -> Weights:
    u = w["recurrent"].shape[0]
    return {"weight_ih_l0": _gate_order(w["kernel"].T, GRU_TORCH, u),
            "weight_hh_l0": _gate_order(w["recurrent"].T, GRU_TORCH, u),
            "bias_ih_l0": _gate_order(w["bias"][0], GRU_TORCH, u),
            "bias_hh_l0": _gate_order(w["bias"][1], GRU_TORCH, u)}


# -- pooling over time ------------------------------------------------------------------------------


def _pool_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not seq(shapes) or shapes[0][0] < 2:
        return None
    k = int(rng.choice([2, 2, 3][:3 if shapes[0][0] >= 3 else 2]))
    return {"kind": str(rng.choice(["max", "avg"])), "k": k, "s": int(rng.choice([1, k]))}


def _pool_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not seq(shapes) or shapes[0][0] < p["k"]:
        return None
    return ((shapes[0][0] - p["k"]) // p["s"] + 1, shapes[0][1])


def _pool_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    cls = k.layers.MaxPooling1D if p["kind"] == "max" else k.layers.AveragePooling1D
    return cls(p["k"], strides=p["s"], padding="valid")(xs[0])


def _pool_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    """What torch.onnx writes for F.max_pool1d(x.transpose(1, 2)).transpose(1, 2)."""
    x = b.node("Transpose", [xs[0]], perm=[0, 2, 1])
    y = b.node("MaxPool" if p["kind"] == "max" else "AveragePool", [x], kernel_shape=[p["k"]],
               strides=[p["s"]])
    return b.node("Transpose", [y], perm=[0, 2, 1])


def _pool_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    f = F.max_pool1d if p["kind"] == "max" else F.avg_pool1d
    return f(xs[0].transpose(1, 2), p["k"], p["s"]).transpose(1, 2)


def _gpool_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {"kind": str(rng.choice(["mean", "mean", "max"])), "keep": bool(rng.random() < 0.3)} \
        if seq(shapes) else None


def _gpool_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not seq(shapes):
        return None
    return (1, shapes[0][1]) if p["keep"] else (shapes[0][1],)


def _gpool_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    cls = k.layers.GlobalAveragePooling1D if p["kind"] == "mean" else k.layers.GlobalMaxPooling1D
    return cls(keepdims=p["keep"])(xs[0])


def _gpool_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    return b.node("ReduceMean" if p["kind"] == "mean" else "ReduceMax", [xs[0]], axes=[1],
                  keepdims=int(p["keep"]))


def _gpool_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    x = xs[0]
    return x.mean(1, keepdim=p["keep"]) if p["kind"] == "mean" else x.amax(1, keepdim=p["keep"])


# Weights: these apply to (T, F) values only (about one model in six), so they are high.
GENS: tuple[OpGen, ...] = (
    OpGen("dense_seq", 1, _dense_draw, lambda p, s: (s[0][0], p["units"]) if seq(s) else None, _dense_keras,
          _dense_onnx, lambda F, p, xs, w: torch_act(F, p["act"], F.linear(xs[0], w["kernel"].T, w["bias"])),
          _dense_weights, weight=3.0),
    OpGen("attention", 1, _attn_draw, lambda p, s: s[0] if seq(s) else None, _attn_keras, _attn_onnx,
          _attn_torch, _attn_weights, weight=3.0),
    OpGen("lstm", 1, _rnn_draw, _rnn_infer, _rnn_keras("lstm"), _rnn_onnx("lstm"), _rnn_torch("lstm"),
          _rnn_weights(4), weight=2.0, torch_weights=_lstm_torch_weights),
    OpGen("gru", 1, _rnn_draw, _rnn_infer, _rnn_keras("gru"), _rnn_onnx("gru"), _rnn_torch("gru"),
          _rnn_weights(3), weight=2.0, torch_weights=_gru_torch_weights),
    OpGen("pool1d", 1, _pool_draw, _pool_infer, _pool_keras, _pool_onnx, _pool_torch, weight=1.0),
    OpGen("seq_pool", 1, _gpool_draw, _gpool_infer, _gpool_keras, _gpool_onnx, _gpool_torch, weight=1.2),
)
