"""ONNX GRU and LSTM, unrolled at import over their static sequence length (recurrent area).

Each time step becomes ordinary IR ops on (batch, features) tensors: the input of step t is a
STRIDED_SLICE of X, each gate is a FULLY_CONNECTED of the step input plus a FULLY_CONNECTED of the
previous hidden state (ADD), followed by LOGISTIC or TANH, and the state updates are MUL, ADD and
SUB. Quantizing the unrolled graph gives every step's tensors their own calibrated int8 encoding
(the gates' LOGISTIC/TANH outputs have TFLite's fixed ones), so the int8 graph runs on the
existing kernels; the weights are stored once per gate and shared by every step.

Semantics follow the ONNX operator definitions (opset 7-22): GRU gates in the order z, r, h
with `linear_before_reset` 0 or 1 (PyTorch exports 1); LSTM gates in the order i, o, f, c; both
with the default activations, `direction` forward, reverse or bidirectional, `layout` 0
(X is (T, B, I)) or 1 ((B, T, I)). Initial states may be absent, constant zeros (PyTorch's
exports) or run-time inputs. Refused with one line each: other activations, `clip`,
`input_forget`, LSTM peepholes (P), and `sequence_lens` shorter than the sequence.

`Gather` with a constant scalar index on a run-time tensor (PyTorch's `out[:, -1]`) is here too:
when the gathered step is one input of the CONCATENATION that built the sequence output, it
reads that step's tensor directly, so the unused sequence output is left to dead-code removal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mcuforge.importers.onnx_builder import Builder, Operand, Value, identity
from mcuforge.importers.rnn_cells import Cells, step_slice

Ints = Sequence[int]
OnnxGather = Callable[..., Value]

GRU_ACTIVATIONS = ("Sigmoid", "Tanh")
LSTM_ACTIVATIONS = ("Sigmoid", "Tanh", "Tanh")
PYTORCH_HINT = ("PyTorch's nn.GRU/nn.LSTM export (torch.onnx.export, default activations, no "
                "clipping) gives a supported form")


def _cells(b: Builder) -> Cells:
    """Cells emitting on 2-D IR tensors through the ONNX builder."""
    return Cells(lambda kind, inputs, attrs, suffix: b.emit(kind, inputs, attrs, (0, 1), suffix).name,
                 lambda data, suffix: b.const(data, suffix))


def _check_common(b: Builder, kind: str, activations: Ints | None, defaults: tuple[str, ...],
                  clip: float | None, direction: str, layout: int) -> int:
    if clip is not None:
        raise b.fail(f"clip={clip} is not supported; {PYTORCH_HINT}")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise b.fail(f"direction '{direction}' is not one of forward, reverse, bidirectional")
    dirs = 2 if direction == "bidirectional" else 1
    if activations is not None and tuple(activations) != defaults * dirs:
        raise b.fail(f"{kind} activations {list(activations)} are not supported, only the default "
                     f"{list(defaults)}; {PYTORCH_HINT}")
    if layout not in (0, 1):
        raise b.fail(f"layout={layout} is not 0 or 1")
    return dirs


def _steps_of(b: Builder, x: Value, layout: int) -> list[str]:
    """The input of each time step as an IR (B, I) tensor."""
    v = b.as_layout(x, identity(3) if layout == 0 else (1, 0, 2))  # IR (T, B, I)
    t, batch, feat = b.ir_shape(v)
    out = []
    for k in range(t):
        part = _concat_part(b, v.name, k * batch * feat, batch * feat)  # a stacked layer's step
        s = Value(part, (0, 1, 2)) if part is not None else b.emit(
            "STRIDED_SLICE", [v.name], step_slice((t, batch, feat), 0, k), (0, 1, 2), f"x{k}",
            quant=b.tensor(v).quant)
        out.append(b.emit("RESHAPE", [s.name], {"shape": [batch, feat]}, (0, 1), f"x{k}_2d").name)
    return out


def _initial(b: Builder, state: Operand, layout: int, dirs: int, batch: int, hidden: int,
             what: str) -> list[str | None]:
    """Per direction: None while the state is zero (absent or constant zeros), else an IR (B, H)
    tensor. The state is (D, B, H) in layout 0, (B, D, H) in layout 1."""
    if state is None:
        return [None] * dirs
    if isinstance(state, np.ndarray):
        if np.any(state != 0):
            raise b.fail(f"a constant non-zero {what} is not supported; pass it as a model input "
                         "or leave it out (zeros)")
        return [None] * dirs
    v = b.as_layout(state, identity(3) if layout == 0 else (1, 0, 2))  # IR (D, B, H)
    out: list[str | None] = []
    for d in range(dirs):
        s = b.emit("STRIDED_SLICE", [v.name], step_slice(b.ir_shape(v), 0, d), (0, 1, 2), f"{what}{d}")
        out.append(b.emit("RESHAPE", [s.name], {"shape": [batch, hidden]}, (0, 1), f"{what}{d}_2d").name)
    return out


def _check_lens(b: Builder, sequence_lens: Operand, steps: int) -> None:
    if sequence_lens is None:
        return
    lens = b.need_const(sequence_lens, "sequence_lens")
    if np.any(lens != steps):
        raise b.fail(f"sequence_lens {lens.tolist()} shorter than the sequence ({steps}) are not "
                     "supported; pad the batch to one length or export without packed sequences")


def _outputs(b: Builder, hs: list[list[str]], finals: list[list[str]], layout: int,
             batch: int, hidden: int) -> list[Operand]:
    """Y (T, D, B, H) or (B, T, D, H), then the final states (D, B, H) or (B, D, H), for the
    outputs the node names."""
    steps, dirs = len(hs[0]), len(hs)
    results: list[Operand] = []
    wanted = list(b.node.output)
    if wanted and wanted[0]:
        parts = [b.emit("RESHAPE", [hs[d][t]], {"shape": [1, batch, hidden]}, (0, 1, 2), f"y{t}_{d}").name
                 for t in range(steps) for d in range(dirs)]
        y = parts[0] if len(parts) == 1 else b.emit(
            "CONCATENATION", parts, {"axis": 0, "activation": "NONE"}, (0, 1, 2), "y").name
        # IR (T, D, B, H); ONNX layout 1 is (B, T, D, H)
        perm = (0, 1, 2, 3) if layout == 0 else (1, 2, 0, 3)
        results.append(b.emit("RESHAPE", [y], {"shape": [steps, dirs, batch, hidden]}, perm, "Y"))
    for k, final in enumerate(finals, start=1):
        if k < len(wanted) and wanted[k]:
            parts = [b.emit("RESHAPE", [f], {"shape": [1, batch, hidden]}, (0, 1, 2), f"s{k}_{d}").name
                     for d, f in enumerate(final)]
            s = parts[0] if dirs == 1 else b.emit(
                "CONCATENATION", parts, {"axis": 0, "activation": "NONE"}, (0, 1, 2), f"s{k}").name
            results.append(Value(s, (0, 1, 2) if layout == 0 else (1, 0, 2)))
    return results


def _order(direction: str, d: int, steps: int) -> range:
    backwards = direction == "reverse" or (direction == "bidirectional" and d == 1)
    return range(steps - 1, -1, -1) if backwards else range(steps)


def GRU(
    b: Builder, X: Operand, W: Operand, R: Operand, B: Operand = None, sequence_lens: Operand = None,
    initial_h: Operand = None, *, hidden_size: int | None = None, activations: Ints | None = None,
    activation_alpha: Sequence[float] | None = None, activation_beta: Sequence[float] | None = None,
    clip: float | None = None, direction: str = "forward", layout: int = 0, linear_before_reset: int = 0,
) -> list[Operand]:
    x = b.runtime(X, "X")
    w, r = b.need_const(W, "W"), b.need_const(R, "R")
    dirs = _check_common(b, "GRU", activations, GRU_ACTIVATIONS, clip, direction, layout)
    hidden = r.shape[-1]
    bias = np.zeros((dirs, 6 * hidden), np.float32) if B is None else b.need_const(B, "B")
    steps_x = _steps_of(b, x, layout)
    _check_lens(b, sequence_lens, len(steps_x))
    batch = b.ir_shape(Value(steps_x[0], (0, 1)))[0]
    e = _cells(b)
    hs: list[list[str]] = []
    finals: list[str] = []
    for d, h in enumerate(_initial(b, initial_h, layout, dirs, batch, hidden, "h0_")):
        wz, wr, wn = np.split(w[d], 3)
        rz, rr, rn = np.split(r[d], 3)
        bwz, bwr, bwn, brz, brr, brn = np.split(bias[d], 6)
        out: list[str] = [""] * len(steps_x)
        for t in _order(direction, d, len(steps_x)):
            p = f"d{d}t{t}_"
            z = e.gate(steps_x[t], h, wz, rz, bwz + brz, "LOGISTIC", p + "z")
            rg = e.gate(steps_x[t], h, wr, rr, bwr + brr, "LOGISTIC", p + "r")
            if linear_before_reset:
                pre = e.fc(steps_x[t], wn, bwn, p + "n_x")
                if h is not None:
                    rec = e.op("MUL", [rg, e.fc(h, rn, brn, p + "n_h")], p + "n_rh")
                    pre = e.op("ADD", [pre, rec], p + "n_sum")
                elif np.any(brn != 0):
                    rec = e.op("MUL", [rg, e.const(brn.reshape(1, -1), p + "n_rb")], p + "n_rh")
                    pre = e.op("ADD", [pre, rec], p + "n_sum")
            else:
                pre = e.fc(steps_x[t], wn, bwn + brn, p + "n_x")
                if h is not None:
                    rh = e.op("MUL", [rg, h], p + "rh")
                    pre = e.op("ADD", [pre, e.fc(rh, rn, None, p + "n_h")], p + "n_sum")
            n = e.op("TANH", [pre], p + "n")
            # h' = (1 - z) n + z h = n + z (h - n); from a zero state n - z n
            if h is None:
                h = e.op("SUB", [n, e.op("MUL", [z, n], p + "zn")], p + "h")
            else:
                h = e.op("ADD", [n, e.op("MUL", [z, e.op("SUB", [h, n], p + "hn")], p + "zhn")], p + "h")
            out[t] = h
        hs.append(out)
        assert h is not None
        finals.append(h)
    return _outputs(b, hs, [finals], layout, batch, hidden)


def LSTM(
    b: Builder, X: Operand, W: Operand, R: Operand, B: Operand = None, sequence_lens: Operand = None,
    initial_h: Operand = None, initial_c: Operand = None, P: Operand = None, *,
    hidden_size: int | None = None, activations: Ints | None = None,
    activation_alpha: Sequence[float] | None = None, activation_beta: Sequence[float] | None = None,
    clip: float | None = None, direction: str = "forward", layout: int = 0, input_forget: int = 0,
) -> list[Operand]:
    x = b.runtime(X, "X")
    w, r = b.need_const(W, "W"), b.need_const(R, "R")
    dirs = _check_common(b, "LSTM", activations, LSTM_ACTIVATIONS, clip, direction, layout)
    if input_forget:
        raise b.fail(f"input_forget=1 (coupled input and forget gates) is not supported; {PYTORCH_HINT}")
    if P is not None and (not isinstance(P, np.ndarray) or np.any(P != 0)):
        raise b.fail(f"peephole connections (input P) are not supported; {PYTORCH_HINT} "
                     "(PyTorch's nn.LSTM has no peepholes)")
    hidden = r.shape[-1]
    bias = np.zeros((dirs, 8 * hidden), np.float32) if B is None else b.need_const(B, "B")
    steps_x = _steps_of(b, x, layout)
    _check_lens(b, sequence_lens, len(steps_x))
    batch = b.ir_shape(Value(steps_x[0], (0, 1)))[0]
    e = _cells(b)
    hs: list[list[str]] = []
    final_h: list[str] = []
    final_c: list[str] = []
    h0s = _initial(b, initial_h, layout, dirs, batch, hidden, "h0_")
    c0s = _initial(b, initial_c, layout, dirs, batch, hidden, "c0_")
    for d in range(dirs):
        h, c = h0s[d], c0s[d]
        ws, rs = np.split(w[d], 4), np.split(r[d], 4)
        bw, br = np.split(bias[d][:4 * hidden], 4), np.split(bias[d][4 * hidden:], 4)
        out: list[str] = [""] * len(steps_x)
        for t in _order(direction, d, len(steps_x)):
            p = f"d{d}t{t}_"
            # ONNX orders the gates i, o, f, c
            h, c = e.lstm_step(steps_x[t], h, c, [ws[0], ws[2], ws[3], ws[1]], [rs[0], rs[2], rs[3], rs[1]],
                               [bw[k] + br[k] for k in (0, 2, 3, 1)], p)
            out[t] = h
        hs.append(out)
        assert h is not None and c is not None
        final_h.append(h)
        final_c.append(c)
    return _outputs(b, hs, [final_h, final_c], layout, batch, hidden)


def _producer(b: Builder, name: str):
    return next((op for op in reversed(b.graph.ops) if name in op.outputs), None)


def _concat_part(b: Builder, name: str, start: int, size: int) -> str | None:
    """The CONCATENATION input holding exactly bytes [start, start + size) of tensor `name`
    (through RESHAPEs), when the concatenation appends whole inputs one after the other."""
    op = _producer(b, name)
    while op is not None and op.kind == "RESHAPE":
        op = _producer(b, op.inputs[0])
    if op is None or op.kind != "CONCATENATION":
        return None
    shape = b.graph.tensors[op.outputs[0]].shape
    if int(np.prod(shape[:op.attrs["axis"] % len(shape)])) != 1:
        return None
    offset = 0
    for part in op.inputs:
        n = int(np.prod(b.graph.tensors[part].shape))
        if offset == start and n == size:
            return part
        offset += n
    return None


def Gather(b: Builder, data: Operand, indices: Operand, *, axis: int = 0) -> Value:
    """One constant index of a run-time tensor along `axis` (a scalar drops the axis)."""
    return _gather(b, data, indices, axis, None)


def gather_with(general: OnnxGather) -> OnnxGather:
    """Gather that reads one step of an unrolled sequence directly and leaves every other case
    to `general` (onnx_data_ops' Gather)."""
    def Gather(b: Builder, data: Operand, indices: Operand, *, axis: int = 0) -> Value:
        return _gather(b, data, indices, axis, general)
    return Gather


def _gather(b: Builder, data: Operand, indices: Operand, axis: int, general: OnnxGather) -> Value:
    v = b.runtime(data, "data")
    idx = b.need_const(indices, "indices")
    onnx_shape = b.onnx_shape(v)
    axis %= v.rank
    ir_axis = v.perm.index(axis)
    ir = b.ir_shape(v)
    inner = int(np.prod(ir[ir_axis + 1:]))
    part = None
    if idx.size == 1 and idx.ndim <= 1 and int(np.prod(ir[:ir_axis])) == 1:
        k = int(idx.reshape(-1)[0]) % onnx_shape[axis]
        part = _concat_part(b, v.name, k * inner, inner)
    if part is None:
        return general(b, data, indices, axis=axis)
    sliced = tuple(1 if i == ir_axis else d for i, d in enumerate(ir))
    t = b.tensor(v)
    step = b.emit("RESHAPE", [part], {"shape": list(sliced)}, v.perm, "step", t.dtype, t.quant)
    if idx.ndim == 1:
        return step
    return b.reshape(step, tuple(d for i, d in enumerate(onnx_shape) if i != axis))


TABLE_RECURRENT = {"GRU": GRU, "LSTM": LSTM}  # Gather: onnx_ops registers gather_with(its own)
