"""Drawing a random valid `ModelSpec` from the op table, and the graph edits the minimizer uses.

Everything a model needs comes from one seed, `model_seed(S, index)`, so model `index` of a run
with seed S can be regenerated alone. Weights come from `(seed, node index)` so removing a node
while minimizing leaves every other node's weights unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mcuforge.fuzz.ops import OPS, Weights, dialect
from mcuforge.fuzz.spec import ModelSpec, Node, Shape

MAX_ELEMENTS = 4096  # per tensor: keeps models small and runs fast
MAX_NODES = 8
SELF_ZERO = frozenset({"sub", "squared_difference"})  # binary ops that are 0 on (x, x)
SEQ_FEATURES = (3, 4, 5, 7, 8, 9, 15, 16, 17)  # F of a (T, F) sequence input, around the 4/8/16 edges


def model_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def shapes_of(spec: ModelSpec) -> list[Shape] | None:
    """Every value's logical shape, or None if some node no longer fits its inputs."""
    shapes: list[Shape] = [spec.input_shape]
    for i, n in enumerate(spec.nodes):
        if n.op not in OPS or any(j > i for j in n.inputs) or len(n.inputs) != OPS[n.op].arity:
            return None
        out = OPS[n.op].infer(n.params, [shapes[j] for j in n.inputs])
        if out is None or min(out) < 1 or math.prod(out) > MAX_ELEMENTS:
            return None
        shapes.append(tuple(int(d) for d in out))
    return shapes


def generate(seed: int, frontend: str) -> ModelSpec:
    """A random model for `frontend` (ops it cannot express are never drawn; an extra front end
    draws the ops of its dialect, e.g. torchscript those of torch)."""
    frontend = dialect(frontend)
    rng = np.random.default_rng(seed)
    kind = rng.random()
    if kind < 0.72:  # a feature map (H, W, C)
        side = (int(rng.integers(3, 13)), int(rng.integers(3, 13)))
        input_shape: Shape = (*side, int(rng.choice([1, 2, 3, 4, 5, 8, 16])))
    elif kind < 0.87:  # a sequence (T, F): (N, T, F) in every front end, never transposed
        input_shape = (int(rng.integers(2, 17)), int(rng.choice(SEQ_FEATURES)))
    else:  # a vector (F,)
        input_shape = (int(rng.choice([3, 4, 7, 8, 10, 16, 17, 32])),)
    batch = "free" if rng.random() < 0.5 else "fixed"
    target = int(rng.integers(1, MAX_NODES + 1))
    names = [n for n, g in OPS.items() if frontend in g.frontends]
    weights = np.array([OPS[n].weight for n in names])
    nodes: list[Node] = []
    shapes: list[Shape] = [input_shape]
    for _ in range(target * 4):
        if len(nodes) >= target:
            break
        name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        gen = OPS[name]
        first = len(shapes) - 1 if rng.random() < 0.75 else int(rng.integers(len(shapes)))
        picks = [first]
        if gen.arity == 2:
            cands = [j for j in range(len(shapes)) if not (name in SELF_ZERO and j == first)
                     and gen.draw(rng, [shapes[first], shapes[j]], frontend) is not None]
            if not cands:
                continue
            second = cands[int(rng.integers(len(cands)))]
            picks = [first, second] if rng.random() < 0.5 else [second, first]
        params = gen.draw(rng, [shapes[j] for j in picks], frontend)
        if params is None:
            continue
        out = gen.infer(params, [shapes[j] for j in picks])
        if out is None or min(out) < 1 or math.prod(out) > MAX_ELEMENTS:
            continue
        nodes.append(Node(name, tuple(picks), params))
        shapes.append(out)
    if not nodes:  # always at least one op
        nodes.append(Node("relu", (0,), {}))
    return prune(ModelSpec(seed, input_shape, nodes, batch))


def prune(spec: ModelSpec) -> ModelSpec:
    """Drop nodes the output does not depend on; renumber the values."""
    live = {spec.output}
    for i in range(len(spec.nodes) - 1, -1, -1):
        if i + 1 in live:
            live.update(spec.nodes[i].inputs)
    kept = [i for i in range(len(spec.nodes)) if i + 1 in live]
    new_index = {0: 0, **{i + 1: k + 1 for k, i in enumerate(kept)}}
    nodes = [Node(spec.nodes[i].op, tuple(new_index[j] for j in spec.nodes[i].inputs),
                  {**spec.nodes[i].params, "_w": spec.nodes[i].params.get("_w", i)}) for i in kept]
    return ModelSpec(spec.seed, spec.input_shape, nodes, spec.batch)


def remove_nodes(spec: ModelSpec, drop: Sequence[int]) -> ModelSpec | None:
    """`spec` without the nodes in `drop`: their consumers read their first input instead. None if
    the result is not a valid model (a shape no longer fits, or nothing is left)."""
    dropped = set(drop)
    if len(dropped) >= len(spec.nodes):
        return None
    redirect: dict[int, int] = {0: 0}
    nodes: list[Node] = []
    for i, n in enumerate(spec.nodes):
        ins = tuple(redirect[j] for j in n.inputs)
        if i in dropped:
            redirect[i + 1] = ins[0]
        else:
            nodes.append(Node(n.op, ins, n.params))
            redirect[i + 1] = len(nodes)
    if redirect[len(spec.nodes)] != len(nodes):  # the output itself was dropped: keep the last node
        return None
    out = prune(ModelSpec(spec.seed, spec.input_shape, nodes, spec.batch))
    return out if out.nodes and shapes_of(out) is not None else None


def node_weights(spec: ModelSpec, shapes: Sequence[Shape]) -> list[Weights]:
    """Weights per node (Keras layout), drawn from (seed, the node's original index)."""
    out = []
    for n in spec.nodes:
        rng = np.random.default_rng([spec.seed, int(n.params.get("_w", 0))])
        out.append(OPS[n.op].weights(rng, n.params, [shapes[j] for j in n.inputs]))
    return out
