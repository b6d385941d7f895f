"""Compile one exported model, run its C, and compare with the oracles.

Outcomes: "ok" (C bit-exact with the integer reference, and the oracle agrees), "mismatch" (C vs
reference differ, or the reference differs from TFLite Micro bit for bit on int8 TFLite, or from
onnxruntime / Keras beyond the float tolerance), "refused" (an `MfError` while importing,
quantizing or compiling: an unsupported op or shape), "crash" (any other exception, or the C
failing to build or run), "export" (the front end itself failed: not counted against mcuforge).
"""

from __future__ import annotations

import re
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mcuforge.compile import CompileOptions
from mcuforge.errors import MfError
from mcuforge.fuzz.export import ExportError, calib_data, export, model_layout
from mcuforge.fuzz.spec import ModelSpec
from mcuforge.ir.graph import Graph, Op
from mcuforge.ops.quantize import QUANTIZE
from mcuforge.ops.space_batch import BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND
from mcuforge.reference import is_stateful

TEST_SAMPLES = 3
# Float oracles: the int8 result may differ from the float one by quantization noise. A sample
# mismatches when its largest error exceeds FLOAT_TOL_SCALES output scales and FLOAT_TOL_REL of
# the float output's largest magnitude, AND its RMS error exceeds FLOAT_TOL_RMS of the float
# output's RMS (plus one output scale). Loose on purpose: it catches wrong ops (a sign, a layout,
# an activation), not rounding; x**4 through int8 (fuzz seed 1000, model 79) is noise, not a bug.
FLOAT_TOL_SCALES = 6.0
FLOAT_TOL_REL = 0.25
FLOAT_TOL_RMS = 0.2
LOCAL_TOL_STEPS = 3.0  # output steps an integer op may be from its float definition on its own inputs
FLOAT32_REL = 1e-5  # ... or this much of its inputs' magnitude (degenerate, tiny output scales)
IMPORT_TOL = 1e-3  # mcuforge's float reference of the imported model vs the front end, relative
# Where TFLite Micro's int8 kernels are wrong, TFLite's BUILTIN_REF kernels are the oracle: its
# SPACE_TO_BATCH_ND pads with 0, not the zero point (the dilated convolutions TF's converter
# writes with a free batch dimension), and its RELU6 clamps in the input's encoding and ignores
# the output's when the two differ (a RELU6 the converter could not fuse, e.g. on a model input).
TFLM_WRONG_OPS = frozenset({SPACE_TO_BATCH_ND.kind, BATCH_TO_SPACE_ND.kind})  # TFLite builtin names
# fuzz-math: ops TFLite Micro has no kernel for (int8 GELU, EXP, LOG, POW; REDUCE_PROD in the
# shape arithmetic of a free batch; FILL of a run-time shape: an RNN's zero state with a free
# batch): its interpreter fails to allocate such a model, so TFLite's BUILTIN_REF kernels are the
# oracle, as in tests/test_elementwise_ops.py.
TFLM_MISSING = frozenset({"GELU", "EXP", "LOG", "POW", "REDUCE_PROD", "FILL"})
# ... but TFLite's int8 LOGISTIC is a float-built table and TFLite Micro's is fixed-point: with a
# large input scale they differ by up to 128 (x^8 then sigmoid: 287 of 540 values). mcuforge
# follows TFLite Micro, so a model needing BUILTIN_REF that has these has no bit-exact oracle;
# only the C against the integer reference is checked (fuzz seed 106, model 32: exp, x * x, sigmoid).
# TANH too (seed 3200 model 252: log-softmax, conv, exp, tanh; TFLite builds an int8 table in float),
# SOFTMAX (TFLite's int8 softmax differs by 1 step: seed 3200 model 816, attention), and SUM
# (BUILTIN_REF's int8 SUM gave -1 everywhere on a free-batch model, 1 step from the float sum in
# ours: seed 3200 model 696, GELU then SUM over H).
TFLM_DIVERGES = frozenset({"LOGISTIC", "TANH", "SOFTMAX", "SUM"})
DEFAULT_KERNELS = "TFLite's default kernels"  # the last resort: BUILTIN_REF lacks an op (int8 ELU)
DEFAULT_KERNELS_LSB = 1  # ... and they round differently from the reference kernels


@dataclass
class Outcome:
    status: str  # ok | mismatch | refused | crash | export
    reason: str = ""  # short, normalized: the bucket of refusals and failures
    detail: str = ""
    seconds: float = 0.0

    def signature(self) -> tuple[str, str]:
        return self.status, self.reason

    def to_json(self) -> dict:
        return asdict(self)


def normalize(message: str) -> str:
    """An error message without paths, names and numbers, so equal causes count together."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = re.sub(r"(/[^\s:'\"]+)+", "PATH", first)
    first = re.sub(r"'[^']*'", "'X'", first)
    first = re.sub(r"\d+", "#", first)
    return first[:120]


def test_inputs(spec: ModelSpec, frontend: str) -> np.ndarray:
    """Samples in the model's own layout: int8 over the whole range for int8 TFLite (the model's
    own input type); for float models, calibration samples, so that no value falls outside the
    calibrated ranges (clipping there is expected, not a bug)."""
    if frontend == "tflite":
        rng = np.random.default_rng([spec.seed, 7])
        return rng.integers(-128, 128, (TEST_SAMPLES, *spec.input_shape)).astype(np.int8)
    return model_layout(frontend, calib_data(spec)[:TEST_SAMPLES])


def check(spec: ModelSpec, frontend: str, board: str = "host", keep: Path | None = None) -> Outcome:
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mcuforge-fuzz-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            outcome = _check(spec, frontend, board, folder)
        except Exception as e:  # anything escaping is a crash with its traceback
            outcome = Outcome("crash", f"{type(e).__name__}: {normalize(str(e))}",
                              traceback.format_exc(limit=-8))
    outcome.seconds = round(time.monotonic() - start, 2)
    return outcome


def _check(spec: ModelSpec, frontend: str, board: str, folder: Path) -> Outcome:
    from mcuforge.compile import compile_model

    try:
        path = export(spec, frontend, folder)
    except ExportError as e:
        return Outcome("export", normalize(str(e)), str(e))
    calib = None if frontend in ("tflite", "qdq") else model_layout(frontend, calib_data(spec))
    x = test_inputs(spec, frontend)
    np.save(folder / "input.npy", x)
    if calib is not None:
        np.save(folder / "calib.npy", calib)
    opts = CompileOptions(name="fuzz", calib=calib)
    try:
        for attempt in range(3):  # do what a refusal tells the user to do, then try again
            try:
                compiled = compile_model(path, folder / "c", opts)
                break
            except MfError as e:
                free = spec.batch == "free" and not opts.input_shapes
                if attempt < 2 and "--input-shape" in str(e) and free:  # fix the free batch dimension
                    opts.input_shapes = {"input": (1, *x.shape[1:])}
                elif attempt < 2 and "--calib" in str(e) and frontend == "qdq" and opts.calib is None:
                    # fuzz-math: ops onnxruntime's quantizer leaves in float (Abs, Exp, Max, Erf, LSTM,
                    # ReduceMean, ...) are quantized from calibration data, as the message says
                    opts.calib = model_layout(frontend, calib_data(spec))
                    np.save(folder / "calib.npy", opts.calib)
                else:
                    raise
    except MfError as e:
        return Outcome("refused", normalize(str(e)), str(e))
    raw, outputs, bad = _run_c(path, x, compiled, board, folder, opts)
    if bad:
        return Outcome("mismatch", "C differs from the integer reference", f"samples differing: {bad}")
    return _oracle(path, frontend, x, compiled.graph, raw, outputs, opts)


def _run_c(path: Path, x: np.ndarray, compiled, board: str, folder: Path, opts) -> tuple:
    from mcuforge.build import build_host, run_host
    from mcuforge.runner import decode_outputs, load_samples, quantized_inputs

    g = compiled.graph
    if board != "host":
        from mcuforge.runner import run_on_board

        try:
            r = run_on_board(path, x, board, opts, out_dir=folder / "fw", check=True)
        except MfError as e:
            raise RuntimeError(f"firmware failed: {e}") from e
        return r.raw, r.outputs, r.mismatches
    q = quantized_inputs(g, load_samples(x, g))
    n = len(x)
    stream = b"".join(q[name][i].tobytes() for i in range(n) for name in g.inputs)
    out_bytes = sum(g.tensors[o].size for o in g.outputs)
    try:
        exe = build_host(folder / "c", compiled.name)
        raw_bytes = run_host(exe, stream, out_bytes, timeout=60)
    except MfError as e:  # mcuforge accepted the model, so a C failure is its bug
        raise RuntimeError(f"C build or run failed: {e}") from e
    per_sample = np.frombuffer(raw_bytes, dtype=np.int8).reshape(n, out_bytes)
    return decode_outputs(g, q, per_sample, True)


def _oracle(path: Path, frontend: str, x: np.ndarray, g: Graph, raw: dict, outputs: dict,
            opts: CompileOptions) -> Outcome:
    (name,) = g.outputs if len(g.outputs) == 1 else (None,)
    if name is None:
        return Outcome("crash", "several outputs from a one-output model", str(g.outputs))
    if frontend == "tflite":
        data = path.read_bytes()
        operators = _operators(data)
        ops = {name for name, _, _ in operators}
        needs_tflite = _tflm_is_wrong(operators)
        if needs_tflite and ops & TFLM_DIVERGES:  # e.g. a requantizing RELU6 after a SUM (seed 3300, 224)
            return Outcome("ok", "", f"no oracle: TFLite Micro cannot run or is wrong on this model, TFLite "
                                     f"differs from it on {sorted(ops & TFLM_DIVERGES)}; C = reference")
        oracle, want = tflite_oracle(data, x) if needs_tflite \
            else ("TFLite Micro", tflm_outputs(data, x, is_stateful(g)))
        got = raw[name].reshape(want.shape)
        diff = np.abs(got.astype(np.int32) - want)
        # TFLite's default (optimized) kernels are not the reference ones: their TRANSPOSE_CONV,
        # bilinear RESIZE and conv round differently by one step, so they bound the result only.
        # So do TFLite's reference kernels standing in for the TFLite Micro kernels a model lacks:
        # a FULLY_CONNECTED over a sequence rounded one value in 96 differently (seed 3300, 944).
        stand_in = oracle == DEFAULT_KERNELS or bool(ops & TFLM_MISSING)
        allowed = DEFAULT_KERNELS_LSB if stand_in else 0
        if diff.max(initial=0) > allowed:
            return Outcome("mismatch", f"integer reference differs from {oracle}",
                           f"{np.count_nonzero(diff)} of {diff.size} values differ (largest by {diff.max()})")
        if diff.any():
            return Outcome("ok", "", f"within {allowed} step of {oracle}")
        return Outcome("ok")
    want = float_outputs(path, frontend, x)
    got = np.asarray(outputs[name], np.float32).reshape(want.shape)
    quant = g.tensors[name].quant
    scale = float(np.max(quant.scale)) if quant is not None else 0.0
    diff, ref = (got - want).reshape(len(x), -1), want.reshape(len(x), -1)
    err, rms = np.abs(diff).max(axis=1), np.sqrt((diff.astype(np.float64) ** 2).mean(axis=1))
    bound = np.maximum(FLOAT_TOL_SCALES * scale, FLOAT_TOL_REL * np.abs(ref).max(axis=1))
    rms_bound = FLOAT_TOL_RMS * np.sqrt((ref.astype(np.float64) ** 2).mean(axis=1)) + scale
    bad = (err > bound) & (rms > rms_bound)
    if not np.any(bad):
        return Outcome("ok")
    i = int(np.argmax(bad))
    detail = (f"sample {i}: largest error {err[i]:.4g} > {bound[i]:.4g}, RMS error {rms[i]:.4g} > "
              f"{rms_bound[i]:.4g} (output scale {scale:.4g})")
    # Beyond the float tolerance: quantization noise (x**4 through int8 loses every small value,
    # a 720-input dense sums 720 rounding errors) or a wrong op? Each integer op, given the
    # dequantized integer values its C kernel gets, must land within a few output steps of its
    # float definition; then the error is the sum of roundings, not a bug.
    local = local_errors(path, x, g, opts)
    if local is None:
        return Outcome("mismatch", f"{frontend} float oracle beyond tolerance",
                       f"{detail}; the float and int8 graphs have different ops, no per-op check")
    excess, where, imported = local
    import_err = float(np.abs(imported.reshape(want.shape) - want).max())
    bound = IMPORT_TOL * max(float(np.abs(want).max()), 1.0)
    if import_err > bound:
        if frontend == "keras":  # the Keras importer reads what TF's converter makes of the model
            converted = np.abs(imported - converter_outputs(path, x).reshape(imported.shape)).max()
            if converted <= bound:
                return Outcome("export", "TF's converter changes the Keras model",
                               f"{detail}; its float TFLite model is {import_err:.4g} from Keras, "
                               f"mcuforge's import of it {converted:.2g} from it")
        return Outcome("mismatch", f"mcuforge's float reference differs from {frontend}",
                       f"{detail}; the imported float model is {import_err:.4g} away")
    if excess <= 1.0:
        return Outcome("ok", "quantization-limited", f"{detail}; every op within {excess:.2f} of its "
                                                     "allowance from its float definition")
    return Outcome("mismatch", f"{frontend} float oracle beyond tolerance",
                   f"{detail}; {where} is {excess:.1f} times its allowance from its float definition")


def local_errors(path: Path, x: np.ndarray, int_graph: Graph, opts: CompileOptions
                 ) -> tuple[float, str, np.ndarray] | None:
    """The largest error of any op of `int_graph` against its float definition (the imported float
    model's op, run by mcuforge's float reference) fed the dequantized integer values that op
    reads, weights included, over the samples `x`, as a multiple of its allowance (LOCAL_TOL_STEPS
    output steps, or FLOAT32_REL of its inputs' magnitude where the integer kernel's own float32
    arithmetic, as TFLite defines MEAN's, cannot resolve a step); which op it is; and
    the imported float model's outputs on `x` (the model's layout). Ops pair up by position
    (names differ between two imports of a Keras model); None when the two graphs do not have
    the same ops or no op could be compared."""
    from mcuforge.importers import load_model
    from mcuforge.ir.layout import from_ir_layout
    from mcuforge.ops.common import INT_RANGES
    from mcuforge.ops.registry import Ctx, lookup
    from mcuforge.passes import optimize
    from mcuforge.quantize.accuracy import dequantize, quantize_input
    from mcuforge.quantize.calibration import load_calibration
    from mcuforge.reference import run

    float_graph = optimize(load_model(path, opts.input_shapes))
    pairs = _pair_ops(float_graph, int_graph)
    if pairs is None:
        return None
    worst, where, compared, outs = 0.0, "", 0, []
    (out,) = float_graph.outputs
    for sample in load_calibration(float_graph, x):
        outs.append(run(float_graph, sample)[out])
        feeds = {i: quantize_input(int_graph, i, sample[f])
                 for f, i in zip(float_graph.inputs, int_graph.inputs, strict=True)}
        values = run(int_graph, feeds, keep_all=True)
        for fo, io in pairs:
            xs = [_real(int_graph, values, i) if i else None for i in io.inputs]
            if fo is None:  # a requantization the quantizer inserted: the identity on reals
                ys = xs[:1]
            elif len(fo.inputs) != len(io.inputs) or any(
                    v is not None and v.shape != float_graph.tensors[f].shape
                    for f, v in zip(fo.inputs, xs, strict=True) if f):
                continue  # a layout the float op does not read (packed weights): not comparable
            else:
                ys = lookup(fo.kind).ref_float(Ctx.of(float_graph, fo), xs)
            for y, name in zip(ys, io.outputs, strict=False):
                t = int_graph.tensors[name]
                if t.quant is None or y.shape != t.shape:
                    continue
                compared += 1
                lo, hi = (dequantize(int_graph, name, np.full(t.shape, v, t.dtype))
                          for v in INT_RANGES[t.dtype])
                y = np.clip(y, lo, hi)  # the calibrated range clips outliers: saturation is not an error
                err = float(np.max(np.abs(dequantize(int_graph, name, values[name]) - y)))
                magnitude = max((float(np.abs(v).max()) for v in xs if v is not None and v.size), default=0.0)
                allowed = max(LOCAL_TOL_STEPS * float(np.max(t.quant.scale)), FLOAT32_REL * magnitude)
                if err / allowed > worst:
                    worst, where = err / allowed, f"{io.kind} '{io.name}'"
    if not compared:
        return None
    return worst, where, from_ir_layout(float_graph, out, np.concatenate(outs))


def _pair_ops(float_graph: Graph, int_graph: Graph) -> list[tuple[Op | None, Op]] | None:
    """The int8 graph's ops with their float counterparts, in order; a QUANTIZE the quantizer
    inserted (to give a CONCATENATION's or MINIMUM's inputs one encoding) pairs with None. None
    when the graphs differ otherwise."""
    pairs: list[tuple[Op | None, Op]] = []
    ops = iter(float_graph.ops)
    fo = next(ops, None)
    for io in int_graph.ops:
        if fo is not None and fo.kind == io.kind:
            pairs.append((fo, io))
            fo = next(ops, None)
        elif io.kind == QUANTIZE.kind:
            pairs.append((None, io))
        else:
            return None
    return pairs if fo is None else None


def _real(graph: Graph, values: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """A tensor's value (computed, or constant) as reals."""
    from mcuforge.quantize.accuracy import dequantize

    v = values.get(name, graph.tensors[name].data)
    return None if v is None else dequantize(graph, name, v)


def tflm_outputs(data: bytes, x: np.ndarray, stateful: bool = False) -> np.ndarray:
    """One sample after the other on one interpreter, reset before each unless the model is
    stateful for mcuforge (SVDF, a streaming LSTM: its state carries over in the C and the
    reference as in TFLite Micro's variable tensors; stateful area)."""
    from tflite_micro.python.tflite_micro import runtime

    outs = []
    interp = runtime.Interpreter.from_bytes(data)
    for sample in x:
        if not stateful:
            interp.reset()
        interp.set_input(sample[None], 0)
        interp.invoke()
        outs.append(interp.get_output(0)[0])
    return np.stack(outs)


def tflm_is_wrong(data: bytes) -> bool:
    """Whether TFLite Micro cannot be the oracle: the model has an op it computes wrongly
    (TFLM_WRONG_OPS, a requantizing RELU6) or has no kernel for (TFLM_MISSING)."""
    return _tflm_is_wrong(_operators(data))


def _tflm_is_wrong(operators: list[tuple[str, tuple, tuple]]) -> bool:
    return any(name in TFLM_WRONG_OPS | TFLM_MISSING or (name == "RELU6" and in_quant != out_quant)
               for name, in_quant, out_quant in operators)


def _operators(data: bytes) -> list[tuple[str, tuple, tuple]]:
    """(builtin name, first input's quantization, first output's) of each operator of a TFLite
    model."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_content=data)
    quant = {t["index"]: t["quantization"] for t in interp.get_tensor_details()}
    return [(op["op_name"], quant.get(op["inputs"][0]) if len(op["inputs"]) else None,
             quant.get(op["outputs"][0]) if len(op["outputs"]) else None)
            for op in interp._get_ops_details()]  # the only API listing a model's operators


def tflite_oracle(data: bytes, x: np.ndarray) -> tuple[str, np.ndarray]:
    """TFLite's BUILTIN_REF kernels, or its default ones for a model BUILTIN_REF has no kernel for
    (int8 ELU: a model with ELU and EXP has no other oracle; both are lookup tables there)."""
    try:
        return "TFLite's BUILTIN_REF kernels", builtin_ref_outputs(data, x)
    except ValueError as e:
        if "Didn't find op" not in str(e):
            raise
    return DEFAULT_KERNELS, builtin_ref_outputs(data, x, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")


def builtin_ref_outputs(data: bytes, x: np.ndarray, resolver: str = "BUILTIN_REF") -> np.ndarray:
    """Outputs of TFLite's reference kernels (the BUILTIN_REF op resolver, or `resolver`), one
    sample at a time."""
    import tensorflow as tf

    kind = getattr(tf.lite.experimental.OpResolverType, resolver)
    interp = tf.lite.Interpreter(model_content=data, experimental_op_resolver_type=kind)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    outs = []
    for sample in x:
        interp.resize_tensor_input(inp["index"], [1, *sample.shape])
        interp.allocate_tensors()
        interp.set_tensor(inp["index"], sample[None])
        interp.invoke()
        outs.append(interp.get_tensor(out["index"])[0])
    return np.stack(outs)


def converter_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    """A Keras model converted to float TFLite as the Keras importer converts it, run by TFLite's
    interpreter one sample at a time (the model's layout)."""
    from mcuforge.importers.keras_import import keras_to_tflite, load_keras, quiet_tensorflow

    with quiet_tensorflow():
        data = keras_to_tflite(load_keras(path), path)
    return builtin_ref_outputs(data, x.astype(np.float32), "AUTO")


def float_outputs(path: Path, frontend: str, x: np.ndarray) -> np.ndarray:
    if frontend == "keras":
        from mcuforge.importers.keras_import import load_keras, quiet_tensorflow

        with quiet_tensorflow():
            model = load_keras(path)
            return np.stack([np.asarray(model(s[None]))[0] for s in x])
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    return np.stack([sess.run(None, {inp: s[None]})[0][0] for s in x])
