"""int8 SVDF models written with TFLite's flatbuffer schema (no TensorFlow), shaped like TFLite
Micro's keyword model (`keyword_scrambled_8bit.tflite`, which the `tflite-micro` package does not
ship): input (1, 490) int8, SVDF layers with rank 1-2 and memory 10 (int16 time weights and
int16 variable state), a FULLY_CONNECTED and a SOFTMAX.

`svdf_model(...)` picks random weights and sets every scale from a float simulation over a
random stream, so no layer saturates; the encodings are those TF's int8 converter writes (bias
scale = state scale x time scale, symmetric weights, softmax output 1/256, -128).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb


@dataclass(frozen=True)
class Layer:
    units: int
    rank: int
    memory: int = 10


def _quant(scale: float, zp: int) -> Any:
    q = fb.QuantizationParametersT()
    q.scale, q.zeroPoint = [float(scale)], [int(zp)]
    return q


class _Builder:
    def __init__(self) -> None:
        self.model = fb.ModelT()
        self.model.version = 3
        self.model.buffers = [fb.BufferT()]
        self.model.operatorCodes = []
        self.sub = fb.SubGraphT()
        self.sub.tensors, self.sub.operators = [], []

    def tensor(self, name: str, shape: tuple[int, ...], ttype: int, quant: Any,
               data: np.ndarray | None = None, variable: bool = False) -> int:
        t = fb.TensorT()
        t.name, t.shape, t.type, t.quantization = name.encode(), list(shape), ttype, quant
        t.isVariable = variable
        t.buffer = 0
        if data is not None:
            b = fb.BufferT()
            b.data = list(np.ascontiguousarray(data).tobytes())
            self.model.buffers.append(b)
            t.buffer = len(self.model.buffers) - 1
        self.sub.tensors.append(t)
        return len(self.sub.tensors) - 1

    def op(self, code: int, inputs: list[int], outputs: list[int], opts_type: int, opts: Any) -> None:
        codes = [c.builtinCode for c in self.model.operatorCodes]
        if code not in codes:
            c = fb.OperatorCodeT()
            c.builtinCode = c.deprecatedBuiltinCode = code
            c.version = 1
            self.model.operatorCodes.append(c)
            codes.append(code)
        o = fb.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = codes.index(code), inputs, outputs
        o.builtinOptionsType, o.builtinOptions = opts_type, opts
        self.sub.operators.append(o)

    def finish(self, inputs: list[int], outputs: list[int]) -> bytes:
        self.sub.inputs, self.sub.outputs, self.sub.name = inputs, outputs, b"main"
        self.model.subgraphs = [self.sub]
        self.model.description = b"mcuforge SVDF test model"
        builder = flatbuffers.Builder(4096)
        builder.Finish(self.model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def _svdf_float(stream: np.ndarray, wf: np.ndarray, wt: np.ndarray, bias: np.ndarray, rank: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Float SVDF over a stream (N, I): (feature responses (N, F), outputs (N, U))."""
    filters, memory = wt.shape
    state = np.zeros((filters, memory))
    feats, outs = [], []
    for x in stream:
        f = wf @ x
        state = np.concatenate([state[:, 1:], f[:, None]], axis=1)
        feats.append(f)
        outs.append((state * wt).sum(axis=1).reshape(-1, rank).sum(axis=1) + bias)
    return np.array(feats), np.array(outs)


def svdf_model(layers: tuple[Layer, ...] = (Layer(16, 2), Layer(8, 1)), inputs: int = 490,
               classes: int = 4, seed: int = 0, softmax: bool = True, activation: int = 0,
               batches: int = 1, bias: bool = True, int16_io: bool = False, state8: bool = False,
               int32_out: bool = False) -> bytes:
    """A keyword-model-like int8 SVDF model as TFLite flatbuffer bytes (see the module doc).
    `activation`: the SVDF's fused activation code (TFLite Micro's int8 kernel ignores it).
    `int16_io`: int16 input through QUANTIZE and an int16 softmax output, as TFLite Micro's
    keyword_scrambled_8bit has them (its benchmark feeds int16 and registers SOFTMAX int8->int16).
    `state8`: int8 time weights and int8 state with a non-zero zero point, and `int32_out` a
    QUANTIZE of the int16 softmax to int32, as keyword_scrambled_8bit has both (with int16_io)."""
    rng = np.random.default_rng(seed)
    b = _Builder()
    x_scale, x_zp = 0.05, -7
    stream = (rng.integers(-128, 128, (24, inputs)) - x_zp) * x_scale  # float view of int8 inputs
    current = b.tensor("input", (batches, inputs), fb.TensorType.INT8, _quant(x_scale, x_zp))
    if int16_io:
        wide = b.tensor("input_int16", (batches, inputs), fb.TensorType.INT16, _quant(x_scale / 64, 0))
        b.op(fb.BuiltinOperator.QUANTIZE, [wide], [current], fb.BuiltinOptions.QuantizeOptions,
             fb.QuantizeOptionsT())
    scale, size = x_scale, inputs
    for k, layer in enumerate(layers):
        filters = layer.units * layer.rank
        wf_q = rng.integers(-127, 128, (filters, size)).astype(np.int8)
        wf_scale = 0.5 / (127 * np.sqrt(size))
        wt_max = 127 if state8 else 20000
        wt_q = rng.integers(-wt_max, wt_max + 1, (filters, layer.memory))
        wt_q = wt_q.astype(np.int8 if state8 else np.int16)
        wt_scale = 1.0 / (wt_max * np.sqrt(layer.memory * layer.rank))
        feats, _ = _svdf_float(stream, wf_q * wf_scale, wt_q * wt_scale, np.zeros(layer.units), layer.rank)
        # int8 state: a range slightly short of the responses' with an off-centre zero point,
        # so a few stored responses saturate and some wrap (TFLite Micro adds the zero point
        # after its clamp), as a converter's state encoding may
        state_scale = float(np.abs(feats).max()) / (110 if state8 else 16000)
        state_zp = int(rng.integers(-60, 61)) if state8 else 0
        bias_real = rng.normal(0, 0.2, layer.units) * float(np.abs(feats).max())
        bias_scale = float(np.float32(state_scale) * np.float32(wt_scale))
        bias_q = np.round(bias_real / bias_scale).astype(np.int32)
        _, outs = _svdf_float(stream, wf_q * wf_scale, wt_q * wt_scale,
                              bias_q * bias_scale if bias else np.zeros(layer.units), layer.rank)
        lo, hi = float(min(outs.min(), 0)), float(max(outs.max(), 0))
        out_scale = (hi - lo) / 250
        out_zp = int(np.clip(np.round(-128 - lo / out_scale) + 2, -128, 127))
        ins = [current,
               b.tensor(f"svdf{k}/weights_feature", (filters, size), fb.TensorType.INT8,
                        _quant(wf_scale, 0), wf_q),
               b.tensor(f"svdf{k}/weights_time", (filters, layer.memory),
                        fb.TensorType.INT8 if state8 else fb.TensorType.INT16, _quant(wt_scale, 0), wt_q),
               b.tensor(f"svdf{k}/bias", (layer.units,), fb.TensorType.INT32, _quant(bias_scale, 0),
                        bias_q) if bias else -1,
               b.tensor(f"svdf{k}/state", (batches, filters * layer.memory),
                        fb.TensorType.INT8 if state8 else fb.TensorType.INT16, _quant(state_scale, state_zp),
                        variable=True)]
        out = b.tensor(f"svdf{k}/output", (batches, layer.units), fb.TensorType.INT8,
                       _quant(out_scale, out_zp))
        opts = fb.SVDFOptionsT()
        opts.rank, opts.fusedActivationFunction = layer.rank, activation
        b.op(fb.BuiltinOperator.SVDF, ins, [out], fb.BuiltinOptions.SVDFOptions, opts)
        current, scale, size = out, out_scale, layer.units
        stream = outs
    w_q = rng.integers(-127, 128, (classes, size)).astype(np.int8)
    w_scale = 1.0 / (127 * np.sqrt(size))
    logits = (stream @ (w_q * w_scale).T)
    fc_scale = float(np.abs(logits).max()) / 120
    bias_scale = float(np.float32(scale) * np.float32(w_scale))
    fc_bias = b.tensor("fc/bias", (classes,), fb.TensorType.INT32, _quant(bias_scale, 0),
                       rng.integers(-200, 200, classes).astype(np.int32))
    logits_t = b.tensor("fc/output", (batches, classes), fb.TensorType.INT8, _quant(fc_scale, 0))
    fc_opts = fb.FullyConnectedOptionsT()
    b.op(fb.BuiltinOperator.FULLY_CONNECTED,
         [current, b.tensor("fc/weights", (classes, size), fb.TensorType.INT8, _quant(w_scale, 0), w_q),
          fc_bias],
         [logits_t], fb.BuiltinOptions.FullyConnectedOptions, fc_opts)
    if not softmax:
        return b.finish([0], [logits_t])
    out_type, out_quant = ((fb.TensorType.INT16, _quant(1 / 65536, -32768)) if int16_io
                           else (fb.TensorType.INT8, _quant(1 / 256, -128)))
    probs = b.tensor("softmax", (batches, classes), out_type, out_quant)
    sm = fb.SoftmaxOptionsT()
    sm.beta = 1.0
    b.op(fb.BuiltinOperator.SOFTMAX, [logits_t], [probs], fb.BuiltinOptions.SoftmaxOptions, sm)
    if int32_out:  # keyword_scrambled_8bit's last op: the int16 probabilities requantized to int32
        wide_out = b.tensor("output_int32", (batches, classes), fb.TensorType.INT32, _quant(1 / 32767, 0))
        b.op(fb.BuiltinOperator.QUANTIZE, [probs], [wide_out], fb.BuiltinOptions.QuantizeOptions,
             fb.QuantizeOptionsT())
        probs = wide_out
    return b.finish([1 if int16_io else 0], [probs])


def tflm_stream(data: bytes, samples: np.ndarray) -> np.ndarray:
    """TFLite Micro's outputs for consecutive invocations of ONE interpreter (variable tensors,
    the SVDF state, carry over), one per sample of (N, *input shape)."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(data)
    outs = []
    for x in samples:
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(interp.get_output(0).copy())
    return np.stack(outs)
