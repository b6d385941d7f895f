"""Run a graph op by op in numpy.

Each op runs its float reference when its first input is float and its integer reference
otherwise, so float graphs, int8 graphs and graphs with QUANTIZE/DEQUANTIZE at the edges all run
through the same loop.

Stateful ops (SVDF, TFLite's LSTM: `OpDef.state`) keep buffers from one call to the next, as
TFLite Micro keeps a model's variable tensors: pass the same `State` (from `new_state`) to
consecutive `run` calls to carry them over; without one, every call starts from the reset
values (a freshly reset interpreter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph
from mcuforge.ops.registry import Ctx, lookup, state_buffers

# an op's first output name (unique in a graph) -> role -> persistent buffer
State = dict[str, dict[str, np.ndarray]]


def new_state(graph: Graph) -> State:
    """The reset values of every stateful op's buffers ({} for a stateless graph)."""
    state: State = {}
    for op in graph.ops:
        buffers = state_buffers(op, [graph.tensors[n].shape if n else None for n in op.inputs])
        if buffers:
            state[op.outputs[0]] = {b.role: b.initial() for b in buffers}
    return state


def is_stateful(graph: Graph) -> bool:
    return bool(new_state(graph))


def run(
    graph: Graph, feeds: Mapping[str, np.ndarray], keep_all: bool = False, state: State | None = None,
    snap: Callable[[str, np.ndarray], np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Outputs by tensor name for one sample `feeds` (IR layout, shapes exactly as the graph's
    inputs); every tensor's value with keep_all. `state`: stateful ops' buffers, updated in
    place (see the module doc). `snap(name, value)`, if given, replaces each input and op output
    as it is computed (e.g. rounding a float graph's tensors to an int8 grid)."""
    values: dict[str, np.ndarray] = {}
    for name in graph.inputs:
        if name not in feeds:
            raise MfError(f"no value given for model input '{name}'")
        t = graph.tensors[name]
        x = np.asarray(feeds[name])
        if x.dtype != np.dtype(t.dtype):
            raise MfError(f"input '{name}' must be {t.dtype}, got {x.dtype}")
        if tuple(x.shape) != tuple(t.shape):
            raise MfError(f"input '{name}' must have shape {t.shape}, got {x.shape}")
        values[name] = snap(name, x) if snap else x
    last_use = {n: i for i, op in enumerate(graph.ops) for n in op.inputs if n}
    for i, op in enumerate(graph.ops):
        ctx = Ctx.of(graph, op)
        if state is not None and lookup(op.kind).state is not None:
            ins = [graph.tensors[n].shape if n else None for n in op.inputs]
            ctx.state = state.setdefault(op.outputs[0], {b.role: b.initial() for b in state_buffers(op, ins)})
        xs = [_value(graph, values, n) for n in op.inputs]
        opdef = lookup(op.kind)
        first = ctx.ins[0]
        is_float = first is None or first.dtype == "float32"
        impl = opdef.ref_float if is_float else opdef.ref_int
        if impl is None:
            raise MfError(f"{op.kind} '{op.name}': no integer reference for {first.dtype} inputs")
        outs = impl(ctx, xs)
        for name, y in zip(op.outputs, outs):
            values[name] = snap(name, y) if snap else y
        if not keep_all:
            for n in op.inputs:
                if n and last_use.get(n) == i and n not in graph.outputs and n in values:
                    del values[n]
    if keep_all:
        return values
    return {n: values[n] for n in graph.outputs}


def _value(graph: Graph, values: dict[str, np.ndarray], name: str) -> np.ndarray:
    if not name:
        return None  # type: ignore[return-value]  # omitted optional input
    if name in values:
        return values[name]
    data = graph.tensors[name].data
    assert data is not None, f"tensor '{name}' has no value"
    return data


def run_batch(graph: Graph, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run sample by sample over the leading axis of every feed (N, *input shape without batch);
    stateful ops carry their state from one sample to the next (consecutive calls)."""
    counts = {len(v) for v in feeds.values()}
    if len(counts) != 1:
        raise MfError(f"inputs have different sample counts: {sorted(counts)}")
    results: dict[str, list[np.ndarray]] = {n: [] for n in graph.outputs}
    state = new_state(graph)
    for i in range(counts.pop()):
        sample = {n: v[i].reshape(graph.tensors[n].shape) for n, v in feeds.items()}
        for n, y in run(graph, sample, state=state).items():
            results[n].append(y.reshape(y.shape[1:]) if y.shape[:1] == (1,) else y)
    return {n: np.stack(ys) for n, ys in results.items()}
