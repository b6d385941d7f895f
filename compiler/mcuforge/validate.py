"""`mcuforge validate`: the original model against the generated C on the user's data.

The original runs in its own framework: ONNX files in onnxruntime; integer TFLite files in TFLite
Micro's interpreter (the data quantized with the input's scale and zero point, the outputs
dequantized), or where it lacks an op in TFLite's reference kernels (BUILTIN_REF; they may round
a step apart from TFLite Micro's); float TFLite files in TFLite's reference kernels; Keras files
(.keras, .h5, SavedModel folders) in Keras. The C runs on the host, or as firmware under QEMU with
`board`. A stateful model's samples (SVDF, streaming LSTM) are consecutive calls on both sides,
compared stream against stream; any other model's start from reset state.

Per output (matched by position, each sample flattened): largest and mean absolute error, RMSE,
SQNR (10 log10 of the reference's energy over the error's, dB), mean cosine similarity, and top-1
agreement (argmax over each sample's values; outputs of one value per sample have none). With
labels, the top-1 accuracy of both on the first output (argmax; for one value per sample, the
value above 0.5, a sigmoid probability).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.firmware.boards import HOST
from mcuforge.report_html import write_report
from mcuforge.runner import run_model, run_on_board

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass
class OutputError:
    """How far the C's output is from the original model's, over every sample."""
    name: str
    max_abs_error: float
    mean_abs_error: float
    rmse: float
    sqnr_db: float  # inf where the two agree exactly
    cosine: float  # mean over samples of the cosine similarity
    top1_agreement: float | None  # fraction of samples whose argmax agrees; None: one value per sample


@dataclass
class Validation:
    """validate()'s result; `to_json` is what report.json holds under "validation"."""
    reference: str  # the framework that ran the original model
    target: str  # "host" or a board
    data: str
    samples: int
    outputs: list[OutputError] = field(default_factory=list)
    float_accuracy: float | None = None  # with labels: the original model's top-1 accuracy (0..1)
    c_accuracy: float | None = None
    bit_exact: bool = True  # the C against mcuforge's integer reference

    @property
    def drop_points(self) -> float:
        """Accuracy points lost: float minus C accuracy with labels, else 100 x (1 - top-1
        agreement) of the first output (0 where it has one value per sample)."""
        if self.float_accuracy is not None and self.c_accuracy is not None:
            return 100.0 * (self.float_accuracy - self.c_accuracy)
        agree = self.outputs[0].top1_agreement if self.outputs else None
        return 0.0 if agree is None else 100.0 * (1.0 - agree)

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["drop_points"] = self.drop_points
        for o in out["outputs"]:
            o["sqnr_db"] = o["sqnr_db"] if np.isfinite(o["sqnr_db"]) else None
        return out

    def lines(self) -> list[str]:
        out = [f"{self.samples} samples of {self.data}: the original model ({self.reference}) against the "
               f"generated C ({self.target}; bit-exact with mcuforge's integer reference: "
               f"{'yes' if self.bit_exact else 'NO'})"]
        for o in self.outputs:
            agree = "" if o.top1_agreement is None else f", top-1 agreement {o.top1_agreement:.2%}"
            out.append(f"  {o.name}: max |err| {o.max_abs_error:.4g}, mean |err| {o.mean_abs_error:.4g}, "
                       f"RMSE {o.rmse:.4g}, SQNR {o.sqnr_db:.2f} dB, cosine {o.cosine:.5f}{agree}")
        if self.float_accuracy is not None and self.c_accuracy is not None:
            out.append(f"  top-1 accuracy: original {self.float_accuracy:.2%}, C {self.c_accuracy:.2%} "
                       f"({self.drop_points:+.2f} points lost)")
        return out


def compare(name: str, ref: np.ndarray, got: np.ndarray) -> OutputError:
    """Error figures of `got` against `ref`, both (N, ...) with the same number of values per sample."""
    n = len(ref)
    r = ref.reshape(n, -1).astype(np.float64)
    g = got.reshape(n, -1).astype(np.float64)
    err = g - r
    noise, signal = float(np.sum(err * err)), float(np.sum(r * r))
    sqnr = float("inf") if noise == 0 else 10.0 * np.log10(max(signal, 1e-30) / noise)
    norms = np.linalg.norm(r, axis=1) * np.linalg.norm(g, axis=1)
    cos = np.where(norms > 0, np.sum(r * g, axis=1) / np.where(norms > 0, norms, 1.0),
                   np.all(r == g, axis=1).astype(np.float64))
    agree = float(np.mean(np.argmax(r, axis=1) == np.argmax(g, axis=1))) if r.shape[1] > 1 else None
    return OutputError(name, float(np.max(np.abs(err))) if err.size else 0.0,
                       float(np.mean(np.abs(err))) if err.size else 0.0, float(np.sqrt(np.mean(err * err))),
                       sqnr, float(np.mean(cos)), agree)


def _predicted(y: np.ndarray) -> np.ndarray:
    y = y.reshape(len(y), -1)
    return np.argmax(y, axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5).astype(np.int64)


def reference_outputs(model: Path, x: np.ndarray, stateful: bool = False) -> tuple[str, list[np.ndarray]]:
    """The original model's float outputs for the samples `x` (N, ...), one array (N, ...) per output
    in the model's order, and the name of what ran it. `stateful`: samples continue one stream
    (the compiled model keeps state between calls), else each starts from reset state. Raises
    MfError for a format it cannot run."""
    check_runnable(model)
    suffix = model.suffix.lower()
    if suffix == ".onnx":
        return "onnxruntime", _onnx(model, x)
    if suffix == ".tflite":
        return _tflite(model, x, stateful)
    return "Keras", _keras(model, x)


def check_runnable(model: Path) -> None:
    """MfError unless `model` is a format whose framework validate runs."""
    if model.suffix.lower() not in (".onnx", ".tflite", *KERAS_SUFFIXES) and not model.is_dir():
        raise MfError(f"{model}: validate runs the original model in its framework: give the .onnx, .tflite "
                      "or Keras file (.keras, .h5, SavedModel folder) that was compiled")


def _onnx(model: Path, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise MfError(f"{model}: validate takes one input array; the model has {len(inputs)} inputs")
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64}.get(inputs[0].type, np.float32)
    runs = [session.run(None, {inputs[0].name: x[i:i + 1].astype(dtype)}) for i in range(len(x))]
    return [np.concatenate([r[k] for r in runs]) for k in range(len(runs[0]))]


def _tflite(model: Path, x: np.ndarray, stateful: bool) -> tuple[str, list[np.ndarray]]:
    """An integer model in TFLite Micro's interpreter (the int8 oracle), or where it cannot run the
    model in TFLite's reference kernels (BUILTIN_REF, which may round differently); a float model
    in TFLite's reference kernels; where those lack an op (float ELU), TFLite's builtin kernels."""
    interp, kernels = _interpreter(model, "reference kernels")
    detail = interp.get_input_details()
    if len(detail) != 1:
        raise MfError(f"{model}: validate takes one input array; the model has {len(detail)} inputs")
    outs = interp.get_output_details()
    if not np.issubdtype(detail[0]["dtype"], np.floating):
        try:
            return "TensorFlow Lite Micro interpreter", _tflm(model, x, detail[0], outs, stateful)
        except (RuntimeError, ValueError):  # an op TFLite Micro lacks: TFLite's kernels instead
            pass
    try:
        _allocate(interp, detail[0], x.shape)
    except (RuntimeError, ValueError):  # an op the reference kernels lack
        interp, kernels = _interpreter(model, "builtin kernels")
        _allocate(interp, detail[0], x.shape)
    first = interp.get_input_details()[0]
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for i in range(len(x)):
        if not stateful:
            interp.reset_all_variables()
        interp.set_tensor(first["index"], _to_type(x[i:i + 1], first))
        interp.invoke()
        for k, o in enumerate(outs):
            results[k].append(_from_type(interp.get_tensor(o["index"]), o))
    return f"TensorFlow Lite interpreter, {kernels}", [np.concatenate(r) for r in results]


def _interpreter(model: Path, kernels: str) -> tuple[Any, str]:
    """TFLite's interpreter with its reference kernels (BUILTIN_REF), or its builtin kernels when
    asked or when the reference kernels lack an op of the model (float ELU)."""
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf

        if kernels == "reference kernels":
            ref = tf.lite.experimental.OpResolverType.BUILTIN_REF
            try:
                return tf.lite.Interpreter(model_path=str(model), experimental_op_resolver_type=ref), kernels
            except (RuntimeError, ValueError):
                pass
        return tf.lite.Interpreter(model_path=str(model)), "builtin kernels"


def _allocate(interp: Any, detail: dict, shape: tuple[int, ...]) -> None:
    """Batch 1 with the samples' shape (a free or different batch resized), tensors allocated."""
    if tuple(detail["shape"][1:]) != shape[1:] or detail["shape"][0] != 1:
        interp.resize_tensor_input(detail["index"], [1, *shape[1:]])
    interp.allocate_tensors()


def _tflm(model: Path, x: np.ndarray, detail: dict, outs: list[dict], stateful: bool) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model.read_bytes())
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for i in range(len(x)):
        if not stateful:
            interp.reset()
        interp.set_input(_to_type(x[i:i + 1], detail).reshape(detail["shape"]), 0)
        interp.invoke()
        for k, o in enumerate(outs):
            results[k].append(_from_type(interp.get_output(k), o))
    return [np.concatenate(r) for r in results]


def _to_type(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if np.issubdtype(dtype, np.floating) or x.dtype == dtype:
        return x.astype(dtype)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)


def _from_type(y: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    if np.issubdtype(detail["dtype"], np.floating) or not scale:
        return y.astype(np.float32)
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


def _keras(model: Path, x: np.ndarray) -> list[np.ndarray]:
    from mcuforge.importers.keras_import import load_keras, quiet_tensorflow

    with quiet_tensorflow():
        net = load_keras(model)
        y = net(x.astype(np.float32), training=False)
    ys = y if isinstance(y, (list, tuple)) else [y]
    return [np.asarray(v) for v in ys]


def validate(model: str | Path, data: str | Path | np.ndarray,
             labels: str | Path | np.ndarray | None = None, opts: CompileOptions | None = None,
             board: str = HOST, out_dir: str | Path | None = None) -> Validation:
    """Run the original `model` and its generated C on `data` (samples (N, ...) in the model's own
    input layout, float; int8 for an integer model's quantized input) and compare them. Float models
    are quantized from `opts.calib`, or from `data` itself when none is given (a note says so).
    With `out_dir`, the compiled folder stays there and its report.json / report.html get the
    figures. Raises MfError for unreadable data, several inputs, or a format validate cannot run."""
    path = Path(model)
    check_runnable(path)
    x = _array(data, "data")
    y = _array(labels, "labels") if labels is not None else None
    if y is not None and len(y) != len(x):
        raise MfError(f"{labels}: {len(y)} labels for {len(x)} samples of data")
    opts = opts or CompileOptions()
    if opts.calib is None and np.issubdtype(x.dtype, np.floating) and path.suffix.lower() != ".tflite":
        print(f"mcuforge: note: {path}: calibrating on the validation data; give calibration data "
              "(--calib) apart from it for an unbiased figure", file=sys.stderr)
        opts = dataclasses.replace(opts, calib=x)
    if board == HOST:
        result: Any = run_model(path, x, opts, out_dir=out_dir)
    else:
        result = run_on_board(path, x, board, opts, out_dir=out_dir)
    framework, ref = reference_outputs(path, x, stateful=result.compiled.program.state_bytes > 0)
    graph = result.compiled.graph
    if len(ref) != len(graph.outputs):
        raise MfError(f"{path}: the original model gives {len(ref)} outputs, the compiled one "
                      f"{len(graph.outputs)}")
    errors = []
    for name, r in zip(graph.outputs, ref):
        got = result.outputs[name]
        if got.size != r.size:
            raise MfError(f"{path}: output '{name}' has {got.size // len(x)} values per sample in C and "
                          f"{r.size // len(x)} in the original model")
        errors.append(compare(name, r, got))
    v = Validation(framework, board, str(data) if not isinstance(data, np.ndarray) else "the given array",
                   len(x), errors, bit_exact=not result.mismatches)
    if y is not None:
        truth = y.reshape(len(y), -1)[:, 0].astype(np.int64) if y.ndim > 1 else y.astype(np.int64)
        v.float_accuracy = float(np.mean(_predicted(ref[0]) == truth))
        v.c_accuracy = float(np.mean(_predicted(result.outputs[graph.outputs[0]]) == truth))
    if out_dir is not None:
        report = result.compiled.report
        report["validation"] = v.to_json()
        write_report(report, Path(out_dir))
    return v


def _array(data: str | Path | np.ndarray, what: str) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data
    p = Path(data)
    try:
        loaded = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise MfError(f"{p}: the {what} must be a readable .npy file ({type(e).__name__}: {e})") from None
    if not isinstance(loaded, np.ndarray):
        raise MfError(f"{p}: the {what} must be one array (.npy), not an .npz archive")
    return loaded
