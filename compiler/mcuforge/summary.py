"""Per-op and whole-model figures: shapes, parameters, MACs, weight bytes, activation sizes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from mcuforge.ir.graph import Graph, Op, Tensor
from mcuforge.ops.registry import lookup


@dataclass
class OpRow:
    name: str
    kind: str
    inputs: list[list[int]]
    outputs: list[list[int]]
    dtype: str
    params: int
    macs: int


@dataclass
class ModelSummary:
    source: str
    format: str
    inputs: dict[str, list[int]]
    outputs: dict[str, list[int]]
    ops: list[OpRow]
    params: int
    macs: int
    weight_bytes_int8: int
    largest_activation: str
    largest_activation_bytes: int

    def to_json(self) -> dict:
        return asdict(self)


def int8_weight_bytes(graph: Graph, op: Op) -> int:
    """Bytes of an op's constants once quantized: int8 weights, int32 biases (`OpDef.bias_input`)."""
    bias_input = lookup(op.kind).bias_input
    total = 0
    for i, name in enumerate(op.inputs):
        t = graph.tensors.get(name) if name else None
        if t is None or not t.is_const:
            continue
        if t.dtype == "float32":
            total += t.size * (4 if bias_input == i else 1)
        else:
            total += t.nbytes
    return total


def summarize(graph: Graph) -> ModelSummary:
    rows = []
    seen_consts: set[str] = set()
    weight_bytes = 0
    for op in graph.ops:
        ins = graph.op_inputs(op)
        outs = graph.op_outputs(op)
        in_shapes = [t.shape if t is not None else None for t in ins]
        macs = lookup(op.kind).macs(op, in_shapes, [t.shape for t in outs])
        consts = [t for t in ins if t is not None and t.is_const and t.name not in seen_consts]
        seen_consts.update(t.name for t in consts)
        weight_bytes += int8_weight_bytes(graph, op)
        rows.append(OpRow(
            name=op.name, kind=op.kind,
            inputs=[list(t.shape) for t in ins if t is not None and not t.is_const],
            outputs=[list(t.shape) for t in outs],
            dtype=outs[0].dtype if outs else "",
            params=sum(t.size for t in consts), macs=int(macs),
        ))
    largest = _largest_activation(graph)
    return ModelSummary(
        source=graph.source, format=graph.source_format,
        inputs={n: list(graph.tensors[n].shape) for n in graph.inputs},
        outputs={n: list(graph.tensors[n].shape) for n in graph.outputs},
        ops=rows, params=sum(r.params for r in rows), macs=sum(r.macs for r in rows),
        weight_bytes_int8=weight_bytes,
        largest_activation=largest.name if largest else "",
        largest_activation_bytes=_int8_bytes(largest) if largest else 0,
    )


def _int8_bytes(t: Tensor) -> int:
    return t.size * (1 if t.dtype == "float32" else np.dtype(t.dtype).itemsize)


def _largest_activation(graph: Graph) -> Tensor | None:
    acts = [graph.tensors[n] for n in graph.inputs] + [
        graph.tensors[n] for op in graph.ops for n in op.outputs
    ]
    return max(acts, key=_int8_bytes, default=None)
