"""The runner's real outputs, certified: each case's truth follows from the paper or a closed form."""
import numpy as np
import pytest

from convcheck import methods, run, schedules
from convcheck.problems import get
from convcheck.properties import certify


def test_gd_with_step_one_over_L_on_a_quadratic_satisfies_everything():
    """GD, t = 1/L on a strongly convex quadratic: linear convergence to x*, so P1–P5 hold."""
    p = get("quadratic", n=5, cond=10.0, seed=3)
    trace = run(p, "gd", np.ones(5) * 3, iters=2000, step=1.0 / p.meta.L)
    cert = certify(trace, p)
    assert cert.summary == {key: "holds" for key in ("P1", "P2", "P3", "P4", "P5")}
    assert cert["P3"].rate is not None


def test_example_3_1_sam_with_constant_step_and_radius_does_not_converge():
    """Example 3.1: SAM with constant t, ρ satisfying (13) stays at distance ≥ tρλmin − (1 − tλmin)·bound
    from x* (the only stationary point), so ‖∇f(x^k)‖ does not vanish: P1, P3, P5 fail."""
    p = get("example31", n=2, seed=0)
    params = p.example31_parameters()
    trace = run(p, "sam", params["x1"], iters=3000, step=params["t"], radius=params["rho"])
    cert = certify(trace, p)
    for key in ("P1", "P3", "P5"):
        assert cert[key].status == "fails", (key, cert[key].reason)
    gd = certify(run(p, "gd", params["x1"], iters=3000, step=params["t"]), p)
    assert gd["P5"].status == "holds"


def test_example_3_4_inexact_gd_with_constant_error_converges_to_a_nonstationary_point():
    """Example 3.4: on f = x², g^k = f′(x^k − ρ sign(x^k)) (error 2ρ), t_k = 0.5/(k+1): x^k → ρ with
    f′(ρ) = 2ρ ≠ 0. The iterates converge, but P1, P2, P3, P4 and P5 all fail."""
    p = get("x2")
    trace = run(p, methods.igd(error="example34"), np.array([1.0]), iters=20000,
                step=schedules.from_expr("0.5/(k+1)"), radius=0.3)
    assert abs(trace.x[-1, 0] - 0.3) < 1e-3
    cert = certify(trace, p)
    assert cert.summary == {key: "fails" for key in ("P1", "P2", "P3", "P4", "P5")}, str(cert)


def test_gd_on_the_mexican_hat_never_converges_and_is_not_claimed_to():
    """Absil–Mahony–Andrews: GD's iterates spiral toward the unit circle of stationary points without
    converging. ‖∇f‖ → 0 (P1–P3 hold) while the Cauchy radius per window does not shrink (P5 fails).
    P4 (f → 0, the value on the circle) needs the run to be known bounded, which a finite run of this
    length cannot show (‖x^k − x¹‖ still grows), so it may be inconclusive but never fails."""
    p = get("mexican_hat")
    start = p.spiral_start()
    trace = run(p, "gd", start["x1"], iters=20000, step=start["step"])
    cert = certify(trace, p)
    for key in ("P1", "P2", "P3"):
        assert cert[key].status == "holds", (key, cert[key].reason)
    # the radius per window rises and falls back within the newest windows (a spiral still opening):
    # P5 may stay open, but it never holds
    assert cert["P5"].status in ("fails", "inconclusive"), cert["P5"].reason
    assert cert["P4"].status in ("holds", "inconclusive")


@pytest.mark.parametrize("status_case", ["diverged", "stationary"])
def test_run_statuses_are_certified_honestly(status_case):
    p = get("quadratic", n=2, cond=2.0, seed=0)
    if status_case == "diverged":
        trace = run(p, "gd", np.ones(2), iters=500, step=3.0 / p.meta.L)
        assert trace.status == "diverged"
        cert = certify(trace, p)
        assert cert["P5"].status == "fails" and cert["P4"].status == "fails"
    else:
        p = get("x2")  # x* = 0 is exact, so ∇f(x¹) = 0 exactly
        trace = run(p, "sam", np.zeros(1), iters=10, step=0.1, radius=0.1)
        assert trace.status == "stationary"
        assert set(certify(trace, p).summary.values()) == {"holds"}


def tilted_well():
    """f(x) = x²/2 + 1.5·exp(−x²/2): a double well whose minimizers are ±√(2 ln 1.5)."""
    from convcheck.problems import from_functions

    return from_functions(lambda X: 0.5 * X[..., 0] ** 2 + 1.5 * np.exp(-0.5 * X[..., 0] ** 2),
                          lambda X: X - 1.5 * X * np.exp(-0.5 * X ** 2), dim=1, name="tilted_well", L=2.5)


def test_slow_drift_to_a_nonstationary_point_is_not_read_as_convergence():
    """Regression: SAM with t_k = 0.5/k and a constant radius ρ = 1.1 (Σ t_kρ_k = ∞, outside Cor. 3.5)
    creeps toward x ≈ 0.2 where |f′| ≈ 0.09: over the last windows ‖∇f‖ falls like k^-0.06, which once
    read as a power-law decay to zero and certified all five properties. None may hold."""
    p = tilted_well()
    trace = run(p, "sam", np.array([2.5]), iters=20000, step=schedules.power(0.5, 1), radius=1.1)
    assert trace.grad_norm[-1] > 0.09
    cert = certify(trace, p)
    # L·Σt_k over the deciding windows is small (t_k = 0.5/k): the level of ‖∇f‖ may stay open, never hold
    for key in ("P1", "P2", "P3", "P4", "P5"):
        assert cert[key].status != "holds", (key, cert[key].reason)


def test_analytic_drift_toward_a_positive_gradient_is_not_zero():
    """x^k = 1 + k^-0.06 on f = x²/2: ‖∇f(x^k)‖ = x^k → 1 (P1, P3 fail); the decay of ‖∇f‖ − 1 is a
    shallow power law, so only the extrapolated limit tells it from a decay to zero."""
    from convcheck.problems import from_functions

    p = from_functions(lambda X: 0.5 * X[..., 0] ** 2, lambda X: X, dim=1, name="half_square", L=1.0)
    k = np.arange(1, 200_001, dtype=float)
    cert = certify((1.0 + k ** -0.06)[:, None], p)
    assert cert["P3"].status != "holds" and cert["P1"].status != "holds", str(cert)


@pytest.mark.parametrize("iters", [1000, 2000, 4000, 8000, 16000])
def test_fast_approach_to_a_nonstationary_point_is_never_certified_stationary(iters):
    """Regression (found in review): Example 3.4's reverse-SAM error with a constant step 1e-3 on x²
    converges linearly to x = 0.3, where |f′| = 0.6. Window maxima of ‖∇f‖ (5.7, 4.8, 3.9, 2.6, 1.3, 0.7,
    0.6…) first look like a steep decay to zero; they once gave P1–P3 "holds", and at 8000 steps all
    five. At no length may P1, P2, P3 or P5 hold."""
    p = get("x2")
    trace = run(p, methods.igd(error="example34"), np.array([3.0]), iters=iters, step=1e-3, radius=0.3)
    cert = certify(trace, p)
    for key in ("P1", "P2", "P3", "P5"):
        assert cert[key].status != "holds", (iters, key, cert[key].reason)
    if iters >= 8000:
        assert cert["P5"].status == "fails" and cert["P2"].status == "fails"


def test_noisy_growth_of_the_window_diameter_does_not_decide_non_convergence():
    """Regression (the README's example): SAM on the Appendix E logsum with t_k = 0.005/k and
    ρ_k = 0.1/k^0.001 creeps near x^∞; the diameter of the newest windows rises from 7e-5 to 1.1e-4
    with a poor power-law fit (R² 0.73), which was once read as "the iterates do not converge"."""
    p = get("logsum", n=20, seed=0)
    trace = run(p, methods.sam(), p.appendix_e_start(), iters=20000, step=schedules.power(0.1 / 20, 1),
                radius=schedules.almost_constant(0.1))
    cert = certify(trace, p)
    assert cert["P5"].status != "fails", cert["P5"].reason
    for key in ("P1", "P2", "P3"):  # Corollary 3.5 / Remark 3.6
        assert cert[key].status == "holds", (key, cert[key].reason)
