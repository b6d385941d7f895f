"""Data-movement ops: bytes move, values do not change (tflite-import area).

Every op here copies input elements to output positions, so the integer reference is the float
reference applied to the integer array, the output keeps the input's quantization
(`same_as_input`), and the references work on int32 shape tensors too (which is how shape
arithmetic is folded at import: `importers/fold.py`). TFLite Micro's int8 kernels of these ops
copy bytes and require equal input/output quantization, so bit-exactness is by construction.

- STRIDED_SLICE: attrs begin, size, step (one per input axis, already resolved: element i of
  axis k is input index begin[k] + i * step[k], step may be negative), shape (the output shape:
  the sliced shape, with TFLite's shrink-axis dimensions dropped). Serves TFLite SLICE and
  STRIDED_SLICE and ONNX Slice.
- SPLIT: attrs axis, sizes; one output per size (TFLite SPLIT/SPLIT_V, ONNX Split, UNPACK).
- TILE: attrs multiples (TFLite TILE, ONNX Tile). BROADCAST_TO: attrs shape (numpy rules;
  ONNX Expand).
- GATHER: attrs axis, indices (constant, already non-negative, any shape): output shape is
  x.shape[:axis] + indices.shape + x.shape[axis + 1:].
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def _x(ins: list[Shape | None]) -> Shape:
    x = ins[0]
    assert x is not None
    return x


# -- STRIDED_SLICE -------------------------------------------------------------------------------


def slice_indices(begin: int, size: int, step: int) -> np.ndarray:
    return begin + step * np.arange(size, dtype=np.int64)


def strided_slice_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = _x(ins)
    a = op.attrs
    if not len(a["begin"]) == len(a["size"]) == len(a["step"]) == len(x):
        raise ValueError(f"STRIDED_SLICE '{op.name}': begin/size/step need {len(x)} entries")
    for d, b, n, s in zip(x, a["begin"], a["size"], a["step"], strict=True):
        if n < 0 or s == 0 or (n > 0 and not (0 <= b < d and 0 <= b + (n - 1) * s < d)):
            raise ValueError(f"STRIDED_SLICE '{op.name}': {n} elements from {b} by {s} leave "
                             f"an axis of {d}")
    shape = tuple(int(d) for d in a["shape"])
    if int(np.prod(shape)) != int(np.prod(a["size"])):
        raise ValueError(f"STRIDED_SLICE '{op.name}': shape {shape} does not hold sizes {a['size']}")
    return [shape]


def strided_slice_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    index = np.ix_(*[slice_indices(b, n, s) for b, n, s in zip(a["begin"], a["size"], a["step"])])
    return [np.ascontiguousarray(xs[0][index]).reshape(a["shape"])]


def _same_shape(op: Op, ins: list[Shape | None], outs: list[Shape]) -> bool:
    return ins[0] == outs[0]


def _whole(op: Op, ins: list[Shape | None], outs: list[Shape]) -> bool:
    a = op.attrs
    return (ins[0] == outs[0] == tuple(a["size"]) and not any(a["begin"])
            and all(s == 1 for s in a["step"]))


STRIDED_SLICE = register(OpDef(
    kind="STRIDED_SLICE", shape=strided_slice_shape, ref_float=strided_slice_ref,
    ref_int=strided_slice_ref, attrs=("begin", "size", "step", "shape"),
    out_quant="same_as_input", int16=True, identity=_whole,
    doc="a strided window of a tensor (copies bytes)",
))


# -- SPLIT ---------------------------------------------------------------------------------------


def split_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = _x(ins)
    axis, sizes = op.attrs["axis"] % len(x), [int(s) for s in op.attrs["sizes"]]
    if sum(sizes) != x[axis] or min(sizes, default=0) < 0:
        raise ValueError(f"SPLIT '{op.name}': sizes {sizes} do not add up to axis {axis} of {x}")
    return [tuple(s if i == axis else d for i, d in enumerate(x)) for s in sizes]


def split_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    axis = ctx.op.attrs["axis"] % xs[0].ndim
    cuts = np.cumsum([int(s) for s in ctx.op.attrs["sizes"]])[:-1]
    return [np.ascontiguousarray(p) for p in np.split(xs[0], cuts, axis=axis)]


SPLIT = register(OpDef(
    kind="SPLIT", shape=split_shape, ref_float=split_ref, ref_int=split_ref, attrs=("axis", "sizes"),
    out_quant="same_as_input", int16=True, doc="cut a tensor into pieces along an axis (several outputs)",
))


# -- TILE, BROADCAST_TO ----------------------------------------------------------------------------


def tile_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = _x(ins)
    reps = [int(m) for m in op.attrs["multiples"]]
    if len(reps) != len(x) or min(reps, default=1) < 1:
        raise ValueError(f"TILE '{op.name}': multiples {reps} do not fit shape {x}")
    return [tuple(d * m for d, m in zip(x, reps, strict=True))]


def tile_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    return [np.tile(xs[0], [int(m) for m in ctx.op.attrs["multiples"]])]


TILE = register(OpDef(
    kind="TILE", shape=tile_shape, ref_float=tile_ref, ref_int=tile_ref, attrs=("multiples",),
    out_quant="same_as_input", int16=True, identity=_same_shape, doc="repeat a tensor along each axis",
))


def broadcast_to_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = _x(ins)
    try:
        return [tuple(np.broadcast_shapes(x, tuple(op.attrs["shape"])))]
    except ValueError:
        raise ValueError(f"BROADCAST_TO '{op.name}': {x} does not broadcast to {op.attrs['shape']}") from None


def broadcast_to_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    shape = np.broadcast_shapes(xs[0].shape, tuple(ctx.op.attrs["shape"]))
    return [np.ascontiguousarray(np.broadcast_to(xs[0], shape))]


BROADCAST_TO = register(OpDef(
    kind="BROADCAST_TO", shape=broadcast_to_shape, ref_float=broadcast_to_ref, ref_int=broadcast_to_ref,
    attrs=("shape",), out_quant="same_as_input", int16=True, identity=_same_shape,
    doc="broadcast a tensor to a shape",
))


# -- GATHER ----------------------------------------------------------------------------------------


def gather_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = _x(ins)
    axis = op.attrs["axis"] % len(x)
    idx = np.asarray(op.attrs["indices"])
    if idx.size and (idx.min() < 0 or idx.max() >= x[axis]):
        raise ValueError(f"GATHER '{op.name}': indices {idx.min()}..{idx.max()} outside axis {axis} "
                         f"of {x}")
    return [tuple(x[:axis]) + tuple(idx.shape) + tuple(x[axis + 1:])]


def gather_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    axis = ctx.op.attrs["axis"] % xs[0].ndim
    return [np.take(xs[0], np.asarray(ctx.op.attrs["indices"], dtype=np.int64), axis=axis)]


GATHER = register(OpDef(
    kind="GATHER", shape=gather_shape, ref_float=gather_ref, ref_int=gather_ref,
    attrs=("axis", "indices"), out_quant="same_as_input", int16=True,
    doc="pick slices of an axis by constant indices",
))
