"""int16-activation kernels (TFLite's 16x8 mode, issue 11), bit-exact against ref_int on random
shapes around the 4/8-wide edges: convolution (general and 1x1), depthwise, dense, add, sub,
mul, average and max pooling, mean, requantization between int8 and int16, and int16 data
movement through the int8 byte-moving kernels. The integer reference is itself checked against
TFLite Micro on TF-converted 16x8 models (tests/test_reference_int.py, tests/test_int16_models.py).

Inputs span the whole int16 range, so sums reach the int64 accumulators' upper bits, the
requantization's rounding is exercised on millions of values, and outputs saturate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, CHANNELS, OneOp, cases, weights

from mcuforge.ir.graph import QuantParams

I16 = np.iinfo(np.int16)


def q16(rng: np.random.Generator) -> QuantParams:
    """A symmetric int16 encoding (zero point 0, as TF's 16x8 mode gives)."""
    return QuantParams(np.float32(rng.uniform(1e-4, 1e-2)), 0)


def data16(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(I16.min, I16.max + 1, size=shape, dtype=np.int16)


def bias64(rng: np.random.Generator, in_scale: float, w_scales: np.ndarray) -> tuple[np.ndarray, QuantParams]:
    """int64 biases beyond the int32 range now and then, as 16x8 conversion may give."""
    b = rng.integers(-(1 << 33) if rng.random() < 0.3 else -(1 << 24), 1 << 24, size=w_scales.shape)
    scales = (np.float32(in_scale) * w_scales).astype(np.float32)
    return b.astype(np.int64), QuantParams(scales, np.zeros(w_scales.shape, dtype=np.int64), axis=0)


def out_q16(rng: np.random.Generator, in_scale: float, w_scale: float, depth: int) -> QuantParams:
    """Output scale near three accumulator deviations, jittered so some cases saturate."""
    spread = 3 * np.sqrt(depth) * 18900 * 73 * in_scale * w_scale / 32767 * rng.uniform(0.2, 3.0)
    return QuantParams(np.float32(spread), 0)


def shape4(rng: np.random.Generator, hw: int) -> tuple[int, int, int, int]:
    """(N, H, W, C): N of 1-2, H and W below hw, C around the 4/8-wide edges."""
    return (int(rng.integers(1, 3)), int(rng.integers(1, hw)), int(rng.integers(1, hw)),
            int(rng.choice(CHANNELS)))


def q8(rng: np.random.Generator) -> QuantParams:
    return QuantParams(np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128)))


def window(rng: np.random.Generator, size: tuple[int, int]) -> dict:
    while True:
        k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        strides = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if rng.random() < 0.3 else (1, 1)
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        eff = [(k[i] - 1) * dil[i] + 1 for i in range(2)]
        if all(size[i] + pads[i] + pads[i + 2] >= eff[i] for i in range(2)):
            return {"kernel": k, "strides": strides, "dilations": dil, "pads": pads,
                    "activation": str(rng.choice(ACTIVATIONS))}


def _check(status: int, y: np.ndarray, expected: np.ndarray) -> None:
    assert status == MF_OK
    assert y.dtype == expected.dtype == np.int16
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("seed", cases(80))
def test_convolve_s16(mf: Kernels, seed: int) -> None:
    """General and 1x1 paths, a quarter of the cases grouped (TFLM's ConvPerChannel groups)."""
    rng = np.random.default_rng(7000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
    cin, cout = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    depth = cin
    if seed % 4 == 1:  # grouped: filter depth below C_in, groups = C_in / depth
        groups, depth = int(rng.choice((2, 3, 4))), int(rng.choice((1, 3, 4, 5, 8)))
        cin, cout = groups * depth, groups * int(rng.choice((1, 2, 3, 5)))
    if seed % 3 == 0:  # the 1x1 fast path
        geo = {"kernel": (1, 1), "strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
               "activation": str(rng.choice(ACTIVATIONS))}
    else:
        geo = window(rng, (h, w))
    k = geo.pop("kernel")
    one = OneOp("CONV_2D", geo)
    xq = q16(rng)
    x = data16(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, *k, depth), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias64(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_q16(rng, float(xq.scale[0]), float(wq.scale.mean()), k[0] * k[1] * depth),
                                "int16")
    assert call.kernel == "mf_convolve_s16"
    _check(*mf.invoke(call, [x, wt], call.dims["output"], "int16"), expected)


@pytest.mark.parametrize("seed", cases(40))
def test_depthwise_conv_s16(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7100 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
    c, mult = int(rng.choice(CHANNELS)), int(rng.choice((1, 1, 2, 3)))
    geo = window(rng, (h, w))
    k = geo.pop("kernel")
    one = OneOp("DEPTHWISE_CONV_2D", {**geo, "depth_multiplier": mult})
    xq = q16(rng)
    x = data16(rng, (n, h, w, c))
    wt, wq = weights(rng, (1, *k, c * mult), axis=3)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias64(rng, float(xq.scale[0]), wq.scale), const=True)
    out_q = out_q16(rng, float(xq.scale[0]), float(wq.scale.mean()), k[0] * k[1])
    call, expected = one.finish(out_q, "int16")
    assert call.kernel == "mf_depthwise_conv_s16"
    _check(*mf.invoke(call, [x, wt], call.dims["output"], "int16"), expected)


@pytest.mark.parametrize("seed", cases(40))
def test_fully_connected_s16(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7200 + seed)
    batches, depth = int(rng.integers(1, 4)), int(rng.choice((*CHANNELS, 300, 513)))
    units = int(rng.choice(CHANNELS))
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS))})
    xq = q16(rng)
    x = data16(rng, (batches, depth))
    wt, wq = weights(rng, (units, depth), axis=0)
    if seed % 2:  # per-tensor weights
        wq = QuantParams(np.float32(wq.scale.mean()), 0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias64(rng, float(xq.scale[0]), np.resize(wq.scale, units)), const=True)
    call, expected = one.finish(out_q16(rng, float(xq.scale[0]), float(wq.scale.mean()), depth), "int16")
    assert call.kernel == "mf_fully_connected_s16"
    _check(*mf.invoke(call, [x, wt], expected.shape, "int16"), expected)


def _broadcast_shapes(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shape = shape4(rng, 6)
    other = tuple(1 if rng.random() < 0.3 else d for d in shape) if rng.random() < 0.5 else shape
    return (shape, other) if rng.random() < 0.5 else (other, shape)


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("seed", cases(25))
def test_binary_s16(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(7300 + seed)
    a_shape, b_shape = _broadcast_shapes(rng)
    one = OneOp(kind, {"activation": str(rng.choice(ACTIVATIONS))})
    qa, qb = q16(rng), q16(rng)
    a, b = data16(rng, a_shape), data16(rng, b_shape)
    one.input(a, qa)
    one.input(b, qb)
    if kind == "MUL":
        out_scale = float(qa.scale[0]) * float(qb.scale[0]) * 32768 * rng.uniform(0.1, 1.5)
    else:
        out_scale = max(float(qa.scale[0]), float(qb.scale[0])) * rng.uniform(0.6, 2.5)
    call, expected = one.finish(QuantParams(np.float32(out_scale), 0), "int16")
    assert call.kernel == f"mf_elementwise_{kind.lower()}_s16"
    _check(*mf.invoke(call, [a, b], call.dims["output"], "int16"), expected)


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", cases(20))
def test_pool_s16(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(7400 + seed)
    n, h, w, c = shape4(rng, 9)
    geo = window(rng, (h, w))
    geo.pop("dilations")
    if any(p >= k for p, k in zip(geo["pads"], (*geo["kernel"], *geo["kernel"]))):
        geo["pads"] = (0, 0, 0, 0)
    one = OneOp(kind, geo)
    xq = q16(rng)
    x = data16(rng, (n, h, w, c))
    one.input(x, xq)
    call, expected = one.finish(xq, "int16")
    _check(*mf.invoke(call, [x], call.dims["output"], "int16"), expected)


@pytest.mark.parametrize("seed", cases(20))
def test_mean_s16(mf: Kernels, seed: int) -> None:
    """H and W of NHWC, and other contiguous blocks of axes (time of (N, T, C), the last axis)."""
    rng = np.random.default_rng(7500 + seed)
    shape = shape4(rng, 12)
    axes = [[1, 2], [1, 2], [1], [2, 3], [3], [0, 1, 2]][seed % 6]
    if seed % 6 == 2:
        shape = shape[:3]  # (N, T, C): GlobalAveragePooling1D
    one = OneOp("MEAN", {"axes": axes, "keepdims": bool(seed % 2)})
    xq = q16(rng)
    x = data16(rng, shape)
    one.input(x, xq)
    out_q = QuantParams(np.float32(float(xq.scale[0]) * rng.uniform(0.3, 2.0)), 0)
    call, expected = one.finish(out_q, "int16")
    assert call.kernel == "mf_mean_s16"
    _check(*mf.invoke(call, [x], expected.shape, "int16"), expected)


@pytest.mark.parametrize(("src", "dst"), [("int8", "int16"), ("int16", "int8"), ("int16", "int16")])
@pytest.mark.parametrize("seed", cases(10))
def test_requantize_s16(mf: Kernels, src: str, dst: str, seed: int) -> None:
    rng = np.random.default_rng(7600 + seed)
    shape = (1, int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.choice(CHANNELS)))
    info = np.iinfo(src)
    x = rng.integers(info.min, info.max + 1, size=shape).astype(src)
    xq = q16(rng) if src == "int16" else q8(rng)
    yq = q16(rng) if dst == "int16" else q8(rng)
    one = OneOp("QUANTIZE", {})
    one.input(x, xq)
    call, expected = one.finish(yq, dst)
    assert call.kernel == "mf_requantize_s16"
    status, y = mf.invoke(call, [x], shape, dst)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def _moves(rng: np.random.Generator) -> tuple[str, dict, list[tuple[int, ...]]]:
    shape = (1, int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.choice(CHANNELS)))
    pick = int(rng.integers(0, 4))
    if pick == 0:
        axis = int(rng.integers(0, 4))
        other = tuple(int(rng.integers(1, 4)) if i == axis else d for i, d in enumerate(shape))
        return "CONCATENATION", {"axis": axis, "activation": "NONE"}, [shape, other]
    if pick == 1:
        return "TRANSPOSE", {"perm": [int(p) for p in rng.permutation(4)]}, [shape]
    if pick == 2:
        pads = [(0, 0)] + [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(3)]
        return "PAD", {"pads": pads, "value": 0.0}, [shape]
    begin = [0, int(rng.integers(0, shape[1])), 0, int(rng.integers(0, shape[3]))]
    step = [1, 1, int(rng.integers(1, 3)), 1]
    size = [shape[0], shape[1] - begin[1], (shape[2] - 1) // step[2] + 1, shape[3] - begin[3]]
    return "STRIDED_SLICE", {"begin": begin, "size": size, "step": step, "shape": size}, [shape]


@pytest.mark.parametrize("seed", cases(30))
def test_data_movement_s16(mf: Kernels, seed: int) -> None:
    """int16 tensors through the int8 byte-moving kernels (elements as byte pairs)."""
    rng = np.random.default_rng(7700 + seed)
    kind, attrs, shapes = _moves(rng)
    one = OneOp(kind, attrs)
    xq = q16(rng)
    xs = [data16(rng, s) for s in shapes]
    for x in xs:
        one.input(x, xq)
    call, expected = one.finish(xq, "int16")
    y = np.full(expected.shape, 0x5A5A, dtype=np.int16)
    assert mf.invoke_outputs(call, xs, [y]) == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_one_by_one_agrees_with_general_path(mf: Kernels) -> None:
    """The 1x1 fast path and the general loop give the same bytes (a 1x1 filter padded by 0 on
    the far side takes the general path)."""
    rng = np.random.default_rng(7800)
    one = OneOp("CONV_2D", {"strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
                            "activation": "NONE"})
    xq = q16(rng)
    x = data16(rng, (1, 5, 7, 9))
    wt, wq = weights(rng, (6, 1, 1, 9), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    call, expected = one.finish(out_q16(rng, float(xq.scale[0]), float(wq.scale.mean()), 9), "int16")
    _check(*mf.invoke(call, [x, wt], call.dims["output"], "int16"), expected)
    strided = replace(call, params={**call.params, "stride": (1, 2)},
                      dims={**call.dims, "output": (1, 5, 4, 6)})
    status, y = mf.invoke(strided, [x, wt], (1, 5, 4, 6), "int16")
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected[:, :, ::2])


@pytest.mark.parametrize("seed", cases(30))
def test_softmax_s16(mf: Kernels, seed: int) -> None:
    """TFLM's SoftmaxInt16: input scales from tiny (every difference beyond the exp table) to
    wide, betas other than 1, depths around the edges."""
    rng = np.random.default_rng(7900 + seed)
    shape = (int(rng.integers(1, 4)), int(rng.choice((*CHANNELS, 10, 33, 100))))
    one = OneOp("SOFTMAX", {"beta": float(rng.choice((1.0, 1.0, 0.5, 2.0)))})
    xq = QuantParams(np.float32(10 ** rng.uniform(-5.5, -2.5)), 0)
    x = data16(rng, shape)
    if seed % 3 == 0:  # values close together: many equal to the row maximum
        x = (x // 64).astype(np.int16)
    one.input(x, xq)
    call, expected = one.finish(QuantParams(np.float32(1 / 32768), 0), "int16")
    assert call.kernel == "mf_softmax_s16"
    _check(*mf.invoke(call, [x], shape, "int16"), expected)


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("seed", cases(20))
def test_logistic_tanh_s16(mf: Kernels, kind: str, seed: int) -> None:
    """TFLite's interpolated int16 sigmoid/tanh: the power-of-two input scales (multiplier 3, no
    shift) and general ones (integer multiplier and rounding shift)."""
    rng = np.random.default_rng(8000 + seed)
    scales = (2.0**-12, 2.0**-11, float(10 ** rng.uniform(-5, -2)))
    xq = QuantParams(np.float32(scales[seed % 3]), 0)
    shape = shape4(rng, 6)
    x = data16(rng, shape)
    one = OneOp(kind, {})
    one.input(x, xq)
    call, expected = one.finish(QuantParams(np.float32(1 / 32768), 0), "int16")
    assert call.kernel == f"mf_{kind.lower()}_s16"
    _check(*mf.invoke(call, [x], shape, "int16"), expected)


@pytest.mark.parametrize("seed", cases(20))
def test_resize_nearest_s16(mf: Kernels, seed: int) -> None:
    """Nearest-neighbour resize of int16 pixels through the int8 kernel on bytes."""
    rng = np.random.default_rng(8100 + seed)
    n, h, w, c = shape4(rng, 7)
    size = (int(rng.integers(1, 3 * h + 2)), int(rng.integers(1, 3 * w + 2)))
    align, half = [(False, False), (True, False), (False, True)][seed % 3]
    one = OneOp("RESIZE_NEAREST_NEIGHBOR", {"size": size, "align_corners": align, "half_pixel_centers": half})
    xq = q16(rng)
    x = data16(rng, (n, h, w, c))
    one.input(x, xq)
    call, expected = one.finish(xq, "int16")
    assert call.kernel == "mf_resize_nearest_s8" and call.dims["output"][3] == 2 * c
    _check(*mf.invoke(call, [x], expected.shape, "int16"), expected)
