"""The integer reference against TFLite Micro's interpreter, byte for byte.

Each op gets a tiny Keras model converted to full int8 (a few also to 16x8: int16 activations);
the MLPerf Tiny int8 models run whole. The inputs are random over the whole integer range, which
drives every op into saturation as well. Cases
the converter never emits (standalone Relu with requantization, int8 -> int8 QUANTIZE, MEAN with
equal input and output quantization) come from editing a converted flatbuffer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
import pytest
import tflite_models as zoo
from model_paths import mlperf_model
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from mcuforge.fuzz.check import tflm_is_wrong
from mcuforge.importers import load_model
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.ir.graph import Graph
from mcuforge.reference import run

pytestmark = pytest.mark.slow

SAMPLES = 20
MLPERF_INT8 = ["ad_fcae_int8", "ic_resnet8_int8", "kws_dscnn_int8", "vww_mbv1_int8"]


def _tf() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf

    return tf


# -- one small model per op: (builder, op kinds the imported graph must contain) ----------------


def _model(shape: tuple[int, ...], body: Callable[[Any], Any]) -> Any:
    k = _tf().keras
    x = k.Input(shape, batch_size=1)
    return k.Model(x, body(x))


def _layers() -> Any:
    return _tf().keras.layers


def _conv1x1(channels: int) -> Any:
    return _layers().Conv2D(channels, 1)


OP_MODELS: dict[str, tuple[Callable[[], Any], set[str]]] = {
    "conv_same_stride2": (lambda: _model((9, 9, 3), _layers().Conv2D(5, 3, strides=2, padding="same")),
                          {"CONV_2D"}),
    "conv_valid_relu6": (lambda: _model((8, 7, 3), _layers().Conv2D(4, 3, activation="relu6")),
                         {"CONV_2D"}),
    "depthwise_mult2_relu": (lambda: _model((9, 9, 4), _layers().DepthwiseConv2D(
        3, padding="same", depth_multiplier=2, activation="relu")), {"DEPTHWISE_CONV_2D"}),
    "dense": (lambda: _model((17,), _layers().Dense(7)), {"FULLY_CONNECTED"}),
    "add": (lambda: _model((4, 5, 3), lambda x: x + _conv1x1(3)(x)), {"ADD"}),
    "add_broadcast": (lambda: _model((5, 7, 6), lambda x: x + _tf().keras.ops.mean(x, [1, 2], keepdims=True)),
                      {"MEAN", "ADD"}),
    "sub": (lambda: _model((4, 5, 3), lambda x: x - _conv1x1(3)(x)), {"SUB"}),
    "mul": (lambda: _model((4, 5, 3), lambda x: x * _conv1x1(3)(x)), {"MUL"}),
    "mul_broadcast": (lambda: _model((4, 5, 3), lambda x: x * _tf().keras.ops.mean(x, [1, 2], keepdims=True)),
                      {"MUL"}),
    "avg_pool_same": (lambda: _model((9, 9, 3), _layers().AveragePooling2D(3, strides=2, padding="same")),
                      {"AVERAGE_POOL_2D"}),
    "avg_pool_valid": (lambda: _model((7, 7, 5), lambda x: _layers().AveragePooling2D(3, strides=2)(
        _conv1x1(3)(x))), {"AVERAGE_POOL_2D"}),
    "max_pool": (lambda: _model((9, 9, 3), _layers().MaxPooling2D(2, padding="same")), {"MAX_POOL_2D"}),
    "global_avg_pool": (lambda: _model((5, 7, 6), _layers().GlobalAveragePooling2D()), {"MEAN"}),
    "mean_height": (lambda: _model((5, 7, 6), lambda x: _tf().keras.ops.mean(_conv1x1(3)(x), axis=1)),
                    {"MEAN"}),
    "mean_channels": (lambda: _model((5, 7, 6), lambda x: _tf().keras.ops.mean(x, axis=-1)), {"MEAN"}),
    "relu": (lambda: _model((5, 5, 3), _layers().ReLU()), {"CLAMP"}),
    "relu6": (lambda: _model((5, 5, 3), _layers().ReLU(6.0)), {"CLAMP"}),
    "leaky_relu": (lambda: _model((6, 6, 3), _layers().LeakyReLU(0.2)), {"LEAKY_RELU"}),
    "leaky_relu_steep": (lambda: _model((5, 5, 3), lambda x: _layers().LeakyReLU(1.7)(_conv1x1(3)(x))),
                         {"LEAKY_RELU"}),
    "prelu": (lambda: _model((6, 6, 3), lambda x: _layers().PReLU(
        alpha_initializer=_tf().keras.initializers.RandomUniform(0.0, 0.5, seed=3), shared_axes=[1, 2])(
        _conv1x1(3)(x))), {"PRELU"}),
    "logistic": (lambda: _model((6, 6, 3), lambda x: _layers().Activation("sigmoid")(_conv1x1(3)(x))),
                 {"LOGISTIC"}),
    "tanh": (lambda: _model((6, 6, 3), lambda x: _layers().Activation("tanh")(_conv1x1(3)(x))), {"TANH"}),
    "hard_swish": (lambda: _model((6, 6, 3), lambda x: _layers().Activation("hard_swish")(
        _conv1x1(3)(x))), {"HARD_SWISH"}),
    "softmax": (lambda: _model((10,), lambda x: _layers().Softmax()(_layers().Dense(10)(x))), {"SOFTMAX"}),
    "softmax_wide_range": (lambda: _model((3, 4, 9), lambda x: _layers().Softmax()(_conv1x1(9)(x * 8.0))),
                           {"SOFTMAX"}),
    "concatenation": (lambda: _model((4, 4, 3), lambda x: _layers().Concatenate()(
        [_conv1x1(2)(x), 5.0 * _conv1x1(3)(x)])), {"CONCATENATION"}),
    "pad": (lambda: _model((5, 5, 3), lambda x: _layers().ZeroPadding2D(((1, 2), (0, 1)))(_conv1x1(3)(x))),
            {"PAD"}),
    # elementwise-ops (more shapes and models in tests/test_elementwise_ops.py)
    "abs": (lambda: _model((5, 5, 3), lambda x: _tf().keras.ops.abs(_conv1x1(3)(x))), {"ABS"}),
    "maximum": (lambda: _model((4, 5, 3), lambda x: _layers().Maximum()([_conv1x1(3)(x), _conv1x1(3)(x)])),
                {"MAXIMUM"}),
    "minimum_broadcast": (lambda: _model((5, 7, 6), lambda x: _tf().keras.ops.minimum(
        _conv1x1(6)(x), _tf().keras.ops.mean(x, [1, 2], keepdims=True))), {"MINIMUM"}),
    "div": (lambda: _model((4, 5, 3), lambda x: _conv1x1(3)(x) / (
        _tf().keras.ops.sigmoid(_conv1x1(3)(x)) + 0.25)), {"DIV"}),
    "l2_normalization": (lambda: _model((17,), lambda x: _layers().Lambda(
        lambda t: _tf().math.l2_normalize(t, axis=-1))(_layers().Dense(9)(x))), {"L2_NORMALIZATION"}),
    "log_softmax": (lambda: _model((10,), lambda x: _layers().Lambda(
        lambda t: _tf().nn.log_softmax(t))(_layers().Dense(10)(x))), {"LOG_SOFTMAX"}),
    "elu_float_island": (lambda: _model((6, 6, 3), lambda x: _layers().ELU()(_conv1x1(3)(x))), {"ELU"}),
    "neg_float_island": (lambda: _model((6, 6, 3), lambda x: _tf().keras.ops.negative(_conv1x1(3)(x))),
                         {"NEG"}),
}


@functools.cache
def op_model(name: str) -> bytes:
    build, _ = OP_MODELS[name]
    _tf().keras.utils.set_random_seed(len(name))
    model = build()
    # Inputs of spread 3 give the calibrated ranges some room beyond [-1, 1].
    return zoo.to_tflite(model, True, 3.0 * zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))


# -- running both sides ---------------------------------------------------------------------------


def graph_of(data: bytes, tmp_path: Path) -> Graph:
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    return load_model(path)


def random_inputs(graph: Graph, count: int, seed: int = 0) -> list[np.ndarray]:
    """Int8 samples spread over the whole range, for a single-input graph."""
    (name,) = graph.inputs
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, graph.tensors[name].shape).astype(np.int8) for _ in range(count)]


def tflm_outputs(data: bytes, x: np.ndarray, count: int) -> list[np.ndarray]:
    interp = runtime.Interpreter.from_bytes(data)
    interp.set_input(x, 0)
    interp.invoke()
    return [interp.get_output(i) for i in range(count)]


def assert_bit_exact(data: bytes, graph: Graph, inputs: list[np.ndarray],
                     oracle: Callable[[bytes, np.ndarray, int], list[np.ndarray]] = tflm_outputs) -> None:
    (name,) = graph.inputs
    for i, x in enumerate(inputs):
        ours = run(graph, {name: x})
        want = oracle(data, x, len(graph.outputs))
        for out, expected in zip(graph.outputs, want, strict=True):
            got = ours[out]
            assert got.dtype == expected.dtype and got.shape == expected.shape, (
                f"sample {i}, output '{out}': {got.dtype}{got.shape}, TFLM {expected.dtype}{expected.shape}"
            )
            diff = got.astype(np.int64) - expected
            assert got.tobytes() == expected.tobytes(), (
                f"sample {i}, output '{out}': {np.count_nonzero(diff)} of {diff.size} values differ "
                f"(largest by {np.abs(diff).max()})"
            )


def oracle_for(data: bytes) -> Callable[[bytes, np.ndarray, int], list[np.ndarray]]:
    """TFLite Micro, or TFLite's BUILTIN_REF kernels where TFLite Micro is wrong (fuzz/check.py)."""
    return builtin_ref_outputs if tflm_is_wrong(data) else tflm_outputs


# -- ops ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OP_MODELS))
def test_op_matches_tflm(name: str, tmp_path: Path) -> None:
    data = op_model(name)
    graph = graph_of(data, tmp_path)
    _, kinds = OP_MODELS[name]
    assert kinds <= {op.kind for op in graph.ops}, f"the converter fused away {kinds} in {graph.ops}"
    assert_bit_exact(data, graph, random_inputs(graph, SAMPLES), oracle=oracle_for(data))


@pytest.mark.parametrize("name", sorted(set(zoo.keras_zoo()) - {"dilated"}))
def test_zoo_model_matches_tflm(name: str, tmp_path: Path) -> None:
    data = zoo.converted(name, True)
    graph = graph_of(data, tmp_path)
    assert_bit_exact(data, graph, random_inputs(graph, SAMPLES), oracle=oracle_for(data))


def builtin_ref_outputs(data: bytes, x: np.ndarray, count: int) -> list[np.ndarray]:
    interp = _tf().lite.Interpreter(
        model_content=data, experimental_op_resolver_type=_tf().lite.experimental.OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()[:count]]


@pytest.mark.filterwarnings("ignore::UserWarning")  # tf.lite.Interpreter's deprecation notice
def test_dilated_conv_matches_tflite_reference_kernels(tmp_path: Path) -> None:
    # TFLM has been wrong on dilated convolutions, so the oracle here is TFLite's BUILTIN_REF
    # kernels. (The TFLM build installed at the time of writing agrees with both on this model.)
    data = zoo.converted("dilated", True)
    graph = graph_of(data, tmp_path)
    assert any(op.attrs.get("dilations", (1, 1)) != (1, 1) for op in graph.ops)
    assert_bit_exact(data, graph, random_inputs(graph, SAMPLES), oracle=builtin_ref_outputs)


# -- edited flatbuffers: op variants the converter does not produce --------------------------------


def edited(data: bytes, edit: Callable[[Any, Any], None]) -> bytes:
    """The flatbuffer after `edit(model, first operator)` changed its unpacked form."""
    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    edit(model, model.subgraphs[0].operators[0])
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@functools.cache
def relu_model() -> bytes:
    """A lone RELU on a 16x16x1 input: 256 values, so one sample can hold every int8."""
    model = _model((16, 16, 1), _layers().ReLU())
    return zoo.to_tflite(model, True, zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))


def as_builtin(builtin: int, scale: float, zero_point: int) -> Callable[[Any, Any], None]:
    """An edit turning the first operator into `builtin` with the given output quantization."""

    def edit(model: Any, op: Any) -> None:
        code = model.operatorCodes[op.opcodeIndex]
        code.builtinCode = builtin
        code.deprecatedBuiltinCode = min(builtin, 127)
        quant = model.subgraphs[0].tensors[op.outputs[0]].quantization
        quant.scale, quant.zeroPoint = [scale], [zero_point]

    return edit


def every_int8() -> np.ndarray:
    return np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16, 1)


REQUANTIZATIONS = [(0.05, -3), (0.011, 40), (0.3, 0), (0.002, -128)]


@pytest.mark.parametrize("builtin", ["QUANTIZE", "RELU"])
@pytest.mark.parametrize(("scale", "zero_point"), REQUANTIZATIONS)
def test_requantizing_op_matches_tflm(builtin: str, scale: float, zero_point: int, tmp_path: Path) -> None:
    data = edited(relu_model(), as_builtin(getattr(fb.BuiltinOperator, builtin), scale, zero_point))
    graph = graph_of(data, tmp_path)
    assert_bit_exact(data, graph, [every_int8(), *random_inputs(graph, SAMPLES)])


@pytest.mark.filterwarnings("ignore::UserWarning")  # tf.lite.Interpreter's deprecation notice
@pytest.mark.parametrize(("scale", "zero_point"), REQUANTIZATIONS)
def test_requantizing_relu6_matches_tflite_reference_kernels(scale: float, zero_point: int,
                                                             tmp_path: Path) -> None:
    """A RELU6 whose output quantization differs from its input's (TF's converter writes one
    where it cannot fuse the activation, e.g. on a model input): TFLite Micro clamps in the
    input's encoding and ignores the output's, which gives wrong real values; mcuforge follows
    TFLite's reference kernels (and the float model). Found by `mcuforge fuzz --seed 1`, model 108."""
    data = edited(relu_model(), as_builtin(fb.BuiltinOperator.RELU6, scale, zero_point))
    graph = graph_of(data, tmp_path)
    x = every_int8()
    assert_bit_exact(data, graph, [x, *random_inputs(graph, SAMPLES)], oracle=builtin_ref_outputs)
    (name,) = graph.inputs
    (tflm,) = tflm_outputs(data, x, 1)
    assert tflm.tobytes() != run(graph, {name: x})[graph.outputs[0]].tobytes(), \
        "TFLite Micro now requantizes RELU6: drop the exception in ops/clamp.py and fuzz/check.py"


def test_tflm_requantizes_with_double_rounding(tmp_path: Path) -> None:
    """x * 0.2501 at x = 1: rounding once gives 0; TFLM rounds the doubling high multiply to
    1/2 first and then rounds 1/2 away from zero, giving 1. Our reference must do the same."""
    graph = graph_of(relu_model(), tmp_path)
    in_scale, in_zp = graph.tensors[graph.inputs[0]].scalar_quant()
    out_scale = float(np.float32(in_scale / 0.2501))
    data = edited(relu_model(), as_builtin(fb.BuiltinOperator.QUANTIZE, out_scale, 0))
    graph = graph_of(data, tmp_path)
    x = every_int8()
    (want,) = tflm_outputs(data, x, 1)
    at = {d: int(want.reshape(-1)[128 + in_zp + d]) for d in (-1, 1)}  # x - x_zp = d
    assert at == {-1: -1, 1: 1}
    assert_bit_exact(data, graph, [x])


def test_mean_with_equal_quantization_matches_tflm(tmp_path: Path) -> None:
    """TFLM once took a truncating shortcut when MEAN's input and output quantization agree."""
    model = _model((5, 7, 6), lambda x: _layers().GlobalAveragePooling2D()(_conv1x1(6)(x)))
    data = zoo.to_tflite(model, True, zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))

    def same_quant(model: Any, _: Any) -> None:
        sub = model.subgraphs[0]
        mean = sub.operators[-1]
        src, dst = sub.tensors[mean.inputs[0]].quantization, sub.tensors[mean.outputs[0]].quantization
        dst.scale, dst.zeroPoint = list(src.scale), list(src.zeroPoint)

    data = edited(data, same_quant)
    graph = graph_of(data, tmp_path)
    assert [op.kind for op in graph.ops] == ["CONV_2D", "MEAN"]
    assert_bit_exact(data, graph, random_inputs(graph, SAMPLES))


# -- TFLite's 16x8 mode: int16 activations, int8 weights, int64 bias --------------------------------


def to_tflite_16x8(model: Any) -> bytes:
    tf = _tf()
    calib = 2.0 * zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1)
    with quiet_tensorflow():
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in calib)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
        return bytes(converter.convert())


INT16_MODELS = ["conv_same_stride2", "depthwise_mult2_relu", "dense", "add", "sub"]


@pytest.mark.parametrize("name", INT16_MODELS)
def test_16x8_op_matches_tflm(name: str, tmp_path: Path) -> None:
    build, kinds = OP_MODELS[name]
    _tf().keras.utils.set_random_seed(len(name))
    data = to_tflite_16x8(build())
    graph = graph_of(data, tmp_path)
    assert kinds <= {op.kind for op in graph.ops} and graph.tensors[graph.inputs[0]].dtype == "int16"
    rng = np.random.default_rng(0)
    shape = graph.tensors[graph.inputs[0]].shape
    inputs = [rng.integers(-(1 << 15), 1 << 15, shape).astype(np.int16) for _ in range(SAMPLES)]
    assert_bit_exact(data, graph, inputs)


# -- whole models ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MLPERF_INT8)
def test_mlperf_model_matches_tflm(name: str) -> None:
    path = mlperf_model(f"{name}.tflite")
    graph = load_model(path)
    assert_bit_exact(path.read_bytes(), graph, random_inputs(graph, SAMPLES))
