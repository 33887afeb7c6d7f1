"""Theorem 3.2 (SAM, convex case).

Hypotheses: f convex with L-Lipschitz gradient; SAM (6) with Σ t_k = ∞, Σ t_k² < ∞, sup ρ_k < ∞ (ρ may
stay constant); inf f(x^k) > −∞. Conclusions: (i) liminf ‖∇f(x^k)‖ = 0; (ii) with bounded level sets
every accumulation point is a minimizer and f(x^k) → f*; (iii) with a unique minimizer x^k → x*.
"""
import numpy as np

from convcheck.problems import get
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases, run_one


def test_predictions_certified_on_convex_problems():
    """Theorem 3.2 (i)–(iii) on quadratic (unique minimizer), flat_ball (ball of minimizers), a singular
    quadratic (affine minimizers: only (i) applies) and x²: every predicted property certified "holds"."""
    rows = run_cases("theorem-3.2")
    assert len({r[1]["problem"].key for r in rows}) >= 3
    assert_predictions_observed(rows)
    by_problem = {r[1]["problem"].name: r[2].predicted for r in rows}
    assert by_problem["quadratic_singular"] == {"P1": "holds"}          # unbounded level sets: (i) only
    assert "P5" not in by_problem["flat_ball"] and by_problem["flat_ball"]["P4"] == "holds"
    assert by_problem["quadratic"]["P5"] == "holds"


def test_constant_radius_with_unique_minimizer_converges():
    """Theorem 3.2(iii) with a constant radius ρ = 0.1: ‖x^k − x*‖ → 0 (checked against the known x*,
    since the oscillation's path length Σ t_k ρ L is infinite and the certifier cannot read P5 here)."""
    p = get("quadratic:n=4,cond=2")
    x_star = p.meta.minimizer.points[0]
    (app,) = applicable(p, "sam", "power:c=0.3,p=0.6", "constant:0.1", results=["theorem-3.2"])
    assert app.predicted["P5"] == "holds"
    trace, cert = run_one(p, "sam", "power:c=0.3,p=0.6", "constant:0.1", x_star + 0.5, 20000)
    dist = np.linalg.norm(trace.x - x_star, axis=1)
    at = lambda k: dist[np.searchsorted(trace.x_k, k)]
    assert at(20001) < 0.5 * at(5000) < 0.25 * at(1000)     # decreasing like k^-0.6, not levelling off
    assert cert["P3"].status == "holds" and cert["P4"].status == "holds"


def test_control_constant_step_violates_sum_of_squares_and_sam_stalls():
    """Control: a constant step violates Σ t_k² < ∞; Theorem 3.2 makes no prediction, and SAM on the
    Example 3.1 quadratic visibly fails to converge (P5 fails)."""
    p = get("example31:n=2")
    params = p.example31_parameters()
    apps = applicable(p, "sam", params["t"], params["rho"], include_all=True, results=["theorem-3.2"])
    assert apps[0].applies is False and "Σ t_k² < ∞" in apps[0].reason
    _, cert = run_one(p, "sam", params["t"], params["rho"], params["x1"], 4000)
    assert cert["P5"].status == "fails" and cert["P3"].status == "fails"
