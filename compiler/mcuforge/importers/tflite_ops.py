"""TFLite builtins into IR ops: `CONVERTERS` maps each builtin name to a small function named like
the op, which reads the operator's options through a `Node` and returns IR ops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, Op, Shape, Tensor
from mcuforge.ops.common import same_pads

ACTIVATION_NAMES = {
    fb.ActivationFunctionType.NONE: "NONE",
    fb.ActivationFunctionType.RELU: "RELU",
    fb.ActivationFunctionType.RELU_N1_TO_1: "RELU_N1_TO_1",
    fb.ActivationFunctionType.RELU6: "RELU6",
}


@dataclass
class Node:
    """One TFLite operator being converted: its options and its tensors by IR name."""

    graph: Graph
    source: str
    builtin: str
    name: str
    opts: Any  # the operator's XxxOptionsT, None when it has none
    inputs: list[str]  # "" where the model omits an optional input
    outputs: list[str]

    def op(self, kind: str, attrs: dict[str, Any] | None = None, inputs: list[str] | None = None) -> Op:
        ins = list(self.inputs if inputs is None else inputs)
        while ins and not ins[-1]:
            ins.pop()
        return Op(kind, self.name, ins, list(self.outputs), attrs or {})

    def shape(self, i: int = 0) -> Shape:
        return self.graph.tensors[self.inputs[i]].shape

    def const(self, i: int) -> np.ndarray:
        t = self.graph.tensors[self.inputs[i]] if i < len(self.inputs) and self.inputs[i] else None
        if t is None or t.data is None:
            raise self.error(f"input {i} must be a constant")
        return t.data

    def activation(self) -> str:
        code = self.opts.fusedActivationFunction
        if code not in ACTIVATION_NAMES:
            supported = ", ".join(ACTIVATION_NAMES.values())
            raise self.error(f"fused activation {code} is not supported (only {supported})")
        return ACTIVATION_NAMES[code]

    def error(self, what: str) -> MfError:
        return MfError(f"{self.source}: {self.builtin} '{self.name}': {what}")


Converter = Callable[[Node], list[Op]]


# -- converters, one per TFLite builtin -------------------------------------------------------


def _window(node: Node, kernel: tuple[int, int], dilations: tuple[int, int]) -> dict[str, Any]:
    o = node.opts
    strides = (o.strideH, o.strideW)
    pads = (0, 0, 0, 0)
    if o.padding == fb.Padding.SAME:
        _, h, w, _ = node.shape(0)
        top, bottom = same_pads(h, kernel[0], strides[0], dilations[0])
        left, right = same_pads(w, kernel[1], strides[1], dilations[1])
        pads = (top, left, bottom, right)
    return {"strides": strides, "pads": pads, "activation": node.activation()}


def conv_2d(node: Node) -> list[Op]:
    w = node.shape(1)
    dilations = (node.opts.dilationHFactor, node.opts.dilationWFactor)
    return [node.op("CONV_2D", {**_window(node, (w[1], w[2]), dilations), "dilations": dilations})]


def depthwise_conv_2d(node: Node) -> list[Op]:
    w = node.shape(1)
    dilations = (node.opts.dilationHFactor, node.opts.dilationWFactor)
    attrs = _window(node, (w[1], w[2]), dilations)
    # As TFLM does: the options' depth_multiplier is unreliable, the weight shape is not.
    multiplier = w[3] // node.shape(0)[3]
    return [node.op("DEPTHWISE_CONV_2D", {**attrs, "dilations": dilations, "depth_multiplier": multiplier})]


def fully_connected(node: Node) -> list[Op]:
    x, w = node.shape(0), node.shape(1)
    attrs = {"activation": node.activation()}
    flat = (int(np.prod(x)) // w[1], w[1])
    if node.opts.keepNumDims or x == flat:
        return [node.op("FULLY_CONNECTED", attrs)]
    # TFLite flattens every leading dimension into the batch.
    src = node.graph.tensors[node.inputs[0]]
    mid = node.graph.add_tensor(Tensor(node.graph.unique_name(f"{src.name}_flat"), flat, src.dtype,
                                       quant=src.quant))
    reshape = Op("RESHAPE", mid.name, [src.name], [mid.name], {"shape": flat})
    return [reshape, node.op("FULLY_CONNECTED", attrs, [mid.name, *node.inputs[1:]])]


def _binary(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        return [node.op(kind, {"activation": node.activation()})]

    convert.__name__ = kind.lower()
    return convert


def _pool(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        kernel = (node.opts.filterHeight, node.opts.filterWidth)
        return [node.op(kind, {**_window(node, kernel, (1, 1)), "kernel": kernel})]

    convert.__name__ = kind.lower()
    return convert


def _reduce(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        rank = len(node.shape(0))
        axes = sorted({int(a) % rank for a in node.const(1).reshape(-1)}) if rank else []
        return [node.op(kind, {"axes": tuple(axes), "keepdims": bool(node.opts.keepDims)}, node.inputs[:1])]

    convert.__name__ = kind.lower()
    return convert


mean = _reduce("MEAN")


def _clamp(lo: float, hi: float) -> Converter:
    def convert(node: Node) -> list[Op]:
        return [node.op("CLAMP", {"min": lo, "max": hi})]

    return convert


def leaky_relu(node: Node) -> list[Op]:
    return [node.op("LEAKY_RELU", {"alpha": float(node.opts.alpha)})]


def _plain(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        return [node.op(kind)]

    convert.__name__ = kind.lower()
    return convert


def softmax(node: Node) -> list[Op]:
    return [node.op("SOFTMAX", {"beta": float(node.opts.beta)})]


def _resolve(node: Node, shape: list[int]) -> Shape:
    """A target shape with its -1 (at most one) worked out from the input's size."""
    size = int(np.prod(node.shape(0)))
    known = int(np.prod([d for d in shape if d != -1]))
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)):
        raise node.error(f"cannot reshape {node.shape(0)} to {shape}")
    return tuple(size // known if d == -1 else int(d) for d in shape)


def reshape(node: Node) -> list[Op]:
    has_shape_input = len(node.inputs) > 1 and node.inputs[1]
    if has_shape_input:
        target = node.const(1).reshape(-1).tolist()
    elif node.opts is not None and node.opts.newShape is not None:
        target = [int(d) for d in node.opts.newShape]
    else:
        raise node.error("no new shape (neither a shape input nor new_shape option)")
    return [node.op("RESHAPE", {"shape": _resolve(node, target)}, node.inputs[:1])]


def squeeze(node: Node) -> list[Op]:
    x = node.shape(0)
    dims = node.opts.squeezeDims if node.opts is not None else None
    axes = {int(a) % len(x) for a in dims} if dims is not None and len(dims) else None
    shape = tuple(d for i, d in enumerate(x) if not (d == 1 and (axes is None or i in axes)))
    return [node.op("RESHAPE", {"shape": shape}, node.inputs[:1])]


def expand_dims(node: Node) -> list[Op]:
    x = list(node.shape(0))
    axis = int(node.const(1).reshape(-1)[0])
    x.insert(axis % (len(x) + 1), 1)
    return [node.op("RESHAPE", {"shape": tuple(x)}, node.inputs[:1])]


def concatenation(node: Node) -> list[Op]:
    axis = node.opts.axis % len(node.shape(0))
    return [node.op("CONCATENATION", {"axis": axis, "activation": node.activation()})]


def pad(node: Node) -> list[Op]:
    pads = tuple((int(lo), int(hi)) for lo, hi in node.const(1).reshape(-1, 2))
    value = 0.0  # PAD fills with the output zero point: real zero
    if len(node.inputs) > 2 and node.inputs[2]:
        value = _real(node.graph.tensors[node.inputs[2]])
    return [node.op("PAD", {"pads": pads, "value": value}, node.inputs[:1])]


def mirror_pad(node: Node) -> list[Op]:
    """TFLite MIRROR_PAD: MirrorPadOptions.mode 0 = REFLECT, 1 = SYMMETRIC."""
    pads = tuple((int(lo), int(hi)) for lo, hi in node.const(1).reshape(-1, 2))
    mode = {0: "REFLECT", 1: "SYMMETRIC"}.get(int(node.opts.mode) if node.opts else 0)
    if mode is None:
        raise node.error(f"mirror pad mode {node.opts.mode} is unknown (0 REFLECT, 1 SYMMETRIC)")
    return [node.op("MIRROR_PAD", {"pads": pads, "mode": mode}, node.inputs[:1])]


def _real(t: Tensor) -> float:
    assert t.data is not None
    v = float(t.data.reshape(-1)[0])
    if t.quant is None:
        return v
    scale, zero_point = t.scalar_quant()
    return scale * (v - zero_point)


def transpose(node: Node) -> list[Op]:
    perm = tuple(int(p) for p in node.const(1).reshape(-1))
    return [node.op("TRANSPOSE", {"perm": perm}, node.inputs[:1])]


def dequantize(node: Node) -> list[Op]:
    src = node.graph.tensors[node.inputs[0]]
    if src.data is None:
        return [node.op("DEQUANTIZE")]
    # A constant weight stored as float16 or int8: fold it into a float32 constant.
    out = node.graph.tensors[node.outputs[0]]
    out.data = dequantized(src)
    out.shape = tuple(out.data.shape)
    return []


def _arg(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        axis = int(node.const(1).reshape(-1)[0])
        return [node.op(kind, {"axis": axis % len(node.shape(0))}, node.inputs[:1])]

    convert.__name__ = kind.lower()
    return convert


arg_max = _arg("ARG_MAX")
arg_min = _arg("ARG_MIN")


def dequantized(t: Tensor) -> np.ndarray:
    assert t.data is not None
    if t.quant is None:
        return t.data.astype(np.float32)
    shape = t.quant.broadcast_shape(len(t.shape))
    zero_point = t.quant.zero_point.reshape(shape)
    return ((t.data.astype(np.int64) - zero_point) * t.quant.scale.reshape(shape)).astype(np.float32)


# -- attention (issue 11) ----------------------------------------------------------------------


def batch_matmul(node: Node) -> list[Op]:
    opts = node.opts
    adj = {"adj_x": bool(opts.adjX), "adj_y": bool(opts.adjY)} if opts is not None else {}
    return [node.op("BATCH_MATMUL", {"adj_x": False, "adj_y": False, **adj})]


# -- spatial ops (spatial-ops area) -------------------------------------------------------------


def transpose_conv(node: Node) -> list[Op]:
    """Inputs (output_shape, weights OHWI, input, bias?). The output size is the output_shape
    constant, or the output tensor's static shape when shape ops compute it; padding is the
    top/left crop TFLM derives (ComputePaddingHeightWidth on the output size, dilation 1)."""
    out = node.graph.tensors[node.outputs[0]].shape
    if node.inputs[0] and node.graph.tensors[node.inputs[0]].data is not None:
        out = tuple(int(d) for d in node.const(0).reshape(-1))
    if len(out) != 4:
        raise node.error(f"output shape {list(out)} is not 4-D NHWC")
    w = node.shape(1)
    strides = (node.opts.strideH, node.opts.strideW)
    pads = [0, 0]
    if node.opts.padding == fb.Padding.SAME:
        for i, (size, k, s) in enumerate(zip(out[1:3], w[1:3], strides, strict=True)):
            pads[i] = max(((size + s - 1) // s - 1) * s + k - size, 0) // 2
    act = node.activation() if hasattr(node.opts, "fusedActivationFunction") else "NONE"
    attrs = {"strides": strides, "padding": tuple(pads), "output_hw": (int(out[1]), int(out[2])),
             "activation": act}
    bias = node.inputs[3] if len(node.inputs) > 3 else ""
    return [node.op("TRANSPOSE_CONV", attrs, [node.inputs[2], node.inputs[1], bias])]


def _resize(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        size = tuple(int(d) for d in node.const(1).reshape(-1))
        if len(size) != 2:
            raise node.error(f"size {list(size)} must hold (height, width)")
        attrs = {"size": size, "align_corners": bool(node.opts.alignCorners),
                 "half_pixel_centers": bool(node.opts.halfPixelCenters)}
        return [node.op(kind, attrs, node.inputs[:1])]

    convert.__name__ = kind.lower()
    return convert


SPATIAL_CONVERTERS: dict[str, Converter] = {
    "TRANSPOSE_CONV": transpose_conv,
    "RESIZE_NEAREST_NEIGHBOR": _resize("RESIZE_NEAREST_NEIGHBOR"),
    "RESIZE_BILINEAR": _resize("RESIZE_BILINEAR"),
}


# -- elementwise-ops: unary math, min/max, division, normalizations -------------------------------


def gelu(node: Node) -> list[Op]:
    approximate = bool(node.opts.approximate) if node.opts is not None else False
    return [node.op("GELU", {"approximate": approximate})]


def elu(node: Node) -> list[Op]:
    return [node.op("ELU", {"alpha": 1.0})]


def pow_(node: Node) -> list[Op]:
    exponent = np.unique(node.const(1).astype(np.float64))
    if exponent.size != 1:
        raise node.error(f"the exponent must be one constant value, got {exponent.tolist()[:4]}")
    return [node.op("POW", {"exponent": float(exponent[0])}, node.inputs[:1])]


def l2_normalization(node: Node) -> list[Op]:
    act = node.activation() if node.opts is not None else "NONE"
    if act != "NONE":
        raise node.error(f"fused activation {act} is not supported")
    return [node.op("L2_NORMALIZATION", {"axis": -1, "epsilon": 1e-6})]


CONVERTERS: dict[str, Converter] = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "ADD": _binary("ADD"),
    "SUB": _binary("SUB"),
    "MUL": _binary("MUL"),
    "AVERAGE_POOL_2D": _pool("AVERAGE_POOL_2D"),
    "MAX_POOL_2D": _pool("MAX_POOL_2D"),
    "MEAN": mean,
    "RELU": _clamp(0.0, float("inf")),
    "RELU6": _clamp(0.0, 6.0),
    "RELU_N1_TO_1": _clamp(-1.0, 1.0),
    "RELU_0_TO_1": _clamp(0.0, 1.0),
    "LEAKY_RELU": leaky_relu,
    "PRELU": _plain("PRELU"),
    "LOGISTIC": _plain("LOGISTIC"),
    "TANH": _plain("TANH"),
    "HARD_SWISH": _plain("HARD_SWISH"),
    "SOFTMAX": softmax,
    "RESHAPE": reshape,
    "SQUEEZE": squeeze,
    "EXPAND_DIMS": expand_dims,
    "CONCATENATION": concatenation,
    "PAD": pad,
    "PADV2": pad,
    "MIRROR_PAD": mirror_pad,
    "TRANSPOSE": transpose,
    "QUANTIZE": _plain("QUANTIZE"),
    "DEQUANTIZE": dequantize,
    # -- reductions and normalization (area: reductions) --
    "SUM": _reduce("SUM"),
    "REDUCE_MAX": _reduce("REDUCE_MAX"),
    "REDUCE_MIN": _reduce("REDUCE_MIN"),
    "ARG_MAX": arg_max,
    "ARG_MIN": arg_min,
    "SQUARED_DIFFERENCE": _plain("SQUARED_DIFFERENCE"),
    "RSQRT": _plain("RSQRT"),
    "NEG": _plain("NEG"),
    **SPATIAL_CONVERTERS,  # spatial-ops area
    # attention (issue 11)
    "BATCH_MATMUL": batch_matmul,
    # elementwise-ops
    "ABS": _plain("ABS"),
    "EXP": _plain("EXP"),
    "LOG": _plain("LOG"),
    "SQRT": _plain("SQRT"),
    "GELU": gelu,
    "ELU": elu,
    "POW": pow_,
    "MAXIMUM": _plain("MAXIMUM"),
    "MINIMUM": _plain("MINIMUM"),
    "DIV": _binary("DIV"),
    "L2_NORMALIZATION": l2_normalization,
    "LOG_SOFTMAX": _plain("LOG_SOFTMAX"),
}

# tflite-import: data movement and shape arithmetic (tflite_data_ops.py)
from mcuforge.importers.tflite_data_ops import DATA_CONVERTERS  # noqa: E402

CONVERTERS.update(DATA_CONVERTERS)
