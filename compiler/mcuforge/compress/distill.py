"""Knowledge distillation and fine-tuning: one training loop for both.

The student minimises  a * CE(labels, s) + (1 - a) * T^2 * KL(softmax(t / T) || softmax(s / T))
over the training set, where s and t are the student's and teacher's logits (Hinton et al.);
the T^2 keeps the soft term's gradients on the scale of the hard one. Without a teacher
(a = 1) it is plain fine-tuning. Models that end in a softmax are handled by taking log
probabilities as logits: softmax(log p / T) equals softmax(logits / T) up to the constant shift
a softmax ignores.

`after_batch` runs after every optimizer step: pruning re-applies its masks there, clustering
pulls weights back to their centroids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .keras_graph import ends_in_softmax, keras_module

EPS = 1e-7


@dataclass
class DistillConfig:
    epochs: int = 10
    temperature: float = 4.0
    alpha: float = 0.5  # weight of the hard-label cross-entropy
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0
    progress: bool = False


def _logits(model: Any, x: Any, training: bool) -> Any:
    import tensorflow as tf

    y = model(x, training=training)
    return tf.math.log(tf.clip_by_value(y, EPS, 1.0)) if ends_in_softmax(model) else y


def predict_logits(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    return np.concatenate([np.asarray(_logits(model, x[i:i + batch_size], False))
                           for i in range(0, len(x), batch_size)])


def train_student(student: Any, x: np.ndarray, y: np.ndarray, teacher: Any | None = None,
                  config: DistillConfig | None = None,
                  after_batch: Callable[[], None] | None = None) -> list[float]:
    """Train `student` in place; returns the mean loss of each epoch."""
    import tensorflow as tf

    cfg = config or DistillConfig()
    keras = keras_module(student)
    keras.utils.set_random_seed(cfg.seed)
    alpha = 1.0 if teacher is None else cfg.alpha
    t = float(cfg.temperature)
    soft = tf.nn.softmax(predict_logits(teacher, x) / t) if teacher is not None else None
    opt = keras.optimizers.Adam(learning_rate=cfg.learning_rate)
    rng = np.random.default_rng(cfg.seed)
    x_t = tf.constant(x)
    y_t = tf.constant(np.asarray(y).astype(np.int64))

    @tf.function
    def step(idx: Any) -> Any:
        xb, yb = tf.gather(x_t, idx), tf.gather(y_t, idx)
        with tf.GradientTape() as tape:
            s = _logits(student, xb, True)
            hard = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, s))
            loss = alpha * hard
            if soft is not None:
                p = tf.gather(soft, idx)
                log_q = tf.nn.log_softmax(s / t)
                log_p = tf.math.log(tf.clip_by_value(p, EPS, 1.0))
                kl = tf.reduce_mean(tf.reduce_sum(p * (log_p - log_q), axis=1))
                loss += (1.0 - alpha) * t * t * kl
        grads = tape.gradient(loss, student.trainable_variables)
        opt.apply_gradients(zip(grads, student.trainable_variables))
        return loss

    history = []
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(x))
        batches = [order[i:i + cfg.batch_size] for i in range(0, len(x), cfg.batch_size)]
        bar = None
        if cfg.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(batches), desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False)
        losses = []
        for b in batches:
            losses.append(float(step(tf.constant(b))))
            if after_batch is not None:
                after_batch()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(losses):.4f}")
        if bar is not None:
            bar.close()
        history.append(float(np.mean(losses)))
    return history


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict_logits(model, x).argmax(axis=1) == np.asarray(y)))
