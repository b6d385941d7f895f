"""The compressed digits CNN (structured pruning + 4-bit codebook weights, and int4) on the
Cortex-M4 QEMU machine mps2-an386: firmware output bit-exact with the integer reference."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mcuforge.compile import CompileOptions
from mcuforge.compress.cluster import cluster_weights
from mcuforge.compress.measure import save
from mcuforge.compress.structured import prune_structured

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytestmark = [pytest.mark.qemu, pytest.mark.slow]


@pytest.mark.parametrize("weights", ["cb4", "int4"])
def test_compressed_model_bit_exact_on_mps2_an386(tmp_path: Path, weights: str) -> None:
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc not installed")
    import keras
    from sklearn.datasets import load_digits

    from mcuforge.runner import run_on_board

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(12, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:1000], d.target[:1000], epochs=3, verbose=0)
    small, _ = prune_structured(model, 0.3)
    if weights == "cb4":
        cluster_weights(small, 16)
    path = save(small, tmp_path / "m.keras")
    result = run_on_board(path, x[1400:1405], "mps2-an386", CompileOptions(calib=x[:100], weights=weights),
                          out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    assert result.samples == 5
    kernels = {op["kernel"] for op in result.compiled.report["ops"]}
    assert f"mf_fully_connected_{'cb4' if weights == 'cb4' else 's4'}" in kernels
