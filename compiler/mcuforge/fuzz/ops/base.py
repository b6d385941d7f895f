"""What an entry of the fuzzer's op table is (`OpGen`), and the helpers the entries share.

An entry says how to draw the op's parameters for given input shapes (`draw`, None when the op
does not apply), the output shape for parameters and inputs (`infer`, None when they no longer fit,
which the minimizer relies on), its weights in Keras's layout (`weights`), and how to build it in
each front end: `keras(k, params, xs, w)` with the `keras` module, `onnx(b, params, xs, w)` with
an `OnnxBuilder` (NCHW; `b.shape(x)` is the logical shape), `torch(F, params, xs, w)` inside a
module's forward (NCHW torch tensors; `params["_shape"]` is the first input's logical shape).

Adding an op (e.g. a new SLICE or RESIZE) is one `OpGen` in a module's `GENS` under
`mcuforge/fuzz/ops/`: write the four small functions, give it a weight (how often the generator
picks it), list the front ends that can express it, and run `mcuforge fuzz --count 50 --seed 1`
to see it compile. Shapes here are logical, without batch,
channels-last: (H, W, C), (T, F) or (F,); in ONNX and torch (C, H, W), (T, F) and (F,) after the batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mcuforge.fuzz.spec import Shape

Params = dict[str, Any]
Weights = dict[str, np.ndarray]
CHANNELS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17)
FRONTENDS = ("tflite", "keras", "onnx", "torch")  # what --frontend all rotates through
# chosen explicitly (--frontend qdq / torchscript): qdq is listed in the `frontends` of the ONNX
# ops it can express; torchscript draws torch's ops through DIALECT
EXTRA_FRONTENDS = ("qdq", "torchscript")
DIALECT = {"torchscript": "torch"}  # an extra front end -> the one whose ops and params it shares


def dialect(frontend: str) -> str:
    """The front end whose ops and parameters `frontend` draws (itself, or DIALECT's)."""
    return DIALECT.get(frontend, frontend)


@dataclass(frozen=True)
class OpGen:
    name: str
    arity: int
    draw: Callable[[np.random.Generator, Sequence[Shape], str], Params | None]
    infer: Callable[[Params, Sequence[Shape]], Shape | None]
    keras: Callable[..., Any]
    onnx: Callable[..., str]
    torch: Callable[..., Any]
    weights: Callable[[np.random.Generator, Params, Sequence[Shape]], Weights] = lambda r, p, s: {}
    weight: float = 1.0  # relative frequency
    torch_weights: Callable[[Weights], Weights] = lambda w: w  # Keras layout -> torch's (NCHW) layout
    frontends: frozenset[str] = field(default_factory=lambda: frozenset((*FRONTENDS, *EXTRA_FRONTENDS)))


# -- shape helpers ---------------------------------------------------------------------------------


def same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding (extra at the end) for one spatial axis."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def window_out(size: int, k: int, s: int, d: int, pad: str) -> int:
    if pad == "same":
        return -(-size // s)
    return (size - d * (k - 1) - 1) // s + 1


def spatial_pads(p: Params, shape: Shape) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a windowed op."""
    if p["pad"] != "same":
        return 0, 0, 0, 0
    t, b = same_pads(shape[0], p["k"], p["s"], p.get("d", 1))
    left, r = same_pads(shape[1], p["k"], p["s"], p.get("d", 1))
    return t, b, left, r


def rank3(shapes: Sequence[Shape]) -> bool:
    return len(shapes[0]) == 3


def window_infer(p: Params, shapes: Sequence[Shape], channels: int | None) -> Shape | None:
    if not rank3(shapes):
        return None
    h, w, c = shapes[0]
    oh, ow = (window_out(n, p["k"], p["s"], p.get("d", 1), p["pad"]) for n in (h, w))
    if oh < 1 or ow < 1:
        return None
    return (oh, ow, channels if channels is not None else c)


def draw_window(rng: np.random.Generator, shapes: Sequence[Shape], ks: Sequence[int],
                 dilate: bool) -> Params | None:
    if not rank3(shapes):
        return None
    s = int(rng.choice([1, 1, 2]))
    d = int(rng.choice([1, 2])) if dilate and s == 1 and rng.random() < 0.3 else 1
    return {"k": int(rng.choice(ks)), "s": s, "d": d, "pad": str(rng.choice(["same", "valid"]))}


def act_choice(rng: np.random.Generator) -> str:
    return str(rng.choice(["none", "none", "relu", "relu6"]))


def he(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) * math.sqrt(2.0 / max(fan_in, 1))).astype(np.float32)


def bias(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.standard_normal(n) * 0.1).astype(np.float32)


# -- Keras / ONNX / torch activation tails ----------------------------------------------------------


def keras_act(act: str) -> str | None:
    return {"none": None, "relu": "relu", "relu6": "relu6"}[act]


def onnx_act(b: Any, act: str, x: str) -> str:
    if act == "relu":
        return b.node("Relu", [x])
    if act == "relu6":
        return b.node("Clip", [x, b.const(np.float32(0.0)), b.const(np.float32(6.0))])
    return x


def torch_act(F: Any, act: str, x: Any) -> Any:
    if act == "relu":
        return F.relu(x)
    if act == "relu6":
        return F.relu6(x)
    return x


def torch_pad(F: Any, p: Params, shape: Shape, x: Any) -> Any:
    t, b, left, r = spatial_pads(p, shape)
    return F.pad(x, (left, r, t, b)) if (t, b, left, r) != (0, 0, 0, 0) else x

def any_params(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {}


def same_shape(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    return shapes[0]


def unary(name: str, keras: Callable[..., Any], onnx_op: str, torch: Callable[..., Any],
           weight: float = 0.6, **onnx_attrs: Any) -> OpGen:
    return OpGen(name, 1, any_params, same_shape, lambda k, p, xs, w: keras(k)(xs[0]),
                 lambda b, p, xs, w: b.node(onnx_op, [xs[0]], **onnx_attrs),
                 lambda F, p, xs, w: torch(F, xs[0]), weight=weight)


# -- layouts: logical (channels-last) axes vs the ONNX / torch layout (fuzz-math) ------------------


def onnx_axis(rank: int, axis: int) -> int:
    """The ONNX / torch axis (batch included) of logical `axis` of a rank-`rank` value: (H, W, C)
    is NCHW there, (T, F) and (F,) keep their order after the batch."""
    axis %= rank
    return (2, 3, 1)[axis] if rank == 3 else axis + 1


def to_logical_perm(rank: int) -> tuple[int, ...]:
    """Transpose perm from the ONNX / torch layout to logical order (batch first)."""
    return (0, 2, 3, 1) if rank == 3 else tuple(range(rank + 1))


def from_logical_perm(rank: int) -> tuple[int, ...]:
    """Transpose perm from logical order (batch first) to the ONNX / torch layout."""
    return (0, 3, 1, 2) if rank == 3 else tuple(range(rank + 1))


# -- binary ops ------------------------------------------------------------------------------------


def broadcastable(a: Shape, b: Shape) -> bool:
    """Equal shapes, or (H, W, C) against (1, 1, C) either way: what every front end broadcasts."""
    if a == b:
        return True
    return len(a) == len(b) == 3 and a[2] == b[2] and (b[:2] == (1, 1) or a[:2] == (1, 1))


def binary_draw(rng: np.random.Generator, shapes: Sequence[Shape], fe: str) -> Params | None:
    return {} if broadcastable(shapes[0], shapes[1]) else None


def binary_infer(p: Params, shapes: Sequence[Shape]) -> Shape | None:
    a, b = shapes
    if not broadcastable(a, b):
        return None
    return a if math.prod(a) >= math.prod(b) else b
