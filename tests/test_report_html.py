"""report.html: written beside report.json on every compile, rebuilt by `mcuforge report`, model
text escaped, and rendered by a real browser (headless Chromium) without console errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import onnx
import pytest
from model_paths import mlperf_model
from onnx import TensorProto, helper

from mcuforge.cli import main
from mcuforge.compile import CompileOptions, compile_model
from mcuforge.report_html import peak, rebuild_html

EXAMPLE = Path(__file__).resolve().parent.parent / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"
VOID = {"meta", "br", "img", "input", "hr", "link", "rect"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Balance(HTMLParser):
    """Every start tag, and the ones left open or closed out of order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def _parsed(page: str) -> Balance:
    b = Balance()
    b.feed(page)
    b.close()
    assert not b.errors and not b.stack, (b.errors, b.stack)
    return b


def test_compile_writes_a_balanced_page_with_every_section(tmp_path: Path) -> None:
    compiled = compile_model(EXAMPLE, tmp_path, CompileOptions(calib="random"))
    page = (tmp_path / "report.html").read_text()
    assert compiled.files["report.html"] == tmp_path / "report.html"
    b = _parsed(page)
    for heading in ("Layers", "Arena timeline", "Flash", "RAM"):
        assert f"<h2>{heading}</h2>" in page
    assert b.tags.count("svg") == 2 and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    # a bar per arena buffer, and the peak named with the arena
    report = compiled.report
    assert page.count("<title>") >= len(report["buffers"]) + 1
    assert f"arena {report['arena_bytes']:,} B" in page
    # the layer table's flash column adds up to the weights
    assert sum(sum(op["const_bytes"].values()) for op in report["ops"]) == report["weights_bytes"]


def test_overlapped_buffers_count_once_at_the_peak(tmp_path: Path) -> None:
    """KWS's outputs are written over their inputs: the page's peak counts shared bytes once
    (never above the arena) and lists each overlap with its pattern and saving."""
    compiled = compile_model(mlperf_model("kws_dscnn_int8.tflite"), tmp_path)
    report = compiled.report
    assert report["overlaps"] and report["arena_bytes"] < report["arena_no_overlap_bytes"]
    i, live = peak(report)
    summed = sum(b["bytes"] for b in report["buffers"] if b["first"] <= i <= b["last"])
    assert live <= report["arena_bytes"] < summed  # summing sizes would count shared bytes twice
    page = (tmp_path / "report.html").read_text()
    _parsed(page)
    assert "saved bytes" in page and f"{report['arena_no_overlap_bytes']:,} B without" in page
    assert page.count(report["overlaps"][0]["pattern"]) >= 1


def test_model_text_is_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>&'
    node = helper.make_node("Relu", ["x"], [evil], name=evil)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(evil, TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "evil.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    compile_model(path, tmp_path / "out", CompileOptions(calib="random"))
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    _parsed(page)


def test_validation_that_agrees_exactly_renders(tmp_path: Path) -> None:
    """validate stores an exact agreement's infinite SQNR as null (JSON has no inf): the page says so."""
    compile_model(EXAMPLE, tmp_path, CompileOptions(calib="random"))
    report = json.loads((tmp_path / "report.json").read_text())
    report["validation"] = {"samples": 2, "reference": "onnxruntime", "target": "host", "data": "x.npy",
                            "outputs": [
        {"name": "y", "max_abs_error": 0.0, "mean_abs_error": 0.0, "rmse": 0.0, "sqnr_db": None,
         "cosine": 1.0, "top1_agreement": 1.0}]}
    (tmp_path / "report.json").write_text(json.dumps(report))
    page = rebuild_html(tmp_path).read_text()
    assert "inf (exact)" in page
    _parsed(page)


def test_report_command_rebuilds_the_page_and_refuses_a_folder_without_a_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compile_model(EXAMPLE, tmp_path, CompileOptions(calib="random"))
    (tmp_path / "report.html").unlink()
    assert main(["report", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").exists()
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "report.json" in err and "compile" in err


def _render(page: Path, png: Path) -> str:
    """Headless Chromium: a screenshot of the page; returns what it logged."""
    assert CHROMIUM is not None
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                          "--v=0", f"--screenshot={png}", "--window-size=1400,2000", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stderr


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)")
@pytest.mark.parametrize("model", ["example", "kws_dscnn_int8", "vww_mbv1_int8", "ic_resnet8_int8",
                                   "ad_fcae_int8"])
def test_page_renders_in_chromium_without_console_errors(model: str, tmp_path: Path) -> None:
    path = EXAMPLE if model == "example" else mlperf_model(f"{model}.tflite")
    compile_model(path, tmp_path, CompileOptions(calib="random" if model == "example" else None))
    png = tmp_path / "report.png"
    log = _render(tmp_path / "report.html", png)
    assert "CONSOLE" not in log and "Uncaught" not in log, log[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_a_profiled_board_run_adds_instructions_per_layer(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    x = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    result = run_on_board(EXAMPLE, x, "mps2-an386", CompileOptions(calib="random"), out_dir=tmp_path,
                          profile=True)
    page = (tmp_path / "report.html").read_text()
    _parsed(page)
    assert "<th>instructions</th>" in page and "mps2-an386" in page
    first = result.layer_instructions[0][0]
    assert f"<td>{first:,}</td>" in page
