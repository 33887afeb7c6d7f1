"""Quadratic entries: f(x) = ½xᵀAx − bᵀx with A symmetric positive semidefinite.

Constants ([derived]): L = λmax(A),
μ = λmin(A), x* = A⁻¹b, f* = −½bᵀA⁻¹b, Łojasiewicz exponent ½ (quadratic growth). With singular A and
b ∈ range(A) the minimizers form the affine set A⁺b + ker A and μ = 0.

Entries: ``quadratic`` (seeded, given condition number), ``quadratic_1d``, ``x2`` (Example 3.4's
f = x²), ``example31`` (instances of the paper's Example 3.1) and ``quadratic_singular``.
"""
from __future__ import annotations

import numpy as np

from convcheck.errors import SpecError
from convcheck.jit import CompiledProblem

from .base import Meta, MinimizerSet, Problem
from .registry import Param, register

SEED = Param("seed", 0, "int", low=0, doc="seed of numpy.random.default_rng")


def random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed orthogonal matrix (QR of a Gaussian matrix with the sign fix of Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


class QuadraticProblem(Problem):
    """f(x) = ½xᵀAx − bᵀx, ∇f(x) = Ax − b (A symmetric), evaluated on (..., n) batches."""

    _data_fields = ("A", "b")

    def __init__(self, name: str, meta: Meta, A: np.ndarray, b: np.ndarray):
        super().__init__(name, meta)
        self.A = np.asarray(A, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)

    def _value_and_grad(self, X):
        G = X @ self.A - self.b  # A symmetric, so X Aᵀ = X A
        # ½xᵀAx − bᵀx = ½ xᵀ(Ax − b − b), reusing G instead of a second product
        return 0.5 * self.xp.sum(X * (G - self.b), axis=-1), G

    def hessian(self, x) -> np.ndarray:
        return self.backend.to_host(self.A).copy()

    def compiled_form(self):
        return CompiledProblem.of("quadratic", _quadratic_value_and_grad, (self.A, self.b), (self.dim,))


def _quadratic_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`QuadraticProblem._value_and_grad`: G = XA − b (A symmetric), f = ½Σ_l x_l(G_l − b_l)."""
    n = dims[0]
    A = data[:n * n].reshape((n, n))
    b = data[n * n:]
    np.dot(X, A, G)
    for i in range(X.shape[0]):
        value = 0.0
        for l in range(n):
            G[i, l] -= b[l]
            value += X[i, l] * (G[i, l] - b[l])
        if with_value:
            F[i] = 0.5 * value


def quadratic_meta(A: np.ndarray, b: np.ndarray, params: dict, reference: str, notes: str = "") -> Meta:
    """Metadata of ½xᵀAx − bᵀx for symmetric A ⪰ 0 with b ∈ range(A), computed from the spectrum."""
    eigenvalues, eigenvectors = np.linalg.eigh(A)
    tol = 1e-12 * max(1.0, eigenvalues[-1])
    kernel = eigenvectors[:, eigenvalues <= tol].T
    x_min = np.linalg.pinv(A, hermitian=True) @ b
    f_star = float(-0.5 * b @ x_min)
    if len(kernel) == 0:
        minimizer = MinimizerSet("point", points=x_min[None, :])
        mu = float(eigenvalues[0])
    else:
        minimizer = MinimizerSet("affine", points=x_min[None, :], directions=kernel)
        mu = 0.0
    return Meta(
        dim=A.shape[0], params=params, convex=True, mu=mu, L=float(eigenvalues[-1]), f_star=f_star,
        minimizer=minimizer, stationary_points=x_min[None, :] if len(kernel) == 0 else None,
        bounded_level_sets=len(kernel) == 0, analytic=True, kl_exponent=0.5, reference=reference,
        provenance={"mu": "exact", "L": "exact", "f_star": "exact", "kl_exponent": "exact"}, notes=notes)


@register("quadratic", "½xᵀAx − bᵀx, A = Q diag(spectrum) Qᵀ with seeded orthogonal Q, geometric spectrum "
          "from mu to L (L = mu·cond)", (
              Param("n", 10, "int", low=1, high=2000), Param("cond", 10.0, low=1.0),
              Param("mu", 1.0, low=0.0, low_open=True), Param("L", None, low=0.0, low_open=True), SEED))
def quadratic(n: int, cond: float, mu: float, L, seed: int) -> QuadraticProblem:
    """Strongly convex quadratic ½xᵀAx − bᵀx ([derived] constants).

    The spectrum is geometric between ``mu`` and ``L`` (``L`` defaults to ``mu·cond``; when ``L`` is
    given, ``cond`` must be left at its default or equal L/mu); Q is a seeded Haar orthogonal matrix and
    b a seeded standard normal vector. With n = 1 the spectrum is {mu} and cond must be 1.
    """
    if L is None:
        L = mu * cond
    elif cond != 10.0 and not np.isclose(cond, L / mu):
        raise SpecError(f"problem 'quadratic': give cond or L, not both (cond={cond}, L/mu={L / mu})")
    if L < mu:
        raise SpecError(f"problem 'quadratic': L={L} is below mu={mu}; accepted: L >= mu")
    if n == 1 and L != mu:
        raise SpecError("problem 'quadratic' with n=1 has a single eigenvalue: use cond=1 (or quadratic_1d)")
    rng = np.random.default_rng(seed)
    Q = random_orthogonal(n, rng)
    spectrum = np.geomspace(mu, L, n)
    A = (Q * spectrum) @ Q.T
    A = 0.5 * (A + A.T)
    b = rng.standard_normal(n)
    params = {"n": n, "cond": L / mu, "mu": mu, "L": L, "seed": seed}
    return QuadraticProblem("quadratic", quadratic_meta(A, b, params, "strongly convex quadratic"), A, b)


@register("quadratic_1d", "(lam/2)x² − b·x on R (1-D quadratic; Example 3.1's [derived] 1-D illustration)", (
    Param("lam", 1.0, low=0.0, low_open=True), Param("b", 0.0)))
def quadratic_1d(lam: float, b: float) -> QuadraticProblem:
    """f(x) = (λ/2)x² − bx: L = μ = λ, x* = b/λ, f* = −b²/(2λ)."""
    meta = quadratic_meta(np.array([[lam]]), np.array([b]), {"lam": lam, "b": b},
                          "Example 3.1 [derived] 1-D illustration of Example 3.1")
    return QuadraticProblem("quadratic_1d", meta, np.array([[lam]]), np.array([b]))


@register("x2", "f(x) = x² on R (Example 3.4): L = mu = 2, minimizer 0")
def x2() -> QuadraticProblem:
    """Example 3.4's f(x) = x², written as ½·2x²: L = μ = 2, x* = 0, f* = 0."""
    meta = quadratic_meta(np.array([[2.0]]), np.array([0.0]), {}, "paper Example 3.4")
    return QuadraticProblem("x2", meta, np.array([[2.0]]), np.array([0.0]))


@register("quadratic_singular", "½xᵀAx − bᵀx with PSD A of given rank and b ∈ range(A): affine minimizer set", (
    Param("n", 4, "int", low=2, high=2000), Param("rank", 2, "int", low=1),
    Param("cond", 10.0, low=1.0), SEED))
def quadratic_singular(n: int, rank: int, cond: float, seed: int) -> QuadraticProblem:
    """Convex, not strongly convex: A = Q diag(λ_1..λ_rank, 0..0) Qᵀ (λ geometric in [1, cond]),
    b = A z with z seeded, so the minimizers are the affine set A⁺b + ker A (dimension n − rank),
    f* = −½bᵀA⁺b, μ = 0, L = cond; level sets unbounded; Łojasiewicz exponent ½ (f − f* is ½ of a
    squared distance to the set, scaled by the nonzero eigenvalues)."""
    if rank >= n:
        raise SpecError(f"problem 'quadratic_singular' needs rank < n, got rank={rank}, n={n}")
    rng = np.random.default_rng(seed)
    Q = random_orthogonal(n, rng)
    spectrum = np.concatenate([np.geomspace(1.0, cond, rank), np.zeros(n - rank)])
    A = (Q * spectrum) @ Q.T
    A = 0.5 * (A + A.T)
    b = A @ rng.standard_normal(n)
    params = {"n": n, "rank": rank, "cond": cond, "seed": seed}
    return QuadraticProblem("quadratic_singular", quadratic_meta(A, b, params, "singular convex quadratic"), A, b)


class Example31Problem(QuadraticProblem):
    """A strongly convex quadratic with admissible SAM parameters of the paper's Example 3.1."""

    def example31_parameters(self) -> dict:
        """Parameters satisfying conditions (13) and the caveat of its proof.

        Returns dict with ``t`` (stepsize), ``rho`` (radius), ``x1`` (start), ``x_star``,
        ``t_interval`` (the open interval of (13) intersected with (0, 2/(λmin+λmax)]) and
        ``distance_bound`` = tρλmin/(1 − tλmin), the bound of (15); SAM's lower bound (16) on
        ‖x^{k+1} − x*‖ is then tρλmin − (1 − tλmin)·distance_bound > 0.
        """
        return dict(self._example31)


@register("example31", "Example 3.1 instance: quadratic with lam_max < 2 lam_min and admissible SAM t, rho, x1 "
          "(SAM with constant t, rho does not converge)", (
              Param("n", 2, "int", low=1, high=2000), Param("lam_min", 1.0, low=0.0, low_open=True),
              Param("lam_max", 1.5, low=0.0, low_open=True), Param("rho", 0.1, low=0.0, low_open=True),
              Param("t", None, low=0.0, low_open=True), Param("offset", 0.5, low=0.0, high=1.0, low_open=True),
              SEED))
def example31(n: int, lam_min: float, lam_max: float, rho: float, t, offset: float, seed: int) -> Example31Problem:
    """Example 3.1: f = ½xᵀAx − bᵀx, SAM (14) with constant t, ρ stays away from x*.

    Conditions (13): t ∈ (1/λmin − 1/(λmax+λmin), 1/λmin), ρ > 0, 0 < ‖x¹ − x*‖ < tρλmin/(1 − tλmin).
    Caveat [derived]: the proof bounds ‖I − tA‖ by 1 − tλmin, which needs t ≤ 2/(λmin+λmax); both hold
    only when λmax < 2λmin (or n = 1), which is enforced. ``t`` defaults to the midpoint of the
    admissible interval; x¹ = x* + offset·bound·u with a seeded unit vector u. A has eigenvalues
    linspace(λmin, λmax, n) in a seeded orthogonal basis; b is seeded standard normal.
    """
    if n == 1:
        lam_max = lam_min
    if not lam_min <= lam_max < 2 * lam_min:
        raise SpecError(f"problem 'example31' needs lam_min <= lam_max < 2*lam_min (proof caveat), "
                        f"got lam_min={lam_min}, lam_max={lam_max}")
    low = 1 / lam_min - 1 / (lam_max + lam_min)
    high = min(1 / lam_min, 2 / (lam_min + lam_max))
    if t is None:
        t = 0.5 * (low + high)
    if not low < t <= high or t >= 1 / lam_min:
        raise SpecError(f"problem 'example31': t={t} violates (13) with the caveat; accepted: {low:.6g} < t <= {high:.6g}")
    rng = np.random.default_rng(seed)
    Q = random_orthogonal(n, rng)
    A = (Q * np.linspace(lam_min, lam_max, n)) @ Q.T
    A = 0.5 * (A + A.T)
    b = rng.standard_normal(n)
    direction = rng.standard_normal(n)
    direction /= np.linalg.norm(direction)
    params = {"n": n, "lam_min": lam_min, "lam_max": lam_max, "rho": rho, "t": t, "offset": offset, "seed": seed}
    meta = quadratic_meta(A, b, params, "paper Example 3.1, conditions (13)-(16)",
                          notes="example31_parameters() gives t, rho, x1 satisfying (13) and t <= 2/(lam_min+lam_max)")
    problem = Example31Problem("example31", meta, A, b)
    x_star = meta.minimizer.points[0]
    bound = t * rho * lam_min / (1 - t * lam_min)
    problem._example31 = {"t": t, "rho": rho, "x1": x_star + offset * bound * direction, "x_star": x_star.copy(),
                          "t_interval": (low, high), "distance_bound": bound}
    return problem
