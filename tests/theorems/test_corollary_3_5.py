"""Corollary 3.5 (SAM, RSAM, VaSSO, F-SAM: Algorithm 1a, nonconvex).

Hypotheses: f ∈ C^{1,L}; (11): Σ t_k = ∞, t_k ↓ 0, Σ t_k ρ_k < ∞, limsup ρ_k < 2/L; inf f(x^k) > −∞.
Conclusions: those of Theorem 3.3 with ε_k = Lρ_k: P3 and P2, P4 at accumulation points, and P5
under KL, condition (9) and f(x^k) > f(x̄) eventually.
"""
import numpy as np

from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases, run_one


def test_predictions_certified_for_every_variant():
    """Corollary 3.5 for SAM, RSAM, VaSSO and F-SAM on logsum (two nonconvex instances), logsum_under
    and a quadratic: every predicted property certified "holds"."""
    rows = run_cases("corollary-3.5")
    assert {r[0].method.split(":")[0] for r in rows} == {"sam", "rsam", "vasso", "fsam"}
    assert len({r[1]["problem"].key for r in rows}) >= 3
    assert any(r[1]["problem"].meta.convex is False for r in rows)
    assert_predictions_observed(rows)
    # Appendix E: the paper's square log-sum from its x¹, P5 predicted (part (iii)) and certified
    appendix = [r for r in rows if r[0].start == "appendixE"]
    assert len(appendix) == 4 and all(r[2].predicted["P5"] == "holds" == r[3]["P5"].status for r in appendix)


def test_control_constant_radius_stalls_at_a_nonstationary_point(tilted_well):
    """Control: constant ρ = 1.1 violates Σ t_k ρ_k < ∞ (all other hypotheses hold: t_k = 1/k^0.7 ↓ 0,
    limsup ρ = 1.1 < 2/L ≈ 1.198). SAM converges to ±(a − ρ) ≈ ±0.2, where f′ ≈ ∓0.094 ≠ 0: P1–P5
    fail. With ρ_k = 1.1/k^0.6 (Σ t_k ρ_k < ∞) the corollary applies and P1–P4 hold."""
    step = "power:c=1,p=0.7"
    bad = applicable(tilted_well, "sam", step, "constant:1.1", include_all=True, results=["corollary-3.5"])[0]
    failed = [name for name, d in bad.hypotheses if d.value is False]
    assert failed == ["Σ t_k ρ_k < ∞ (Σ t_k ε_k < ∞)"]
    trace, cert = run_one(tilted_well, "sam", step, "constant:1.1", [2.5], 20000)
    a = tilted_well.a
    np.testing.assert_allclose(abs(trace.x[-1, 0]), 1.1 - a, atol=5e-3, rtol=0)
    assert trace.grad_norm[-1] > 0.09          # f′(±0.2) ≈ ∓0.094: not stationary
    assert all(cert[k].status == "fails" for k in ("P1", "P2", "P3", "P4", "P5"))

    good = applicable(tilted_well, "sam", step, "power:c=1.1,p=0.6", results=["corollary-3.5"])[0]
    assert good.applies is True
    _, cert = run_one(tilted_well, "sam", step, "power:c=1.1,p=0.6", [2.5], 20000)
    for key, expected in good.predicted.items():
        assert cert[key].status == expected, (key, cert[key].reason)


def test_control_constant_step():
    """Control: Example 3.1's constant t and ρ violate t_k ↓ 0 (and Σ t_k ρ_k < ∞); the corollary makes
    no prediction and SAM's gradient visibly does not tend to 0 (P3 and P5 fail)."""
    from convcheck.problems import get
    p = get("example31:n=1")
    params = p.example31_parameters()
    (app,) = applicable(p, "sam", params["t"], params["rho"], include_all=True, results=["corollary-3.5"])
    failed = [name for name, d in app.hypotheses if d.value is False]
    assert app.applies is False and "t_k ↓ 0" in failed
    _, cert = run_one(p, "sam", params["t"], params["rho"], params["x1"], 4000)
    assert cert["P3"].status == "fails" and cert["P5"].status == "fails"
