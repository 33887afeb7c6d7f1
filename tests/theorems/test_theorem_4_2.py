"""Theorem 4.2 (USAM and the extragradient method).

Hypotheses: f with Lipschitz gradient (the proof uses C^{1,L}; the paper states L-descent);
ρ_k ≤ ν/L for some ν ∈ [0, 1); (12) with that ν. Conclusion: every property of Theorem 4.1.
"""
from convcheck.problems import get
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases, run_one


def test_predictions_certified():
    """Theorem 4.2 for USAM and extragradient on logsum (nonconvex), logsum_under (affine minimizers)
    and a quadratic: every predicted property certified "holds"."""
    rows = run_cases("theorem-4.2")
    assert {r[0].method for r in rows} == {"usam", "extragradient"}
    assert len({r[1]["problem"].key for r in rows}) >= 3
    assert_predictions_observed(rows)


def test_descent_only_problem_is_not_covered():
    """descent_only satisfies (4) but ∇f is not Lipschitz: Theorem 4.2 (whose proof needs C^{1,L}) does not apply."""
    (app,) = applicable("descent_only", "usam", "constant:0.1", "constant:0.01", include_all=True, results=["theorem-4.2"])
    assert app.applies is False and "C^{1,L}" in app.reason


def test_control_radius_above_one_over_L():
    """Control: ρ = 3/L violates ρ_k ≤ ν/L with ν < 1. Extragradient's step ∇f(x − ρ∇f(x)) then points
    uphill along eigen-directions with ρλ > 1 (factor 1 − tλ(1 − ρλ) > 1): it diverges and P5 fails.
    USAM with the same ρ still converges on this convex quadratic (the hypothesis is sufficient, not
    necessary), so it is recorded, not used as a control."""
    p = get("quadratic:n=4,cond=2")
    rho = 3 / p.meta.L
    for method in ("usam", "extragradient"):
        (app,) = applicable(p, method, "constant:0.2", rho, include_all=True, results=["theorem-4.2"])
        assert app.applies is False and "ν < 1" in app.reason
    trace, cert = run_one(p, "extragradient", "constant:0.2", rho, p.meta.minimizer.points[0] + 1.0, 3000)
    assert trace.status == "diverged" and cert["P5"].status == "fails"
    _, cert = run_one(p, "usam", "constant:0.2", rho, p.meta.minimizer.points[0] + 1.0, 3000)
    assert cert["P5"].status == "holds"
