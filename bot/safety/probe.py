"""A linear read-out of sentence vectors: multinomial logistic regression, trained ahead of time.

Trained by `python -m bot.safety.exemplars build` on the exemplars and the tuned evaluation sets, never on
an unseen one; at run time it is one matrix product. Pure numpy; the training is deterministic (full batch,
fixed steps, no randomness), and classes are weighted so that a label with few phrases still counts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SCALE", "probabilities", "train"]

SCALE = 20.0  # cosine-sized inputs scaled so that a small weight can separate them
_STEPS = 600
_RATE = 0.1
_L2 = 1e-3


def probabilities(weight: Any, bias: Any, vectors: Any) -> Any:
    """Softmax over labels for one vector (n,) or many (m, n)."""
    import numpy as np

    z = (np.asarray(vectors, dtype=np.float32) * SCALE) @ weight + bias
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def train(vectors: Any, targets: list[int], n_labels: int) -> tuple[Any, Any]:
    """Weights (n, labels) and bias (labels,), by Adam on the class-weighted cross-entropy."""
    import numpy as np

    x = np.asarray(vectors, dtype=np.float64) * SCALE
    y = np.asarray(targets)
    n, dim = x.shape
    counts = np.bincount(y, minlength=n_labels).astype(np.float64)
    sample = (n / (n_labels * np.maximum(counts, 1.0)))[y]
    sample /= sample.sum()
    params = [np.zeros((dim, n_labels)), np.zeros(n_labels)]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for step in range(1, _STEPS + 1):
        z = x @ params[0] + params[1]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(n), y] -= 1.0
        p *= sample[:, None]
        grads = [x.T @ p + _L2 * params[0], p.sum(axis=0)]
        for param, grad, m, v in zip(params, grads, first, second, strict=True):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= _RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params[0].astype(np.float32), params[1].astype(np.float32)
