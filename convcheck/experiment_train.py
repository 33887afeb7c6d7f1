"""Training for the Section 5 miniature: per-epoch step sizes and SGD with momentum around each method.

Step sizes (Section 5; held for a whole epoch, n = 1, 2, ... the 1-based epoch):

==================  ==========================================================================
``constant:t``      t (grid {0.1, 0.01, 0.001}; the best on the validation split is reported)
``diminish1``       η₁ / n                                     (paper's formula = the code)
``diminish2``       η₁ / n^0.5001                              (paper's formula)
``diminish3``       η₁ / (m ln m),  m = ⌊n/5⌋ + 2               (paper's formula)
``diminish2-code``  η₁ at n = 1, then η₁ / (n − 1)^0.5001       (the authors' code: one epoch late)
``diminish3-code``  η₁ at n = 1, then η₁ / (m ln m), m = ⌊(n − 2)/5⌋ + 3   (the authors' code)
==================  ==========================================================================

η₁ = 0.1. The paper's formulas are :func:`convcheck.schedules.diminish1` … ``diminish3`` evaluated at
the epoch; the code's forms are the same functions at a shifted epoch: Diminish 2 at max(n − 1, 1),
Diminish 3 at n + 3 for n ≥ 2 (its counter starts at m = 3 after the first epoch) and η₁ at n = 1.

Update (the paper's code: SAM's gradient fed to ``torch.optim.SGD(lr=t, momentum=μ,
weight_decay=λ)``), for iteration k in epoch n with mini-batch ℬ_k:

    D_k     = the method's direction on ℬ_k   (SGD: ∇ℓ(w_k; ℬ_k); SAM: ∇ℓ(w_k + ρ g_k/(‖g_k‖ + ε); ℬ_k), …)
    h_k     = D_k + λ w_k                    (weight decay λ = 10⁻³ on the unperturbed weights)
    b_k     = μ b_{k−1} + h_k,  b_0 = 0      (heavy-ball buffer; PyTorch's b_1 = h_1 is the same)
    w_{k+1} = w_k − t_n b_k

with ρ = 0.05 held constant and μ ∈ {0.9 (Section 5), 0 (Appendix F)}. With μ = λ = 0 this is the
paper's method x^{k+1} = x^k − t_k D_k exactly. D_k is :meth:`Method.direction_step` of
:mod:`convcheck.methods` (one definition of each method) on a :class:`MiniBatchProblem`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import methods as method_lib
from . import schedules
from .errors import SpecError
from .experiment_net import Digits, Layout, MiniBatchProblem, accuracy
from .methods import row_norms

ETA1 = 0.1
CONSTANT_GRID = (0.1, 0.01, 0.001)
DIMINISHING = ("diminish1", "diminish2", "diminish3", "diminish2-code", "diminish3-code")
#: the methods and their parameters: the defaults of each method's own code and the ε of its normalisation
EXPERIMENT_METHODS = {
    "sgd": lambda: method_lib.gd(),
    "sam": lambda: method_lib.sam(eps_guard=1e-12),
    "usam": lambda: method_lib.usam(),
    "vasso": lambda: method_lib.vasso(theta=0.9, eps_guard=1e-7),
    "fsam": lambda: method_lib.fsam(sigma=1.0, lam=0.9, order="code", eps_guard=1e-12),
    "rsam": lambda: method_lib.rsam(sigma=0.01, lam=1.0, eps_guard=1e-12),
}
METHOD_LABELS = {"sgd": "SGD", "sam": "SAM", "usam": "USAM", "vasso": "VaSSO", "fsam": "F-SAM", "rsam": "RSAM"}


# ----------------------------------------------------------------------------- step sizes per epoch
def epoch_steps(schedule: str, epochs: int, eta1: float = ETA1) -> np.ndarray:
    """Step size of each epoch n = 1..epochs for a schedule name of the table above (``constant:t`` too)."""
    n = np.arange(1, epochs + 1)
    if schedule.startswith("constant:"):
        return schedules.constant(float(schedule.split(":", 1)[1])).values(n)
    paper = {"diminish1": schedules.diminish1, "diminish2": schedules.diminish2,
             "diminish3": schedules.diminish3}
    base, _, variant = schedule.partition("-")
    if base not in paper or variant not in ("", "code"):
        raise SpecError(f"unknown experiment schedule {schedule!r}; accepted: constant:t, "
                        + ", ".join(DIMINISHING))
    formula = paper[base](eta1)
    if not variant or base == "diminish1":
        return formula.values(n)
    shifted = np.maximum(n - 1, 1) if base == "diminish2" else n + 3
    return np.where(n == 1, eta1, formula.values(shifted))


def schedule_names(grid=CONSTANT_GRID) -> list:
    """The schedules every method is trained with: the constant grid, then the diminishing ones."""
    return [f"constant:{value:g}" for value in grid] + list(DIMINISHING)


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class ExperimentConfig:
    """Sizes and hyper-parameters of one experiment (defaults: the full run)."""

    epochs: int = 200
    batch_size: int = 32
    hidden: int = 32
    seeds: tuple = (0, 1, 2)
    momenta: tuple = (0.9, 0.0)
    methods: tuple = tuple(EXPERIMENT_METHODS)
    constant_grid: tuple = CONSTANT_GRID
    eta1: float = ETA1
    rho: float = 0.05
    weight_decay: float = 1e-3
    name: str = "full"

    def __post_init__(self):
        unknown = [m for m in self.methods if m not in EXPERIMENT_METHODS]
        if unknown:
            raise SpecError(f"unknown experiment method(s) {', '.join(unknown)}; accepted: "
                            + ", ".join(EXPERIMENT_METHODS))
        if self.epochs < 1 or self.batch_size < 1 or self.hidden < 1 or not self.seeds or not self.momenta:
            raise SpecError("an experiment needs epochs, batch_size and hidden ≥ 1 and at least one seed "
                            "and one momentum")

    @property
    def schedules(self) -> list:
        return schedule_names(self.constant_grid)

    def to_dict(self) -> dict:
        return {"name": self.name, "epochs": self.epochs, "batch_size": self.batch_size, "hidden": self.hidden,
                "seeds": list(self.seeds), "momenta": list(self.momenta), "methods": list(self.methods),
                "schedules": self.schedules, "constant_grid": list(self.constant_grid), "eta1": self.eta1,
                "rho": self.rho, "weight_decay": self.weight_decay}


@dataclass
class History:
    """Per-epoch records of one method's runs; arrays (epochs, S, M, C) over seeds × momenta × schedules.

    ``train_loss`` is the mean mini-batch loss at the unperturbed weights over the epoch (what the
    paper's code logs), ``step`` the step size used in the epoch, ``val_acc``/``test_acc`` the
    accuracies after the epoch; ``diverged`` (S, M, C) marks runs whose weights became non-finite;
    ``final_weights`` (S·M·C, n) the weights after the last epoch, rows seed-major.
    """

    method: str
    train_loss: np.ndarray
    val_acc: np.ndarray
    test_acc: np.ndarray
    step: np.ndarray
    diverged: np.ndarray
    gradient_calls_per_step: int = 0
    final_weights: np.ndarray = field(default=None, repr=False)


# ----------------------------------------------------------------------------- one optimisation step
def optimizer_step(method, problem: MiniBatchProblem, W, buffer, state, step, momentum, weight_decay, rho,
                   noise, k):
    """One iteration of the update in the module docstring; returns (w_{k+1}, b_k, state, ℓ(w_k; ℬ_k)).

    ``step``, ``momentum`` and ``rho`` are (B, 1) columns; ``buffer`` is b_{k−1} (zeros before k = 1).
    """
    loss, G = problem.loss_and_grad(W)
    D, state = method.direction_step(problem, W, G, row_norms(np, G), step, rho, state, noise, k)
    buffer = momentum * buffer + (D + weight_decay * W)
    return W - step * buffer, buffer, state, loss


def _batches(rng_per_seed: list, count: int, size: int):
    """Each seed's shuffled order of the training set cut into batches (the last one may be smaller)."""
    orders = np.stack([rng.permutation(count) for rng in rng_per_seed])
    return [orders[:, start:start + size] for start in range(0, count, size)]


def train_method(config: ExperimentConfig, data: Digits, method_name: str) -> History:
    """Train ``method_name`` for every seed × momentum × schedule of ``config`` as one (B, n) program.

    Rows are seed-major (B = S × M × C). Seed s fixes the initial weights, the order of the mini-batches
    and RSAM's noise, the same for every method, momentum and schedule (paired comparisons).
    """
    method = EXPERIMENT_METHODS[method_name]()
    layout = Layout(config.hidden)
    S, M, C = len(config.seeds), len(config.momenta), len(config.schedules)
    runs = M * C
    W = np.repeat(np.stack([layout.initial(seed) for seed in config.seeds]), runs, axis=0)
    steps = np.stack([epoch_steps(s, config.epochs, config.eta1) for s in config.schedules], axis=1)  # (E, C)
    step_rows = np.broadcast_to(steps[:, None, None, :], (config.epochs, S, M, C)).reshape(config.epochs, -1, 1)
    momentum = np.broadcast_to(np.asarray(config.momenta, float)[None, :, None], (S, M, C)).reshape(-1, 1)
    rho = np.full((W.shape[0], 1), config.rho)
    buffer = np.zeros_like(W)
    state = method.init_state(np, None)
    problem = MiniBatchProblem(layout, S)
    shuffles = [np.random.default_rng([seed, 2]) for seed in config.seeds]
    noise_rngs = [np.random.default_rng([seed, 3]) for seed in config.seeds]
    shape = (config.epochs, S, M, C)
    records = {key: np.empty(shape) for key in ("train_loss", "val_acc", "test_acc")}
    diverged = np.zeros(W.shape[0], dtype=bool)
    k = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(config.epochs):
            t = np.ascontiguousarray(step_rows[epoch])
            loss_sum = np.zeros(W.shape[0])
            for batch in _batches(shuffles, len(data.y_train), config.batch_size):
                k += 1
                problem.set_batch(data.x_train[batch], data.y_train[batch])
                noise = [np.repeat(np.stack([rng.standard_normal(layout.size) for rng in noise_rngs]), runs, axis=0)
                         for _ in range(method.noise_dim)]
                W, buffer, state, loss = optimizer_step(method, problem, W, buffer, state, t, momentum,
                                                        config.weight_decay, rho, noise, k)
                loss_sum += loss * batch.shape[1]
            diverged |= ~np.isfinite(W).all(axis=1)
            records["train_loss"][epoch] = (loss_sum / len(data.y_train)).reshape(S, M, C)
            records["val_acc"][epoch] = accuracy(layout, W, data.x_val, data.y_val, S).reshape(S, M, C)
            records["test_acc"][epoch] = accuracy(layout, W, data.x_test, data.y_test, S).reshape(S, M, C)
    calls = problem.calls // max(k, 1)
    return History(method_name, records["train_loss"], records["val_acc"], records["test_acc"],
                   np.broadcast_to(steps[:, None, None, :], shape).copy(), diverged.reshape(S, M, C), calls, W)
