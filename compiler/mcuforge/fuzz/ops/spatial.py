"""The fuzzer's spatial ops: transposed, grouped and separable convolutions, convolution + batch
normalization (random non-trivial moving statistics, some negative gammas; or a BatchNormalization
alone), global max pooling, and 1-D convolution and pooling over (T, C) sequences.

Weights are in Keras's layout (Conv2DTranspose (k, k, out, in), Conv1D (k, in, out)); each
entry's `torch_weights` gives torch's. A rank-2 value (T, C) is (N, T, C) in ONNX and torch, as
in Keras, so the ONNX and torch forms of the 1-D ops transpose to (N, C, T) and back, as a torch
user writes them. The data-movement ops (resize, block moves, slices, splits, transposes) are in
`data_movement.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mcuforge.fuzz.ops.base import (
    CHANNELS,
    OpGen,
    Params,
    Weights,
    act_choice,
    bias,
    draw_window,
    he,
    keras_act,
    onnx_act,
    rank3,
    same_pads,
    torch_act,
    torch_pad,
    window_infer,
    window_out,
)
from mcuforge.fuzz.ops.core import _conv_nchw, _conv_onnx, _conv_torch, _dw_nchw
from mcuforge.fuzz.spec import Shape

# -- transposed convolution -------------------------------------------------------------------------


def _tconv_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    return {"k": int(rng.choice([2, 3, 3, 4])), "s": int(rng.choice([1, 2, 2])),
            "pad": str(rng.choice(["same", "valid"])), "filters": int(rng.choice(CHANNELS)),
            "act": act_choice(rng)}


def _tconv_crop(p: Params) -> tuple[int, int]:
    """(start, end) crop of the full result per spatial axis: TF's SAME for a transposed conv."""
    if p["pad"] != "same":
        return 0, 0
    total = max(p["k"] - p["s"], 0)
    return total // 2, total - total // 2


def _tconv_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes):
        return None
    h, w, _ = shapes[0]
    size = (lambda n: n * p["s"]) if p["pad"] == "same" else (lambda n: (n - 1) * p["s"] + p["k"])
    return size(h), size(w), p["filters"]


def _tconv_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c = shapes[0][2]
    return {"kernel": he(rng, (p["k"], p["k"], p["filters"], c), p["k"] * p["k"] * c // p["s"] ** 2),
            "bias": bias(rng, p["filters"])}


def _tconv_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.Conv2DTranspose(p["filters"], p["k"], strides=p["s"], padding=p["pad"],
                                     activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _tconv_torch_weights(w: Weights) -> Weights:  # (k, k, out, in) -> (in, out, k, k)
    return {"W": np.ascontiguousarray(w["kernel"].transpose(3, 2, 0, 1)), "bias": w["bias"]}


def _tconv_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    tw = _tconv_torch_weights(w)
    lo, hi = _tconv_crop(p)
    y = b.node("ConvTranspose", [xs[0], b.const(tw["W"]), b.const(tw["bias"])], kernel_shape=[p["k"]] * 2,
               strides=[p["s"]] * 2, pads=[lo, lo, hi, hi])
    return onnx_act(b, p["act"], y)


def _tconv_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    y = F.conv_transpose2d(xs[0], w["W"], w["bias"], stride=p["s"])
    lo, hi = _tconv_crop(p)
    if hi:  # torch crops symmetrically only: slice the full result as TF does
        y = y[:, :, lo:y.shape[2] - hi, lo:y.shape[3] - hi]
    return torch_act(F, p["act"], y)


# -- grouped and separable convolution --------------------------------------------------------------


def _group_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    p = draw_window(rng, shapes, (1, 3, 3), dilate=False)
    if p is None:
        return None
    c = shapes[0][2]
    groups = [g for g in range(2, c + 1) if c % g == 0]
    if not groups:
        return None
    g = int(rng.choice(groups))
    return {**p, "groups": g, "filters": g * int(rng.choice([1, 1, 2, 3])), "act": act_choice(rng)}


def _group_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    cg = shapes[0][2] // p["groups"]
    return {"kernel": he(rng, (p["k"], p["k"], cg, p["filters"]), p["k"] * p["k"] * cg),
            "bias": bias(rng, p["filters"])}


def _group_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes) or shapes[0][2] % p["groups"]:
        return None
    return window_infer(p, shapes, p["filters"])


def _group_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.Conv2D(p["filters"], p["k"], strides=p["s"], padding=p["pad"], groups=p["groups"],
                            activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _sep_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    p = draw_window(rng, shapes, (1, 3, 3, 5), dilate=False)
    if p is None:
        return None
    return {**p, "mult": int(rng.choice([1, 1, 2])), "filters": int(rng.choice(CHANNELS)),
            "act": act_choice(rng)}


def _sep_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c, m = shapes[0][2], p["mult"]
    return {"depthwise": he(rng, (p["k"], p["k"], c, m), p["k"] * p["k"]),
            "pointwise": he(rng, (1, 1, c * m, p["filters"]), c * m), "bias": bias(rng, p["filters"])}


def _sep_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.SeparableConv2D(p["filters"], p["k"], strides=p["s"], padding=p["pad"],
                                     depth_multiplier=p["mult"], activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["depthwise"], w["pointwise"], w["bias"]])
    return y


def _sep_torch_weights(w: Weights) -> Weights:
    dw = _dw_nchw({"kernel": w["depthwise"], "bias": np.zeros(0, np.float32)})["W"]
    pw = _conv_nchw({"kernel": w["pointwise"], "bias": w["bias"]})
    return {"dw": dw, "dw_bias": np.zeros(dw.shape[0], np.float32), "W": pw["W"], "bias": w["bias"]}


def _sep_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    tw = _sep_torch_weights(w)
    dw = _conv_onnx(b, {**p, "act": "none"}, xs, {"W": tw["dw"], "bias": tw["dw_bias"]},
                    group=b.shape(xs[0])[2])
    y = b.node("Conv", [dw, b.const(tw["W"]), b.const(tw["bias"])], kernel_shape=[1, 1])
    return onnx_act(b, p["act"], y)


def _sep_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    x = torch_pad(F, p, p["_shape"], xs[0])
    y = F.conv2d(x, w["dw"], None, stride=p["s"], groups=p["_shape"][2])
    return torch_act(F, p["act"], F.conv2d(y, w["W"], w["bias"]))


# -- convolution + batch normalization --------------------------------------------------------------

BN_EPS = 1e-3  # Keras's default


def _bn_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    s = shapes[0]
    if len(s) == 2:  # (T, C): the channel axis is not ONNX's axis 1
        return None
    base = str(rng.choice(["conv", "conv", "depthwise", "none"])) if len(s) == 3 else "none"
    p: Params = {"base": base, "act": act_choice(rng)}
    if base != "none":
        p.update(draw_window(rng, shapes, (1, 3, 3), dilate=False) or {})
        p["filters"] = int(rng.choice(CHANNELS)) if base == "conv" else s[2]
    return p


def _bn_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if p["base"] == "none":
        return shapes[0] if len(shapes[0]) != 2 else None
    if not rank3(shapes) or (p["base"] == "depthwise" and p["filters"] != shapes[0][2]):
        return None
    return window_infer(p, shapes, p["filters"])


def _bn_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c = shapes[0][-1]
    n = c if p["base"] == "none" else p["filters"]
    w: Weights = {}
    if p["base"] == "conv":
        w = {"kernel": he(rng, (p["k"], p["k"], c, n), p["k"] * p["k"] * c), "bias": bias(rng, n)}
    elif p["base"] == "depthwise":
        w = {"dw_kernel": he(rng, (p["k"], p["k"], c, 1), p["k"] * p["k"]), "bias": bias(rng, n)}
    sign = np.where(rng.random(n) < 0.15, -1.0, 1.0)
    return {**w, "gamma": (rng.uniform(0.4, 1.6, n) * sign).astype(np.float32),
            "beta": (rng.standard_normal(n) * 0.3).astype(np.float32),
            "mean": (rng.standard_normal(n) * 0.5).astype(np.float32),
            "var": rng.uniform(0.2, 2.5, n).astype(np.float32)}


def _bn_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    y = xs[0]
    if p["base"] != "none":
        window = {"kernel_size": p["k"], "strides": p["s"], "padding": p["pad"]}
        layer = (k.layers.Conv2D(p["filters"], **window) if p["base"] == "conv"
                 else k.layers.DepthwiseConv2D(**window))
        y = layer(y)
        layer.set_weights([w["kernel"] if p["base"] == "conv" else w["dw_kernel"], w["bias"]])
    bn = k.layers.BatchNormalization(epsilon=BN_EPS)
    y = bn(y)
    bn.set_weights([w["gamma"], w["beta"], w["mean"], w["var"]])
    return k.layers.Activation(keras_act(p["act"]))(y) if p["act"] != "none" else y


def _bn_torch_weights(w: Weights) -> Weights:
    out = {key: w[key] for key in ("gamma", "beta", "mean", "var")}
    if "kernel" in w:
        out.update(_conv_nchw(w))
    elif "dw_kernel" in w:
        out.update(_dw_nchw({"kernel": w["dw_kernel"], "bias": w["bias"]}))
    return out


def _bn_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    y = xs[0]
    if p["base"] != "none":
        group = 1 if p["base"] == "conv" else b.shape(xs[0])[2]
        y = _conv_onnx(b, {**p, "act": "none"}, xs, _bn_torch_weights(w), group=group)
    y = b.node("BatchNormalization", [y, *(b.const(w[n]) for n in ("gamma", "beta", "mean", "var"))],
               epsilon=BN_EPS)
    return onnx_act(b, p["act"], y)


def _bn_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    y = xs[0]
    if p["base"] != "none":
        groups = 1 if p["base"] == "conv" else p["_shape"][2]
        y = _conv_torch(F, {**p, "act": "none"}, xs, w, p["_shape"], groups=groups)
    y = F.batch_norm(y, w["mean"], w["var"], w["gamma"], w["beta"], training=False, eps=BN_EPS)
    return torch_act(F, p["act"], y)


# -- global max pooling -----------------------------------------------------------------------------


def _gmp_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    return {"keep": bool(rng.random() < 0.4), "form": str(rng.choice(["global", "reduce"]))}


def _gmp_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes):
        return None
    return (1, 1, shapes[0][2]) if p["keep"] else (shapes[0][2],)


def _gmp_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    if p["form"] == "reduce":
        return b.node("ReduceMax", [xs[0]], axes=[2, 3], keepdims=int(p["keep"]))
    y = b.node("GlobalMaxPool", [xs[0]])
    return y if p["keep"] else b.node("Flatten", [y], axis=1)


# -- 1-D convolution and pooling over (T, C) --------------------------------------------------------


def _rank2(shapes: Sequence[Shape]) -> bool:
    return len(shapes[0]) == 2


def _conv1d_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not _rank2(shapes):
        return None
    s = int(rng.choice([1, 1, 2]))
    d = int(rng.choice([1, 2, 3])) if s == 1 and rng.random() < 0.3 else 1
    return {"k": int(rng.choice([1, 2, 3, 3, 5])), "s": s, "d": d,
            "pad": str(rng.choice(["same", "valid", "causal"])), "filters": int(rng.choice(CHANNELS)),
            "act": act_choice(rng)}


def _pads1d(p: Params, t: int) -> tuple[int, int]:
    d = p.get("d", 1)
    if p["pad"] == "causal":
        return d * (p["k"] - 1), 0
    return same_pads(t, p["k"], p["s"], d) if p["pad"] == "same" else (0, 0)


def _infer1d(p: Params, shapes: Sequence[Shape], channels: int | None) -> Shape | None:
    if not _rank2(shapes):
        return None
    t, c = shapes[0]
    lo, hi = _pads1d(p, t)
    out = window_out(t + lo + hi, p["k"], p["s"], p.get("d", 1), "valid")
    return (out, channels if channels is not None else c) if out >= 1 else None


def _conv1d_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c = shapes[0][1]
    return {"kernel": he(rng, (p["k"], c, p["filters"]), p["k"] * c), "bias": bias(rng, p["filters"])}


def _conv1d_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.Conv1D(p["filters"], p["k"], strides=p["s"], padding=p["pad"], dilation_rate=p["d"],
                            activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _conv1d_torch_weights(w: Weights) -> Weights:  # (k, in, out) -> (out, in, k)
    return {"W": np.ascontiguousarray(w["kernel"].transpose(2, 1, 0)), "bias": w["bias"]}


def _onnx_ct(b: Any, x: str, body: Callable[[str], str]) -> str:
    """`body` over (N, C, T): transpose there and back."""
    return b.node("Transpose", [body(b.node("Transpose", [x], perm=[0, 2, 1]))], perm=[0, 2, 1])


def _conv1d_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    tw = _conv1d_torch_weights(w)
    lo, hi = _pads1d(p, b.shape(xs[0])[0])
    return _onnx_ct(b, xs[0], lambda x: onnx_act(b, p["act"], b.node(
        "Conv", [x, b.const(tw["W"]), b.const(tw["bias"])], kernel_shape=[p["k"]], strides=[p["s"]],
        dilations=[p["d"]], pads=[lo, hi])))


def _conv1d_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    lo, hi = _pads1d(p, p["_shape"][0])
    x = xs[0].transpose(1, 2)
    x = F.pad(x, (lo, hi)) if lo or hi else x
    y = F.conv1d(x, w["W"], w["bias"], stride=p["s"], dilation=p["d"])
    return torch_act(F, p["act"], y).transpose(1, 2)


def _pool1d_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not _rank2(shapes):
        return None
    k = int(rng.choice([2, 2, 3]))
    pad = "valid" if fe == "torch" else str(rng.choice(["same", "valid"]))
    return {"k": k, "s": int(rng.choice([1, k, k])), "pad": pad}


def _pool1d_keras(kind: str) -> Callable[..., Any]:
    def build(k: Any, p: Params, xs: list, w: Weights) -> Any:
        cls = k.layers.MaxPooling1D if kind == "max" else k.layers.AveragePooling1D
        return cls(p["k"], strides=p["s"], padding=p["pad"])(xs[0])
    return build


def _pool1d_onnx(kind: str) -> Callable[..., str]:
    def build(b: Any, p: Params, xs: list[str], w: Weights) -> str:
        lo, hi = _pads1d(p, b.shape(xs[0])[0])
        op = "MaxPool" if kind == "max" else "AveragePool"
        return _onnx_ct(b, xs[0], lambda x: b.node(op, [x], kernel_shape=[p["k"]], strides=[p["s"]],
                                                   pads=[lo, hi]))
    return build


def _pool1d_torch(kind: str) -> Callable[..., Any]:
    def build(F: Any, p: Params, xs: list, w: dict) -> Any:
        f = F.max_pool1d if kind == "max" else F.avg_pool1d
        return f(xs[0].transpose(1, 2), p["k"], p["s"]).transpose(1, 2)
    return build


GENS: tuple[OpGen, ...] = (
    OpGen("conv_transpose", 1, _tconv_draw, _tconv_infer, _tconv_keras, _tconv_onnx, _tconv_torch,
          _tconv_weights, weight=1.6, torch_weights=_tconv_torch_weights),
    OpGen("group_conv", 1, _group_draw, _group_infer, _group_keras,
          lambda b, p, xs, w: _conv_onnx(b, p, xs, _conv_nchw(w), group=p["groups"]),
          lambda F, p, xs, w: _conv_torch(F, p, xs, w, p["_shape"], groups=p["groups"]), _group_weights,
          weight=1.4, torch_weights=_conv_nchw),
    OpGen("separable_conv", 1, _sep_draw, lambda p, s: window_infer(p, s, p["filters"]), _sep_keras,
          _sep_onnx, _sep_torch, _sep_weights, weight=1.4, torch_weights=_sep_torch_weights),
    OpGen("batch_norm", 1, _bn_draw, _bn_infer, _bn_keras, _bn_onnx, _bn_torch, _bn_weights, weight=1.2,
          torch_weights=_bn_torch_weights),
    OpGen("global_maxpool", 1, _gmp_draw, _gmp_infer,
          lambda k, p, xs, w: k.layers.GlobalMaxPooling2D(keepdims=p["keep"])(xs[0]), _gmp_onnx,
          lambda F, p, xs, w: xs[0].amax((2, 3), keepdim=p["keep"]), weight=1.0),
    OpGen("conv1d", 1, _conv1d_draw, lambda p, s: _infer1d(p, s, p["filters"]), _conv1d_keras,
          _conv1d_onnx, _conv1d_torch, _conv1d_weights, weight=2.0, torch_weights=_conv1d_torch_weights),
    OpGen("maxpool1d", 1, _pool1d_draw, lambda p, s: _infer1d(p, s, None), _pool1d_keras("max"),
          _pool1d_onnx("max"), _pool1d_torch("max"), weight=0.8),
    OpGen("avgpool1d", 1, _pool1d_draw, lambda p, s: _infer1d(p, s, None), _pool1d_keras("avg"),
          _pool1d_onnx("avg"), _pool1d_torch("avg"), weight=0.8),
)
