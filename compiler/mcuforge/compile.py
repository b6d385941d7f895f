"""The main job: model file -> int8 graph -> memory plan -> C folder with report.json."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from mcuforge.artifact import Compiled
from mcuforge.codegen import Program, c_identifier, lower, render
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph, Op, QuantParams, Shape
from mcuforge.ir.verify import verify
from mcuforge.kernels import kernel_label
from mcuforge.kernels.target import family_of
from mcuforge.ops.quantize import DEQUANTIZE, QUANTIZE
from mcuforge.ops.registry import lookup
from mcuforge.passes import optimize
from mcuforge.passes.fold_float_island import fold_float_island
from mcuforge.plan import MemoryPlan, plan_memory
from mcuforge.plan.planner import align_up
from mcuforge.quantize import DEFAULT_METHOD, AccuracyReport, CalibData, Labels, QuantOptions, quantize
from mcuforge.report_html import write_report


@dataclass
class CompileOptions:
    name: str | None = None
    calib: CalibData | None = None
    method: str = DEFAULT_METHOD
    param: float | None = None  # the calibration method's parameter (percentile)
    bias_correction: bool = False
    eval_data: tuple[CalibData, Labels] | None = None  # labelled (x, y) for the accuracy report
    alignment: int = 16
    input_shapes: dict[str, Shape] | None = None
    progress: bool = False
    board: str = "host"  # or a board under boards/: also write and build a firmware project
    profile: bool = False  # firmware: per-layer counts through the MF_LAYER_BEGIN/END hooks
    force: bool = False  # firmware: write it even if it does not fit the board's memory
    weights: str = "int8"  # "int4" / "cb4": 4-bit, "b1": 1-bit weight storage (mcuforge.compress.encode)
    binary_edges: bool = False  # "b1": binarize the first and last weighted layers too
    layer_weights: dict[str, str] | None = None  # mixed precision: IR op name -> int8/int4/cb4/b1 (fit)
    clusters: int = 16  # codebook entries for "cb4"
    codebook_per_channel: bool = False  # one codebook per output channel instead of per layer
    sparse: bool = False  # bitmap + nonzero values for int8 conv/dense weights where that saves bytes
    int16_layers: tuple[str, ...] = ()  # float models: layers kept at int16 activations (issue 11)
    exports: tuple[str, ...] = ()  # also write these exports into OUT/KIND/ (mcuforge.export.KINDS)
    keep_state: bool = False  # int8 LSTMs keep their state across calls (stateful area)
    overlap: bool = True  # outputs over the inputs they replace where that shrinks the arena (issue 13)
    residual_rows: bool = True  # ic area: residual blocks row by row where that shrinks the arena (issue 13)
    kernel_target: str | None = None  # core family of the kernels (kernels/target.py); None: the board's


def is_float_graph(graph: Graph) -> bool:
    """Every activation is float32, apart from the integer outputs of ops that are never
    quantized (out_quant "none": ARG_MAX's indices)."""
    indices = {o for op in graph.ops if lookup(op.kind).out_quant == "none" for o in op.outputs}
    return all(t.dtype == "float32" for t in graph.tensors.values()
               if not t.is_const and t.name not in indices)


def strip_io_conversions(graph: Graph) -> Graph:
    """Drop a QUANTIZE right after a float graph input and a DEQUANTIZE right before a float
    graph output: the generated header's quantize/dequantize helpers do that work on the host
    side, and the C graph stays int8 end to end. The int8 tensors take over the model's input
    and output names."""
    for op in [op for op in graph.ops if op.kind == QUANTIZE.kind and op.inputs[0] in graph.inputs]:
        src, dst = op.inputs[0], op.outputs[0]
        if graph.tensors[src].dtype != "float32" or len(graph.consumers().get(src, [])) != 1:
            continue
        _replace_io(graph, graph.inputs, op, keep=src, take=dst)
    for op in [op for op in graph.ops if op.kind == DEQUANTIZE.kind and op.outputs[0] in graph.outputs]:
        src, dst = op.inputs[0], op.outputs[0]
        if graph.tensors[src].is_const or src in graph.outputs or src in graph.inputs:
            continue
        _replace_io(graph, graph.outputs, op, keep=dst, take=src)
    graph.prune_unused_tensors()
    verify(graph)
    return graph


def _replace_io(graph: Graph, names: list[str], op: Op, keep: str, take: str) -> None:
    """Remove the conversion `op`; tensor `take` becomes the graph input/output `keep`, name,
    position and layout included."""
    graph.ops.remove(op)
    layout = graph.io_layouts.pop(keep, None)
    names[names.index(keep)] = take
    del graph.tensors[keep]
    graph.rename_tensor(take, keep)
    if layout is not None:
        graph.io_layouts[keep] = layout


def calibrate_islands(graph: Graph, calib: object, method: str = "minmax", param: float | None = None,
                      progress: bool = False) -> list[Op]:
    """Quantize the float islands left by `close_islands` from calibration data (`calib` as
    `quantize.calibration.load_calibration` takes it): the graph runs as it is, integer parts
    and float islands together, in the reference interpreter, and each island tensor without a
    scale gets `method`'s range over the samples. Returns the ops still float (none unless an
    op has no integer form)."""
    from mcuforge.importers.qdq_islands import close_islands
    from mcuforge.ir.quant_scheme import activation_params
    from mcuforge.quantize.calibration import as_graph_input, collect_stats, load_calibration
    from mcuforge.quantize.ranges import DEFAULT_PARAM, METHODS, NEEDS_HISTOGRAM

    samples = [as_graph_input(graph, s) for s in load_calibration(graph, calib)]  # type: ignore[arg-type]
    stats = collect_stats(graph, samples, histograms=method in NEEDS_HISTOGRAM, progress=progress)
    choose, p = METHODS[method], DEFAULT_PARAM[method] if param is None else param

    def calibrated(name: str) -> QuantParams | None:
        s = stats.get(name)
        return None if s is None else activation_params(*choose(s, p))

    return close_islands(graph, calibrated)


def quantize_float_islands(graph: Graph, opts: CompileOptions) -> Graph:
    """A QDQ model's ops left in float with no scale on their tensors, quantized from --calib
    (the model's own scales stay); without --calib, an error naming them. Ops that move bytes
    take their input's scale without --calib (TF's converter leaves a SPLIT_V in float when one
    of its outputs is unused); a BATCH_NORM the QDQ model left in float becomes MUL and ADD."""
    from mcuforge.importers.qdq_islands import close_islands, describe
    from mcuforge.passes.fold_batch_norm import fold_batch_norm

    graph = fold_batch_norm(graph)  # a float BATCH_NORM island becomes MUL and ADD, which quantize
    islands = close_islands(graph)
    if not islands:
        return graph
    if opts.calib is None:
        raise MfError(
            f"{graph.source}: the quantized model leaves {len(islands)} op(s) in float without scales: "
            f"{describe(islands)}; give --calib DATA.npy (samples in the model's own input layout) to "
            "quantize them, the model's own scales are kept"
        )
    calibrate_islands(graph, opts.calib, opts.method, opts.param, opts.progress)
    return graph


def to_int8(graph: Graph, opts: CompileOptions) -> tuple[Graph, AccuracyReport | None]:
    if is_float_graph(graph):
        if opts.calib is None:
            raise MfError(
                f"{graph.source}: a float model needs calibration data to quantize: --calib DATA.npy "
                "(samples in the model's own input layout), or --calib random to skip validation"
            )
        qopts = QuantOptions(opts.method, opts.param, bias_correction=opts.bias_correction,
                             progress=opts.progress, int16_layers=opts.int16_layers)
        int_graph, accuracy = quantize(graph, opts.calib, qopts, opts.eval_data)
        return strip_io_conversions(int_graph), accuracy
    if opts.int16_layers:
        raise MfError(f"{graph.source}: --int16 {','.join(opts.int16_layers)} chooses int16 layers when "
                      "quantizing a float model; this model is quantized already (convert it in 16x8 mode "
                      "instead, or give the float model with --calib)")
    graph = quantize_float_islands(fold_float_island(graph), opts)
    return strip_io_conversions(optimize(graph)), None


def check_compiles(graph: Graph) -> list[str]:
    """What `compile` checks after import, for `inspect`, which has no calibration data: the
    graph is quantized (a float model, or the float islands of a QDQ model) with placeholder
    ranges, which give every tensor the dtype and layout the real ranges would, and lowered to
    kernel calls. MfError as `compile` would raise it; notes on what compiling will need."""
    from mcuforge.importers.qdq_islands import close_islands, describe, float_islands
    from mcuforge.ir.quant_scheme import activation_params
    from mcuforge.quantize.calibration import TensorStats
    from mcuforge.quantize.quantizer import QuantConfig, check_float, quantize_graph

    notes = []
    g = copy.deepcopy(graph)
    if is_float_graph(g):
        check_float(g)
        g = optimize(g)
        stats = {n: TensorStats(-1.0, 1.0) for n, t in g.tensors.items() if not t.is_const}
        g = strip_io_conversions(quantize_graph(g, stats, QuantConfig()))
    else:
        g = fold_float_island(g)  # TFLite's DEQUANTIZE -> float op -> QUANTIZE, bit-exact as int8
        islands = float_islands(g)
        if islands:
            notes.append(f"the quantized model leaves {describe(islands)} in float without scales: "
                         "compiling needs --calib")
            close_islands(g, lambda name: activation_params(-1.0, 1.0))
        g, _ = to_int8(g, CompileOptions())
    lowered(g, "check")
    return notes


def lowered(graph: Graph, name: str, alignment: int = 16, overlap: bool = True,
            residual_rows: bool = True, family: str = "host") -> Program:
    """`lower`, with the model file named in its refusals (a kernel that cannot take a shape)."""
    try:
        return lower(graph, name, alignment, overlap=overlap, residual_rows=residual_rows, family=family)
    except MfError as e:
        source = graph.source or ""
        if source and not str(e).startswith(source):
            raise MfError(f"{source}: {e}") from None
        raise


def encode_for(graph: Graph, int_graph: Graph, opts: CompileOptions) -> tuple[Graph, list[dict]]:
    """4-bit or 1-bit weight storage when opts.weights asks for it, from the float weights when the model
    is float; a note per weighted layer (what it got, bytes, why it kept int8)."""
    if opts.weights == "int8" and not opts.layer_weights:
        return int_graph, []
    from mcuforge.compress.encode import encode_layers, encode_weights, float_weights

    floats = float_weights(optimize(graph)) if is_float_graph(graph) else None
    if opts.layer_weights:
        g, notes = encode_layers(int_graph, opts.layer_weights, floats, opts.clusters)
        return g, [asdict(n) for n in notes]
    g, notes = encode_weights(int_graph, opts.weights, floats, opts.clusters, opts.codebook_per_channel,
                              opts.binary_edges)
    return g, [asdict(n) for n in notes]


def sparse_for(int_graph: Graph, opts: CompileOptions) -> tuple[Graph, list[dict]]:
    """The sparse weight format on the int8 layers where it saves flash (opts.sparse); a note per
    weighted int8 layer: sparsity, sparse and dense bytes, the format kept."""
    if not opts.sparse:
        return int_graph, []
    from mcuforge.compress.sparse import sparse_weights

    g, notes = sparse_weights(int_graph)
    return g, [{**asdict(n), "sparsity": round(n.sparsity, 4), "note": n.line()} for n in notes]


def target_family(board: str) -> str:
    """The core family kernels are chosen for (mcuforge.kernels.target): the board's, or "host"
    (the bindings' own choices) for a host build."""
    if board == "host":
        return "host"
    from mcuforge.firmware.boards import load_board

    return family_of(load_board(board).features)


def lowered_for(graph: Graph, name: str, opts: CompileOptions, family: str) -> Program:
    """`lowered` with the options' layout switches, kernels chosen for core `family`
    (mcuforge.kernels.target)."""
    return lowered(graph, name, opts.alignment, opts.overlap, opts.residual_rows, family)


def compile_model(
model: str | Path, out_dir: str | Path, opts: CompileOptions | None = None) -> Compiled:
    opts = opts or CompileOptions()
    graph = load_model(model, opts.input_shapes)
    if opts.keep_state:  # stateful area
        from mcuforge.importers.tflite_recurrent import keep_state

        graph = keep_state(graph)
    name = c_identifier(opts.name or Path(model).stem.split(".")[0], "model")
    int_graph, accuracy = to_int8(graph, opts)
    int_graph, encoding = encode_for(graph, int_graph, opts)
    int_graph, sparse = sparse_for(int_graph, opts)
    family = opts.kernel_target or target_family(opts.board)
    program = lowered_for(int_graph, name, opts, family)
    out = Path(out_dir)
    files = render(int_graph, program, name, out, str(model))
    report = build_report(int_graph, program, name, str(model), accuracy)
    report["kernel_target"] = family
    report["weight_encoding"] = encoding
    report["sparse"] = sparse
    if opts.int16_layers:
        report["int16_layers"] = int16_cost(graph, opts, name, program, accuracy, family)
    compiled = Compiled(name, int_graph, program, accuracy, report, files)
    if opts.board != "host":
        from mcuforge.firmware import make_firmware

        make_firmware(compiled, opts.board, profile=opts.profile, force=opts.force)  # adds report["firmware"]
    if opts.exports:
        from mcuforge.export import export

        report["exports"] = {k: str(p) for k, p in export(compiled, opts.exports, out).items()}
    files["report.html"] = write_report(report, out)
    files["report.json"] = out / "report.json"
    return compiled


def int16_cost(graph: Graph, opts: CompileOptions, name: str, program: Program,
               accuracy: AccuracyReport | None, family: str) -> dict:
    """What --int16 LAYER,... costs and gains against the all-int8 graph (quantized again without
    it): arena and weight bytes, the output's SQNR and top-1 agreement on the calibration set,
    top-1 accuracy on --eval data."""
    base_graph, base = to_int8(graph, replace(opts, int16_layers=(), progress=False))
    base_program = lowered_for(base_graph, name, opts, family)

    def summary(acc: AccuracyReport | None, prog: Program, g: Graph) -> dict:
        out_sqnr = {e.tensor: round(e.sqnr_db, 2) for e in (acc.layers if acc else [])}
        return {"arena_bytes": prog.plan.arena_bytes, "weights_bytes": sum(c.nbytes for c in prog.consts),
                "output_sqnr_db": out_sqnr.get(g.outputs[0]),
                "top1_agreement": acc.top1_agreement if acc else None,
                "eval_accuracy": acc.int8_accuracy if acc else None}

    return {"layers": list(opts.int16_layers), "mixed": summary(accuracy, program, graph),
            "all_int8": summary(base, base_program, base_graph)}


def build_report(graph: Graph, program: Program, name: str, source: str,
                 accuracy: AccuracyReport | None) -> dict:
    plan = program.plan
    greedy = plan_memory(plan.buffers, plan.alignment, "greedy")
    offsets = program.tensor_offsets
    ops = []
    const_bytes = _const_bytes(program)
    for step, op in zip(program.steps, graph.ops):
        ops.append({
            "index": step.index, "name": op.name, "kind": op.kind, "output_names": list(op.outputs),
            "kernel": (kernel_label(step.call) if step.call
                       else "alias" if step.inputs[0] == step.output else "copy"),
            "inputs": [list(graph.tensors[n].shape) for n in op.inputs
                       if n and not graph.tensors[n].is_const],
            "outputs": [list(graph.tensors[n].shape) for n in op.outputs],
            "macs": step.macs,
            "input_offsets": [offsets[n] for n in op.inputs if n in offsets],
            "output_offsets": [offsets[n] for n in op.outputs],
            "output_bytes": step.nbytes,
            "scratch_offset": step.scratch_offset if step.scratch_size else None,
            "scratch_bytes": step.scratch_size,
            "const_bytes": const_bytes[step.index],
        })
    return {
        "name": name, "source": source,
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound_bytes": plan.lower_bound_bytes,
        "arena_greedy_bytes": greedy.arena_bytes,
        # issue 13: the arena with no output over its input, and each overlap taken
        "arena_no_overlap_bytes": plan.arena_no_overlap_bytes,
        "overlaps": _overlaps(plan, graph),
        # ic area (issue 13): residual blocks computed row by row (op, the ops fused, arena before/after)
        "residual_rows": program.residual_rows,
        "arena_ratio_to_lower_bound": round(plan.ratio, 4),
        # the smallest peak of live bytes over every op order (None: too many orders to search)
        "best_order_peak_bytes": program.best_order_peak,
        "planner": plan.algorithm, "alignment": plan.alignment,
        "weights_bytes": sum(c.nbytes for c in program.consts),
        "state_bytes": program.state_bytes,  # stateful area: persistent, outside the arena
        "macs": sum(s.macs for s in program.steps),
        "inputs": {n: list(graph.tensors[n].shape) for n in graph.inputs},
        "outputs": {n: list(graph.tensors[n].shape) for n in graph.outputs},
        "ops": ops,
        "buffers": [{"name": b.name, "offset": plan.offsets[b.name], "bytes": b.size, "first": b.first,
                     "last": b.last, "tensors": list(b.tensors)} for b in plan.buffers],
        "accuracy": accuracy.to_json() if accuracy else None,
    }


def _overlaps(plan: MemoryPlan, graph: Graph) -> list[dict]:
    """Each output placed over its input (issue 13): the op, both buffers, the shift (input
    offset - output offset), the bytes they share, the bytes saved against side by side, and the
    access pattern that allows it."""
    size = {b.name: b.size for b in plan.buffers}
    out = []
    for ov in plan.overlaps:
        lo_in, lo_out = plan.offsets[ov.input], plan.offsets[ov.output]
        shared = max(0, min(lo_in + size[ov.input], lo_out + size[ov.output]) - max(lo_in, lo_out))
        saved = (align_up(size[ov.input], plan.alignment) + align_up(size[ov.output], plan.alignment)
                 - ov.span(plan.alignment))
        out.append({"op": ov.op, "op_name": graph.ops[ov.op].name, "input": ov.input, "output": ov.output,
                    "shift_bytes": lo_in - lo_out, "shared_bytes": shared, "saved_bytes": saved,
                    "pattern": ov.stream.pattern})
    return out


# What a kernel call's constant arrays hold, by role name (kernel_params): anything else is a table.
CONST_KINDS = {"filter": "weights", "mask": "weights", "codebook": "weights", "bias": "biases",
               "multiplier": "requantization", "shift": "requantization"}


def _const_bytes(program: Program) -> dict[int, dict[str, int]]:
    """Flash bytes of each step's constant arrays by kind (weights, biases, requantization, tables,
    constant operands); an array shared by several steps counts at its first."""
    sizes = {c.symbol: c.nbytes for c in program.consts}
    seen: set[str] = set()
    out: dict[int, dict[str, int]] = {}
    for step in program.steps:
        kinds: dict[str, int] = {}
        symbols = [(CONST_KINDS.get(role, "tables"), sym) for role, sym in step.consts.items()]
        symbols += [("operands", expr) for expr in step.inputs if expr in sizes]
        for kind, sym in symbols:
            if sym in sizes and sym not in seen:
                seen.add(sym)
                kinds[kind] = kinds.get(kind, 0) + sizes[sym]
        out[step.index] = kinds
    return out
