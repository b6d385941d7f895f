"""Shared fixtures: where the real models live, and skips with a reason where they are absent.

Test tiers (markers, registered in pyproject.toml; README "Tests"):
  fast     no marker: pure Python, no C build, no TensorFlow; `make test-fast`, well under a minute
  cbuild   compiles C on the host (gcc, cmake, arm-none-eabi-gcc) or runs what it built
  slow     converts models with TensorFlow or runs many real models (and may build C for them)
  qemu     runs firmware under qemu-system-arm
Every test under tests/runtime/ (the C kernel library's tests) is marked cbuild here, except
the pure-Python modules in RUNTIME_PURE_PYTHON. The guard below keeps the fast tier honest: a test
with none of the cbuild, slow or qemu markers that starts a compiler or cmake fails, one without
the qemu marker that starts QEMU fails, and one without the slow or qemu marker that imports
TensorFlow fails, each naming the marker to add. (Whether TensorFlow was imported before a test is
per process: under pytest-xdist a test may be the first in its worker to import it.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from model_paths import MLPERF

# CI draws the same examples every run, so a submission's result does not depend on luck;
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def mlperf_dir() -> Path:
    if not MLPERF.is_dir():
        pytest.skip(f"real models not found at {MLPERF} (a user's clone has no ../shared)")
    return MLPERF


RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
BUILD_TOOLS = ("gcc", "cc", "g++", "c++", "clang", "cmake", "make", "ld")


# tests/runtime/ tests the C kernel library: its tests build it, except these pure-Python modules.
RUNTIME_PURE_PYTHON = {"test_kernel_params.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path))
        if RUNTIME_DIR in path.parents and path.name not in RUNTIME_PURE_PYTHON:
            item.add_marker(pytest.mark.cbuild)


def _program(args: object) -> str:
    if isinstance(args, str | bytes | os.PathLike):
        first = os.fsdecode(args).split()[0] if os.fsdecode(args).strip() else ""
    else:
        first = os.fsdecode(next(iter(args), ""))  # type: ignore[call-overload]
    return Path(first).name


def _is_qemu(args: object) -> bool:
    return _program(args).startswith("qemu-system")


def _is_build_tool(args: object) -> bool:
    name = _program(args)
    return (name in BUILD_TOOLS or name.endswith(("-gcc", "-g++", "-ld"))
            or name == Path(os.environ.get("CC", "gcc")).name)


_TF_BEFORE = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Fail a test that builds C or runs QEMU without saying so (see the module docstring)."""
    marks = {m.name for m in item.iter_markers()}
    item.stash[_TF_BEFORE] = "tensorflow" in sys.modules
    if "qemu" in marks:
        yield
        return
    may_build = bool(marks & {"cbuild", "slow"})
    real_popen = subprocess.Popen

    class GuardedPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: object, *a: object, **kw: object) -> None:
            if _is_qemu(args):
                pytest.fail(f"{item.nodeid} runs {args!r}: mark it @pytest.mark.qemu", pytrace=False)
            if _is_build_tool(args) and not may_build:
                pytest.fail(f"{item.nodeid} runs {args!r}: mark it @pytest.mark.cbuild", pytrace=False)
            super().__init__(args, *a, **kw)  # type: ignore[arg-type]

    subprocess.Popen = GuardedPopen  # type: ignore[misc]
    try:
        yield
    finally:
        subprocess.Popen = real_popen  # type: ignore[misc]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test outside the slow and QEMU tiers that imported TensorFlow fails: it takes seconds."""
    outcome = yield
    report = outcome.get_result()
    if (report.when == "call" and report.passed and not item.get_closest_marker("slow")
            and not item.get_closest_marker("qemu")
            and not item.stash.get(_TF_BEFORE, True) and "tensorflow" in sys.modules):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} imported TensorFlow: mark it @pytest.mark.slow"
