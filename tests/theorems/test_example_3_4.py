"""Example 3.4 (counterexample): IGD with a constant absolute error converges to a non-stationary point.

Hypotheses: f(x) = x²; reverse-SAM error (10), g^k = f′(x^k − ρ f′(x^k)/|f′(x^k)|), constant ρ > 0;
|x¹| > ρ; t_k ∈ [0, ½), t_k ↓ 0, Σ t_k = ∞. Conclusion: x^k → ±ρ with f′(±ρ) = ±2ρ ≠ 0, so P1–P5 fail.
"""
import numpy as np

from convcheck.problems import get
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases, run_one


def test_failure_reproduced_for_three_settings():
    """Three (ρ, x¹, t_k) choices on x² (the example is specific to f = x²): all five properties fail
    and x^k → sign(x¹)·ρ."""
    rows = run_cases("example-3.4")
    assert len(rows) >= 3
    assert_predictions_observed(rows)
    for case, config, app, cert, trace, verdict, details in rows:
        rho = float(config["radius"].split(":")[1])
        target = np.sign(config["x0"][0]) * rho
        np.testing.assert_allclose(trace.x[-1, 0], target, atol=0.02 * rho, rtol=0)
        gap = np.abs(trace.x[:, 0] - target)
        assert gap[-1] < 0.5 * gap[np.searchsorted(trace.x_k, trace.last_k // 8)]   # still approaching ±ρ


def test_theorem_3_3_does_not_apply():
    """The constant error 2ρ violates Σ t_k ε_k < ∞ of (8): Theorem 3.3 makes no prediction."""
    (app,) = applicable("x2", "igd:error=example34", "power:c=0.25,p=1", "constant:0.3", include_all=True,
                        results=["theorem-3.3"])
    assert app.applies is False and "Σ t_k ρ_k < ∞" in app.reason


def test_control_vanishing_error_converges_to_the_minimizer():
    """Control: the same reverse-SAM method with ρ_k = 0.3/k^0.7 (Σ t_k ε_k < ∞) meets Theorem 3.3,
    and x^k → 0 (P5 holds)."""
    (app,) = applicable("x2", "igd:error=example34", "power:c=0.25,p=1", "power:c=0.3,p=0.7", results=["theorem-3.3"])
    assert app.applies is True
    trace, cert = run_one(get("x2"), "igd:error=example34", "power:c=0.25,p=1", "power:c=0.3,p=0.7", [1.0], 20000)
    assert cert["P5"].status == "holds" and abs(trace.x[-1, 0]) < 0.02   # ≈ 0.3·k^-½ from the start
