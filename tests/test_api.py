"""The Python API as users call it: `import mcuforge`, then load / quantize / compile / run /
validate (bench under QEMU), on the bundled digits example and real digits images."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mcuforge

EXAMPLE = Path(__file__).resolve().parent.parent / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


def _digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target


def test_import_is_cheap_and_lists_the_api() -> None:
    code = "import sys, mcuforge; print(len([m for m in sys.modules if m.startswith('mcuforge')]))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = int(run.stdout)
    assert loaded <= 4  # the package, its errors and version modules: the API loads on first use
    assert set(mcuforge.__all__) >= {"load", "quantize", "compile", "run", "validate", "bench", "MfError"}
    with pytest.raises(AttributeError):
        mcuforge.no_such_function  # noqa: B018
    # submodules of the same names (mcuforge.compile, .quantize, .bench) do not hide the functions
    from mcuforge.bench import run_bench
    from mcuforge.compile import CompileOptions
    from mcuforge.quantize import QuantOptions

    assert callable(run_bench) and CompileOptions().board == "host" and QuantOptions().mode == "int8"
    for name in ("compile", "quantize", "bench", "validate", "run", "load"):
        assert getattr(mcuforge, name).__module__ == "mcuforge.api", name


def test_load_and_quantize() -> None:
    x, _ = _digits()
    graph = mcuforge.load(EXAMPLE)
    assert graph.tensors[graph.inputs[0]].dtype == "float32"
    q, report = mcuforge.quantize(EXAMPLE, x[:100])
    assert all(q.tensors[o].dtype == "int8" for o in q.outputs)
    assert report.samples == 100 and report.top1_agreement is not None and report.top1_agreement > 0.9
    with pytest.raises(mcuforge.MfError, match="calibration method"):
        mcuforge.quantize(graph, x[:10], method="no-such-method")


@pytest.mark.cbuild
def test_compile_run_validate(tmp_path: Path) -> None:
    x, y = _digits()
    compiled = mcuforge.compile(EXAMPLE, tmp_path / "c", calib=x[:200], name="digits")
    assert (tmp_path / "c" / "digits.c").exists() and (tmp_path / "c" / "report.html").exists()
    assert compiled.report["arena_bytes"] > 0
    result = mcuforge.run(EXAMPLE, x[300:340], calib=x[:200])
    assert not result.mismatches and result.outputs[next(iter(result.outputs))].shape == (40, 10)
    check = mcuforge.validate(EXAMPLE, x[300:500], y[300:500], calib=x[:200])
    assert check.bit_exact and abs(check.drop_points) <= 1.0 and check.c_accuracy > 0.9
    with pytest.raises(TypeError):
        mcuforge.compile(EXAMPLE, tmp_path / "d", calib=x[:10], no_such_option=1)


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_run_and_bench_on_a_board(tmp_path: Path) -> None:
    x, _ = _digits()
    result = mcuforge.run(EXAMPLE, x[:3], board="mps2-an386", calib=x[:100], profile=True)
    assert not result.mismatches and len(result.instructions) == 3
    rows = mcuforge.bench(sets=["example"], boards=["mps2-an386"], out_dir=tmp_path)
    assert rows[0]["boards"]["mps2-an386"]["bit_exact"] and (tmp_path / "results.md").exists()
