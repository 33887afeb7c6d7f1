"""Dai et al. 2023, Theorem 1 (cited in spec §3): SAM with constant t ≤ 1/L and ρ on a μ-strongly convex
f with L-Lipschitz gradient satisfies, at every iterate,
f(x^k) − f* ≤ (1 − tμ(2 − Lt))^{k−1}(f(x¹) − f*) + tL²ρ²/(2μ(2 − Lt)).
The bound implies none of P1–P5: SAM with constant ρ can stall above f* within the floor term.
"""
import numpy as np

from convcheck.properties.counterexamples import check_dai_bound
from theorem_helpers import assert_predictions_observed, run_cases


def test_bound_holds_at_every_iterate():
    """Three strongly convex instances (quadratic n = 10, a 1-D quadratic, x²): the inequality holds at
    every recorded iterate."""
    rows = run_cases("dai-2023")
    assert len(rows) >= 3
    assert_predictions_observed(rows)
    for case, config, app, cert, trace, verdict, details in rows:
        outcome = check_dai_bound(app.bound, trace)
        assert outcome["holds"] and outcome["checked_iterates"] == trace.last_k


def test_control_without_the_floor_term_the_bound_fails():
    """Control: dropping the floor tL²ρ²/(2μ(2 − Lt)) (i.e. claiming f(x^k) → f*) is violated on the same
    runs, and P5 fails there: the bound says nothing about P1–P5."""
    rows = run_cases("dai-2023")
    for case, config, app, cert, trace, verdict, details in rows:
        assert not check_dai_bound({**app.bound, "floor": 0.0}, trace)["holds"]
        assert cert["P5"].status == "fails"
        gap = np.asarray(trace.f)[-1] - app.bound["f_star"]
        assert 0 < gap <= app.bound["floor"]
