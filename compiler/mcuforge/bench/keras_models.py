"""Models of the kinds users deploy, built the way users build them: tf_keras layers, converted to
int8 by TF's `TFLiteConverter.from_keras_model` at its defaults (free batch dimension,
`Optimize.DEFAULT`, a representative dataset, int8 input and output). Weights are Keras' random
initialization: instruction counts do not depend on training. Each builder names the public model
it follows; the converted files are cached (`mcuforge.build.cache_dir()/bench`), keyed by this
file's text and TensorFlow's version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.build import cache_dir


def speech_tiny_conv(k: Any) -> Any:
    """TensorFlow's micro_speech `tiny_conv`: a 49x40 spectrogram, one 10x8 stride-2 convolution
    of 8 filters (a depthwise layer with channel multiplier 8 after TF's converter, since its
    input has one channel), a dense layer over 4 words."""
    x = k.Input((49, 40, 1))
    y = k.layers.Conv2D(8, (10, 8), strides=2, padding="same", activation="relu")(x)
    return k.Model(x, k.layers.Dense(4, activation="softmax")(k.layers.Flatten()(y)))


def person_gray96(k: Any) -> Any:
    """TFLite Micro's person_detection shape: MobileNetV1 alpha 0.25 on 96x96 grayscale, 2 classes."""
    return k.applications.MobileNet(input_shape=(96, 96, 1), alpha=0.25, weights=None, classes=2)


def gesture_conv1d(k: Any) -> Any:
    """An accelerometer gesture classifier (TFLite Micro's magic_wand kind): 128 samples of 3 axes,
    two 1-D convolutions with max pooling, two dense layers."""
    x = k.Input((128, 3))
    y = k.layers.MaxPooling1D(3)(k.layers.Conv1D(8, 4, padding="same", activation="relu")(x))
    y = k.layers.MaxPooling1D(3)(k.layers.Conv1D(16, 4, padding="same", activation="relu")(y))
    y = k.layers.Dense(16, activation="relu")(k.layers.Flatten()(y))
    return k.Model(x, k.layers.Dense(4, activation="softmax")(y))


def har_dilated_conv1d(k: Any) -> Any:
    """A human-activity classifier on 6 inertial channels: a strided and a dilated 1-D convolution,
    global average pooling, 6 classes."""
    x = k.Input((96, 6))
    y = k.layers.Conv1D(24, 9, strides=2, activation="relu")(x)
    y = k.layers.Conv1D(32, 5, dilation_rate=2, activation="relu")(y)
    return k.Model(x, k.layers.Dense(6, activation="softmax")(k.layers.GlobalAveragePooling1D()(y)))


def kws_dnn(k: Any) -> Any:
    """Hello Edge's keyword-spotting DNN (Zhang et al., 2017): 10x25 MFCC features flattened, three
    dense layers of 144, 12 classes."""
    x = k.Input((250,))
    y = x
    for _ in range(3):
        y = k.layers.Dense(144, activation="relu")(y)
    return k.Model(x, k.layers.Dense(12, activation="softmax")(y))


def unet_small(k: Any) -> Any:
    """A two-level U-Net for 32x32 single-channel segmentation: 3x3 convolutions, max pooling,
    transposed-convolution upsampling, skip concatenations, a 1x1 sigmoid head."""
    x = k.Input((32, 32, 1))

    def block(y: Any, n: int) -> Any:
        conv = k.layers.Conv2D
        return conv(n, 3, padding="same", activation="relu")(conv(n, 3, padding="same", activation="relu")(y))

    c1 = block(x, 8)
    c2 = block(k.layers.MaxPooling2D()(c1), 16)
    c3 = block(k.layers.MaxPooling2D()(c2), 32)
    u2 = k.layers.Conv2DTranspose(16, 2, strides=2)(c3)
    d2 = block(k.layers.Concatenate()([u2, c2]), 16)
    u1 = k.layers.Conv2DTranspose(8, 2, strides=2)(d2)
    d1 = block(k.layers.Concatenate()([u1, c1]), 8)
    return k.Model(x, k.layers.Conv2D(1, 1, activation="sigmoid")(d1))


def ds_cnn_1d_audio(k: Any) -> Any:
    """A raw-audio 1-D depthwise-separable network (keyword spotting on 1 s of 8 kHz audio framed
    to 125x64): a strided 1-D convolution, then depthwise (kernel 9) and pointwise pairs."""
    x = k.Input((125, 64))
    y = k.layers.Conv1D(32, 5, strides=2, padding="same", activation="relu")(x)
    for n in (32, 64, 64):
        y = k.layers.SeparableConv1D(n, 9, padding="same", activation="relu")(y)
    return k.Model(x, k.layers.Dense(12, activation="softmax")(k.layers.GlobalAveragePooling1D()(y)))


USER_MODELS: dict[str, Callable[[Any], Any]] = {
    "speech_tiny_conv": speech_tiny_conv, "person_gray96": person_gray96,
    "gesture_conv1d": gesture_conv1d, "har_dilated_conv1d": har_dilated_conv1d, "kws_dnn": kws_dnn,
    "unet_small": unet_small, "ds_cnn_1d_audio": ds_cnn_1d_audio,
}


def converted(name: str) -> Path:
    """The int8 TFLite file of USER_MODELS[name], converted once and cached."""
    def build(tf: Any, k: Any) -> bytes:
        model = USER_MODELS[name](k)
        return _int8(tf, model, model.inputs[0].shape[1:])

    return _cached(name, build)


def lstm(steps: int) -> Path:
    """A tf_keras LSTM(32) over `steps` steps of 16 features with a dense head, int8 by TF's
    converter (batch 1, as the fused UNIDIRECTIONAL_SEQUENCE_LSTM needs). With one step and its
    state tensors variable, mcuforge compiles it as a streaming LSTM (state kept between calls)."""
    def build(tf: Any, k: Any) -> bytes:
        x = k.Input((steps, 16), batch_size=1)
        return _int8(tf, k.Model(x, k.layers.Dense(8)(k.layers.LSTM(32)(x))), (steps, 16))

    return _cached(f"lstm{steps}", build)


def _int8(tf: Any, model: Any, shape: tuple[int, ...]) -> bytes:
    rng = np.random.default_rng(0)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.standard_normal((1, *shape)).astype(np.float32)]
                                           for _ in range(32))
    conv.inference_input_type = conv.inference_output_type = tf.int8
    return conv.convert()


def _cached(name: str, build: Callable[[Any, Any], bytes]) -> Path:
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf
        import tf_keras as k

        digest = hashlib.sha256(Path(__file__).read_bytes() + tf.__version__.encode()).hexdigest()[:16]
        path = cache_dir() / "bench" / f"{name}-{digest}.tflite"
        if path.exists():
            return path
        k.utils.set_random_seed(0)
        data = build(tf, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
