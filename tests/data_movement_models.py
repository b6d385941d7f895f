"""Keras and PyTorch models that put data-movement and shape ops where users put them (tflite-import).

`KERAS` names a builder per model: (input shape, body, oracle, TFLite builtins the conversion must
contain). Each is converted by TensorFlow's converter at its defaults (batch left free) and with
batch 1. The oracle is TFLite Micro, or TFLite's BUILTIN_REF kernels where TFLite Micro is wrong
(space-to-batch in int8 pads with 0 instead of the zero point), or TFLite's default interpreter
(within 1 LSB) where neither has the op (TILE).
`TORCH` names PyTorch modules exported with torch.onnx.export, checked against onnxruntime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mcuforge.importers.keras_import import quiet_tensorflow

CALIB = 24


def tf() -> Any:
    with quiet_tensorflow():
        import tensorflow

    return tensorflow


@dataclass(frozen=True)
class KerasCase:
    shape: tuple[int, ...]
    body: Callable[[Any], Any]
    oracle: str  # "tflm", "builtin_ref" or "default"
    builtins: frozenset[str]  # in the free-batch conversion


def _L() -> Any:
    return tf().keras.layers


def _lambda(fn: Callable[[Any], Any]) -> Any:
    return _L().Lambda(fn)


def flatten_cnn(x: Any) -> Any:
    y = _L().Conv2D(6, 3, activation="relu")(x)
    y = _L().MaxPooling2D()(y)
    return _L().Dense(10)(_L().Flatten()(y))


def reshape_head(x: Any) -> Any:
    y = _L().Conv2D(8, 1)(x)
    y = _L().Reshape((-1, 8))(y)
    y = _L().Dense(5)(y)
    return _L().Dense(4)(_L().Flatten()(y))


def split_concat(x: Any) -> Any:
    y = _L().Conv2D(12, 1)(x)
    a, b, c = _lambda(lambda t: tf().split(t, 3, axis=-1))(y)
    b = _L().DepthwiseConv2D(3, padding="same")(b)
    c = _L().Conv2D(4, 1)(c)
    return _L().Concatenate()([c, a, b])


def split_v(x: Any) -> Any:
    y = _L().Conv2D(12, 1)(x)
    a, b, c = _lambda(lambda t: tf().split(t, [2, 6, 4], axis=-1))(y)
    top, bottom = _lambda(lambda t: tf().split(t, [3, 4], axis=1))(b)
    mixed = a[:, :, :, :2] + c[:, :, :, 2:]
    return _L().Concatenate(axis=1)([_L().Conv2D(2, 1)(bottom), _L().Conv2D(2, 1)(top), mixed])


def strided(x: Any) -> Any:
    y = _L().Conv2D(6, 1)(x)
    a = _lambda(lambda t: t[:, 1:-1, ::2, :])(y)
    b = _lambda(lambda t: t[:, ::-1, -2::-2, 1:5])(y)
    c = _lambda(lambda t: t[:, 2, :, :])(y)  # shrink_axis
    flat = [_L().Flatten()(t) for t in (a, b, c)]
    return _L().Dense(6)(_L().Concatenate()(flat))


def slice_(x: Any) -> Any:
    y = _L().Conv2D(5, 3, padding="same")(x)
    s = _lambda(lambda t: tf().slice(t, [0, 1, 2, 1], [-1, 4, 3, -1]))(y)
    return _L().Conv2D(3, 1)(s)


def unstack_stack(x: Any) -> Any:
    y = _L().Conv2D(4, 1)(x)
    rows = _lambda(lambda t: tf().unstack(t, axis=1))(y)
    rows = [_L().Dense(3)(r) for r in rows[:3]]
    return _lambda(lambda rs: tf().stack(rs, axis=2))(rows)


def gather(x: Any) -> Any:
    y = _L().Conv2D(6, 1)(x)
    a = _lambda(lambda t: tf().gather(t, [3, 0, 5, 5, 1], axis=3))(y)
    b = _lambda(lambda t: tf().gather(t, [4, 0, 1], axis=1))(a)
    return _L().Conv2D(4, 1)(b)


def tile(x: Any) -> Any:
    y = _L().Conv2D(4, 3, padding="same")(x)
    y = _L().MaxPooling2D()(y)
    y = _L().UpSampling2D()(y)
    t = _lambda(lambda t: tf().tile(t, [1, 1, 2, 1]))(y)
    return _L().Conv2D(3, 1)(t)


def depth_space(x: Any) -> Any:
    y = _lambda(lambda t: tf().nn.space_to_depth(t, 2))(x)
    y = _L().Conv2D(12, 1)(y)
    return _lambda(lambda t: tf().nn.depth_to_space(t, 2))(y)


def dilated2d(x: Any) -> Any:
    y = _L().Conv2D(6, 3, dilation_rate=2, padding="same", activation="relu")(x)
    y = _L().DepthwiseConv2D(3, dilation_rate=(1, 3), padding="same")(y)
    return _L().Conv2D(5, 3, dilation_rate=3, padding="valid")(y)


def dilated1d(x: Any) -> Any:
    y = _L().Conv1D(6, 3, dilation_rate=2, padding="same", activation="relu")(x)
    y = _L().Conv1D(4, 5, dilation_rate=4, padding="same")(y)
    return _L().Conv1D(3, 2, dilation_rate=3, padding="causal")(y)


def space_batch(x: Any) -> Any:
    y = _L().Conv2D(4, 1)(x)
    s = _L().Lambda(lambda t: tf().space_to_batch_nd(t, [2, 2], [[1, 1], [1, 0]]), output_shape=(4, 3, 4))(y)
    s = _L().MaxPooling2D(2, strides=1, padding="same")(s)
    return _L().Lambda(lambda t: tf().batch_to_space(t, [2, 2], [[1, 1], [1, 0]]), output_shape=(6, 5, 4))(s)


def broadcast(x: Any) -> Any:
    y = _L().Conv2D(4, 1)(x)
    row = _lambda(lambda t: tf().broadcast_to(t[:, :1], tf().shape(t)))(y)
    return _L().Conv2D(3, 1)(_L().Concatenate()([y, row]))


def shuffle5d(x: Any) -> Any:
    y = _L().Conv2D(12, 1)(x)
    y = _L().Reshape((5, 4, 3, 4))(y)
    y = _L().Permute((1, 2, 4, 3))(y)
    y = _L().Reshape((5, 4, 12))(y)
    return _L().DepthwiseConv2D(3)(y)


def mirror_pad(x: Any) -> Any:
    y = _L().Conv2D(4, 1)(x)
    r = _lambda(lambda t: tf().pad(t, [[0, 0], [2, 1], [1, 3], [0, 0]], mode="REFLECT"))(y)
    s = _lambda(lambda t: tf().pad(t, [[0, 0], [1, 2], [3, 1], [0, 0]], mode="SYMMETRIC"))(y)
    return _L().Conv2D(3, 3)(_L().Concatenate()([r, s]))


S2B = frozenset({"SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"})
KERAS: dict[str, KerasCase] = {
    "flatten_cnn": KerasCase((12, 12, 3), flatten_cnn, "tflm", frozenset({"SHAPE", "STRIDED_SLICE", "PACK"})),
    "reshape_head": KerasCase((6, 5, 3), reshape_head, "tflm", frozenset({"SHAPE", "RESHAPE"})),
    "split_concat": KerasCase((7, 9, 4), split_concat, "tflm", frozenset({"SPLIT"})),
    "split_v": KerasCase((7, 5, 3), split_v, "tflm", frozenset({"SPLIT_V"})),
    "strided": KerasCase((6, 9, 3), strided, "tflm", frozenset({"STRIDED_SLICE"})),
    "slice": KerasCase((8, 7, 2), slice_, "tflm", frozenset({"SLICE"})),
    "unstack_stack": KerasCase((3, 5, 4), unstack_stack, "tflm", frozenset({"UNPACK", "PACK"})),
    "gather": KerasCase((6, 4, 3), gather, "tflm", frozenset({"GATHER"})),
    "tile": KerasCase((8, 6, 3), tile, "default", frozenset({"TILE"})),
    "depth_space": KerasCase((8, 6, 3), depth_space, "tflm", frozenset({"SPACE_TO_DEPTH", "DEPTH_TO_SPACE"})),
    "dilated2d": KerasCase((13, 11, 3), dilated2d, "builtin_ref", S2B),
    "dilated1d": KerasCase((29, 3), dilated1d, "builtin_ref", S2B),
    "space_batch": KerasCase((6, 5, 3), space_batch, "builtin_ref", S2B),
    "broadcast": KerasCase((5, 6, 3), broadcast, "tflm", frozenset({"BROADCAST_TO"})),
    "shuffle5d": KerasCase((5, 4, 3), shuffle5d, "tflm", frozenset({"TRANSPOSE"})),
    "mirror_pad": KerasCase((6, 5, 3), mirror_pad, "tflm", frozenset({"MIRROR_PAD"})),
}


def keras_model(name: str, batch: int | None) -> Any:
    case = KERAS[name]
    keras = tf().keras
    keras.utils.set_random_seed(len(name))
    x = keras.Input(case.shape, batch_size=batch)
    return keras.Model(x, case.body(x))


def inputs(name: str, count: int, seed: int) -> np.ndarray:
    shape = KERAS[name].shape
    return (2.0 * np.random.default_rng(seed).normal(size=(count, *shape))).astype(np.float32)


def to_int8_tflite(model: Any, calib: np.ndarray) -> bytes:
    """TF's converter at its defaults plus full int8 (int8 input and output), as the cases do."""
    converter = tf().lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf().lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([s[None]] for s in calib)
    converter.target_spec.supported_ops = [tf().lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf().int8
    converter.inference_output_type = tf().int8
    with quiet_tensorflow():
        return bytes(converter.convert())


# -- PyTorch ---------------------------------------------------------------------------------------


def torch_modules() -> dict[str, tuple[Any, tuple[int, ...], frozenset[str]]]:
    """name -> (module, input shape NCHW, ONNX op types the export must contain)."""
    import torch
    from torch import nn

    torch.manual_seed(0)  # the modules' default initialisation, the same every time

    class SliceSplit(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)
            self.a = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)[:, :, 1:-1, ::2]
            a, b = torch.chunk(y, 2, dim=1)
            c, d = torch.split(b, [1, 3], dim=1)
            return torch.cat([self.a(a), d, c], dim=1)

    class GatherHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 3)
            self.fc = nn.Linear(3 * 4 * 4 + 4 * 4, 5)
            self.register_buffer("idx", torch.tensor([5, 0, 2]))

        def forward(self, x: Any) -> Any:
            y = torch.relu(self.conv(x))
            a = torch.index_select(y, 1, self.idx)
            b = y[:, 3]
            return self.fc(torch.cat([a.flatten(1), b.flatten(1)], dim=1))

    class TileExpand(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.out = nn.Conv2d(8, 3, 1)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            t = y.repeat(1, 1, 2, 1)[:, :, : y.shape[2] * 2 - 1]
            g = y.mean(dim=(2, 3), keepdim=True).expand(-1, -1, t.shape[2], t.shape[3])
            return self.out(torch.cat([t, g], dim=1))

    class PixelShuffles(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(12, 12, 1)
            self.down = nn.PixelUnshuffle(2)
            self.up = nn.PixelShuffle(2)

        def forward(self, x: Any) -> Any:
            return self.up(self.conv(self.down(x)))

    class ChannelShuffle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 12, 1)
            self.dw = nn.Conv2d(12, 12, 3, padding=1, groups=12)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            n, c, h, w = y.shape
            y = y.view(n, 3, c // 3, h, w).transpose(1, 2).reshape(n, c, h, w)
            return self.dw(y)

    class BorderPads(nn.Module):  # Pad modes reflect, edge (replicate) and, from opset 19, wrap
        def __init__(self) -> None:
            super().__init__()
            self.reflect = nn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect")
            self.edge = nn.Conv2d(4, 4, 3, padding=1, padding_mode="replicate")

        def forward(self, x: Any) -> Any:
            y = torch.relu(self.reflect(x))
            return self.edge(torch.nn.functional.pad(y, (1, 0, 2, 1), mode="reflect"))

    return {
        "border_pads": (BorderPads(), (1, 3, 7, 6), frozenset({"Pad"})),
        "slice_split": (SliceSplit(), (1, 3, 8, 10), frozenset({"Slice", "Split"})),
        "gather_head": (GatherHead(), (1, 3, 6, 6), frozenset({"Gather"})),
        "tile_expand": (TileExpand(), (1, 3, 5, 4), frozenset({"Tile", "Expand"})),
        "pixel_shuffle": (PixelShuffles(), (1, 3, 8, 6), frozenset({"DepthToSpace"})),
        "channel_shuffle": (ChannelShuffle(), (1, 3, 6, 7), frozenset({"Transpose"})),
    }
