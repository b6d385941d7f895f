"""The MLPerf Tiny int8 models op by op through the C kernels: every op's kernel, fed the
reference's own input values, must reproduce the reference's output byte for byte. This checks
kernel_params on quantization parameters a real converter produced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mfnn import MF_OK, Kernels

from mcuforge.importers import load_model
from mcuforge.kernel_params import BINDINGS, kernel_call
from mcuforge.ops.registry import Ctx
from mcuforge.reference import run

MODELS = ["ad_fcae_int8", "ic_resnet8_int8", "kws_dscnn_int8", "vww_mbv1_int8"]


@pytest.mark.parametrize("name", MODELS)
def test_model_op_by_op(mf: Kernels, mlperf_dir: Path, name: str) -> None:
    graph = load_model(str(mlperf_dir / f"{name}.tflite"))
    rng = np.random.default_rng(0)
    feeds = {n: rng.integers(-128, 128, size=graph.tensors[n].shape, dtype=np.int8)
             for n in graph.inputs}
    values = run(graph, feeds, keep_all=True)
    checked = 0
    for op in graph.ops:
        if op.kind not in BINDINGS:
            continue  # RESHAPE is an alias in generated code
        ctx = Ctx.of(graph, op)
        xs = [values[n] if n in values else graph.tensors[n].data for n in op.inputs if n]
        call = kernel_call(ctx)
        status, y = mf.run(call, xs, ctx.outs[0].shape)
        assert status == MF_OK, f"{op.kind} '{op.name}' ({call.kernel}): status {status}"
        expected = values[op.outputs[0]]
        mismatch = int((y != expected).sum())
        assert mismatch == 0, f"{op.kind} '{op.name}' ({call.kernel}): {mismatch} values differ"
        checked += 1
    assert checked > 0
