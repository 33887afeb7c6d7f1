"""Section 5 in miniature: SAM and its variants under constant and diminishing step sizes on ``load_digits``.

The paper (Section 5, Appendix F, Figure 2, Tables 4–6) trains ResNets on CIFAR with SAM under a
constant step size and Diminish 1–3 and reports that diminishing step sizes beat the best constant
one in test accuracy and training loss, Diminish 3 most often. This module runs the same comparison
on a two-layer network and scikit-learn's digits (:mod:`convcheck.experiment_net`), with mini-batches,
SGD with momentum 0.9 (and 0) and weight decay 10⁻³ around SGD, SAM, USAM, VaSSO, F-SAM and RSAM
(:mod:`convcheck.experiment_train`), three seeds, and checks each claim against the measurements.

Reported number (as the paper's code): the test accuracy at the epoch of best validation accuracy
(the first such epoch). The constant step size is the grid value with the best mean validation
accuracy (ties: the larger step), chosen per method and momentum, as the paper picks its best constant.
Intervals are 95 % t-intervals over seeds: mean ± t_{0.975, S−1}·s/√S.

A claim's effect is a paired difference (same seed: same initial weights, batch order and noise),
averaged over the six methods per seed, so the seed is the unit of the interval. Verdicts:
"supported" when the interval lies on the claimed side of 0, "contradicted" when it lies on the other
side, "not resolved" when it contains 0 (or there is only one seed).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .experiment_net import load_split
from .experiment_train import METHOD_LABELS, ExperimentConfig, History, train_method

__all__ = ["QUICK", "FULL", "TINY", "ExperimentResult", "run_experiments", "mean_ci", "COLUMNS"]

FULL = ExperimentConfig(name="full")
QUICK = ExperimentConfig(epochs=40, name="quick")
#: for the test suite: seconds, not minutes
TINY = ExperimentConfig(epochs=6, batch_size=128, hidden=8, seeds=(0, 1), momenta=(0.9,), name="tiny")

#: table columns: the chosen constant, the paper's formulas, then the code's shifted forms
COLUMNS = ("constant", "diminish1", "diminish2", "diminish3", "diminish2-code", "diminish3-code")
COLUMN_LABELS = {"constant": "Constant", "diminish1": "Diminish 1", "diminish2": "Diminish 2",
                 "diminish3": "Diminish 3", "diminish2-code": "Diminish 2 (code)",
                 "diminish3-code": "Diminish 3 (code)"}
#: the two readings of Diminish 1–3: the paper's formulas and the authors' code's forms
READINGS = {"paper's formulas": ("diminish1", "diminish2", "diminish3"),
            "code's schedules": ("diminish1", "diminish2-code", "diminish3-code")}


def mean_ci(values, level: float = 0.95) -> tuple:
    """(mean, half-width) of the t-interval mean ± t_{(1+level)/2, n−1}·s/√n; half-width NaN for n = 1."""
    from scipy.stats import t as student_t

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan
    half = float(student_t.ppf((1 + level) / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return mean, half


# ----------------------------------------------------------------------------- the result
@dataclass
class ExperimentResult:
    """Histories per method and everything derived from them (selection, cells, claims)."""

    config: ExperimentConfig
    histories: dict
    seconds: float

    # ----- per-run numbers, arrays (S, M, C) over seeds × momenta × schedules
    def checkpoint_epoch(self, method: str) -> np.ndarray:
        """0-based epoch of best validation accuracy (first maximum) of every run."""
        return self.histories[method].val_acc.argmax(axis=0)

    def test_at_checkpoint(self, method: str) -> np.ndarray:
        history = self.histories[method]
        return np.take_along_axis(history.test_acc, self.checkpoint_epoch(method)[None], axis=0)[0]

    def final_loss(self, method: str) -> np.ndarray:
        return self.histories[method].train_loss[-1]

    def chosen_constant(self, method: str) -> list:
        """Per momentum: index in the grid with the best mean (over seeds) best validation accuracy."""
        grid = len(self.config.constant_grid)
        best_val = self.histories[method].val_acc.max(axis=0).mean(axis=0)[:, :grid]   # (M, grid)
        return [int(np.argmax(row)) for row in best_val]

    def column_index(self, method: str, momentum_index: int, column: str) -> int:
        if column == "constant":
            return self.chosen_constant(method)[momentum_index]
        return self.config.schedules.index(column)

    def per_seed(self, quantity: str, method: str, momentum_index: int, column: str) -> np.ndarray:
        """Values (S,) of ``quantity`` ("test_acc" or "final_loss") for one cell of the table."""
        values = self.test_at_checkpoint(method) if quantity == "test_acc" else self.final_loss(method)
        return values[:, momentum_index, self.column_index(method, momentum_index, column)]

    # ----- the table
    def table(self) -> list:
        """One row per momentum × method: cells {column: (mean %, half-width %)} and the best columns."""
        rows = []
        for mi, momentum in enumerate(self.config.momenta):
            for method in self.config.methods:
                cells = {c: tuple(100 * v for v in mean_ci(self.per_seed("test_acc", method, mi, c)))
                         for c in COLUMNS}
                top = max(mean for mean, _ in cells.values())
                chosen = self.config.constant_grid[self.chosen_constant(method)[mi]]
                diverged = self.histories[method].diverged[:, mi].any(axis=0)
                rows.append({"momentum": momentum, "method": method, "label": METHOD_LABELS[method],
                             "cells": cells, "best": [c for c, (mean, _) in cells.items() if mean == top],
                             "constant_step": chosen,
                             "diverged": [s for s, bad in zip(self.config.schedules, diverged) if bad]})
        return rows

    # ----- the claims
    def pooled_effect(self, quantity: str, momentum_index: int, column: str, baseline: str) -> tuple:
        """Seed-level paired effect of ``column`` against ``baseline``, averaged over the methods.

        Test accuracy: difference in percentage points (positive: ``column`` better). Training loss:
        log10 of the ratio (negative: ``column`` lower). Returns (mean, half-width, per-method means).
        """
        per_method = []
        for method in self.config.methods:
            a = self.per_seed(quantity, method, momentum_index, column)
            b = self.per_seed(quantity, method, momentum_index, baseline)
            per_method.append(100 * (a - b) if quantity == "test_acc" else np.log10(a / b))
        per_method = np.asarray(per_method)
        mean, half = mean_ci(per_method.mean(axis=0))
        return mean, half, per_method.mean(axis=1)

    def claims(self) -> list:
        """Section 5's claims, each with its measured effects and a verdict (see the module docstring).

        Each claim is checked in both readings of the schedules: the paper's formulas and the code's
        shifted forms (which produced the paper's numbers).
        """
        out = []
        for mi, momentum in enumerate(self.config.momenta):
            for quantity, better in (("test_acc", 1), ("final_loss", -1)):
                what = "test accuracy" if quantity == "test_acc" else "final training loss"
                for reading, (d1, d2, d3) in READINGS.items():
                    where = f"(momentum {momentum:g}; {reading})"
                    effects = {f"{c} vs constant": self.pooled_effect(quantity, mi, c, "constant")
                               for c in (d1, d2, d3)}
                    out.append(_claim(f"Diminishing step sizes beat the best constant one in {what} {where}",
                                      quantity, better, effects, "beat", mi))
                    effects = {f"{d3} vs {c}": self.pooled_effect(quantity, mi, d3, c) for c in ("constant", d1, d2)}
                    claim = _claim(f"Diminish 3 gives the best {what} {where}", quantity, better, effects, "best", mi)
                    claim["rows_best"] = self._rows_where_best(quantity, mi, d3, ("constant", d1, d2, d3))
                    out.append(claim)
        return out

    def _rows_where_best(self, quantity: str, momentum_index: int, column: str, among) -> list:
        """Methods for which ``column`` has the best mean (ties included) among ``among``; descriptive."""
        sign = 1 if quantity == "test_acc" else -1
        winners = []
        for method in self.config.methods:
            means = {c: sign * self.per_seed(quantity, method, momentum_index, c).mean() for c in among}
            if means[column] >= max(means.values()):
                winners.append(method)
        return winners

    def to_dict(self) -> dict:
        table = self.table()
        runs = {}
        for method in self.config.methods:
            history = self.histories[method]
            runs[method] = {"test_at_checkpoint": self.test_at_checkpoint(method),
                            "checkpoint_epoch": self.checkpoint_epoch(method) + 1,
                            "best_val_acc": history.val_acc.max(axis=0), "final_train_loss": self.final_loss(method),
                            "diverged": history.diverged,
                            "mean_train_loss_per_epoch": history.train_loss.mean(axis=1),
                            "gradient_calls_per_step": history.gradient_calls_per_step}
        return {"config": self.config.to_dict(), "seconds": self.seconds,
                "axes": {"runs": ["seed", "momentum", "schedule"], "mean_train_loss_per_epoch":
                         ["epoch", "momentum", "schedule"]},
                "table": table, "claims": self.claims(), "runs": runs}


def _side(mean: float, half: float, better: int) -> int:
    """+1 if the interval lies on the claimed side of 0 (``better`` = ±1), −1 if on the other, else 0."""
    if math.isnan(half):
        return 0
    if better * mean - half > 0:
        return 1
    if better * mean + half < 0:
        return -1
    return 0


def _claim(text: str, quantity: str, better: int, effects: dict, rule: str, momentum_index: int) -> dict:
    """A claim's verdict from its pooled effects {name: (mean, half-width, per-method means)}.

    rule "best" (one schedule beats every other): supported when every interval is on the claimed
    side, contradicted when any is on the other side. rule "beat" (each diminishing schedule beats the
    constant): supported / contradicted when all are on one side, else partly or mixed.
    """
    sides = [_side(mean, half, better) for mean, half, _ in effects.values()]
    if all(s == 1 for s in sides):
        verdict = "supported"
    elif rule == "best":
        verdict = "contradicted" if -1 in sides else "not resolved"
    elif all(s == -1 for s in sides):
        verdict = "contradicted"
    elif 1 in sides and -1 in sides:
        verdict = "mixed"
    else:
        verdict = "partly supported" if 1 in sides else "partly contradicted" if -1 in sides else "not resolved"
    unit = "percentage points" if quantity == "test_acc" else "log10 of the loss ratio"
    return {"claim": text, "quantity": quantity, "unit": unit, "rule": rule, "momentum_index": momentum_index,
            "verdict": verdict,
            "effects": [{"comparison": name, "mean": mean, "half_width": half, "side": side,
                         "per_method": [float(v) for v in per_method]}
                        for (name, (mean, half, per_method)), side in zip(effects.items(), sides)]}


# ----------------------------------------------------------------------------- running
def run_experiments(config: ExperimentConfig = FULL, progress=None) -> ExperimentResult:
    """Train every method of ``config`` (one batched program each) with one BLAS thread; seeded.

    One BLAS thread because the matrices are small (threads cost more than they save) and the result
    then does not depend on the machine's thread count. ``progress(method)`` is called before each method.
    """
    from threadpoolctl import threadpool_limits

    data = load_split()
    start = time.perf_counter()
    histories: dict[str, History] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for method in config.methods:
            if progress is not None:
                progress(method)
            histories[method] = train_method(config, data, method)
    return ExperimentResult(config, histories, time.perf_counter() - start)
