"""The malformed-input corpus (tests/corpus/make_corpus.py): every hostile model or file name
gives exactly one `mcuforge: error:` line and exit 2 from `inspect` and `compile`, quickly, with
no traceback, no internal error and nothing written outside `-o`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus.make_corpus import Case, make_corpus

from mcuforge.cli import main

SECONDS = 1.0  # CPU seconds per command, in process (the CLI's start-up is not counted; CPU time,
# not wall time, so a busy machine does not make the test flaky)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    cases = make_corpus(tmp_path_factory.mktemp("corpus") / "in")
    for case in cases[:1] + cases[-10:]:  # warm up: the importers' own imports are not timed
        main(["inspect", str(case.path)])
    return cases


def test_corpus_is_large(corpus: list[Case]) -> None:
    assert len(corpus) >= 60


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _check(argv: list[str], capsys: pytest.CaptureFixture[str], name: str, may_pass: bool = False) -> str:
    start = time.process_time()
    code = main(argv)
    took = time.process_time() - start
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, f"{name}: {err}"
    if may_pass and code == 0:
        return ""
    lines = [ln for ln in err.splitlines() if ln.startswith("mcuforge: error:")]
    assert code == 2 and len(lines) == 1, f"{name}: exit {code}, stderr:\n{err}"
    assert took < SECONDS, f"{name}: {took:.2f} s"
    return lines[0]


@pytest.mark.slow  # compiles the valid ones (about 30 s)
def test_inspect_and_compile_refuse_cleanly(corpus: list[Case], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = corpus[0].path.parent
    before = _files(root)
    for i, case in enumerate(corpus):
        _check(["inspect", str(case.path)], capsys, case.name, case.expect != "error")
        out = tmp_path / f"out{i}"
        if _check(["compile", str(case.path), "-o", str(out)], capsys, case.name, case.expect == "any"):
            assert not out.exists() or not any(out.iterdir()), f"{case.name}: a refused compile wrote files"
    assert _files(root) == before, "something was written next to the inputs"
    assert {p.name for p in tmp_path.iterdir()} <= {f"out{i}" for i in range(len(corpus))}


def test_error_names_the_file(corpus: list[Case], capsys: pytest.CaptureFixture[str]) -> None:
    errors = [(c, _check(["inspect", str(c.path)], capsys, c.name)) for c in corpus if c.expect == "error"]
    shown = lambda c: c.path.name.encode("utf-8", "backslashreplace").decode().split("\n")[0][:8]  # noqa: E731
    unnamed = [c.name for c, line in errors if shown(c) not in line]
    assert not unnamed, f"errors that do not name their file: {unnamed}"


@pytest.mark.slow
def test_cli_process_refuses_a_few_cleanly(corpus: list[Case], tmp_path: Path) -> None:
    """The real process: exit status, one line, for some cases (start-up makes this slow)."""
    for case in [c for c in corpus if c.expect == "error"][::15]:
        proc = subprocess.run([sys.executable, "-m", "mcuforge", "inspect", str(case.path)],
                              capture_output=True, text=True, errors="replace", timeout=60)
        assert proc.returncode == 2, (case.name, proc.stderr)
        assert proc.stderr.count("mcuforge: error:") == 1 and "Traceback" not in proc.stderr
