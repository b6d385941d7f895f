"""The fuzzer's data-movement ops: resize (nearest, bilinear), depth-to-space and space-to-depth,
slices and crops, splits into branches, transposes, and mirrored or edge padding (tf.pad
REFLECT/SYMMETRIC, ONNX Pad reflect/edge, torch reflect/replicate).

Keras has no layer for a block move, a strided slice or a split: the tflite front end builds
them with a `Lambda` over TensorFlow ops (what such a user writes), which TF's converter turns
into DEPTH_TO_SPACE, STRIDED_SLICE, SPLIT...; the keras front end leaves those out, because a
.keras file with a Lambda does not load in Keras's safe mode. ONNX's Resize is written with the
coordinate modes exporters write (torch: asymmetric + floor for nearest, pytorch_half_pixel or
align_corners for bilinear; tf2onnx: half_pixel, tf_half_pixel_for_nn), a non-integer target
size through `sizes` (onnxruntime then uses out / in, as TFLite does). Keras 3's nearest
UpSampling2D becomes TILE, which neither TFLite Micro's interpreter nor TFLite's BUILTIN_REF
kernels run (and TFLite's optimized TRANSPOSE_CONV is off by one from the reference, so the
builtin kernels are no oracle either): the tflite front end writes a whole-factor nearest
upsampling as `Resizing`; the keras front end keeps UpSampling2D.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mcuforge.fuzz.ops.base import OpGen, Params, Weights, rank3
from mcuforge.fuzz.spec import Shape

NCHW_AXIS = {3: (2, 3, 1), 1: (1,), 2: (1, 2)}  # logical axis -> axis of the ONNX / torch tensor


def _tf() -> Any:
    import tensorflow as tf

    return tf


def _nchw_axis(rank: int, axis: int) -> int:
    return NCHW_AXIS[rank][axis]


# -- resize -----------------------------------------------------------------------------------------

ONNX_NEAREST = (("asymmetric", "floor"), ("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"),
                ("pytorch_half_pixel", "round_prefer_floor"), ("tf_half_pixel_for_nn", "round_prefer_ceil"),
                ("align_corners", "round_prefer_ceil"), ("asymmetric", "round_prefer_floor"))
ONNX_LINEAR = ("pytorch_half_pixel", "pytorch_half_pixel", "align_corners", "half_pixel", "asymmetric")
TORCH_MODES = {"nearest": ("nearest",),  # nearest-exact: torch.onnx.export (opset 17) refuses it
               "bilinear": ("half_pixel", "align_corners")}
FACTORS = ((2, 2), (2, 2), (2, 1), (1, 2), (3, 3), (2, 3))


def _resize_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    h, w, _ = shapes[0]
    mode = str(rng.choice(["nearest", "bilinear"]))
    p: Params = {"mode": mode}
    if rng.random() < 0.65:
        p["factor"] = [int(v) for v in FACTORS[int(rng.integers(len(FACTORS)))]]
        if fe == "tflite" and mode == "nearest":  # as Resizing: UpSampling2D's TILE has no oracle
            fh, fw = p.pop("factor")
            p["size"] = [h * fh, w * fw]
    else:  # a target size that is no whole multiple (up or down)
        size = [int(rng.integers(max(1, n // 2), 2 * n + 2)) for n in (h, w)]
        if size == [h, w]:
            size[0] += 1
        p["size"] = size
    if fe in ("onnx", "qdq"):
        if mode == "nearest":
            p["coord"], p["nearest"] = ONNX_NEAREST[int(rng.integers(len(ONNX_NEAREST)))]
        else:
            p["coord"] = str(rng.choice(ONNX_LINEAR))
    elif fe == "torch":
        p["coord"] = str(rng.choice(TORCH_MODES[mode]))
    return p


def _resize_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes):
        return None
    h, w, c = shapes[0]
    if "factor" in p:
        return h * p["factor"][0], w * p["factor"][1], c
    return p["size"][0], p["size"][1], c


def _resize_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    if "factor" in p:
        return k.layers.UpSampling2D(tuple(p["factor"]), interpolation=p["mode"])(xs[0])
    return k.layers.Resizing(p["size"][0], p["size"][1], interpolation=p["mode"])(xs[0])


def _resize_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    c = b.shape(xs[0])[2]
    attrs: dict[str, Any] = {"mode": "nearest" if p["mode"] == "nearest" else "linear",
                             "coordinate_transformation_mode": p.get("coord", "half_pixel")}
    if p["mode"] == "nearest":
        attrs["nearest_mode"] = p.get("nearest", "round_prefer_floor")
    if "factor" in p:
        scales = b.const(np.array([1, 1, *p["factor"]], np.float32))
        return b.node("Resize", [xs[0], "", scales], **attrs)
    sizes = b.const(np.array([1, c, *p["size"]], np.int64))
    return b.node("Resize", [xs[0], "", "", sizes], **attrs)


def _resize_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    target: dict[str, Any] = ({"scale_factor": tuple(float(f) for f in p["factor"])} if "factor" in p
                              else {"size": tuple(p["size"])})
    if p["mode"] == "nearest":
        return F.interpolate(xs[0], mode=p["coord"], **target)
    return F.interpolate(xs[0], mode="bilinear", align_corners=p["coord"] == "align_corners", **target)


# -- depth to space, space to depth ----------------------------------------------------------------


def _d2s_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    blocks = [bs for bs in (2, 2, 3) if shapes[0][2] % (bs * bs) == 0]
    if not blocks:
        return None
    mode = {"tflite": "DCR", "torch": "CRD"}.get(fe) or str(rng.choice(["DCR", "CRD"]))
    return {"bs": int(rng.choice(blocks)), "mode": mode}


def _d2s_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes) or shapes[0][2] % (p["bs"] ** 2):
        return None
    h, w, c = shapes[0]
    return h * p["bs"], w * p["bs"], c // p["bs"] ** 2


def _s2d_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    blocks = [bs for bs in (2, 2, 3) if shapes[0][0] % bs == 0 and shapes[0][1] % bs == 0]
    return {"bs": int(rng.choice(blocks))} if blocks else None


def _s2d_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes) or shapes[0][0] % p["bs"] or shapes[0][1] % p["bs"]:
        return None
    h, w, c = shapes[0]
    return h // p["bs"], w // p["bs"], c * p["bs"] ** 2


# -- slice ------------------------------------------------------------------------------------------


def _slice_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    crop_only = fe == "keras"  # Cropping2D; the others may step and cut channels
    p: Params = {}
    for axis, n in zip("hwc", shapes[0], strict=True):
        a, b, s = 0, n, 1
        if axis != "c" or (not crop_only and n > 1 and rng.random() < 0.3):
            if n > 1 and rng.random() < 0.8:
                a = int(rng.integers(0, n - 1)) if rng.random() < 0.7 else 0
                b = int(rng.integers(a + 1, n + 1))
            if not crop_only and axis != "c" and rng.random() < 0.3:
                s = int(rng.choice([2, 2, 3]))
        p[axis] = [a, b, s]
    if all(p[a] == [0, n, 1] for a, n in zip("hwc", shapes[0], strict=True)):
        if shapes[0][0] == 1:
            return None
        p["h"] = [1, shapes[0][0], 1]
    p["open_end"] = bool(rng.random() < 0.3)  # an end past the axis (torch writes INT64_MAX for x[a:])
    return p


def _slice_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes):
        return None
    out = []
    for axis, n in zip("hwc", shapes[0], strict=True):
        a, b, s = p[axis]
        if b > n:
            return None
        out.append(len(range(a, b, s)))
    return tuple(out)


def _slice_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    _, h, wd, c = xs[0].shape
    if p["c"] == [0, c, 1] and p["h"][2] == p["w"][2] == 1:
        crop = ((p["h"][0], h - p["h"][1]), (p["w"][0], wd - p["w"][1]))
        return k.layers.Cropping2D(crop)(xs[0])
    (h0, h1, hs), (w0, w1, ws), (c0, c1, cs) = p["h"], p["w"], p["c"]
    return k.layers.Lambda(lambda t: t[:, h0:h1:hs, w0:w1:ws, c0:c1:cs])(xs[0])


def _slice_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    shape = b.shape(xs[0])
    starts, ends, axes, steps = [], [], [], []
    for i, (axis, n) in enumerate(zip("hwc", shape, strict=True)):
        a, e, s = p[axis]
        if [a, e, s] != [0, n, 1]:
            starts.append(a)
            ends.append(2**63 - 1 if p["open_end"] and e == n else e)
            axes.append(_nchw_axis(3, i))
            steps.append(s)
    consts = [b.const(np.array(v, np.int64)) for v in (starts, ends, axes, steps)]
    return b.node("Slice", [xs[0], *consts])


def _slice_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    (h0, h1, hs), (w0, w1, ws), (c0, c1, cs) = p["h"], p["w"], p["c"]
    return xs[0][:, c0:c1:cs, h0:h1:hs, w0:w1:ws]


# -- split into branches ---------------------------------------------------------------------------


def _split_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    s = shapes[0]
    if len(s) not in (1, 3):
        return None
    axes = [a for a in range(len(s)) if s[a] >= 2]
    if not axes:
        return None
    axis = int(rng.choice(axes))
    n = s[axis]
    parts = int(rng.choice([m for m in (2, 2, 3, 4) if m <= n]))
    if n % parts == 0 and rng.random() < 0.6:
        sizes = [n // parts] * parts
    else:
        cuts = sorted(int(v) for v in rng.choice(np.arange(1, n), parts - 1, replace=False))
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    use = ["pick", "pick", "swap"] + (["sum"] if len(set(sizes)) == 1 else [])
    p: Params = {"axis": axis, "sizes": sizes, "use": str(rng.choice(use))}
    p["pick"] = int(rng.integers(parts))
    return p


def _split_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    s = shapes[0]
    if len(s) not in (1, 3) or p["axis"] >= len(s) or sum(p["sizes"]) != s[p["axis"]]:
        return None
    out = list(s)
    if p["use"] == "pick":
        out[p["axis"]] = p["sizes"][p["pick"]]
    elif p["use"] == "sum":
        out[p["axis"]] = p["sizes"][0]
    return tuple(out)


def _combine(p: Params, pieces: list, add: Any, cat: Any) -> Any:
    if p["use"] == "pick":
        return pieces[p["pick"]]
    if p["use"] == "sum":
        y = pieces[0]
        for piece in pieces[1:]:
            y = add(y, piece)
        return y
    return cat(pieces[::-1])  # the pieces in reverse order: every output is used


def _split_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    axis = p["axis"] + 1

    def fn(t: Any) -> Any:
        tf = _tf()
        return _combine(p, tf.split(t, p["sizes"], axis=axis), tf.add, lambda v: tf.concat(v, axis))

    return k.layers.Lambda(fn)(xs[0])


def _split_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    from onnx import helper

    axis = _nchw_axis(len(b.shape(xs[0])), p["axis"])
    outs = [f"v{len(b.nodes)}_split{i}" for i in range(len(p["sizes"]))]
    b.nodes.append(helper.make_node("Split", [xs[0], b.const(np.array(p["sizes"], np.int64))], outs,
                                    name=f"n{len(b.nodes)}_Split", axis=axis))
    return _combine(p, outs, lambda a, c: b.node("Add", [a, c]), lambda v: b.node("Concat", v, axis=axis))


def _split_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    import torch

    axis = _nchw_axis(xs[0].dim() - 1, p["axis"])
    sizes = p["sizes"]
    pieces = (torch.chunk(xs[0], len(sizes), axis) if len(set(sizes)) == 1
              else torch.split(xs[0], sizes, axis))
    return _combine(p, list(pieces), lambda a, c: a + c, lambda v: torch.cat(v, axis))


# -- transpose --------------------------------------------------------------------------------------

PERMS = {3: ((1, 0, 2), (0, 2, 1), (2, 1, 0), (1, 2, 0), (2, 0, 1)), 2: ((1, 0),)}


def _transpose_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    perms = PERMS.get(len(shapes[0]))
    return {"perm": list(perms[int(rng.integers(len(perms)))])} if perms else None


def _transpose_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    s = shapes[0]
    if len(s) != len(p["perm"]):
        return None
    return tuple(s[q] for q in p["perm"])


def _torch_perm(perm: Sequence[int]) -> list[int]:
    """The perm of the (N, C, H, W) (or (N, T, F)) tensor for a perm of the logical axes."""
    if len(perm) == 2:
        return [0, *(q + 1 for q in perm)]
    out = [perm[2], perm[0], perm[1]]  # NCHW holds the logical axes (2, 0, 1)
    return [0, *(_nchw_axis(3, q) for q in out)]


# -- mirrored and edge padding (constant padding is core.py's "pad") -------------------------------

# mode -> (TF's tf.pad mode, ONNX Pad mode, torch F.pad mode); None where that front end has none
PAD_MODES = {"reflect": ("REFLECT", "reflect", "reflect"), "symmetric": ("SYMMETRIC", None, None),
             "edge": (None, "edge", "replicate")}
PAD_LIMIT = {"reflect": lambda n: min(3, n - 1), "symmetric": lambda n: min(3, n), "edge": lambda n: 3}


def _pad_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    if not rank3(shapes):
        return None
    column = {"tflite": 0, "onnx": 1, "qdq": 1, "torch": 2}[fe]
    mode = str(rng.choice([m for m, v in PAD_MODES.items() if v[column] is not None]))
    p: Params = {"mode": mode}
    for axis, n in zip("hw", shapes[0][:2], strict=True):
        limit = PAD_LIMIT[mode](n)
        p[axis] = [int(rng.integers(0, limit + 1)), int(rng.integers(0, limit + 1))]
    if p["h"] == p["w"] == [0, 0]:
        return None
    return p


def _pad_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    if not rank3(shapes):
        return None
    h, w, c = shapes[0]
    return h + sum(p["h"]), w + sum(p["w"]), c


def _pad_keras(k: Any, p: Params, xs: list, w: Weights) -> Any:
    pads = [[0, 0], p["h"], p["w"], [0, 0]]
    return k.layers.Lambda(lambda t: _tf().pad(t, pads, mode=PAD_MODES[p["mode"]][0]))(xs[0])


def _pad_onnx(b: Any, p: Params, xs: list[str], w: Weights) -> str:
    (h0, h1), (w0, w1) = p["h"], p["w"]
    pads = b.const(np.array([0, 0, h0, w0, 0, 0, h1, w1], np.int64))  # NCHW begins, then ends
    return b.node("Pad", [xs[0], pads], mode=PAD_MODES[p["mode"]][1])


def _pad_torch(F: Any, p: Params, xs: list, w: dict) -> Any:
    (h0, h1), (w0, w1) = p["h"], p["w"]
    return F.pad(xs[0], (w0, w1, h0, h1), mode=PAD_MODES[p["mode"]][2])


GENS: tuple[OpGen, ...] = (
    OpGen("mirror_pad", 1, _pad_draw, _pad_infer, _pad_keras, _pad_onnx, _pad_torch, weight=0.8,
          frontends=frozenset(("tflite", "onnx", "torch", "qdq"))),  # Keras 3 has no mirror-pad layer
    OpGen("resize", 1, _resize_draw, _resize_infer, _resize_keras, _resize_onnx, _resize_torch, weight=2.4),
    OpGen("depth_to_space", 1, _d2s_draw, _d2s_infer,
          lambda k, p, xs, w: k.layers.Lambda(lambda t: _tf().nn.depth_to_space(t, p["bs"]))(xs[0]),
          lambda b, p, xs, w: b.node("DepthToSpace", [xs[0]], blocksize=p["bs"], mode=p["mode"]),
          lambda F, p, xs, w: F.pixel_shuffle(xs[0], p["bs"]), weight=1.5,
          frontends=frozenset(("tflite", "onnx", "torch", "qdq"))),
    OpGen("space_to_depth", 1, _s2d_draw, _s2d_infer,
          lambda k, p, xs, w: k.layers.Lambda(lambda t: _tf().nn.space_to_depth(t, p["bs"]))(xs[0]),
          lambda b, p, xs, w: b.node("SpaceToDepth", [xs[0]], blocksize=p["bs"]),
          lambda F, p, xs, w: F.pixel_unshuffle(xs[0], p["bs"]), weight=1.5,
          frontends=frozenset(("tflite", "onnx", "torch", "qdq"))),
    OpGen("slice", 1, _slice_draw, _slice_infer, _slice_keras, _slice_onnx, _slice_torch, weight=1.6),
    OpGen("split", 1, _split_draw, _split_infer, _split_keras, _split_onnx, _split_torch, weight=1.6,
          frontends=frozenset(("tflite", "onnx", "torch", "qdq"))),
    OpGen("transpose", 1, _transpose_draw, _transpose_infer,
          lambda k, p, xs, w: k.layers.Permute(tuple(q + 1 for q in p["perm"]))(xs[0]),
          lambda b, p, xs, w: b.node("Transpose", [xs[0]], perm=_torch_perm(p["perm"])),
          lambda F, p, xs, w: xs[0].permute(*_torch_perm(p["perm"])), weight=1.2),
)
