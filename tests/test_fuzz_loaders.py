"""Coverage-guided fuzzing of the TFLite and ONNX loaders (tests/fuzz_loaders.py, atheris) for a
fixed time budget, seeded with the malformed-input corpus. Marked `fuzz`: `make test` leaves it
out, `make fuzz` (or `pytest -m fuzz`) runs it. A finding is written to the findings folder,
fixed, then committed under tests/corpus/findings/ so the corpus test keeps it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus.make_corpus import make_corpus

SECONDS = int(os.environ.get("MCUFORGE_FUZZ_SECONDS", "60"))  # per format
HERE = Path(__file__).parent


@pytest.mark.fuzz
@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_loader_survives_coverage_guided_fuzzing(fmt: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for case in make_corpus(tmp_path / "corpus"):
        if case.path.is_file() and case.path.suffix == f".{fmt}":
            (seeds / case.path.name.replace("\n", "_")).write_bytes(case.path.read_bytes())
    findings = tmp_path / "findings"
    findings.mkdir()
    env = {**os.environ, "MCUFORGE_FUZZ_FINDINGS": str(findings),
           "PYTHONPATH": os.pathsep.join([str(HERE.parent / "compiler"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(HERE / "fuzz_loaders.py"), fmt, str(seeds),
                           f"-max_total_time={SECONDS}", "-timeout=10", "-rss_limit_mb=4096", "-seed=14",
                           f"-artifact_prefix={findings}/"],
                          capture_output=True, text=True, errors="replace", env=env,
                          timeout=SECONDS * 3 + 120)
    found = sorted(p.name for p in findings.iterdir())
    tail = "\n".join(proc.stderr.splitlines()[-40:])
    assert proc.returncode == 0 and not found, f"{fmt} loader findings {found}:\n{tail}"
    assert "Done" in proc.stderr, tail
