"""Where the real models live (../shared/models), with skips where a user's clone has none."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = REPO.parent / "shared" / "models"
MLPERF = SHARED_MODELS / "mlperf_tiny"


def mlperf_model(name: str) -> Path:
    """Path of a model in ../shared/models/mlperf_tiny, skipping the test when it is absent."""
    path = MLPERF / name
    if not path.exists():
        pytest.skip(f"real model {path} not found (a user's clone has no ../shared)")
    return path
