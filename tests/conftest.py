"""Shared fixtures: where the real models live, and skips with a reason where they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = REPO.parent / "shared" / "models"
MLPERF = SHARED_MODELS / "mlperf_tiny"


@pytest.fixture(scope="session")
def mlperf_dir() -> Path:
    if not MLPERF.is_dir():
        pytest.skip(f"real models not found at {MLPERF} (a user's clone has no ../shared)")
    return MLPERF


def mlperf_model(name: str) -> Path:
    """Path of a model in ../shared/models/mlperf_tiny, skipping the test when it is absent."""
    path = MLPERF / name
    if not path.exists():
        pytest.skip(f"real model {path} not found (a user's clone has no ../shared)")
    return path
