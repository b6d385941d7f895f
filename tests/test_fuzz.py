"""`mcuforge fuzz`: the generator is deterministic and valid, the minimizer shrinks, a small
fixed-seed sample compiles bit-exact, and every bug the fuzzer found stays fixed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import onnx
import pytest

from mcuforge.cli import main
from mcuforge.fuzz import driver
from mcuforge.fuzz.check import Outcome, check
from mcuforge.fuzz.driver import fuzz
from mcuforge.fuzz.export import calib_data, model_layout, onnx_model
from mcuforge.fuzz.generate import generate, model_seed, remove_nodes, shapes_of
from mcuforge.fuzz.minimize import minimize
from mcuforge.fuzz.ops import FRONTENDS, OPS, data_movement, spatial
from mcuforge.fuzz.spec import ModelSpec, Node
from mcuforge.ops import registry

# The CI sample, issue 14's check: `mcuforge fuzz --count 200 --seed 1` (measured: 2 min 11 s on 2
# cores shared with other work; the runtime library comes from the object cache).
SAMPLE_SEED, SAMPLE_COUNT = 1, 200
# Sample models whose integer reference is known to disagree with TFLite Micro, and why. Each may
# pass (the disagreement needs a quotient at an exact rounding tie, which depends on the scales
# TF's converter picks) or show exactly that disagreement; anything else fails.
KNOWN_TFLM_DISAGREEMENTS = {
    # tflite model 48 (softmax, sigmoid, add, mul, DIV): our DIV follows TFLM's reference
    # DivElementwise (two roundings); the tflite-micro 0.dev20261023 wheel rounds quotients that
    # sit within 1e-8 of a .5 tie to the nearest integer of the exact value (off by one in 5 of
    # 336 values). Not yet explained: see the README's "Known differences" (Integer arithmetic).
    48: "integer reference differs from TFLite Micro",
}


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_generation_is_deterministic_and_valid(frontend: str) -> None:
    for i in range(40):
        a, b = generate(model_seed(3, i), frontend), generate(model_seed(3, i), frontend)
        assert a == b and ModelSpec.from_json(json.loads(json.dumps(a.to_json()))) == a
        assert shapes_of(a) is not None and a.nodes
        assert all(frontend in OPS[n.op].frontends for n in a.nodes)


def test_generation_covers_the_table() -> None:
    specs = [generate(model_seed(5, i), "onnx") for i in range(300)]
    seen = {n.op for s in specs for n in s.nodes}
    # An op is due once the generator makes a value of a rank it applies to ((T, C) ops need rank 2).
    ranks = {len(shape) for s in specs for shape in shapes_of(s) or []}
    probe = {1: (8,), 2: (8, 4), 3: (8, 8, 4)}
    rng = np.random.default_rng(0)
    due = {name for name, g in OPS.items() for r in ranks for _ in range(10)
           if g.draw(rng, [probe[r]] * g.arity, "onnx") is not None}
    assert seen == due, f"never drawn: {due - seen}"


def test_sequence_inputs_are_drawn_and_stay_batch_time_features() -> None:
    specs = [generate(model_seed(6, i), "onnx") for i in range(300)]
    seqs = [s for s in specs if len(s.input_shape) == 2]
    assert 0.05 * len(specs) < len(seqs) < 0.3 * len(specs), len(seqs)
    assert all(2 <= s.input_shape[0] <= 16 for s in seqs)
    assert {"lstm", "gru", "attention", "dense_seq"} <= {n.op for s in seqs for n in s.nodes}
    for spec in seqs[:5]:  # (N, T, F) in ONNX and torch, as users write sequence models
        assert model_layout("onnx", calib_data(spec, 2)).shape == (2, *spec.input_shape)
        dims = onnx_model(spec).graph.input[0].type.tensor_type.shape.dim
        assert [d.dim_value for d in dims[1:]] == list(spec.input_shape)


def test_removing_nodes_keeps_a_valid_graph() -> None:
    for i in range(60):
        spec = generate(model_seed(9, i), "onnx")
        for k in range(len(spec.nodes)):
            smaller = remove_nodes(spec, [k])
            if smaller is not None:
                assert shapes_of(smaller) is not None and len(smaller.nodes) < len(spec.nodes)


def test_minimize_finds_the_one_failing_node() -> None:
    specs = (generate(model_seed(2, i), "onnx") for i in range(500))
    spec = next(s for s in specs if [n.op for n in s.nodes].count("conv") == 1 and len(s.nodes) >= 4)
    small = minimize(spec, lambda s: any(n.op == "conv" for n in s.nodes), budget_s=10, max_tests=200)
    assert [n.op for n in small.nodes] == ["conv"]


def test_a_failure_is_minimized_and_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def fake_check(spec: ModelSpec, frontend: str, board: str = "host", keep: Path | None = None) -> Outcome:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / "model.onnx").write_bytes(b"")
            (keep / "input.npy").write_bytes(b"")
        bad = any(n.op == "conv" for n in spec.nodes)
        return Outcome("mismatch", "fake", "conv present") if bad else Outcome("ok")

    monkeypatch.setattr(driver, "check", fake_check)
    records = fuzz(30, 4, tmp_path, "onnx", jobs=1, progress=False)
    failed = [r for r in records if r["status"] == "mismatch"]
    with_conv = [r for r in records if any(op.startswith("conv[") for op in r["ops"].split())]
    assert failed and len(failed) == len(with_conv)
    out = capsys.readouterr().out
    assert out.count("mismatch: onnx model") == len(failed)
    assert out.strip().endswith(f"30 models: {30 - len(failed)} bit-exact, {len(failed)} mismatched, "
                                "0 refused, 0 crashed")
    for r in failed:
        folder = Path(r["dir"])
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["ops_after"].split()[0].startswith("conv") and len(summary["ops_after"].split()) == 1
        assert "mcuforge run model.onnx" in (folder / "repro.sh").read_text()
        assert f"--index {r['index']}" in summary["regenerate"]
        assert ModelSpec.from_json(json.loads((folder / "spec.json").read_text())).nodes[0].op == "conv"


@pytest.mark.parametrize("module", [spatial, data_movement], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_spatial_entries_infer_the_shape_of_their_onnx_model(module: ModuleType) -> None:
    # onnx's own shape inference on each entry's exported graph (output shape left out) must give
    # the NCHW form of the shape `infer` promised, over a few drawn parameters and input shapes.
    rng = np.random.default_rng(4)
    inputs = [(8, 8, 4), (5, 7, 3), (6, 6, 16), (9, 4, 8), (12, 4), (7, 3), (16,)]
    for gen in module.GENS:
        checked = 0
        for shape in inputs:
            for _ in range(4):
                params = gen.draw(rng, [shape], "onnx")
                spec = ModelSpec(1, shape, [Node(gen.name, (0,), params or {})])
                if params is None or (shapes := shapes_of(spec)) is None:
                    continue
                model = onnx_model(spec)
                declared = model.graph.output[0].type.tensor_type
                want = [d.dim_value for d in declared.shape.dim]
                assert want[1:] == nchw_shape(shapes[-1]), (gen.name, shape, params)
                declared.ClearField("shape")
                out = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph.output[0]
                got = [d.dim_value for d in out.type.tensor_type.shape.dim]
                assert got == want, (gen.name, shape, params)
                checked += 1
        assert checked >= 3, f"{gen.name}: only {checked} parameter draws fit"


def nchw_shape(shape: tuple[int, ...]) -> list[int]:
    return [shape[2], shape[0], shape[1]] if len(shape) == 3 else list(shape)


def test_fuzz_refuses_a_board_without_qemu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--count", "1", "--board", "nucleo-f446re", "-o", str(tmp_path)]) == 2
    assert "no QEMU machine" in capsys.readouterr().err


# -- regressions found by the fuzzer (each a one-node spec that failed before the fix) -----------


@pytest.mark.slow
def test_sub_of_a_tensor_and_itself_is_refused_not_run() -> None:
    # x - x: the converter gives the output a scale of 7.8e-9, whose rescaling multiplier the C
    # kernel (and TFLite Micro) reject at run time; now refused at compile time with one line.
    spec = ModelSpec(1218797772, (7, 11, 2), [Node("sub", (0, 0), {"_w": 2})], "fixed")
    outcome = check(spec, "tflite")
    assert outcome.status == "refused" and "too small" in outcome.reason, outcome


@pytest.mark.slow
@pytest.mark.parametrize("frontend", ["onnx", "keras"])
def test_standalone_relu6_quantized_by_mcuforge_matches_float(frontend: str) -> None:
    # Relu6's integer kernel clamps in the input's encoding; mcuforge's quantizer gave its output
    # a calibrated encoding of its own, so negative inputs came out as positive values.
    spec = ModelSpec(2627934278, (3, 7, 5), [Node("relu6", (0,), {"_w": 3})], "fixed")
    outcome = check(spec, frontend)
    assert outcome.status == "ok", outcome


@pytest.mark.slow
def test_a_power_chain_is_quantization_limited_not_a_mismatch() -> None:
    # dense -> x**2 -> x**4 -> dense through int8 loses every small value of x**4 (fuzz seed 3000,
    # model 1205): beyond the float tolerance, but every integer op is within an output step of its
    # float definition on its own inputs, so it is quantization noise, not a wrong op.
    spec = ModelSpec(3994901920, (3,), [Node("dense", (0,), {"units": 9, "act": "relu6", "_w": 2}),
                                        Node("mul", (1, 1), {"_w": 3}), Node("mul", (2, 2), {"_w": 5}),
                                        Node("dense", (3,), {"units": 17, "act": "relu6", "_w": 6})], "fixed")
    outcome = check(spec, "onnx")
    assert (outcome.status, outcome.reason) == ("ok", "quantization-limited"), outcome


@pytest.mark.slow
def test_a_wrong_integer_op_is_a_mismatch_on_the_int8_grid_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # An integer TANH that is off by a sign: the C agrees with the (wrong) reference, so only the
    # float oracle sees it, and the per-op check must not excuse it as noise: it names the op.
    tanh = registry.REGISTRY["TANH"]
    wrong = dataclasses.replace(tanh, ref_int=lambda ctx, xs: [-y for y in tanh.ref_int(ctx, xs)])
    monkeypatch.setitem(registry.REGISTRY, "TANH", wrong)
    spec = ModelSpec(11, (4, 4, 3), [Node("conv", (0,), {"k": 3, "s": 1, "d": 1, "pad": "same",
                                                         "filters": 8, "act": "none", "_w": 0}),
                                     Node("tanh", (1,), {"_w": 1})], "fixed")
    outcome = check(spec, "onnx")
    assert outcome.status == "mismatch" and "TANH" in outcome.detail, outcome
    assert "allowance" in outcome.detail, outcome


@pytest.mark.slow
def test_relu6_after_a_relu6_conv_then_concat_matches_float() -> None:
    # A standalone Relu6 that mcuforge's quantizer gave an encoding of its own, concatenated with
    # the input (fuzz seed 3000, model 1382): Relu6 clamped in its input's encoding.
    spec = ModelSpec(2083862579, (8, 6, 16), [
        Node("conv", (0,), {"k": 1, "s": 1, "d": 2, "pad": "valid", "filters": 12, "act": "relu6", "_w": 2}),
        Node("relu6", (1,), {"_w": 3}), Node("concat", (0, 2), {"_w": 4})], "free")
    outcome = check(spec, "onnx")
    assert outcome.status == "ok", outcome


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "frontend"), [
    # concat(x, concat(x, x)): the outer concat retargeted the inner one's encoding after the
    # inner one had matched its inputs to it (fuzz seed 3000, models 8862, 2838, 3598, ...)
    (ModelSpec(320929513, (16,), [Node("concat", (0, 0), {"_w": 0}), Node("concat", (0, 1), {"_w": 1}),
                                  Node("relu6", (2,), {"_w": 2})], "free"), "onnx"),
    # concat(relu(concat(x, x)), x): widening the inner concat's encoding dropped its fused Relu
    (ModelSpec(1205121567, (4,), [Node("concat", (0, 0), {"_w": 0}), Node("relu", (1,), {"_w": 1}),
                                  Node("concat", (2, 0), {"_w": 2})], "fixed"), "keras"),
], ids=["nested_concat", "concat_relu_concat"])
def test_concatenations_sharing_an_input_quantize_and_match_float(spec: ModelSpec, frontend: str) -> None:
    outcome = check(spec, frontend)
    assert outcome.status == "ok", outcome


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="qemu-system-arm / arm-none-eabi-gcc not installed")
def test_a_model_runs_bit_exact_under_qemu() -> None:
    # `--board` took run_on_board from where it had moved away (every QEMU model crashed).
    spec = ModelSpec(5, (6, 6, 3), [Node("conv", (0,), {"k": 3, "s": 1, "d": 1, "pad": "same",
                                                        "filters": 8, "act": "relu", "_w": 0}),
                                    Node("avgpool", (1,), {"k": 2, "s": 2, "d": 1, "pad": "valid"})], "fixed")
    outcome = check(spec, "onnx", board="mps2-an386")
    assert outcome.status == "ok", outcome


@pytest.mark.slow
@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_small_sequence_model_is_bit_exact(frontend: str) -> None:
    # Dense per step, self-attention, a residual add, LayerNormalization, a GRU over the whole
    # sequence and the mean over time: the (T, F) ops together, in every front end.
    nodes = [Node("dense_seq", (0,), {"units": 8, "act": "relu", "_w": 0}),
             Node("attention", (1,), {"heads": 2, "key_dim": 4, "_w": 1}),
             Node("add", (1, 2), {"_w": 2}),
             Node("layer_norm", (3,), {"eps": 1e-3, "_w": 3}),
             Node("gru", (4,), {"units": 5, "seq": True, "_w": 4}),
             Node("seq_pool", (5,), {"kind": "mean", "keep": False, "_w": 5})]
    outcome = check(ModelSpec(77, (7, 5), nodes, "fixed"), frontend)
    assert outcome.status == "ok", outcome


@pytest.mark.slow
def test_the_per_op_check_pairs_a_requantization_the_quantizer_inserted() -> None:
    # min(x, x) gets a QUANTIZE on its input that the float graph has not: the per-op check
    # paired the graphs op by op and gave up, calling quantization noise a mismatch (fuzz seed
    # 3200, model 329).
    spec = ModelSpec(1089129534, (6, 11, 4), [
        Node("softmax", (0,), {"_w": 2}), Node("minimum", (1, 1), {"_w": 3}),
        Node("conv", (2,), {"k": 1, "s": 2, "d": 1, "pad": "same", "filters": 1, "act": "relu6", "_w": 4})],
        "fixed")
    outcome = check(spec, "keras")
    assert outcome.status == "ok", outcome


@pytest.mark.slow
def test_a_keras_model_that_tf_converter_changes_is_an_export_problem() -> None:
    # Resizing (nearest, 7x3 -> 8x2), transposed conv, depthwise + batch norm: TF's converter's
    # float TFLite model is 1.6 away from Keras, and mcuforge (which imports that) matches it
    # to 5e-7. Not mcuforge's mismatch (fuzz seed 3200, model 637).
    spec = ModelSpec.from_json({"seed": 2065559035, "input_shape": [7, 3, 4], "batch": "free", "nodes": [
        {"op": "relu", "inputs": [0], "params": {"_w": 0}},
        {"op": "maximum", "inputs": [1, 0], "params": {"_w": 1}},
        {"op": "resize", "inputs": [2], "params": {"mode": "nearest", "size": [8, 2], "_w": 3}},
        {"op": "conv_transpose", "inputs": [3], "params": {"k": 4, "s": 2, "pad": "valid", "filters": 2,
                                                          "act": "relu6", "_w": 4}},
        {"op": "batch_norm", "inputs": [4], "params": {"base": "depthwise", "act": "relu6", "k": 3, "s": 1,
                                                      "d": 1, "pad": "valid", "filters": 2, "_w": 5}}]})
    outcome = check(spec, "keras")
    assert (outcome.status, outcome.reason) == ("export", "TF's converter changes the Keras model"), outcome


# -- the CI sample ------------------------------------------------------------------------------


@pytest.mark.slow
def test_fixed_seed_sample_has_no_mismatch_or_crash(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fuzz", "--count", str(SAMPLE_COUNT), "--seed", str(SAMPLE_SEED), "--jobs", "2",
                   "--no-progress", "-o", str(tmp_path)])
    records = json.loads((tmp_path / "results.json").read_text())["models"]
    bad = [r for r in records if r["status"] in ("mismatch", "crash")
           and r.get("reason") != KNOWN_TFLM_DISAGREEMENTS.get(r["index"])]
    known = any(r["status"] == "mismatch" and r["index"] in KNOWN_TFLM_DISAGREEMENTS for r in records)
    assert status == (1 if known else 0) and not bad, (capsys.readouterr().out[-3000:], bad)
    assert len(records) == SAMPLE_COUNT
    assert sum(r["status"] == "ok" for r in records) >= SAMPLE_COUNT * 3 // 4, records
