"""4-bit weight storage on the quantized graph (mcuforge.compress.encode): k-means, int4 and
codebook encodings, the 'does not pay' fallback, and compiled C bit-exact with the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcuforge.compile import CompileOptions
from mcuforge.compress.encode import encode_weights
from mcuforge.compress.kmeans import kmeans_1d
from mcuforge.importers import load_model
from mcuforge.ops import packed_weights as pw
from mcuforge.quantize import quantize
from mcuforge.runner import run_model

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target


def test_kmeans_recovers_clusters_and_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([-1.0, -0.1, 0.9, 2.0])
    v = rng.choice(centers, 500) + rng.normal(0, 0.01, 500)
    c, assign = kmeans_1d(v, 4)
    np.testing.assert_allclose(c, centers, atol=0.01)
    assert np.abs(c[assign] - v).max() < 0.05
    c2, _ = kmeans_1d(v, 4)
    np.testing.assert_array_equal(c, c2)
    few, idx = kmeans_1d(np.array([1.0, 1.0, 3.0]), 16)
    np.testing.assert_array_equal(few[idx], [1.0, 1.0, 3.0])


@pytest.fixture(scope="module")
def int_graph():
    x, _ = digits()
    g, _ = quantize(load_model(EXAMPLE), x[:50])
    return g


@pytest.mark.parametrize("encoding,per_channel", [("int4", False), ("cb4", False), ("cb4", True)])
def test_encoded_weights_fit_their_format(int_graph, encoding: str, per_channel: bool) -> None:
    g, notes = encode_weights(int_graph, encoding, per_channel=per_channel)
    for note in notes:
        op = next(o for o in g.ops if o.name == note.op)
        w = g.tensors[op.inputs[1]].data
        if note.encoding == "int8":
            assert "weight_encoding" not in op.attrs and "kept int8" in note.reason
            continue
        assert op.attrs["weight_encoding"] == encoding
        packed, book = pw.packed_filter(w, op.attrs)
        unpacked = pw.unpack_int4(packed, w.shape) if book is None else pw.unpack_cb4(packed, book, w.shape)
        np.testing.assert_array_equal(unpacked, w)
        assert note.bytes == packed.size + (0 if book is None else book.size) < note.int8_bytes
    # the input graph is untouched
    assert not any("weight_encoding" in op.attrs for op in int_graph.ops)


def test_per_channel_codebook_that_does_not_pay_keeps_int8(int_graph) -> None:
    _, notes = encode_weights(int_graph, "cb4", per_channel=True)
    small = [n for n in notes if n.weights <= 16 * 8]
    assert small and all(n.encoding == "int8" for n in small)


@pytest.mark.cbuild
@pytest.mark.parametrize("weights", ["int4", "cb4"])
def test_compiled_4bit_model_is_bit_exact_and_smaller(tmp_path: Path, weights: str) -> None:
    x, y = digits()
    base = run_model(EXAMPLE, x[1400:1500], CompileOptions(calib=x[:200]), out_dir=tmp_path / "int8")
    r = run_model(EXAMPLE, x[1400:1500], CompileOptions(calib=x[:200], weights=weights),
                  out_dir=tmp_path / weights)
    assert r.mismatches == {}
    rep = r.compiled.report
    kernels = {op["kernel"] for op in rep["ops"]}
    assert {f"mf_convolve_{weights[:3] if weights == 'cb4' else 's4'}",
            f"mf_fully_connected_{'cb4' if weights == 'cb4' else 's4'}"} <= kernels
    assert rep["weights_bytes"] < 0.6 * base.compiled.report["weights_bytes"]
    acc = np.mean(r.outputs["probs"].argmax(1) == y[1400:1500])
    base_acc = np.mean(base.outputs["probs"].argmax(1) == y[1400:1500])
    assert acc >= base_acc - 0.05
    assert "uint8_t" in (tmp_path / weights / f"{r.compiled.name}_weights.c").read_text()
