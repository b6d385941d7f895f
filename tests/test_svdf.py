"""int8 SVDF (stateful area): models shaped like TFLite Micro's keyword model, written with the
TFLite flatbuffer schema (tests/svdf_models.py). The integer reference is bit-exact with TFLite
Micro's interpreter over consecutive invocations of one interpreter (the SVDF memory carries
over), the built C matches the reference sample after sample, NAME_reset() starts a new
stream, and the forms TFLite Micro's int8 kernel does not run are refused in one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from svdf_models import Layer, svdf_model, tflm_stream

from mcuforge.build import build_host
from mcuforge.compile import CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.importers.tflite_import import import_tflite_bytes
from mcuforge.reference import new_state, run
from mcuforge.runner import run_model

CONFIGS = {
    "keyword": {},  # 490 inputs, SVDF rank 2 then rank 1, memory 10, FC, softmax
    "logits": {"softmax": False, "seed": 1},  # the FC output shows every SVDF difference
    "small_relu": {"layers": (Layer(5, 2, 3),), "inputs": 7, "softmax": False, "activation": 1, "seed": 3},
    "rank3_batch2": {"layers": (Layer(4, 3, 5), Layer(3, 1, 10)), "inputs": 17, "softmax": False,
                     "batches": 2, "seed": 5},
}


def _stream(graph: object, count: int, seed: int) -> np.ndarray:
    shape = graph.tensors[graph.inputs[0]].shape  # type: ignore[attr-defined]
    return np.random.default_rng(seed).integers(-128, 128, (count, *shape), dtype=np.int8)


def _reference(graph: object, xs: np.ndarray) -> np.ndarray:
    state = new_state(graph)  # type: ignore[arg-type]
    name = graph.inputs[0]  # type: ignore[attr-defined]
    return np.stack([run(graph, {name: x}, state=state)[graph.outputs[0]] for x in xs])  # type: ignore


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_svdf_is_bit_exact_with_tflm_over_a_stream(name: str) -> None:
    data = svdf_model(**CONFIGS[name])
    graph = import_tflite_bytes(data, {})
    assert [op.kind for op in graph.ops].count("SVDF") >= 1
    xs = _stream(graph, 14, 2)  # more calls than the memory holds
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(_reference(graph, xs).reshape(want.shape), want)


def test_state_carries_over_as_in_tflm() -> None:
    """The same input twice: TFLite Micro's second output differs from its first (the memory
    moved), the reference with carried state gives both, a fresh state only the first."""
    data = svdf_model(softmax=False, seed=7)
    graph = import_tflite_bytes(data, {})
    x = _stream(graph, 1, 4)
    want = tflm_stream(data, np.concatenate([x, x]))
    assert not np.array_equal(want[0], want[1])
    np.testing.assert_array_equal(_reference(graph, np.concatenate([x, x])).reshape(want.shape), want)
    fresh = run(graph, {graph.inputs[0]: x[0]})[graph.outputs[0]]
    np.testing.assert_array_equal(fresh.reshape(want[0].shape), want[0])
    assert not np.array_equal(fresh.reshape(want[1].shape), want[1])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["keyword", "small_relu"])
def test_svdf_c_matches_reference_and_tflm(name: str, tmp_path: Path) -> None:
    data = svdf_model(**CONFIGS[name])
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    graph = import_tflite_bytes(data, {})
    xs = _stream(graph, 13, 8)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    assert result.compiled.program.state_bytes > 0
    want = tflm_stream(data, xs)
    got = next(iter(result.raw.values()))
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.slow
def test_svdf_without_bias_c_matches_reference(tmp_path: Path) -> None:
    """A bias-less SVDF (TFLite allows it; TFLite Micro's kernel needs a bias, so the reference
    is the oracle here)."""
    path = tmp_path / "nobias.tflite"
    path.write_bytes(svdf_model(bias=False, softmax=False, seed=4))
    graph = import_tflite_bytes(path.read_bytes(), {})
    result = run_model(path, _stream(graph, 6, 1)[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches


DRIVER = """
#include <stdio.h>
#include <string.h>
#include "kws.h"

int main(void)
{
    static int8_t x[KWS_INPUT0_SIZE];
    int8_t y[3][KWS_OUTPUT0_SIZE];
    memset(x, 17, sizeof(x));
    if (kws_invoke(x, y[0]) != 0 || kws_invoke(x, y[1]) != 0) { return 2; }
    kws_reset();
    if (kws_invoke(x, y[2]) != 0) { return 2; }
    printf("%d %d %d\\n", KWS_STATE_SIZE, memcmp(y[0], y[1], sizeof(y[0])) != 0,
           memcmp(y[0], y[2], sizeof(y[0])) == 0);
    return 0;
}
"""


@pytest.mark.slow
def test_generated_api_has_state_size_and_reset(tmp_path: Path) -> None:
    """The header states the state's size and declares kws_reset(); after a reset the model
    answers the first input of a stream as it did at the start."""
    path = tmp_path / "kws.tflite"
    path.write_bytes(svdf_model(softmax=False, seed=2))
    out = tmp_path / "c"
    compiled = compile_model(path, out, CompileOptions(name="kws"))
    header = (out / "kws.h").read_text()
    assert f"#define KWS_STATE_SIZE {compiled.program.state_bytes}" in header
    assert "void kws_reset(void);" in header
    int16_filters_memory = 2 * (16 * 2 * 10 + 8 * 1 * 10)
    assert compiled.report["state_bytes"] == compiled.program.state_bytes == int16_filters_memory
    (out / "main.c").write_text(DRIVER)
    exe = build_host(out, "kws")
    size, changed, same_after_reset = subprocess.run([str(exe)], capture_output=True, text=True,
                                                     check=True).stdout.split()
    assert (int(size), changed, same_after_reset) == (compiled.program.state_bytes, "1", "1")


def test_stateless_model_has_no_state_api(tmp_path: Path) -> None:
    from corpus.make_corpus import pack, tflite_base

    path = tmp_path / "plain.tflite"
    path.write_bytes(pack(tflite_base()))
    compiled = compile_model(path, tmp_path / "c", CompileOptions(name="plain"))
    assert compiled.program.state_bytes == 0
    assert "STATE_SIZE" not in (tmp_path / "c" / "plain.h").read_text()


def _edited(edit: str) -> bytes:
    """The keyword-shaped model with one thing changed, through the schema's object API."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    m = fb.ModelT.InitFromPackedBuf(bytearray(svdf_model(layers=(Layer(3, 1, 2),), inputs=5)), 0)
    sub = m.subgraphs[0]
    svdf = sub.operators[0]
    if edit == "hybrid":  # dynamic-range quantization: float input, int8 weights
        sub.tensors[svdf.inputs[0]].type = fb.TensorType.FLOAT32
        sub.tensors[svdf.inputs[0]].quantization = None
    elif edit == "int8_state":
        sub.tensors[svdf.inputs[4]].type = fb.TensorType.INT8
    elif edit == "rank":
        svdf.builtinOptions.rank = 2
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.mark.parametrize(("edit", "words"), [
    ("hybrid", "hybrid SVDF (float input, int8 weights) is not supported"),
    ("int8_state", "int16/int16"),
    ("rank", "rank 2 do not fit"),
])
def test_unsupported_svdf_forms_are_refused_in_one_line(edit: str, words: str) -> None:
    with pytest.raises(MfError) as err:
        import_tflite_bytes(_edited(edit), {}, "model.tflite")
    text = str(err.value)
    assert words in text and "SVDF" in text and "model.tflite" in text and "\n" not in text


@pytest.mark.slow
@pytest.mark.qemu
def test_svdf_is_bit_exact_with_tflm_on_mps2_an386(tmp_path: Path) -> None:
    """The firmware runs the samples one after the other: the state carries over on the board."""
    from mcuforge.runner import run_on_board

    data = svdf_model(**CONFIGS["keyword"])
    path = tmp_path / "kws.tflite"
    path.write_bytes(data)
    xs = _stream(import_tflite_bytes(data, {}), 12, 9)
    result = run_on_board(path, xs[:, 0], "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert not result.mismatches
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)


def _keyword16_stream(count: int) -> np.ndarray:
    """int16 samples of the keyword model's int16 input (its QUANTIZE to int8 saturates some)."""
    return np.random.default_rng(0).integers(-8000, 8000, (count, 1, 490), dtype=np.int16)


@pytest.mark.slow
def test_keyword_model_with_int16_io_is_bit_exact_with_tflm(tmp_path: Path) -> None:
    """TFLite Micro's keyword_scrambled_8bit feeds int16 through QUANTIZE and ends in SOFTMAX
    int8 -> int16 (scale 1/65536, zero point -32768; its benchmark registers those kernels):
    the C (mf_requantize_s16 ... mf_softmax_s8_s16) gives TFLite Micro's stream byte for byte."""
    path = tmp_path / "kws16.tflite"
    data = svdf_model(int16_io=True)
    path.write_bytes(data)
    xs = _keyword16_stream(8)
    result = run_model(path, xs[:, 0], CompileOptions(), out_dir=tmp_path / "build")
    assert not result.mismatches
    kernels = [s.call.kernel for s in result.compiled.program.steps if s.call is not None]
    assert kernels[0] == "mf_requantize_s16" and kernels[-1] == "mf_softmax_s8_s16", kernels
    want = tflm_stream(data, xs)
    got = next(iter(result.raw.values()))
    assert got.dtype == np.int16 and len(np.unique(want)) > 4  # probabilities, not saturated
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.slow
@pytest.mark.qemu
def test_keyword_model_with_int16_io_on_mps2_an386(tmp_path: Path) -> None:
    from mcuforge.runner import run_on_board

    path = tmp_path / "kws16.tflite"
    data = svdf_model(int16_io=True)
    path.write_bytes(data)
    xs = _keyword16_stream(6)
    result = run_on_board(path, xs[:, 0], "mps2-an386", CompileOptions(), out_dir=tmp_path / "fw")
    assert not result.mismatches and result.samples == 6
    want = tflm_stream(data, xs)
    np.testing.assert_array_equal(next(iter(result.raw.values())).reshape(want.shape), want)
    assert all(n > 0 for n in result.instructions)


def test_bench_counts_time_steps_and_state(tmp_path: Path) -> None:
    """mcuforge bench's sequence table: steps per inference from the recurrent layers, state RAM,
    instructions per step (board figures given here, not measured)."""
    from mcuforge.bench import sequence_table, time_steps

    graph = import_tflite_bytes(svdf_model(), {})
    assert time_steps(graph) == 1
    from corpus.make_corpus import pack, tflite_base

    assert time_steps(import_tflite_bytes(pack(tflite_base()), {})) is None
    row = {"model": "m", "time_steps": 4, "state_bytes": 96, "arena_bytes": 400,
           "boards": {"b": {"instructions": [4000], "instructions_per_step": [1000.0]}}}
    lines = sequence_table([row, {"model": "plain", "time_steps": None}], ["b"])
    assert "| m | 4 | 96 B | 400 B | 4,000 | 1,000 |" in lines
    assert not any("plain" in line for line in lines)


def test_bidirectional_sequence_lstm_builtin_is_refused_with_the_form_that_works() -> None:
    """TF's converter writes tf_keras Bidirectional(LSTM) as two UNIDIRECTIONAL_SEQUENCE_LSTM
    (tests/test_tflite_stateful.py); the fused builtin (float/hybrid only in TFLite) is refused."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    m = fb.ModelT.InitFromPackedBuf(bytearray(svdf_model(layers=(Layer(3, 1, 2),), inputs=5)), 0)
    code = m.operatorCodes[m.subgraphs[0].operators[0].opcodeIndex]
    code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.BIDIRECTIONAL_SEQUENCE_LSTM
    m.subgraphs[0].operators[0].builtinOptionsType = 0
    m.subgraphs[0].operators[0].builtinOptions = None
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(MfError) as err:
        import_tflite_bytes(bytes(builder.Output()), {}, "bidi.tflite")
    text = str(err.value)
    assert "BIDIRECTIONAL_SEQUENCE_LSTM" in text and "UNIDIRECTIONAL_SEQUENCE_LSTM" in text
    assert "\n" not in text


@pytest.mark.slow
def test_mcuforge_run_says_samples_are_consecutive_calls(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from mcuforge.cli import main

    path = tmp_path / "kws.tflite"
    path.write_bytes(svdf_model(softmax=False))
    np.save(tmp_path / "x.npy", np.random.default_rng(3).integers(-128, 128, (4, 490), dtype=np.int8))
    code = main(["run", str(path), "--input", str(tmp_path / "x.npy"), "--output",
                 str(tmp_path / "y.npy"), "--raw"])
    out = capsys.readouterr().out
    assert code == 0
    assert "stateful model (800 bytes of state)" in out and "consecutive calls" in out
    assert "bit-exact with the integer reference on all 4 samples" in out
