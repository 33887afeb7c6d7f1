"""The miniature of the paper's Section 5: data, a two-layer network and its mini-batch gradient, batched.

Data: scikit-learn's ``load_digits`` (1797 8×8 grey images, 10 classes, shipped inside the package),
pixels scaled to [0, 1] by 1/16, split once (stratified, ``random_state=0``) into train / validation /
test = 60 / 20 / 20 % (1077 / 360 / 360 images). The paper holds out 10 % of CIFAR's training set for
validation and tests on the official test set (Section 5); digits has no official split, so all three
parts are drawn here, and the same split is used by every run.

Network (one row w ∈ ℝⁿ of a (B, n) array per run): z₁ = x W₁ + b₁, a₁ = max(z₁, 0),
z₂ = a₁ W₂ + b₂, loss ℓ(w; batch) = (1/|batch|) Σᵢ [log Σ_c exp z₂ᵢc − z₂ᵢyᵢ] (cross-entropy, as the
paper's code). Initialisation as PyTorch's ``nn.Linear``: every weight and bias uniform on
±1/√fan_in. The gradient is written by hand (backpropagation) and checked against finite
differences in the tests.

Runs are grouped by seed: rows are seed-major, B = S × R, and the R runs of seed s all see seed s's
mini-batch, so a method's perturbed gradient uses the same mini-batch as its first gradient, as in the
paper's code (davda54/sam's two closures on one batch).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConvcheckError

N_FEATURES = 64
N_CLASSES = 10
SPLIT_SEED = 0
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Digits:
    """The fixed split: ``x_*`` (count, 64) in [0, 1], ``y_*`` (count,) integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_split() -> Digits:
    """``load_digits`` split 60/20/20, stratified, with ``random_state=0`` (the same for every run).

    Raises
    ------
    ConvcheckError : scikit-learn is not installed (``pip install convcheck[experiments]``).
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ConvcheckError("the Section 5 experiments need scikit-learn (its load_digits data set); "
                             "install it with: pip install 'convcheck[experiments]'") from None
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    _, val_fraction, test_fraction = SPLIT_FRACTIONS
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test_fraction, stratify=y,
                                                      random_state=SPLIT_SEED)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest, random_state=SPLIT_SEED)
    return Digits(x_train, y_train, x_val, y_val, x_test, y_test)


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Layout:
    """Where W₁ (64 × hidden), b₁, W₂ (hidden × 10) and b₂ sit in a parameter row of length ``size``."""

    hidden: int

    @property
    def size(self) -> int:
        return N_FEATURES * self.hidden + self.hidden + self.hidden * N_CLASSES + N_CLASSES

    def unpack(self, W: np.ndarray, seeds: int):
        """Views (S, R, ...) of W (S·R, n): W₁ (S,R,64,h), b₁ (S,R,1,h), W₂ (S,R,h,10), b₂ (S,R,1,10)."""
        h = self.hidden
        runs = W.shape[0] // seeds
        cuts = np.cumsum([N_FEATURES * h, h, h * N_CLASSES])
        W = W.reshape(seeds, runs, -1)
        return (W[..., :cuts[0]].reshape(seeds, runs, N_FEATURES, h),
                W[..., cuts[0]:cuts[1]].reshape(seeds, runs, 1, h),
                W[..., cuts[1]:cuts[2]].reshape(seeds, runs, h, N_CLASSES),
                W[..., cuts[2]:].reshape(seeds, runs, 1, N_CLASSES))

    def initial(self, seed: int) -> np.ndarray:
        """One parameter row, PyTorch ``nn.Linear`` initialisation, from ``default_rng([seed, 1])``."""
        rng = np.random.default_rng([seed, 1])
        h = self.hidden
        bound1, bound2 = 1 / np.sqrt(N_FEATURES), 1 / np.sqrt(h)
        return np.concatenate([rng.uniform(-bound1, bound1, N_FEATURES * h), rng.uniform(-bound1, bound1, h),
                               rng.uniform(-bound2, bound2, h * N_CLASSES), rng.uniform(-bound2, bound2, N_CLASSES)])


# ----------------------------------------------------------------------------- network
def logits(layout: Layout, W: np.ndarray, x: np.ndarray):
    """Forward pass. ``x`` (S, m, 64) holds each seed's inputs; returns (z₁, a₁, z₂) of shape (S, R, m, ·)."""
    W1, b1, W2, b2 = layout.unpack(W, x.shape[0])
    z1 = np.matmul(x[:, None], W1) + b1
    a1 = np.maximum(z1, 0.0)
    return z1, a1, np.matmul(a1, W2) + b2


def _softmax_and_loss(z2: np.ndarray, onehot: np.ndarray):
    """Softmax probabilities and the per-run mean cross-entropy (S, R) for one-hot labels (S, m, 10)."""
    shifted = z2 - z2.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    picked = (shifted * onehot[:, None]).sum(axis=-1)
    loss = (np.log(total[..., 0]) - picked).mean(axis=-1)
    return exp / total, loss


def loss_and_grad(layout: Layout, W: np.ndarray, x: np.ndarray, y: np.ndarray):
    """Mean cross-entropy ℓ (S·R,) and its gradient ∇ℓ (S·R, n) on each seed's batch (x (S,m,64), y (S,m)).

    Backpropagation: δ₂ = (softmax(z₂) − onehot(y))/m, ∇W₂ = a₁ᵀδ₂, ∇b₂ = Σᵢ δ₂,
    δ₁ = (δ₂ W₂ᵀ) ⊙ 1[z₁ > 0], ∇W₁ = xᵀδ₁, ∇b₁ = Σᵢ δ₁.
    """
    seeds, m = y.shape
    onehot = np.eye(N_CLASSES)[y]
    z1, a1, z2 = logits(layout, W, x)
    probs, loss = _softmax_and_loss(z2, onehot)
    delta2 = (probs - onehot[:, None]) / m
    _, _, W2, _ = layout.unpack(W, seeds)
    delta1 = np.matmul(delta2, np.swapaxes(W2, -1, -2))
    delta1 *= z1 > 0
    grads = (np.matmul(np.swapaxes(x, -1, -2)[:, None], delta1), delta1.sum(axis=-2, keepdims=True),
             np.matmul(np.swapaxes(a1, -1, -2), delta2), delta2.sum(axis=-2, keepdims=True))
    runs = W.shape[0] // seeds
    flat = np.concatenate([g.reshape(seeds, runs, -1) for g in grads], axis=-1)
    return loss.reshape(-1), flat.reshape(W.shape)


def accuracy(layout: Layout, W: np.ndarray, x: np.ndarray, y: np.ndarray, seeds: int) -> np.ndarray:
    """Fraction of correctly classified examples (S·R,) on one shared set x (m, 64), y (m,)."""
    xs = np.broadcast_to(x, (seeds,) + x.shape)
    _, _, z2 = logits(layout, W, xs)
    return (z2.argmax(axis=-1) == y).mean(axis=-1).reshape(-1)


class MiniBatchProblem:
    """The current mini-batch loss as a convcheck "problem": ``grad(X)`` is ∇ℓ(X; batch of X's seed).

    The methods of :mod:`convcheck.methods` call ``problem.grad`` at perturbed points; with this object
    every call uses the batch set by :meth:`set_batch`, so SAM's second gradient sees the same
    mini-batch as its first. ``calls`` counts gradient evaluations (one per row block per call).
    """

    xp = np

    def __init__(self, layout: Layout, seeds: int):
        self.layout = layout
        self.seeds = seeds
        self.calls = 0
        self._x = self._y = None

    def set_batch(self, x: np.ndarray, y: np.ndarray) -> None:
        """The batch of every seed: x (S, m, 64), y (S, m)."""
        self._x, self._y = x, y

    def loss_and_grad(self, X: np.ndarray):
        self.calls += 1
        return loss_and_grad(self.layout, X, self._x, self._y)

    def grad(self, X: np.ndarray) -> np.ndarray:
        return self.loss_and_grad(X)[1]
