"""The theorem registry: hypotheses decided with their reasons, undecided ones predicting nothing,
applicable() on objects and spec strings, JSON-ready output."""
import json
import math

import numpy as np
import pytest

from convcheck import methods, schedules
from convcheck.problems import get
from convcheck.problems.base import Meta, MinimizerSet
from convcheck.properties.hypotheses import Decision, Setting, condition_9, lipschitz_gradient, l_descent
from convcheck.properties.registry import HYPOTHESES, RESULTS
from convcheck.properties.theorems import applicable, kl_rate

EXPECTED = {"theorem-3.2", "theorem-3.3", "corollary-3.5", "theorem-4.1", "theorem-4.2", "example-3.1",
            "example-3.4", "remark-3.6", "remark-G.2", "dai-2023"}


def _setting(meta, method="sam", step="power:c=1,p=1", radius="power:c=0.1,p=1"):
    class P:
        pass
    p = P()
    p.meta = meta
    return Setting(p, methods.get(method), schedules.from_spec(step), schedules.from_spec(radius))


def test_every_result_is_registered_with_statement_and_parts():
    assert {r.key for r in RESULTS} == EXPECTED
    for r in RESULTS:
        assert r.statement and r.parts and all(h in HYPOTHESES for h in r.hypotheses)
        assert all(h in HYPOTHESES for part in r.parts for h in part.hypotheses)
        json.dumps(r.to_dict())


def test_decision_cannot_be_truth_tested():
    with pytest.raises(TypeError):
        bool(Decision(None, "undecided"))


def test_lipschitz_constant_provenance_rules():
    exact = lipschitz_gradient(_setting(Meta(dim=1, L=2.0, provenance={"L": "exact"})))
    assert exact.value is True and "(exact)" in exact.how
    assert lipschitz_gradient(_setting(Meta(dim=1, L=2.0, provenance={"L": "bound"}))).value is True
    estimate = lipschitz_gradient(_setting(Meta(dim=1, L=2.0, provenance={"L": "estimate"})))
    assert estimate.value is None and "estimate" in estimate.how
    local = lipschitz_gradient(_setting(Meta(dim=1, L=12.0, L_region={"ball": [[0.0], 1.0]})))
    assert local.value is None and "only on" in local.how
    descent = _setting(Meta(dim=1, descent_L=1.0, descent_only=True, provenance={"descent_L": "exact"}))
    assert lipschitz_gradient(descent).value is False and l_descent(descent).value is True


def test_condition_9_needs_a_stated_exponent():
    """Remark G.3: t_k = 1/k, ε_k ∝ 1/k^p with p > 0 satisfies (9) for any q ∈ (0, 1), so a stated q decides
    it. An analytic f of unknown exponent is undecided: its q may be arbitrarily close to 1 (x^2000)."""
    stated = _setting(Meta(dim=1, convex=True, analytic=True, L=1.0, kl_exponent=0.9,
                           minimizer=MinimizerSet("point", np.zeros((1, 1))), provenance={"kl_exponent": "exact"}))
    assert condition_9(stated).value is True
    analytic = condition_9(_setting(Meta(dim=1, analytic=True, L=1.0)))
    assert analytic.value is None and "arbitrarily close to 1" in analytic.how
    unknown = _setting(Meta(dim=1, L=1.0))
    assert condition_9(unknown).value is None
    slow = _setting(Meta(dim=1, convex=True, L=1.0, kl_exponent=0.5, minimizer=MinimizerSet("point", np.zeros((1, 1)))),
                    step="power:c=1,p=0.55", radius="power:c=0.1,p=0.7")
    assert condition_9(slow).value is not True  # Σ k^-0.55 (Σ_{i≥k} i^-1.25)^q diverges for every q < 1


def test_condition_9_says_why_a_stated_exponent_is_not_used():
    """A stated q that is only an estimate, or known at the minimizers of a nonconvex f only, leaves (9)
    undecided, and the reason says so (not "neither stated nor bounded")."""
    estimate = condition_9(_setting(Meta(dim=1, analytic=True, L=1.0, kl_exponent=0.5,
                                         provenance={"kl_exponent": "estimate"})))
    assert estimate.value is None
    assert "stated Łojasiewicz exponent cannot be used" in estimate.how and "estimate" in estimate.how
    assert "not stated" not in estimate.how
    at_minimizers = condition_9(_setting(Meta(dim=1, analytic=True, L=1.0, kl_exponent=0.5,
                                              provenance={"kl_exponent": "exact"})))
    assert at_minimizers.value is None and "minimizers only" in at_minimizers.how


def test_corollary_3_5_hypotheses_on_logsum():
    """All of (11) decided, with the reasons quoted; P5 stays unpredicted on nonconvex logsum."""
    (app,) = applicable("logsum:n=2,seed=1", "sam", "power:c=0.4,p=0.55", "power:c=0.3,p=0.7",
                        results=["corollary-3.5"])
    hyps = dict(app.hypotheses)
    assert app.applies is True
    assert "p-series" in hyps["Σ t_k ρ_k < ∞ (Σ t_k ε_k < ∞)"].how
    assert "2/L" in hyps["limsup ε_k < 2, i.e. limsup ρ_k < 2/L for ε_k = Lρ_k"].how
    assert app.predicted == {"P1": "holds", "P2": "holds", "P3": "holds", "P4": "holds"}


def test_violations_are_named():
    p = get("logsum:n=2,seed=1")
    (app,) = applicable(p, "sam", "power:c=1,p=1", "constant:0.1", include_all=True, results=["corollary-3.5"])
    assert app.applies is False and app.predicted == {} and "Σ t_k ρ_k < ∞" in app.reason
    big = 3 / p.meta.L
    (app,) = applicable(p, "sam", "power:c=1,p=1", f"perfect_squares:C={big},p=1", include_all=True,
                        results=["corollary-3.5"])
    assert app.applies is False and "limsup ρ" in app.reason


def test_local_L_makes_the_result_undecided_not_false():
    """quartic has L on a ball only: Corollary 3.5 is listed as undecided, with no prediction."""
    apps = applicable("quartic", "sam", "power:c=0.1,p=0.6", "power:c=0.1,p=0.7")
    cor = [a for a in apps if a.result == "corollary-3.5"][0]
    assert cor.applies is None and cor.predicted == {} and "only on" in cor.reason


def test_accepts_objects_and_spec_strings_alike():
    a = applicable(get("quadratic:n=4,cond=2"), methods.gd(), schedules.constant(0.5))
    b = applicable("quadratic:n=4,cond=2", "gd", "constant:0.5")
    assert [x.to_dict() for x in a] == [x.to_dict() for x in b]
    assert [x.result for x in a] == ["theorem-4.1"]
    json.dumps([x.to_dict() for x in a])
    assert a[0].rate["model"] == "linear"   # q = ½ known, t constant


def test_only_applying_or_undecided_results_by_default():
    apps = applicable("quadratic:n=4,cond=2", "sam", "power:c=0.3,p=0.6", "constant:0.1")
    assert {a.result for a in apps} == {"theorem-3.2"}
    everything = applicable("quadratic:n=4,cond=2", "sam", "power:c=0.3,p=0.6", "constant:0.1", include_all=True)
    assert len(everything) == len(RESULTS)


def test_example_3_1_and_dai_bound():
    p = get("example31:n=2")
    params = p.example31_parameters()
    (ex,) = applicable(p, "sam", params["t"], params["rho"], x0=params["x1"], results=["example-3.1"])
    assert ex.applies is True and ex.predicted == {k: "fails" for k in ("P2", "P3", "P4", "P5")}
    far = params["x_star"] + 10.0
    (ex,) = applicable(p, "sam", params["t"], params["rho"], x0=far, include_all=True, results=["example-3.1"])
    assert ex.applies is False
    (dai,) = applicable("x2", "sam", "constant:0.25", "constant:0.1", results=["dai-2023"])
    np.testing.assert_allclose(dai.bound["contraction"], 1 - 0.25 * 2 * (2 - 2 * 0.25))
    np.testing.assert_allclose(dai.bound["floor"], 0.25 * 8 * 0.01 / (2 * 2 * (2 - 0.5)))


def test_example_3_4_hypotheses():
    (app,) = applicable("x2", "igd:error=example34", "power:c=0.25,p=1", "constant:0.3", x0=[1.0],
                        results=["example-3.4"])
    assert app.applies is True and set(app.predicted) == {"P1", "P2", "P3", "P4", "P5"}
    (app,) = applicable("x2", "igd:error=example34", "power:c=0.6,p=1", "constant:0.3", x0=[1.0],
                        include_all=True, results=["example-3.4"])
    assert app.applies is False and "t_k < ½" in app.reason
    (app,) = applicable("quadratic_1d", "igd:error=example34", "power:c=0.25,p=1", "constant:0.3", x0=[1.0],
                        include_all=True, results=["example-3.4"])
    assert app.applies is False


def test_kl_rates():
    assert kl_rate(0.5)["model"] == "linear"
    r = kl_rate(0.75)
    assert r["model"] == "power" and math.isclose(r["exponent_x"], 0.5) and math.isclose(r["exponent_f"], 1.0)


def test_square_log_sum_has_a_complete_stationary_set():
    """rank A = m ≤ n: ∇f = Aᵀ[2r/(1 + r²)] = 0 only where r = 0, so every stationary point is a minimizer and
    Theorem 4.1(v) predicts a linear rate (q = ½); with m > n other stationary points may exist: undecided.
    Numerically: ‖∇f(x)‖ ≥ σ_min(A)·‖2r/(1 + r²)‖ > 0 at sampled points off {Ax = b}."""
    from convcheck.properties.hypotheses import stationary_points_are_minimizers
    for spec, expected in (("logsum:n=3,seed=2", True), ("logsum_under:n=4,m=2", True), ("logsum:n=2,m=4", None)):
        p = get(spec)
        s = Setting(p, methods.get("gd"), schedules.constant(0.1))
        assert stationary_points_are_minimizers(s).value is expected, spec
    p = get("logsum:n=3,seed=2")
    X = np.random.default_rng(0).standard_normal((2000, 3)) * 5 + p.x_star
    R = X @ p.A.T - p.b
    w = 2 * R / (1 + R * R)
    sigma_min = np.linalg.svd(p.A, compute_uv=False).min()
    assert np.all(np.linalg.norm(p.grad(X), axis=1) >= sigma_min * np.linalg.norm(w, axis=1) * (1 - 1e-12))
    (app,) = applicable(p, "gd", "constant:0.05", results=["theorem-4.1"])
    assert app.rate["model"] == "linear" and app.predicted["P5"] == "holds"
