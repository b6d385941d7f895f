"""The reductions and layer-norm cases (../shared/cases/channel_reduce, layer_norm) cross-built for
mps2-an386 (Cortex-M4) and run under QEMU: bit-exact with the integer reference there, as on the
host (tests/test_reductions_*.py compare the host build with TFLite Micro and onnxruntime). Also an
ONNX ArgMax head, whose int64 output travels as bytes through the firmware."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from model_paths import REPO
from onnx import TensorProto, helper, numpy_helper

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_on_board

CASES = REPO.parent / "shared" / "cases"

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]


@pytest.mark.parametrize(("folder", "model", "inputs", "calib"), [
    ("channel_reduce", "mean_c_int8.tflite", "x_mean_int8.npy", None),
    ("channel_reduce", "cbam_torch.onnx", "x_torch.npy", "calib_torch.npy"),
    ("layer_norm", "ln_int8.tflite", "x_int8.npy", None),
    ("layer_norm", "ln_torch_op17.onnx", "x.npy", "calib.npy"),
])
def test_case_bit_exact_on_an386(folder: str, model: str, inputs: str, calib: str | None,
                                 tmp_path: Path) -> None:
    path = CASES / folder / model
    if not path.exists():
        pytest.skip(f"{path} not found (a user's clone has no ../shared)")
    xs = np.load(CASES / folder / inputs)[:3]
    opts = CompileOptions(calib=np.load(CASES / folder / calib)) if calib else None
    result = run_on_board(path, xs, "mps2-an386", opts, out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    assert result.samples == 3


def test_argmax_int64_output_on_an386(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (7, 12)).astype(np.float32), "w")
    nodes = [helper.make_node("Gemm", ["x", "w"], ["z"], transB=1),
             helper.make_node("ArgMax", ["z"], ["y"], axis=1, keepdims=0)]
    graph = helper.make_graph(nodes, "head", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12])],
                              [helper.make_tensor_value_info("y", TensorProto.INT64, [1])], [w])
    path = tmp_path / "argmax.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    xs = rng.standard_normal((4, 12)).astype(np.float32)
    result = run_on_board(path, xs, "mps2-an386", CompileOptions(calib=rng.standard_normal((32, 12)).astype(
        np.float32)), out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    (raw,) = result.raw.values()
    assert raw.dtype == np.int64 and raw.size == 4 and set(raw.tolist()) <= set(range(7))
