"""The fuzzer's elementwise, normalization and reduction ops: LayerNormalization, GELU (exact and
tanh), SiLU, ELU, exp, abs, maximum/minimum, division (by a constant and by a positive run-time
tensor), ReduceMax/Sum/Mean over drawn axes, L2 normalization, log-softmax, hard sigmoid, squared
difference, and softmax over an axis other than the last.

Keras builds them with layers where Keras has one and with `keras.ops` on the functional graph
otherwise (saved and loaded without Lambda layers); ONNX writes the nodes an exporter writes at
opset 17 (GELU as its Erf or Tanh expansion: the `Gelu` node is opset 20); torch uses
`torch.nn.functional` and tensor ops. Logical axes map to ONNX / torch axes with `onnx_axis`.
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
    any_params,
    binary_draw,
    binary_infer,
    from_logical_perm,
    onnx_axis,
    same_shape,
    to_logical_perm,
)
from mcuforge.fuzz.spec import Shape

ONNX_FRONTENDS = frozenset(("onnx", "qdq"))
KERAS_FRONTENDS = frozenset(("tflite", "keras"))


def _f32(v: float) -> np.ndarray:
    return np.array(v, np.float32)


# -- layer normalization -----------------------------------------------------------------------------


def _ln_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if shapes[0][-1] < 4:  # a row of 1-3 values: its variance is often below a quantization step
        return None
    if fe == "keras" and shapes[0][-1] < 8:
        # TF's converter writes the Keras layer as MEAN, SQUARED_DIFFERENCE, RSQRT, MUL: in int8 a
        # row of 2-7 values often has a variance below the variance's quantization step, so RSQRT
        # saturates and that row is off by up to its own range (as in TF's own int8 conversion);
        # beyond the float oracle's tolerance without being a bug
        return None
    return {"eps": float(rng.choice([1e-3, 1e-5]))}


def _ln_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c = shapes[0][-1]
    return {"gamma": (1.0 + 0.3 * rng.standard_normal(c)).astype(np.float32),
            "beta": (0.2 * rng.standard_normal(c)).astype(np.float32)}


def _ln_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.LayerNormalization(axis=-1, epsilon=p["eps"])
    y = layer(xs[0])
    layer.set_weights([w["gamma"], w["beta"]])
    return y


def _ln_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    rank, x = len(b.shape(xs[0])), xs[0]
    if rank == 3:  # over the channels of NCHW: channels last around it (ConvNeXt's permutes)
        x = b.node("Transpose", [x], perm=list(to_logical_perm(3)))
    y = b.node("LayerNormalization", [x, b.const(w["gamma"]), b.const(w["beta"])], axis=-1,
               epsilon=p["eps"])
    return b.node("Transpose", [y], perm=list(from_logical_perm(3))) if rank == 3 else y


def _ln_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    rank, x = len(p["_shape"]), xs[0]
    if rank == 3:
        x = x.permute(*to_logical_perm(3))
    y = F.layer_norm(x, (p["_shape"][-1],), w["gamma"], w["beta"], p["eps"])
    return y.permute(*from_logical_perm(3)) if rank == 3 else y


# -- activations -------------------------------------------------------------------------------------


def _gelu_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {"approximate": bool(rng.random() < 0.5)}


def _gelu_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    if p["approximate"]:
        return k.ops.gelu(xs[0], approximate=True)
    return k.layers.Activation("gelu")(xs[0])  # Keras 3's "gelu" is the exact form


def _gelu_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    """torch.onnx's opset-17 expansions of F.gelu."""
    x = xs[0]
    if p["approximate"]:  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = b.node("Pow", [x, b.const(_f32(3.0))])
        inner = b.node("Add", [x, b.node("Mul", [cube, b.const(_f32(0.044715))])])
        t = b.node("Tanh", [b.node("Mul", [inner, b.const(_f32(math.sqrt(2.0 / math.pi)))])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        t = b.node("Erf", [b.node("Div", [x, b.const(_f32(math.sqrt(2.0)))])])
    half = b.node("Mul", [x, b.const(_f32(0.5))])
    return b.node("Mul", [half, b.node("Add", [t, b.const(_f32(1.0))])])


def _gelu_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    return F.gelu(xs[0], approximate="tanh" if p["approximate"] else "none")


def _elu_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    # TF's converter writes ELU only for alpha 1 (else GREATER and SELECT, which mcuforge refuses)
    return {"alpha": 1.0 if fe in KERAS_FRONTENDS else float(rng.choice([1.0, 0.5, 1.5]))}


def _exp_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    # exp(tanh(x)), or exp of whatever comes in: only where the oracle is integer (TFLite), since
    # exp of a large input spans so many int8 steps that a float oracle sees noise (a softmax of
    # exp(conv(x)) flips its maximum: fuzz seed 105, model 45)
    return {"bounded": bool(fe != "tflite" or rng.random() < 0.5)}


def _exp_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    x = k.layers.Activation("tanh")(xs[0]) if p["bounded"] else xs[0]
    return k.layers.Activation("exponential")(x)


def _exp_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    return b.node("Exp", [b.node("Tanh", [xs[0]]) if p["bounded"] else xs[0]])


def _exp_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    return (xs[0].tanh() if p["bounded"] else xs[0]).exp()


def _hsig_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    # Keras and torch fix alpha = 1/6 (relu6(x + 3) / 6); ONNX's default is 0.2
    return {"alpha": 0.2 if fe in ONNX_FRONTENDS and rng.random() < 0.5 else 1.0 / 6.0}


# -- binary ops --------------------------------------------------------------------------------------




def _binary(name: str, keras: Callable[[Any, Any, Any], Any], onnx: Callable[[Any, str, str], str],
            torch: Callable[[Any, Any], Any], weight: float) -> OpGen:
    return OpGen(name, 2, binary_draw, binary_infer, lambda k, p, xs, w: keras(k, xs[0], xs[1]),
                 lambda b, p, xs, w: onnx(b, xs[0], xs[1]), lambda F, p, xs, w: torch(xs[0], xs[1]),
                 weight=weight)


def _squared_diff_onnx(b: Any, x: str, y: str) -> str:
    d = b.node("Sub", [x, y])
    return b.node("Mul", [d, d])


def _pos_div_onnx(b: Any, x: str, y: str) -> str:
    """x / (1 + sigmoid(y)): a run-time divisor in (1, 2)."""
    return b.node("Div", [x, b.node("Add", [b.node("Sigmoid", [y]), b.const(_f32(1.0))])])


def _div_const_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {"c": float(rng.choice([2.0, 3.0, 0.5, 0.7, -4.0, 10.0]))}


# -- reductions --------------------------------------------------------------------------------------


REDUCE_ONNX = {"max": "ReduceMax", "sum": "ReduceSum", "mean": "ReduceMean"}


def _reduce_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    rank = len(shapes[0])
    keep = bool(rng.random() < 0.5)
    count = int(rng.integers(1, rank + 1 if keep else rank)) if rank > 1 or keep else 0
    if count == 0:  # a vector reduced without keepdims would be a scalar
        return None
    axes = sorted(int(a) for a in rng.choice(rank, count, replace=False))
    return {"kind": str(rng.choice(list(REDUCE_ONNX))), "axes": axes, "keep": keep}


def _reduce_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    s = shapes[0]
    if not p["axes"] or max(p["axes"]) >= len(s) or (not p["keep"] and len(p["axes"]) >= len(s)):
        return None
    if p["keep"]:
        return tuple(1 if i in p["axes"] else d for i, d in enumerate(s))
    return tuple(d for i, d in enumerate(s) if i not in p["axes"])


def _reduce_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    fn = {"max": k.ops.max, "sum": k.ops.sum, "mean": k.ops.mean}[p["kind"]]
    return fn(xs[0], axis=tuple(a + 1 for a in p["axes"]), keepdims=p["keep"])


def _reduced_layout(rank: int, p: Params) -> list[int] | None:
    """After reducing a (H, W, C) value to a sequence without keepdims, ONNX's tensor is (N, C, W)
    or (N, C, H); the perm that makes it the (N, T, F) a sequence is here (None: already right)."""
    if p["keep"] or rank != 3 or len(p["axes"]) != 1 or p["axes"][0] == 2:
        return None
    return [0, 2, 1]


def _reduce_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    rank = len(b.shape(xs[0]))
    axes = sorted(onnx_axis(rank, a) for a in p["axes"])
    op, keep = REDUCE_ONNX[p["kind"]], int(p["keep"])
    if op == "ReduceSum":  # axes became an input at opset 13 (for the others at 18)
        y = b.node(op, [xs[0], b.const(np.array(axes, np.int64))], keepdims=keep)
    else:
        y = b.node(op, [xs[0]], axes=axes, keepdims=keep)
    perm = _reduced_layout(rank, p)
    return b.node("Transpose", [y], perm=perm) if perm else y


def _reduce_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    rank = len(p["_shape"])
    dims = tuple(sorted(onnx_axis(rank, a) for a in p["axes"]))
    x = xs[0]
    y = {"max": x.amax, "sum": x.sum, "mean": x.mean}[p["kind"]](dims, keepdim=p["keep"])
    perm = _reduced_layout(rank, p)
    return y.permute(*perm) if perm else y


# -- normalizations over the last axis, softmax over another ---------------------------------------


def _last_axis_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {} if shapes[0][-1] >= 2 else None


def _l2_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    """tf.math.l2_normalize in a Lambda: TF's converter fuses it into L2_NORMALIZATION. Keras's own
    UnitNormalization and keras.ops.normalize become SQUARE, which mcuforge does not import, and a
    saved Lambda does not load (safe mode): so no "keras" front end."""
    import tensorflow as tf

    return k.layers.Lambda(lambda t: tf.math.l2_normalize(t, axis=-1))(xs[0])


def _l2_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    # F.normalize exports ReduceL2; this is the same x / max(||x||, eps) in ops every importer has
    x = xs[0]
    dim = onnx_axis(len(p["_shape"]), -1)
    return x / (x * x).sum(dim, keepdim=True).clamp_min(1e-12).sqrt()


def _softmax_axis_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    rank = len(shapes[0])
    axes = [a for a in range(rank - 1) if shapes[0][a] >= 2]
    return {"axis": int(rng.choice(axes))} if axes else None


def _softmax_axis_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    s = shapes[0]
    return s if p["axis"] < len(s) - 1 else None


GENS: tuple[OpGen, ...] = (
    OpGen("layer_norm", 1, _ln_draw, lambda p, s: s[0] if s[0][-1] >= 4 else None, _ln_keras, _ln_onnx,
          _ln_torch, _ln_weights, weight=1.5),
    OpGen("gelu", 1, _gelu_draw, same_shape, _gelu_keras, _gelu_onnx, _gelu_torch, weight=1.0),
    OpGen("silu", 1, any_params, same_shape, lambda k, p, xs, w: k.layers.Activation("silu")(xs[0]),
          lambda b, p, xs, w: b.node("Mul", [xs[0], b.node("Sigmoid", [xs[0]])]),
          lambda F, p, xs, w: F.silu(xs[0]), weight=0.8),
    OpGen("elu", 1, _elu_draw, same_shape, lambda k, p, xs, w: k.layers.ELU(alpha=p["alpha"])(xs[0]),
          lambda b, p, xs, w: b.node("Elu", [xs[0]], alpha=p["alpha"]),
          lambda F, p, xs, w: F.elu(xs[0], p["alpha"]), weight=0.6),
    OpGen("exp", 1, _exp_draw, same_shape, _exp_keras, _exp_onnx, _exp_torch, weight=0.5),
    OpGen("abs", 1, any_params, same_shape, lambda k, p, xs, w: k.ops.abs(xs[0]),
          lambda b, p, xs, w: b.node("Abs", [xs[0]]), lambda F, p, xs, w: xs[0].abs(), weight=0.5),
    OpGen("hard_sigmoid", 1, _hsig_draw, same_shape,
          lambda k, p, xs, w: k.layers.Activation("hard_sigmoid")(xs[0]),
          lambda b, p, xs, w: b.node("HardSigmoid", [xs[0]], alpha=p["alpha"], beta=0.5),
          lambda F, p, xs, w: F.hardsigmoid(xs[0]), weight=0.5),
    _binary("maximum", lambda k, a, c: k.layers.Maximum()([a, c]), lambda b, x, y: b.node("Max", [x, y]),
            lambda a, c: a.maximum(c), weight=0.7),
    _binary("minimum", lambda k, a, c: k.layers.Minimum()([a, c]), lambda b, x, y: b.node("Min", [x, y]),
            lambda a, c: a.minimum(c), weight=0.7),
    _binary("squared_difference", lambda k, a, c: k.ops.square(k.ops.subtract(a, c)), _squared_diff_onnx,
            lambda a, c: (a - c) * (a - c), weight=0.6),
    _binary("div", lambda k, a, c: k.ops.divide(a, k.ops.add(k.ops.sigmoid(c), 1.0)), _pos_div_onnx,
            lambda a, c: a / (c.sigmoid() + 1.0), weight=0.6),
    OpGen("div_const", 1, _div_const_draw, same_shape, lambda k, p, xs, w: k.ops.divide(xs[0], p["c"]),
          lambda b, p, xs, w: b.node("Div", [xs[0], b.const(_f32(p["c"]))]),
          lambda F, p, xs, w: xs[0] / p["c"], weight=0.6),
    OpGen("reduce", 1, _reduce_draw, _reduce_infer, _reduce_keras, _reduce_onnx, _reduce_torch, weight=1.5),
    OpGen("l2_norm", 1, _last_axis_draw, lambda p, s: s[0] if s[0][-1] >= 2 else None,
          _l2_keras,
          lambda b, p, xs, w: b.node("LpNormalization", [xs[0]], axis=onnx_axis(len(b.shape(xs[0])), -1),
                                     p=2),
          _l2_torch, weight=0.6, frontends=frozenset(("tflite", "onnx", "torch", "qdq"))),
    OpGen("log_softmax", 1, _last_axis_draw, lambda p, s: s[0] if s[0][-1] >= 2 else None,
          lambda k, p, xs, w: k.ops.log_softmax(xs[0], axis=-1),
          lambda b, p, xs, w: b.node("LogSoftmax", [xs[0]], axis=onnx_axis(len(b.shape(xs[0])), -1)),
          lambda F, p, xs, w: F.log_softmax(xs[0], dim=onnx_axis(len(p["_shape"]), -1)), weight=0.5),
    OpGen("softmax_axis", 1, _softmax_axis_draw, _softmax_axis_infer,
          lambda k, p, xs, w: k.layers.Softmax(axis=p["axis"] + 1)(xs[0]),
          lambda b, p, xs, w: b.node("Softmax", [xs[0]], axis=onnx_axis(len(b.shape(xs[0])), p["axis"])),
          lambda F, p, xs, w: F.softmax(xs[0], dim=onnx_axis(len(p["_shape"]), p["axis"])), weight=0.5),
)
