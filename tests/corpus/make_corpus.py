"""The malformed-input corpus: hostile TFLite flatbuffers, ONNX protobufs and file names.

`make_corpus(folder)` writes every case into `folder` (at test time, a tmp dir) and returns them.
Each case must make `mcuforge inspect` and `mcuforge compile` print one `mcuforge: error:` line
and exit 2. The TFLite cases start from a small int8 model built with TFLite Micro's schema
module (no TensorFlow), the ONNX cases from a small float model built with onnx.helper; each edit
breaks one thing. Run it alone to look at the files: `python tests/corpus/make_corpus.py DIR`.
"""

from __future__ import annotations

import copy
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
from onnx import TensorProto, helper, numpy_helper
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    # "error": both commands refuse it; "compile": compile refuses (inspect may show it);
    # "any": a valid model after all (a hostile name, a harmless bit flip): exit 0 or a clean error.
    expect: str = "error"


FINDINGS = Path(__file__).parent / "findings"

# Cases that are valid models: only a clean outcome is required.
MAY_PASS = {"tfl_name_with_quotes", "tfl_name_with_newline_and_comment_end", "tfl_name_empty_duplicate",
            "tfl_output_is_input", "onnx_tensor_name_quotes", "onnx_tensor_name_comment_end",
            "onnx_node_name_newline"}
INSPECT_MAY_PASS = {"tfl_no_quantization_on_int8"}


# -- TFLite -----------------------------------------------------------------------------------------


def _quant(scale: list[float], zp: list[int], axis: int = 0) -> Any:
    q = fb.QuantizationParametersT()
    q.scale, q.zeroPoint, q.quantizedDimension = scale, zp, axis
    return q


def _tensor(name: str, shape: list[int], ttype: int, buffer: int, quant: Any) -> Any:
    t = fb.TensorT()
    t.name, t.shape, t.type, t.buffer, t.quantization = name.encode(), shape, ttype, buffer, quant
    return t


def _buffer(data: bytes = b"") -> Any:
    b = fb.BufferT()
    b.data = list(data) if data else None
    return b


def tflite_base() -> Any:
    """input (1,4,4,2) int8 -> CONV_2D 1x1, 3 filters, per-channel int8 weights -> ADD with itself."""
    w = np.arange(6, dtype=np.int8).reshape(3, 1, 1, 2) - 3
    bias = np.array([10, -20, 30], np.int32)
    m = fb.ModelT()
    m.version = 3
    code_conv, code_add = fb.OperatorCodeT(), fb.OperatorCodeT()
    code_conv.builtinCode = code_conv.deprecatedBuiltinCode = fb.BuiltinOperator.CONV_2D
    code_add.builtinCode = code_add.deprecatedBuiltinCode = fb.BuiltinOperator.ADD
    code_conv.version = code_add.version = 1
    m.operatorCodes = [code_conv, code_add]
    m.buffers = [_buffer(), _buffer(w.tobytes()), _buffer(bias.tobytes()), _buffer(), _buffer(), _buffer()]
    sub = fb.SubGraphT()
    sub.tensors = [
        _tensor("input", [1, 4, 4, 2], fb.TensorType.INT8, 3, _quant([0.05], [-3])),
        _tensor("conv/weights", [3, 1, 1, 2], fb.TensorType.INT8, 1, _quant([0.01, 0.02, 0.03], [0, 0, 0])),
        _tensor("conv/bias", [3], fb.TensorType.INT32, 2, _quant([0.0005, 0.001, 0.0015], [0, 0, 0])),
        _tensor("conv/out", [1, 4, 4, 3], fb.TensorType.INT8, 4, _quant([0.1], [2])),
        _tensor("output", [1, 4, 4, 3], fb.TensorType.INT8, 5, _quant([0.2], [-1])),
    ]
    conv, add = fb.OperatorT(), fb.OperatorT()
    conv.opcodeIndex, conv.inputs, conv.outputs = 0, [0, 1, 2], [3]
    conv.builtinOptionsType = fb.BuiltinOptions.Conv2DOptions
    opts = fb.Conv2DOptionsT()
    opts.padding, opts.strideW, opts.strideH, opts.dilationWFactor, opts.dilationHFactor = 0, 1, 1, 1, 1
    conv.builtinOptions = opts
    add.opcodeIndex, add.inputs, add.outputs = 1, [3, 3], [4]
    add.builtinOptionsType = fb.BuiltinOptions.AddOptions
    add.builtinOptions = fb.AddOptionsT()
    sub.operators, sub.inputs, sub.outputs, sub.name = [conv, add], [0], [4], b"main"
    m.subgraphs = [sub]
    m.description = b"corpus"
    return m


def pack(m: Any) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _edit(fn: Callable[[Any], None]) -> Callable[[], bytes]:
    def make() -> bytes:
        m = tflite_base()
        fn(m)
        return pack(m)
    return make


def _sub(m: Any) -> Any:
    return m.subgraphs[0]


def _set(obj_path: Callable[[Any], Any], attr: str, value: Any) -> Callable[[Any], None]:
    return lambda m: setattr(obj_path(m), attr, value)


def _tensor_of(i: int) -> Callable[[Any], Any]:
    return lambda m: _sub(m).tensors[i]


def _quant_of(i: int) -> Callable[[Any], Any]:
    return lambda m: _sub(m).tensors[i].quantization


def _control_flow(code: int) -> Callable[[Any], None]:
    def edit(m: Any) -> None:
        m.operatorCodes[1].builtinCode = m.operatorCodes[1].deprecatedBuiltinCode = code
        m.subgraphs.append(copy.deepcopy(_sub(m)))
        _sub(m).operators[1].builtinOptionsType = 0
        _sub(m).operators[1].builtinOptions = None
    return edit


def _custom(m: Any) -> None:
    m.operatorCodes[1].builtinCode = m.operatorCodes[1].deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
    m.operatorCodes[1].customCode = b"MyCustomOp*/\n"
    _sub(m).operators[1].customOptions = [1, 2, 3]


def _clear_graph(m: Any) -> None:
    _sub(m).operators, _sub(m).inputs, _sub(m).outputs = [], [], []


def _no_subgraphs(m: Any) -> None:
    m.subgraphs = []


def _cycle(m: Any) -> None:
    _sub(m).operators[0].inputs = [4, 1, 2]  # conv reads the add's output: a cycle


def _nameless_unsupported(m: Any) -> None:
    """An unsupported op whose output has no name (the error names it anyway; found by atheris)."""
    _sub(m).tensors[4].name = None
    m.operatorCodes[1].builtinCode = 200


def _svdf(m: Any) -> None:
    """TFLite Micro's SVDF example shape: SVDF with a variable (stateful) int16 tensor, no buffer."""
    m.operatorCodes[1].builtinCode = m.operatorCodes[1].deprecatedBuiltinCode = fb.BuiltinOperator.SVDF
    state = _tensor("svdf/state", [1, 12], fb.TensorType.INT16, 0, _quant([0.01], [0]))
    state.isVariable = True
    _sub(m).tensors.append(state)
    op = _sub(m).operators[1]
    op.inputs = [3, 1, 1, 2, len(_sub(m).tensors) - 1]
    op.builtinOptionsType = fb.BuiltinOptions.SVDFOptions
    op.builtinOptions = fb.SVDFOptionsT()
    op.builtinOptions.rank = 1


def _big_weights(m: Any) -> None:
    _sub(m).tensors[1].shape = [3, 1, 1, 2000]  # more weights than the buffer holds


TFLITE_EDITS: dict[str, Callable[[Any], None]] = {
    "op_input_index_99": lambda m: setattr(_sub(m).operators[0], "inputs", [99, 1, 2]),
    "op_input_index_negative": lambda m: setattr(_sub(m).operators[0], "inputs", [-5, 1, 2]),
    "op_output_index_99": lambda m: setattr(_sub(m).operators[1], "outputs", [99]),
    "graph_input_index_50": lambda m: setattr(_sub(m), "inputs", [50]),
    "graph_output_index_negative": lambda m: setattr(_sub(m), "outputs", [-2]),
    "opcode_index_out_of_range": lambda m: setattr(_sub(m).operators[1], "opcodeIndex", 7),
    "buffer_index_out_of_range": _set(_tensor_of(1), "buffer", 40),
    "weights_larger_than_buffer": _big_weights,
    "dim_negative": _set(_tensor_of(0), "shape", [1, -4, 4, 2]),
    "dim_zero": _set(_tensor_of(0), "shape", [1, 0, 4, 2]),
    "dims_product_beyond_2_31": lambda m: [setattr(t, "shape", [1, 65536, 65536, t.shape[-1]])
                                           for t in (_sub(m).tensors[0], *_sub(m).tensors[3:])] and None,
    "dim_huge_single": _set(_tensor_of(0), "shape", [1, 4, 4, 2**31 - 1]),
    "rank_zero_input": _set(_tensor_of(0), "shape", []),
    "rank_seven_input": _set(_tensor_of(0), "shape", [1, 1, 1, 1, 4, 4, 2]),
    "scale_zero": _set(_quant_of(3), "scale", [0.0]),
    "scale_negative": _set(_quant_of(3), "scale", [-0.1]),
    "scale_nan": _set(_quant_of(0), "scale", [float("nan")]),
    "scale_inf": _set(_quant_of(4), "scale", [float("inf")]),
    "weight_scale_nan": _set(_quant_of(1), "scale", [0.01, float("nan"), 0.03]),
    "weight_scale_zero": _set(_quant_of(1), "scale", [0.01, 0.0, 0.03]),
    "zero_point_300": _set(_quant_of(3), "zeroPoint", [300]),
    "zero_point_minus_1000": _set(_quant_of(0), "zeroPoint", [-1000]),
    "per_channel_scale_count": _set(_quant_of(1), "scale", [0.01, 0.02]),
    "per_channel_zero_point_count": _set(_quant_of(1), "zeroPoint", [0, 0]),
    "quantized_dimension_5": _set(_quant_of(1), "quantizedDimension", 5),
    "no_quantization_on_int8": _set(_tensor_of(3), "quantization", None),
    "op_version_99": lambda m: setattr(m.operatorCodes[0], "version", 99),
    "unknown_builtin_code": lambda m: [setattr(m.operatorCodes[1], a, v)
                                       for a, v in (("builtinCode", 250), ("deprecatedBuiltinCode", 127))]
                                      and None,
    "custom_op": _custom,
    "while_with_subgraph": _control_flow(fb.BuiltinOperator.WHILE),
    "if_with_subgraph": _control_flow(fb.BuiltinOperator.IF),
    "empty_graph": _clear_graph,
    "no_subgraphs": _no_subgraphs,
    "input_int64": _set(_tensor_of(0), "type", fb.TensorType.INT64),
    "input_float16": _set(_tensor_of(0), "type", fb.TensorType.FLOAT16),
    "weights_int64": _set(_tensor_of(1), "type", fb.TensorType.INT64),
    "bias_float16": _set(_tensor_of(2), "type", fb.TensorType.FLOAT16),
    "stride_zero": lambda m: setattr(_sub(m).operators[0].builtinOptions, "strideW", 0),
    "dilation_negative": lambda m: setattr(_sub(m).operators[0].builtinOptions, "dilationHFactor", -2),
    "padding_unknown": lambda m: setattr(_sub(m).operators[0].builtinOptions, "padding", 9),
    "options_missing": lambda m: [setattr(_sub(m).operators[0], a, v)
                                  for a, v in (("builtinOptionsType", 0), ("builtinOptions", None))] and None,
    "op_without_inputs": lambda m: setattr(_sub(m).operators[1], "inputs", None),  # found by atheris
    "op_with_two_outputs": lambda m: setattr(_sub(m).operators[1], "outputs", [4, 3]),
    "tensor_without_name": _nameless_unsupported,
    "conv_missing_weights": lambda m: setattr(_sub(m).operators[0], "inputs", [0]),
    "cycle": _cycle,
    "svdf_with_variable_state": _svdf,
    "name_with_quotes": _set(_tensor_of(3), "name", b"conv\"'`$(rm -rf /)"),
    "name_with_newline_and_comment_end": _set(_tensor_of(4), "name", b"out*/\n#include <evil.h>\n/*"),
    "name_not_utf8": _set(_tensor_of(0), "name", b"in\xff\xfe\xc3("),
    "name_empty_duplicate": lambda m: [setattr(t, "name", b"") for t in _sub(m).tensors] and None,
    "fused_activation_unknown": lambda m: setattr(_sub(m).operators[0].builtinOptions,
                                                  "fusedActivationFunction", 77),
    "output_is_input": lambda m: setattr(_sub(m), "outputs", [0]),
}


def tflite_bytes_cases() -> dict[str, bytes]:
    good = pack(tflite_base())
    cases = {f"tfl_{k}": _edit(fn)() for k, fn in TFLITE_EDITS.items()}
    for n in (4, 8, 24, len(good) // 2, len(good) - 1):
        cases[f"tfl_truncated_{n}"] = good[:n]
    rng = random.Random(14)
    for i in range(8):
        data = bytearray(good)
        for _ in range(1 + i % 3):
            pos = rng.randrange(8, len(data))
            data[pos] ^= 1 << rng.randrange(8)
        cases[f"tfl_bitflip_{i}"] = bytes(data)
    cases["tfl_magic_only"] = b"\x00\x00\x00\x00TFL3"
    cases["tfl_offset_loop"] = b"\x04\x00\x00\x00TFL3" + b"\x04\x00\x00\x00" * 8
    return cases


# -- ONNX -------------------------------------------------------------------------------------------


def onnx_base() -> Any:
    """x (1,2,5,5) float -> Conv 3x3 (4 filters) -> Relu -> y."""
    w = (np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3) - 36) / 50
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y"], name="relu")],
        "base", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.ones(4, np.float32), "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _qdq(scale: float, zp: int, zp_type: int = TensorProto.INT8, scales: list[float] | None = None) -> Any:
    """base with a QuantizeLinear/DequantizeLinear pair on the input."""
    m = onnx_base()
    g = m.graph
    s = scales if scales is not None else [scale]
    g.initializer.extend([
        helper.make_tensor("qs", TensorProto.FLOAT, [len(s)] if scales is not None else [], s),
        helper.make_tensor("qz", zp_type, [], [zp]),
    ])
    nodes = [helper.make_node("QuantizeLinear", ["x", "qs", "qz"], ["xq"], name="q"),
             helper.make_node("DequantizeLinear", ["xq", "qs", "qz"], ["xd"], name="dq")]
    g.node[0].input[0] = "xd"
    g.node.insert(0, nodes[1])
    g.node.insert(0, nodes[0])
    return m


def _onnx_edit(fn: Callable[[Any], None]) -> Callable[[], Any]:
    def make() -> Any:
        m = onnx_base()
        fn(m)
        return m
    return make


def _shape(dims: list[Any]) -> Callable[[Any], None]:
    def edit(m: Any) -> None:
        t = m.graph.input[0].type.tensor_type
        t.shape.Clear()
        for d in dims:
            dim = t.shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d
    return edit


def _elem_type(t: int) -> Callable[[Any], None]:
    return lambda m: setattr(m.graph.input[0].type.tensor_type, "elem_type", t)


def _replace_node(node: Any, index: int = 1) -> Callable[[Any], None]:
    def edit(m: Any) -> None:
        del m.graph.node[index]
        m.graph.node.insert(index, node)
    return edit


def _onnx_cycle(m: Any) -> None:
    m.graph.node[0].input[0] = "y"


def _missing_init(m: Any) -> None:
    del m.graph.initializer[0]


def _opset(version: int) -> Callable[[Any], None]:
    return lambda m: setattr(m.opset_import[0], "version", version)


def _if_node(m: Any) -> None:
    branch = helper.make_graph([helper.make_node("Identity", ["c"], ["y_b"])], "branch", [],
                               [helper.make_tensor_value_info("y_b", TensorProto.FLOAT, [1, 4, 5, 5])])
    m.graph.initializer.append(helper.make_tensor("cond", TensorProto.BOOL, [], [True]))
    _replace_node(helper.make_node("If", ["cond"], ["y"], name="if", then_branch=branch,
                                   else_branch=branch))(m)


def _loop_node(m: Any) -> None:
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Relu", ["v_in"], ["v_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1, 4, 5, 5])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, 4, 5, 5])])
    m.graph.initializer.extend([helper.make_tensor("trip", TensorProto.INT64, [], [3]),
                                helper.make_tensor("cond", TensorProto.BOOL, [], [True])])
    _replace_node(helper.make_node("Loop", ["trip", "cond", "c"], ["y"], name="loop", body=body))(m)


def _external_data(m: Any) -> None:
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "288")):
        e = t.external_data.add()
        e.key, e.value = k, v


def _short_raw(m: Any) -> None:
    t = m.graph.initializer[0]
    t.raw_data = t.raw_data[:10] if t.raw_data else np.zeros(2, np.float32).tobytes()
    t.ClearField("float_data")


def _rename(old: str, new: str) -> Callable[[Any], None]:
    def edit(m: Any) -> None:
        for n in m.graph.node:
            n.input[:] = [new if i == old else i for i in n.input]
            n.output[:] = [new if o == old else o for o in n.output]
    return edit


def _duplicate_output(m: Any) -> None:
    m.graph.node.append(helper.make_node("Relu", ["c"], ["y"], name="relu_again"))


def _no_outputs(m: Any) -> None:
    del m.graph.output[:]


def _no_inputs(m: Any) -> None:
    del m.graph.input[:]


def _empty(m: Any) -> None:
    del m.graph.node[:]


ONNX_EDITS: dict[str, Callable[[], Any]] = {
    "cycle": _onnx_edit(_onnx_cycle),
    "missing_initializer": _onnx_edit(_missing_init),
    "unknown_op": _onnx_edit(_replace_node(helper.make_node("FooBar", ["c"], ["y"], name="foo"))),
    "custom_domain_op": _onnx_edit(_replace_node(helper.make_node("Relu", ["c"], ["y"], name="cr",
                                                                   domain="com.evil"))),
    "opset_99": _onnx_edit(_opset(99)),
    "opset_1": _onnx_edit(_opset(1)),
    "if_subgraph": _onnx_edit(_if_node),
    "loop_subgraph": _onnx_edit(_loop_node),
    "empty_graph": _onnx_edit(_empty),
    "no_outputs": _onnx_edit(_no_outputs),
    "no_inputs": _onnx_edit(_no_inputs),
    "dim_negative": _onnx_edit(_shape([1, 2, -5, 5])),
    "dim_zero": _onnx_edit(_shape([1, 2, 0, 5])),
    "dims_product_beyond_2_31": _onnx_edit(_shape([1, 2, 65536, 65536])),
    "rank_zero_input": _onnx_edit(_shape([])),
    "input_int64": _onnx_edit(_elem_type(TensorProto.INT64)),
    "input_float16": _onnx_edit(_elem_type(TensorProto.FLOAT16)),
    "input_string": _onnx_edit(_elem_type(TensorProto.STRING)),
    "qdq_scale_zero": lambda: _qdq(0.0, 0),
    "qdq_scale_negative": lambda: _qdq(-0.1, 0),
    "qdq_scale_nan": lambda: _qdq(float("nan"), 0),
    "qdq_scale_inf": lambda: _qdq(float("inf"), 0),
    "qdq_zero_point_out_of_range": lambda: _qdq(0.1, 300, TensorProto.INT32),
    "qdq_zero_point_int64": lambda: _qdq(0.1, 3, TensorProto.INT64),
    "qdq_per_channel_count": lambda: _qdq(0.1, 0, scales=[0.1, 0.2, 0.3]),
    "external_data_outside": _onnx_edit(_external_data),
    "initializer_short_raw_data": _onnx_edit(_short_raw),
    "duplicate_output_name": _onnx_edit(_duplicate_output),
    "conv_strides_zero": _onnx_edit(lambda m: m.graph.node[0].attribute.append(
        helper.make_attribute("strides", [0, 0]))),
    "conv_group_mismatch": _onnx_edit(lambda m: m.graph.node[0].attribute.append(
        helper.make_attribute("group", 3))),
    "conv_kernel_shape_mismatch": _onnx_edit(lambda m: m.graph.node[0].attribute.append(
        helper.make_attribute("kernel_shape", [7, 7]))),
    "conv_pads_huge": _onnx_edit(lambda m: m.graph.node[0].attribute[0].CopyFrom(
        helper.make_attribute("pads", [2**40, 1, 1, 1]))),
    "tensor_name_quotes": _onnx_edit(_rename("c", "c\"'`$(x)")),
    "tensor_name_comment_end": _onnx_edit(_rename("c", "c*/\n#error pwned\n/*")),
    "node_name_newline": _onnx_edit(lambda m: setattr(m.graph.node[0], "name", "conv\n\r\x00*/")),
    "weights_int64": _onnx_edit(lambda m: m.graph.initializer[0].CopyFrom(
        numpy_helper.from_array(np.ones((4, 2, 3, 3), np.int64), "w"))),
    "weights_float16": _onnx_edit(lambda m: m.graph.initializer[0].CopyFrom(
        numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float16), "w"))),
}


def onnx_bytes_cases() -> dict[str, bytes]:
    cases = {f"onnx_{k}": make().SerializeToString() for k, make in ONNX_EDITS.items()}
    good = onnx_base().SerializeToString()
    for n in (1, 7, len(good) // 3, len(good) - 2):
        cases[f"onnx_truncated_{n}"] = good[:n]
    rng = random.Random(41)
    for i in range(6):
        data = bytearray(good)
        for _ in range(1 + i % 3):
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        cases[f"onnx_bitflip_{i}"] = bytes(data)
    cases["onnx_not_protobuf"] = b"this is not a model\n" * 4
    return cases


# -- file names -------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    'quote"and\'tick.tflite',
    "new\nline.onnx",
    "comment*end.tflite",
    "dollar$(id).onnx",
    " leading space.tflite",
    "-o.onnx",
]


def make_corpus(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in {**tflite_bytes_cases(), **onnx_bytes_cases()}.items():
        suffix = ".tflite" if name.startswith("tfl_") else ".onnx"
        p = folder / f"{name}{suffix}"
        p.write_bytes(data)
        bitflip = "_bitflip_" in name
        out.append(Case(name, p, "any" if name in MAY_PASS or bitflip else
                        "compile" if name in INSPECT_MAY_PASS else "error"))
    truncated = pack(tflite_base())[:40]
    for i, name in enumerate(HOSTILE_NAMES):
        p = folder / name
        p.write_bytes(truncated if name.endswith(".tflite") else onnx_base().SerializeToString()[:30])
        out.append(Case(f"file_name_{i}", p))
    if os.name == "posix":
        p = Path(os.fsdecode(bytes(folder) + b"/not\xffutf8\xfe.tflite"))
        p.write_bytes(truncated)
        out.append(Case("file_name_not_utf8", p))
    (folder / "dir.onnx").mkdir(exist_ok=True)
    out.append(Case("directory_named_onnx", folder / "dir.onnx"))
    p = folder / "tflite_as.onnx"
    p.write_bytes(pack(tflite_base()))
    out.append(Case("tflite_named_onnx", p))
    p = folder / "onnx_as.tflite"
    p.write_bytes(onnx_base().SerializeToString())
    out.append(Case("onnx_named_tflite", p))
    for found in sorted(FINDINGS.glob("*_finding_*")):  # crashes tests/fuzz_loaders.py found, fixed
        p = folder / found.name
        p.write_bytes(found.read_bytes())
        out.append(Case(found.stem, p))
    p = folder / "unknown.bin"
    p.write_bytes(b"\x00" * 16)
    out.append(Case("unknown_format", p))
    out.append(Case("missing_file", folder / "does_not_exist.onnx"))
    return out


if __name__ == "__main__":
    cases = make_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus"))
    print(f"{len(cases)} cases")
