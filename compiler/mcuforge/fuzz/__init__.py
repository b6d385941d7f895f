"""A differential fuzzer for mcuforge (`mcuforge fuzz`).

`generate` draws random valid models from the op table in `ops.OPS` (one entry per op: how to draw
its parameters, its output shape, its weights, and how to build it in Keras, ONNX and PyTorch),
`export` writes them as users do, `check` compiles one, runs its C and compares with the oracles,
`minimize` delta-debugs a failure down to the fewest nodes, and `driver` runs many in parallel.
"""

from mcuforge.fuzz.driver import fuzz, summary_line

__all__ = ["fuzz", "summary_line"]
