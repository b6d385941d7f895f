"""Shared fixtures: where the real models live, and skips with a reason where they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_paths import MLPERF


@pytest.fixture(scope="session")
def mlperf_dir() -> Path:
    if not MLPERF.is_dir():
        pytest.skip(f"real models not found at {MLPERF} (a user's clone has no ../shared)")
    return MLPERF
