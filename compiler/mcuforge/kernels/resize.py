"""Resize (runtime_c/src/resize/): nearest-neighbour and bilinear resize of H and W, each
driven by index tables the binding computes (mcuforge.ops.resize), so the C does no geometry.

  - mf_resize_nearest_s8: RESIZE_NEAREST_NEIGHBOR; `rows` (OH entries) and `cols` (OW entries)
    name the input row and column each output pixel copies;
  - mf_resize_bilinear_s8: RESIZE_BILINEAR; `y_table` and `x_table` hold (lo, hi, frac) per
    output row and column in TFLM's 1/1024 steps.
"""

from __future__ import annotations

from mcuforge.kernels.common import INPUT_DIMS, OUTPUT, OUTPUT_DIMS
from mcuforge.kernels.spec import Const, Input, KernelSpec, family


def _table(name: str) -> Const:
    return Const(name, "const int32_t *", role=name)


RESIZE = family(
    "resize", "resize",
    KernelSpec("mf_resize_nearest_s8",
               (INPUT_DIMS, Input("input"), OUTPUT_DIMS, _table("rows"), _table("cols"), OUTPUT),
               family="resize", when="RESIZE_NEAREST_NEIGHBOR"),
    KernelSpec("mf_resize_bilinear_s8",
               (INPUT_DIMS, Input("input"), OUTPUT_DIMS, _table("y_table"), _table("x_table"), OUTPUT),
               family="resize", when="RESIZE_BILINEAR"),
)
