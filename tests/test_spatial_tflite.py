"""TRANSPOSE_CONV, RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR and grouped CONV_2D from Keras,
converted to int8 by TF's converter at its defaults: the integer reference is byte-for-byte
TFLite Micro's on random inputs, and the generated C (host build) is byte-for-byte the reference.

The batch stays free (Keras' default) except for Conv2DTranspose: with a free batch TF computes
its output_shape with SHAPE -> STRIDED_SLICE -> PACK, which the tflite-import work folds; those
models are built with batch_size=1 here, and the free-batch form is checked where the folding
exists (skipped with a reason otherwise)."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tflite_models as zoo
from test_reference_int import _tf, assert_bit_exact, edited, graph_of, random_inputs, tflm_outputs
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.runner import run_model, run_on_board

pytestmark = pytest.mark.slow

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"


def _model(shape: tuple[int, ...], body: Callable[[Any], Any], batch: int | None = None) -> Any:
    k = _tf().keras
    x = k.Input(shape, batch_size=batch)
    return k.Model(x, body(x))


def _layers() -> Any:
    return _tf().keras.layers


def _v1_resize(fn: str, size: tuple[int, int], **kw: bool) -> Callable[[Any], Any]:
    def body(x: Any) -> Any:
        return _layers().Lambda(lambda t: getattr(_tf().compat.v1.image, fn)(t, size, **kw))(x)

    return body


def _tconv(*args: Any, **kw: Any) -> Any:
    return _layers().Conv2DTranspose(*args, **kw)


# name -> (builder, op kinds the import must contain)
MODELS: dict[str, tuple[Callable[[], Any], set[str]]] = {
    "tconv_s2_same": (lambda: _model((5, 5, 2), _tconv(6, 3, strides=2, padding="same"), 1),
                      {"TRANSPOSE_CONV"}),
    "tconv_s2_valid": (lambda: _model((4, 6, 3), _tconv(5, 3, strides=2, padding="valid"), 1),
                       {"TRANSPOSE_CONV"}),
    "tconv_s3_same_relu": (lambda: _model((3, 4, 4), _tconv(8, 4, strides=3, padding="same",
                                                            activation="relu"), 1), {"TRANSPOSE_CONV"}),
    "tconv_s1_nobias": (lambda: _model((6, 5, 3), _tconv(4, 3, padding="same", use_bias=False), 1),
                        {"TRANSPOSE_CONV"}),
    "tconv_rect_s21_wide": (lambda: _model((4, 3, 9), _tconv(17, (2, 3), strides=(2, 1), padding="same"), 1),
                            {"TRANSPOSE_CONV"}),
    "resizing_bilinear_up": (lambda: _model((5, 6, 3), lambda x: _layers().Resizing(10, 12)(
        _layers().Conv2D(4, 1)(x))), {"RESIZE_BILINEAR"}),
    "resizing_bilinear_down": (lambda: _model((9, 7, 3), _layers().Resizing(4, 5)), {"RESIZE_BILINEAR"}),
    "bilinear_align_corners": (lambda: _model((5, 6, 3), _v1_resize(
        "resize_bilinear", (11, 9), align_corners=True)), {"RESIZE_BILINEAR"}),
    "bilinear_asymmetric": (lambda: _model((5, 6, 8), _v1_resize("resize_bilinear", (11, 13))),
                            {"RESIZE_BILINEAR"}),
    "upsampling_bilinear": (lambda: _model((4, 5, 5), _layers().UpSampling2D(2, interpolation="bilinear")),
                            {"RESIZE_BILINEAR"}),
    "resizing_nearest": (lambda: _model((5, 6, 3), _layers().Resizing(10, 18, interpolation="nearest")),
                         {"RESIZE_NEAREST_NEIGHBOR"}),
    "nearest_align_corners": (lambda: _model((5, 6, 3), _v1_resize("resize_nearest_neighbor", (9, 11),
                                                                   align_corners=True)),
                              {"RESIZE_NEAREST_NEIGHBOR"}),
    "nearest_asymmetric_down": (lambda: _model((7, 13, 4), _v1_resize("resize_nearest_neighbor", (3, 5))),
                                {"RESIZE_NEAREST_NEIGHBOR"}),
    "conv_groups2": (lambda: _model((6, 6, 4), _layers().Conv2D(6, 3, groups=2, padding="same")),
                     {"CONV_2D"}),
    "conv_groups4_s2": (lambda: _model((7, 5, 8), _layers().Conv2D(8, 3, groups=4, strides=2,
                                                                   activation="relu")), {"CONV_2D"}),
}


@functools.cache
def converted(name: str) -> bytes:
    build, _ = MODELS[name]
    _tf().keras.utils.set_random_seed(len(name))
    model = build()
    return zoo.to_tflite(model, True, 3.0 * zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_matches_tflm_and_c(name: str, tmp_path: Path) -> None:
    data = converted(name)
    graph = graph_of(data, tmp_path)
    assert MODELS[name][1] <= {op.kind for op in graph.ops}, [op.kind for op in graph.ops]
    if name.startswith("conv_groups"):
        conv = next(op for op in graph.ops if op.kind == "CONV_2D")
        assert graph.tensors[conv.inputs[1]].shape[3] < graph.tensors[conv.inputs[0]].shape[3]
    inputs = random_inputs(graph, 10)
    assert_bit_exact(data, graph, inputs)
    result = run_model(tmp_path / "model.tflite", np.concatenate(inputs), CompileOptions(),
                       out_dir=tmp_path / "build")
    assert not result.mismatches, result.mismatches


def test_transpose_conv_with_free_batch(tmp_path: Path) -> None:
    """Keras' default free batch: the output_shape comes from shape ops (folded elsewhere)."""
    _tf().keras.utils.set_random_seed(5)
    model = _model((5, 4, 3), _tconv(4, 3, strides=2, padding="same"))
    data = zoo.to_tflite(model, True, 3.0 * zoo.sample_inputs(model, zoo.CALIB_SAMPLES, seed=1))
    try:
        graph = graph_of(data, tmp_path)
    except MfError as e:
        if "SHAPE" in str(e):
            pytest.skip("this tree does not fold TFLite shape ops (the tflite-import work does)")
        raise
    assert_bit_exact(data, graph, random_inputs(graph, 10))


def _fold_shape_ops_by_hand(model: Any, _op: Any) -> None:
    """The case's SHAPE -> STRIDED_SLICE -> PACK only rebuilds the output size: drop them and
    give TRANSPOSE_CONV its output_shape as a constant (what import-time folding produces)."""
    sub = model.subgraphs[0]
    names = {v: k for k, v in fb.BuiltinOperator.__dict__.items() if not k.startswith("_")}
    tconv = next(op for op in sub.operators
                 if names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                              model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)] == "TRANSPOSE_CONV")
    out = sub.tensors[tconv.outputs[0]]
    shape_tensor = sub.tensors[tconv.inputs[0]]
    buf = fb.BufferT()
    buf.data = list(np.asarray([1, *out.shape[1:]], dtype=np.int32).tobytes())
    model.buffers.append(buf)
    shape_tensor.buffer = len(model.buffers) - 1
    sub.operators = [tconv]


def test_case_single_transpose_conv(tmp_path: Path) -> None:
    """../shared/cases/transposed_conv/single_int8.tflite, its shape ops folded by hand: the
    TRANSPOSE_CONV is byte-for-byte TFLite Micro's on the case's inputs, and so is the C."""
    path = CASES / "transposed_conv" / "single_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path} not found (a user's clone has no ../shared)")
    data = edited(path.read_bytes(), _fold_shape_ops_by_hand)
    graph = graph_of(data, tmp_path)
    assert [op.kind for op in graph.ops] == ["TRANSPOSE_CONV"]
    xs = np.load(CASES / "transposed_conv" / "x_single_int8.npy")
    original = path.read_bytes()
    for x in xs:
        x1 = x.reshape(graph.tensors[graph.inputs[0]].shape)
        assert tflm_outputs(data, x1, 1)[0].tobytes() == tflm_outputs(original, x1, 1)[0].tobytes()
    assert_bit_exact(data, graph, [x.reshape(graph.tensors[graph.inputs[0]].shape) for x in xs])
    result = run_model(tmp_path / "model.tflite", xs, CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches, result.mismatches


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm / arm-none-eabi-gcc not installed")
def test_case_single_transpose_conv_on_an386(tmp_path: Path) -> None:
    path = CASES / "transposed_conv" / "single_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path} not found (a user's clone has no ../shared)")
    folded = tmp_path / "folded.tflite"
    folded.write_bytes(edited(path.read_bytes(), _fold_shape_ops_by_hand))
    xs = np.load(CASES / "transposed_conv" / "x_single_int8.npy")
    result = run_on_board(folded, xs[:3], "mps2-an386", out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    assert result.samples == 3
