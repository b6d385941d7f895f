"""The command line: inspect output, and one clear line with exit code 2 for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mcuforge.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


def conv_model(
    batch: int | str = 1, weight_channels: int = 3, extra_op: str | None = None
) -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((4, weight_channels, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], "conv", kernel_shape=[3, 3])]
    out = "y"
    if extra_op:
        nodes += [helper.make_node(extra_op, ["y"], ["z"], "strange_node"),
                  helper.make_node("Cos", ["z"], ["z2"], "other_strange_node")]
        out = "z2"
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [batch, 4, 6, 6])], [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) >= 1 and lines[0].startswith("mcuforge: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"


def test_inspect_example_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["inspect", str(EXAMPLE)], capsys)
    assert code == 0
    assert "CONV_2D" in out and "FULLY_CONNECTED" in out and "MACs" in out


def test_inspect_json_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["inspect", str(EXAMPLE), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    # conv1 8x8x8 outputs x 9 taps; conv2 4x4x16 x 72; fc1 256x32; fc2 32x10
    assert data["macs"] == 8 * 8 * 8 * 9 + 4 * 4 * 16 * 72 + 256 * 32 + 32 * 10
    assert data["params"] == (8 * 9 + 8) + (16 * 72 + 16) + (256 * 32 + 32) + (32 * 10 + 10)
    assert data["largest_activation_bytes"] == 8 * 8 * 8
    conv = next(r for r in data["ops"] if r["kind"] == "CONV_2D")
    assert conv["outputs"] == [[1, 8, 8, 8]]


def test_python_dash_m_works() -> None:
    proc = subprocess.run([sys.executable, "-m", "mcuforge", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("mcuforge ")


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nope.onnx"
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, str(path), "no such file")


def test_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, str(path), "empty")


def test_random_bytes_tflite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "random.tflite"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, str(path), "TFLite")


def test_truncated_onnx(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(EXAMPLE.read_bytes()[:5000])
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, str(path))


def test_unknown_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"hello world, not a model")
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, str(path), ".onnx")


def test_unsupported_ops_listed_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "odd.onnx"
    onnx.save(conv_model(extra_op="Sin"), path)
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, "strange_node", "Sin", "other_strange_node", "Cos")


def test_symbolic_batch_is_one_with_a_note(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    onnx.save(conv_model(batch="N"), path)
    code, out, err = run_cli(["inspect", str(path)], capsys)
    assert code == 0 and "CONV_2D" in out
    assert err.count("\n") == 1 and "mcuforge: note:" in err and "free batch dimension ('N')" in err
    code, out, err = run_cli(["inspect", str(path), "--input-shape", "x=1,3,8,8"], capsys)
    assert code == 0 and "CONV_2D" in out and not err


def test_initializer_shape_mismatch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad_w.onnx"
    onnx.save(conv_model(weight_channels=5), path)
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert_one_line_error(code, err, str(path), "conv")


def test_bad_input_shape_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["inspect", str(EXAMPLE), "--input-shape", "x=1,a"], capsys)
    assert_one_line_error(code, err, "--input-shape", "NAME=")


def test_ops_lists_each_importer_from_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from mcuforge.importers.onnx_ops import TABLE
    from mcuforge.importers.tflite_ops import CONVERTERS

    code, out, _ = run_cli(["ops", "--json"], capsys)
    assert code == 0
    listing = json.loads(out)
    assert [o["op"] for o in listing["onnx"]["ops"]] == sorted(TABLE)
    assert [o["op"] for o in listing["tflite"]["ops"]] == sorted(CONVERTERS)
    assert listing["keras"]["via"] == "tflite"
    conv = next(o for o in listing["onnx"]["ops"] if o["op"] == "Conv")
    assert "CONV_2D" in conv["ir"] and "group" in conv["attributes"] and conv["c_kernel"] == "C kernel"
    assert any("pads" in c for c in conv["constraints"])  # a refusal read from the converter's source
    code, out, _ = run_cli(["ops", "onnx"], capsys)
    assert code == 0 and out.startswith("ONNX") and "TFLite (" not in out
    assert "  Conv " in out and "attributes: " in out
