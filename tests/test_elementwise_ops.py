"""Elementwise math, min/max, division, L2 normalization and softmax over any axis, end to end.

Keras models go through TF's converter at its defaults (free batch, int8 in/out): the C code
built by `run_model` must equal the integer reference (run_model checks) and TFLite Micro's
interpreter byte for byte. PyTorch models go through `torch.onnx.export`, are quantized by
mcuforge from calibration data, and the dequantized C outputs must stay within a few output
steps of onnxruntime's float outputs.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tflite_models as zoo
from model_paths import REPO
from test_reference_int import tflm_outputs

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.importers.keras_import import quiet_tensorflow
from mcuforge.runner import run_model, run_on_board

pytestmark = pytest.mark.slow


def _tf() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf

    return tf


def _keras(shape: tuple[int, ...], body: Callable[[Any, Any], Any], batch_size: int | None = None) -> Any:
    """A functional model; the batch is left free (as users build models) unless a Dense on a
    3-D tensor makes TF write shape arithmetic, which is the tflite-import work's to fold."""
    tf = _tf()
    x = tf.keras.Input(shape, batch_size=batch_size)
    return tf.keras.Model(x, body(tf, x))


def _l2(tf: Any) -> Any:
    return tf.keras.layers.Lambda(lambda t: tf.math.l2_normalize(t, axis=-1))


def _conv(tf: Any, x: Any, channels: int) -> Any:
    return tf.keras.layers.Conv2D(channels, 3, padding="same")(x)


# name -> (model builder, IR op kinds the imported graph must contain)
KERAS_MODELS: dict[str, tuple[Callable[[], Any], set[str]]] = {
    "abs_conv": (lambda: _keras((8, 8, 3), lambda tf, x: tf.keras.layers.Conv2D(4, 1)(
        tf.keras.ops.abs(_conv(tf, x, 5)))), {"ABS"}),
    # TF's converter leaves these in float (DEQUANTIZE -> op -> QUANTIZE): a folded float island
    "elu_dense": (lambda: _keras((12,), lambda tf, x: tf.keras.layers.Dense(5)(
        tf.keras.layers.Dense(9, activation="elu")(x))), {"ELU"}),
    "elu_conv_odd": (lambda: _keras((5, 7, 3), lambda tf, x: tf.keras.layers.ELU()(_conv(tf, x, 7))),
                     {"ELU"}),
    "neg_conv": (lambda: _keras((6, 5, 3), lambda tf, x: tf.keras.layers.Conv2D(3, 1)(
        tf.keras.ops.negative(_conv(tf, x, 4)))), {"NEG"}),
    "maximum_minimum_branches": (lambda: _keras((6, 6, 4), lambda tf, x: tf.keras.layers.Minimum()(
        [tf.keras.layers.Maximum()([_conv(tf, x, 4), _conv(tf, x, 4)]), _conv(tf, x, 4)])),
        {"MAXIMUM", "MINIMUM"}),
    "maximum_broadcast": (lambda: _keras((5, 5, 8), lambda tf, x: tf.keras.ops.maximum(
        _conv(tf, x, 8), tf.keras.ops.mean(x, axis=[1, 2], keepdims=True))), {"MAXIMUM"}),
    "div_activations": (lambda: _keras((6, 6, 3), lambda tf, x: _conv(tf, x, 4) / (
        tf.keras.ops.sigmoid(_conv(tf, x, 4)) + 0.5)), {"DIV"}),
    "div_broadcast_1d": (lambda: _keras((16,), lambda tf, x: tf.keras.layers.Dense(8)(x) / (
        tf.keras.ops.abs(tf.keras.layers.Dense(1)(x)) + 1.0)), {"DIV"}),
    "l2_norm_embedding": (lambda: _keras((20,), lambda tf, x: _l2(tf)(
        tf.keras.layers.Dense(16)(x))), {"L2_NORMALIZATION"}),
    "l2_norm_channels": (lambda: _keras((4, 5, 3), lambda tf, x: _l2(tf)(
        _conv(tf, x, 6))), {"L2_NORMALIZATION"}),
    "log_softmax_dense": (lambda: _keras((12,), lambda tf, x: tf.keras.layers.Lambda(
        lambda t: tf.nn.log_softmax(t))(tf.keras.layers.Dense(10)(x))), {"LOG_SOFTMAX"}),
    "log_softmax_wide": (lambda: _keras((3, 40), lambda tf, x: tf.keras.layers.Lambda(
        lambda t: tf.nn.log_softmax(t * 4.0))(tf.keras.layers.Dense(40)(x)), batch_size=1), {"LOG_SOFTMAX"}),
    "softmax_axis1_conv": (lambda: _keras((4, 5, 6), lambda tf, x: tf.keras.layers.Softmax(axis=1)(
        _conv(tf, x, 6))), {"SOFTMAX", "TRANSPOSE"}),
    "swish_conv": (lambda: _keras((6, 6, 3), lambda tf, x: tf.keras.layers.Activation("swish")(
        _conv(tf, x, 5))), {"LOGISTIC", "MUL"}),
    "hard_sigmoid_gate": (lambda: _keras((6, 6, 4), lambda tf, x: x * tf.keras.layers.Activation(
        "hard_sigmoid")(_conv(tf, x, 4))), {"MUL"}),
}


@functools.cache
def keras_tflite(name: str) -> bytes:
    build, _ = KERAS_MODELS[name]
    _tf().keras.utils.set_random_seed(len(name) + 7)
    model = build()
    return zoo.to_tflite(model, True, 2.0 * zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))


def int8_samples(path: Path, n: int, seed: int = 0) -> np.ndarray:
    g = load_model(path)
    shape = g.tensors[g.inputs[0]].shape
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:]), dtype=np.int8)


@pytest.mark.parametrize("name", sorted(KERAS_MODELS))
def test_keras_int8_matches_tflm(name: str, tmp_path: Path) -> None:
    data = keras_tflite(name)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    kinds = {op.kind for op in load_model(path).ops}
    assert KERAS_MODELS[name][1] <= kinds, f"expected {KERAS_MODELS[name][1]} in {kinds}"
    x = int8_samples(path, 8)
    result = run_model(path, x)
    assert result.mismatches == {}, "C differs from the integer reference"
    (out,) = result.raw.values()
    for i in range(len(x)):
        (want,) = tflm_outputs(data, x[i:i + 1], 1)
        assert out[i:i + 1].tobytes() == want.tobytes(), f"sample {i}: differs from TFLite Micro"


# -- int8 ops TFLite Micro has no kernel for: TFLite's interpreter is the oracle ------------------

# name -> (model builder, op kind, oracle: TFLite's BUILTIN_REF kernels or its default ones)
TFLITE_ONLY_MODELS: dict[str, tuple[Callable[[], Any], str, str]] = {
    "gelu_exact_dense": (lambda: _keras((6,), lambda tf, x: tf.keras.layers.Activation("gelu")(
        tf.keras.layers.Dense(8)(x))), "GELU", "ref"),
    "gelu_tanh_conv": (lambda: _keras((5, 5, 3), lambda tf, x: tf.keras.layers.Lambda(
        lambda t: tf.nn.gelu(t, approximate=True))(_conv(tf, x, 6))), "GELU", "ref"),
    "exp_dense": (lambda: _keras((6,), lambda tf, x: tf.keras.ops.exp(tf.keras.layers.Dense(8)(x))),
                  "EXP", "ref"),
    "log_conv": (lambda: _keras((4, 6, 3), lambda tf, x: tf.keras.ops.log(
        tf.keras.ops.abs(_conv(tf, x, 5)) + 1.0)), "LOG", "ref"),
    "pow_cube_dense": (lambda: _keras((10,), lambda tf, x: tf.keras.ops.power(  # a float island
        tf.keras.layers.Dense(6)(x), 3.0)), "POW", "ref"),
    "sqrt_dense": (lambda: _keras((6,), lambda tf, x: tf.keras.ops.sqrt(
        tf.keras.ops.abs(tf.keras.layers.Dense(8)(x)) + 0.1)), "SQRT", "default"),
}


@functools.cache
def tflite_only_model(name: str) -> bytes:
    build, _, _ = TFLITE_ONLY_MODELS[name]
    _tf().keras.utils.set_random_seed(len(name) + 11)
    model = build()
    return zoo.to_tflite(model, True, 2.0 * zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))


@pytest.mark.filterwarnings("ignore::UserWarning")  # tf.lite.Interpreter's deprecation notice
@pytest.mark.parametrize("name", sorted(TFLITE_ONLY_MODELS))
def test_keras_int8_matches_tflite_interpreter(name: str, tmp_path: Path) -> None:
    tf = _tf()
    _, kind, oracle = TFLITE_ONLY_MODELS[name]
    data = tflite_only_model(name)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    assert kind in {op.kind for op in load_model(path).ops}
    x = int8_samples(path, 12)
    result = run_model(path, x)
    assert result.mismatches == {}, "C differs from the integer reference"
    (out,) = result.raw.values()
    resolver = tf.lite.experimental.OpResolverType
    interp = tf.lite.Interpreter(model_content=data, experimental_op_resolver_type=(
        resolver.BUILTIN_REF if oracle == "ref" else resolver.AUTO))
    interp.allocate_tensors()
    for i in range(len(x)):
        interp.set_tensor(interp.get_input_details()[0]["index"], x[i:i + 1])
        interp.invoke()
        want = interp.get_tensor(interp.get_output_details()[0]["index"])
        assert out[i:i + 1].tobytes() == want.tobytes(), f"sample {i}: differs from TFLite ({oracle})"


# -- PyTorch -> ONNX float models, quantized by mcuforge ---------------------------------------------


def _torch_models() -> dict[str, tuple[Callable[[], Any], tuple[int, ...], dict]]:
    import torch
    from torch import nn

    class Lambda(nn.Module):
        def __init__(self, fn: Callable[[Any], Any], channels: int = 4) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, channels, 3, padding=1)
            self.fn = fn

        def forward(self, x: Any) -> Any:
            return self.fn(self.conv(x))

    class Mlp(nn.Module):
        def __init__(self, fn: Callable[[Any], Any]) -> None:
            super().__init__()
            self.a, self.b, self.fn = nn.Linear(12, 10), nn.Linear(10, 6), fn

        def forward(self, x: Any) -> Any:
            return self.b(self.fn(self.a(x)))

    t = torch
    return {
        # name: (module factory, input shape, export kwargs)
        "gelu_erf_mlp": (lambda: Mlp(nn.GELU()), (1, 12), {"opset_version": 17}),
        "gelu_tanh_conv": (lambda: Lambda(nn.GELU(approximate="tanh")), (1, 3, 6, 6), {"opset_version": 17}),
        "gelu_opset20": (lambda: Lambda(nn.GELU(), 5), (1, 3, 5, 7), {"opset_version": 20}),
        "mish_conv": (lambda: Lambda(nn.Mish(), 5), (1, 3, 5, 5), {"opset_version": 13}),
        "softplus_mlp": (lambda: Mlp(nn.Softplus()), (1, 12), {"opset_version": 13}),
        "silu_conv": (lambda: Lambda(nn.SiLU(), 6), (1, 3, 6, 6), {"opset_version": 17}),
        "elu_hardsigmoid": (lambda: Lambda(lambda y: nn.functional.elu(y, 0.7) * nn.Hardsigmoid()(y)),
                            (1, 3, 5, 5), {"opset_version": 13}),
        "abs_neg_exp": (lambda: Lambda(lambda y: t.exp(-t.abs(y))), (1, 3, 6, 4), {"opset_version": 13}),
        "log_abs_conv": (lambda: Lambda(lambda y: t.log(t.abs(y) + 1.0), 6), (1, 3, 5, 5),
                         {"opset_version": 13}),
        "sqrt_conv": (lambda: Lambda(lambda y: t.sqrt(y * y + 0.5), 5), (1, 3, 4, 6), {"opset_version": 13}),
        "pow_cube": (lambda: Lambda(lambda y: y.pow(3), 3), (1, 3, 5, 5), {"opset_version": 13}),
        "max_min_div": (lambda: Lambda(lambda y: t.maximum(y, 0.3 * y) /
                                       (t.sigmoid(y) + 0.5) - t.minimum(y, t.zeros_like(y) + 0.2)),
                        (1, 3, 4, 6), {"opset_version": 13}),
        "softmax_channels": (lambda: Lambda(lambda y: t.softmax(y, dim=1), 8), (1, 3, 4, 4),
                             {"opset_version": 13}),
        "softmax_height": (lambda: Lambda(lambda y: t.softmax(y * 2.0, dim=2), 5), (1, 3, 6, 3),
                           {"opset_version": 13}),
        "log_softmax_channels": (lambda: Lambda(lambda y: t.log_softmax(y, dim=1), 6), (1, 3, 4, 4),
                                 {"opset_version": 13}),
        "log_softmax_mlp_opset11": (lambda: Mlp(lambda y: t.log_softmax(y, dim=-1)), (1, 12),
                                    {"opset_version": 11}),
        "softmax_opset11_axis2": (lambda: Lambda(lambda y: t.softmax(y, dim=-1), 4), (1, 3, 4, 5),
                                  {"opset_version": 11}),
    }


TORCH_MODELS = sorted(_torch_models())


def export_torch(name: str, path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    import torch

    factory, shape, kwargs = _torch_models()[name]
    torch.manual_seed(len(name))
    module = factory().eval()
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (6, *shape[1:])).astype(np.float32)
    calib = rng.normal(0, 1, (64, *shape[1:])).astype(np.float32)
    torch.onnx.export(module, (torch.from_numpy(x[:1]),), str(path), input_names=["x"], output_names=["y"],
                      dynamo=False, **kwargs)
    return path, x, calib


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_torch_onnx_quantized_within_tolerance(name: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    path, x, calib = export_torch(name, tmp_path / f"{name}.onnx")
    session = ort.InferenceSession(str(path))
    want = np.concatenate([session.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])
    result = run_model(path, x, CompileOptions(calib=calib))
    assert result.mismatches == {}, "C differs from the integer reference"
    g = result.compiled.graph
    (out_name,) = g.outputs
    scale, _ = g.tensors[out_name].scalar_quant()
    (got,) = result.outputs.values()
    err = np.abs(got.reshape(want.shape) - want)
    sqnr = 10 * np.log10(np.sum(want**2) / max(np.sum((got.reshape(want.shape) - want) ** 2), 1e-30))
    assert err.max() <= 4 * scale or sqnr >= 30, f"max error {err.max() / scale:.1f} steps, {sqnr:.1f} dB"


def test_onnx_opset11_log_softmax_flattens_and_lp_normalization(tmp_path: Path) -> None:
    """Hand-built: opset-11 LogSoftmax(axis=1) on NCHW (normalizes over C*H*W together) and
    LpNormalization(p=2) over the channel axis, after a convolution."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(5)
    w = helper.make_tensor("w", TensorProto.FLOAT, (4, 3, 3, 3), rng.normal(0, 0.3, 108).astype(np.float32))
    for kind, opset, attrs in (("LogSoftmax", 11, {"axis": 1}), ("LpNormalization", 13, {"axis": 1, "p": 2})):
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
                 helper.make_node(kind, ["c"], ["y"], **attrs)]
        x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 3, 4, 5))
        y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 4, 4, 5))
        graph = helper.make_graph(nodes, "g", [x_info], [y_info], [w])
        path = tmp_path / f"{kind}.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
        x = rng.normal(0, 1, (6, 3, 4, 5)).astype(np.float32)
        calib = rng.normal(0, 1, (64, 3, 4, 5)).astype(np.float32)
        result = run_model(path, x, CompileOptions(calib=calib))
        assert result.mismatches == {}
        kinds = {op.kind for op in result.compiled.graph.ops}
        assert {"LOG_SOFTMAX", "L2_NORMALIZATION"} & kinds, kinds
        g = result.compiled.graph
        (got,) = result.outputs.values()
        _check_against_onnxruntime(path, x, got, g.tensors[g.outputs[0]].scalar_quant()[0])


# -- the ../shared/cases models of this area, on the host and on an Armv7E-M board ----------------

CASES = [("softmax_opset11", "old_softmax_axis1.onnx", "x_old.npy", "calib_old.npy"),
         ("qdq_float_island", "add_neg.onnx", "x.npy", "calib.npy")]


def shared_case(case: str, name: str) -> Path:
    path = REPO.parent / "shared" / "cases" / case / name
    if not path.exists():
        pytest.skip(f"real model {path} not found (a user's clone has no ../shared)")
    return path


def _check_against_onnxruntime(path: Path, x: np.ndarray, got: np.ndarray, out_scale: float) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    want = np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])
    got = got.reshape(want.shape)
    sqnr = 10 * np.log10(np.sum(want**2) / max(np.sum((got - want) ** 2), 1e-30))
    steps = np.abs(got - want).max() / out_scale
    assert steps <= 2 or sqnr >= 30, f"{steps:.1f} output steps from onnxruntime, {sqnr:.1f} dB"


@pytest.mark.parametrize(("case", "model", "inputs", "calib"), CASES)
def test_shared_case_on_host(case: str, model: str, inputs: str, calib: str) -> None:
    path = shared_case(case, model)
    x, c = np.load(path.parent / inputs), np.load(path.parent / calib)
    result = run_model(path, x, CompileOptions(calib=c))
    assert result.mismatches == {}
    g = result.compiled.graph
    (got,) = result.outputs.values()
    _check_against_onnxruntime(path, x, got, g.tensors[g.outputs[0]].scalar_quant()[0])


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm or arm-none-eabi-gcc not installed")
@pytest.mark.parametrize(("case", "model", "inputs", "calib"), CASES)
def test_shared_case_on_an386(case: str, model: str, inputs: str, calib: str, tmp_path: Path) -> None:
    path = shared_case(case, model)
    x, c = np.load(path.parent / inputs)[:3], np.load(path.parent / calib)
    result = run_on_board(path, x, "mps2-an386", CompileOptions(calib=c), out_dir=tmp_path / "fw")
    assert result.mismatches == {} and result.samples == 3


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm or arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("name", ["div_activations", "maximum_minimum_branches", "l2_norm_channels",
                                  "log_softmax_dense", "elu_conv_odd"])
def test_keras_int8_on_an386(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(keras_tflite(name))
    result = run_on_board(path, int8_samples(path, 3), "mps2-an386", out_dir=tmp_path / "fw")
    assert result.mismatches == {} and result.samples == 3
