"""Small Keras models and their TFLite conversions (float and int8), shared by the tests.

`keras_zoo()` names a builder per model; each exercises a few TFLite builtins with odd channel
counts. `converted(name, int8)` converts a zoo model once per test session: TensorFlow's converter
takes about a second per model, so tests share the flatbuffers instead of converting again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from mcuforge.importers.keras_import import quiet_tensorflow

CALIB_SAMPLES = 16


def _keras() -> Any:
    with quiet_tensorflow():
        import tensorflow as tf

    return tf.keras


def residual() -> Any:
    """conv, residual ADD, relu, global average pooling (MEAN), dense head with softmax."""
    k = _keras()
    x = k.Input((8, 8, 3), batch_size=1)
    a = k.layers.Conv2D(7, 3, padding="same", activation="relu")(x)
    b = k.layers.Conv2D(7, 3, padding="same")(a)
    y = k.layers.ReLU()(k.layers.Add()([a, b]))
    y = k.layers.GlobalAveragePooling2D()(y)
    return k.Model(x, k.layers.Dense(5, activation="softmax")(y))


def depthwise() -> Any:
    """depthwise conv with depth_multiplier 2 and stride 2, relu6, 1x1 conv, max and average pool."""
    k = _keras()
    x = k.Input((9, 9, 3), batch_size=1)
    y = k.layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)(x)
    y = k.layers.ReLU(6.0)(y)
    y = k.layers.Conv2D(5, 1)(y)
    y = k.layers.MaxPooling2D(2, strides=1)(y)
    return k.Model(x, k.layers.AveragePooling2D(2, padding="same")(y))


def dilated() -> Any:
    """dilated conv, leaky relu, prelu."""
    k = _keras()
    x = k.Input((10, 10, 2), batch_size=1)
    y = k.layers.Conv2D(6, 3, dilation_rate=2, padding="same")(x)
    y = k.layers.LeakyReLU(negative_slope=0.2)(y)
    y = k.layers.Conv2D(3, 3)(y)
    return k.Model(x, k.layers.PReLU(shared_axes=[1, 2])(y))


def conv1d() -> Any:
    """Conv1D (CONV_2D with H=1 between reshapes), 1-D max pooling, flatten, dense."""
    k = _keras()
    x = k.Input((16, 4), batch_size=1)
    y = k.layers.Conv1D(6, 3, activation="relu")(x)
    y = k.layers.MaxPooling1D(2)(y)
    y = k.layers.Flatten()(y)
    return k.Model(x, k.layers.Dense(3)(y))


def sigmoid_tanh() -> Any:
    """dense over a rank-3 input, tanh, flatten, dense with sigmoid."""
    k = _keras()
    x = k.Input((4, 6), batch_size=1)
    y = k.layers.Dense(5, activation="tanh")(x)
    y = k.layers.Flatten()(y)
    return k.Model(x, k.layers.Dense(3, activation="sigmoid")(y))


def concat_pad() -> Any:
    """asymmetric zero padding, two conv branches joined by CONCATENATION on channels."""
    k = _keras()
    x = k.Input((6, 7, 3), batch_size=1)
    p = k.layers.ZeroPadding2D(((1, 0), (2, 1)))(x)
    a = k.layers.Conv2D(4, 3, padding="same")(p)
    b = k.layers.Conv2D(3, 1, activation="relu")(p)
    return k.Model(x, k.layers.Concatenate()([a, b]))


def hard_swish() -> Any:
    """conv then a hard-swish activation layer."""
    k = _keras()
    x = k.Input((6, 6, 3), batch_size=1)
    y = k.layers.Conv2D(5, 3, padding="same")(x)
    return k.Model(x, k.layers.Activation("hard_swish")(y))


def keras_zoo() -> dict[str, Callable[[], Any]]:
    return {f.__name__: f for f in (residual, depthwise, dilated, conv1d, sigmoid_tanh, concat_pad,
                                    hard_swish)}


@functools.cache
def keras_model(name: str) -> Any:
    """A zoo model with seeded weights (the same every session)."""
    k = _keras()
    k.utils.set_random_seed(len(name))
    return keras_zoo()[name]()


def sample_inputs(model: Any, count: int, seed: int = 0) -> np.ndarray:
    """Random float inputs for a single-input model, shape (count, *input shape)."""
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).normal(0.0, 1.0, (count, *shape)).astype(np.float32)


def to_tflite(model: Any, int8: bool, calib: np.ndarray | None = None) -> bytes:
    """A TFLite flatbuffer of `model`: float, or full int8 (int8 input and output) calibrated on
    `calib` (samples along the first axis)."""
    with quiet_tensorflow():
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if int8:
            assert calib is not None, "int8 conversion needs calibration samples"
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([s[None]] for s in calib)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        return bytes(converter.convert())


@functools.cache
def converted(name: str, int8: bool) -> bytes:
    """The zoo model `name` as TFLite, converted once per session."""
    model = keras_model(name)
    return to_tflite(model, int8, sample_inputs(model, CALIB_SAMPLES, seed=1) if int8 else None)
