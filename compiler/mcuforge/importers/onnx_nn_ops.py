"""ONNX ops that become the IR's window and dense kernels: Conv (1-D and 2-D, depthwise), Gemm,
MatMul, pooling and means. Conventions as in `onnx_ops`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mcuforge.importers.onnx_builder import Builder, Operand, Value, channels_last, identity, inverse

Ints = Sequence[int]


# -- window geometry (Conv, pools) -----------------------------------------------------------


def _to_2d(values: Ints, fill: int) -> tuple[int, int]:
    """ONNX 1-D attributes become 2-D with H = 1."""
    v = [int(a) for a in values]
    return (fill, v[0]) if len(v) == 1 else (v[0], v[1])


def _pads(
    b: Builder, x: Value, kernel: Ints, strides: Ints, dilations: Ints, pads: Ints | None, auto_pad: str
) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) in the IR's 2-D geometry."""
    spatial = b.onnx_shape(x)[2:]
    n = len(spatial)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        lo, hi = [], []
        for size, k, s, d in zip(spatial, kernel, strides, dilations):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            lo.append(small if auto_pad == "SAME_UPPER" else big)
            hi.append(big if auto_pad == "SAME_UPPER" else small)
    elif auto_pad in ("NOTSET", "VALID"):
        p = list(pads) if pads is not None and auto_pad == "NOTSET" else [0] * (2 * n)
        lo, hi = p[:n], p[n:]
    else:
        raise b.fail(f"auto_pad '{auto_pad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    if min(lo + hi) < 0:
        raise b.fail(f"negative pads {list(lo) + list(hi)} are not supported")
    top, left = _to_2d(lo, 0)
    bottom, right = _to_2d(hi, 0)
    return (top, left, bottom, right)


def _window(
    b: Builder, x: Value, kernel: Ints, strides: Ints | None, dilations: Ints | None,
    pads: Ints | None, auto_pad: str,
) -> dict[str, Any]:
    n = len(kernel)
    if n not in (1, 2) or x.rank != n + 2:
        raise b.fail(f"only 1-D and 2-D windows over rank 3/4 inputs, got kernel {list(kernel)} "
                     f"over {b.onnx_shape(x)}")
    strides = strides or [1] * n
    dilations = dilations or [1] * n
    return {
        "strides": _to_2d(strides, 1),
        "dilations": _to_2d(dilations, 1),
        "pads": _pads(b, x, kernel, strides, dilations, pads, auto_pad),
        "kernel": _to_2d(kernel, 1),
    }


def _spatial_in(b: Builder, x: Value) -> str:
    """The IR NHWC tensor a 2-D kernel reads; a 1-D (N, C, W) tensor becomes (N, 1, W, C)."""
    v = b.as_layout(x, channels_last(x.rank))
    if x.rank == 4:
        return v.name
    n, w, c = b.ir_shape(v)
    return b.emit("RESHAPE", [v.name], {"shape": [n, 1, w, c]}, (0, 1, 2, 3), "nhwc").name


def _spatial_op(b: Builder, kind: str, inputs: list[str], attrs: dict[str, Any], rank: int) -> Value:
    if rank == 4:
        return b.emit(kind, inputs, attrs, channels_last(4))
    y = b.emit(kind, inputs, attrs, (0, 1, 2, 3), kind.lower())
    n, _, w, c = b.ir_shape(y)
    return b.emit("RESHAPE", [y.name], {"shape": [n, w, c]}, channels_last(3))


# -- convolution and dense ---------------------------------------------------------------------


def Conv(
    b: Builder, x: Operand, w: Operand, bias: Operand = None, *, auto_pad: str = "NOTSET",
    dilations: Ints | None = None, group: int = 1, kernel_shape: Ints | None = None,
    pads: Ints | None = None, strides: Ints | None = None,
) -> Value:
    x, w = b.runtime(x), b.need_const(w, "weights")
    if x.rank not in (3, 4) or w.ndim != x.rank:
        raise b.fail(f"input of shape {list(b.onnx_shape(x))} with weights {list(w.shape)}: Conv takes "
                     "(N, C, W) or (N, C, H, W) inputs with weights of the same rank")
    c_in = b.onnx_shape(x)[1]
    if w.shape[1] * group != c_in:
        raise b.fail(f"weights {list(w.shape)} with group={group} do not fit input "
                     f"{list(b.onnx_shape(x))} (weight channels x group must equal input channels)")
    geometry = _window(b, x, w.shape[2:], strides, dilations, pads, auto_pad)
    del geometry["kernel"]
    w4 = w if w.ndim == 4 else w[:, :, None, :]
    inputs = [_spatial_in(b, x)]
    if group == c_in and group > 1:
        kind, attrs = "DEPTHWISE_CONV_2D", {"depth_multiplier": w.shape[0] // c_in}
        inputs.append(b.weight(1, w4.transpose(1, 2, 3, 0), 3, "weights"))
    else:  # group > 1: TFLite's grouped CONV_2D (filter depth C_in / group)
        if w.shape[0] % group:
            raise b.fail(f"{w.shape[0]} output channels do not split into group={group}")
        kind, attrs = "CONV_2D", {}
        inputs.append(b.weight(1, w4.transpose(0, 2, 3, 1), 0, "weights"))
    if bias is not None:
        inputs.append(b.weight(2, b.need_const(bias, "bias"), 0, "bias"))
    return _spatial_op(b, kind, inputs, {**geometry, **attrs, "activation": "NONE"}, x.rank)


def _fc(b: Builder, a: Value, w: np.ndarray, bias: np.ndarray | None) -> Value:
    a = b.as_layout(a, identity(a.rank))
    inputs = [a.name, b.weight(1, w, 0, "weights")]
    if bias is not None:
        inputs.append(b.weight(2, bias, 0, "bias"))
    return b.emit("FULLY_CONNECTED", inputs, {"activation": "NONE"}, a.perm)


def Gemm(
    b: Builder, a: Operand, w: Operand, c: Operand = None, *, alpha: float = 1.0, beta: float = 1.0,
    transA: int = 0, transB: int = 0,
) -> Value:
    a, w = b.runtime(a), b.need_const(w, "second input (B)")
    if transA:
        a = b.as_layout(a, (1, 0))
    weights = (w if transB else w.T) * np.float32(alpha)
    if alpha != 1.0 and b.node.input[1] in b.qconsts:
        raise b.fail(f"alpha={alpha} with quantized weights is not supported")
    bias = None
    if c is not None:
        c = b.need_const(c, "third input (C)")
        if c.size not in (1, weights.shape[0]) or (c.ndim == 2 and c.shape[0] != 1):
            raise b.fail(f"bias C {list(c.shape)} must broadcast to one row of {weights.shape[0]}")
        bias = np.broadcast_to(c.reshape(-1) * np.float32(beta), (weights.shape[0],))
    return _fc(b, a, weights, bias)


def MatMul(b: Builder, a: Operand, w: Operand) -> Value:
    """A constant 2-D second input is a dense layer (FULLY_CONNECTED); anything else, e.g. the
    product of two activations in attention, a BATCH_MATMUL."""
    if isinstance(a, Value) and isinstance(w, np.ndarray) and w.ndim == 2 and a.rank >= 2:
        return _fc(b, a, w.T, None)
    return _batch_matmul(b, a, w)


# -- attention (issue 11): MatMul of two run-time tensors --------------------------------------


def _matmul_operand(b: Builder, x: Operand, rank: int, suffix: str, adjoint_first: bool) -> tuple[str, bool]:
    """IR tensor name of one MatMul operand padded to `rank` axes, and whether its last two IR
    axes are the ONNX ones swapped (BATCH_MATMUL's adj_x/adj_y), so that a Transpose of K before
    the product costs nothing. When the batch axes must move anyway, the transposed copy takes
    the order the kernel reads fastest: `adjoint_first` (the rhs, read as rows of K) or not."""
    if isinstance(x, np.ndarray):
        data = x.reshape((1,) * (rank - x.ndim) + x.shape)
        if adjoint_first:
            return b.const(np.swapaxes(data, -1, -2).astype(np.float32), suffix), True
        return b.const(data.astype(np.float32), suffix), False
    v = b.runtime(x)
    if v.rank < rank:  # leading 1s in front of the IR axes too: the bytes and the order stay
        pad, t = rank - v.rank, b.tensor(v)
        v = b.emit("RESHAPE", [v.name], {"shape": [*(1,) * pad, *t.shape]},
                   (*range(pad), *(p + pad for p in v.perm)), suffix, t.dtype, t.quant)
    plain = identity(rank)
    swapped = (*plain[: rank - 2], rank - 1, rank - 2)
    if v.perm in (plain, swapped):
        return v.name, v.perm == swapped
    return b.as_layout(v, swapped if adjoint_first else plain).name, adjoint_first


def _batch_matmul(b: Builder, a: Operand, w: Operand) -> Value:
    shapes = [b.onnx_shape(v) if isinstance(v, Value) else tuple(v.shape) for v in (a, w)]
    if any(len(s) < 2 for s in shapes):
        raise b.fail(f"operands of rank 1 are not supported (shapes {[list(s) for s in shapes]}); "
                     "reshape them to (1, K) or (K, 1)")
    rank = max(len(s) for s in shapes)
    lhs, adj_x = _matmul_operand(b, a, rank, "lhs", False)
    rhs, adj_y = _matmul_operand(b, w, rank, "rhs", True)
    return b.emit("BATCH_MATMUL", [lhs, rhs], {"adj_x": adj_x, "adj_y": adj_y}, identity(rank))


# -- pooling and reductions --------------------------------------------------------------------


def _pool(
    b: Builder, kind: str, x: Operand, kernel_shape: Ints, strides: Ints | None, pads: Ints | None,
    auto_pad: str, ceil_mode: int, count_pads: bool = False,
) -> Value:
    v = b.runtime(x)
    geometry = _window(b, v, kernel_shape, strides, None, pads, auto_pad)
    del geometry["dilations"]
    given = geometry["pads"]
    if ceil_mode:
        geometry["pads"] = _ceil_pads(b, v, geometry)
    source = _spatial_in(b, v)
    if count_pads and any(given):
        # count_include_pad=1: the given pads become real zeros (a PAD), counted like any cell;
        # only ceil_mode's extra cells stay uncounted padding, as in onnxruntime and PyTorch.
        top, left, bottom, right = given
        source = b.emit("PAD", [source], {"pads": ((0, 0), (top, bottom), (left, right), (0, 0)),
                                          "value": 0.0}, (0, 1, 2, 3), "pad").name
        _, _, pb, pr = geometry["pads"]
        geometry["pads"] = (0, 0, pb - bottom, pr - right)
    return _spatial_op(b, kind, [source], {**geometry, "activation": "NONE"}, v.rank)


def _ceil_pads(b: Builder, x: Value, geometry: dict[str, Any]) -> tuple[int, int, int, int]:
    """ceil_mode=1 as extra bottom/right padding: the last window may run past the input, but
    must start inside the input or its leading padding (onnxruntime's and PyTorch's rule).
    Padded cells never count in the IR's pools, which is what both do for these extra cells."""
    n = x.rank - 2
    spatial = [1] * (2 - n) + list(b.onnx_shape(x)[2:])
    top, left, bottom, right = geometry["pads"]
    extra = []
    for size, k, s, lo, hi in zip(spatial, geometry["kernel"], geometry["strides"], (top, left),
                                  (bottom, right), strict=True):
        span = size + lo + hi - k
        out = -(-span // s) + 1
        if (out - 1) * s >= size + lo:
            out -= 1
        extra.append(max((out - 1) * s + k - (size + lo + hi), 0))
    return (top, left, bottom + extra[0], right + extra[1])


def MaxPool(
    b: Builder, x: Operand, *, kernel_shape: Ints, strides: Ints | None = None, pads: Ints | None = None,
    auto_pad: str = "NOTSET", ceil_mode: int = 0, dilations: Ints | None = None, storage_order: int = 0,
) -> Value:
    if len(b.node.output) > 1 and b.node.output[1]:
        raise b.fail("the Indices output is not supported")
    if dilations is not None and any(d != 1 for d in dilations):
        raise b.fail(f"dilations {list(dilations)} are not supported for pooling")
    return _pool(b, "MAX_POOL_2D", x, kernel_shape, strides, pads, auto_pad, ceil_mode)


def AveragePool(
    b: Builder, x: Operand, *, kernel_shape: Ints, strides: Ints | None = None, pads: Ints | None = None,
    auto_pad: str = "NOTSET", ceil_mode: int = 0, count_include_pad: int = 0, dilations: Ints | None = None,
) -> Value:
    if dilations is not None and any(d != 1 for d in dilations):
        raise b.fail(f"dilations {list(dilations)} are not supported for pooling")
    return _pool(b, "AVERAGE_POOL_2D", x, kernel_shape, strides, pads, auto_pad, ceil_mode,
                 bool(count_include_pad))


def _mean(b: Builder, v: Value, onnx_axes: Ints, keepdims: bool, kind: str = "MEAN") -> Value:
    axes = sorted({v.perm.index(a % v.rank) for a in onnx_axes})
    attrs = {"axes": axes, "keepdims": keepdims}
    if keepdims:
        return b.emit(kind, [v.name], attrs, v.perm)
    kept = [p for p in v.perm if p not in {v.perm[k] for k in axes}]
    # Renumber the surviving ONNX axes 0..r-1, keeping their IR order.
    return b.emit(kind, [v.name], attrs, tuple(int(i) for i in np.argsort(np.argsort(kept))))


def GlobalAveragePool(b: Builder, x: Operand) -> Value:
    v = b.runtime(x)
    return _mean(b, v, range(2, v.rank), True)


def _reduce(
    b: Builder, kind: str, x: Operand, axes_in: Operand, axes: Ints | None, keepdims: int,
    noop_with_empty_axes: int,
) -> Value:
    v = b.runtime(x)
    if axes_in is not None:
        axes = [int(a) for a in b.need_const(axes_in, "axes").reshape(-1)]
    if not axes:
        if noop_with_empty_axes:
            return v
        axes = range(v.rank)
    return _mean(b, v, axes, bool(keepdims), kind)


def _permuted(x: Operand, order: Sequence[int]) -> Operand:
    """`x` with its ONNX axes reordered (new axis k = old axis order[k]): free for run-time tensors,
    whose IR tensor stays and only the permutation changes (as ONNX Transpose)."""
    if isinstance(x, np.ndarray):
        return np.transpose(x, order)
    assert isinstance(x, Value)
    back = inverse(tuple(order))
    return Value(x.name, tuple(back[p] for p in x.perm))


def Einsum(b: Builder, *xs: Operand, equation: str) -> Value:
    """An Einsum of two operands that is a batched matrix product, as attention code writes it
    ('bhid,bhjd->bhij', 'bhij,bhjd->bhid', 'bqhd,bkhd->bhqk', ...): axes in both operands and the
    output are batch axes, one axis in both operands only is summed, each operand has one axis of
    its own. Operands and result are reordered by free transposes around one BATCH_MATMUL."""
    eq = equation.replace(" ", "")
    terms, _, out = eq.partition("->")
    specs = terms.split(",")
    if len(xs) != 2 or len(specs) != 2 or not out or "." in eq:
        raise b.fail(f"equation '{equation}': only two operands with an explicit output ('->') and "
                     "no ellipsis are supported")
    sa, sb = specs
    batch = [c for c in out if c in sa and c in sb]
    free_a, free_b = [c for c in sa if c not in sb], [c for c in sb if c not in sa]
    summed = [c for c in sa if c in sb and c not in out]
    letters_ok = all(len(set(s)) == len(s) for s in (sa, sb, out))
    if (not letters_ok or len(free_a) != 1 or len(free_b) != 1 or len(summed) != 1
            or sorted(out) != sorted(batch + free_a + free_b)):
        raise b.fail(f"equation '{equation}' is not a batched matrix product (batch axes in both "
                     "operands and the output, one summed axis, one free axis per operand)")
    for x, spec in zip(xs, specs):
        shape = b.onnx_shape(x) if isinstance(x, Value) else x.shape
        if len(shape) != len(spec):
            raise b.fail(f"equation '{equation}': operand '{spec}' has rank {len(shape)}")
    a = _permuted(xs[0], [sa.index(c) for c in (*batch, *free_a, *summed)])
    w = _permuted(xs[1], [sb.index(c) for c in (*batch, *summed, *free_b)])
    y = _batch_matmul(b, a, w)
    mid = [*batch, *free_a, *free_b]
    result = _permuted(y, [mid.index(c) for c in out])
    assert isinstance(result, Value)
    return result



def ReduceMean(
    b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None, keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Value:
    return _reduce(b, "MEAN", x, axes_in, axes, keepdims, noop_with_empty_axes)


# -- reductions, arg max/min, layer normalization (area: reductions) ------------------------


def ReduceSum(
    b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None, keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Value:
    return _reduce(b, "SUM", x, axes_in, axes, keepdims, noop_with_empty_axes)


def ReduceMax(
    b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None, keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Value:
    return _reduce(b, "REDUCE_MAX", x, axes_in, axes, keepdims, noop_with_empty_axes)


def ReduceMin(
    b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None, keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Value:
    return _reduce(b, "REDUCE_MIN", x, axes_in, axes, keepdims, noop_with_empty_axes)


def GlobalMaxPool(b: Builder, x: Operand) -> Value:
    v = b.runtime(x)
    return _mean(b, v, range(2, v.rank), True, "REDUCE_MAX")


def _arg(b: Builder, kind: str, x: Operand, axis: int, keepdims: int, select_last_index: int) -> Value:
    """ARG_MAX/ARG_MIN on the ONNX layout (identity), int64 indices as ONNX defines them."""
    v = b.as_layout(b.runtime(x), identity(b.runtime(x).rank))
    attrs = {"axis": axis % v.rank, "keepdims": bool(keepdims), "select_last": bool(select_last_index)}
    rank = v.rank if keepdims else v.rank - 1
    return b.emit(kind, [v.name], attrs, identity(rank), dtype="int64")


def ArgMax(b: Builder, x: Operand, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0) -> Value:
    return _arg(b, "ARG_MAX", x, axis, keepdims, select_last_index)


def ArgMin(b: Builder, x: Operand, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0) -> Value:
    return _arg(b, "ARG_MIN", x, axis, keepdims, select_last_index)


def LayerNormalization(
    b: Builder, x: Operand, scale: Operand, bias: Operand = None, *, axis: int = -1,
    epsilon: float = 1e-5, stash_type: int = 1,
) -> Value:
    """Over the last axis only (PyTorch's nn.LayerNorm over one trailing dim): LAYER_NORM on the
    ONNX layout, gamma and beta as per-channel attributes."""
    v = b.runtime(x)
    if len(b.node.output) > 1 and any(b.node.output[1:]):
        raise b.fail("the Mean / InvStdDev outputs are not supported")
    if axis % v.rank != v.rank - 1:
        raise b.fail(f"axis={axis} normalizes {v.rank - axis % v.rank} trailing axes; only the last "
                     "axis is supported (axis=-1)")
    v = b.as_layout(v, identity(v.rank))
    depth = b.ir_shape(v)[-1]
    gamma = np.broadcast_to(b.need_const(scale, "scale").astype(np.float32).reshape(-1), (depth,))
    beta = (np.zeros(depth, np.float32) if bias is None
            else np.broadcast_to(b.need_const(bias, "bias").astype(np.float32).reshape(-1), (depth,)))
    attrs = {"epsilon": float(epsilon), "gamma": tuple(float(g) for g in gamma),
             "beta": tuple(float(g) for g in beta)}
    return b.emit("LAYER_NORM", [v.name], attrs, v.perm)
