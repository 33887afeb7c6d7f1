"""Shared helpers of the theorem suite: run a result's study configurations, check predictions.

Problems defined here (not in the catalogue) serve where no catalogue entry fits a hypothesis:

- :func:`tilted_well`: f(x) = x²/2 + α e^{−x²/2} (α = 1.5), nonconvex, L = max|1 − α e^{−x²/2}(1 − x²)|
  (computed on a fine grid and rounded up, provenance "bound"), minimizers ±a, a = √(2 ln α), local
  maximum 0. With a constant radius ρ ∈ (a, 2/L) the SAM flow ẋ = −f′(x + ρ sign f′(x)) has the stable
  equilibria ±(a − ρ), where f′ ≠ 0: SAM with t_k ↓ 0 and constant ρ stalls at a non-stationary point.
"""
from __future__ import annotations

import math

import numpy as np

from convcheck import sweep
from convcheck.problems.base import Meta, MinimizerSet, Problem
from convcheck.properties.certify import certify
from convcheck.properties.study import CASES, compare, prepare
from convcheck.properties.theorems import applicable


class TiltedWell(Problem):
    """x²/2 + α e^{−x²/2} on R: see the module docstring."""

    def __init__(self, alpha: float = 1.5):
        grid = np.linspace(-10, 10, 2_000_001)
        L = float(np.max(np.abs(1 - alpha * np.exp(-grid ** 2 / 2) * (1 - grid ** 2)))) * (1 + 1e-6)
        a = math.sqrt(2 * math.log(alpha))
        meta = Meta(dim=1, params={"alpha": alpha}, convex=False, L=L, f_star=0.5 * a * a + 1.0,
                    minimizer=MinimizerSet("finite", np.array([[-a], [a]])), bounded_level_sets=True,
                    analytic=True, provenance={"L": "bound", "f_star": "exact"})
        super().__init__("tilted_well", meta)
        self.alpha, self.a = alpha, a

    def _value_and_grad(self, X):
        bump = self.alpha * self.xp.exp(-X[..., 0] ** 2 / 2)
        return 0.5 * X[..., 0] ** 2 + bump, X * (1 - bump[..., None])


def cases(result: str) -> list:
    return [c for c in CASES if c.result == result]


def run_cases(result: str, quick: bool = True) -> list:
    """Run the study's configurations of ``result`` at the --quick size: [(case, config, app, cert, verdict)]."""
    chosen = cases(result)
    configs = [prepare(c, quick) for c in chosen]
    traces = sweep(configs, on_error="raise")
    out = []
    for case, config, trace in zip(chosen, configs, traces):
        app = applicable(config["problem"], config["method"], config["step"], config["radius"], x0=config["x0"],
                         results=[result])[0]
        cert = certify(trace, config["problem"])
        verdict, details = compare(app, cert, trace, case.undecidable)
        out.append((case, config, app, cert, trace, verdict, details))
    return out


def assert_predictions_observed(rows) -> None:
    """Every predicted property is certified exactly as predicted (decisively), and checks pass."""
    assert rows, "no configurations"
    for case, config, app, cert, trace, verdict, details in rows:
        assert app.applies is True, (case, app.reason)
        for key, expected in app.predicted.items():
            if key in case.undecidable and cert[key].status == "inconclusive":
                continue
            assert cert[key].status == expected, f"{case}: {key} predicted {expected}, certified " \
                                                 f"{cert[key].status}: {cert[key].reason}"
        assert verdict == "consistent", (case, details)


def run_one(problem, method, step, radius, x0, iters, **options):
    trace = sweep([dict(problem=problem, method=method, step=step, radius=radius, x0=np.asarray(x0, float),
                        iters=iters, **options)], on_error="raise")[0]
    return trace, certify(trace, problem)


def fitted_power(k, values) -> float:
    """Exponent β of values ≈ C k^(−β) by least squares in log-log."""
    k, values = np.asarray(k, float), np.asarray(values, float)
    keep = values > 0
    return float(-np.polyfit(np.log(k[keep]), np.log(values[keep]), 1)[0])
