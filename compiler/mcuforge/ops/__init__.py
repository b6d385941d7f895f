"""Op kinds of the IR. Importing this package registers every op in `REGISTRY`."""

from mcuforge.ops import (  # noqa: F401  (each module registers its ops)
    batch_norm,
    clamp,
    concatenation,
    conv_2d,
    depthwise_conv_2d,
    elementwise,
    fully_connected,
    hard_swish,
    leaky_relu,
    logistic,
    mean,
    pad,
    pool_2d,
    prelu,
    quantize,
    reshape,
    softmax,
    tanh,
    transpose,
)
from mcuforge.ops.registry import REGISTRY, Ctx, OpDef, lookup

__all__ = ["REGISTRY", "Ctx", "OpDef", "lookup"]
