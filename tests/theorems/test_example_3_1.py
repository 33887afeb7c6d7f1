"""Example 3.1 (counterexample): SAM with constant t and ρ does not converge on a strongly convex
quadratic.

Hypotheses: f = ½⟨Ax,x⟩ − ⟨b,x⟩, A ≻ 0 with λ_max < 2λ_min ([derived] caveat of the proof); constant
t ∈ (1/λ_min − 1/(λ_max + λ_min), 1/λ_min), t ≤ 2/(λ_min + λ_max); constant ρ > 0;
0 < ‖x¹ − x*‖ < tρλ_min/(1 − tλ_min). Conclusion: (15) the iterates stay in that ball and never reach x*;
they do not converge — P2, P3, P4, P5 fail.
"""
import numpy as np

from convcheck.problems import get
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases, run_one


def test_failure_reproduced_on_three_instances():
    """n = 1, 2, 5: the predicted failures of P2–P5 are all certified, and (15) holds at every kept iterate."""
    rows = run_cases("example-3.1")
    assert len(rows) >= 3
    assert_predictions_observed(rows)
    for case, config, app, cert, trace, verdict, details in rows:
        params = config["problem"].example31_parameters()
        dist = np.linalg.norm(trace.x - params["x_star"], axis=1)
        assert np.all(dist > 0) and np.all(dist < params["distance_bound"])


def test_needs_the_initial_point():
    """Without x¹ the ball condition is undecided, so the example makes no prediction and says so."""
    p = get("example31:n=2")
    params = p.example31_parameters()
    (app,) = applicable(p, "sam", params["t"], params["rho"], results=["example-3.1"])
    assert app.applies is None and app.predicted == {} and "no initial point" in app.reason


def test_control_gd_converges():
    """Control: GD with the same constant t converges (P5 holds): the failure is SAM's perturbation."""
    p = get("example31:n=2")
    params = p.example31_parameters()
    _, cert = run_one(p, "gd", params["t"], None, params["x1"], 2000)
    assert cert["P5"].status == "holds"
