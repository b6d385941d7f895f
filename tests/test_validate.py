"""mcuforge validate: the original model in its framework against the generated C on real data
(scikit-learn's digits), on the host and under QEMU; exit codes; one-line refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from model_paths import mlperf_model

from mcuforge.cli import main
from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.validate import compare, validate

EXAMPLE = Path(__file__).resolve().parent.parent / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


def _digits(tmp_path: Path) -> tuple[Path, Path, Path]:
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # NCHW, as the ONNX model takes it
    paths = tmp_path / "x.npy", tmp_path / "y.npy", tmp_path / "calib.npy"
    np.save(paths[0], x[:300])
    np.save(paths[1], d.target[:300])
    np.save(paths[2], x[1000:1200])
    return paths


def test_compare_figures() -> None:
    ref = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    got = ref + np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    e = compare("y", ref, got)
    assert e.max_abs_error == 0.5 and e.mean_abs_error == pytest.approx(0.5 / 6)
    assert e.rmse == pytest.approx(np.sqrt(0.25 / 6))
    assert e.sqnr_db == pytest.approx(10 * np.log10(15 / 0.25))
    assert e.top1_agreement == 1.0 and 0.99 < e.cosine < 1.0
    assert compare("y", ref, ref).sqnr_db == float("inf")
    assert compare("p", ref[:, :1], ref[:, :1]).top1_agreement is None


@pytest.mark.cbuild
def test_digits_onnx_on_the_host_within_a_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y, calib = _digits(tmp_path)
    out = tmp_path / "out"
    assert main(["validate", str(EXAMPLE), "--data", str(x), "--labels", str(y), "--calib", str(calib),
                 "--max-drop", "1", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "onnxruntime" in text and "bit-exact with mcuforge's integer reference: yes" in text
    v = json.loads((out / "report.json").read_text())["validation"]
    assert v["samples"] == 300 and v["float_accuracy"] > 0.9
    assert abs(v["drop_points"]) <= 1.0 and v["outputs"][0]["top1_agreement"] >= 0.97
    assert v["outputs"][0]["sqnr_db"] > 25 and v["outputs"][0]["cosine"] > 0.99
    assert "<h2>Validation</h2>" in (out / "report.html").read_text()
    # the same run with a threshold below what it lost fails with exit code 1, not 2
    assert main(["validate", str(EXAMPLE), "--data", str(x), "--labels", str(y), "--calib", str(calib),
                 "--max-drop", str(v["drop_points"] - 0.5)]) == 1
    assert "--max-drop" in capsys.readouterr().err


@pytest.mark.slow
def test_int8_tflite_matches_tflite_reference_kernels_exactly(tmp_path: Path) -> None:
    """An int8 TFLite file: float data quantized with the file's input encoding on both sides, and
    TFLite Micro's interpreter computes what mcuforge's C computes."""
    model = mlperf_model("ad_fcae_int8.tflite")
    x = np.random.default_rng(0).normal(0, 1, (12, 640)).astype(np.float32)
    v = validate(model, x)
    assert v.reference == "TensorFlow Lite Micro interpreter"
    assert v.bit_exact and v.outputs[0].max_abs_error == 0.0


@pytest.mark.slow
def test_keras_h5_through_keras(tmp_path: Path) -> None:
    model = mlperf_model("ad_fcae.h5")
    rng = np.random.default_rng(1)
    x, calib = (rng.normal(0, 1, (n, 640)).astype(np.float32) for n in (16, 64))
    v = validate(model, x, None, _opts(calib))
    assert v.reference == "Keras" and v.bit_exact
    assert v.outputs[0].cosine > 0.99 and v.outputs[0].sqnr_db > 15


@pytest.mark.slow
def test_float_op_the_reference_kernels_lack_runs_in_the_builtin_kernels(tmp_path: Path) -> None:
    """TFLite's reference kernels (BUILTIN_REF) have no float ELU: validate falls back to TFLite's
    builtin kernels and says so."""
    import tensorflow as tf
    import tf_keras as keras

    m = keras.Sequential([keras.layers.Input((12,)), keras.layers.Dense(8), keras.layers.ELU(),
                          keras.layers.Dense(3)])
    path = tmp_path / "elu.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(m).convert())
    rng = np.random.default_rng(4)
    x, calib = (rng.normal(0, 1, (n, 12)).astype(np.float32) for n in (8, 64))
    v = validate(path, x, None, _opts(calib))
    assert v.reference == "TensorFlow Lite interpreter, builtin kernels" and v.bit_exact
    assert v.outputs[0].sqnr_db > 20


def _opts(calib: np.ndarray) -> CompileOptions:
    return CompileOptions(calib=calib)


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_keras_on_a_board(tmp_path: Path) -> None:
    model = mlperf_model("ad_fcae.h5")
    rng = np.random.default_rng(2)
    x, calib = (rng.normal(0, 1, (n, 640)).astype(np.float32) for n in (4, 64))
    v = validate(model, x, None, _opts(calib), board="mps2-an386")
    assert v.reference == "Keras" and v.target == "mps2-an386" and v.bit_exact
    assert v.outputs[0].cosine > 0.99


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_board_gives_the_hosts_figures(tmp_path: Path) -> None:
    x, y, calib = _digits(tmp_path)
    data = np.load(x)[:40]
    host = validate(EXAMPLE, data, np.load(y)[:40], _opts(np.load(calib)))
    board = validate(EXAMPLE, data, np.load(y)[:40], _opts(np.load(calib)), board="mps2-an386")
    assert board.target == "mps2-an386" and board.bit_exact
    assert board.outputs == host.outputs and board.c_accuracy == host.c_accuracy


def test_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = np.zeros((4, 1, 8, 8), np.float32)
    np.savez(tmp_path / "x.npz", a=x)
    assert main(["validate", str(EXAMPLE), "--data", str(tmp_path / "x.npz")]) == 2
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.zeros(3, np.int64))
    assert main(["validate", str(EXAMPLE), "--data", str(tmp_path / "x.npy"), "--labels",
                 str(tmp_path / "y.npy")]) == 2
    errs = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errs) == 2 and ".npz" in errs[0] and "3 labels for 4 samples" in errs[1]
    with pytest.raises(MfError, match="original model in its framework"):
        validate(tmp_path / "m.mfir", x)
