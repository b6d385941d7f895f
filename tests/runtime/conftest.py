"""Host-built kernel library for the runtime tests.

The library is compiled once per session into a temporary directory. With MF_SANITIZE=1 it is
built with AddressSanitizer and UBSan (no recovery, so undefined behaviour aborts the run);
that mode needs the ASan runtime preloaded, which test_sanitizers.py arranges by re-running
this directory in a subprocess. MF_RUNTIME_CASES scales the number of random cases.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from mfnn import VARIANTS, Kernels, build_library

SANITIZE = os.environ.get("MF_SANITIZE") == "1"


@pytest.fixture(scope="session", params=sorted(VARIANTS))
def mf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Kernels:
    """The library in each host variant: every kernel test runs on the portable C paths and on
    the DSP paths (instructions emulated), which are what a Cortex-M4 runs, and on the MVE paths
    (Helium emulated, DSP too), which are what a Cortex-M55 runs."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: cannot build the kernel library for the host")
    out = tmp_path_factory.mktemp(f"mf_nn_{request.param}")
    return Kernels(build_library(Path(out), sanitize=SANITIZE, variant=request.param))
