"""Recognize layer normalization written out in primitive ONNX ops and make it one
LayerNormalization node (opset-17 semantics), before conversion.

PyTorch exports nn.LayerNorm at opsets below 17 (and hand-written layer norms look the same) as
    m = ReduceMean(x, last axis, keepdims);  d = Sub(x, m);  v = ReduceMean(Pow(d, 2) or Mul(d, d))
    y = Div(d, Sqrt(Add(v, eps)))  [ Mul(y, gamma) ]  [ Add(y, beta) ]
Quantizing those ops one by one in int8 loses too much (the variance of a few int8 steps); the
fused op (ops/layer_norm.py) keeps it in integer arithmetic. Only exact matches are rewritten:
every intermediate has no other reader, the axes are the last one, gamma/beta are constants.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import NodeProto, helper, numpy_helper

Shape = tuple[int, ...]


def _constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Identity" and node.input[0] in consts:  # shared weights (ln2.weight)
            consts[node.output[0]] = consts[node.input[0]]
    return consts


def _attr(node: NodeProto, name: str, default: object = None) -> object:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def fuse_layer_norm(model: onnx.ModelProto, shapes: Mapping[str, Shape]) -> int:
    """Rewrite every decomposed layer norm over the last axis; returns how many."""
    consts = _constants(model)
    shapes = dict(shapes)
    for vi in model.graph.input:  # graph inputs: their declared shapes (a free batch counts as 1)
        dims = vi.type.tensor_type.shape.dim
        shapes.setdefault(vi.name, tuple(d.dim_value or 1 for d in dims))
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    readers: dict[str, list[NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    outputs = {o.name for o in model.graph.output}

    def only(name: str, op: str) -> NodeProto | None:
        """The single reader of `name` if it is an `op` and `name` is no graph output."""
        r = readers.get(name, [])
        return r[0] if len(r) == 1 and r[0].op_type == op and name not in outputs else None

    def other(node: NodeProto, name: str) -> str:
        return node.input[1] if node.input[0] == name else node.input[0]

    def channel_const(node: NodeProto | None, name: str, depth: int) -> np.ndarray | None:
        """The constant other operand of `node`, one value or one per channel, else None."""
        value = consts.get(other(node, name)) if node is not None else None
        if value is None or value.size not in (1, depth):
            return None
        return np.broadcast_to(value.astype(np.float32).reshape(-1), (depth,))

    def last_axis_mean(node: NodeProto | None, rank: int) -> bool:
        if node is None or node.op_type != "ReduceMean" or _attr(node, "keepdims", 1) != 1:
            return False
        axes = _attr(node, "axes")
        if axes is None and len(node.input) > 1 and node.input[1] in consts:
            axes = consts[node.input[1]].reshape(-1).tolist()
        return axes is not None and [int(a) % rank for a in axes] == [rank - 1]

    fused = 0
    for div in [n for n in nodes if n.op_type == "Div"]:
        d, s = div.input
        sqrt, sub = producer.get(s), producer.get(d)
        if sqrt is None or sqrt.op_type != "Sqrt" or sub is None or sub.op_type != "Sub":
            continue
        x, m = sub.input
        rank = len(shapes.get(x, ()))
        mean = producer.get(m)
        add = producer.get(sqrt.input[0])
        if rank == 0 or not last_axis_mean(mean, rank) or add is None or add.op_type != "Add":
            continue
        var = producer.get(add.input[0]) if add.input[1] in consts else producer.get(add.input[1])
        eps_name = add.input[1] if add.input[1] in consts else add.input[0]
        if eps_name not in consts or not last_axis_mean(var, rank) or var is None:
            continue
        sq = producer.get(var.input[0])
        squares = sq is not None and (
            (sq.op_type == "Pow" and sq.input[0] == d and sq.input[1] in consts
             and float(consts[sq.input[1]].reshape(-1)[0]) == 2.0)
            or (sq.op_type == "Mul" and list(sq.input) == [d, d]))
        if not squares or mean is None or mean.input[0] != x:
            continue
        assert sq is not None
        d_readers = {id(r) for r in readers.get(d, [])}
        if d_readers != {id(sq), id(div)} or d in outputs or not all(
                only(n.output[0], t) for n, t in ((mean, "Sub"), (var, "Add"), (add, "Sqrt"), (sqrt, "Div"))):
            continue
        chain = [mean, sub, sq, var, add, sqrt, div]
        depth = shapes[x][-1]
        gamma, beta, out = np.ones(depth, np.float32), np.zeros(depth, np.float32), div.output[0]
        mul = only(out, "Mul")
        if (g := channel_const(mul, out, depth)) is not None and mul is not None:
            gamma, out = g, mul.output[0]
            chain.append(mul)
            plus = only(out, "Add")
            if (bb := channel_const(plus, out, depth)) is not None and plus is not None:
                beta, out = bb, plus.output[0]
                chain.append(plus)
        base = f"{div.name or out}_layer_norm"
        g_name, b_name = f"{base}_gamma", f"{base}_beta"
        model.graph.initializer.extend([numpy_helper.from_array(np.ascontiguousarray(gamma), g_name),
                                        numpy_helper.from_array(np.ascontiguousarray(beta), b_name)])
        eps = float(consts[eps_name].reshape(-1)[0])
        ln = helper.make_node("LayerNormalization", [x, g_name, b_name], [out], name=base, axis=-1,
                              epsilon=eps)
        at = min(list(model.graph.node).index(n) for n in chain)
        for n in chain:
            model.graph.node.remove(n)
        model.graph.node.insert(at, ln)
        fused += 1
    return fused
