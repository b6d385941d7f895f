"""Bugs the fuzzer's spatial and data-movement ops found: each test builds the minimized model
(a `ModelSpec` of one or two nodes) and checks it end to end against its oracle."""

from __future__ import annotations

import pytest

from mcuforge.fuzz.check import check
from mcuforge.fuzz.spec import ModelSpec, Node


@pytest.mark.slow
def test_onnx_nearest_resize_keeps_an_axis_of_scale_one() -> None:
    # Resize nearest, tf_half_pixel_for_nn + round_prefer_ceil, scales (2, 1): onnxruntime copies
    # the W axis (scale 1) as is; the index table from the formula took column x + 1.
    params = {"mode": "nearest", "factor": [2, 1], "coord": "tf_half_pixel_for_nn",
              "nearest": "round_prefer_ceil", "_w": 0}
    spec = ModelSpec(99, (10, 10, 2), [Node("resize", (0,), params)], "free")
    outcome = check(spec, "onnx")
    assert outcome.status == "ok", outcome
