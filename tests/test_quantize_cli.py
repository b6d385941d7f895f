"""`mcuforge quantize` and the quantization flags of `mcuforge compile`: every bad calibration
input is one line on stderr with exit code 2; the report names the worst layer first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_one_line_error, run_cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    root = tmp_path_factory.mktemp("quantize_cli")
    arrays = {
        "calib": x[:100], "eval_x": x[1600:], "eval_y": d.target[1600:],
        "wrong_shape": x[:10, :, :4], "nan": np.where(np.arange(64).reshape(1, 1, 8, 8) == 5, np.nan, x[:4]),
        "bools": x[:4] > 0.5, "empty": x[:0], "scalar": np.float32(1.0),
    }
    paths = {}
    for name, a in arrays.items():
        paths[name] = root / f"{name}.npy"
        np.save(paths[name], a)
    paths["wrong_name"] = root / "wrong_name.npz"
    np.savez(paths["wrong_name"], pixels=x[:4], other=x[:4])
    paths["named"] = root / "named.npz"
    np.savez(paths["named"], image=x[:20])
    paths["garbage"] = root / "garbage.npy"
    paths["garbage"].write_bytes(b"not numpy at all")
    return paths


@pytest.mark.parametrize(("case", "needles"), [
    ("wrong_shape", ["'image'", "(N, 1, 8, 8)", "(10, 1, 4, 8)"]),
    ("nan", ["'image'", "NaN"]),
    ("bools", ["'image'", "bool", "float32"]),
    ("empty", ["no samples", "at least 1"]),
    ("scalar", ["'image'", "(N, 1, 8, 8)"]),
    ("wrong_name", ["['image']", "other", "pixels"]),
    ("garbage", ["garbage.npy", "not a readable"]),
])
def test_bad_calibration_data(case: str, needles: list[str], data: dict[str, Path], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["quantize", "-o", str(tmp_path / "q.mfir")], ["compile", "-o", str(tmp_path / "c")]):
        code, _, err = run_cli([*cmd, str(EXAMPLE), "--calib", str(data[case])], capsys)
        assert_one_line_error(code, err, *needles)
        assert len(err.strip().splitlines()) == 1


def test_missing_calibration_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(tmp_path / "nope.npy"),
                            "-o", str(tmp_path / "q.mfir")], capsys)
    assert_one_line_error(code, err, "nope.npy", "no such file")


def test_no_calibration_data_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["quantize", "-o", str(tmp_path / "q.mfir")], ["compile", "-o", str(tmp_path / "c")]):
        code, _, err = run_cli([*cmd, str(EXAMPLE)], capsys)
        assert_one_line_error(code, err, "--calib DATA.npy", "--calib random")


def test_random_calibration_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", "random", "-o", str(tmp_path / "q.mfir")],
                           capsys)
    assert code == 0, err
    assert err.strip() == "mcuforge: warning: calibrating on random data: accuracy is not validated"
    assert (tmp_path / "q.mfir").exists()


def test_bad_labels_and_output_name(data: dict[str, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(data["calib"]), "--eval",
                            str(data["eval_x"]), str(data["calib"]), "-o", str(tmp_path / "q.mfir")], capsys)
    assert_one_line_error(code, err, "labels", "one class index per sample")
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(data["calib"]), "-o",
                            str(tmp_path / "q.onnx")], capsys)
    assert_one_line_error(code, err, "q.onnx", ".mfir")


def test_16x8_refusals(data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import onnx

    m = onnx.load(EXAMPLE)
    m.graph.node[-1].op_type = "LogSoftmax"  # an op without an int16 definition
    model = tmp_path / "log_probs.onnx"
    onnx.save(m, model)
    code, _, err = run_cli(["quantize", str(model), "--calib", str(data["calib"]), "--mode", "16x8",
                            "-o", str(tmp_path / "q.mfir")], capsys)
    assert_one_line_error(code, err, "LOG_SOFTMAX 'probs'", "--mode int8")


@pytest.mark.slow  # builds C
def test_16x8_quantize_then_run_is_bit_exact(data: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The whole example (softmax included) in 16x8 mode: int16 C kernels, bit-exact."""
    q = tmp_path / "q16.mfir"
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(data["calib"]), "--mode", "16x8",
                            "-o", str(q)], capsys)
    assert code == 0, err
    code, text, err = run_cli(["run", str(q), "--input", str(data["eval_x"]), "--output",
                               str(tmp_path / "y.npy")], capsys)
    assert code == 0, err
    assert "bit-exact" in text + err
    y = np.load(tmp_path / "y.npy")
    labels = np.load(data["eval_y"])
    assert np.allclose(y.sum(axis=1), 1.0, atol=0.01) and np.mean(y.argmax(axis=1) == labels) > 0.9


def test_quantize_report_then_compile_the_mfir(data: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "digits_q.mfir"
    code, text, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(data["named"]), "--eval",
                               str(data["eval_x"]), str(data["eval_y"]), "--bias-correction",
                               "--method", "percentile", "--percentile", "99.9", "-o", str(out)], capsys)
    assert code == 0, err
    lines = text.splitlines()
    assert "worst first" in lines[0] and "(percentile)" in lines[0]
    sqnr = [float(ln.split()[0]) for ln in lines[1:7]]
    assert sqnr == sorted(sqnr) and sqnr[0] > 30
    assert any(ln.startswith("top-1 agreement with float: ") for ln in lines)
    assert any(ln.startswith(f"top-1 accuracy on {1797 - 1600} labelled samples: float ") for ln in lines)
    assert any(ln.startswith("bias correction: 4 layers corrected") for ln in lines)
    code, text, err = run_cli(["compile", str(out), "-o", str(tmp_path / "c")], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "c" / "report.json").read_text())["accuracy"] is None


def test_compile_reports_eval_accuracy(data: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, text, err = run_cli(["compile", str(EXAMPLE), "--calib", str(data["calib"]), "--eval",
                               str(data["eval_x"]), str(data["eval_y"]), "-o", str(tmp_path)], capsys)
    assert code == 0, err
    assert "top-1 accuracy on 197 labelled samples" in text
    acc = json.loads((tmp_path / "report.json").read_text())["accuracy"]
    assert acc["eval_samples"] == 197 and acc["float_accuracy"] is not None and acc["method"] == "minmax"


def test_progress_bar_on_a_terminal(data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = run_cli(["quantize", str(EXAMPLE), "--calib", str(data["calib"]), "-o",
                            str(tmp_path / "q.mfir")], capsys)
    assert code == 0 and "calibrating" in err
