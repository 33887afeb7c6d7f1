"""Theorem 4.1 (IGD with relative errors, Algorithm 2, L-descent functions).

Hypotheses: f C¹ with the L-descent condition (4); ‖g^k − ∇f(x^k)‖ ≤ ν‖∇f(x^k)‖, ν ∈ [0, 1) (GD: ν = 0);
(12): Σ t_k = ∞, t_k ≤ (2 − 2ν − δ)/(L(1+ν)²) for large k. Conclusions (f bounded below): (i) accumulation
points stationary; (ii) f(x^k) ↓ f(x̄) monotonically eventually; (iii) ∇f(x^k) → 0 for f ∈ C^{1,L};
(iv) x^k → x̄ under KL; (v) with φ = M t^{1−q}, t_k ≥ t̄ > 0: linear rates for q ≤ ½, and
‖x^k − x̄‖, ‖∇f(x^k)‖ = O(k^{−(1−q)/(2q−1)}) and f(x^k) − f(x̄) = O(k^{−2(1−q)/(2q−1)}) for q ∈ (½, 1).
"""
import numpy as np

from convcheck.problems import get
from convcheck.properties.study import rate_agreement
from convcheck.properties.theorems import applicable, f_eventually_nonincreasing
from theorem_helpers import assert_predictions_observed, fitted_power, run_cases, run_one


def test_predictions_certified():
    """Theorem 4.1 with GD and IGDr (ν = 0.5, random error directions) on logsum (nonconvex),
    descent_only (L-descent without a Lipschitz gradient: (iii) does not apply, but bounded level sets give
    P1 and P3 through part (i)+ [derived]) and a quadratic."""
    rows = run_cases("theorem-4.1")
    assert_predictions_observed(rows)
    descent_only = [r for r in rows if r[1]["problem"].name == "descent_only"]
    assert descent_only
    for row in descent_only:
        parts = {p.label: p for p in row[2].parts}
        assert parts["(iii)"].applies is False and parts["(i)+"].applies is True
        assert row[2].predicted["P3"] == row[2].predicted["P5"] == "holds"
    for row in rows:   # (ii): f decreases monotonically from some index on
        assert f_eventually_nonincreasing(row[4])["holds"] is True, row[0]


def test_linear_rate_for_q_one_half():
    """4.1(v), q = ½ (strongly convex quadratic): the predicted rate is linear and so is the observed one."""
    p = get("quadratic:n=4,cond=2")
    (app,) = applicable(p, "igdr:nu=0.3", "constant:0.2", results=["theorem-4.1"])
    assert app.rate["model"] == "linear"
    trace, cert = run_one(p, "igdr:nu=0.3", "constant:0.2", None, p.meta.minimizer.points[0] + 1.0, 400)
    assert cert["P5"].status == "holds"
    dist = np.linalg.norm(trace.x - p.meta.minimizer.points[0], axis=1)
    early = (trace.x_k >= 20) & (dist > 1e-12)
    slope = np.polyfit(trace.x_k[early], np.log(dist[early]), 1)[0]
    assert np.exp(slope) < 0.95                    # geometric decay factor per step
    assert cert["P5"].rate["model"] == "linear" or cert["P3"].rate["model"] == "linear"


def test_power_rate_for_q_three_quarters(soft_quartic):
    """4.1(v), q = ¾ on f = √(1 + x⁴) − 1 (global L = 2√2): ‖x^k − x̄‖ decays like k^{-β} with β within
    20% of (1 − q)/(2q − 1) = ½ (GD: x⁺ ≈ x − 2t x³ gives β = ½ exactly)."""
    (app,) = applicable(soft_quartic, "gd", "constant:0.3", results=["theorem-4.1"])
    assert app.rate["model"] == "power"
    np.testing.assert_allclose(app.rate["exponent_x"], 0.5)
    trace, cert = run_one(soft_quartic, "gd", "constant:0.3", None, [1.0], 20000)
    assert cert["P5"].status == "holds"
    late = trace.x_k >= 500
    beta = fitted_power(trace.x_k[late], np.abs(trace.x[late, 0]))
    assert abs(beta - 0.5) <= 0.2 * 0.5, beta
    assert cert["P5"].rate["model"] == "power" and cert["P5"].rate["exponent"] >= 0.8 * 0.5
    # all three stated rates compared: ‖x^k − x̄‖, ‖∇f‖ = O(k^-½), f − f* = O(k^-1) (observed: ½, 3/2, 2)
    verdict, text = rate_agreement(app.rate, cert)
    assert verdict == "consistent" and all(q in text for q in ("‖x^k − x̄‖", "‖∇f(x^k)‖", "f(x^k) − f(x̄)"))
    for name in ("x", "grad", "f"):   # control: a prediction 4× too fast for one quantity is contradicted
        faster = {**app.rate, f"exponent_{name}": 4 * app.rate[f"exponent_{name}"] + 2}
        assert rate_agreement(faster, cert)[0] == "contradiction", name


def test_control_step_beyond_rule_12_diverges():
    """Control: t = 2.5/L violates (12) (t ≤ (2 − δ)/L for GD); GD on the quadratic diverges and P5 fails."""
    p = get("quadratic:n=4,cond=2")
    (app,) = applicable(p, "gd", 2.5 / p.meta.L, include_all=True, results=["theorem-4.1"])
    assert app.applies is False and "(12)" in app.reason
    trace, cert = run_one(p, "gd", 2.5 / p.meta.L, None, p.meta.minimizer.points[0] + 1.0, 2000)
    assert trace.status == "diverged" and cert["P5"].status == "fails"
