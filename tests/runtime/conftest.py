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
from mfnn import Kernels, build_library

SANITIZE = os.environ.get("MF_SANITIZE") == "1"


@pytest.fixture(scope="session")
def mf(tmp_path_factory: pytest.TempPathFactory) -> Kernels:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: cannot build the kernel library for the host")
    out = tmp_path_factory.mktemp("mf_nn")
    return Kernels(build_library(Path(out), sanitize=SANITIZE))
