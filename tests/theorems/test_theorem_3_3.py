"""Theorem 3.3 (IGD with absolute errors, Algorithm 1, nonconvex).

Hypotheses: f ∈ C^{1,L}; (8): Σ t_k = ∞, t_k ↓ 0, Σ t_k ε_k < ∞, limsup ε_k < 2; inf f(x^k) > −∞.
Conclusions: (i) ∇f(x^k) → 0 (P3, hence P2); (ii) f(x^k) → f(x̄) at accumulation points (P4);
(iii) with KL, Assumption 2.3, condition (9) and f(x^k) > f(x̄) eventually, x^k → x̄ (P5).
"""
from convcheck.problems import get
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, cases, run_cases, run_one


def test_predictions_certified():
    """Theorem 3.3 on two nonconvex logsum instances, logsum_under (affine minimizers) and a quadratic,
    with worst-case ("opposite") and random error directions: predicted P1–P4 (P5 where (iii) is decided)."""
    rows = run_cases("theorem-3.3")
    problems = {r[1]["problem"].key for r in rows}
    assert len(problems) >= 3 and any(r[1]["problem"].meta.convex is False for r in rows)
    assert_predictions_observed(rows)
    quadratic = [r for r in rows if r[1]["problem"].name == "quadratic"]
    assert quadratic and quadratic[0][2].predicted["P5"] == "holds"   # (iii): convex, error vanishes at x*


def test_part_iii_on_the_log_sum_depends_on_the_stationary_set():
    """(iii) needs f(x^k) > f(x̄) eventually and (9). On the overdetermined log-sum (m > n) other stationary
    points may exist (not listed), so P5 is not predicted and the part says why. On the paper's square
    log-sum (rank A = m = n) the stationary set is {x^∞}, q = ½ there, and t_k = 1/k, ε_k = 0.1/k meets
    (9): P5 is predicted (Appendix E rows of the study)."""
    (app,) = applicable("logsum:n=5,m=10", "igd", "power:c=0.04,p=1", "power:c=0.02,p=0.7", results=["theorem-3.3"])
    part3 = [p for p in app.parts if p.label == "(iii)"][0]
    assert app.applies is True and part3.applies is None and "P5" not in app.predicted
    assert "stationary point" in part3.reason
    (app,) = applicable("logsum:n=2,seed=1", "igd", "power:c=1,p=1", "power:c=0.1,p=1", results=["theorem-3.3"])
    assert app.predicted["P5"] == "holds"
    assert [c for c in cases("theorem-3.3") if c.start == "appendixE"]


def test_control_constant_error_stalls():
    """Control: a constant error ε = 0.5 violates Σ t_k ε_k < ∞. With the error against the gradient,
    IGD stalls where ‖∇f‖ = ε: P1 and P3 visibly fail."""
    p = get("quadratic:n=4,cond=2")
    apps = applicable(p, "igd", "power:c=0.3,p=0.6", "constant:0.5", include_all=True, results=["theorem-3.3"])
    assert apps[0].applies is False and "Σ t_k ρ_k < ∞" in apps[0].reason
    _, cert = run_one(p, "igd", "power:c=0.3,p=0.6", "constant:0.5", p.meta.minimizer.points[0] + 1.0, 20000)
    assert cert["P3"].status == "fails" and cert["P1"].status == "fails"
