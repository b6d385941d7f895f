"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (tflite-import area), as TFLite defines them on
(N, spatial..., C) tensors with M = len(block) spatial axes.

SPACE_TO_BATCH_ND (attrs block, pads: (before, after) per spatial axis): pad the spatial axes,
then output[(b_0 * B_1 + b_1 ...) * N + n, s_0, s_1, ..., c] = padded[n, s_0 * B_0 + b_0, ...].
The int8 pad value is the output zero point (real 0), as in TFLite's reference kernels
(tensorflow/lite/kernels/space_to_batch_nd.cc); TFLite Micro's int8 kernel pads with 0, which
is wrong for a nonzero zero point.
BATCH_TO_SPACE_ND (attrs block, crops): the inverse move, then crop each spatial axis.

Both usually come in `SPACE_TO_BATCH_ND -> conv -> BATCH_TO_SPACE_ND`, TensorFlow's way of
writing a dilated convolution with a free batch: `importers/space_to_batch.py` turns that into one
dilated convolution and lowers the others to PAD/RESHAPE/TRANSPOSE/STRIDED_SLICE.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def space_to_batch_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    block, pads = op.attrs["block"], op.attrs["pads"]
    spatial = [d + lo + hi for d, (lo, hi) in zip(x[1:1 + len(block)], pads, strict=True)]
    if any(s % b for s, b in zip(spatial, block, strict=True)):
        raise ValueError(f"SPACE_TO_BATCH_ND '{op.name}': padded sizes {spatial} are not multiples "
                         f"of the block {tuple(block)}")
    batch = x[0] * int(np.prod(block))
    return [(batch, *[s // b for s, b in zip(spatial, block, strict=True)], *x[1 + len(block):])]


def batch_to_space_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    block, crops = op.attrs["block"], op.attrs["crops"]
    prod = int(np.prod(block))
    if x[0] % prod:
        raise ValueError(f"BATCH_TO_SPACE_ND '{op.name}': batch {x[0]} is not a multiple of {prod}")
    spatial = [d * b - lo - hi for d, b, (lo, hi) in zip(x[1:1 + len(block)], block, crops, strict=True)]
    return [(x[0] // prod, *spatial, *x[1 + len(block):])]


def space_to_batch(x: np.ndarray, block: list[int], pads: list[tuple[int, int]], value: float) -> np.ndarray:
    m = len(block)
    rest = list(x.shape[1 + m:])
    x = np.pad(x, [(0, 0), *pads, *[(0, 0)] * len(rest)], constant_values=value)
    n = x.shape[0]
    split = [n]
    for d, b in zip(x.shape[1:1 + m], block, strict=True):
        split += [d // b, b]
    y = x.reshape(split + rest)
    perm = [2 + 2 * k for k in range(m)] + [0] + [1 + 2 * k for k in range(m)]
    perm += list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    out = [n * int(np.prod(block))] + [d // b for d, b in zip(x.shape[1:1 + m], block, strict=True)]
    return np.ascontiguousarray(y.transpose(perm)).reshape(out + rest)


def batch_to_space(x: np.ndarray, block: list[int], crops: list[tuple[int, int]]) -> np.ndarray:
    m = len(block)
    rest = list(x.shape[1 + m:])
    n = x.shape[0] // int(np.prod(block))
    y = x.reshape([*list(block), n, *list(x.shape[1:])])
    perm = [m]
    for k in range(m):
        perm += [m + 1 + k, k]
    perm += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    y = np.ascontiguousarray(y.transpose(perm))
    y = y.reshape([n] + [d * b for d, b in zip(x.shape[1:1 + m], block, strict=True)] + rest)
    index = (slice(None), *tuple(slice(lo, y.shape[1 + k] - hi) for k, (lo, hi) in enumerate(crops)))
    return np.ascontiguousarray(y[index])


def _s2b_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return [space_to_batch(xs[0], ctx.op.attrs["block"], ctx.op.attrs["pads"], 0.0)]


def _s2b_int(ctx: Ctx, xs: Arrays) -> Arrays:
    _, zero_point = ctx.out_quant()
    return [space_to_batch(xs[0], ctx.op.attrs["block"], ctx.op.attrs["pads"], zero_point)]


def _b2s(ctx: Ctx, xs: Arrays) -> Arrays:
    return [batch_to_space(xs[0], ctx.op.attrs["block"], ctx.op.attrs["crops"])]


SPACE_TO_BATCH_ND = register(OpDef(
    kind="SPACE_TO_BATCH_ND", shape=space_to_batch_shape, ref_float=_s2b_float, ref_int=_s2b_int,
    attrs=("block", "pads"), out_quant="same_as_input", doc="pad, then move spatial blocks into the batch",
))
BATCH_TO_SPACE_ND = register(OpDef(
    kind="BATCH_TO_SPACE_ND", shape=batch_to_space_shape, ref_float=_b2s, ref_int=_b2s,
    attrs=("block", "crops"), out_quant="same_as_input", doc="move the batch into spatial blocks, crop",
))
