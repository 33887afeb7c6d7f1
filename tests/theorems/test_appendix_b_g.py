"""Lemma B.1, Propositions B.3–B.5, Remarks G.1 and G.3 (Appendices B and G), and the Si & Yun 2023 note.

Each is registered in ``registry.AUXILIARY`` with its hypotheses and how it is checked (properties.auxiliary):
constructed sequences for Lemma B.1, step-by-step inequalities on runs for B.3–B.5, grids for the remarks.
"""
import json

import numpy as np
import pytest

from convcheck import problems, schedules, sweep
from convcheck.properties import auxiliary as aux
from convcheck.properties.registry import AUXILIARY, AUXILIARY_BY_KEY


def test_every_auxiliary_result_is_registered_with_a_check_or_a_reason():
    assert {a.key for a in AUXILIARY} == {"lemma-B.1", "proposition-B.3", "proposition-B.4", "proposition-B.5",
                                           "remark-G.1", "remark-G.3", "si-yun-2023"}
    for a in AUXILIARY:
        json.dumps(a.to_dict())
        if a.checked_by is None:
            assert "not checkable" in a.note
        else:
            assert all(hasattr(aux, name.strip()) for name in a.checked_by.split(","))


def test_lemma_b1_meeting_family_tends_to_zero_and_each_violation_does_not():
    """Lemma B.1: the family meeting (a) and (b) has α_k → 0 (α_k ≍ 1/k: max over the last quarter ≤ 64/K);
    dropping any one hypothesis of (b) — Σβα² < ∞, Σγ < ∞, Σβ = ∞, β bounded — leaves α_k ↛ 0 (the max
    over the last quarter stays ≥ ½), while (a) still holds at every step of every family."""
    K = 1 << 14
    families = aux.lemma_b1_sequences(K)
    assert set(families) == {"meets", "sum_beta_alpha2", "sum_gamma", "sum_beta", "beta_bounded"}
    for name, (alpha, beta, gamma, violated) in families.items():
        check = aux.lemma_b1_recursion(alpha, beta, gamma)
        assert check["holds"], (name, check)
        if violated is None:
            assert check["alpha_max_last_quarter"] <= 64.0 / K
        else:
            assert check["alpha_max_last_quarter"] >= 0.5, name
    # the constructions do violate what they claim (finite partial sums growing like the divergent series)
    k = np.arange(1, K + 1)
    a, b, g, _ = families["sum_beta_alpha2"]
    assert np.sum(b * a ** 2) > 0.5 * np.log(K)
    a, b, g, _ = families["beta_bounded"]
    assert b.max() > 0.5 * K ** 2 / 2
    a, b, g, _ = families["sum_gamma"]
    assert g.sum() >= np.floor(np.sqrt(K)) - 1
    a, b, g, _ = families["meets"]
    assert np.sum(b * a ** 2) < 10 and g.sum() < np.pi ** 2 / 6 and b.sum() > np.log(K) and b.max() <= 1
    assert not aux.lemma_b1_recursion(1.0 / k[::-1], b, np.zeros(K))["holds"]   # (a) is a real check


def test_lemma_b1_recursion_holds_on_sam_runs():
    """Theorem 3.3's proof: α_k = ‖∇f(x^k)‖, β_k = Lt_k, γ_k = Lt_k·Lρ_k satisfy (a) at every step of SAM
    (and VaSSO) on the square log-sum, since ‖∇f(x^{k+1}) − ∇f(x^k)‖ ≤ Lt_k‖g^k‖ ≤ Lt_k(α_k + Lρ_k)."""
    p = problems.get("logsum:n=2,seed=1")
    step, radius = schedules.from_spec("power:c=1,p=1"), schedules.from_spec("power:c=0.1,p=0.7")
    # from x^∞ + 5 the gradient norm grows at most steps (|r_i| > 1 falls towards 1): (a) is not vacuous
    traces = sweep([dict(problem=p, method=m, x0=p.appendix_e_start() + 5.0, iters=3000, step=step, radius=radius)
                    for m in ("sam", "vasso:theta=0.5")], on_error="raise")
    for trace in traces:
        eps = p.meta.L * radius.values(np.asarray(trace.k))
        check = aux.lemma_b1_on_run(trace, step, p.meta.L, eps)
        assert check["holds"], check
        # control: with β_k, γ_k a hundred times too small (a) fails at many steps — the check has teeth
        assert aux.lemma_b1_on_run(trace, step, 0.01 * p.meta.L, eps)["violations"] > 100


def test_propositions_b3_b4_hypotheses_hold_on_gd_runs():
    """(H1) with σ = (2 − Lt)/2 and B.4's decrease with β = 1 − Lt/2 at every resolved step of GD (Theorem 4.1's
    (40): f(x^{k+1}) ≤ f(x^k) − t(1 − Lt/2)‖∇f(x^k)‖²) on the log-sum and soft_quartic; no (H2) suspect."""
    for spec, t in (("logsum:n=2,seed=1", 0.2), ("soft_quartic:n=2", 0.3)):
        p = problems.get(spec)
        step = schedules.constant(t)
        x0 = p.meta.minimizer.points[0] + 0.5
        trace = sweep([dict(problem=p, method="gd", x0=x0, iters=2000, step=step)], on_error="raise")[0]
        L = p.meta.L
        check = aux.descent_inequalities(trace, step, sigma=(2 - L * t) / 2, beta=1 - L * t / 2)
        assert check["steps"] > 20 and check["h1_holds"] and check["b4_holds"], check
        assert check["h2_suspect_steps"] == 0
        too_strong = aux.descent_inequalities(trace, step, sigma=1.01, beta=1.01)   # σ > 1 violates Cauchy–Schwarz
        assert not too_strong["h1_holds"] and not too_strong["b4_holds"]


def test_proposition_b5_inequalities_at_kept_iterates():
    """B.5's proof: 0 ≤ f(x) − f(x̄) ≤ (L/2)‖x − x̄‖² and ‖∇f(x)‖ ≤ L‖x − x̄‖ along GD runs converging to x̄,
    which turn ‖x^k − x̄‖ = O(m(k)) into |f − f(x̄)| = O(m(k)²) and ‖∇f‖ = O(m(k))."""
    for spec in ("logsum:n=2,seed=1", "soft_quartic:n=2", "quadratic:n=5,cond=3"):
        p = problems.get(spec)
        xbar = p.meta.minimizer.points[0]
        trace = sweep([dict(problem=p, method="gd", x0=xbar + 0.5, iters=3000, step=1.0 / p.meta.L)],
                      on_error="raise")[0]
        check = aux.rate_transfer(p, trace.x, xbar, p.meta.L)
        assert check["points"] > 10 and check["holds"], (spec, check)
        assert not aux.rate_transfer(p, trace.x, xbar, 0.5 * check["g_ratio_max"])["holds"]


@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.75, 0.999])
def test_remark_g1_assumption_2_3_with_c_equal_one(q):
    """Remark G.1: (x + y)^q ≤ x^q + y^q for q ∈ [0, 1), i.e. Assumption 2.3 with C = 1; the ratio's minimum
    approaches 1 (y → 0) and never goes below it. Control: q = 1.5 (not a Łojasiewicz φ) goes below 1."""
    ratio = aux.assumption_2_3_ratio(q)
    assert ratio >= 1.0 and (q == 0.0 or ratio < 1.01)
    assert aux.assumption_2_3_ratio(1.5) < 1.0


def test_remark_g3_tail_bound_and_condition_9():
    """Remark G.3: Σ_{i≥k} (1/i)(1/i^p) ≤ 1/(p(k − 1)^p), so (9) holds for t_k = 1/k, ε_k = 1/k^p, every
    p > 0 and every q ∈ (0, 1); with t_k = 1/k^0.5 instead (9) fails (control)."""
    for p in (0.1, 0.5, 1.0, 2.0):
        assert aux.remark_g3_tail_bound(p, np.array([2, 10, 1000, 10 ** 5]), terms=200_000)["holds"], p
        for q in (0.1, 0.5, 0.9):
            assert schedules.kl_condition_9("power:c=1,p=1", f"power:c=1,p={p}", q).value is True
    assert schedules.kl_condition_9("power:c=1,p=0.5", "power:c=1,p=0.6", 0.5).value is False


def test_si_yun_is_registered_as_not_checkable():
    note = AUXILIARY_BY_KEY["si-yun-2023"].note
    assert "not checkable" in note and "constants" in note
