"""TFLite data-movement and shape-arithmetic builtins into IR ops (tflite-import area).

`DATA_CONVERTERS` joins `tflite_ops.CONVERTERS`. Ops whose inputs are all constant (shape
arithmetic once the free batch is 1) are folded by the importer (`importers/fold.py`), so these
converters only describe what each builtin computes. Definitions follow TFLite's builtin kernels
(tensorflow/lite/kernels/*.cc): STRIDED_SLICE follows strided_slice_logic.h (begin/end masks,
shrink_axis, negative strides, the `offset` option); SPACE_TO_BATCH_ND pads with the output zero
point, as TFLite's reference kernel does (TFLite Micro pads int8 with 0, which is wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from mcuforge.ir.graph import Op, Shape, Tensor

if TYPE_CHECKING:  # tflite_ops imports this module to fill its table
    from mcuforge.importers.tflite_ops import Node

Converter = Callable[["Node"], list[Op]]


def _temp(node: Node, like: str, suffix: str, dtype: str | None = None) -> str:
    """A new intermediate tensor quantized like tensor `like` (its shape is set by the rule)."""
    src = node.graph.tensors[like]
    name = node.graph.unique_name(f"{node.name}/{suffix}")
    node.graph.add_tensor(Tensor(name, (), dtype or src.dtype, quant=src.quant))
    return name


def _ints(node: Node, i: int) -> list[int]:
    return [int(v) for v in node.const(i).reshape(-1)]


# -- shape arithmetic ---------------------------------------------------------------------------


def shape(node: Node) -> list[Op]:
    """SHAPE of a tensor whose shape is static: a constant (free batch already fixed to 1)."""
    out = node.graph.tensors[node.outputs[0]]
    out.data = np.asarray(node.shape(0), dtype=out.dtype)
    out.shape = tuple(out.data.shape)
    return []


def cast(node: Node) -> list[Op]:
    return [node.op("CAST")]


def fill(node: Node) -> list[Op]:
    return [node.op("FILL", {"shape": tuple(_ints(node, 0))})]


def range_(node: Node) -> list[Op]:
    start, limit, delta = (node.const(i).reshape(-1)[0] for i in range(3))
    return [node.op("RANGE", {"shape": (len(np.arange(start, limit, delta)),)})]


def reduce_prod(node: Node) -> list[Op]:
    rank = len(node.shape(0))
    given = _ints(node, 1)
    if any(not -rank <= a < rank for a in given):
        raise node.error(f"axes {list(given)} out of range for an input of rank {rank}")
    axes = tuple(sorted({a % rank for a in given}))
    return [node.op("REDUCE_PROD", {"axes": axes, "keepdims": bool(node.opts.keepDims)}, node.inputs[:1])]


def _plain(kind: str) -> Converter:
    def convert(node: Node) -> list[Op]:
        return [node.op(kind)]

    convert.__name__ = kind.lower()
    return convert


# -- slicing -------------------------------------------------------------------------------------


def resolve_strided_slice(dims: Shape, begin: list[int], end: list[int], strides: list[int],
                          begin_mask: int = 0, end_mask: int = 0, shrink_mask: int = 0,
                          offset: bool = False) -> tuple[list[int], list[int], list[int], list[int]]:
    """(begin, size, step, output shape) of TFLite's STRIDED_SLICE on a tensor of shape `dims`
    (strided_slice_logic.h: masked begins/ends take the extreme of the stride's direction,
    negative indices count from the end, both are clamped, a shrunk axis keeps one element)."""
    out_begin, sizes, steps, out_shape = [], [], [], []
    for axis, d in enumerate(dims):
        b = begin[axis] if axis < len(begin) else 0
        e = end[axis] if axis < len(end) else d
        s = strides[axis] if axis < len(strides) else 1
        if s == 0:
            raise ValueError(f"stride 0 on axis {axis}")
        if offset:
            e = b + e
        if shrink_mask >> axis & 1:  # one element at begin, masks and stride aside (TF's rule)
            start = b + d if b < 0 else b
            if not 0 <= start < d:
                raise ValueError(f"index {b} out of range on axis {axis} of size {d}")
        elif begin_mask >> axis & 1:
            start = 0 if s > 0 else d - 1
        else:
            start = b + d if b < 0 else b
            start = min(max(start, 0), d) if s > 0 else min(max(start, -1), d - 1)
        if shrink_mask >> axis & 1:
            stop = start + 1
            s = 1
        elif end_mask >> axis & 1:
            stop = d if s > 0 else -1
        else:
            stop = e + d if e < 0 else e
            stop = min(max(stop, 0), d) if s > 0 else min(max(stop, -1), d - 1)
        count = max(0, -(-(stop - start) // s)) if s > 0 else max(0, -(-(start - stop) // -s))
        out_begin.append(start if count else 0)
        sizes.append(count)
        steps.append(s)
        if not shrink_mask >> axis & 1:
            out_shape.append(count)
    return out_begin, sizes, steps, out_shape


def strided_slice(node: Node) -> list[Op]:
    o = node.opts
    if o.ellipsisMask or o.newAxisMask:
        raise node.error("ellipsis_mask and new_axis_mask are not supported")
    begin, size, step, out = resolve_strided_slice(
        node.shape(0), _ints(node, 1), _ints(node, 2), _ints(node, 3), o.beginMask, o.endMask,
        o.shrinkAxisMask, bool(getattr(o, "offset", False)))
    attrs = {"begin": tuple(begin), "size": tuple(size), "step": tuple(step), "shape": tuple(out)}
    return [node.op("STRIDED_SLICE", attrs, node.inputs[:1])]


def slice_(node: Node) -> list[Op]:
    dims = node.shape(0)
    begin = _ints(node, 1)
    size = [d - b if n == -1 else n for d, b, n in zip(dims, begin, _ints(node, 2), strict=True)]
    attrs = {"begin": tuple(begin), "size": tuple(size), "step": (1,) * len(dims), "shape": tuple(size)}
    return [node.op("STRIDED_SLICE", attrs, node.inputs[:1])]


def split(node: Node) -> list[Op]:
    x = node.inputs[1]
    dims = node.graph.tensors[x].shape
    axis = int(node.const(0).reshape(-1)[0]) % len(dims)
    n = int(node.opts.numSplits)
    if n < 1 or dims[axis] % n:
        raise node.error(f"cannot split axis {axis} of {dims} into {n} equal parts")
    return [node.op("SPLIT", {"axis": axis, "sizes": (dims[axis] // n,) * n}, [x])]


def split_v(node: Node) -> list[Op]:
    dims = node.shape(0)
    axis = int(node.const(2).reshape(-1)[0]) % len(dims)
    sizes = _ints(node, 1)
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = dims[axis] - sum(s for s in sizes if s != -1)
    return [node.op("SPLIT", {"axis": axis, "sizes": tuple(sizes)}, node.inputs[:1])]


def unpack(node: Node) -> list[Op]:
    """UNPACK: a SPLIT into pieces of 1, each reshaped without the axis."""
    dims = node.shape(0)
    axis = int(node.opts.axis) % len(dims)
    pieces = [_temp(node, node.inputs[0], f"piece{i}") for i in range(dims[axis])]
    ops = [Op("SPLIT", node.name, node.inputs[:1], pieces, {"axis": axis, "sizes": (1,) * dims[axis]})]
    out_shape = tuple(d for i, d in enumerate(dims) if i != axis)
    for piece, out in zip(pieces, node.outputs, strict=True):
        ops.append(Op("RESHAPE", f"{node.name}/{out}", [piece], [out], {"shape": out_shape}))
    return ops


def pack(node: Node) -> list[Op]:
    """PACK: every input reshaped with a 1 at the axis, then concatenated along it."""
    dims = list(node.shape(0))
    axis = int(node.opts.axis) % (len(dims) + 1)
    expanded = tuple([*dims[:axis], 1, *dims[axis:]])
    ops, parts = [], []
    for i, name in enumerate(node.inputs):
        part = _temp(node, name, f"expand{i}")
        ops.append(Op("RESHAPE", part, [name], [part], {"shape": expanded}))
        parts.append(part)
    ops.append(node.op("CONCATENATION", {"axis": axis, "activation": "NONE"}, parts))
    return ops


def gather(node: Node) -> list[Op]:
    dims = node.shape(0)
    axis = int(node.opts.axis) % len(dims)
    if getattr(node.opts, "batchDims", 0):
        raise node.error("batch_dims is not supported")
    indices = node.const(1).astype(np.int64)
    indices = np.where(indices < 0, indices + dims[axis], indices)
    return [node.op("GATHER", {"axis": axis, "indices": indices.tolist()}, node.inputs[:1])]


def tile(node: Node) -> list[Op]:
    return [node.op("TILE", {"multiples": tuple(_ints(node, 1))}, node.inputs[:1])]


def broadcast_to(node: Node) -> list[Op]:
    return [node.op("BROADCAST_TO", {"shape": tuple(_ints(node, 1))}, node.inputs[:1])]


# -- depth/space and batch/space moves: reshape + transpose + reshape -------------------------------


def block_move(shape: Shape, bs: int, to_depth: bool, crd: bool = False
               ) -> tuple[Shape, tuple[int, ...], Shape]:
    """SPACE_TO_DEPTH (to_depth) or DEPTH_TO_SPACE of an NHWC `shape` with block size `bs` as
    (6-D split shape, transpose perm, final shape); ValueError when the shape does not divide."""
    n, h, w, c = shape
    if to_depth:
        if h % bs or w % bs:
            raise ValueError(f"height and width of {(n, h, w, c)} are not multiples of block {bs}")
        return (n, h // bs, bs, w // bs, bs, c), (0, 1, 3, 2, 4, 5), (n, h // bs, w // bs, bs * bs * c)
    if c % (bs * bs):
        raise ValueError(f"channels of {(n, h, w, c)} are not a multiple of block {bs} squared")
    cc = c // (bs * bs)
    if crd:
        return (n, h, w, cc, bs, bs), (0, 1, 4, 2, 5, 3), (n, h * bs, w * bs, cc)
    return (n, h, w, bs, bs, cc), (0, 1, 3, 2, 4, 5), (n, h * bs, w * bs, cc)


def blocks_to_depth(node: Node, x: str, out: str, block: int, to_depth: bool, crd: bool = False) -> list[Op]:
    """DEPTH_TO_SPACE (to_depth False) or SPACE_TO_DEPTH of an NHWC tensor as a 6-D transpose.
    The channel of block offset (i, j) and channel c is (i * bs + j) * C' + c (TF, ONNX "DCR"),
    or c * bs * bs + i * bs + j with `crd` (ONNX "CRD")."""
    try:
        split, perm, final = block_move(node.graph.tensors[x].shape, block, to_depth, crd)
    except ValueError as e:
        raise node.error(str(e)) from None
    a, b = _temp(node, x, "blocks"), _temp(node, x, "moved")
    return [Op("RESHAPE", a, [x], [a], {"shape": split}),
            Op("TRANSPOSE", b, [a], [b], {"perm": perm}),
            Op("RESHAPE", out, [b], [out], {"shape": final})]


def depth_to_space(node: Node) -> list[Op]:
    return blocks_to_depth(node, node.inputs[0], node.outputs[0], int(node.opts.blockSize), False)


def space_to_depth(node: Node) -> list[Op]:
    return blocks_to_depth(node, node.inputs[0], node.outputs[0], int(node.opts.blockSize), True)


def space_to_batch_nd(node: Node) -> list[Op]:
    block = tuple(_ints(node, 1))
    pads = tuple((int(lo), int(hi)) for lo, hi in node.const(2).reshape(-1, 2))
    return [node.op("SPACE_TO_BATCH_ND", {"block": block, "pads": pads}, node.inputs[:1])]


def batch_to_space_nd(node: Node) -> list[Op]:
    block = tuple(_ints(node, 1))
    crops = tuple((int(lo), int(hi)) for lo, hi in node.const(2).reshape(-1, 2))
    return [node.op("BATCH_TO_SPACE_ND", {"block": block, "crops": crops}, node.inputs[:1])]


# -- the table (joins tflite_ops.CONVERTERS) ------------------------------------------------------

DATA_CONVERTERS: dict[str, Converter] = {
    "SHAPE": shape,
    "CAST": cast,
    "FILL": fill,
    "RANGE": range_,
    "REDUCE_PROD": reduce_prod,
    "FLOOR_DIV": _plain("FLOOR_DIV"),
    "FLOOR_MOD": _plain("FLOOR_MOD"),
    "STRIDED_SLICE": strided_slice,
    "SLICE": slice_,
    "SPLIT": split,
    "SPLIT_V": split_v,
    "PACK": pack,
    "UNPACK": unpack,
    "GATHER": gather,
    "TILE": tile,
    "BROADCAST_TO": broadcast_to,
    "DEPTH_TO_SPACE": depth_to_space,
    "SPACE_TO_DEPTH": space_to_depth,
    "SPACE_TO_BATCH_ND": space_to_batch_nd,
    "BATCH_TO_SPACE_ND": batch_to_space_nd,
}
