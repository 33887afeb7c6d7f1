"""Labelled sequences written outside convcheck's own methods: trajectories of
``scipy.optimize.minimize`` (BFGS, CG, L-BFGS-B, Nelder–Mead, recorded through callbacks), hand-written
momentum methods (Polyak's heavy ball, Nesterov's accelerated gradient) and analytic sequences with
awkward asymptotics. The truth of P1–P5 for each is derived in its builder's comment, never from a run.

Trajectory truths: on a C² function whose only stationary points in reach are strict minima, a run that
ends at a minimizer to round-off (checked: ‖∇f‖ at the end ≤ 1e-9·‖∇f(x¹)‖ and the method's own
convergence flag) is eventually constant at a stationary point if continued, so P1–P5 hold. Momentum
methods on a μ-strongly convex quadratic with step t < 2(1 + β)/L, β ∈ [0, 1) converge linearly
(Polyak 1964), and Nesterov with t ≤ 1/L on a convex f converges (f − f* = O(1/k²), and iterates
converge for a strongly convex f); beyond the stability region the heavy ball grows geometrically
along the top eigenvector (divergence: P2 vacuous, the rest fail).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from labelled_sequences import ALL, NONE, Case, double_well, problem, quadratic, quartic, rosenbrock

DIV = dict(NONE, P2=True)
P5_FAILS = dict(ALL, P5=False)


def _quadratic_matrix(n, seed, cond):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T


def quad(n, seed, cond, center=None):
    """½(x − c)ᵀA(x − c), A with spectrum geomspace(1, cond): unique stationary point c."""
    A = _quadratic_matrix(n, seed, cond)
    c = np.zeros(n) if center is None else np.asarray(center, float)
    p = problem(f"quad{n}_{seed}_{cond:g}", n, lambda X: 0.5 * np.einsum("...i,ij,...j->...", X - c, A, X - c),
                lambda X: (X - c) @ A)
    return p, A, c


def logcosh(n, seed):
    """Σ log cosh(a_i·x − b_i) + ½·0.01‖x‖²: strongly convex, one stationary point."""
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((n, n)), rng.standard_normal(n)

    def f(X):
        return np.sum(np.logaddexp(X @ A.T - b, -(X @ A.T - b)) - np.log(2.0), -1) + 0.005 * np.sum(X * X, -1)

    def grad(X):
        return np.tanh(X @ A.T - b) @ A + 0.01 * X
    p = problem(f"logcosh{n}_{seed}", n, f, grad)
    p.lipschitz = float(np.linalg.norm(A, 2) ** 2 + 0.01)
    return p


def _scipy_path(p, x0, method, **options):
    """The iterates x¹ (the start), x², … that ``minimize`` reports through its callback."""
    path = [np.asarray(x0, float)]
    fun = lambda x: float(p.f(x[None, :])[0])          # noqa: E731
    jac = None if method == "Nelder-Mead" else (lambda x: np.asarray(p.grad(x[None, :])[0], float))
    def callback(*args, **kwargs):
        xk = kwargs.get("intermediate_result").x if "intermediate_result" in kwargs else args[0]
        path.append(np.array(xk, dtype=float))
    res = minimize(fun, np.asarray(x0, float), jac=jac, method=method, callback=callback, options=options)
    X = np.array(path)
    g_end = np.linalg.norm(p.grad(X[-1:]))
    g_start = np.linalg.norm(p.grad(X[:1]))
    return X, bool(res.success) and g_end <= 1e-9 * max(g_start, 1e-300)


def _heavy_ball(p, x0, t, beta, K):
    X = np.empty((K, len(x0)))
    x = prev = np.asarray(x0, float)
    for i in range(K):
        X[i] = x
        x, prev = x - t * p.grad(x[None, :])[0] + beta * (x - prev), x
    return X


def _nesterov(p, x0, t, K, mu_over_L=None):
    X = np.empty((K, len(x0)))
    x = y = np.asarray(x0, float)
    for i in range(K):
        X[i] = x
        x_new = y - t * p.grad(y[None, :])[0]
        mom = (1 - np.sqrt(mu_over_L)) / (1 + np.sqrt(mu_over_L)) if mu_over_L else i / (i + 3.0)
        y = x_new + mom * (x_new - x)
        x = x_new
    return X


def external_cases() -> list[Case]:
    out = []

    def add(name, p, X, truth):
        out.append(Case(name, p, np.asarray(X, float), dict(truth)))

    # --- scipy.optimize.minimize trajectories to a minimizer: all five hold -------------------------
    rb = rosenbrock()
    starts = [(-1.2, 1.0), (2.0, -1.0), (0.0, 3.0), (-2.0, -2.0), (1.5, 0.5)]
    options = {"BFGS": dict(gtol=1e-14, maxiter=5000), "CG": dict(gtol=1e-14, maxiter=5000),
               "L-BFGS-B": dict(gtol=1e-14, ftol=1e-300, maxiter=5000),
               "Nelder-Mead": dict(xatol=1e-15, fatol=1e-300, maxiter=20000, maxfev=40000)}
    problems = [("rosenbrock", rb, starts)]
    for n, seed, cond in ((3, 1, 50.0), (6, 2, 50.0), (10, 3, 50.0), (4, 9, 1e4), (2, 10, 1e3)):
        p, _, _ = quad(n, seed, cond, center=np.linspace(-1.0, 2.0, n))
        problems.append((p.name, p, [np.ones(n) * 3.0, -np.arange(n, dtype=float), np.linspace(5.0, -5.0, n)]))
    lc = logcosh(4, 5)
    problems.append(("logcosh4", lc, [np.full(4, 2.0), np.array([-3.0, 1.0, 0.5, 2.0])]))
    for label, p, xs in problems:
        for method, opts in options.items():
            if method == "Nelder-Mead" and p.dim > 4:
                continue
            for j, x0 in enumerate(xs):
                X, converged = _scipy_path(p, x0, method, **opts)
                if converged and len(X) >= 24:
                    add(f"scipy {method} on {label} from start {j}", p, X, ALL)

    # --- heavy ball and Nesterov on strongly convex quadratics: converge linearly -----------------
    for n, seed, cond in ((2, 4, 10.0), (5, 5, 100.0), (20, 6, 30.0), (50, 7, 10.0)):
        p, A, c = quad(n, seed, cond, center=np.full(n, 0.5))
        L, mu = float(np.max(np.linalg.eigvalsh(A))), float(np.min(np.linalg.eigvalsh(A)))
        x0 = np.full(n, 3.0)
        t = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
        beta = ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2
        add(f"heavy ball (optimal t, β) n={n} κ={cond:g}", p, _heavy_ball(p, x0, t, beta, 3000), ALL)
        add(f"heavy ball β=0.9, t=0.5/L n={n} κ={cond:g}", p, _heavy_ball(p, x0, 0.5 / L, 0.9, 4000), ALL)
        add(f"Nesterov strongly convex n={n} κ={cond:g}", p, _nesterov(p, x0, 1.0 / L, 3000, mu / L), ALL)
        add(f"Nesterov k/(k+3) n={n} κ={cond:g}", p, _nesterov(p, x0, 1.0 / L, 4000), ALL)
        # outside the stability region t < 2(1 + β)/L: geometric growth along the top eigenvector
        add(f"heavy ball unstable t=2.2(1+β)/L n={n}", p, _heavy_ball(p, x0, 2.2 * 1.5 / L, 0.5, 400), DIV)
    # Nesterov on the degenerate quartic ‖x‖⁴ (convex, minimizer 0, ∇f Lipschitz on the sublevel set)
    for n in (1, 3):
        q = quartic(n)
        x0 = np.linspace(0.5, 1.0, n)
        add(f"Nesterov on quartic n={n}", q, _nesterov(q, x0, 0.05, 20_000), ALL)
        add(f"heavy ball on quartic n={n}", q, _heavy_ball(q, x0, 0.05, 0.5, 20_000), ALL)
    # logcosh: ∇f is L-Lipschitz with L = ‖A‖₂² + 0.01; Nesterov with t = 1/L converges (convex, and the
    # 0.01-strong convexity makes the minimizer unique); the heavy ball with β = 0.5, t = 0.5/L < 2(1 − β)/L
    # converges globally on a convex L-smooth f (Ghadimi, Feyzmahdavian, Johansson 2015)
    lc = logcosh(6, 8)
    L = lc.lipschitz
    add("Nesterov on logcosh n=6", lc, _nesterov(lc, np.full(6, 2.0), 1.0 / L, 5000), ALL)
    add("heavy ball on logcosh n=6", lc, _heavy_ball(lc, np.full(6, 2.0), 0.5 / L, 0.5, 5000), ALL)

    # --- analytic sequences with awkward asymptotics ----------------------------------------------
    half = quadratic(1, diag=[1.0])
    for K, a, p_ in ((20_000, 0.3, 0.5), (5000, 0.1, 1.0), (50_000, 1.0, 0.3)):
        k = np.arange(1, K + 1, dtype=float)[:, None]
        add(f"floor {a:g} + k^-{p_:g} (K={K})", half, a + k ** -p_, NONE)
    for K, p_ in ((20_000, 0.3), (50_000, 0.5), (5000, 1.5)):
        k = np.arange(1, K + 1, dtype=float)[:, None]
        add(f"shrinking oscillation (-1)^k k^-{p_:g} (K={K})", half, (-1.0) ** k * k ** -p_, ALL)
    for period, n in ((4, 2), (5, 3), (2, 1)):
        K = 6000
        pts = np.random.default_rng(period).standard_normal((period, n)) + 2.0
        k = np.arange(1, K + 1, dtype=float)[:, None]
        q = quadratic(n, diag=np.ones(n))
        add(f"{period}-cycle with 1/k drift, n={n}", q, pts[np.arange(K) % period] * (1 + 1 / k), NONE)
    # more awkward analytic sequences: spirals, logarithmic factors, floors reached from below
    for K, q in ((3000, 0.995), (20_000, 0.9995)):
        k = np.arange(1, K + 1, dtype=float)
        q2 = quadratic(2, diag=[1.0, 1.0])
        add(f"spiral {q}^k K={K}", q2, (q ** k)[:, None] * np.stack([np.cos(0.1 * k), np.sin(0.1 * k)], -1), ALL)
    for K in (5000, 50_000):
        k = np.arange(1, K + 1, dtype=float)[:, None]
        add(f"log k / k decay K={K}", quadratic(3, diag=[1.0, 2.0, 3.0]), np.log(k + 1.0) / k * np.ones(3), ALL)
        add(f"floor from below 0.5 − 1/k K={K}", half, 0.5 - 1.0 / (k + 1.0), NONE)
        add(f"(-1)^k (0.5 + 1/sqrt k) K={K}", half, (-1.0) ** k * (0.5 + k ** -0.5), NONE)
    # plain gradient descent x^{k+1} = x^k − t∇f(x^k), t = 1/L: converges on an L-smooth f bounded below to
    # stationary points; on these problems (strict minima only, or the stable manifold of none) to a minimizer
    wells = double_well(2)
    for name, p, x0, t, K in (("GD t=1/L on quad n=8 κ=20", quad(8, 11, 20.0)[0], np.full(8, 2.0), 1 / 20.0, 3000),
                              ("GD t=0.1 on wells n=2", wells, np.array([0.3, -1.7]), 0.1, 2000),
                              ("GD t=0.02 on logcosh n=3", logcosh(3, 12), np.full(3, -2.0), None, 5000),
                              ("GD t=2e-3 on rosenbrock", rosenbrock(), np.array([0.0, 0.0]), 2e-3, 20_000)):
        t = 1.0 / p.lipschitz if t is None else t
        add(name, p, _heavy_ball(p, x0, t, 0.0, K), ALL)
    K = 20_000
    k = np.arange(1, K + 1, dtype=float)[:, None]
    X = np.hstack([(-1.0) ** k * (1 + 1 / k), 1 - 1 / k])
    add("2-cycle between wells (±1, 1)", wells, X, P5_FAILS)
    return out
