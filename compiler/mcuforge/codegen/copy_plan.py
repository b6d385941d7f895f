"""Data-movement ops as N-D strided copies for `mf_strided_copy_s8` (tflite-import area).

A copy moves `shape` elements: the one at index (i_0, ..., i_{r-1}) goes from input element
in_offset + sum i_k * in_stride[k] to output element out_offset + sum i_k * out_stride[k]
(element units; the input is the step's input `input`, the output its output `output`). Slices,
splits, gathers, tiles, broadcasts, mirror pads, and concatenations or transposes of rank above 4 all come
down to one or a few copies; `simplify` drops unit axes and merges axes that are contiguous on
both sides, so most copies have rank 1 to 3 and a long innermost memcpy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mcuforge.ops import data_movement
from mcuforge.ops.concatenation import CONCATENATION
from mcuforge.ops.pad import MIRROR_PAD
from mcuforge.ops.registry import Ctx
from mcuforge.ops.transpose import TRANSPOSE

MAX_RANK = 8  # MF_COPY_MAX_RANK in mf_nn.h

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Copy:
    input: int
    output: int
    in_offset: int
    out_offset: int
    shape: Shape
    in_stride: Shape
    out_stride: Shape

    def params(self) -> dict[str, object]:
        return {"input": self.input, "output": self.output, "in_offset": self.in_offset,
                "out_offset": self.out_offset, "rank": len(self.shape), "shape": list(self.shape),
                "input_stride": list(self.in_stride), "output_stride": list(self.out_stride)}


def dense_strides(shape: Shape) -> Shape:
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= int(d)
    return tuple(reversed(strides))


def simplify(shape: Shape, in_stride: Shape, out_stride: Shape) -> tuple[Shape, Shape, Shape]:
    """The same copy over fewer axes: unit axes dropped, neighbours merged where both sides
    step through them as one axis."""
    axes = [(int(d), int(i), int(o)) for d, i, o in zip(shape, in_stride, out_stride, strict=True) if d != 1]
    merged: list[tuple[int, int, int]] = []
    for d, i, o in axes:
        if merged:
            pd, pi, po = merged[-1]
            if pi == i * d and po == o * d:
                merged[-1] = (pd * d, i, o)
                continue
        merged.append((d, i, o))
    if not merged:
        merged = [(1, 1, 1)]
    return tuple(m[0] for m in merged), tuple(m[1] for m in merged), tuple(m[2] for m in merged)


def make_copy(input: int, output: int, in_offset: int, out_offset: int, shape: Shape,
              in_stride: Shape, out_stride: Shape) -> Copy:
    s, i, o = simplify(shape, in_stride, out_stride)
    return Copy(input, output, int(in_offset), int(out_offset), s, i, o)


# -- per op ---------------------------------------------------------------------------------------


def strided_slice(ctx: Ctx) -> list[Copy]:
    x = ctx.ins[0]
    assert x is not None
    a = ctx.op.attrs
    strides = dense_strides(x.shape)
    offset = sum(b * s for b, s in zip(a["begin"], strides, strict=True))
    in_stride = tuple(s * t for s, t in zip(strides, a["step"], strict=True))
    return [make_copy(0, 0, offset, 0, tuple(a["size"]), in_stride, dense_strides(tuple(a["size"])))]


def split(ctx: Ctx) -> list[Copy]:
    x = ctx.ins[0]
    assert x is not None
    axis = ctx.op.attrs["axis"] % len(x.shape)
    strides = dense_strides(x.shape)
    copies, start = [], 0
    for j, out in enumerate(ctx.outs):
        copies.append(make_copy(0, j, start * strides[axis], 0, out.shape, strides, dense_strides(out.shape)))
        start += out.shape[axis]
    return copies


def concatenation(ctx: Ctx) -> list[Copy]:
    out = ctx.outs[0].shape
    axis = ctx.op.attrs["axis"] % len(out)
    out_strides = dense_strides(out)
    copies, start = [], 0
    for j, t in enumerate(x for x in ctx.ins if x is not None):
        copies.append(make_copy(j, 0, 0, start * out_strides[axis], t.shape, dense_strides(t.shape),
                                out_strides))
        start += t.shape[axis]
    return copies


def transpose(ctx: Ctx) -> list[Copy]:
    x = ctx.ins[0]
    assert x is not None
    perm = [int(p) for p in ctx.op.attrs["perm"]]
    strides = dense_strides(x.shape)
    out = ctx.outs[0].shape
    return [make_copy(0, 0, 0, 0, out, tuple(strides[p] for p in perm), dense_strides(out))]


def tile(ctx: Ctx) -> list[Copy]:
    """Output axis k seen as (multiple m_k, input d_k): input strides (0, s_k)."""
    x = ctx.ins[0]
    assert x is not None
    reps = [int(m) for m in ctx.op.attrs["multiples"]]
    in_strides, out_strides = dense_strides(x.shape), dense_strides(ctx.outs[0].shape)
    shape, ins, outs = [], [], []
    for d, m, si, so in zip(x.shape, reps, in_strides, out_strides, strict=True):
        shape += [m, d]
        ins += [0, si]
        outs += [d * so, so]
    return [make_copy(0, 0, 0, 0, tuple(shape), tuple(ins), tuple(outs))]


def broadcast_to(ctx: Ctx) -> list[Copy]:
    x = ctx.ins[0]
    assert x is not None
    out = ctx.outs[0].shape
    padded = (1,) * (len(out) - len(x.shape)) + tuple(x.shape)
    strides = dense_strides(padded)
    in_stride = tuple(0 if d == 1 and o != 1 else s for d, o, s in zip(padded, out, strides, strict=True))
    return [make_copy(0, 0, 0, 0, out, in_stride, dense_strides(out))]


def gather(ctx: Ctx) -> list[Copy]:
    """One copy per run of consecutive indices."""
    x = ctx.ins[0]
    assert x is not None
    axis = ctx.op.attrs["axis"] % len(x.shape)
    idx = np.asarray(ctx.op.attrs["indices"], dtype=np.int64).reshape(-1)
    strides = dense_strides(x.shape)
    outer, inner = tuple(x.shape[:axis]), tuple(x.shape[axis + 1:])
    view = (*outer, len(idx), *inner)  # the output seen with the indices flattened
    out_strides = dense_strides(view)
    copies, j = [], 0
    while j < len(idx):
        run = 1
        while j + run < len(idx) and idx[j + run] == idx[j] + run:
            run += 1
        shape = (*outer, run, *inner)
        copies.append(make_copy(0, 0, int(idx[j]) * strides[axis], j * out_strides[axis], shape,
                                strides, out_strides))
        j += run
    return copies


def _mirror_segments(mode: str, d: int, lo: int, hi: int) -> list[tuple[int, int, int, int]]:
    """One axis of a MIRROR_PAD as (output start, length, input start, input step) segments: the
    before border, the input itself, the after border (ops/pad.py defines the modes)."""
    before = {"REFLECT": (lo, -1), "SYMMETRIC": (lo - 1, -1), "EDGE": (0, 0), "WRAP": (d - lo, 1)}[mode]
    after = {"REFLECT": (d - 2, -1), "SYMMETRIC": (d - 1, -1), "EDGE": (d - 1, 0), "WRAP": (0, 1)}[mode]
    segments = [(0, lo, *before), (lo, d, 0, 1), (lo + d, hi, *after)]
    return [s for s in segments if s[1] > 0]


def mirror_pad(ctx: Ctx) -> list[Copy]:
    """One copy per block of the padded output (up to 3 per padded axis, multiplied): each axis of
    a block reads the input forwards, backwards (a mirror) or not at all (an edge repeated)."""
    x = ctx.ins[0]
    assert x is not None
    mode = ctx.op.attrs["mode"]
    in_strides, out_strides = dense_strides(x.shape), dense_strides(ctx.outs[0].shape)
    axes = [_mirror_segments(mode, int(d), int(lo), int(hi))
            for d, (lo, hi) in zip(x.shape, ctx.op.attrs["pads"], strict=True)]
    copies = []
    for block in itertools.product(*axes):
        copies.append(make_copy(
            0, 0, sum(s[2] * st for s, st in zip(block, in_strides, strict=True)),
            sum(s[0] * st for s, st in zip(block, out_strides, strict=True)), tuple(s[1] for s in block),
            tuple(s[3] * st for s, st in zip(block, in_strides, strict=True)), out_strides))
    return copies


PLANNERS = {
    data_movement.STRIDED_SLICE.kind: strided_slice, data_movement.SPLIT.kind: split,
    CONCATENATION.kind: concatenation, TRANSPOSE.kind: transpose, data_movement.TILE.kind: tile,
    data_movement.BROADCAST_TO.kind: broadcast_to, data_movement.GATHER.kind: gather,
    MIRROR_PAD.kind: mirror_pad,
}


def copies_for(ctx: Ctx) -> list[Copy]:
    """The copies of a data-movement op; ValueError naming the op when a copy needs more axes
    than the kernel takes, or the input and output encodings differ (the kernel moves bytes)."""
    copies = PLANNERS[ctx.op.kind](ctx)
    deep = [c for c in copies if len(c.shape) > MAX_RANK]
    if deep:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': needs a copy over {len(deep[0].shape)} axes "
                         f"that cannot be merged ({deep[0].shape}); mf_strided_copy_s8 takes at most "
                         f"{MAX_RANK}")
    encodings = {t.scalar_quant() for t in [*ctx.ins, *ctx.outs] if t is not None and t.quant is not None}
    # stateful area: TFLite's REVERSE_V2 copies bytes whatever encodings the converter gave
    # (TFLite Micro does too); its converter marks the op so
    if len(encodings) > 1 and not ctx.op.attrs.get("copies_bytes"):
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': inputs and outputs have different quantization "
                         f"{sorted(encodings)}; the kernel only moves bytes")
    return copies


def run_copies(copies: list[Copy], inputs: list[np.ndarray], sizes: list[int]) -> list[np.ndarray]:
    """numpy model of the kernel (flat arrays): what the C will write, for tests."""
    outs = [np.zeros(n, dtype=inputs[0].dtype) for n in sizes]
    for c in copies:
        grids = np.meshgrid(*[np.arange(d) for d in c.shape], indexing="ij")
        src = c.in_offset + sum(g * s for g, s in zip(grids, c.in_stride, strict=True))
        dst = c.out_offset + sum(g * s for g, s in zip(grids, c.out_stride, strict=True))
        outs[c.output][np.asarray(dst).reshape(-1)] = inputs[c.input].reshape(-1)[np.asarray(src).reshape(-1)]
    return outs
