"""The fuzzer's first ops: convolutions, dense, pooling, mean, pad, reshapes, activations, binary
ops and concatenation."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mcuforge.fuzz.ops.base import (
    CHANNELS,
    OpGen,
    Params,
    Weights,
    act_choice,
    any_params,
    bias,
    binary_draw,
    binary_infer,
    draw_window,
    from_logical_perm,
    he,
    keras_act,
    onnx_act,
    onnx_axis,
    rank3,
    same_shape,
    spatial_pads,
    to_logical_perm,
    torch_act,
    torch_pad,
    unary,
    window_infer,
)
from mcuforge.fuzz.spec import Shape

# -- conv, depthwise, dense -------------------------------------------------------------------------


def _conv_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    p = draw_window(rng, shapes, (1, 1, 3, 3, 5), dilate=True)
    if p is None:
        return None
    return {**p, "filters": int(rng.choice(CHANNELS)), "act": act_choice(rng)}


def _conv_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c = shapes[0][2]
    return {"kernel": he(rng, (p["k"], p["k"], c, p["filters"]), p["k"] * p["k"] * c),
            "bias": bias(rng, p["filters"])}


def _conv_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.Conv2D(p["filters"], p["k"], strides=p["s"], padding=p["pad"], dilation_rate=p["d"],
                            activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _conv_onnx(b: Any, p: Params, xs: list[str], w: Weights, group: int = 1) -> str:
    t, bt, left, r = spatial_pads(p, b.shape(xs[0]))
    y = b.node("Conv", [xs[0], b.const(w["W"]), b.const(w["bias"])], kernel_shape=[p["k"], p["k"]],
               strides=[p["s"]] * 2, dilations=[p.get("d", 1)] * 2, pads=[t, left, bt, r], group=group)
    return onnx_act(b, p["act"], y)


def _conv_torch(F: Any, p: Params, xs: list, w: dict, shape: Shape, groups: int = 1) -> Any:
    x = torch_pad(F, p, shape, xs[0])
    y = F.conv2d(x, w["W"], w["bias"], stride=p["s"], dilation=p.get("d", 1), groups=groups)
    return torch_act(F, p["act"], y)


def _conv_nchw(w: Weights) -> Weights:
    return {"W": np.ascontiguousarray(w["kernel"].transpose(3, 2, 0, 1)), "bias": w["bias"]}


def _dw_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    p = draw_window(rng, shapes, (1, 3, 3, 3, 5), dilate=True)
    if p is None:
        return None
    return {**p, "mult": int(rng.choice([1, 1, 2, 3])), "act": act_choice(rng)}


def _dw_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    c = shapes[0][2]
    return {"kernel": he(rng, (p["k"], p["k"], c, p["mult"]), p["k"] * p["k"]),
            "bias": bias(rng, c * p["mult"])}


def _dw_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.DepthwiseConv2D(p["k"], strides=p["s"], padding=p["pad"], depth_multiplier=p["mult"],
                                     dilation_rate=p["d"], activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _dw_nchw(w: Weights) -> Weights:
    k, _, c, m = w["kernel"].shape
    return {"W": np.ascontiguousarray(w["kernel"].transpose(2, 3, 0, 1).reshape(c * m, 1, k, k)),
            "bias": w["bias"]}


def _dense_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if len(shapes[0]) != 1:
        return None
    return {"units": int(rng.choice((*CHANNELS, 10, 32))), "act": act_choice(rng)}


def _dense_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    f = shapes[0][0]
    return {"kernel": he(rng, (f, p["units"]), f), "bias": bias(rng, p["units"])}


def _dense_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    layer = k.layers.Dense(p["units"], activation=keras_act(p["act"]))
    y = layer(xs[0])
    layer.set_weights([w["kernel"], w["bias"]])
    return y


def _dense_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    y = b.node("Gemm", [xs[0], b.const(np.ascontiguousarray(w["kernel"].T)), b.const(w["bias"])], transB=1)
    return onnx_act(b, p["act"], y)


def _dense_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    return torch_act(F, p["act"], F.linear(xs[0], w["kernel"].T, w["bias"]))


# -- pooling, mean, pad, reshape --------------------------------------------------------------------


def _pool_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    p = draw_window(rng, shapes, (2, 2, 3), dilate=False)
    if p is None:
        return None
    if fe == "torch":  # torch pools pad symmetrically only
        p["pad"] = "valid"
    return p


def _pool_keras(kind: str) -> Callable[..., Any]:
    def build(k: Any, p: Params, xs: list, w: Weights) -> Any:
        cls = k.layers.MaxPooling2D if kind == "max" else k.layers.AveragePooling2D
        return cls(p["k"], strides=p["s"], padding=p["pad"])(xs[0])
    return build


def _pool_onnx(kind: str) -> Callable[..., str]:
    def build(b: Any, p: Params, xs: list[str], w: Weights) -> str:
        t, bt, left, r = spatial_pads(p, b.shape(xs[0]))
        return b.node("MaxPool" if kind == "max" else "AveragePool", [xs[0]], kernel_shape=[p["k"]] * 2,
                      strides=[p["s"]] * 2, pads=[t, left, bt, r])
    return build


def _pool_torch(kind: str) -> Callable[..., Any]:
    def build(F: Any, p: Params, xs: list, w: dict) -> Any:
        f = F.max_pool2d if kind == "max" else F.avg_pool2d
        return f(xs[0], p["k"], p["s"])
    return build


def _pool_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    return window_infer(p, shapes, None)


def _gap_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {} if rank3(shapes) else None


def _gap_infer(keep: bool) -> Callable[[Params, Sequence[Shape]], Shape | None]:
    def infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
        if not rank3(shapes):
            return None
        return (1, 1, shapes[0][2]) if keep else (shapes[0][2],)
    return infer


def _gap_keras(keep: bool) -> Callable[..., Any]:
    return lambda k, p, xs, w: k.layers.GlobalAveragePooling2D(keepdims=keep)(xs[0])


def _gap_onnx(keep: bool) -> Callable[..., str]:
    def build(b: Any, p: Params, xs: list[str], w: Weights) -> str:
        y = b.node("GlobalAveragePool", [xs[0]])
        return y if keep else b.node("Flatten", [y], axis=1)
    return build


def _gap_torch(keep: bool) -> Callable[..., Any]:
    return lambda F, p, xs, w: xs[0].mean((2, 3), keepdim=keep)


def _pad_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    pads = [int(v) for v in rng.integers(0, 3, 4)]
    if not any(pads):
        pads[int(rng.integers(4))] = 1
    return {"pads": pads}  # top, bottom, left, right


def _pad_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes):
        return None
    t, b, left, r = p["pads"]
    h, w, c = shapes[0]
    return (h + t + b, w + left + r, c)


def _pad_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    t, b, left, r = p["pads"]
    return k.layers.ZeroPadding2D(((t, b), (left, r)))(xs[0])


def _pad_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    t, bt, left, r = p["pads"]
    return b.node("Pad", [xs[0], b.const(np.array([0, 0, t, left, 0, 0, bt, r], np.int64))])


def _pad_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    t, b, left, r = p["pads"]
    return F.pad(xs[0], (left, r, t, b))


def _reshape_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    s = shapes[0]
    if len(s) == 1:
        options = [[1, 1, s[0]]] + [[s[0] // k, k] for k in (2, 4) if s[0] % k == 0 and s[0] > k]
    elif len(s) == 2:  # a sequence (T, F): flat, one row per step, or re-cut
        t, f = s
        options = [[t * f], [t, 1, f], [f, t]] + ([[t // 2, f * 2]] if t % 2 == 0 else [])
    else:
        h, w, c = s
        options = [[h * w, 1, c], [h, 1, w * c], [1, h * w, c], [w, h, c], [h * w, c]]
        if h % 2 == 0:
            options.append([h // 2, w * 2, c])
    return {"to": [int(v) for v in options[int(rng.integers(len(options)))]]}


def _reshape_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    return tuple(p["to"]) if math.prod(p["to"]) == math.prod(shapes[0]) else None


def _reshape_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    return k.layers.Reshape(tuple(p["to"]))(xs[0])


def nchw(shape: Sequence[int]) -> list[int]:
    return [shape[2], shape[0], shape[1]] if len(shape) == 3 else list(shape)


def _seq_map(src: Shape, to: Sequence[int]) -> bool:
    """A reshape between a feature map and a sequence: done in logical (channels-last) order, as
    users write it (e.g. ViT's patches `x.flatten(2).transpose(1, 2)`), not on the NCHW bytes."""
    return {len(src), len(to)} == {2, 3}


def _reshape_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    src, to, x = b.shape(xs[0]), list(p["to"]), xs[0]
    if not _seq_map(src, to):
        return b.node("Reshape", [x, b.const(np.array([-1, *nchw(to)], np.int64))])
    if len(src) == 3 and to == [src[0] * src[1], src[2]]:  # (N, C, H*W), then (N, H*W, C)
        y = b.node("Reshape", [x, b.const(np.array([0, src[2], -1], np.int64))])
        return b.node("Transpose", [y], perm=[0, 2, 1])
    if len(src) == 3:
        x = b.node("Transpose", [x], perm=list(to_logical_perm(3)))
    y = b.node("Reshape", [x, b.const(np.array([-1, *to], np.int64))])
    return b.node("Transpose", [y], perm=list(from_logical_perm(3))) if len(to) == 3 else y


def _reshape_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    src, to, x = p["_shape"], list(p["to"]), xs[0]
    if not _seq_map(src, to):
        return x.reshape(-1, *nchw(to))
    if len(src) == 3 and to == [src[0] * src[1], src[2]]:
        return x.flatten(2).transpose(1, 2)
    if len(src) == 3:
        x = x.permute(*to_logical_perm(3))
    y = x.reshape(-1, *to)
    return y.permute(*from_logical_perm(3)) if len(to) == 3 else y


def _flatten_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {} if len(shapes[0]) >= 2 else None


def _flatten_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    return (math.prod(shapes[0]),) if len(shapes[0]) >= 2 else None


# -- activations ------------------------------------------------------------------------------------




def _leaky_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {"alpha": float(rng.choice([0.01, 0.1, 0.2, 0.3]))}


def _prelu_weights(rng: np.random.Generator, p: Params, shapes: Sequence[Shape]) -> Weights:
    return {"alpha": rng.uniform(-0.3, 0.6, shapes[0][-1]).astype(np.float32)}


def _prelu_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    rank = len(xs[0].shape) - 1  # slopes per channel (last axis), shared over the others
    layer = k.layers.PReLU(shared_axes=list(range(1, rank)) or None)
    y = layer(xs[0])
    layer.set_weights([w["alpha"].reshape((*[1] * (rank - 1), -1))])
    return y


def _prelu_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    rank3 = len(b.shape(xs[0])) == 3
    return b.node("PRelu", [xs[0], b.const(w["alpha"].reshape((-1, 1, 1) if rank3 else (-1,)))])


def _prelu_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    if len(p["_shape"]) == 2:  # F.prelu's slopes are per dim 1: the features of (N, T, F) are dim 2
        return F.prelu(xs[0].transpose(1, 2), w["alpha"]).transpose(1, 2)
    return F.prelu(xs[0], w["alpha"])


def _softmax_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    return k.layers.Softmax()(xs[0])


# -- binary ops and concatenation ------------------------------------------------------------------




def _binary(name: str, layer: str, onnx_op: str, fn: Callable[[Any, Any], Any]) -> OpGen:
    return OpGen(name, 2, binary_draw, binary_infer,
                 lambda k, p, xs, w: getattr(k.layers, layer)()(xs),
                 lambda b, p, xs, w: b.node(onnx_op, xs),
                 lambda F, p, xs, w: fn(xs[0], xs[1]), weight=1.2)


def _concat_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {} if _concat_infer({}, shapes) else None


def _concat_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    a, b = shapes
    if len(a) != len(b) or a[:-1] != b[:-1]:
        return None
    return (*a[:-1], a[-1] + b[-1])


def _concat_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    import torch

    return torch.cat(xs, onnx_axis(len(p["_shape"]), -1))


GENS: tuple[OpGen, ...] = (
    OpGen("conv", 1, _conv_draw, lambda p, s: window_infer(p, s, p["filters"]), _conv_keras,
          lambda b, p, xs, w: _conv_onnx(b, p, xs, _conv_nchw(w)),
          lambda F, p, xs, w: _conv_torch(F, p, xs, w, p["_shape"]), _conv_weights, weight=3.0,
          torch_weights=_conv_nchw),
    OpGen("depthwise", 1, _dw_draw,
          lambda p, s: window_infer(p, s, s[0][2] * p["mult"]) if rank3(s) else None,
          _dw_keras, lambda b, p, xs, w: _conv_onnx(b, p, xs, _dw_nchw(w), group=b.shape(xs[0])[2]),
          lambda F, p, xs, w: _conv_torch(F, p, xs, w, p["_shape"], groups=p["_shape"][2]),
          _dw_weights, weight=2.0, torch_weights=_dw_nchw),
    OpGen("dense", 1, _dense_draw, lambda p, s: (p["units"],) if len(s[0]) == 1 else None, _dense_keras,
          _dense_onnx, _dense_torch, _dense_weights, weight=2.0),
    OpGen("maxpool", 1, _pool_draw, _pool_infer, _pool_keras("max"), _pool_onnx("max"), _pool_torch("max")),
    OpGen("avgpool", 1, _pool_draw, _pool_infer, _pool_keras("avg"), _pool_onnx("avg"), _pool_torch("avg")),
    OpGen("mean", 1, _gap_draw, _gap_infer(False), _gap_keras(False), _gap_onnx(False), _gap_torch(False)),
    OpGen("mean_keep", 1, _gap_draw, _gap_infer(True), _gap_keras(True), _gap_onnx(True), _gap_torch(True),
          weight=0.7),
    OpGen("pad", 1, _pad_draw, _pad_infer, _pad_keras, _pad_onnx, _pad_torch, weight=0.6),
    OpGen("reshape", 1, _reshape_draw, _reshape_infer, _reshape_keras, _reshape_onnx, _reshape_torch,
          weight=0.5),
    OpGen("flatten", 1, _flatten_draw, _flatten_infer, lambda k, p, xs, w: k.layers.Flatten()(xs[0]),
          lambda b, p, xs, w: b.node("Flatten", [xs[0]], axis=1), lambda F, p, xs, w: xs[0].flatten(1),
          weight=0.8),
    unary("relu", lambda k: k.layers.ReLU(), "Relu", lambda F, x: F.relu(x)),
    OpGen("relu6", 1, any_params, same_shape, lambda k, p, xs, w: k.layers.ReLU(6.0)(xs[0]),
          lambda b, p, xs, w: onnx_act(b, "relu6", xs[0]), lambda F, p, xs, w: F.relu6(xs[0]), weight=0.5),
    OpGen("leaky_relu", 1, _leaky_draw, same_shape,
          lambda k, p, xs, w: k.layers.LeakyReLU(negative_slope=p["alpha"])(xs[0]),
          lambda b, p, xs, w: b.node("LeakyRelu", [xs[0]], alpha=p["alpha"]),
          lambda F, p, xs, w: F.leaky_relu(xs[0], p["alpha"]), weight=0.5),
    OpGen("prelu", 1, any_params, same_shape, _prelu_keras, _prelu_onnx,
          _prelu_torch, _prelu_weights, weight=0.5),
    unary("sigmoid", lambda k: k.layers.Activation("sigmoid"), "Sigmoid", lambda F, x: F.sigmoid(x)),
    unary("tanh", lambda k: k.layers.Activation("tanh"), "Tanh", lambda F, x: F.tanh(x)),
    unary("hard_swish", lambda k: k.layers.Activation("hard_swish"), "HardSwish",
           lambda F, x: F.hardswish(x), weight=0.5),
    OpGen("softmax", 1, any_params, same_shape, _softmax_keras,
          lambda b, p, xs, w: b.node("Softmax", [xs[0]], axis=1 if len(b.shape(xs[0])) == 1 else -1),
          lambda F, p, xs, w: F.softmax(xs[0], dim=1 if xs[0].dim() == 2 else -1), weight=0.4),
    _binary("add", "Add", "Add", lambda a, b: a + b),
    _binary("sub", "Subtract", "Sub", lambda a, b: a - b),
    _binary("mul", "Multiply", "Mul", lambda a, b: a * b),
    OpGen("concat", 2, _concat_draw, _concat_infer, lambda k, p, xs, w: k.layers.Concatenate()(xs),
          lambda b, p, xs, w: b.node("Concat", xs, axis=onnx_axis(len(b.shape(xs[0])), -1)), _concat_torch,
          weight=1.0),
)
