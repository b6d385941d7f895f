"""The remaining 16x8 ops (issue 11; int16-ops) in models made as users make them: Keras models
converted by TF's converter in EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 mode
with int16 inputs and outputs. `mcuforge run` builds the C and checks every byte against the
integer reference; the bytes are then compared with TFLite Micro's interpreter, or, where
TFLite Micro has no int16 kernel (RESIZE_BILINEAR), with TFLite's reference kernels
(BUILTIN_REF). TF's converter refuses RELU_N1_TO_1 in 16x8 mode, so that clamp is checked
through mcuforge's own 16x8 quantizer (tests/test_int16_layers.py) and the kernel tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_data_movement import tflite
from test_int16_models import _keras, samples, tflm, to_16x8

from mcuforge.runner import run_model

pytestmark = pytest.mark.slow


def _tf() -> Any:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf
    return tf


def leaky() -> Any:
    k = _keras()
    L = k.layers
    x = k.Input((6, 7, 5), batch_size=1)
    return k.Model(x, L.LeakyReLU(0.2)(L.Conv2D(9, 1)(x)))


def relu() -> Any:
    """Standalone RELU and RELU6 (after a MEAN, which fuses no activation)."""
    k = _keras()
    L = k.layers
    x = k.Input((5, 6, 4), batch_size=1)
    m = L.GlobalAveragePooling2D()(L.Conv2D(9, 3)(x))
    return k.Model(x, L.Concatenate()([L.ReLU()(m), L.ReLU(6.0)(m), m]))


def minmax() -> Any:
    k = _keras()
    L = k.layers
    x = k.Input((6, 6, 5), batch_size=1)
    a, b = L.Conv2D(7, 1)(x), L.Conv2D(7, 1)(x)
    return k.Model(x, L.Concatenate()([L.Maximum()([a, b]), L.Minimum()([a, b])]))


def resize(method: str, v2: bool = False, **kw: Any) -> Any:
    """tf.image.resize (half_pixel_centers) or its v1 form (align_corners or neither)."""
    tf = _tf()
    k = _keras()
    L = k.layers
    x = k.Input((5, 6, 3), batch_size=1)
    c = L.Conv2D(4, 1)(x)
    fn = tf.image.resize if v2 else tf.compat.v1.image.resize
    return k.Model(x, L.Lambda(lambda t: fn(t, (11, 9), method=method, **kw))(c))


def matmul() -> Any:
    """Attention scores Q K^T and the weighted values: two BATCH_MATMULs of activations."""
    tf = _tf()
    k = _keras()
    L = k.layers
    x = k.Input((7, 8), batch_size=1)
    q, kk, v = L.Dense(8)(x), L.Dense(8)(x), L.Dense(5)(x)
    s = L.Lambda(lambda t: tf.linalg.matmul(t[0], t[1], transpose_b=True))([q, kk])
    return k.Model(x, L.Lambda(lambda t: tf.linalg.matmul(t[0], t[1]))([s, v]))


def grouped() -> Any:
    k = _keras()
    L = k.layers
    x = k.Input((7, 6, 8), batch_size=1)
    y = L.Conv2D(6, 3, groups=2, padding="same", activation="relu")(x)
    return k.Model(x, L.Conv2D(8, (2, 3), groups=2, strides=2)(y))


MODELS: dict[str, tuple[Any, str, set[str]]] = {  # builder, oracle, kernels it must run
    "leaky": (leaky, "tflm", {"mf_leaky_relu_s16"}),
    "relu": (relu, "tflm", {"mf_leaky_relu_s16"}),
    "minmax": (minmax, "tflm", {"mf_elementwise_maximum_s16", "mf_elementwise_minimum_s16"}),
    "bilinear": (lambda: resize("bilinear"), "builtin_ref", {"mf_resize_bilinear_s16"}),
    "bilinear_half_pixel": (lambda: resize("bilinear", v2=True), "builtin_ref",
                            {"mf_resize_bilinear_s16"}),
    "bilinear_align": (lambda: resize("bilinear", align_corners=True), "builtin_ref",
                       {"mf_resize_bilinear_s16"}),
    "nearest": (lambda: resize("nearest"), "tflm", {"mf_resize_nearest_s8"}),
    "nearest_half_pixel": (lambda: resize("nearest", v2=True), "tflm", {"mf_resize_nearest_s8"}),
    "matmul": (matmul, "tflm", {"mf_batch_matmul_s16"}),
    "grouped": (grouped, "tflm", {"mf_convolve_s16"}),
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("int16_ops_models")
    paths = {}
    for name, (build, _, _) in MODELS.items():
        _keras().utils.set_random_seed(len(name))
        path = out / f"{name}.tflite"
        path.write_bytes(to_16x8(build(), True))
        paths[name] = path
    return paths


@pytest.mark.parametrize("name", sorted(MODELS))
def test_16x8_op_matches_tflm(converted: dict[str, Path], name: str, tmp_path: Path) -> None:
    _, oracle, kernels = MODELS[name]
    path = converted[name]
    xs = samples(path, True)
    result = run_model(path, xs, out_dir=tmp_path / "c")
    assert result.mismatches == {}, f"C differs from the integer reference: {result.mismatches}"
    g = result.compiled.graph
    used = {s.call.kernel for s in result.compiled.program.steps if s.call is not None}
    assert kernels <= used, sorted(used)
    out = g.outputs[0]
    assert g.tensors[out].dtype == "int16"
    got = result.raw[out].reshape(len(xs), -1).astype(np.int64)
    if oracle == "tflm":
        want = np.stack([tflm(path, x[None]).reshape(-1) for x in xs]).astype(np.int64)
    else:
        want = tflite(path.read_bytes(), xs, builtin_ref=True).reshape(len(xs), -1).astype(np.int64)
    assert np.array_equal(got, want), f"{np.count_nonzero(got != want)} of {got.size} values differ"
    assert len(np.unique(want)) > 10  # not saturated


# -- mcuforge's own quantizer: --mode 16x8 and --int16 LAYER,... on an ONNX export ------------------

CHOSEN = ("/LeakyRelu_output_0", "/g/Conv_output_0", "/Max_output_0", "/Clip_output_0", "/Min_output_0",
          "/Resize_output_0")


def torch_model(path: Path) -> Path:
    """A PyTorch export with every op of this area: grouped conv, leaky relu, max/min, a Clip to
    [-1, 1] (RELU_N1_TO_1, which TF's converter refuses in 16x8), bilinear upsampling and an
    attention-like product of two activations."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(4, 8, 3, padding=1)
            self.g = nn.Conv2d(8, 8, 3, padding=1, groups=2)
            self.q, self.k = nn.Linear(8, 8), nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = F.leaky_relu(self.c1(x), 0.1)
            b = self.g(a)
            c = torch.clamp(torch.maximum(a, b), -1.0, 1.0) + torch.minimum(a, b)
            u = F.interpolate(F.avg_pool2d(c, 2), scale_factor=2, mode="bilinear", align_corners=False)
            t = u.flatten(2).transpose(1, 2)
            return self.q(t) @ self.k(t).transpose(1, 2)

    torch.manual_seed(0)
    torch.onnx.export(Net().eval(), torch.randn(1, 4, 6, 6), str(path), dynamo=False, input_names=["x"])
    return path


@pytest.mark.parametrize("mode", ["16x8", "mixed"])
def test_own_quantizer_runs_the_new_ops_at_int16(mode: str, tmp_path: Path) -> None:
    from mcuforge.compile import CompileOptions
    from mcuforge.importers import load_model
    from mcuforge.importers.ir_file import save_ir
    from mcuforge.quantize import QuantOptions, quantize

    path = torch_model(tmp_path / "net.onnx")
    rng = np.random.default_rng(0)
    calib = rng.normal(size=(32, 4, 6, 6)).astype(np.float32)
    xs = rng.normal(size=(6, 4, 6, 6)).astype(np.float32)
    opts = QuantOptions(mode="16x8") if mode == "16x8" else QuantOptions(int16_layers=CHOSEN)
    q, report = quantize(load_model(path), calib, opts)
    wide = {op.kind for op in q.ops if q.tensors[op.outputs[0]].dtype == "int16"}
    assert {"LEAKY_RELU", "CONV_2D", "MAXIMUM", "CLAMP", "MINIMUM", "RESIZE_BILINEAR"} <= wide
    assert ("BATCH_MATMUL" in wide) == (mode == "16x8")
    result = run_model(save_ir(q, tmp_path / "q.mfir"), xs, CompileOptions(), out_dir=tmp_path / "c")
    assert result.mismatches == {}
    used = {s.call.kernel for s in result.compiled.program.steps if s.call is not None}
    assert {"mf_leaky_relu_s16", "mf_convolve_s16", "mf_elementwise_maximum_s16",
            "mf_elementwise_minimum_s16", "mf_resize_bilinear_s16"} <= used
    assert ("mf_batch_matmul_s16" in used) == (mode == "16x8")
    assert report.layers[0].sqnr_db > 30  # the int16 layers track the float model
