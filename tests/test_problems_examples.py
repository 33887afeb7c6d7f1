"""The paper's examples and the counterexamples in the catalogue behave as stated."""
from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck.errors import SpecError
from convcheck.problems import get


@pytest.mark.parametrize("params", [{}, {"n": 1}, {"n": 5, "seed": 3, "rho": 0.3}, {"n": 3, "lam_max": 1.9}])
def test_example31_sam_stays_away_while_gd_converges(params):
    """Example 3.1: under (13) and t <= 2/(λmin+λmax), SAM (14) with constant t, ρ keeps
    tρλmin − (1 − tλmin)·bound <= ‖x^k − x*‖ < bound = tρλmin/(1 − tλmin) for every k (15)-(16), so it
    does not converge, while GD with the same t converges to x*."""
    problem = get("example31", **params)
    setting = problem.example31_parameters()
    t, rho, x_star, bound = setting["t"], setting["rho"], setting["x_star"], setting["distance_bound"]
    low, high = setting["t_interval"]
    assert low < t <= high and 0 < np.linalg.norm(setting["x1"] - x_star) < bound
    lam = np.linalg.eigvalsh(problem.hessian(x_star))
    assert t <= 2 / (lam[0] + lam[-1]) + 1e-15 and t > 1 / lam[0] - 1 / (lam[0] + lam[-1])
    A, b = problem.A, problem.b
    sam, gd = setting["x1"].copy(), setting["x1"].copy()
    distances = [np.linalg.norm(sam - x_star)]
    for _ in range(2000):
        g = A @ sam - b
        sam = sam - t * (A @ (sam + rho * g / np.linalg.norm(g)) - b)  # SAM iteration (14)
        gd = gd - t * (A @ gd - b)
        distances.append(np.linalg.norm(sam - x_star))
        lower = t * rho * lam[0] - (1 - t * lam[0]) * distances[-2]  # (16)
        assert 0 < lower * (1 - 1e-12) <= distances[-1] < bound
    assert min(distances) > 0.25 * t * rho * lam[0]  # bounded away from x* for all 2000 steps
    assert np.linalg.norm(gd - x_star) < 1e-12


def test_example31_rejects_parameters_outside_the_caveat():
    with pytest.raises(SpecError, match="lam_max < 2"):
        get("example31", lam_min=1.0, lam_max=2.5)
    with pytest.raises(SpecError, match="violates"):
        get("example31", t=0.95)  # inside (13) but above 2/(λmin+λmax) = 0.8


def test_example34_x2_constants():
    problem = get("x2")
    assert (problem.dim, problem.meta.L, problem.meta.mu, problem.meta.f_star) == (1, 2.0, 2.0, 0.0)
    assert_allclose(problem.f(np.array([[3.0], [-0.5]])), [9.0, 0.25])
    assert_allclose(problem.grad(np.array([[3.0]])), [[6.0]])


def test_quadratic_constants_match_the_spectrum():
    problem = get("quadratic:n=6,cond=50,seed=2")
    eigenvalues = np.linalg.eigvalsh(problem.A)
    assert_allclose([eigenvalues[0], eigenvalues[-1]], [problem.meta.mu, problem.meta.L], rtol=1e-12)
    assert_allclose(problem.meta.L / problem.meta.mu, 50.0, rtol=1e-12)
    x_star = problem.meta.minimizer.points[0]
    assert_allclose(x_star, np.linalg.solve(problem.A, problem.b), rtol=1e-10)
    assert_allclose(problem.meta.f_star, -0.5 * problem.b @ x_star, rtol=1e-12)


def test_logsum_planted_solution_and_appendix_e_start():
    problem = get("logsum", n=20, seed=0)
    assert problem.A.shape == (20, 20)
    assert_allclose(problem.A @ problem.x_star, problem.b, rtol=1e-12, atol=1e-12)
    assert_allclose(problem.f(problem.x_star), 0.0, atol=1e-20)
    assert problem.meta.minimizer.kind == "point"
    assert_allclose(problem.appendix_e_start() - problem.x_star, np.full(20, 0.1 / 400))
    assert_allclose(problem.meta.L, 2 * np.linalg.norm(problem.A, 2) ** 2, rtol=1e-12)


def test_underdetermined_logsum_has_affine_minimizers():
    problem = get("logsum", n=5, m=3, seed=1)
    m = problem.meta.minimizer
    assert m.kind == "affine" and m.directions.shape == (2, 5) and problem.meta.bounded_level_sets is False
    assert_allclose(problem.A @ m.directions.T, 0.0, atol=1e-12)
    assert_allclose(m.distance(problem.x_star), 0.0, atol=1e-12)  # the planted solution lies on the set
    far_along = m.points[0] + 100.0 * m.directions[0]
    assert_allclose(problem.f(far_along), 0.0, atol=1e-20)
    assert get("logsum_under").meta.minimizer.kind == "affine"


class TestMexicanHat:
    """Absil–Mahony–Andrews (2005): a smooth, non-analytic f whose descent iterates do not converge."""

    problem = get("mexican_hat")

    def test_formula_values(self):
        r, theta = 0.8, 1.3
        s = 1 / (1 - r * r)
        a = 4 * r ** 4 / (4 * r ** 4 + (1 - r * r) ** 4)
        expected = math.exp(-s) * (1 - a * math.sin(theta - s))
        x = np.array([r * math.cos(theta), r * math.sin(theta)])
        assert_allclose(self.problem.f(x), expected, rtol=1e-14)
        outside = np.array([[1.0, 0.0], [0.6, -0.9], [3.0, 4.0]])
        assert np.all(self.problem.f(outside) == 0.0) and np.all(self.problem.grad(outside) == 0.0)
        assert np.all(self.problem.f(np.random.default_rng(0).uniform(-0.7, 0.7, (50, 2))) > 0)

    def test_gradient_descent_spirals_outward_down_the_valley(self):
        """From valley-floor starts one winding apart (spiral_start), GD with constant steps moves
        counterclockwise (θ increasing) and outward (r increasing) at every step after the first,
        f decreasing, staying on the valley floor θ − 1/(1 − r²) ≈ π/2 (mod 2π); each winding is
        closer to the unit circle, with f and ‖∇f‖ smaller by orders of magnitude: the iterates follow
        a spiral whose ω-limit is the whole circle (spec: no convergence without analyticity)."""
        starts = [self.problem.spiral_start(turn) for turn in range(4)]
        X = np.array([s["x1"] for s in starts])
        steps = np.array([s["step"] for s in starts])[:, None]
        angles, radii, values, grad_norms = [], [], [], []
        for _ in range(2000):
            value, grad = self.problem.value_and_grad(X)
            angles.append(np.arctan2(X[:, 1], X[:, 0]))
            radii.append(np.linalg.norm(X, axis=1))
            values.append(value)
            grad_norms.append(np.linalg.norm(grad, axis=1))
            X = X - steps * grad
        angles = np.unwrap(np.array(angles), axis=0)
        radii, values, grad_norms = np.array(radii), np.array(values), np.array(grad_norms)
        assert np.all(np.diff(angles[1:], axis=0) > 0)
        assert np.all(np.diff(radii, axis=0) > 0)
        assert np.all(np.diff(values, axis=0) < 0)
        assert_allclose(self.problem.valley_phase(X), math.pi / 2, atol=0.05)
        assert angles[-1, 0] - angles[0, 0] > 0.5  # the first winding advances visibly
        assert np.all(np.diff(radii[-1]) > 0) and radii[-1, -1] > 0.97
        assert np.all(values[-1, 1:] < 1e-3 * values[-1, :-1])
        assert np.all(grad_norms[-1, 1:] < 1e-3 * grad_norms[-1, :-1])

    def test_constant_step_progress_is_slow_but_monotone(self):
        """With the single constant step 0.1 from the first start, GD advances along the valley
        (the documented ~1/4 turn in 2·10⁴ steps; 4000 steps here) without ever turning back."""
        x = self.problem.spiral_start(0)["x1"]
        angle = [math.atan2(x[1], x[0])]
        for _ in range(4000):
            x = x - 0.1 * self.problem.grad(x)
            angle.append(math.atan2(x[1], x[0]))
        angle = np.unwrap(angle)
        assert np.all(np.diff(angle[10:]) > 0) and angle[-1] - angle[0] > 1.0
        assert 0.8 < np.linalg.norm(x) < 1.0

    def test_metadata(self):
        meta = self.problem.meta
        assert meta.minimizer.kind == "exterior" and meta.analytic is False and meta.kl is False
        assert meta.provenance["L"] == "estimate" and meta.convex is False and meta.f_star == 0.0
