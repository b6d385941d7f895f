"""Bugs the differential fuzzer found (`mcuforge fuzz`), each a small spec that failed before its
fix. Grouped by the area of the fuzzer's op table that found them."""

from __future__ import annotations

import pytest

from mcuforge.fuzz.check import check
from mcuforge.fuzz.spec import ModelSpec, Node

# -- fuzz-math: sequences (fuzz/ops/sequence.py) --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_rnn_whole_sequence_output_of_a_torch_export_is_decoded(kind: str) -> None:
    # torch.onnx writes batch-first nn.LSTM / nn.GRU outputs as ONNX's time-major Y, Squeeze and a
    # Transpose back to (N, T, H); the Transpose stays a layout, so the IR output is (T, 1, H).
    # Decoding the C's output bytes assumed the batch leads the IR shape and crashed (a reshape
    # of T * H values into (1, H)).
    spec = ModelSpec(5, (6, 8), [Node(kind, (0,), {"units": 4, "seq": True, "_w": 0})], "fixed")
    outcome = check(spec, "torch")
    assert outcome.status == "ok", outcome
