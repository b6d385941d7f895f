"""The spatial cases of ../shared/cases (README there): the PyTorch tiny U-Net with a bilinear
Resize and the ConvTranspose2d autoencoder, quantized from their calibration data: the C is
bit-exact with the integer reference on the host and on mps2-an386, and the dequantized
outputs are within a few output steps of onnxruntime (SQNR >= 30 dB). The int8
transposed_conv/single_int8.tflite is in test_spatial_tflite.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model, run_on_board

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"
ONNX_CASES = {  # model -> (input, calibration)
    "upsample/bilinear.onnx": ("upsample/x.npy", "upsample/calib.npy"),
    "transposed_conv/autoenc_torch.onnx": ("transposed_conv/x_torch.npy", "transposed_conv/calib_torch.npy"),
}


def case(model: str) -> tuple[Path, np.ndarray, np.ndarray]:
    path = CASES / model
    if not path.exists():
        pytest.skip(f"{path} not found (a user's clone has no ../shared)")
    x, calib = ONNX_CASES[model]
    return path, np.load(CASES / x), np.load(CASES / calib)


def sqnr_vs_onnxruntime(path: Path, xs: np.ndarray, got: np.ndarray) -> float:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    want = np.concatenate([session.run(None, {name: x[None]})[0] for x in xs])
    err = got.reshape(want.shape) - want
    return float(10 * np.log10(np.sum(want**2) / np.sum(err**2)))


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(ONNX_CASES))
def test_onnx_case_on_host(model: str, tmp_path: Path) -> None:
    path, xs, calib = case(model)
    result = run_model(path, xs, CompileOptions(calib=calib), out_dir=tmp_path)
    assert not result.mismatches, result.mismatches
    (out,) = result.outputs.values()
    assert sqnr_vs_onnxruntime(path, xs, out) >= 30.0


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm / arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("model", sorted(ONNX_CASES))
def test_onnx_case_on_an386(model: str, tmp_path: Path) -> None:
    path, xs, calib = case(model)
    result = run_on_board(path, xs[:3], "mps2-an386", CompileOptions(calib=calib), out_dir=tmp_path)
    assert result.mismatches == {}
    assert result.samples == 3
