"""`mcuforge run`: compile, build, run the C on every sample (on the host, or on a QEMU board),
and check it against the integer reference interpreter byte for byte. A driver: it wires the
compiler (mcuforge.compile), the host build and the firmware stage together."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.build import build_host, run_host
from mcuforge.compile import Compiled, CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.firmware.boards import HOST, load_board
from mcuforge.firmware.build import Firmware, require_toolchain
from mcuforge.firmware.qemu import outputs_array, require_qemu, run_qemu
from mcuforge.firmware.run import make_firmware, to_instructions
from mcuforge.ir.graph import Graph
from mcuforge.ir.layout import from_ir_layout, require_batch_one, to_ir_layout
from mcuforge.kernels.target import family_of
from mcuforge.ops.quantize import affine_quantize
from mcuforge.quantize.accuracy import dequantize
from mcuforge.reference.interpreter import new_state, run
from mcuforge.report_html import write_report


@dataclass
class RunResult:
    compiled: Compiled
    raw: dict[str, np.ndarray]  # int8 outputs per output name, model layout, (N, ...)
    outputs: dict[str, np.ndarray]  # dequantized float32, model layout
    mismatches: dict[str, int] = field(default_factory=dict)  # output -> samples that differ
    samples: int = 0


@dataclass
class BoardResult:
    compiled: Compiled
    firmware: Firmware
    raw: dict[str, np.ndarray]  # int8 outputs per output name, model layout, (N, ...)
    outputs: dict[str, np.ndarray]  # dequantized float32, model layout
    instructions: list[int]  # per sample: instructions (QEMU) of one inference
    layer_instructions: list[dict[int, int]] = field(default_factory=list)  # per sample (--profile)
    mismatches: dict[str, int] = field(default_factory=dict)
    samples: int = 0


def load_samples(
    path: str | Path | np.ndarray | dict[str, np.ndarray], graph: Graph
) -> dict[str, np.ndarray]:
    """Samples per input name, (N, *shape without batch) in the model's own layout."""
    if isinstance(path, np.ndarray):
        data: dict[str, np.ndarray] = {graph.inputs[0]: path} if len(graph.inputs) == 1 else {}
    elif isinstance(path, dict):
        data = path
    else:
        p = Path(path)
        if not p.exists():
            raise MfError(f"{p}: input file not found")
        try:
            loaded = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise MfError(f"{p}: not a readable .npy or .npz file ({e})") from None
        data = {graph.inputs[0]: loaded} if isinstance(loaded, np.ndarray) else dict(loaded)
    if len(graph.inputs) == 1 and len(data) == 1:
        data = {graph.inputs[0]: next(iter(data.values()))}
    missing = [n for n in graph.inputs if n not in data]
    if missing:
        raise MfError(f"no samples for model inputs {missing}; give an .npz with one array per input")
    return data


def quantized_inputs(graph: Graph, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """int8 (int16 in 16x8 mode) samples in IR layout, (N, *IR shape without batch)."""
    out = {}
    for name in graph.inputs:
        require_batch_one(graph, name)
        t = graph.tensors[name]
        x = np.asarray(data[name])
        layout = graph.io_layouts.get(name)
        want = tuple((layout.source_shape if layout else t.shape)[1:])
        if x.ndim == len(want):
            x = x[None]
        if tuple(x.shape[1:]) != want:
            raise MfError(f"input '{name}' samples have shape {tuple(x.shape[1:])}, expected (N, "
                          f"{', '.join(map(str, want))}) in the model's own layout")
        ir = to_ir_layout(graph, name, x).reshape(len(x), *t.shape[1:])
        if np.issubdtype(ir.dtype, np.floating):
            assert t.quant is not None
            ir = affine_quantize(ir.astype(np.float32), t.quant, t.dtype)
        elif ir.dtype != np.dtype(t.dtype):
            raise MfError(f"input '{name}' is {ir.dtype}: give float32 (quantized here) or {t.dtype} "
                          "(taken as already quantized)")
        out[name] = ir
    return out


def run_model(model: str | Path, inputs: str | Path | np.ndarray | dict[str, np.ndarray],
              opts: CompileOptions | None = None, out_dir: str | Path | None = None,
              check: bool = True, sanitize: bool = False) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="mcuforge-") as tmp:
        folder = Path(out_dir) if out_dir else Path(tmp)
        compiled = compile_model(model, folder, opts)
        g = compiled.graph
        q = quantized_inputs(g, load_samples(inputs, g))
        n = len(next(iter(q.values())))
        stream = b"".join(q[name][i].tobytes() for i in range(n) for name in g.inputs)
        out_sizes = [g.tensors[o].nbytes for o in g.outputs]
        exe = build_host(folder, compiled.name, sanitize=sanitize)
        raw_bytes = run_host(exe, stream, sum(out_sizes))
    per_sample = np.frombuffer(raw_bytes, dtype=np.int8).reshape(n, sum(out_sizes))
    raw, outputs, mismatches = decode_outputs(g, q, per_sample, check)
    return RunResult(compiled, raw, outputs, mismatches, samples=n)


def decode_outputs(g: Graph, q: dict[str, np.ndarray], per_sample: np.ndarray, check: bool
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int]]:
    """Concatenated int8 outputs per sample (N, total bytes) -> raw int8 and dequantized float
    outputs in the model's layout, and the samples per output that differ from the reference."""
    n = len(per_sample)
    out_sizes = [g.tensors[o].nbytes for o in g.outputs]
    splits = np.split(per_sample, np.cumsum(out_sizes)[:-1], axis=1)
    # Outputs other than int8 (ARG_MAX's int32/int64 indices) arrive as their bytes. Each sample
    # keeps its whole IR shape: the batch axis need not lead it (a time-major LSTM output whose
    # final Transpose to batch-first stayed a layout: IR (T, 1, H) for ONNX's (1, T, H)).
    ir_out = {o: np.ascontiguousarray(s).view(np.dtype(g.tensors[o].dtype)).reshape(
        n, *g.tensors[o].shape) for o, s in zip(g.outputs, splits)}
    mismatches = compare_with_reference(g, q, ir_out) if check else {}
    raw = {o: _without_batch(g, o, from_ir_layout(g, o, ir_out[o])) for o in g.outputs}
    reals = {o: np.stack([dequantize(g, o, x) for x in ir_out[o]]) for o in g.outputs}  # axes as the tensor's
    outputs = {o: _without_batch(g, o, from_ir_layout(g, o, reals[o])) for o in g.outputs}
    return raw, outputs, mismatches


def _without_batch(g: Graph, name: str, array: np.ndarray) -> np.ndarray:
    """(N, 1, *rest) in the model's own layout -> (N, *rest): one sample per inference."""
    layout = g.io_layouts.get(name)
    source = layout.source_shape if layout else g.tensors[name].shape
    return array.reshape(len(array), *source[1:]) if source and source[0] == 1 else array


def compare_with_reference(
    g: Graph, q: dict[str, np.ndarray], c_out: dict[str, np.ndarray]
) -> dict[str, int]:
    """Samples per output whose C bytes differ from the integer reference's. The samples are
    consecutive calls: a stateful model (SVDF, a streaming TFLite LSTM) carries its state from
    one to the next in the reference as in the C (one process, one firmware run)."""
    bad = dict.fromkeys(g.outputs, 0)
    n = len(next(iter(q.values())))
    state = new_state(g)
    for i in range(n):
        ref = run(g, {name: q[name][i][None] for name in g.inputs}, state=state)
        for o in g.outputs:
            if not np.array_equal(ref[o].reshape(c_out[o][i].shape), c_out[o][i]):
                bad[o] += 1
    return {o: k for o, k in bad.items() if k}


def run_on_board(model: str | Path, inputs: str | Path | np.ndarray | dict[str, np.ndarray], board: str,
                 opts: CompileOptions | None = None, out_dir: str | Path | None = None, check: bool = True,
                 profile: bool = False, timeout: float = 300) -> BoardResult:
    """Compile `model`, build its firmware for a QEMU `board` with `inputs` embedded, run it, and
    compare every output with the integer reference. Instruction counts come from -icount."""
    b = load_board(board)
    if not b.qemu_machine:
        raise MfError(f"board {b.name} has no QEMU machine: `mcuforge compile --board {b.name}` builds "
                      "its firmware, which runs on the board itself")
    require_toolchain()
    require_qemu()
    # built here for the board (make_firmware below), with the kernels of its core family
    opts = dataclasses.replace(opts or CompileOptions(), board=HOST, kernel_target=family_of(b.features))
    with tempfile.TemporaryDirectory(prefix="mcuforge-fw-") as tmp:
        folder = Path(out_dir) if out_dir else Path(tmp)
        compiled = compile_model(model, folder, opts)
        g = compiled.graph
        q = quantized_inputs(g, load_samples(inputs, g))
        _, fw = make_firmware(compiled, b, q, folder, profile=profile)
        run = run_qemu(fw.elf, b, timeout)
        if profile:  # the report shows instructions per layer
            compiled.report["profile"] = {
                "board": b.name, "instructions": to_instructions(run.ticks[0], b),
                "layers": {str(k): to_instructions(v, b) for k, v in run.layer_ticks[0].items()}}
            write_report(compiled.report, folder)
    n = len(next(iter(q.values())))
    out_sizes = [g.tensors[o].nbytes for o in g.outputs]
    per_sample = outputs_array(run, sum(out_sizes))
    if len(per_sample) != n:
        raise RuntimeError(f"the firmware ran {len(per_sample)} of {n} samples")
    raw, outputs, mismatches = decode_outputs(g, q, per_sample, check)
    layers = [{k: to_instructions(v, b) for k, v in d.items()} for d in run.layer_ticks] if profile else []
    return BoardResult(compiled, fw, raw, outputs, [to_instructions(t, b) for t in run.ticks], layers,
                       mismatches, samples=n)
