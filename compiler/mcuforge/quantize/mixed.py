"""Mixed precision (issue 11): chosen layers of an int8 graph keep int16 activations (TFLite's
16x8 kernels) while the rest stays int8.

A chosen op reads int16 inputs and writes int16 outputs at its own calibrated 16x8 encodings
(symmetric, zero point 0; SOFTMAX/LOGISTIC/TANH at Q0.15); its weights stay int8 and its bias
becomes int64 as in 16x8 mode. Where an int8 tensor enters a chosen op, a QUANTIZE to int16 is
inserted (`NAME_int16`); where a chosen op's output feeds an int8 op, a QUANTIZE back to the
tensor's int8 encoding (`NAME_int8`). Chosen ops that feed each other pass int16 directly (an
op whose inputs share its encoding, CONCATENATION, gets its inputs requantized to its own).
The chosen op's output keeps its name, so the accuracy report gives its SQNR at 16 bits; a
chosen op that writes a graph output makes that output int16.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ops.quantize import QUANTIZE
from mcuforge.ops.registry import lookup

Q015 = (2.0**-15, 0)  # TFLite's int16 SOFTMAX / LOGISTIC / TANH output encoding


def chosen_ops(graph: Graph, names: Sequence[str]) -> list[Op]:
    """The ops named (by the model's node names, as `quantize` reports them); MfError naming
    the unknown ones and those with no int16 definition."""
    by_name = {op.name: op for op in graph.ops}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(f"'{n}'" for n in list(by_name)[:30])
        missing = ", ".join(repr(n) for n in unknown)
        raise MfError(f"{graph.source or 'the model'}: --int16: no layer named {missing}; layers after "
                      f"optimization: {known}{' ...' if len(by_name) > 30 else ''}")
    ops = [by_name[n] for n in dict.fromkeys(names)]
    bad = [f"{op.kind} '{op.name}'" for op in ops if not lookup(op.kind).int16]
    if bad:
        raise MfError(f"{graph.source or 'the model'}: --int16: {', '.join(bad)} has no int16 definition "
                      "(TFLite's 16x8 mode covers conv, depthwise, dense, add/sub/mul, pooling, mean, "
                      "softmax, sigmoid, tanh, leaky relu, relu/clip, min/max, resize, batch matmul "
                      "and data movement)")
    return ops


def _params(rule: object) -> QuantParams:
    assert isinstance(rule, tuple)
    return QuantParams(np.array([rule[0]]), np.array([rule[1]]))


def widen_layers(graph: Graph, enc: dict[str, QuantParams], params16: Callable[[str], QuantParams],
                 ops: list[Op]) -> set[str]:
    """Rewrite the float graph (before its tensors take their integer dtypes) so that `ops` run
    at int16; `enc` gets the encodings of the new and widened tensors. Returns the tensors that
    become int16."""
    chosen = {id(op) for op in ops}
    producers = graph.producers()
    for op in graph.ops:  # a RESHAPE after a chosen layer stays int16 too
        src = producers.get(op.inputs[0]) if op.inputs else None
        if lookup(op.kind).alias and src is not None and id(src) in chosen:
            chosen.add(id(op))
            ops = [*ops, op]
    ops.sort(key=graph.ops.index)
    wide: set[str] = set()
    int8_enc = dict(enc)  # the int8 encodings, before chosen outputs take int16 ones
    producers = {o: op for op in graph.ops for o in op.outputs}
    to16: dict[tuple[str, str], str] = {}  # (int8 tensor, encoding key) -> its int16 copy

    def insert_quantize(src: str, suffix: str, params: QuantParams, before: Op) -> str:
        name = graph.add_tensor(Tensor(graph.unique_name(f"{src}_{suffix}"), graph.tensors[src].shape,
                                       "float32")).name
        enc[name] = copy.deepcopy(params)
        graph.ops.insert(graph.ops.index(before), Op(QUANTIZE.kind, name, [src], [name], {}))
        return name

    for op in [op for op in graph.ops if id(op) in chosen]:
        opdef = lookup(op.kind)
        outs16 = {}
        for y in op.outputs:
            rule = opdef.out_quant
            if isinstance(rule, tuple):
                outs16[y] = _params(Q015)
            elif rule == "same_as_input":
                x = op.inputs[0]
                outs16[y] = copy.deepcopy(enc[x] if x in wide else params16(x))
            elif rule != "none":
                outs16[y] = params16(y)
        shared = opdef.inputs_share_quant and op.outputs[0] in outs16
        for i, x in enumerate(op.inputs):
            t = graph.tensors.get(x) if x else None
            if t is None or t.is_const or not (i == 0 or opdef.data_operands or shared):
                continue
            want = outs16[op.outputs[0]] if shared else (enc[x] if x in wide else params16(x))
            if x in wide and _same(enc[x], want):
                continue
            key = (x, f"{want.scale.tolist()}")
            if key not in to16:
                to16[key] = insert_quantize(x, "int16", want, op)
                wide.add(to16[key])
            op.inputs[i] = to16[key]
        for y, params in outs16.items():
            enc[y] = params
            wide.add(y)

    to8: dict[str, str] = {}
    for op in list(graph.ops):
        if id(op) in chosen:
            continue
        for i, x in enumerate(op.inputs):
            if x in wide and x in producers and id(producers[x]) in chosen and op.kind != QUANTIZE.kind:
                if x not in to8:
                    to8[x] = insert_quantize(x, "int8", int8_enc[x], op)
                op.inputs[i] = to8[x]
    return wide


def _same(a: QuantParams, b: QuantParams) -> bool:
    return np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point)
