"""Nonconvex entries: Appendix E's log-sum, the ring, Rosenbrock, a strict saddle and an
L-descent function without a Lipschitz gradient (the paper, Section 2)."""
from __future__ import annotations

import itertools
import math

import numpy as np

from convcheck.errors import SpecError
from convcheck.jit import CompiledProblem, jit_inline

from .base import Meta, MinimizerSet, Problem
from .catalogue_quadratic import SEED
from .registry import Param, register

RADIUS = Param("R", 2.0, low=0.0, low_open=True, doc="radius of the ball (or box) on which L is stated")


class LogSumProblem(Problem):
    """f(x) = Σ_i log(1 + r_i²), r = Ax − b; ∇f(x) = Aᵀ[2r/(1 + r²)]."""

    _data_fields = ("A", "b")

    def __init__(self, name: str, meta: Meta, A: np.ndarray, b: np.ndarray, x_star: np.ndarray):
        super().__init__(name, meta)
        self.A, self.b = A, b
        self.x_star = x_star  # the planted solution x^∞ with A x^∞ = b (host array)

    def _value_and_grad(self, X):
        xp = self.xp
        R = X @ self.A.T - self.b
        R2 = R * R
        value = xp.sum(xp.log1p(R2), axis=-1)
        R2 += 1.0  # reuse the temporaries: R <- 2r/(1 + r²)
        R *= 2.0
        R /= R2
        return value, R @ self.A

    def _grad(self, X):
        # the engine's second gradient per SAM step needs no value: skip the log1p pass
        R = X @ self.A.T - self.b
        R2 = R * R
        R2 += 1.0
        R *= 2.0
        R /= R2
        return R @ self.A

    def hessian(self, x) -> np.ndarray:
        A, b = self.backend.to_host(self.A), self.backend.to_host(self.b)
        r = A @ np.asarray(x, dtype=float) - b
        curvature = 2.0 * (1.0 - r * r) / (1.0 + r * r) ** 2
        return (A.T * curvature) @ A

    def compiled_form(self):
        A = np.asarray(self.backend.to_host(self.A), dtype=np.float64)
        m, n = A.shape
        return CompiledProblem.of("logsum", _logsum_value_and_grad, (A, A.T, self.backend.to_host(self.b)), (m, n))

    def appendix_e_start(self) -> np.ndarray:
        """Appendix E's initial point x¹ = x^∞ + (0.1/n²)·1ₙ."""
        return self.x_star + 0.1 / self.dim ** 2


LANE_TERMS = 8
GROUP = 4 * LANE_TERMS   # terms per log1p in the compiled f
U_SPLIT = 1e9            # a group without larger terms stays below (1 + U_SPLIT)^GROUP ≈ 1e288


@jit_inline
def _grouped_log_sum(U):
    """Σ_l log1p(U[l]) for U ≥ 0 with one log1p per GROUP terms (log1p is the costliest operation of a
    step). Each group of GROUP = 4·LANE_TERMS terms is accumulated in 4 independent lanes (independent
    dependency chains, so the loop pipelines), e ← e + u + e·u = (1 + e)(1 + u) − 1, which accumulates
    Π(1 + u_i) − 1 without cancellation, then the lanes are combined the same way. Each update has
    relative error at most 3 ulp, so f carries at most about 3·(8 + 2) ulp ≈ 1e-14 relative error. A
    group holding a term above U_SPLIT is summed term by term, so e stays below (1 + U_SPLIT)^GROUP
    ≈ 1e288 (no overflow); a NaN term makes f NaN either way."""
    m = U.shape[0]
    value = 0.0
    start = 0
    while start + GROUP <= m:
        e0 = e1 = e2 = e3 = 0.0
        largest = 0.0
        for q in range(start, start + GROUP, 4):
            u0, u1, u2, u3 = U[q], U[q + 1], U[q + 2], U[q + 3]
            e0 = e0 + u0 + e0 * u0
            e1 = e1 + u1 + e1 * u1
            e2 = e2 + u2 + e2 * u2
            e3 = e3 + u3 + e3 * u3
            largest = max(largest, max(max(u0, u1), max(u2, u3)))
        if largest > U_SPLIT:
            for q in range(start, start + GROUP):
                value += math.log1p(U[q])
        else:
            low = e0 + e1 + e0 * e1
            high = e2 + e3 + e2 * e3
            value += math.log1p(low + high + low * high)
        start += GROUP
    for q in range(start, m):
        value += math.log1p(U[q])
    return value


def _logsum_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`LogSumProblem._value_and_grad`: r = Ax − b, ∇f = Aᵀ[2r/(1 + r²)] (two dgemm over
    the batch, one fused pass per row between them), f = Σ log1p(r²) by :func:`_grouped_log_sum`."""
    m, n = dims[0], dims[1]
    A = data[:m * n].reshape((m, n))
    AT = data[m * n:2 * m * n].reshape((n, m))
    b = data[2 * m * n:]
    batch = X.shape[0]
    R = np.empty((batch, m))
    U = np.empty(m)
    np.dot(X, AT, R)
    for i in range(batch):
        for l in range(m):
            r = R[i, l] - b[l]
            u = r * r
            R[i, l] = 2.0 * r / (1.0 + u)
            U[l] = u
        if with_value:
            F[i] = _grouped_log_sum(U)
    np.dot(R, A, G)


def _logsum(name: str, n: int, m: int, seed: int) -> LogSumProblem:
    """Appendix E construction; the paper leaves the distribution open, so we choose:
    A with iid N(0, 1) entries (m × n), a planted x^∞ ~ N(0, I_n) and b = A x^∞ (drawn in that order
    from default_rng(seed)). Then f* = 0 at every solution of Ax = b.

    Constants ([derived]): φ(r) = log(1 + r²) has φ'' ∈ [−¼, 2] with φ''(0) = 2, so
    ∇²f = Aᵀdiag(φ''(r))A has norm ≤ 2‖A‖², attained at x^∞: L = 2‖A‖₂² exactly, globally.
    f is nonconvex (φ'' < 0 wherever |r_i| > 1), real-analytic (KL everywhere). Minimizers: x^∞ alone
    when A has full column rank (generic for m ≥ n); the affine set x^∞ + ker A when m < n (generic A
    has full row rank). In both cases f − f* ≈ ‖A(x − x̄)‖² near the set, so the Łojasiewicz exponent
    there is ½. Level sets are bounded iff A has full column rank.

    Stationary points. When rank A = m ≤ n (full row rank; generic for m ≤ n, and the paper's square A)
    the stationary set is exactly the solution set {Ax = b} = the minimizer set: ∇f(x) = Aᵀw with
    w_i = 2r_i/(1 + r_i²), Aᵀ is injective, so ∇f(x) = 0 ⇔ w = 0 ⇔ r = 0 (2r/(1 + r²) vanishes only at
    r = 0). The metadata then marks the stationary set complete (``provenance["stationary_points"] =
    "exact"``; for m < n the listed point stands for the affine set x^∞ + ker A). When m > n, other
    stationary points exist in general and are not listed.
    """
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    x_star = rng.standard_normal(n)
    b = A @ x_star
    _, singular_values, vt = np.linalg.svd(A)
    rank = int(np.sum(singular_values > 1e-10 * singular_values[0]))
    if rank == n:
        minimizer = MinimizerSet("point", points=x_star[None, :])
    else:
        x_min_norm = np.linalg.pinv(A) @ b
        minimizer = MinimizerSet("affine", points=x_min_norm[None, :], directions=vt[rank:])
    complete = {"stationary_points": "exact"} if rank == m else {}  # stationary set = {Ax = b}: see above
    meta = Meta(dim=n, params={"n": n, "m": m, "seed": seed}, convex=False, L=2.0 * float(singular_values[0]) ** 2,
                f_star=0.0, minimizer=minimizer, stationary_points=minimizer.points.copy(),
                bounded_level_sets=rank == n, analytic=True, kl_exponent=0.5,
                reference="paper Appendix E / Figure 3; constants [derived]",
                provenance={"L": "exact", "f_star": "exact", "kl_exponent": "exact", **complete},
                notes="A ~ N(0,1) iid, x_inf ~ N(0,I), b = A x_inf (distribution not given in the paper); "
                      + ("rank A = m: the stationary set is the minimizer set {Ax = b}" if complete
                         else "stationary_points lists minimizers only (other stationary points exist)"))
    return LogSumProblem(name, meta, A, b, x_star)


@register("logsum", "Σ log(1 + (Ax − b)_i²), A ~ N(0,1) m×n, b = A x_inf (Appendix E): nonconvex, "
          "L = 2‖A‖², f* = 0 at x_inf", (
              Param("n", 2, "int", low=1, high=5000), Param("m", None, "int", low=1, high=5000), SEED))
def logsum(n: int, m, seed: int) -> LogSumProblem:
    """Appendix E's nonconvex toy; ``m`` defaults to n (square A, as in the paper). See :func:`_logsum`."""
    return _logsum("logsum", n, n if m is None else m, seed)


@register("logsum_under", "underdetermined log-sum (m < n): minimizers form the affine set x_inf + ker A", (
    Param("n", 4, "int", low=2, high=5000), Param("m", 2, "int", low=1, high=4999), SEED))
def logsum_under(n: int, m: int, seed: int) -> LogSumProblem:
    """The log-sum with fewer residuals than unknowns: non-isolated minimizers, unbounded level sets."""
    if m >= n:
        raise SpecError(f"problem 'logsum_under' needs m < n, got m={m}, n={n} (use logsum for m >= n)")
    return _logsum("logsum_under", n, m, seed)


class RingProblem(Problem):
    """f(x) = (‖x‖² − 1)², ∇f(x) = 4(‖x‖² − 1)x."""

    def _value_and_grad(self, X):
        excess = self.xp.sum(X * X, axis=-1) - 1.0
        return excess * excess, (4.0 * excess)[..., None] * X

    def hessian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return 4.0 * (x @ x - 1.0) * np.eye(self.dim) + 8.0 * np.outer(x, x)

    def compiled_form(self):
        return CompiledProblem.of("ring", _ring_value_and_grad)


def _ring_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`RingProblem._value_and_grad`: e = ‖x‖² − 1, f = e², ∇f = 4e·x."""
    for i in range(X.shape[0]):
        squares = 0.0
        for l in range(X.shape[1]):
            squares += X[i, l] * X[i, l]
        excess = squares - 1.0
        if with_value:
            F[i] = excess * excess
        for l in range(X.shape[1]):
            G[i, l] = (4.0 * excess) * X[i, l]


@register("ring", "(‖x‖² − 1)²: minimizers = unit sphere, origin a local maximum; L = max(4, 12R² − 4) on ball R",
          (Param("n", 2, "int", low=1, high=10_000), RADIUS))
def ring(n: int, R: float) -> RingProblem:
    """∇²f = 4(‖x‖² − 1)I + 8xxᵀ has eigenvalues 4(ρ² − 1) and 12ρ² − 4 at radius ρ, so on the ball of
    radius R, L = max(4, 12R² − 4) exactly; nonconvex (∇²f(0) = −4I). Stationary points: the origin
    (local maximum) and the unit sphere (global minimizers, f* = 0). Analytic; f ≈ 4(‖x‖ − 1)² near the
    sphere, so the Łojasiewicz exponent there is ½."""
    meta = Meta(dim=n, params={"n": n, "R": R}, convex=False, L=max(4.0, 12.0 * R * R - 4.0),
                L_region={"ball": [[0.0] * n, R]}, f_star=0.0,
                minimizer=MinimizerSet("sphere", points=np.zeros((1, n)), radius=1.0),
                stationary_points=np.zeros((1, n)), bounded_level_sets=True, analytic=True, kl_exponent=0.5,
                reference="ring / sphere-valley test function",
                provenance={"L": "exact", "f_star": "exact", "kl_exponent": "exact"},
                notes="stationary points: the origin (listed) and every point of the unit sphere")
    return RingProblem("ring", meta)


class RosenbrockProblem(Problem):
    """f(x) = Σ_{i<n} [b(x_{i+1} − x_i²)² + (1 − x_i)²] (chained Rosenbrock)."""

    def __init__(self, meta: Meta, b: float):
        super().__init__("rosenbrock", meta)
        self.b = b

    def _value_and_grad(self, X):
        head, tail = X[..., :-1], X[..., 1:]
        valley = tail - head * head
        miss = 1.0 - head
        value = self.xp.sum(self.b * valley * valley + miss * miss, axis=-1)
        G = self.xp.zeros_like(X)
        G[..., :-1] = -4.0 * self.b * head * valley - 2.0 * miss
        G[..., 1:] += 2.0 * self.b * valley
        return value, G

    def hessian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        n, b = self.dim, self.b
        H = np.zeros((n, n))
        i = np.arange(n - 1)
        H[i, i] += 2.0 + 12.0 * b * x[:-1] ** 2 - 4.0 * b * x[1:]
        H[i + 1, i + 1] += 2.0 * b
        H[i, i + 1] = H[i + 1, i] = -4.0 * b * x[:-1]
        return H

    def compiled_form(self):
        return CompiledProblem.of("rosenbrock", _rosenbrock_value_and_grad, ([self.b],))


def _rosenbrock_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`RosenbrockProblem._value_and_grad`: v_l = x_{l+1} − x_l², w_l = 1 − x_l,
    f = Σ b·v_l² + w_l², ∂_l f = −4b·x_l·v_l − 2w_l (l < n − 1), then ∂_{l+1} f += 2b·v_l."""
    b = data[0]
    n = X.shape[1]
    for i in range(X.shape[0]):
        value = 0.0
        for l in range(n - 1):
            head = X[i, l]
            valley = X[i, l + 1] - head * head
            miss = 1.0 - head
            value += b * valley * valley + miss * miss
            G[i, l] = -4.0 * b * head * valley - 2.0 * miss
        G[i, n - 1] = 0.0
        for l in range(n - 1):
            G[i, l + 1] += 2.0 * b * (X[i, l + 1] - X[i, l] * X[i, l])
        if with_value:
            F[i] = value


@register("rosenbrock", "chained Rosenbrock Σ b(x_{i+1} − x_i²)² + (1 − x_i)²: minimizer (1,…,1), "
          "L bound on the box [−R, R]^n", (
              Param("n", 2, "int", low=2, high=10_000), Param("b", 100.0, low=0.0, low_open=True), RADIUS))
def rosenbrock(n: int, b: float, R: float) -> RosenbrockProblem:
    """Minimizer (1, …, 1), f* = 0, nondegenerate (∇² ≻ 0 there, Łojasiewicz exponent ½); analytic;
    coercive. L on the box [−R, R]^n by Gershgorin: 2 + 2b + 12bR² + 12bR (a proven bound). For n = 2
    the minimizer is the only stationary point; for 4 ≤ n ≤ 7 a further local minimizer near
    (−1, 1, …, 1) exists (not listed)."""
    ones = np.ones((1, n))
    meta = Meta(dim=n, params={"n": n, "b": b, "R": R}, convex=False, L=2.0 + 2.0 * b + 12.0 * b * R * (R + 1.0),
                L_region={"box": [-R, R]}, f_star=0.0, minimizer=MinimizerSet("point", points=ones),
                stationary_points=ones, bounded_level_sets=True, analytic=True, kl_exponent=0.5,
                reference="Rosenbrock (1960), chained form",
                provenance={"L": "bound", "f_star": "exact", "kl_exponent": "exact"},
                notes="stationary_points complete only for n = 2")
    return RosenbrockProblem(meta, b)


class SaddleProblem(Problem):
    """f(x) = ½Σ_{i<n−1} x_i² − ½y² + ¼y⁴ with y = x_{n−1} (last coordinate)."""

    def _value_and_grad(self, X):
        head, y = X[..., :-1], X[..., -1]
        y2 = y * y
        value = 0.5 * self.xp.sum(head * head, axis=-1) + y2 * (0.25 * y2 - 0.5)
        G = X.copy()
        G[..., -1] = y * (y2 - 1.0)
        return value, G

    def hessian(self, x) -> np.ndarray:
        H = np.eye(self.dim)
        H[-1, -1] = 3.0 * float(x[-1]) ** 2 - 1.0
        return H

    def compiled_form(self):
        return CompiledProblem.of("saddle", _saddle_value_and_grad)


def _saddle_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`SaddleProblem._value_and_grad`: f = ½‖x_head‖² + y²(¼y² − ½), ∇f = (x_head, y(y² − 1))."""
    n = X.shape[1]
    for i in range(X.shape[0]):
        squares = 0.0
        for l in range(n - 1):
            squares += X[i, l] * X[i, l]
            G[i, l] = X[i, l]
        y = X[i, n - 1]
        y2 = y * y
        if with_value:
            F[i] = 0.5 * squares + y2 * (0.25 * y2 - 0.5)
        G[i, n - 1] = y * (y2 - 1.0)


@register("saddle", "½‖x_head‖² − ½y² + ¼y⁴: strict saddle at 0, minimizers ±e_n with f* = −1/4",
          (Param("n", 2, "int", low=1, high=10_000), RADIUS))
def saddle(n: int, R: float) -> SaddleProblem:
    """Stationary points: 0 (strict saddle, ∇² = diag(1, …, 1, −1)) and ±e_n (minimizers, f* = −¼,
    ∇² = diag(1, …, 1, 2): Łojasiewicz exponent ½). On the ball of radius R, L = max(1, 3R² − 1)
    exactly. Analytic, coercive, nonconvex."""
    minimizers = np.zeros((2, n))
    minimizers[:, -1] = [1.0, -1.0]
    meta = Meta(dim=n, params={"n": n, "R": R}, convex=False, L=max(1.0, 3.0 * R * R - 1.0),
                L_region={"ball": [[0.0] * n, R]}, f_star=-0.25, minimizer=MinimizerSet("finite", points=minimizers),
                stationary_points=np.vstack([np.zeros((1, n)), minimizers]), bounded_level_sets=True,
                analytic=True, kl_exponent=0.5, reference="strict-saddle test function",
                provenance={"L": "exact", "f_star": "exact", "kl_exponent": "exact"})
    return SaddleProblem("saddle", meta)


class DescentOnlyProblem(Problem):
    """f(x) = ½λ‖x‖² − wΣ|x_i|^{3/2}: ∇f(x) = λx − 1.5w·sign(x)|x|^{1/2}."""

    def __init__(self, meta: Meta, lam: float, weight: float):
        super().__init__("descent_only", meta)
        self.lam, self.weight = lam, weight

    def _value_and_grad(self, X):
        xp = self.xp
        root = xp.sqrt(xp.abs(X))
        value = xp.sum(X * (0.5 * self.lam * X - self.weight * root * xp.sign(X)), axis=-1)
        return value, self.lam * X - 1.5 * self.weight * xp.sign(X) * root

    def hessian(self, x) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.diag(self.lam - 0.75 * self.weight / np.sqrt(np.abs(np.asarray(x, dtype=float))))

    def compiled_form(self):
        return CompiledProblem.of("descent_only", _descent_only_value_and_grad, ([self.lam, self.weight],))


def _descent_only_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`DescentOnlyProblem._value_and_grad`: f = Σ x(½λx − w·sign(x)√|x|),
    ∇f = λx − 1.5w·sign(x)√|x|."""
    lam, weight = data[0], data[1]
    for i in range(X.shape[0]):
        value = 0.0
        for l in range(X.shape[1]):
            x = X[i, l]
            root = math.sqrt(abs(x))
            sign = np.sign(x)
            value += x * (0.5 * lam * x - weight * root * sign)
            G[i, l] = lam * x - 1.5 * weight * sign * root
        if with_value:
            F[i] = value


@register("descent_only", "½lam‖x‖² − wΣ|x_i|^{3/2}: L-descent (4) with L = lam but ∇f not Lipschitz; "
          "2^n minimizers", (Param("n", 2, "int", low=1, high=10), Param("lam", 1.0, low=0.0, low_open=True),
                             Param("w", 1.0, low=0.0, low_open=True)))
def descent_only(n: int, lam: float, w: float) -> DescentOnlyProblem:
    """The paper's Section 2 construction f = ½⟨Ax, x⟩ + ⟨b, x⟩ + c − h(x) with A = λI, b = 0, c = 0 and
    h(x) = wΣ|x_i|^{3/2}, convex and C¹ with a gradient that is only ½-Hölder at x_i = 0 (so ∇f is not
    Lipschitz: |∂_i f(ε) − ∂_i f(0)|/ε ~ 1.5w ε^{-1/2}). Since −h is concave, (4) holds with L = λ, the
    smallest such constant. Chosen so that f stays bounded below (h grows slower than the quadratic):
    per coordinate, stationary points {0, ±c} with c = (1.5w/λ)²; ±c are the minimizers (value
    −0.84375 w⁴/λ³, curvature λ/2 > 0, Łojasiewicz exponent ½), 0 a local maximum. So 2^n minimizers,
    3^n stationary points (listed for n ≤ 6), f* = −0.84375 n w⁴/λ³. Semialgebraic, hence KL; not C²."""
    c = (1.5 * w / lam) ** 2
    minimizers = np.array(list(itertools.product([c, -c], repeat=n)), dtype=float)
    stationary = np.array(list(itertools.product([0.0, c, -c], repeat=n)), dtype=float) if n <= 6 else None
    meta = Meta(dim=n, params={"n": n, "lam": lam, "w": w}, convex=False, L=None, descent_L=lam, descent_only=True,
                f_star=-0.84375 * n * w ** 4 / lam ** 3, minimizer=MinimizerSet("finite", points=minimizers),
                stationary_points=stationary, bounded_level_sets=True, analytic=False, kl=True, kl_exponent=0.5,
                reference="paper Section 2 (Khanh et al. 2023b, §2): quadratic minus a convex h with non-Lipschitz gradient",
                provenance={"descent_L": "exact", "f_star": "exact", "kl_exponent": "exact"},
                notes="h = w*sum|x_i|^1.5 is C^1, not C^2: grad f is not Lipschitz near the coordinate hyperplanes")
    return DescentOnlyProblem(meta, lam, w)
