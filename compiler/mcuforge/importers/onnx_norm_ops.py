"""ONNX InstanceNormalization and GroupNormalization, lowered to the IR's LAYER_NORM (area:
reductions). Conventions as in `onnx_ops`.

Both normalize groups of values with their own mean and variance: InstanceNormalization each
(n, c) slice over the spatial axes, GroupNormalization each (n, group) over its channels and the
spatial axes. In ONNX order the group is contiguous, so the tensor is reshaped to
(N, groups, values per group), normalized over the last axis by LAYER_NORM (gamma 1, beta 0),
reshaped back and given the per-channel scale and bias by MUL and ADD (left out when they are
1 and 0). PyTorch exports nn.GroupNorm below opset 18 as Reshape -> InstanceNormalization ->
Reshape -> Mul -> Add, which this covers too.
"""

from __future__ import annotations

import numpy as np

from mcuforge.importers.onnx_builder import Builder, Operand, Value
from mcuforge.ops.layer_norm import MAX_DEPTH


def _grouped(
    b: Builder, x: Operand, groups: int, scale: np.ndarray, bias: np.ndarray, epsilon: float,
) -> Value:
    from mcuforge.importers.onnx_ops import Add, Mul  # onnx_ops builds TABLE from this module

    v = b.runtime(x)
    shape = b.onnx_shape(v)
    if v.rank < 2 or shape[1] % groups:
        raise b.fail(f"{shape[1] if v.rank > 1 else '?'} channels do not split into {groups} groups")
    per_group = int(np.prod(shape[1:])) // groups
    if per_group > MAX_DEPTH:
        raise b.fail(f"{per_group} values per group; the int8 kernel normalizes at most {MAX_DEPTH}")
    flat = b.reshape(v, (shape[0], groups, per_group))
    ones, zeros = (1.0,) * per_group, (0.0,) * per_group
    normed = b.emit("LAYER_NORM", [flat.name], {"epsilon": float(epsilon), "gamma": ones, "beta": zeros},
                    flat.perm)
    y: Value = b.reshape(normed, shape)
    affine = (1, shape[1]) + (1,) * (v.rank - 2)
    if np.any(scale != 1):
        y = Mul(b, y, np.broadcast_to(scale.astype(np.float32).reshape(-1), (shape[1],)).reshape(affine))
    if np.any(bias != 0):
        y = Add(b, y, np.broadcast_to(bias.astype(np.float32).reshape(-1), (shape[1],)).reshape(affine))
    return y


def InstanceNormalization(b: Builder, x: Operand, scale: Operand, bias: Operand, *,
                          epsilon: float = 1e-5) -> Value:
    v = b.runtime(x)
    channels = b.onnx_shape(v)[1]
    return _grouped(b, v, channels, b.need_const(scale, "scale"), b.need_const(bias, "B"), epsilon)


def GroupNormalization(b: Builder, x: Operand, scale: Operand, bias: Operand, *, num_groups: int,
                       epsilon: float = 1e-5, stash_type: int = 1) -> Value:
    """Opset 18 gives scale and bias per group, opset 21 per channel: both broadcast here."""
    v = b.runtime(x)
    channels = b.onnx_shape(v)[1]
    s, c = b.need_const(scale, "scale").reshape(-1), b.need_const(bias, "bias").reshape(-1)
    if s.size == num_groups and num_groups != channels:  # opset 18: one value per group
        s, c = np.repeat(s, channels // num_groups), np.repeat(c, channels // num_groups)
    return _grouped(b, v, num_groups, s, c, epsilon)
