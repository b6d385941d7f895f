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


def test_tflite_free_batch_is_one_with_a_note(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from corpus.make_corpus import pack, tflite_base

    model = tflite_base()
    model.subgraphs[0].tensors[0].shapeSignature = [-1, 4, 4, 2]  # TF's converter at its defaults
    path = tmp_path / "free.tflite"
    path.write_bytes(pack(model))
    code, out, err = run_cli(["inspect", str(path)], capsys)
    assert code == 0 and "CONV_2D" in out
    assert err.count("\n") == 1 and "input 'input' has a free batch dimension ('-1')" in err
    code, out, err = run_cli(["inspect", str(path), "--input-shape", "input=1,4,4,2"], capsys)
    assert code == 0 and not err


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


def _inspect_and_compile(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         calib: list[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    code_i, _, err_i = run_cli(["inspect", str(path)], capsys)
    code_c, _, err_c = run_cli(["compile", str(path), "-o", str(tmp_path / "c"), *calib], capsys)
    error = [ln for ln in err_i.splitlines() if ln.startswith("mcuforge: error:")]
    return (code_i, error[0] if error else ""), (code_c, err_c)


@pytest.mark.parametrize("axes", [[1], [2, 3]])
def test_inspect_refuses_what_compile_refuses(axes: list[int], capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    """Import and quantization are not all: inspect also binds every op to a C kernel, so it
    refuses (exit 2, the same line naming file and op) exactly what compile refuses. A mean over
    the channels was such a case, over H and W the usual one."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    out_shape = [1 if i in axes else d for i, d in enumerate([1, 3, 4, 4])]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    w = numpy_helper.from_array(np.ones((3, 3, 1, 1), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], "conv"),
             helper.make_node("ReduceMean", ["c"], ["y"], "channel_mean", axes=axes, keepdims=1)]
    graph = helper.make_graph(nodes, "g", [x], [y], [w])
    path = tmp_path / "mean.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    (code_i, line), (code_c, err_c) = _inspect_and_compile(path, tmp_path, capsys, ["--calib", "random"])
    assert code_i == code_c
    if code_i:
        assert_one_line_error(code_i, line, str(path), "MEAN")
        assert line in err_c


def test_inspect_agrees_with_compile_on_channel_mean(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    """../shared/cases/channel_reduce/mean_c_int8.tflite passed inspect and failed in run."""
    path = REPO.parent / "shared" / "cases" / "channel_reduce" / "mean_c_int8.tflite"
    if not path.exists():
        pytest.skip(f"real-world case {path} not found (a user's clone has no ../shared)")
    (code_i, line), (code_c, err_c) = _inspect_and_compile(path, tmp_path, capsys, [])
    assert code_i == code_c
    if code_i:
        assert_one_line_error(code_i, line, str(path), "MEAN")
        assert line in err_c


def dense_with_free_batch(path: Path) -> Path:
    """x (N, 6) -> Gemm -> Relu: an ONNX model whose batch is left free, as torch exports it."""
    w = numpy_helper.from_array(np.random.default_rng(0).normal(0, 0.5, (4, 6)).astype(np.float32), "w")
    nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["y"])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    graph = helper.make_graph(nodes, "dense", [x], [y], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_batch_above_one_is_refused_with_the_shape_that_works(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Found by a new-user trial: --input-shape x=4,6 reached calibration and failed inside it.
    model = dense_with_free_batch(tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", np.ones((8, 6), np.float32))
    code, _, err = run_cli(["compile", str(model), "--calib", str(tmp_path / "calib.npy"),
                            "--input-shape", "x=4,6", "-o", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, err, "batch 4", "--input-shape x=1,6")


@pytest.mark.cbuild
def test_run_writes_outputs_into_a_new_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Found by a new-user trial: an --output in a missing folder failed after the whole build.
    model = dense_with_free_batch(tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", np.random.default_rng(1).normal(0, 1, (3, 6)).astype(np.float32))
    out = tmp_path / "new" / "folder" / "y.npy"
    code, _, err = run_cli(["run", str(model), "--calib", str(tmp_path / "x.npy"), "--input",
                            str(tmp_path / "x.npy"), "--output", str(out)], capsys)
    assert code == 0, err
    assert np.load(out).shape == (3, 4)


def test_debug_is_taken_after_the_command_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exception, match="no such file"):
        main(["inspect", str(tmp_path / "missing.onnx"), "--debug"])
