"""Fold BATCH_NORM into the convolution or dense layer before it (an op with
`OpDef.folds_batch_norm`: weights scaled along their output-channel axis `weight_axes[1]`, bias
at `bias_input`); a BATCH_NORM with no such producer becomes a per-channel MUL and ADD with
constant operands."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Graph, Op, Tensor
from mcuforge.ops.batch_norm import BATCH_NORM
from mcuforge.ops.elementwise import ADD, MUL
from mcuforge.ops.registry import lookup
from mcuforge.passes.rewrite import sole_consumer


def _bn_affine(graph: Graph, bn: Op) -> tuple[np.ndarray, np.ndarray]:
    scale, bias, mean, var = (graph.tensors[n].data for n in bn.inputs[1:])
    assert scale is not None and bias is not None and mean is not None and var is not None
    mul = scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + bn.attrs["epsilon"])
    add = bias.astype(np.float64) - mean.astype(np.float64) * mul
    return mul, add


def _fold_into(graph: Graph, producer: Op, bn: Op) -> None:
    mul, add = _bn_affine(graph, bn)
    w = graph.tensors[producer.inputs[1]]
    assert w.data is not None
    shape = [1] * w.data.ndim
    shape[lookup(producer.kind).weight_axes[1]] = -1
    new_w = (w.data.astype(np.float64) * mul.reshape(shape)).astype(np.float32)
    at = lookup(producer.kind).bias_input
    assert at is not None
    has_bias = len(producer.inputs) > at and producer.inputs[at]
    old_b = graph.tensors[producer.inputs[at]].data if has_bias else 0.0
    new_b = (np.asarray(old_b, np.float64) * mul + add).astype(np.float32)
    w_name = graph.add_const(f"{w.name}_bn", new_w)
    b_name = graph.add_const(f"{producer.name}_bias_bn", new_b)
    producer.inputs = [producer.inputs[0], w_name, b_name]
    producer.outputs = [bn.outputs[0]]
    graph.ops.remove(bn)


def _to_mul_add(graph: Graph, bn: Op) -> None:
    mul, add = _bn_affine(graph, bn)
    x = bn.inputs[0]
    out = graph.tensors[bn.outputs[0]]
    mid = graph.add_tensor(Tensor(graph.unique_name(f"{bn.name}_scaled"), out.shape, out.dtype)).name
    m = graph.add_const(f"{bn.name}_mul", mul.astype(np.float32))
    a = graph.add_const(f"{bn.name}_add", add.astype(np.float32))
    i = graph.ops.index(bn)
    graph.ops[i:i + 1] = [
        Op(MUL.kind, f"{bn.name}_mul", [x, m], [mid], {"activation": "NONE"}),
        Op(ADD.kind, f"{bn.name}_add", [mid, a], [bn.outputs[0]], {"activation": "NONE"}),
    ]


def fold_batch_norm(graph: Graph) -> Graph:
    producers = graph.producers()
    for bn in [op for op in graph.ops if op.kind == BATCH_NORM.kind]:
        if any(not graph.tensors[n].is_const for n in bn.inputs[1:]):
            continue
        prod = producers.get(bn.inputs[0])
        if (prod is not None and lookup(prod.kind).folds_batch_norm and prod.attrs["activation"] == "NONE"
                and graph.tensors[prod.inputs[1]].is_const and sole_consumer(graph, bn.inputs[0]) is bn):
            _fold_into(graph, prod, bn)
        else:
            _to_mul_add(graph, bn)
    graph.prune_unused_tensors()
    return graph
