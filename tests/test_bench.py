"""mcuforge bench: its tables from given figures (fast), the layer classes and TFLite Micro
anchors, and one real run of the example on the Cortex-M4 and on Cortex-M0+ code (QEMU)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from model_paths import mlperf_model

from mcuforge.bench.anchors import REFERENCE, anchor
from mcuforge.bench.measure import layer_class
from mcuforge.bench.tables import layer_classes, markdown, targets
from mcuforge.cli import main
from mcuforge.importers import load_model


def _row(model: str, key: str, instr: dict[str, int], layers: list[dict] | None = None) -> dict:
    return {"model": model, "key": key, "macs": 1000, "arena_bytes": 100, "weights_bytes": 10,
            "time_steps": None, "state_bytes": 0,
            "boards": {b: {"instructions": [n], "instructions_per_mac": n / 1000, "bit_exact": True,
                           "flash_bytes": 5000, "stack_estimate_bytes": 512, "layers": layers or []}
                       for b, n in instr.items()}}


def test_targets_compare_with_tflite_micro_and_x_cube_ai() -> None:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} not found (a user's clone has no ../shared)")
    key = "mlperf_tiny/kws_dscnn_int8.tflite"
    tflm = anchor(key, "mps2-an386")
    assert tflm is not None and tflm.instructions and tflm.arena
    half = tflm.instructions // 2
    lines = targets([_row("kws", key, {"mps2-an386": half - 1})], ["mps2-an386"])
    assert any("TFLM+CMSIS-NN" in line and "| met |" in line for line in lines)
    x_cube = [line for line in lines if "X-CUBE-AI" in line]
    assert len(x_cube) == 1 and "| met |" in x_cube[0]  # half of TFLM's count is below its cycles
    slow = targets([_row("kws", key, {"mps2-an386": tflm.instructions})], ["mps2-an386"])
    assert any("missed by 2.00x" in line for line in slow)
    assert anchor("no/such.tflite", "mps2-an386") is None


def test_layer_classes_name_the_worst_layer_and_the_m4_target() -> None:
    layers = [{"index": i, "class": c, "macs": macs, "instructions": n, "kind": c.split()[0],
               "name": f"layer{i}", "kernel": "k"}
              for i, c, macs, n in ((0, "conv 1x1", 100, 150), (3, "conv 1x1", 100, 250),
                                    (4, "SOFTMAX", 0, 90))]
    lines = layer_classes([_row("m", "", {"mps2-an386": 500}, layers)], "mps2-an386")
    assert "| conv 1x1 | 2 | 200 | 2.00 | 2.50 (m #3) | 1.2 |" in lines
    assert not any("SOFTMAX" in line for line in lines)
    boards = ["mps2-an386", "mps3-an547"]
    text = markdown([_row("m", "", {"mps2-an386": 500, "mps3-an547": 300}, layers)], boards)
    assert "| m | 1,000 | 0.00 M | 0.00 M |" in text and "## mps3-an547" in text


def test_layer_class_of_mlperf_layers() -> None:
    path = mlperf_model("vww_mbv1_int8.tflite")
    g = load_model(path)
    classes = [layer_class(g, op) for op in g.ops]
    assert classes[0] == "first conv (1-3 channels)"
    assert classes.count("depthwise 3x3") == 13 and classes.count("conv 1x1") == 13
    assert "dense" in classes or "conv 1x1" in classes[-3:]


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_bench_runs_the_example_on_m4_and_m0plus_code(tmp_path: Path) -> None:
    assert main(["bench", "--set", "example", "--boards", "mps2-an386", "mps2-an385-m0plus",
                 "-o", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in rows] == ["digits_cnn (example)"]
    m4, m0 = rows[0]["boards"]["mps2-an386"], rows[0]["boards"]["mps2-an385-m0plus"]
    assert m4["bit_exact"] and m0["bit_exact"]
    # ARMv6-M has no SMLAD and no 32-bit Thumb-2 data-processing: more instructions for the same work
    assert m0["instructions"][0] > 1.5 * m4["instructions"][0]
    assert sum(x["instructions"] for x in m4["layers"]) == pytest.approx(m4["instructions"][0], rel=0.05)
    assert {x["class"] for x in m4["layers"]} >= {"first conv (1-3 channels)", "conv 3x3", "dense"}
    assert "## Top 5 layers" in (tmp_path / "results.md").read_text()
    # the Cortex-M4 gets a cycle estimate over the same instructions; M0+ code has no cycle model
    est = m4["cycles_estimate"]
    assert est["trace_instructions"] == pytest.approx(m4["instructions"][0], rel=0.01)
    assert est["cycles"] == sum(est["cycles_by_class"].values()) > est["trace_instructions"]
    assert est["cycles_by_class"]["load_store"] > 0 and est["cycles_by_class"]["multiply"] > 0
    assert m0["cycles_estimate"] is None
    # compiled once per core family (kernels/target.py): the M4's DSP choices, portable C for M0+
    assert (m4["kernel_target"], m0["kernel_target"]) == ("dsp", "portable")
    assert m4["arena_bytes"] == rows[0]["arena_bytes"]


def test_unknown_model_set_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--set", "mlperff", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "mlperff" in err and "mlperf" in err
    np.testing.assert_equal(len(list(tmp_path.iterdir())), 0)
