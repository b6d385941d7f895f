"""TFLite builtins with persistent state into IR ops (stateful area).

SVDF: the int8 forms TFLite Micro runs (int8 input, feature weights and output, int32 bias;
int16 time weights and activation state as TF's converter writes them, or int8 ones as in
TFLite Micro's keyword_scrambled_8bit) become the IR op SVDF; its activation state,
a variable input tensor in the file, becomes the op's persistent state (ops/svdf.py), so the IR
op keeps only x, the two weights and the bias. The hybrid form (float input, int8 weights) and
the float form are refused with the converter settings that give the int8 form.

BIDIRECTIONAL_SEQUENCE_LSTM is refused, naming the converter output that compiles.

REVERSE_V2 (constant axes): what TF's converter emits around the backward LSTM of a tf_keras
`Bidirectional(LSTM)` (REVERSE_V2 -> UNIDIRECTIONAL_SEQUENCE_LSTM -> REVERSE_V2, then
CONCATENATION; no BIDIRECTIONAL_SEQUENCE_LSTM at default settings). It becomes a STRIDED_SLICE
with step -1 on the reversed axes: a byte copy, as TFLite Micro's kernel is (also when the
converter gives the output another encoding than the input: TFLite Micro copies the bytes).
"""

from __future__ import annotations

import numpy as np

from mcuforge.errors import MfError
from mcuforge.importers.tflite_ops import Converter, Node
from mcuforge.ir.graph import Op

# TFLite's input indices of SVDF (svdf.h)
INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, BIAS, STATE = range(5)
INT8_HINT = ("convert with full integer quantization (TFLiteConverter with optimizations=[Optimize.DEFAULT], "
             "a representative_dataset and int8 inference input/output types), as TFLite Micro's "
             "keyword model is")


def svdf(node: Node) -> list[Op]:
    if len(node.inputs) != 5 or not node.inputs[STATE]:
        raise node.error(f"SVDF takes 5 inputs (x, weights_feature, weights_time, bias, state), the "
                         f"file gives {len(node.inputs)}")
    g = node.graph
    x, wf, wt, state = (g.tensors[node.inputs[i]] for i in (INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, STATE))
    if x.dtype == "float32":
        hybrid = node.inputs[WEIGHTS_FEATURE].endswith("_dequantized")  # int8 weights made float at import
        form = "a hybrid SVDF (float input, int8 weights)" if hybrid else "a float SVDF"
        raise node.error(f"{form} is not supported, only the int8 form TFLite Micro runs: {INT8_HINT}")
    if x.dtype != "int8" or wf.dtype != "int8":
        raise node.error(f"input/weights_feature types {x.dtype}/{wf.dtype} are not supported (int8)")
    if (wt.dtype, state.dtype) not in (("int16", "int16"), ("int8", "int8")):
        raise node.error(f"weights_time/state types {wt.dtype}/{state.dtype} are not supported, only "
                         "int16/int16 (TF's int8 conversion) or int8/int8 (TFLite Micro's "
                         "keyword_scrambled_8bit), as TFLite Micro runs them")
    if wf.data is None or wt.data is None:
        raise node.error("weights_feature and weights_time must be constants")
    for t in (x, wf, wt, state):
        if t.quant is None or t.quant.per_channel:
            raise node.error(f"tensor '{t.name}' must be quantized per tensor")
    if wf.scalar_quant()[1] != 0 or wt.scalar_quant()[1] != 0:
        raise node.error("weights with a non-zero zero point are not supported (TFLite's are symmetric)")
    rank = int(node.opts.rank) if node.opts is not None else 0
    state_scale, state_zp = state.scalar_quant()
    if state.data is not None and np.any(state.data.astype(np.int64) != state_zp):
        raise node.error(f"a non-zero initial state in '{state.name}' is not supported")
    filters = wf.shape[0] if len(wf.shape) == 2 else 0
    memory = wt.shape[1] if len(wt.shape) == 2 else 0
    batches = x.shape[0] if x.shape else 0
    if tuple(state.shape) != (batches, filters * memory):
        raise node.error(f"state shape {state.shape} does not fit batches x filters x memory "
                         f"({batches}, {filters * memory})")
    bias = node.inputs[BIAS]
    if bias and g.tensors[bias].dtype != "int32":
        raise node.error(f"bias type {g.tensors[bias].dtype} is not supported (int32)")
    attrs = {"rank": rank, "state_scale": state_scale, "state_zero_point": state_zp}
    if state.dtype == "int8":
        attrs["state_dtype"] = "int8"  # int8 time weights and state (TFLite Micro's int8 variant)
    return [node.op("SVDF", attrs, [node.inputs[INPUT], node.inputs[WEIGHTS_FEATURE],
                                    node.inputs[WEIGHTS_TIME], bias])]


def reverse_v2(node: Node) -> list[Op]:
    shape = node.shape(0)
    axes = sorted({int(a) % len(shape) if shape else 0 for a in np.asarray(node.const(1)).reshape(-1)})
    if any(not -len(shape) <= int(a) < len(shape) for a in np.asarray(node.const(1)).reshape(-1)):
        raise node.error(f"axes {node.const(1).tolist()} do not fit a rank-{len(shape)} input")
    attrs = {"begin": [d - 1 if i in axes else 0 for i, d in enumerate(shape)], "size": list(shape),
             "step": [-1 if i in axes else 1 for i in range(len(shape))], "shape": list(shape)}
    x, y = node.graph.tensors[node.inputs[0]], node.graph.tensors[node.outputs[0]]
    if x.quant is not None and y.quant is not None and x.scalar_quant() != y.scalar_quant():
        attrs["copies_bytes"] = True  # the bytes as they are under the output's encoding (TFLM)
    return [node.op("STRIDED_SLICE", attrs, [node.inputs[0]])]


RESOURCE_VARIABLE_OPS = frozenset({"CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"})
RESOURCE_HINT = ("resource variables (a Keras layer with stateful=True) are not supported: TF's "
                 "converter does not fuse such an LSTM. For streaming, convert a tf_keras LSTM "
                 "without stateful=True whose Input has batch_size=1 and one time step (shape "
                 "(1, features)): its fused UNIDIRECTIONAL_SEQUENCE_LSTM keeps the state between "
                 "calls as variable tensors, in TFLite Micro and in mcuforge's C "
                 "(NAME_reset() starts a new stream)")


def refuse_resource_variables(builtins: set[str], source: str) -> None:
    """One line for a model with resource variables (before the structural checks, which would
    stop at CALL_ONCE's missing inputs with a less useful message)."""
    found = sorted(builtins & RESOURCE_VARIABLE_OPS)
    if found:
        raise MfError(f"{source}: {', '.join(found)}: {RESOURCE_HINT}")


def bidirectional_sequence_lstm(node: Node) -> list[Op]:
    raise node.error("BIDIRECTIONAL_SEQUENCE_LSTM is not supported: TFLite runs it only in float or "
                     "hybrid form and TFLite Micro not at all. A tf_keras Bidirectional(LSTM) converted "
                     "by TFLiteConverter.from_keras_model at its defaults (int8, batch_size=1) gives "
                     "REVERSE_V2 and two UNIDIRECTIONAL_SEQUENCE_LSTM, which compile")


def resource_variable(node: Node) -> list[Op]:
    raise node.error(RESOURCE_HINT)


CONVERTERS_STATEFUL: dict[str, Converter] = {
    "SVDF": svdf,
    "REVERSE_V2": reverse_v2,  # the backward half of a Bidirectional LSTM
    "BIDIRECTIONAL_SEQUENCE_LSTM": bidirectional_sequence_lstm,  # refused with the form that works
    # tf_keras LSTM(stateful=True): resource variables and a WHILE loop, refused with the fix
    "CALL_ONCE": resource_variable,
    "VAR_HANDLE": resource_variable,
    "READ_VARIABLE": resource_variable,
    "ASSIGN_VARIABLE": resource_variable,
}
