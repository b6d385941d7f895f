"""Turn the float ops of an imported QDQ model into integer ops.

A QDQ model imports as float ops whose activation inputs come from DEQUANTIZE and whose outputs
go to QUANTIZE (the ONNX DequantizeLinear/QuantizeLinear pairs). Such an op is rewritten to read
the integer tensors before the DEQUANTIZEs and write the integer tensor after the QUANTIZE, its
weights and biases become integers with the QDQ model's scales, and the QUANTIZE/DEQUANTIZE ops
left without users disappear. What stays is a QUANTIZE at each float input and a DEQUANTIZE at
each float output; ops the model did not quantize stay float between their own Q/DQ.

Integer kernels have rules a QDQ model need not follow (TFLite's): some fix their output's
parameters, some move bytes and so need the input's parameters on the output, concatenation
needs them on every input. Where the model differs, a requantizing QUANTIZE is inserted.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.registry import OpDef, lookup


def fold_qdq(graph: Graph, weight_quant: dict[str, QuantParams]) -> None:
    _collapse_requantize_pairs(graph)
    for op in list(graph.ops):
        if op.kind not in ("QUANTIZE", "DEQUANTIZE"):
            _fold_op(graph, op, weight_quant)
    _drop_dead_ops(graph)


def _fold_op(graph: Graph, op: Op, weight_quant: dict[str, QuantParams]) -> None:
    producers, consumers = graph.producers(), graph.consumers()
    opdef = lookup(op.kind)
    if opdef.ref_int is None:  # float only (BATCH_NORM): a pass folds it away
        return
    new_inputs = []
    for name in op.inputs:
        t = graph.tensors[name] if name else None
        if t is None or t.is_const:
            new_inputs.append(name)
            continue
        dq = producers.get(name)
        if dq is None or dq.kind != "DEQUANTIZE" or graph.tensors[dq.inputs[0]].dtype != "int8":
            return
        new_inputs.append(dq.inputs[0])
    readers = [_sole_int8_quantize(graph, consumers, out) for out in op.outputs]
    qs = [q for q in readers if q is not None]
    if not qs:
        return
    target = graph.tensors[qs[0].outputs[0]]
    if len(op.outputs) > 1:  # SPLIT: an op that moves bytes, one encoding on every piece read
        unread = [o for o, q in zip(op.outputs, readers, strict=True)
                  if q is None and o not in graph.outputs and not consumers.get(o)]
        if (opdef.out_quant != "same_as_input" or len(qs) + len(unread) != len(op.outputs)
                or any(graph.tensors[q.outputs[0]].scalar_quant() != target.scalar_quant() for q in qs)):
            return
    elif len(qs) != 1:
        return
    quant = {**weight_quant, **_own_const_quant(graph, opdef, op.inputs, weight_quant, target)}
    converted: list[str] = []
    for i, name in enumerate(new_inputs):
        converted.append(_int_const(graph, opdef, i, name, converted, quant))
    if opdef.inputs_share_quant or opdef.out_quant == "same_as_input":
        converted = [_requantized(graph, op, name, target) for name in converted]
    op.inputs = converted
    if len(op.outputs) > 1:
        for q in qs:
            graph.ops.remove(q)
        op.outputs = [_int8_piece(graph, out, q, target) for out, q in zip(op.outputs, readers, strict=True)]
        return
    _take_output(graph, op, qs[0], opdef)


def _int8_piece(graph: Graph, out: str, q: Op | None, like: Tensor) -> str:
    """What output `out` of a multi-output op becomes: its QUANTIZE's output, or (unread) an int8
    tensor in `like`'s encoding."""
    if q is not None:
        return q.outputs[0]
    t = graph.tensors[out]
    return graph.add_tensor(Tensor(graph.unique_name(f"{out}/int8"), t.shape, "int8", quant=like.quant)).name


def _sole_int8_quantize(graph: Graph, consumers: dict[str, list[Op]], name: str) -> Op | None:
    """The one reader of float tensor `name` if it is a QUANTIZE to int8 (and `name` is no graph output)."""
    users = consumers.get(name, [])
    if name in graph.outputs or len(users) != 1:
        return None
    q = users[0]
    return q if q.kind == "QUANTIZE" and graph.tensors[q.outputs[0]].dtype == "int8" else None


def _own_const_quant(graph: Graph, opdef: OpDef, inputs: list[str], weight_quant: dict[str, QuantParams],
                     target: Tensor) -> dict[str, QuantParams]:
    """Parameters for the float constants of an op the QDQ model left unquantized (onnxruntime
    leaves e.g. the `1` of `Sub(1, z)` float): weights per channel and symmetric as our quantizer
    does, other operands over their own range (or the output's, for ops whose inputs share it);
    a float bias keeps TFLite's input-times-weight scale (`_int_const`)."""
    from mcuforge.ir.quant_scheme import activation_params, weight_params

    own: dict[str, QuantParams] = {}
    for i, name in enumerate(inputs):
        t = graph.tensors[name] if name else None
        if t is None or not t.is_const or t.dtype != "float32" or name in weight_quant:
            continue
        if i == opdef.bias_input:
            continue
        assert t.data is not None
        if i in opdef.weight_axes:
            own[name] = weight_params(t.data, opdef.weight_axes[i])
        elif opdef.inputs_share_quant or opdef.out_quant == "same_as_input":
            assert target.quant is not None
            own[name] = target.quant
        else:
            own[name] = activation_params(float(t.data.min()), float(t.data.max()))
    return own


def _requantized(graph: Graph, op: Op, name: str, like: Tensor) -> str:
    """`name` with the quantization of `like`, through a QUANTIZE before `op` if they differ."""
    t = graph.tensors[name]
    assert like.quant is not None
    if t.is_const or t.scalar_quant() == like.scalar_quant():
        return name
    out = graph.unique_name(f"{name}/requant")
    graph.add_tensor(Tensor(out, t.shape, like.dtype, quant=like.quant))
    graph.ops.insert(graph.ops.index(op), Op("QUANTIZE", out, [name], [out], {}))
    return out


def _take_output(graph: Graph, op: Op, q: Op, opdef: OpDef) -> None:
    """`op` now writes what `q` wrote, through a requantization if its kernel fixes the scale."""
    graph.ops.remove(q)
    target = graph.tensors[q.outputs[0]]
    fixed = opdef.out_quant
    if not isinstance(fixed, tuple) or target.scalar_quant() == (np.float32(fixed[0]), fixed[1]):
        op.outputs = [q.outputs[0]]
        return
    mid = graph.unique_name(f"{op.outputs[0]}/fixed_quant")
    graph.add_tensor(Tensor(mid, target.shape, target.dtype, quant=QuantParams(*fixed)))
    op.outputs = [mid]
    graph.ops.insert(graph.ops.index(op) + 1, Op("QUANTIZE", q.name, [mid], [q.outputs[0]], {}))


def _int_const(
    graph: Graph, opdef: OpDef, index: int, name: str, before: list[str], weight_quant: dict[str, QuantParams]
) -> str:
    """The integer version of a weight or bias constant (a new tensor: constants may be shared);
    `before` holds the op's inputs already converted."""
    if not name or not graph.tensors[name].is_const:
        return name
    t = graph.tensors[name]
    quant = weight_quant.get(name)
    dtype = "int32" if index == opdef.bias_input else "int8"
    if quant is None:  # a float bias: TFLite's scale, input scale times weight scale
        in_scale, _ = graph.tensors[before[0]].scalar_quant()
        w_quant = graph.tensors[before[1]].quant
        assert w_quant is not None
        quant = QuantParams(in_scale * w_quant.scale, np.zeros_like(w_quant.zero_point),
                            0 if w_quant.per_channel else None)
    assert t.data is not None
    shape = quant.broadcast_shape(t.data.ndim)
    q = np.rint(t.data / quant.scale.reshape(shape)) + quant.zero_point.reshape(shape)
    lo, hi = INT_RANGES[dtype]
    return graph.add_const(f"{name}/{dtype}", np.clip(q, lo, hi).astype(dtype), quant)


# -- attention (issue 11) ------------------------------------------------------------------------


def _collapse_requantize_pairs(graph: Graph) -> None:
    """A DEQUANTIZE feeding a QUANTIZE directly, which the Q/DQ pairs around an op the importer
    makes free leave behind (the Transpose of K in attention): read the integer tensor itself
    when both encodings agree, else requantize it integer to integer (TFLite's QUANTIZE)."""
    producers = graph.producers()
    for q in [op for op in graph.ops if op.kind == "QUANTIZE"]:
        dq = producers.get(q.inputs[0])
        if dq is None or dq.kind != "DEQUANTIZE":
            continue
        src, dst = graph.tensors[dq.inputs[0]], graph.tensors[q.outputs[0]]
        if src.dtype != "int8" or dst.dtype != "int8" or src.quant is None or dst.quant is None:
            continue
        same = src.scalar_quant() == dst.scalar_quant()
        if same and q.outputs[0] not in graph.outputs:
            for op in graph.ops:
                op.inputs = [src.name if n == q.outputs[0] else n for n in op.inputs]
        else:
            q.inputs = [src.name]
    _drop_dead_ops(graph)


def _drop_dead_ops(graph: Graph) -> None:
    while True:
        used = {n for op in graph.ops for n in op.inputs} | set(graph.outputs)
        dead = [op for op in graph.ops if not any(o in used for o in op.outputs)]
        if not dead:
            return
        graph.ops = [op for op in graph.ops if op not in dead]
