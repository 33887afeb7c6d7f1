"""Each method's first steps against a hand computation of its formula (Section 2 and Appendix D of the paper, and each variant's own paper)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck import methods, run
from convcheck.errors import InputError, SpecError, UnknownNameError


def grad(problem, x):
    return problem.grad(np.asarray(x, float)[None])[0]


def hand_steps(problem, x0, step, rule, count):
    """Iterate x^{k+1} = x^k − t D_k with D_k = rule(x^k, k, state) written out by hand."""
    xs, state = [np.asarray(x0, float)], {}
    for k in range(1, count + 1):
        x = xs[-1]
        xs.append(x - step * rule(x, k, state))
    return np.array(xs)


def unit(v):
    return v / np.linalg.norm(v)


RHO, T = 0.05, 0.3


def rule_gd(p):
    return lambda x, k, s: grad(p, x)


def rule_sam(p):
    return lambda x, k, s: grad(p, x + RHO * unit(grad(p, x)))


def rule_usam(p):
    return lambda x, k, s: grad(p, x + RHO * grad(p, x))


def rule_extragradient(p):
    return lambda x, k, s: grad(p, x - RHO * grad(p, x))


def rule_vasso(p, theta):
    def rule(x, k, s):
        g = grad(p, x)
        s["d"] = g if k == 1 else (1 - theta) * s["d"] + theta * g
        return grad(p, x + RHO * unit(s["d"]))
    return rule


def rule_fsam(p, sigma, lam, order):
    def rule(x, k, s):
        g = grad(p, x)
        if k == 1:
            d, s["m"] = g, g
        elif order == "code":
            d = g - sigma * s["m"]
            s["m"] = lam * s["m"] + (1 - lam) * g
        else:
            s["m"] = lam * s["m"] + (1 - lam) * g
            d = g - sigma * s["m"]
        return grad(p, x + RHO * unit(d))
    return rule


def rule_igd_opposite(p):
    return lambda x, k, s: grad(p, x) - RHO * unit(grad(p, x))


def rule_igd_example34(p):
    return lambda x, k, s: grad(p, x - RHO * unit(grad(p, x)))


def rule_igdr_opposite(p, nu):
    return lambda x, k, s: (1 - nu) * grad(p, x)


CASES = [
    ("gd", rule_gd), ("sam", rule_sam), ("usam", rule_usam), ("extragradient", rule_extragradient),
    ("vasso:theta=0.3", lambda p: rule_vasso(p, 0.3)),
    ("fsam:sigma=0.5,lam=0.8", lambda p: rule_fsam(p, 0.5, 0.8, "code")),
    ("fsam:sigma=0.5,lam=0.8,order=paper", lambda p: rule_fsam(p, 0.5, 0.8, "paper")),
    ("igd", rule_igd_opposite), ("igd:error=example34", rule_igd_example34),
    ("igdr:nu=0.4", lambda p: rule_igdr_opposite(p, 0.4)),
]


@pytest.mark.parametrize("spec,rule", CASES, ids=[c[0] for c in CASES])
def test_first_steps_match_hand_computation(logsum, spec, rule):
    x0 = logsum.x_star + 0.3
    trace = run(logsum, spec, x0, iters=4, step=T, radius=RHO)
    expected = hand_steps(logsum, x0, T, rule(logsum), 4)
    assert_allclose(trace.x, expected, rtol=1e-13, atol=1e-14)
    assert_allclose(trace.f, logsum.f(expected), rtol=1e-13)
    assert_allclose(trace.grad_norm, np.linalg.norm(logsum.grad(expected), axis=1), rtol=1e-13)
    assert_allclose(trace.step_norm[:-1], np.linalg.norm(np.diff(expected, axis=0), axis=1), rtol=1e-10)


def test_rsam_matches_formula_with_the_runs_own_draws(logsum):
    """RSAM (Alg. 2d): Δ ~ N(0, σ²I) from the run's seeded generator, d = Δ + λ∇f(x + Δ)."""
    sigma, lam, seed = 0.02, 0.7, 11
    x0 = logsum.x_star + 0.3
    trace = run(logsum, methods.rsam(sigma=sigma, lam=lam), x0, iters=3, step=T, radius=RHO, seed=seed)
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((1, 3, logsum.dim))[0]

    def rule(x, k, s):
        delta = sigma * draws[k - 1]
        d = delta + lam * grad(logsum, x + delta)
        return grad(logsum, x + RHO * unit(d))

    assert_allclose(trace.x, hand_steps(logsum, x0, T, rule, 3), rtol=1e-13)


def test_igd_random_error_has_exact_length(logsum):
    trace = run(logsum, "igd:error=random", logsum.x_star + 0.3, iters=3, step=T, radius=RHO, seed=4)
    xs = trace.x
    for k in range(3):
        g_used = (xs[k] - xs[k + 1]) / T
        assert np.linalg.norm(g_used - grad(logsum, xs[k])) == pytest.approx(RHO, rel=1e-9)


def test_igdr_random_error_within_relative_bound(logsum):
    nu = 0.6
    trace = run(logsum, methods.igdr(nu=nu, error="random"), logsum.x_star + 0.3, iters=5, step=T, seed=2)
    for k in range(5):
        g = grad(logsum, trace.x[k])
        g_used = (trace.x[k] - trace.x[k + 1]) / T
        assert np.linalg.norm(g_used - g) == pytest.approx(nu * np.linalg.norm(g), rel=1e-9)


def test_user_error_callable_is_used_and_checked(quadratic):
    def half_opposite(X, G, eps, k, noise):
        return -0.5 * eps[:, None] * G / np.linalg.norm(G, axis=1, keepdims=True)

    trace = run(quadratic, methods.igd(error=half_opposite), np.array([2.0, 2.0]), iters=2, step=0.5, radius=0.1)
    g = grad(quadratic, [2.0, 2.0])
    assert_allclose(trace.x[1], np.array([2.0, 2.0]) - 0.5 * (g - 0.05 * unit(g)), rtol=1e-14)

    def too_long(X, G, eps, k, noise):
        return 2 * eps[:, None] * np.ones_like(G)

    with pytest.raises(InputError, match="longer than"):
        run(quadratic, methods.igd(error=too_long), np.array([2.0, 2.0]), iters=2, step=0.5, radius=0.1)


def test_vasso_theta_one_and_fsam_sigma_zero_are_sam(logsum):
    x0 = logsum.x_star + 0.4
    kwargs = dict(iters=50, step=0.2, radius=0.1)
    sam = run(logsum, "sam", x0, **kwargs)
    for spec in ("vasso:theta=1", "fsam:sigma=0", "fsam:sigma=0,order=paper"):
        other = run(logsum, spec, x0, **kwargs)
        assert_allclose(other.x, sam.x, rtol=1e-13, atol=1e-15)
        assert_allclose(other.f, sam.f, rtol=1e-13)


def test_sam_zero_gradient_stops_as_stationary(quadratic):
    trace = run(quadratic, "sam", quadratic.x_star, iters=10, step=0.5, radius=0.1)
    assert trace.status == "stationary" and trace.status_k == 1
    assert trace.grad_norm.tolist() == [0.0]
    assert "finite termination" in trace.status_reason


def test_eps_guard_is_explicit_and_off_by_default(quadratic):
    assert methods.sam().params["eps_guard"] == 0.0
    guarded = run(quadratic, methods.sam(eps_guard=1e-12), quadratic.x_star, iters=3, step=0.5, radius=0.1)
    assert guarded.status == "completed"
    assert_allclose(guarded.x[-1], quadratic.x_star)


@pytest.mark.parametrize("spec,message", [
    ("samm", "did you mean 'sam'"),
    ("vasso:theta=1.5", r"theta must lie in \[0, 1\]"),
    ("igdr:nu=1", r"nu must lie in \[0, 1\)"),
    ("fsam:order=sideways", "order must be one of code, paper"),
    ("sam:rho=0.1", "has no parameter rho"),
    ("vasso:0.9", "key=value"),
])
def test_bad_method_specs(spec, message):
    with pytest.raises((SpecError, UnknownNameError), match=message):
        methods.get(spec)


def test_every_method_documents_its_algorithm_number():
    for row in methods.describe_methods():
        cls = methods.REGISTRY[row["name"]].cls
        assert cls.__doc__ and ("Alg" in cls.__doc__ or "Section 2" in cls.__doc__), row["name"]
