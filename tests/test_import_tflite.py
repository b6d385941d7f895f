"""The TFLite importer: real MLPerf Tiny models, small converted Keras models, edited and broken
flatbuffers. TensorFlow's interpreter is the oracle for the imported float graphs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
import pytest
import tflite_models as zoo
from model_paths import mlperf_model
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.importers.tflite_import import import_tflite_bytes
from mcuforge.ir.graph import Graph
from mcuforge.ir.verify import verify
from mcuforge.reference import run

FLOAT_MODELS = ["ad_fcae_float", "ic_resnet8_float", "kws_dscnn_float", "vww_mbv1_float"]
INT8_MODELS = ["ad_fcae_int8", "ic_resnet8_int8", "kws_dscnn_int8", "vww_mbv1_int8"]


def tflite_outputs(data: bytes, x: np.ndarray) -> np.ndarray:
    """TensorFlow Lite's own output for a single-input, single-output model."""
    with quiet_tensorflow():
        import tensorflow as tf

        interp = tf.lite.Interpreter(model_content=data)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    """Equal within 1e-4 relative to the output's magnitude."""
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


def compare_with_tflite(graph: Graph, data: bytes, samples: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    (name,) = graph.inputs
    for _ in range(samples):
        x = rng.uniform(-1.0, 1.0, graph.tensors[name].shape).astype(np.float32)
        (got,) = run(graph, {name: x}).values()
        assert_close(got, tflite_outputs(data, x))


def edited(data: bytes, edit: Callable[[Any], None]) -> bytes:
    """The flatbuffer after `edit` changed its unpacked model (fb.ModelT)."""
    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def kinds(graph: Graph) -> set[str]:
    return {op.kind for op in graph.ops}


# -- MLPerf Tiny models ---------------------------------------------------------------------


@pytest.mark.parametrize("name", FLOAT_MODELS + INT8_MODELS)
def test_mlperf_imports_and_verifies(name: str) -> None:
    graph = load_model(mlperf_model(f"{name}.tflite"))
    verify(graph)
    assert graph.source_format == "tflite"
    assert graph.io_layouts == {}
    assert graph.ops[-1].kind in ("SOFTMAX", "FULLY_CONNECTED")
    dtype = "int8" if name.endswith("int8") else "float32"
    assert all(graph.tensors[n].dtype == dtype for n in graph.inputs + graph.outputs)


def dequantize_weights(model: Any) -> None:
    """Store int8 weights of float ops as float32. Hybrid ops (float activations, int8 weights)
    quantize their input on the fly in TFLite; the importer makes them plain float ops, so this is
    the TFLite model to compare with."""
    sub = model.subgraphs[0]
    for op in sub.operators:
        if sub.tensors[op.inputs[0]].type != fb.TensorType.FLOAT32:
            continue
        for t in (sub.tensors[i] for i in op.inputs[1:] if i >= 0):
            if t.type == fb.TensorType.INT8 and model.buffers[t.buffer].data is not None:
                q = model.buffers[t.buffer].data.view(np.int8).reshape(t.shape).astype(np.float32)
                shape = [1] * q.ndim
                shape[t.quantization.quantizedDimension] = -1
                scale = np.asarray(t.quantization.scale, np.float32).reshape(shape if q.ndim else ())
                zero = np.asarray(t.quantization.zeroPoint, np.float32).reshape(shape if q.ndim else ())
                real = ((q - zero) * scale).astype(np.float32)
                model.buffers[t.buffer].data = np.frombuffer(real.tobytes(), np.uint8)
                t.type, t.quantization = fb.TensorType.FLOAT32, None


@pytest.mark.slow
@pytest.mark.parametrize("name", FLOAT_MODELS)
def test_mlperf_float_matches_tflite_interpreter(name: str) -> None:
    path = mlperf_model(f"{name}.tflite")
    compare_with_tflite(load_model(path), edited(path.read_bytes(), dequantize_weights), samples=2)


def test_hybrid_weights_become_float() -> None:
    graph = load_model(mlperf_model("kws_dscnn_float.tflite"))
    for op in graph.ops:
        assert all(t is None or t.dtype == "float32" for t in graph.op_inputs(op)), op.name


@pytest.mark.parametrize("name", INT8_MODELS)
def test_mlperf_int8_quant_params(name: str) -> None:
    graph = load_model(mlperf_model(f"{name}.tflite"))
    for op in graph.ops:
        for tensor in graph.op_inputs(op) + graph.op_outputs(op):
            assert tensor is not None and tensor.quant is not None, f"{op.name}: {tensor}"
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            x, w, b = graph.op_inputs(op)
            assert x is not None and w is not None and b is not None
            axis = 0 if op.kind == "CONV_2D" else 3
            assert (w.dtype, b.dtype) == ("int8", "int32")
            assert w.quant is not None and w.quant.axis == axis
            assert w.quant.scale.shape == (w.shape[axis],)
            assert not w.quant.zero_point.any()


def test_kws_int8_op_kinds_and_attrs() -> None:
    graph = load_model(mlperf_model("kws_dscnn_int8.tflite"))
    assert [op.kind for op in graph.ops].count("DEPTHWISE_CONV_2D") == 4
    first = graph.ops[0]
    # 49x10 input, 10x4 kernel, stride 2, SAME: TFLite puts the odd padding pixel after.
    assert first.attrs["pads"] == (4, 1, 5, 1)
    assert all(op.attrs["depth_multiplier"] == 1 for op in graph.ops if op.kind == "DEPTHWISE_CONV_2D")
    assert graph.ops[-1].attrs == {"beta": 1.0}


def test_dynamic_batch_takes_given_shape() -> None:
    graph = load_model(mlperf_model("kws_dscnn_float.tflite"), {"input_1": (2, 49, 10, 1)})
    assert graph.tensors[graph.inputs[0]].shape == (2, 49, 10, 1)
    assert graph.tensors[graph.outputs[0]].shape == (2, 12)


def test_given_shape_must_fit() -> None:
    path = mlperf_model("kws_dscnn_float.tflite")
    with pytest.raises(MfError, match=r"input_1=1,49,11,1 does not fit"):
        load_model(path, {"input_1": (1, 49, 11, 1)})
    with pytest.raises(MfError, match=r"inputs are \['input_1'\]"):
        load_model(path, {"nope": (1, 49, 10, 1)})


def _free_time_axis(model: Any) -> None:
    sub = model.subgraphs[0]
    sub.tensors[sub.inputs[0]].shapeSignature = np.array([-1, -1, 10, 1], dtype=np.int32)


def test_dynamic_non_batch_dim_needs_input_shape() -> None:
    data = edited(mlperf_model("kws_dscnn_float.tflite").read_bytes(), _free_time_axis)
    with pytest.raises(MfError, match=r"'input_1' has a dynamic dimension 1.*--input-shape input_1=1,1,10,1"):
        import_tflite_bytes(data, {})
    graph = import_tflite_bytes(data, {"input_1": (1, 49, 10, 1)})
    assert graph.tensors["input_1"].shape == (1, 49, 10, 1)


def test_declared_shape_mismatch_names_op() -> None:
    def wrong_shape(model: Any) -> None:
        sub = model.subgraphs[0]
        out = sub.tensors[sub.operators[0].outputs[0]]
        out.shape = out.shapeSignature = np.array([1, 24, 5, 64], dtype=np.int32)

    data = edited(mlperf_model("kws_dscnn_float.tflite").read_bytes(), wrong_shape)
    message = r"CONV_2D '.*': output .* has shape \(1, 25, 5, 64\).*says \(1, 24, 5, 64\)"
    with pytest.raises(MfError, match=message):
        import_tflite_bytes(data, {})


# -- small Keras models converted by TensorFlow -----------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(zoo.keras_zoo()))
def test_zoo_float_matches_tflite_interpreter(name: str) -> None:
    data = zoo.converted(name, False)
    graph = import_tflite_bytes(data, {}, name)
    verify(graph)
    compare_with_tflite(graph, data, samples=3)


@pytest.mark.slow
def test_zoo_attrs() -> None:
    dw = import_tflite_bytes(zoo.converted("depthwise", False), {})
    (op,) = [op for op in dw.ops if op.kind == "DEPTHWISE_CONV_2D"]
    assert op.attrs["depth_multiplier"] == 2
    assert op.attrs["pads"] == (1, 1, 1, 1) and op.attrs["strides"] == (2, 2)
    dilated = import_tflite_bytes(zoo.converted("dilated", False), {})
    assert dilated.ops[0].attrs["dilations"] == (2, 2)
    assert {"LEAKY_RELU", "PRELU"} <= kinds(dilated)
    pad = import_tflite_bytes(zoo.converted("concat_pad", False), {})
    assert pad.ops[0].attrs == {"pads": ((0, 0), (1, 0), (2, 1), (0, 0)), "value": 0.0}
    assert "MEAN" in kinds(import_tflite_bytes(zoo.converted("residual", False), {}))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(zoo.keras_zoo()))
def test_zoo_int8_imports_with_quant_params(name: str) -> None:
    graph = import_tflite_bytes(zoo.converted(name, True), {}, name)
    verify(graph)
    assert graph.is_quantized
    for op in graph.ops:
        for tensor in graph.op_inputs(op) + graph.op_outputs(op):
            assert tensor is not None and tensor.quant is not None, f"{op.kind} '{op.name}'"
    for op in graph.ops:
        if op.kind == "LOGISTIC":
            assert graph.op_outputs(op)[0].scalar_quant() == (1 / 256, -128)


@pytest.mark.slow
def test_fully_connected_flattens_leading_dims() -> None:
    def drop_keep_num_dims(model: Any) -> None:
        sub = model.subgraphs[0]
        for op in sub.operators:
            if isinstance(op.builtinOptions, fb.FullyConnectedOptionsT):
                op.builtinOptions.keepNumDims = False
        for t in sub.tensors:  # the dense layer's output and its tanh
            if list(t.shape) == [1, 4, 5]:
                t.shape = t.shapeSignature = np.array([4, 5], dtype=np.int32)

    data = edited(zoo.converted("sigmoid_tanh", False), drop_keep_num_dims)
    graph = import_tflite_bytes(data, {})
    verify(graph)
    reshape, fc = graph.ops[0], graph.ops[1]
    assert (reshape.kind, reshape.attrs["shape"], fc.kind) == ("RESHAPE", (4, 6), "FULLY_CONNECTED")
    compare_with_tflite(graph, data, samples=1)


# -- broken and unsupported models ------------------------------------------------------------


@pytest.mark.parametrize("head", [b"", b"\x1c\x00\x00\x00TFL3"])
def test_random_bytes(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "x.tflite"
    path.write_bytes(head + np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(MfError, match=r"x.tflite: not a valid TFLite flatbuffer"):
        load_model(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_flatbuffer(tmp_path: Path, keep: float) -> None:
    data = mlperf_model("kws_dscnn_int8.tflite").read_bytes()
    path = tmp_path / "cut.tflite"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(MfError, match=r"cut.tflite: not a valid TFLite flatbuffer \(.+\)"):
        load_model(path)


@pytest.mark.slow
def test_unsupported_ops_listed_at_once(tmp_path: Path) -> None:
    with quiet_tensorflow():
        import tensorflow as tf

        fn = tf.function(lambda x: tf.cos(tf.sin(x)) + 1.0)
        concrete = fn.get_concrete_function(tf.TensorSpec((1, 4), tf.float32))
        data = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn).convert()
    path = tmp_path / "sin.tflite"
    path.write_bytes(data)
    with pytest.raises(MfError) as err:
        load_model(path)
    message = str(err.value)
    assert "2 unsupported TFLite op(s)" in message
    assert "SIN (TFLite builtin version 1)" in message and "COS (TFLite builtin version" in message
    assert "see `mcuforge ops`" in message and "Supported:" not in message  # no op list appended
    assert message.count("SIN") == 1
    assert "\n" not in message


def test_custom_and_unknown_ops_listed() -> None:
    def make_custom(model: Any) -> None:
        model.operatorCodes[0] = fb.OperatorCodeT(deprecatedBuiltinCode=fb.BuiltinOperator.CUSTOM,
                                                  builtinCode=fb.BuiltinOperator.CUSTOM, customCode=b"MyOp")

    data = edited(mlperf_model("kws_dscnn_int8.tflite").read_bytes(), make_custom)
    first = fb.ModelT.InitFromPackedBuf(bytearray(data), 0).subgraphs[0].operators
    count = sum(op.opcodeIndex == 0 for op in first)
    with pytest.raises(MfError, match=rf"{count} unsupported TFLite op\(s\): '[^']+' CUSTOM 'MyOp' \(TFLite"):
        import_tflite_bytes(data, {})


def test_dequantized_constants_are_folded() -> None:
    def float16_weights(model: Any) -> None:
        """Store the first conv's weights as float16 behind a DEQUANTIZE, as TF's float16
        post-training quantization does."""
        sub = model.subgraphs[0]
        conv = sub.operators[0]
        w = sub.tensors[conv.inputs[1]]
        half = np.frombuffer(model.buffers[w.buffer].data.tobytes(), np.float32).astype(np.float16)
        model.buffers.append(fb.BufferT(data=np.frombuffer(half.tobytes(), np.uint8)))
        half_index = len(model.buffers) - 1
        sub.tensors.append(fb.TensorT(shape=w.shape, type=fb.TensorType.FLOAT16, buffer=half_index,
                                      name=b"w_half"))
        model.operatorCodes.append(fb.OperatorCodeT(deprecatedBuiltinCode=fb.BuiltinOperator.DEQUANTIZE,
                                                    builtinCode=fb.BuiltinOperator.DEQUANTIZE))
        dequant = fb.OperatorT(opcodeIndex=len(model.operatorCodes) - 1, inputs=[len(sub.tensors) - 1],
                               outputs=[conv.inputs[1]])
        model.buffers[w.buffer].data = None
        sub.operators.insert(0, dequant)

    path = mlperf_model("ic_resnet8_float.tflite")
    data = edited(path.read_bytes(), float16_weights)
    graph = import_tflite_bytes(data, {})
    verify(graph)
    assert "DEQUANTIZE" not in kinds(graph) and "w_half" not in graph.tensors
    w = graph.tensors[graph.ops[0].inputs[1]]
    want = load_model(path).tensors[w.name].data
    assert w.dtype == "float32" and w.data is not None
    np.testing.assert_array_equal(w.data, want.astype(np.float16).astype(np.float32))
