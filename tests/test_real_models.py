"""TFLite Micro's own example models (real models area).

The models themselves are third-party data and not in this repository: set
MCUFORGE_TFLM_MODELS to a folder of .tflite files (e.g. TFLite Micro's keyword_scrambled_8bit
rebuilt from its C array) and `test_tflm_model_is_bit_exact_with_tflm` runs each one on the
host over a few consecutive random samples and compares every byte with the tflite-micro
interpreter (one interpreter, so an SVDF's memory carries over as it does in the C); without
the variable those tests skip.

The structure of keyword_scrambled_8bit is rebuilt here from the flatbuffer schema
(tests/svdf_models.py): int16 input -> QUANTIZE -> SVDF with int8 time weights and an int8 memory
whose zero point is not 0 -> FULLY_CONNECTED -> SOFTMAX int8 -> int16 -> QUANTIZE int16 -> int32.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from svdf_models import Layer, svdf_model, tflm_stream

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

MODELS_ENV = "MCUFORGE_TFLM_MODELS"
# seed 1: some stored feature responses wrap (TFLite Micro adds the state zero point after its
# clamp, issue #2721), so a reference that saturated instead would differ from the interpreter
KEYWORD_SCRAMBLED_FORM = {"layers": (Layer(16, 1, 8), Layer(8, 2, 8)), "inputs": 96, "int16_io": True,
                          "state8": True, "int32_out": True, "seed": 1}


def _int16_stream(count: int, inputs: int) -> np.ndarray:
    return np.random.default_rng(0).integers(-8000, 8000, (count, 1, inputs), dtype=np.int16)


@pytest.mark.slow
def test_keyword_scrambled_form_is_bit_exact_with_tflm(tmp_path: Path) -> None:
    """The C runs mf_svdf_s8_s8 for the int8-memory SVDF and mf_requantize_s32 for the int32
    output, and gives the tflite-micro interpreter's int32 stream value for value."""
    path = tmp_path / "kws_scrambled_form.tflite"
    data = svdf_model(**KEYWORD_SCRAMBLED_FORM)
    path.write_bytes(data)
    xs = _int16_stream(10, 96)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    kernels = [s.call.kernel for s in result.compiled.program.steps if s.call is not None]
    assert kernels.count("mf_svdf_s8_s8") == 2 and kernels[-1] == "mf_requantize_s32", kernels
    want = tflm_stream(data, xs)
    got = next(iter(result.raw.values()))
    assert got.dtype == np.int32 and len(np.unique(want)) > 4
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.slow
@pytest.mark.qemu
def test_keyword_scrambled_form_on_mps2_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = tmp_path / "kws_scrambled_form.tflite"
    data = svdf_model(**KEYWORD_SCRAMBLED_FORM)
    path.write_bytes(data)
    xs = _int16_stream(6, 96)
    result = run_on_board(path, xs[:, 0], "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert not result.mismatches and result.samples == 6
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)
    assert all(n > 0 for n in result.instructions)


def _tflm_models() -> list[Path]:
    folder = os.environ.get(MODELS_ENV)
    return sorted(Path(folder).glob("*.tflite")) if folder else []


def _random_inputs(data: bytes, count: int) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    detail = runtime.Interpreter.from_bytes(data).get_input_details(0)
    info = np.iinfo(detail["dtype"])
    shape = tuple(int(d) for d in detail["shape"])
    return np.random.default_rng(0).integers(info.min, info.max + 1, (count, *shape)).astype(detail["dtype"])


@pytest.mark.slow
@pytest.mark.skipif(not _tflm_models(), reason=f"{MODELS_ENV} is not set to a folder of TFLite Micro "
                    "example models (.tflite; third-party data, not in this repository)")
@pytest.mark.parametrize("path", _tflm_models(), ids=lambda p: p.stem)
def test_tflm_model_is_bit_exact_with_tflm(path: Path, tmp_path: Path) -> None:
    data = path.read_bytes()
    xs = _random_inputs(data, 4)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)
