"""Turn an optimized float graph into an int8 (or 16x8) graph, op by op, following each op's
quantization rule in the registry (`OpDef.out_quant`, `weight_axes`, `bias_input`).

Tensor names are kept, so the float and the int8 graph can be compared tensor by tensor.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ir.quant_scheme import (
    ACTIVATION_DTYPE,
    activation_params,
    bias_values,
    quantize_values,
    weight_params,
)
from mcuforge.ops.clamp import CLAMP
from mcuforge.ops.quantize import DEQUANTIZE, QUANTIZE
from mcuforge.ops.registry import REGISTRY, lookup
from mcuforge.quantize.calibration import TensorStats
from mcuforge.quantize.mixed import chosen_ops, widen_layers
from mcuforge.quantize.ranges import METHODS

MODES = tuple(ACTIVATION_DTYPE)


@dataclass
class QuantConfig:
    method: str = "minmax"
    param: float = 0.0  # the method's parameter (percentile)
    mode: str = "int8"  # or "16x8": int16 activations, int8 weights
    int16_layers: tuple[str, ...] = ()  # int8 mode: ops kept at int16 activations (quantize/mixed.py)


def quantize_graph(graph: Graph, stats: dict[str, TensorStats], config: QuantConfig) -> Graph:
    q = copy.deepcopy(graph)
    check_float(q)
    if config.mode == "16x8":
        check_16x8(q)
    enc = _activation_encodings(q, stats, config)
    _share_encodings(q, enc)
    wide: set[str] = set()
    chosen: set[int] = set()
    if config.int16_layers:  # issue 11: mixed int8 / int16 activations
        if config.mode != "int8":
            raise MfError(f"--int16 {','.join(config.int16_layers)}: chooses int16 layers of an int8 "
                          f"graph; --mode {config.mode} already makes every layer int16")
        ops = chosen_ops(q, config.int16_layers)
        choose = METHODS[config.method]

        def params16(name: str) -> QuantParams:
            return activation_params(*choose(stats[name], config.param), "16x8")

        wide = widen_layers(q, enc, params16, ops)
        chosen = {id(op) for op in ops}
    for name, params in enc.items():
        t = q.tensors[name]
        t.dtype, t.quant = ("int16" if name in wide else ACTIVATION_DTYPE[config.mode]), params
    for op in q.ops:
        _quantize_constants(q, op, "16x8" if id(op) in chosen else config.mode)
    return q


def check_16x8(graph: Graph) -> None:
    bad = sorted({f"{op.kind} '{op.name}'" for op in graph.ops if not lookup(op.kind).int16})
    if bad:
        handled = sorted(kind for kind, opdef in REGISTRY.items() if opdef.int16)
        raise MfError(f"{graph.source or 'the model'}: --mode 16x8 does not support {', '.join(bad)}; "
                      f"16x8 handles {', '.join(handled)} (use --mode int8)")


def check_float(graph: Graph) -> None:
    """Refuse graphs that are quantized already (a TFLite int8 model, a .mfir)."""
    bad = [op for op in graph.ops if op.kind in (QUANTIZE.kind, DEQUANTIZE.kind)]
    bad += [op for op in graph.ops for t in graph.op_inputs(op) if t is not None and t.dtype != "float32"
            and not t.is_const]
    if bad:
        op = bad[0]
        raise MfError(f"{op.kind} '{op.name}': the model is already quantized; compile it as it is "
                      "(no --calib) instead of quantizing it again")


def _activation_encodings(graph: Graph, stats: dict[str, TensorStats],
                          config: QuantConfig) -> dict[str, QuantParams]:
    choose = METHODS[config.method]
    enc: dict[str, QuantParams] = {}

    def calibrated(name: str) -> QuantParams:
        s = stats.get(name)
        if s is None:
            raise MfError(f"tensor '{name}' was never computed during calibration")
        return activation_params(*choose(s, config.param), config.mode)

    for name in graph.inputs:
        enc[name] = calibrated(name)
    for op in graph.ops:
        rule = lookup(op.kind).out_quant
        for out in op.outputs:
            if isinstance(rule, tuple):
                if config.mode == "16x8":  # TFLite's int16 SOFTMAX/LOGISTIC/TANH write Q0.15
                    rule = (2.0**-15, 0)
                enc[out] = QuantParams(np.array([rule[0]]), np.array([rule[1]]))
            elif rule == "same_as_input" or _clamps_in_input_encoding(op):
                enc[out] = copy.deepcopy(enc[op.inputs[0]])
            elif rule == "none":  # integer indices (ARG_MAX): the output keeps its own dtype
                continue
            else:
                enc[out] = calibrated(out)
    return enc


def _clamps_in_input_encoding(op: Op) -> bool:
    """Relu6: its integer kernel (TFLM's) clamps in the input's encoding and assumes the output
    has the same, so a calibrated output encoding would be wrong (found by mcuforge fuzz)."""
    return op.kind == CLAMP.kind and (op.attrs.get("min"), op.attrs.get("max")) == (0.0, 6.0)


def _share_encodings(graph: Graph, enc: dict[str, QuantParams]) -> None:
    """Give every input of an op whose inputs share its encoding (CONCATENATION) the output's:
    retarget the producer when the op is its only reader and it computes its own output
    encoding, else requantize. Consumers go first: a producer retargeted by a later CONCATENATION
    may itself be one, whose own inputs must then follow its new encoding (mcuforge fuzz, seed
    3000: concat(x, concat(x, x)) was refused)."""
    producers = graph.producers()
    readers = graph.consumers()
    for op in reversed([op for op in graph.ops if lookup(op.kind).inputs_share_quant]):
        out = enc[op.outputs[0]]
        for i, name in enumerate(op.inputs):
            if graph.tensors[name].is_const or _same(enc[name], out):
                continue
            prod = producers.get(name)
            # A CONCATENATION with a fused Relu copies bytes: the Relu lives in its output range
            # (negatives saturate to the zero), so its encoding must not be widened.
            copies_an_activation = prod is not None and lookup(prod.kind).inputs_share_quant \
                and prod.attrs.get("activation", "NONE") != "NONE"
            if (prod is not None and lookup(prod.kind).out_quant == "calibrated" and not copies_an_activation
                    and len(readers.get(name, [])) == 1 and name not in graph.outputs):
                enc[name] = copy.deepcopy(out)
                continue
            moved = graph.add_tensor(Tensor(graph.unique_name(f"{name}_requant"),
                                            graph.tensors[name].shape, "float32")).name
            enc[moved] = copy.deepcopy(out)
            graph.ops.insert(graph.ops.index(op), Op(QUANTIZE.kind, moved, [name], [moved], {}))
            op.inputs[i] = moved


def _same(a: QuantParams, b: QuantParams) -> bool:
    return np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point)


def _quantize_constants(graph: Graph, op: Op, mode: str) -> None:
    opdef = lookup(op.kind)
    for i, name in enumerate(op.inputs):
        t = graph.tensors.get(name) if name else None
        if t is None or not t.is_const or t.dtype != "float32":
            continue
        assert t.data is not None
        if i in opdef.weight_axes:
            params = weight_params(t.data, opdef.weight_axes[i])
            data = quantize_values(t.data, params)
        elif i == opdef.bias_input:
            continue  # after the weights: its scale depends on theirs
        elif opdef.inputs_share_quant:  # (elementwise-ops) e.g. MAXIMUM(x, c): c in the output's encoding
            params = copy.deepcopy(graph.tensors[op.outputs[0]].quant)
            assert params is not None
            data = quantize_values(t.data, params, ACTIVATION_DTYPE[mode])
        else:
            params = activation_params(float(t.data.min()), float(t.data.max()), mode)
            data = quantize_values(t.data, params, ACTIVATION_DTYPE[mode])
        op.inputs[i] = graph.add_const(f"{name}_q", data, params)
    b = opdef.bias_input
    if b is not None and b < len(op.inputs) and op.inputs[b]:
        bias = graph.tensors[op.inputs[b]]
        if bias.dtype == "float32":
            assert bias.data is not None
            w = graph.tensors[op.inputs[1]]
            assert w.quant is not None
            in_scale = graph.tensors[op.inputs[0]].scalar_quant()[0]
            data, params = bias_values(bias.data, in_scale, w.quant.scale, mode)
            op.inputs[b] = graph.add_const(f"{bias.name}_q", data, params)
    graph.prune_unused_tensors()
