"""Float islands of a partially quantized QDQ model, and their quantization.

onnxruntime's `quantize_static` quantizes only the op types it knows (its QDQ and QLinear
registries) and leaves the others (Sub, Div, Tanh, Neg, ReduceMean, ... in onnxruntime 1.2x/1.3x)
in float: they read the float output of a DequantizeLinear and, when a quantized op follows,
write into a QuantizeLinear. `onnx_qdq.fold_qdq` turns such an op into an integer op at once,
since the model gave both scales. What it cannot fold is an "island" with a tensor the model gave
no scale: two float ops in a row, a float op reading a float graph input, or the TRANSPOSE and
RESHAPE the importer itself inserts between a DequantizeLinear and a QuantizeLinear.

`close_islands` gives each such tensor int8 parameters, inserts a QUANTIZE/DEQUANTIZE pair on it
and folds again. Parameters come, in order, from the op's rule in the registry (a fixed output
encoding, or the input's encoding for ops that move bytes) and otherwise from calibration
statistics (`--calib`); the scales the model gave stay where it has them. Without statistics the
tensors that need them are left alone and `close_islands` returns the ops waiting for them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.importers.onnx_qdq import fold_qdq
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ops.registry import lookup

CONVERSIONS = ("QUANTIZE", "DEQUANTIZE")
# name -> int8 parameters from calibration statistics, or None when the tensor was never seen
Calibrated = Callable[[str], QuantParams | None]


def float_islands(graph: Graph) -> list[Op]:
    """Ops of a graph with integer tensors that still compute in float (not the QUANTIZE and
    DEQUANTIZE at its edges). Empty for an all-float or an all-integer graph."""
    if all(t.dtype == "float32" for t in graph.tensors.values() if not t.is_const):
        return []
    return [op for op in graph.ops if op.kind not in CONVERSIONS
            and any(graph.tensors[o].dtype == "float32" for o in op.outputs)]


def describe(ops: list[Op]) -> str:
    return ", ".join(f"{op.kind} '{op.name}'" for op in ops)


def close_islands(graph: Graph, calibrated: Calibrated | None = None) -> list[Op]:
    """Quantize what can be of the float islands in place; the island ops still float after it
    (those waiting for calibration when `calibrated` is None)."""
    islands = float_islands(graph)
    if not islands:
        return []
    producers, consumers = graph.producers(), graph.consumers()
    known: dict[str, QuantParams] = {}  # float tensor -> the int8 encoding it will have

    def given(name: str) -> QuantParams | None:
        if name in known:
            return known[name]
        p = producers.get(name)
        if p is not None and p.kind == "DEQUANTIZE" and graph.tensors[p.inputs[0]].dtype == "int8":
            return graph.tensors[p.inputs[0]].quant
        return None

    new: dict[str, QuantParams] = {}  # tensors that get a QUANTIZE/DEQUANTIZE pair
    for op in islands:
        for name in op.inputs:
            t = graph.tensors[name] if name else None
            if t is None or t.is_const or t.dtype != "float32" or given(name) is not None:
                continue
            quantized = _int8_quantize(graph, consumers.get(name, []))
            if quantized is not None:  # the input is quantized for other readers already
                known[name] = new[name] = graph.tensors[quantized.outputs[0]].quant  # type: ignore[assignment]
                continue
            params = calibrated(name) if calibrated is not None and name in graph.inputs else None
            if params is not None:
                known[name] = new[name] = params
        for out in op.outputs:
            users = consumers.get(out, [])
            if (out not in graph.outputs and len(users) == 1 and users[0].kind == "QUANTIZE"
                    and graph.tensors[users[0].outputs[0]].dtype == "int8"):
                continue  # the model gave this output its scale
            params = _output_params(op, given, calibrated, out)
            if params is not None:
                known[out] = new[out] = params
    for name, params in new.items():
        _insert_pair(graph, name, params, producers.get(name))
    if new:
        fold_qdq(graph, {})
    return float_islands(graph)


def _output_params(op: Op, given: Callable[[str], QuantParams | None], calibrated: Calibrated | None,
                   out: str) -> QuantParams | None:
    rule = lookup(op.kind).out_quant
    if isinstance(rule, tuple):
        return QuantParams(np.array([rule[0]]), np.array([rule[1]]))
    if rule == "same_as_input":
        return given(op.inputs[0])
    return calibrated(out) if calibrated is not None else None


def _int8_quantize(graph: Graph, readers: list[Op]) -> Op | None:
    return next((op for op in readers if op.kind == "QUANTIZE"
                 and graph.tensors[op.outputs[0]].dtype == "int8"), None)


def _insert_pair(graph: Graph, name: str, params: QuantParams, producer: Op | None) -> None:
    """QUANTIZE then DEQUANTIZE on float tensor `name`, which keeps its name and readers."""
    t = graph.tensors[name]
    if producer is None:  # a graph input: its float readers read the round trip instead
        dq = graph.add_tensor(Tensor(graph.unique_name(f"{name}/dq"), t.shape, "float32")).name
        for op in graph.ops:
            if op.kind not in CONVERSIONS:
                op.inputs = [dq if n == name else n for n in op.inputs]
        quantize = _int8_quantize(graph, graph.consumers().get(name, []))
        if quantize is None:
            q = graph.add_tensor(Tensor(graph.unique_name(f"{name}/q"), t.shape, "int8", quant=params)).name
            quantize = Op("QUANTIZE", q, [name], [q], {})
            graph.ops.insert(0, quantize)
        at = graph.ops.index(quantize) + 1
        graph.ops.insert(at, Op("DEQUANTIZE", dq, [quantize.outputs[0]], [dq], {}))
        return
    q = graph.add_tensor(Tensor(graph.unique_name(f"{name}/q"), t.shape, "int8", quant=params)).name
    raw = graph.add_tensor(Tensor(graph.unique_name(f"{name}/float"), t.shape, "float32")).name
    producer.outputs = [raw if n == name else n for n in producer.outputs]
    at = graph.ops.index(producer) + 1
    graph.ops[at:at] = [Op("QUANTIZE", q, [raw], [q], {}), Op("DEQUANTIZE", name, [q], [name], {})]
