"""Shared fixtures: where the real models live, and skips with a reason where they are absent."""

from __future__ import annotations

import os
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
