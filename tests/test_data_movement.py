"""Data-movement and shape ops end to end (tflite-import): Keras models converted by TensorFlow at
its defaults (batch left free) and with batch 1, PyTorch models exported to ONNX, and the real
cases of ../shared/cases, each compiled to C, run on the host, and checked byte for byte against
the integer reference and against the oracle (data_movement_models.py says which per model)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from data_movement_models import CALIB, KERAS, inputs, keras_model, to_int8_tflite, torch_modules
from model_paths import REPO

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.importers.tflite_import import _builtin, _parse
from mcuforge.ir.layout import from_ir_layout, to_ir_layout
from mcuforge.reference.interpreter import run
from mcuforge.runner import run_model

pytestmark = [pytest.mark.slow, pytest.mark.cbuild, pytest.mark.filterwarnings("ignore::UserWarning")]
SAMPLES = 6
CALIB_N = 256  # calibration samples for float models (32 leave the ranges too narrow: ~27 dB)
CASES = REPO.parent / "shared" / "cases"
SHAPE_OPS = {"SHAPE", "PACK", "UNPACK", "CAST", "FILL", "RANGE", "FLOOR_DIV", "REDUCE_PROD",
             "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"}


# -- oracles ----------------------------------------------------------------------------------------


def _tf() -> Any:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow

    return tensorflow


def tflm(data: bytes, xs: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(data)
    outs = []
    for x in xs:
        interp.set_input(x[None], 0)
        interp.invoke()
        outs.append(interp.get_output(0)[0].copy())
    return np.stack(outs)


def tflite(data: bytes, xs: np.ndarray, builtin_ref: bool) -> np.ndarray:
    """TFLite's BUILTIN_REF kernels (the reference implementations), or its default kernels."""
    lite = _tf().lite
    resolvers = lite.experimental.OpResolverType
    kind = resolvers.BUILTIN_REF if builtin_ref else resolvers.AUTO
    interp = lite.Interpreter(model_content=data, experimental_op_resolver_type=kind)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    outs = []
    for x in xs:
        interp.set_tensor(inp["index"], x[None])
        interp.invoke()
        outs.append(interp.get_tensor(out["index"])[0].copy())
    return np.stack(outs)


def oracle(kind: str, data: bytes, xs: np.ndarray) -> np.ndarray:
    if kind == "tflm":
        return tflm(data, xs)
    return tflite(data, xs, builtin_ref=kind == "builtin_ref")


def builtins_of(data: bytes) -> set[str]:
    model = _parse(data, "model")
    return {_builtin(model, op)[0] for op in model.subgraphs[0].operators}


def random_int8(path: Path, n: int, seed: int = 0) -> np.ndarray:
    g = load_model(path)
    shape = g.tensors[g.inputs[0]].shape
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:]), dtype=np.int8)


def network_of(graph: Any) -> tuple[set[bytes], set[tuple[float, int]]]:
    """What two conversions of one network share: the constants' bytes and the encodings of the
    activations (as sets: names, op order and the number of reshaped copies may differ)."""
    consts = {t.data.tobytes() for t in graph.tensors.values() if t.data is not None}
    quant = {t.scalar_quant() for t in graph.tensors.values() if t.data is None and t.quant is not None}
    return consts, quant


# -- Keras models through TensorFlow's converter ------------------------------------------------------


@functools.cache
def keras_tflite(name: str, batch: int | None) -> bytes:
    return to_int8_tflite(keras_model(name, batch), inputs(name, CALIB, seed=1))


@pytest.mark.parametrize("batch", [None, 1], ids=["free_batch", "batch1"])
@pytest.mark.parametrize("name", sorted(KERAS))
def test_keras_int8_model_bit_exact(name: str, batch: int | None, tmp_path: Path) -> None:
    case = KERAS[name]
    data = keras_tflite(name, batch)
    if batch is None:
        assert case.builtins <= builtins_of(data), f"the converter wrote {sorted(builtins_of(data))}"
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    graph = load_model(path)
    assert not SHAPE_OPS & {op.kind for op in graph.ops}, [op.kind for op in graph.ops]
    xs = random_int8(path, SAMPLES)
    result = run_model(path, xs, out_dir=tmp_path / "c")
    assert result.mismatches == {}
    ours = next(iter(result.raw.values()))
    kind = case.oracle
    if kind == "tflm" and batch is None and {"SHAPE", "UNPACK"} & builtins_of(data):
        try:  # TFLM cannot allocate some free-batch graphs (dynamic shape tensors) ...
            want = tflm(data, xs)
        except RuntimeError:  # ... then it runs the batch-1 conversion of the same network
            fixed = tmp_path / f"{name}_1.tflite"
            fixed.write_bytes(keras_tflite(name, 1))
            assert network_of(load_model(fixed)) == network_of(graph)
            want = tflm(fixed.read_bytes(), xs)
    else:
        want = oracle(kind, data, xs)
    diff = np.abs(ours.astype(np.int32) - want.astype(np.int32)).reshape(len(xs), -1)
    assert diff.max() <= (1 if kind == "default" else 0), f"{kind}: largest difference {diff.max()}"


@pytest.mark.parametrize("name", ["dilated2d", "dilated1d", "space_batch"])
def test_tflm_pads_space_to_batch_with_zero_not_the_zero_point(name: str, tmp_path: Path) -> None:
    """With a free batch, TF writes SPACE_TO_BATCH_ND: TFLite Micro's int8 kernel pads with 0
    instead of the zero point and differs from TFLite's BUILTIN_REF kernels, which we match;
    the float Keras model agrees with us, not with TFLM."""
    data = keras_tflite(name, None)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    graph = load_model(path)
    scale_in, zp_in = graph.tensors[graph.inputs[0]].scalar_quant()
    xs = np.clip(np.round(inputs(name, SAMPLES, seed=5) / scale_in) + zp_in, -128, 127).astype(np.int8)
    result = run_model(path, xs, out_dir=tmp_path / "c")
    ours = next(iter(result.raw.values())).astype(np.int32)
    ref, micro = tflite(data, xs, builtin_ref=True).astype(np.int32), tflm(data, xs).astype(np.int32)
    assert np.array_equal(ours, ref)
    assert np.abs(micro - ref).max() > 8
    scale_out, zp_out = graph.tensors[graph.outputs[0]].scalar_quant()
    real = keras_model(name, None)((xs.astype(np.float32) - zp_in) * scale_in).numpy()
    ours_err = np.abs((ours - zp_out) * scale_out - real).mean()
    micro_err = np.abs((micro - zp_out) * scale_out - real).mean()
    assert 4 * ours_err < micro_err, (ours_err / scale_out, micro_err / scale_out)


def test_free_batch_refusal_names_the_free_batch(tmp_path: Path) -> None:
    """A shape op fed from the free batch that cannot be converted says where it came from (the
    converter never writes an ellipsis mask, so one is set by editing the flatbuffer)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    from mcuforge.errors import MfError

    model = fb.ModelT.InitFromPackedBuf(bytearray(keras_tflite("flatten_cnn", None)), 0)
    sub = model.subgraphs[0]
    ops = [op for op in sub.operators if model.operatorCodes[op.opcodeIndex].builtinCode
           == fb.BuiltinOperator.STRIDED_SLICE]
    ops[0].builtinOptions.ellipsisMask = 1
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "m.tflite"
    path.write_bytes(bytes(builder.Output()))
    want = r"STRIDED_SLICE '.*' comes from the free batch dimension \(fixed to 1\): .*ellipsis_mask"
    with pytest.raises(MfError, match=want):
        load_model(path)


# -- PyTorch models through torch.onnx.export -------------------------------------------------------


def export(name: str, tmp_path: Path, dynamic: bool = False) -> tuple[Path, tuple[int, ...]]:
    import torch

    module, shape, _ = torch_modules()[name]
    path = tmp_path / f"{name}.onnx"
    axes = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic else None
    torch.onnx.export(module.eval(), torch.randn(*shape), str(path), input_names=["x"], output_names=["y"],
                      dynamo=False, opset_version=17, dynamic_axes=axes)
    return path, shape


def ort_outputs(path: Path, xs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path))
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[None]})[0] for x in xs])


def check_onnx(path: Path, shape: tuple[int, ...], tmp_path: Path) -> None:
    """Float import == onnxruntime; int8 C == integer reference; int8 within quantization noise."""
    rng = np.random.default_rng(3)
    calib = rng.normal(size=(CALIB_N, *shape[1:])).astype(np.float32)
    xs = rng.normal(size=(SAMPLES, *shape[1:])).astype(np.float32)
    want = ort_outputs(path, xs)
    graph = load_model(path)
    (name,), (out,) = graph.inputs, graph.outputs
    for x, w in zip(xs, want, strict=True):
        got = run(graph, {name: to_ir_layout(graph, name, x[None])})[out]
        np.testing.assert_allclose(from_ir_layout(graph, out, got)[0], w, rtol=1e-4, atol=1e-4)
    result = run_model(path, xs, CompileOptions(calib=calib), out_dir=tmp_path / "c")
    assert result.mismatches == {}
    ours = next(iter(result.outputs.values())).reshape(want.shape)
    sqnr = 10 * np.log10(np.sum(want ** 2) / np.sum((ours - want) ** 2))
    scale = result.compiled.graph.tensors[result.compiled.graph.outputs[0]].scalar_quant()[0]
    steps = np.abs(ours - want).max() / scale
    assert sqnr >= 30.0, f"SQNR {sqnr:.1f} dB, largest error {steps:.1f} output steps"


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic_batch"])
@pytest.mark.parametrize("name", ["slice_split", "gather_head", "tile_expand", "pixel_shuffle",
                                  "channel_shuffle", "border_pads"])
def test_torch_model(name: str, dynamic: bool, tmp_path: Path) -> None:
    import onnx

    path, shape = export(name, tmp_path, dynamic)
    kinds = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert torch_modules()[name][2] <= kinds, sorted(kinds)
    check_onnx(path, shape, tmp_path)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_onnx_depth_space_and_negative_slices(mode: str, tmp_path: Path) -> None:
    """Conv -> DepthToSpace(mode) -> Slice (negative steps) -> SpaceToDepth -> Conv, built with
    onnx.helper (PyTorch writes only CRD)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w1 = numpy_helper.from_array(rng.normal(0, 0.5, (8, 3, 1, 1)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.5, (4, 8, 1, 1)).astype(np.float32), "w2")
    ints = {k: numpy_helper.from_array(np.array(v, np.int64), k) for k, v in
            {"starts": [-1, 9], "ends": [-100, 1], "axes": [2, 3], "steps": [-1, -2]}.items()}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"]),
             helper.make_node("DepthToSpace", ["a"], ["b"], blocksize=2, mode=mode),
             helper.make_node("Slice", ["b", "starts", "ends", "axes", "steps"], ["c"]),
             helper.make_node("SpaceToDepth", ["c"], ["d"], blocksize=2),
             helper.make_node("Conv", ["d", "w2"], ["y"])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 2])
    graph = helper.make_graph(nodes, "g", [x], [y], [w1, w2, *ints.values()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "ds.onnx"
    onnx.save(model, str(path))
    check_onnx(path, (1, 3, 4, 5), tmp_path)


# -- the real cases -------------------------------------------------------------------------------------

# (model, input, oracle): TFLite Micro aborts loading the MobileNet (and so does BUILTIN_REF in
# this TensorFlow), so its oracle is TFLite's default interpreter; TILE is in neither.
SHARED = [
    ("flatten_batch_none/cnn_int8.tflite", "x_cnn_int8.npy", "tflm"),
    ("flatten_batch_none/mobilenet_int8.tflite", "x_mn_int8.npy", "default"),
    ("dilated_batch_none/conv2d_dil_int8.tflite", "x_conv2d_dil_int8.npy", "builtin_ref"),
    ("dilated_batch_none/stack_int8.tflite", "x_stack_int8.npy", "builtin_ref"),
    ("split_shuffle/shuffle_int8.tflite", "x_shuffle_int8.npy", "tflm"),
    ("upsample/keras_upsampling_int8.tflite", "x_int8.npy", "default"),
]


def shared(path: str) -> Path:
    full = CASES / path
    if not full.exists():
        pytest.skip(f"{full} not found (a user's clone has no ../shared)")
    return full


@pytest.mark.parametrize(("model", "x", "kind"), SHARED, ids=[m for m, _, _ in SHARED])
def test_shared_case(model: str, x: str, kind: str, tmp_path: Path) -> None:
    path = shared(model)
    xs = np.load(path.parent / x)[:4]
    result = run_model(path, xs, out_dir=tmp_path)
    assert result.mismatches == {}
    ours = next(iter(result.raw.values())).astype(np.int32)
    want = oracle(kind, path.read_bytes(), xs).astype(np.int32).reshape(ours.shape)
    assert np.abs(ours - want).max() <= (1 if kind == "default" else 0)
    if "dilated" in model:  # TFLite Micro is wrong here (its int8 space-to-batch pads with 0)
        assert np.abs(tflm(path.read_bytes(), xs).astype(np.int32).reshape(ours.shape) - want).max() > 8


def test_shared_shuffle_onnx(tmp_path: Path) -> None:
    path = shared("split_shuffle/shuffleonly_torch.onnx")
    calib, xs = np.load(path.parent / "calib_shuffle.npy"), np.load(path.parent / "x_shuffle.npy")[:6]
    result = run_model(path, xs, CompileOptions(calib=calib), out_dir=tmp_path)
    assert result.mismatches == {}
    want = ort_outputs(path, xs)
    ours = next(iter(result.outputs.values())).reshape(want.shape)
    assert 10 * np.log10(np.sum(want ** 2) / np.sum((ours - want) ** 2)) >= 30.0


@pytest.mark.qemu
@pytest.mark.parametrize(("model", "x", "kind"), SHARED, ids=[m for m, _, _ in SHARED])
def test_shared_case_on_an386(model: str, x: str, kind: str, tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = shared(model)
    result = run_on_board(path, np.load(path.parent / x)[:2], "mps2-an386", out_dir=tmp_path)
    assert result.mismatches == {}


@pytest.mark.qemu
def test_shared_shuffle_onnx_on_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = shared("split_shuffle/shuffleonly_torch.onnx")
    calib, xs = np.load(path.parent / "calib_shuffle.npy"), np.load(path.parent / "x_shuffle.npy")[:2]
    result = run_on_board(path, xs, "mps2-an386", CompileOptions(calib=calib), out_dir=tmp_path)
    assert result.mismatches == {}
