"""ONNX data-movement ops into the IR's data-movement ops (tflite-import area); `DATA_OPS` joins
`onnx_ops.TABLE`. Axes are ONNX axes: each function maps them to IR axes through the value's
permutation, so channels-last conv tensors need no transposes. Definitions follow the ONNX
operator specification (Slice-13, Split-18, Gather-13, Tile-13, Expand-13, DepthToSpace-13 with
DCR and CRD modes, SpaceToDepth-13).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mcuforge.importers.onnx_builder import Builder, Operand, Value, channels_last, identity
from mcuforge.importers.tflite_data_ops import block_move
from mcuforge.ir.graph import Op, Tensor
from mcuforge.ops.registry import infer_shapes

Ints = Sequence[int]


def _ints(b: Builder, x: Operand, what: str) -> list[int]:
    return [int(v) for v in b.need_const(x, what).reshape(-1)]


def _like(b: Builder, v: Value, kind: str, attrs: dict[str, Any], perm: tuple[int, ...],
          suffix: str = "") -> Value:
    t = b.tensor(v)
    return b.emit(kind, [v.name], attrs, perm, suffix, dtype=t.dtype, quant=t.quant)


def onnx_slice_range(d: int, start: int, end: int, step: int) -> tuple[int, int]:
    """(first index, count) of ONNX Slice on an axis of size d (negative indices count from the
    end; starts and ends are clamped to [0, d] for positive steps, [0, d-1] / [-1, d-1] for
    negative ones)."""
    if step == 0:
        raise ValueError("step 0")
    start = start + d if start < 0 else start
    end = end + d if end < 0 else end
    if step > 0:
        start, end = min(max(start, 0), d), min(max(end, 0), d)
        count = max(0, -(-(end - start) // step))
    else:
        start, end = min(max(start, 0), d - 1), min(max(end, -1), d - 1)
        count = max(0, -(-(start - end) // -step))
    return (start if count else 0), count


def Slice(b: Builder, x: Operand, starts: Operand, ends: Operand, axes: Operand = None,
          steps: Operand = None) -> Value:
    v = b.runtime(x)
    shape = b.onnx_shape(v)
    first, last = _ints(b, starts, "starts"), _ints(b, ends, "ends")
    on = [a % v.rank for a in _ints(b, axes, "axes")] if axes is not None else list(range(len(first)))
    step = _ints(b, steps, "steps") if steps is not None else [1] * len(first)
    begin, size, stride = [0] * v.rank, list(shape), [1] * v.rank
    for a, s, e, t in zip(on, first, last, step, strict=True):
        try:
            begin[a], size[a] = onnx_slice_range(shape[a], s, e, t)
        except ValueError:
            raise b.fail(f"step 0 on axis {a}") from None
        stride[a] = t
    ir = [v.perm[k] for k in range(v.rank)]  # IR axis k holds ONNX axis v.perm[k]
    attrs = {"begin": tuple(begin[a] for a in ir), "size": tuple(size[a] for a in ir),
             "step": tuple(stride[a] for a in ir), "shape": tuple(size[a] for a in ir)}
    return _like(b, v, "STRIDED_SLICE", attrs, v.perm)


def Split(b: Builder, x: Operand, split_in: Operand = None, *, axis: int = 0, split: Ints | None = None,
          num_outputs: int | None = None) -> list[Operand]:
    v = b.runtime(x)
    axis %= v.rank
    d = b.onnx_shape(v)[axis]
    n = len(b.node.output)
    if split_in is not None:
        sizes = _ints(b, split_in, "split")
    elif split is not None:
        sizes = [int(s) for s in split]
    else:
        n = num_outputs or n
        sizes = [-(-d // n)] * (n - 1) + [d - -(-d // n) * (n - 1)]
    t = b.tensor(v)
    outs = [b.out_name(f"part{i}") for i in range(len(sizes))]
    op = Op("SPLIT", b.node.name or b.node.output[0], [v.name], outs,
            {"axis": v.perm.index(axis), "sizes": tuple(sizes)})
    try:
        shapes = infer_shapes(op, [t.shape])
    except ValueError as e:
        raise b.fail(str(e)) from None
    for name, shape in zip(outs, shapes, strict=True):
        b.graph.add_tensor(Tensor(name, tuple(shape), t.dtype, quant=t.quant))
    b.graph.add_op(op)
    return [Value(name, v.perm) for name in outs]


def Gather(b: Builder, x: Operand, indices: Operand, *, axis: int = 0) -> Value:
    v = b.runtime(x)
    axis %= v.rank
    idx = b.need_const(indices, "indices").astype(np.int64)
    d = b.onnx_shape(v)[axis]
    idx = np.where(idx < 0, idx + d, idx)
    if idx.ndim == 0:  # the axis goes away
        perm = tuple(p - (p > axis) for p in v.perm if p != axis)
    elif idx.ndim == 1:
        perm = v.perm
    else:
        v, perm = b.as_layout(v, identity(v.rank)), identity(v.rank - 1 + idx.ndim)
    return _like(b, v, "GATHER", {"axis": v.perm.index(axis), "indices": idx.tolist()}, perm)


def Tile(b: Builder, x: Operand, repeats: Operand) -> Value:
    v = b.runtime(x)
    reps = _ints(b, repeats, "repeats")
    return _like(b, v, "TILE", {"multiples": tuple(reps[p] for p in v.perm)}, v.perm)


def Expand(b: Builder, x: Operand, shape: Operand) -> Value:
    v = b.runtime(x)
    target = tuple(np.broadcast_shapes(b.onnx_shape(v), tuple(_ints(b, shape, "shape"))))
    if len(target) > v.rank:
        v = b.reshape(v, (1,) * (len(target) - v.rank) + b.onnx_shape(v))
    return _like(b, v, "BROADCAST_TO", {"shape": tuple(target[p] for p in v.perm)}, v.perm)


def _blocks(b: Builder, x: Operand, block: int, to_depth: bool, crd: bool = False) -> Value:
    v = b.as_layout(b.runtime(x), channels_last(4))
    try:
        split, perm, final = block_move(b.ir_shape(v), block, to_depth, crd)
    except ValueError as err:
        raise b.fail(str(err)) from None
    six = identity(6)
    a = _like(b, v, "RESHAPE", {"shape": split}, six, "blocks")
    moved = _like(b, a, "TRANSPOSE", {"perm": perm}, six, "moved")
    return _like(b, moved, "RESHAPE", {"shape": final}, channels_last(4))


def DepthToSpace(b: Builder, x: Operand, *, blocksize: int, mode: str = "DCR") -> Value:
    if mode not in ("DCR", "CRD"):
        raise b.fail(f"mode '{mode}' is not DCR or CRD")
    return _blocks(b, x, int(blocksize), False, crd=mode == "CRD")


def SpaceToDepth(b: Builder, x: Operand, *, blocksize: int) -> Value:
    return _blocks(b, x, int(blocksize), True)


DATA_OPS = {f.__name__: f for f in (Slice, Split, Gather, Tile, Expand, DepthToSpace, SpaceToDepth)}
