"""Fuse decomposed activations of float graphs into one op: GELU (exact, the ONNX
`x*0.5*(1+erf(x/sqrt2))` of PyTorch's exporter, or its tanh form), SiLU (`x*Sigmoid(x)`),
HardSwish (`x*relu6(x+3)/6`) and Mish (`x*tanh(softplus(x))`).

A region is grown from a tensor x: elementwise ops whose inputs are x, tensors of the region or
scalar constants, whose intermediate results nobody else reads, and which end in one tensor of
x's shape. The pass does not match op sequences (exporters write these functions in many
orders): it evaluates the region on a grid of x values and keeps the first known function it
agrees with to 1e-5 (relative). In int8 the fused op is one table lookup, where the pieces
would each have lost precision to their own quantization.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.ir.graph import Graph, Op
from mcuforge.ops.clamp import CLAMP
from mcuforge.ops.div import DIV
from mcuforge.ops.elementwise import ADD, MUL, SUB
from mcuforge.ops.hard_swish import HARD_SWISH
from mcuforge.ops.logistic import LOGISTIC
from mcuforge.ops.minimum_maximum import MAXIMUM, MINIMUM
from mcuforge.ops.registry import Ctx, lookup
from mcuforge.ops.tanh import TANH
from mcuforge.ops.unary import ABS, ERF, EXP, GELU, HARD_SIGMOID, LOG, MISH, NEG, POW, SILU, SOFTPLUS

ELEMENTWISE = frozenset(op.kind for op in (ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, CLAMP, LOGISTIC, TANH,
                                           ERF, EXP, LOG, POW, ABS, NEG, HARD_SIGMOID, SOFTPLUS))
GRID = np.linspace(-8.0, 8.0, 161, dtype=np.float32)
# (op kind, attrs) -> reference on float64 values; tried in order
KNOWN: list[tuple[str, dict]] = [
    (GELU.kind, {"approximate": False}),
    (GELU.kind, {"approximate": True}),
    (SILU.kind, {}),
    (HARD_SWISH.kind, {}),
    (MISH.kind, {}),
]


def _scalar(graph: Graph, name: str) -> bool:
    t = graph.tensors[name]
    return t.is_const and t.data is not None and t.data.size == 1


def _region(graph: Graph, x: str, consumers: dict[str, list[Op]]) -> list[Op] | None:
    """The ops of the region grown from x, in graph order, when it ends in a single tensor."""
    inside: set[str] = {x}
    ops: list[Op] = []
    for op in graph.ops:
        if op.kind not in ELEMENTWISE or len(op.outputs) != 1:
            continue
        if op.attrs.get("activation", "NONE") != "NONE":
            continue
        runtime = [n for n in op.inputs if n and not _scalar(graph, n)]
        if not runtime or any(n not in inside for n in runtime) or any(
                n and graph.tensors[n].is_const and not _scalar(graph, n) for n in op.inputs):
            continue
        if graph.tensors[op.outputs[0]].shape != graph.tensors[x].shape:
            continue
        ops.append(op)
        inside.add(op.outputs[0])
    # Keep the part that feeds one final tensor: every other region tensor is read only inside.
    while ops:
        outs = [op.outputs[0] for op in ops]
        escaping = [n for n in outs if n in graph.outputs or any(c not in ops for c in consumers.get(n, []))]
        if len(escaping) == 1 and escaping[0] == outs[-1]:
            break
        ops.pop()
    return ops if len(ops) >= 2 and sum(x in op.inputs for op in ops) >= 2 else None


def _evaluate(graph: Graph, x: str, ops: list[Op], values: np.ndarray) -> np.ndarray:
    env = {x: values}
    for op in ops:
        ins = [env[n] if n in env else graph.tensors[n].data.reshape(()).astype(np.float32)
               for n in op.inputs]
        ctx = Ctx(op, [graph.tensors[n] for n in op.inputs], [graph.tensors[op.outputs[0]]])
        with np.errstate(all="ignore"):
            env[op.outputs[0]] = lookup(op.kind).ref_float(ctx, ins)[0]
    return env[ops[-1].outputs[0]].astype(np.float64)


def _known(kind: str, attrs: dict) -> Callable[[np.ndarray], np.ndarray]:
    op = Op(kind, "probe", ["x"], ["y"], attrs)
    return lambda v: lookup(kind).ref_float(Ctx(op, [None], []), [v])[0].astype(np.float64)


def fuse_unary_pattern(graph: Graph) -> Graph:
    if any(t.dtype != "float32" for t in graph.tensors.values() if not t.is_const):
        return graph
    consumers: dict[str, list[Op]] = {}
    for op in graph.ops:
        for n in op.inputs:
            consumers.setdefault(n, []).append(op)
    starts = list(graph.inputs) + [o for op in graph.ops for o in op.outputs]
    for x in starts:
        ops = _region(graph, x, consumers)
        if ops is None:
            continue
        got = _evaluate(graph, x, ops, GRID)
        for kind, attrs in KNOWN:
            want = _known(kind, attrs)(GRID)
            if np.all(np.abs(got - want) <= 1e-5 * np.maximum(1.0, np.abs(want))):
                fused = Op(kind, ops[-1].name, [x], [ops[-1].outputs[0]], dict(attrs))
                graph.ops[graph.ops.index(ops[-1])] = fused
                for op in ops[:-1]:
                    graph.ops.remove(op)
                graph.prune_unused_tensors()
                return fuse_unary_pattern(graph)
    return graph
