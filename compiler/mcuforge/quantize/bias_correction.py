"""Bias correction: rounding int8 weights shifts the mean of each output channel; measure that
shift on calibration data and subtract it from the channel's bias before quantizing.

For an op y = x * W + b (conv, depthwise, dense) with quantized weights Wq, the error is linear in
the weights: y_q - y = x * (Wq - W). Its mean over the calibration samples and over every output
position, per output channel, is the systematic part of the weight error; the corrected bias
b - mean makes the quantized op unbiased on that data. Inputs are the float graph's own
activations, so each op is corrected for its weights alone, not for errors upstream.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from mcuforge.ir.graph import Graph, Op
from mcuforge.ir.quant_scheme import dequantize_values, quantize_values, weight_params
from mcuforge.ops.registry import Ctx, lookup
from mcuforge.quantize.calibration import Sample
from mcuforge.reference.interpreter import run


@dataclass
class BiasShift:
    op: str
    kind: str
    max_shift: float  # largest |correction| over the op's channels, in output units
    relative: float  # that shift over the op's output RMS on the calibration data


def _targets(graph: Graph) -> list[Op]:
    """Ops with float constant weights that carry (or may carry) a bias."""
    out = []
    for op in graph.ops:
        opdef = lookup(op.kind)
        if opdef.bias_input is None or not opdef.weight_axes:
            continue
        w = graph.tensors[op.inputs[next(iter(opdef.weight_axes))]]
        if w.is_const and w.dtype == "float32":
            out.append(op)
    return out


def _weight_error(graph: Graph, op: Op) -> np.ndarray:
    index, axis = next(iter(lookup(op.kind).weight_axes.items()))
    w = graph.tensors[op.inputs[index]].data
    assert w is not None
    params = weight_params(w, axis)
    return dequantize_values(quantize_values(w, params), params) - w


def correct_biases(graph: Graph, samples: list[Sample]) -> tuple[Graph, list[BiasShift]]:
    """A copy of the float `graph` with corrected biases, and what changed, largest first."""
    g = copy.deepcopy(graph)
    targets = _targets(g)
    deltas = {op.name: (_weight_error(g, op), Op(op.kind, op.name, op.inputs[:2], op.outputs,
                                                 {**op.attrs, "activation": "NONE"}))
              for op in targets}
    sums = {op.name: np.zeros(g.tensors[op.outputs[0]].shape[-1]) for op in targets}
    power = dict.fromkeys(sums, 0.0)
    for sample in samples:
        values = run(g, sample, keep_all=True)
        for op in targets:
            dw, linear = deltas[op.name]
            err = lookup(op.kind).ref_float(Ctx.of(g, linear), [values[op.inputs[0]], dw])[0]
            sums[op.name] += err.reshape(-1, err.shape[-1]).mean(axis=0)
            power[op.name] += float(np.mean(values[op.outputs[0]].astype(np.float64) ** 2))
    shifts = []
    for op in targets:
        mean_err = sums[op.name] / len(samples)
        b = lookup(op.kind).bias_input
        assert b is not None
        old = g.tensors[op.inputs[b]].data if b < len(op.inputs) and op.inputs[b] else None
        bias = (np.zeros_like(mean_err) if old is None else old.astype(np.float64)) - mean_err
        name = g.add_const(f"{op.name}_bias_corrected", bias.astype(np.float32))
        if b < len(op.inputs):
            op.inputs[b] = name
        else:
            op.inputs.append(name)
        rms = np.sqrt(power[op.name] / len(samples))
        top = float(np.max(np.abs(mean_err)))
        shifts.append(BiasShift(op.name, op.kind, top, top / rms if rms > 0 else 0.0))
    g.prune_unused_tensors()
    shifts.sort(key=lambda s: -s.relative)
    return g, shifts
