"""Recurrent cells as ordinary IR ops, one time step at a time (recurrent area).

Shared by the ONNX importer (GRU, LSTM) and the TFLite importer (float
UNIDIRECTIONAL_SEQUENCE_LSTM): each importer supplies how to add an op and a float constant, and
gets back the IR tensor names of a step. Tensors are 2-D (batch, features). Gates are a
FULLY_CONNECTED of the step input plus one of the previous hidden state (left out while the state
is zero), then LOGISTIC or TANH; the state updates are MUL, ADD and SUB. Quantizing the graph gives
every step's tensors their own calibrated encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# (kind, inputs, attrs, name suffix) -> output tensor name
AddOp = Callable[[str, list[str], dict[str, Any], str], str]
# (float data, name suffix) -> constant tensor name
AddConst = Callable[[np.ndarray, str], str]

FUSED = ("FULLY_CONNECTED", "ADD", "SUB", "MUL")


def step_slice(shape: tuple[int, ...], axis: int, k: int) -> dict[str, Any]:
    """STRIDED_SLICE attributes of element `k` of `axis` (kept with size 1): one time step of a
    sequence, or one direction of a state."""
    begin = [k if i == axis else 0 for i in range(len(shape))]
    size = [1 if i == axis else int(d) for i, d in enumerate(shape)]
    return {"begin": begin, "size": size, "step": [1] * len(shape), "shape": size}


class Cells:
    def __init__(self, add_op: AddOp, add_const: AddConst) -> None:
        self.add_op, self.add_const = add_op, add_const
        self._consts: dict[tuple[tuple[int, ...], bytes], str] = {}  # one tensor per distinct value

    def op(self, kind: str, inputs: list[str], suffix: str, attrs: dict[str, Any] | None = None) -> str:
        a = {"activation": "NONE"} if kind in FUSED else {}
        return self.add_op(kind, inputs, {**a, **(attrs or {})}, suffix)

    def const(self, data: np.ndarray, suffix: str) -> str:
        """A float constant; every step shares the tensor of equal values (the gate weights)."""
        values = np.ascontiguousarray(data, np.float32)
        key = (values.shape, values.tobytes())
        if key not in self._consts:
            self._consts[key] = self.add_const(values, suffix)
        return self._consts[key]

    def fc(self, x: str, w: np.ndarray, bias: np.ndarray | None, suffix: str) -> str:
        inputs = [x, self.const(w, f"{suffix}_w")]
        if bias is not None:
            inputs.append(self.const(bias, f"{suffix}_b"))
        return self.op("FULLY_CONNECTED", inputs, suffix)

    def gate(self, x: str, h: str | None, w: np.ndarray, r: np.ndarray, bias: np.ndarray,
             act: str, suffix: str) -> str:
        """act(x W^T + h R^T + bias); the recurrent term is left out while h is zero."""
        pre = self.fc(x, w, bias, f"{suffix}_x")
        if h is not None:
            pre = self.op("ADD", [pre, self.fc(h, r, None, f"{suffix}_h")], f"{suffix}_sum")
        return self.op(act, [pre], suffix)

    def lstm_step(self, x: str, h: str | None, c: str | None, w: list[np.ndarray], r: list[np.ndarray],
                  b: list[np.ndarray], prefix: str, clip: float = 0.0) -> tuple[str, str]:
        """One LSTM step, gates (i, f, g, o) in that order in w, r, b: returns (h, c).
        c = f c + i g (clipped to +-clip when clip > 0), h = o tanh(c)."""
        i, f, g, o = (self.gate(x, h, w[k], r[k], b[k], act, prefix + name) for k, (name, act) in
                      enumerate((("i", "LOGISTIC"), ("f", "LOGISTIC"), ("g", "TANH"), ("o", "LOGISTIC"))))
        ig = self.op("MUL", [i, g], prefix + "ig")
        c = ig if c is None else self.op("ADD", [self.op("MUL", [f, c], prefix + "fc"), ig], prefix + "c")
        if clip > 0:
            c = self.op("CLAMP", [c], prefix + "c_clip", {"min": -clip, "max": clip})
        h = self.op("MUL", [o, self.op("TANH", [c], prefix + "c_tanh")], prefix + "h")
        return h, c
