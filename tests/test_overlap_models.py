"""Overlapping buffers on real models (issue 13): MLPerf Tiny KWS under QEMU on a Cortex-M4 and a
Cortex-M55 board bit-exact with overlaps taken, at the same instruction count as without; every
shared case and the MLPerf models get an arena no larger than without overlaps; the report carries
the overlaps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from model_paths import MLPERF, SHARED_MODELS, mlperf_model

from mcuforge.compile import CompileOptions

CASES = SHARED_MODELS.parent / "cases"


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_kws_overlapped_on_qemu(board: str) -> None:
    from mcuforge.runner import run_on_board

    model = mlperf_model("kws_dscnn_int8.tflite")
    x = np.random.default_rng(0).integers(-128, 128, (2, 49, 10, 1)).astype(np.int8)
    on = run_on_board(model, x, board, CompileOptions(overlap=True))
    off = run_on_board(model, x, board, CompileOptions(overlap=False))
    assert on.compiled.report["overlaps"] and not off.compiled.report["overlaps"]
    assert on.compiled.report["arena_bytes"] < off.compiled.report["arena_bytes"]
    assert not on.mismatches and not off.mismatches
    for name in on.raw:
        np.testing.assert_array_equal(on.raw[name], off.raw[name])
    # the same code at other offsets: the same instructions, up to the timer's granularity
    # (per-layer counts move by multiples of 40 either way between runs of one firmware)
    for a, b in zip(on.instructions, off.instructions):
        assert abs(a - b) <= max(200, b // 10000)


def shared_models() -> list[tuple[Path, Path | None]]:
    """(model, calibration file or None) of the MLPerf models and the shared cases."""
    models: list[tuple[Path, Path | None]] = []
    if MLPERF.exists():
        models += [(p, None) for p in sorted(MLPERF.glob("*_int8.tflite"))]
    listing = CASES / "cases.json"
    if listing.exists():
        for c in json.loads(listing.read_text()):
            folder = CASES / c["case"]
            models.append((folder / c["model"], folder / c["calib"] if c.get("calib") else None))
    return models


@pytest.mark.slow
def test_no_arena_grows_with_overlaps(tmp_path: Path) -> None:
    """Every MLPerf model and shared case that compiles: overlap on <= overlap off, and the
    report's overlaps name a pattern and save bytes."""
    from mcuforge.compile import compile_model
    from mcuforge.errors import MfError

    models = shared_models()
    if not models:
        pytest.skip("no ../shared models (a user's clone has none)")
    checked = 0
    for model, calib in models:
        out = tmp_path / f"{model.parent.name}_{model.stem}"
        try:
            compiled = compile_model(model, out, CompileOptions(calib=np.load(calib) if calib else None))
        except MfError:
            continue  # a case that needs options of its own (its README); not about memory
        report = json.loads((out / "report.json").read_text())
        assert report["arena_bytes"] <= report["arena_no_overlap_bytes"], model
        assert report["arena_lower_bound_bytes"] <= report["arena_bytes"]
        for ov in report["overlaps"]:
            assert ov["pattern"] and ov["saved_bytes"] > 0 and ov["shift_bytes"] >= 0
        assert compiled.program.plan.arena_no_overlap_bytes == report["arena_no_overlap_bytes"]
        checked += 1
    assert checked >= 4


def test_no_overlap_switch(tmp_path: Path) -> None:
    """`mcuforge compile --no-overlap` plans without overlaps; the default takes them."""
    from mcuforge.cli import main

    model = mlperf_model("kws_dscnn_int8.tflite")
    reports = {}
    for flag in ([], ["--no-overlap"]):
        out = tmp_path / ("off" if flag else "on")
        assert main(["compile", str(model), "-o", str(out), *flag]) == 0
        reports[bool(flag)] = json.loads((out / "report.json").read_text())
    on, off = reports[False], reports[True]
    assert on["overlaps"] and not off["overlaps"]
    assert on["arena_no_overlap_bytes"] == off["arena_bytes"] == off["arena_no_overlap_bytes"]
    assert on["arena_bytes"] < off["arena_bytes"]
    assert {o["pattern"] for o in on["overlaps"]} == {"1x1-pixels", "depthwise-channel-rows"}
