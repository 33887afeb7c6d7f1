"""Convex edge cases and Łojasiewicz test functions.

- ``flat_ball``: max(‖x‖ − r, 0)², zero on a ball (bounded, non-unique minimizers), C^{1,1} with L = 2.
- ``logistic``: log(1 + exp(−aᵀx)), convex, C^{1,L} with L = ‖a‖²/4, inf f = 0 not attained.
- ``quartic``: Σ x_i⁴, convex, Łojasiewicz exponent ¾, ∇f Lipschitz only on bounded sets.
- ``power``: ‖x‖^p (p ≥ 2), Łojasiewicz exponent 1 − 1/p ([derived]).
"""
from __future__ import annotations

import math

import numpy as np

from convcheck.jit import CompiledProblem, jit_inline

from .base import Meta, MinimizerSet, Problem
from .catalogue_quadratic import SEED
from .registry import Param, register

DIM = Param("n", 2, "int", low=1, high=10_000)
RADIUS = Param("R", 1.0, low=0.0, low_open=True, doc="radius of the ball on which L is stated")


def _origin(n: int) -> np.ndarray:
    return np.zeros((1, n))


class FlatBallProblem(Problem):
    """f(x) = max(‖x‖ − r, 0)² = dist(x, B_r)²; ∇f(x) = 2 max(‖x‖ − r, 0) x/‖x‖."""

    def __init__(self, meta: Meta, radius: float):
        super().__init__("flat_ball", meta)
        self.radius = radius

    def _value_and_grad(self, X):
        xp = self.xp
        norm = xp.sqrt(xp.sum(X * X, axis=-1))
        excess = xp.maximum(norm - self.radius, 0.0)
        scale = 2.0 * excess / xp.maximum(norm, self.radius)  # excess = 0 wherever norm <= radius
        return excess * excess, scale[..., None] * X

    def hessian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        norm = np.linalg.norm(x)
        if norm <= self.radius:
            return np.zeros((self.dim, self.dim))
        u = x / norm
        radial = np.outer(u, u)
        return 2.0 * (1.0 - self.radius / norm) * (np.eye(self.dim) - radial) + 2.0 * radial

    def compiled_form(self):
        return CompiledProblem.of("flat_ball", _flat_ball_value_and_grad, ([self.radius],))


def _flat_ball_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`FlatBallProblem._value_and_grad`: e = max(‖x‖ − r, 0), f = e², ∇f = (2e/max(‖x‖, r))x."""
    radius = data[0]
    for i in range(X.shape[0]):
        squares = 0.0
        for l in range(X.shape[1]):
            squares += X[i, l] * X[i, l]
        norm = math.sqrt(squares)
        excess = max(norm - radius, 0.0)
        scale = 2.0 * excess / max(norm, radius)
        if with_value:
            F[i] = excess * excess
        for l in range(X.shape[1]):
            G[i, l] = scale * X[i, l]


@register("flat_ball", "max(‖x‖ − r, 0)²: convex, C^{1,1} (L = 2), minimizers = the ball of radius r",
          (DIM, Param("r", 1.0, low=0.0, low_open=True)))
def flat_ball(n: int, r: float) -> FlatBallProblem:
    """Squared distance to the ball B_r: ∇f(x) = 2(x − P_B(x)) is 2-Lipschitz (projections are
    firmly nonexpansive), L = 2 exact (attained far out radially); μ = 0; f* = 0 on the whole ball
    (bounded, non-unique minimizers). f is not analytic (it vanishes on an open set without being
    zero) but semialgebraic, so KL holds; f = dist² and ‖∇f‖ = 2 dist give exponent ½."""
    meta = Meta(dim=n, params={"n": n, "r": r}, convex=True, mu=0.0, L=2.0, f_star=0.0,
                minimizer=MinimizerSet("ball", points=_origin(n), radius=r), bounded_level_sets=True,
                analytic=False, kl=True, kl_exponent=0.5, reference="squared distance to a ball",
                provenance={"mu": "exact", "L": "exact", "f_star": "exact", "kl_exponent": "exact"})
    return FlatBallProblem(meta, r)


class LogisticProblem(Problem):
    """f(x) = log(1 + exp(−aᵀx)), ∇f(x) = −σ(−aᵀx) a with σ the logistic sigmoid (stable forms)."""

    _data_fields = ("a",)

    def __init__(self, meta: Meta, a: np.ndarray):
        super().__init__("logistic", meta)
        self.a = a

    def _value_and_grad(self, X):
        xp = self.xp
        z = X @ self.a
        value = xp.logaddexp(0.0, -z)
        weight = xp.exp(-xp.logaddexp(0.0, z))  # σ(−z) without overflow
        return value, -weight[..., None] * self.a

    def hessian(self, x) -> np.ndarray:
        a = self.backend.to_host(self.a)
        z = float(np.asarray(x, dtype=float) @ a)
        s = np.exp(-np.logaddexp(0.0, z))
        return s * (1.0 - s) * np.outer(a, a)

    def compiled_form(self):
        return CompiledProblem.of("logistic", _logistic_value_and_grad, (self.backend.to_host(self.a),))


@jit_inline
def _logaddexp(x, y):
    """log(eˣ + eʸ) as NumPy's ``logaddexp`` computes it (no overflow)."""
    if x == y:
        return x + math.log(2.0)
    difference = x - y
    if difference > 0:
        return x + math.log1p(math.exp(-difference))
    if difference <= 0:
        return y + math.log1p(math.exp(difference))
    return difference  # NaN


def _logistic_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`LogisticProblem._value_and_grad`: z = aᵀx, f = logaddexp(0, −z),
    ∇f = −σ(−z)a with σ(−z) = exp(−logaddexp(0, z))."""
    a = data
    for i in range(X.shape[0]):
        z = 0.0
        for l in range(X.shape[1]):
            z += X[i, l] * a[l]
        if with_value:
            F[i] = _logaddexp(0.0, -z)
        weight = math.exp(-_logaddexp(0.0, z))
        for l in range(X.shape[1]):
            G[i, l] = -weight * a[l]


@register("logistic", "log(1 + exp(−aᵀx)), a = scale·(seeded unit vector): convex, L = scale²/4, inf f = 0 "
          "not attained (no minimizer)", (DIM, Param("scale", 2.0, low=0.0, low_open=True), SEED))
def logistic(n: int, scale: float, seed: int) -> LogisticProblem:
    """Convex, C^{1,L} with L = ‖a‖²/4 exact (the Hessian σ(1−σ)aaᵀ has norm ‖a‖²/4 at aᵀx = 0); f > 0
    everywhere and f → 0 along the direction a, so f* = 0 is not attained: no minimizer and no
    stationary point; level sets unbounded; analytic (KL holds at every point, but no exponent at a
    minimizer since none exists). a = scale·g/‖g‖ with g seeded standard normal (so L = scale²/4
    does not depend on the draw)."""
    g = np.random.default_rng(seed).standard_normal(n)
    a = scale * g / np.linalg.norm(g)
    meta = Meta(dim=n, params={"n": n, "scale": scale, "seed": seed}, convex=True, mu=0.0, L=float(a @ a) / 4.0, f_star=0.0,
                minimizer=MinimizerSet("none"), stationary_points=np.zeros((0, n)), bounded_level_sets=False,
                analytic=True, reference="logistic loss of one example (infimum not attained)",
                provenance={"mu": "exact", "L": "exact", "f_star": "exact"},
                notes="inf f = 0 is approached as a^T x -> +inf and never attained")
    return LogisticProblem(meta, a)


class QuarticProblem(Problem):
    """f(x) = Σ x_i⁴, ∇f(x) = 4x³ (elementwise)."""

    def _value_and_grad(self, X):
        X2 = X * X
        return self.xp.sum(X2 * X2, axis=-1), 4.0 * X2 * X

    def hessian(self, x) -> np.ndarray:
        return np.diag(12.0 * np.asarray(x, dtype=float) ** 2)

    def compiled_form(self):
        return CompiledProblem.of("quartic", _quartic_value_and_grad)


def _quartic_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`QuarticProblem._value_and_grad`: f = Σ x⁴ = Σ (x²)², ∇f = 4x²·x."""
    for i in range(X.shape[0]):
        value = 0.0
        for l in range(X.shape[1]):
            x = X[i, l]
            square = x * x
            value += square * square
            G[i, l] = 4.0 * square * x
        if with_value:
            F[i] = value


@register("quartic", "Σ x_i⁴: convex, KL exponent 3/4, L = 12R² only on the ball of radius R", (DIM, RADIUS))
def quartic(n: int, R: float) -> QuarticProblem:
    """Σ x_i⁴ has no global Lipschitz gradient (∇²f = diag(12x_i²) is unbounded); on the ball
    ‖x‖ ≤ R, L = 12R² exactly (attained at R·e_1), so descent statements hold only while the
    iterates stay in that ball. f* = 0 at the origin, μ = 0 (∇²f(0) = 0). Łojasiewicz exponent ¾:
    f^{3/4} and ‖∇f‖ = 4(Σx_i⁶)^{1/2} are both homogeneous of degree 3."""
    meta = Meta(dim=n, params={"n": n, "R": R}, convex=True, mu=0.0, L=12.0 * R * R,
                L_region={"ball": [[0.0] * n, R]}, f_star=0.0, minimizer=MinimizerSet("point", points=_origin(n)),
                stationary_points=_origin(n), bounded_level_sets=True, analytic=True, kl_exponent=0.75,
                reference="[derived]: |x|^p has Łojasiewicz exponent 1 − 1/p",
                provenance={"mu": "exact", "L": "exact", "f_star": "exact", "kl_exponent": "exact"},
                notes="grad f is Lipschitz only on bounded sets: L holds on the ball of radius R")
    return QuarticProblem("quartic", meta)


class PowerProblem(Problem):
    """f(x) = ‖x‖^p, ∇f(x) = p‖x‖^{p−2} x (p ≥ 2, so the gradient is continuous at 0)."""

    def __init__(self, meta: Meta, p: float):
        super().__init__("power", meta)
        self.p = p

    def _value_and_grad(self, X):
        xp = self.xp
        sq = xp.sum(X * X, axis=-1)
        scale = sq ** (0.5 * self.p - 1.0) if self.p != 2.0 else xp.ones_like(sq)
        return scale * sq, (self.p * scale)[..., None] * X

    def hessian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        norm = np.linalg.norm(x)
        if norm == 0.0:
            return 2.0 * np.eye(self.dim) if self.p == 2.0 else np.zeros((self.dim, self.dim))
        u = x / norm
        return self.p * norm ** (self.p - 2) * (np.eye(self.dim) + (self.p - 2) * np.outer(u, u))

    def compiled_form(self):
        return CompiledProblem.of("power", _power_value_and_grad, ([self.p],))


def _power_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`PowerProblem._value_and_grad`: s = ‖x‖², c = s^{p/2 − 1} (1 when p = 2),
    f = c·s, ∇f = (p·c)x."""
    p = data[0]
    for i in range(X.shape[0]):
        squares = 0.0
        for l in range(X.shape[1]):
            squares += X[i, l] * X[i, l]
        scale = squares ** (0.5 * p - 1.0) if p != 2.0 else 1.0
        if with_value:
            F[i] = scale * squares
        for l in range(X.shape[1]):
            G[i, l] = (p * scale) * X[i, l]


@register("power", "‖x‖^p (p >= 2): convex, KL exponent 1 − 1/p, L = p(p−1)R^{p−2} on the ball of radius R",
          (DIM, Param("p", 3.0, low=2.0, high=16.0), RADIUS))
def power(n: int, p: float, R: float) -> PowerProblem:
    """‖x‖^p: Łojasiewicz exponent q = 1 − 1/p at 0 (f^q = ‖x‖^{p−1} = ‖∇f‖/p), so p = 2 gives the
    linear regime q = ½ and p > 2 the sublinear one. ∇²f has eigenvalues p‖x‖^{p−2} and
    p(p−1)‖x‖^{p−2}, so on the ball of radius R, L = p(p−1)R^{p−2} exactly (global when p = 2).
    Analytic only when p/2 is an integer; KL holds for every p (f is definable in an o-minimal
    structure)."""
    global_L = p == 2.0
    meta = Meta(dim=n, params={"n": n, "p": p, "R": R}, convex=True, mu=2.0 if global_L else 0.0,
                L=p * (p - 1) * R ** (p - 2), L_region=None if global_L else {"ball": [[0.0] * n, R]},
                f_star=0.0, minimizer=MinimizerSet("point", points=_origin(n)), stationary_points=_origin(n),
                bounded_level_sets=True, analytic=float(p / 2).is_integer(), kl=True, kl_exponent=1.0 - 1.0 / p,
                reference="[derived]: |x|^p has Łojasiewicz exponent 1 − 1/p",
                provenance={"mu": "exact", "L": "exact", "f_star": "exact", "kl_exponent": "exact"})
    return PowerProblem(meta, p)


class SoftQuarticProblem(Problem):
    """f(x) = Σ (√(1 + x_i⁴) − 1), ∇f(x) = 2x³/√(1 + x⁴) (elementwise)."""

    def _value_and_grad(self, X):
        root = self.xp.sqrt(1.0 + X ** 4)
        return (root - 1.0).sum(axis=-1), 2.0 * X ** 3 / root

    def hessian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.diag((6.0 * x ** 2 + 2.0 * x ** 6) / (1.0 + x ** 4) ** 1.5)

    def compiled_form(self):
        return CompiledProblem.of("soft_quartic", _soft_quartic_value_and_grad)


def _soft_quartic_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`SoftQuarticProblem._value_and_grad`: w = √(1 + x⁴), f = Σ (w − 1), ∇f = 2x³/w."""
    for i in range(X.shape[0]):
        value = 0.0
        for l in range(X.shape[1]):
            x = X[i, l]
            root = math.sqrt(1.0 + x ** 4.0)
            value += root - 1.0
            G[i, l] = 2.0 * x ** 3.0 / root
        if with_value:
            F[i] = value


@register("soft_quartic", "Σ (√(1 + x_i⁴) − 1): convex, global L = 2√2, KL exponent 3/4 at the minimizer 0",
          (DIM,))
def soft_quartic(n: int) -> SoftQuarticProblem:
    """The catalogue's one entry with a *global* Lipschitz constant and a Łojasiewicz exponent q ∈ (½, 1),
    so that Theorem 4.1(v)'s power rate is predicted on a catalogue problem.

    f″(x) = (6x² + 2x⁶)/(1 + x⁴)^{3/2} per coordinate lies in [0, 2√2], its maximum attained at |x| = 1
    (the derivative of the ratio vanishes at x⁴ = 1 on x > 0), so ∇f is globally L-Lipschitz with
    L = 2√2 exactly and f is convex. Near 0, f = ½Σx_i⁴ + O(x⁸): f^{3/4} and ‖∇f‖ are both of degree 3,
    so the Łojasiewicz exponent at the unique minimizer 0 is q = ¾ ((1 − q)/(2q − 1) = ½ in Theorem
    4.1(v)). f → ∞ like Σ x_i², so level sets are bounded; f is real-analytic."""
    meta = Meta(dim=n, params={"n": n}, convex=True, mu=0.0, L=2.0 * np.sqrt(2.0), f_star=0.0,
                minimizer=MinimizerSet("point", points=_origin(n)), stationary_points=_origin(n),
                bounded_level_sets=True, analytic=True, kl_exponent=0.75,
                reference="convcheck [derived]: a quartic at 0 with quadratic growth at infinity",
                provenance={"mu": "exact", "L": "exact", "f_star": "exact", "kl_exponent": "exact"})
    return SoftQuarticProblem("soft_quartic", meta)
