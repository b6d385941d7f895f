"""TFLite recurrent builtins into IR ops (recurrent area).

UNIDIRECTIONAL_SEQUENCE_LSTM: the int8 form (what TF's converter writes for a tf_keras `LSTM`
with int8 quantization) becomes the IR op of the same name, its four per-gate weight and bias
tensors packed into (4, H, ...) tensors with one scale per gate. The variants TFLite Micro does
not run either (peepholes, projection, layer norm, coupled input and forget gates) are refused.

Its hidden and cell state are variable tensors in TF's output, which TFLite Micro keeps between
invocations. An LSTM that takes one time step per call (streaming use) is then `stateful` and keeps
them as persistent state (ops/lstm.py): consecutive calls continue one stream until NAME_reset(),
as in TFLite Micro. An LSTM over a whole sequence per call starts every call from zero, as the
Keras layer it came from does (TFLite Micro matches that when its interpreter is reset between
sequences).

WHILE (an LSTM/GRU the converter did not fuse) is refused with the setting that gives a fused op.
"""

from __future__ import annotations

import copy

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from mcuforge.errors import MfError
from mcuforge.importers.rnn_cells import Cells, step_slice
from mcuforge.importers.tflite_ops import Converter, Node
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ops.registry import infer_shapes

# TFLite's input indices of UNIDIRECTIONAL_SEQUENCE_LSTM (lstm_shared.h)
INPUT_WEIGHTS = (1, 2, 3, 4)  # input, forget, cell, output gates
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLES = (9, 10, 11)
BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN_STATE, CELL_STATE = 18, 19
LAYER_NORM = (20, 21, 22, 23)
TANH = fb.ActivationFunctionType.TANH


def _present(node: Node, i: int) -> bool:
    return i < len(node.inputs) and bool(node.inputs[i])


def _packed(node: Node, indices: tuple[int, ...], suffix: str) -> str:
    """Four per-gate constants stacked on a new axis 0, one quantization scale per gate."""
    tensors = [node.graph.tensors[node.inputs[i]] for i in indices]
    if any(t.data is None for t in tensors):
        raise node.error(f"the {suffix} must be constants")
    data = np.stack([t.data for t in tensors])  # type: ignore[misc]
    quant = None
    if all(t.quant is not None for t in tensors):
        scales = [t.scalar_quant() for t in tensors]
        quant = QuantParams(np.array([s for s, _ in scales], np.float32),
                            np.array([z for _, z in scales], np.int64), 0)
    return node.graph.add_const(f"{node.name}/{suffix}", data, quant)


def unidirectional_sequence_lstm(node: Node) -> list[Op]:
    o = node.opts
    missing = [i for i in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES) if not _present(node, i)]
    if missing and 1 in missing:
        raise node.error("an LSTM without input gate (CIFG, coupled input and forget gates) is not "
                         "supported; TFLite Micro does not run it either")
    if missing:
        raise node.error(f"inputs {missing} (weights or biases) are missing")
    variants = {"peephole connections": PEEPHOLES, "a projection layer": PROJECTION,
                "layer normalization": LAYER_NORM}
    for what, indices in variants.items():
        if any(_present(node, i) for i in indices):
            raise node.error(f"an LSTM with {what} is not supported (nor by TFLite Micro); a Keras "
                             "LSTM layer converted by TF's converter gives a supported form")
    if o.fusedActivationFunction != TANH:
        raise node.error(f"cell activation {o.fusedActivationFunction} is not supported, only TANH "
                         "(Keras' default activation='tanh')")
    if o.projClip:
        raise node.error("proj_clip is not supported")
    x = node.graph.tensors[node.inputs[0]]
    attrs: dict = {"time_major": bool(o.timeMajor), "cell_clip": float(o.cellClip)}
    if x.dtype == "int8":
        _check_states(node)
        attrs["cell_scale"] = float(node.graph.tensors[node.inputs[CELL_STATE]].scalar_quant()[0])
        # TFLite Micro computes in the hidden state's encoding and copies its bytes to the output
        attrs["hidden_scale"], attrs["hidden_zero_point"] = node.graph.tensors[
            node.inputs[HIDDEN_STATE]].scalar_quant()
        steps = x.shape[0] if o.timeMajor else x.shape[1]
        if all(_variable(node, i) for i in (HIDDEN_STATE, CELL_STATE)):  # stateful area
            attrs["variable_state"] = True  # what --keep-state keeps (keep_state below)
            if steps == 1:
                attrs["stateful"] = True  # streaming: one time step per call continues the sequence
    elif x.dtype == "float32":
        return _unrolled(node, bool(o.timeMajor), float(o.cellClip))
    else:
        raise node.error(f"input type {x.dtype} is not supported (int8 or float32)")
    inputs = [node.inputs[0], _packed(node, INPUT_WEIGHTS, "input_weights"),
              _packed(node, RECURRENT_WEIGHTS, "recurrent_weights"), _packed(node, BIASES, "bias")]
    return [node.op("UNIDIRECTIONAL_SEQUENCE_LSTM", attrs, inputs)]


def _unrolled(node: Node, time_major: bool, clip: float) -> list[Op]:
    """The float LSTM (Keras through TF's float converter) as per-step IR ops (rnn_cells), which
    mcuforge then quantizes like any float graph. The state starts at zero."""
    graph = node.graph
    for i in (HIDDEN_STATE, CELL_STATE):
        t = graph.tensors[node.inputs[i]] if _present(node, i) else None
        if t is not None and t.data is not None and np.any(t.data != 0):
            raise node.error(f"a non-zero initial state in '{t.name}' is not supported")
    ops: list[Op] = []

    def add_op(kind: str, inputs: list[str], attrs: dict, suffix: str) -> str:
        name = graph.unique_name(f"{node.name}/{suffix}")
        op = Op(kind, name, inputs, [name], attrs)
        (shape,) = infer_shapes(op, [graph.tensors[n].shape for n in inputs])
        graph.add_tensor(Tensor(name, tuple(int(d) for d in shape), "float32"))
        ops.append(op)
        return name

    def add_const(data: np.ndarray, suffix: str) -> str:
        return graph.add_const(f"{node.name}/{suffix}", data)

    x = node.inputs[0]
    d0, d1, features = graph.tensors[x].shape
    steps, batches = (d0, d1) if time_major else (d1, d0)
    w, r, b = ([graph.tensors[node.inputs[i]].data for i in idx]
               for idx in (INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES))
    if any(a is None for a in (*w, *r, *b)):
        raise node.error("weights and biases must be constants")
    cells = Cells(add_op, add_const)
    h: str | None = None
    c: str | None = None
    outs = []
    axis = 0 if time_major else 1
    for t in range(steps):
        xt = add_op("STRIDED_SLICE", [x], step_slice((d0, d1, features), axis, t), f"x{t}")
        xt = add_op("RESHAPE", [xt], {"shape": (batches, features)}, f"x{t}_2d")
        h, c = cells.lstm_step(xt, h, c, w, r, b, f"t{t}_", clip)  # type: ignore[arg-type]
        hidden = graph.tensors[h].shape[-1]
        outs.append(add_op("RESHAPE", [h], {"shape": (1, batches, hidden) if time_major
                                            else (batches, 1, hidden)}, f"y{t}"))
    final = node.outputs[0]
    last = ops.pop() if len(outs) == 1 else None
    if last is not None:
        ops.append(Op("RESHAPE", final, last.inputs, [final], last.attrs))
    else:
        ops.append(Op("CONCATENATION", final, outs, [final], {"axis": axis, "activation": "NONE"}))
    return ops


def _variable(node: Node, i: int) -> bool:
    """Whether input i is a variable tensor: no data, no producer, not a model input. TFLite
    Micro keeps such a tensor from one invocation to the next (until the interpreter is reset),
    so the LSTM continues its sequence across calls (stateful area)."""
    t = node.graph.tensors[node.inputs[i]]
    return (t.data is None and t.name not in node.graph.inputs
            and not any(t.name in op.outputs for op in node.graph.ops))


def _check_states(node: Node) -> None:
    """The int8 form: hidden state int8, cell state int16 at a power-of-two scale, both
    starting at zero (TFLite Micro resets them so)."""
    hidden = node.graph.tensors[node.inputs[HIDDEN_STATE]] if _present(node, HIDDEN_STATE) else None
    cell = node.graph.tensors[node.inputs[CELL_STATE]] if _present(node, CELL_STATE) else None
    if hidden is None or cell is None or hidden.quant is None or cell.quant is None:
        raise node.error("the int8 LSTM needs quantized hidden and cell state tensors")
    if cell.dtype != "int16" or hidden.dtype != "int8":
        raise node.error(f"state types {hidden.dtype}/{cell.dtype} are not supported (int8 hidden, "
                         "int16 cell: TF's int8 conversion)")
    scale = float(cell.scalar_quant()[0])
    if scale <= 0 or abs(np.log2(scale) - round(np.log2(scale))) > 1e-6:
        raise node.error(f"cell state scale {scale} is not a power of two")
    for t in (hidden, cell):
        if t.data is not None and np.any(t.data.astype(np.int64) != t.scalar_quant()[1]):
            raise node.error(f"a non-zero initial state in '{t.name}' is not supported")


def while_loop(node: Node) -> list[Op]:
    raise node.error("control flow (WHILE) is not supported: an RNN/LSTM/GRU layer TF's converter did "
                     "not fuse (a Keras 3 layer, a tf_keras GRU/SimpleRNN, or a free batch); compile the "
                     ".keras/.h5 file itself (mcuforge unrolls its recurrent layers), or before "
                     "TFLiteConverter.from_keras_model set unroll=True on those layers or give a tf_keras "
                     "LSTM's Input batch_size=1 (a fused UNIDIRECTIONAL_SEQUENCE_LSTM)")


def keep_state(graph: Graph) -> Graph:
    """--keep-state (CompileOptions.keep_state): every int8 LSTM whose hidden and cell state are
    variable tensors keeps them from one call to the next whatever its number of time steps, as
    TFLite Micro does until its interpreter is reset (several frames per call continuing one
    stream until NAME_reset()). A new graph; MfError if no LSTM of the model has such state."""
    g = copy.deepcopy(graph)
    kept = [op for op in g.ops
            if op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM" and op.attrs.get("variable_state")]
    if not kept:
        raise MfError(f"{graph.source}: --keep-state keeps the state of int8 LSTMs (TFLite "
                      "UNIDIRECTIONAL_SEQUENCE_LSTM with variable state tensors, as TF's int8 converter "
                      "writes them) and the model has none; float and ONNX recurrent layers are unrolled "
                      "and start from zero on every call")
    for op in kept:
        op.attrs["stateful"] = True
    return g


CONVERTERS_RECURRENT: dict[str, Converter] = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": unidirectional_sequence_lstm,
    "WHILE": while_loop,
}
