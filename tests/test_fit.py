"""`mcuforge fit` (issue 16, first version) on a digits CNN: per-layer weight formats chosen to
meet a flash budget measured on the compiled firmware, recovery training, the plan in JSON, the
compiled C bit-exact with the integer reference (host and mps2-an386), and the one-line answer
naming the short budget when nothing fits."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.compress.fit import Budget, compile_options, fit, write_report
from mcuforge.compress.measure import save
from mcuforge.compress.plot import pareto_front
from mcuforge.runner import run_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytestmark = [pytest.mark.slow, pytest.mark.cbuild]


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    return {"x": x[:1400], "y": d.target[:1400], "xt": x[1400:], "yt": d.target[1400:]}


@pytest.fixture(scope="module")
def model_path(data: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc not installed: fit measures the firmware")
    import keras

    L = keras.layers
    keras.utils.set_random_seed(0)
    i = keras.Input((8, 8, 1))
    h = L.Conv2D(12, 3, padding="same", activation="relu", name="c1")(i)
    h = L.Conv2D(24, 3, strides=2, padding="same", activation="relu", name="c2")(h)
    h = L.Dense(48, activation="relu", name="d1")(L.Flatten()(h))
    model = keras.Model(i, L.Dense(10, name="out")(h))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data["x"], data["y"], epochs=12, batch_size=32, verbose=0)
    return save(model, tmp_path_factory.mktemp("fit") / "m.keras")


@pytest.mark.qemu
def test_fit_meets_a_flash_budget_bit_exact(model_path: Path, data: dict, tmp_path: Path) -> None:
    budget = Budget(ram=None, flash=14_000)  # int8: about 28 KB; int4 everywhere does not reach it
    result = fit(model_path, budget, tmp_path / "work", data["x"][:200], (data["x"], data["y"]),
                 (data["xt"], data["yt"]), max_drop=2.0, epochs=4, progress=False)
    base, final = result.steps[0], result.final
    assert base.flash > budget.flash >= final.flash and result.fits, result.answer
    assert result.answer.startswith("fits:")
    assert final.accuracy >= base.accuracy - 0.02
    formats = {row["op"]: row["format"] for row in result.plan}
    assert any(f in ("cb4", "b1", "sp") for f in formats.values()), formats
    assert formats["#0"] != "b1" and formats["#3"] != "b1"  # first and last layers keep >= 4 bits
    assert result.model_path.name.startswith("fitted")  # recovery trained the cb4 / b1 / sp layers
    assert {row["layer"] for row in result.plan} == {"c1", "c2", "d1", "out"}
    # every greedy step was measured, and flash only went down
    flashes = [s.flash for s in result.steps if "->" in s.step and s.prune == result.final.prune]
    assert flashes == sorted(flashes, reverse=True) and flashes
    png = write_report(result, budget, tmp_path / "fit_report.json")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"
    report = json.loads((tmp_path / "fit_report.json").read_text())
    assert report["final"]["flash"] == final.flash and len(report["steps"]) == len(result.steps)
    opts = compile_options(result, data["x"][:200])
    run = run_model(result.model_path, data["xt"][:20], opts, out_dir=tmp_path / "c")
    assert run.mismatches == {}
    if shutil.which("qemu-system-arm"):
        from mcuforge.runner import run_on_board

        board = run_on_board(result.model_path, data["xt"][:3], "mps2-an386", opts, out_dir=tmp_path / "fw")
        assert board.mismatches == {}


def test_fit_names_the_short_budget(model_path: Path, data: dict, tmp_path: Path) -> None:
    ram = fit(model_path, Budget(ram=100, flash=None), tmp_path / "r", data["x"][:100], None,
              (data["xt"][:50], data["yt"][:50]), progress=False)
    assert not ram.fits and "RAM is short by" in ram.answer
    flash = fit(model_path, Budget(ram=None, flash=4_000), tmp_path / "f", data["x"][:100], None,
                (data["xt"][:50], data["yt"][:50]), progress=False)
    assert not flash.fits and f"flash is short by {flash.final.flash - 4_000:,} B" in flash.answer
    # everything at its smallest first: 4 bits, as 1-bit layers need --train to be trained binarized
    assert all(row["format"] in ("int4", "cb4") for row in flash.plan)


def test_cli_fit_writes_the_plan(model_path: Path, data: dict, tmp_path: Path,
                                 capsys: pytest.CaptureFixture) -> None:
    for k in ("xt", "yt"):
        np.save(tmp_path / f"{k}.npy", data[k][:60])
    code = main(["fit", str(model_path), "--ram", "50", "--eval", str(tmp_path / "xt.npy"),
                 str(tmp_path / "yt.npy"), "-o", str(tmp_path / "out")])
    assert code == 1
    report = json.loads((tmp_path / "out" / "fit_report.json").read_text())
    assert not report["fits"] and "RAM is short by" in report["answer"]
    assert "RAM is short by" in capsys.readouterr().out


def test_fit_meets_a_macs_budget_by_pruning(model_path: Path, data: dict, tmp_path: Path) -> None:
    """Weight formats do not change MACs: only structured pruning (with recovery) reaches it."""
    from mcuforge.compress.fit import PRUNE_LEVELS

    first = fit(model_path, Budget(ram=None, flash=None, macs=10**9), tmp_path / "b", data["x"][:100], None,
                (data["xt"][:50], data["yt"][:50]), progress=False)
    macs = first.base.macs
    budget = Budget(ram=None, flash=None, macs=int(0.7 * macs))
    result = fit(model_path, budget, tmp_path / "m", data["x"][:100], (data["x"][:600], data["y"][:600]),
                 (data["xt"][:100], data["yt"][:100]), max_drop=5.0, epochs=2, progress=False)
    assert result.fits, result.answer
    assert result.final.macs <= budget.macs < macs and result.final.prune in PRUNE_LEVELS[1:]
    pruned = next(c for c in result.steps if c.step == f"pruned {result.final.prune:g}")
    assert pruned.ram < result.base.ram  # pruned channels: smaller activations too
    assert any(row["channels"] != "kept" for row in result.plan)


def test_fit_names_the_closest_candidate(model_path: Path, data: dict, tmp_path: Path) -> None:
    budget = Budget(ram=None, flash=4_000, macs=1_000)
    r = fit(model_path, budget, tmp_path / "n", data["x"][:100], None, (data["xt"][:50], data["yt"][:50]),
            progress=False)
    assert not r.fits and r.answer.startswith("does not fit:")
    closest = min(r.steps, key=lambda c: c.distance(budget))
    assert r.final is closest or r.final.distance(budget) == closest.distance(budget)
    assert f"flash is short by {r.final.flash - 4_000:,} B" in r.answer
    assert f"MACs is short by {r.final.macs - 1_000:,}" in r.answer
    assert f"closest candidate: {r.final.step}" in r.answer and f"flash {r.final.flash:,} B" in r.answer


def test_pareto_front() -> None:
    pts = [(10.0, 90.0), (5.0, 80.0), (12.0, 85.0), (5.0, 70.0), (20.0, 95.0)]
    assert pareto_front(pts) == [1, 0, 4]
