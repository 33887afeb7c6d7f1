"""Labelled sequences for the certifier: x^k given in closed form on small problems, with the truth of
P1–P5 derived analytically (not from any run).

Each case is ``Case(name, problem, iterates, truth)``: ``iterates`` is the (K, n) array x¹..x^K,
``truth`` maps "P1".."P5" to True/False. The reasoning behind each label is in the builder's comment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from convcheck.problems.base import FunctionProblem, Meta

ALL = dict(P1=True, P2=True, P3=True, P4=True, P5=True)
NONE = dict(P1=False, P2=False, P3=False, P4=False, P5=False)


@dataclass
class Case:
    name: str
    problem: FunctionProblem
    iterates: np.ndarray
    truth: dict


def problem(name: str, n: int, f: Callable, grad: Callable) -> FunctionProblem:
    return FunctionProblem(name, Meta(dim=n), f, grad)


def quadratic(n: int, center=None, seed: int = 0, diag=None) -> FunctionProblem:
    """f(x) = ½ (x − c)ᵀ A (x − c), A symmetric positive definite (unique stationary point c)."""
    rng = np.random.default_rng(seed)
    if diag is None:
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        A = Q @ np.diag(np.linspace(1.0, 10.0, n)) @ Q.T
    else:
        A = np.diag(np.asarray(diag, float))
    c = np.zeros(n) if center is None else np.asarray(center, float)
    return problem(f"quadratic{n}", n, lambda X: 0.5 * np.einsum("...i,ij,...j->...", X - c, A, X - c),
                   lambda X: (X - c) @ A)


def ring(n: int = 2) -> FunctionProblem:
    """f(x) = (‖x‖² − 1)²: stationary on the unit sphere (minima) and at 0 (maximum)."""
    return problem("ring", n, lambda X: (np.sum(X * X, -1) - 1.0) ** 2,
                   lambda X: 4.0 * (np.sum(X * X, -1) - 1.0)[..., None] * X)


def double_well(n: int) -> FunctionProblem:
    """f(x) = Σ (x_i² − 1)²: stationary exactly where every x_i ∈ {−1, 0, 1}."""
    return problem("wells", n, lambda X: np.sum((X * X - 1.0) ** 2, -1), lambda X: 4.0 * (X * X - 1.0) * X)


def saddle() -> FunctionProblem:
    """f(x, y, z) = x² − y² + z²: only stationary point 0, a saddle."""
    s = np.array([1.0, -1.0, 1.0])
    return problem("saddle", 3, lambda X: np.sum(s * X * X, -1), lambda X: 2.0 * s * X)


def quartic(n: int) -> FunctionProblem:
    """f(x) = ‖x‖⁴: degenerate minimum at 0."""
    return problem("quartic", n, lambda X: np.sum(X * X, -1) ** 2, lambda X: 4.0 * np.sum(X * X, -1)[..., None] * X)


def exp_valley() -> FunctionProblem:
    """f(x, y) = exp(−x) + y²: no stationary point, inf f = 0 not attained, ∇f → 0 as x → ∞."""
    return problem("expvalley", 2, lambda X: np.exp(-X[..., 0]) + X[..., 1] ** 2,
                   lambda X: np.stack([-np.exp(-X[..., 0]), 2.0 * X[..., 1]], -1))


def log_bowl() -> FunctionProblem:
    """f(x) = log(1 + x²): stationary only at 0; ∇f = 2x/(1 + x²) → 0 as |x| → ∞."""
    return problem("logbowl", 1, lambda X: np.log1p(X[..., 0] ** 2), lambda X: 2.0 * X / (1.0 + X * X))


def rosenbrock() -> FunctionProblem:
    """f(x, y) = (1 − x)² + 100 (y − x²)²: only stationary point (1, 1)."""
    def f(X):
        return (1 - X[..., 0]) ** 2 + 100 * (X[..., 1] - X[..., 0] ** 2) ** 2

    def grad(X):
        r = X[..., 1] - X[..., 0] ** 2
        return np.stack([-2 * (1 - X[..., 0]) - 400 * X[..., 0] * r, 200 * r], -1)
    return problem("rosenbrock", 2, f, grad)


def scaled(p: FunctionProblem, factor: float) -> FunctionProblem:
    """factor·f (same stationary points, same truth)."""
    return problem(f"{p.name}*{factor:g}", p.dim, lambda X: factor * p.f(X), lambda X: factor * p.grad(X))


def moved(p: FunctionProblem, s: float, a: np.ndarray) -> FunctionProblem:
    """z ↦ f((z − a)/s): the problem seen in coordinates z = s·x + a."""
    return problem(f"{p.name}@{s:g}", p.dim, lambda Z: p.f((Z - a) / s), lambda Z: p.grad((Z - a) / s) / s)


def _k(K):
    return np.arange(1, K + 1, dtype=float)[:, None]


def _unit(n, seed):
    v = np.random.default_rng(seed).standard_normal(n)
    return v / np.linalg.norm(v)


def cases() -> list[Case]:
    out = []
    add = lambda name, p, X, truth: out.append(Case(name, p, np.asarray(X, float), dict(truth)))  # noqa: E731
    rng = np.random.default_rng(12345)

    # --- convergence to the minimizer (stationary): all five hold --------------------------------
    k = _k(3000)
    add("linear 0.99^k, quadratic n=3", quadratic(3), 0.99 ** k * np.array([1.0, -2.0, 0.5]), ALL)
    th = 0.3 * k[:, 0]
    add("linear spiral 0.995^k, n=2", quadratic(2, diag=[1, 1]),
        0.995 ** k * np.stack([np.cos(th), np.sin(th)], -1), ALL)
    k = _k(100_000)
    c = np.array([3.0, -1.0, 2.0, 0.5])
    add("sublinear 1/k, shifted minimizer", quadratic(4, center=c), c + _unit(4, 1) / k, ALL)
    add("sublinear 1/sqrt(k)", quadratic(5), _unit(5, 2) / np.sqrt(k), ALL)
    add("power law k^-1/2 on quartic", quartic(3), _unit(3, 3) / np.sqrt(k), ALL)
    add("very slow 1/log k", quadratic(2), _unit(2, 4) / np.log(k + 1.0), ALL)
    add("sign-alternating (-1)^k/k", quadratic(3), (-1.0) ** k * _unit(3, 5) / k, ALL)
    add("noisy 1/k (relative noise 0.5)", quadratic(5, center=np.ones(5)),
        1.0 + (_unit(5, 6) + 0.5 * rng.standard_normal((len(k), 5)) / np.sqrt(5)) / k, ALL)
    add("noisy isotropic k^-0.75 in n=10", quadratic(10), 0.3 * rng.standard_normal((len(k), 10)) * k ** -0.75, ALL)
    k = _k(4000)
    add("noisy linear 0.995^k", quadratic(4), 0.995 ** k * (_unit(4, 7) + 0.3 * rng.standard_normal((len(k), 4))), ALL)
    k = _k(20_000)
    add("saddle at rate 1/k", saddle(), np.hstack([1 / k, 0 * k, -2 / k]), ALL)
    add("saddle at linear rate", saddle(), np.hstack([0.9 ** k, 0 * k, 0.8 ** k]), ALL)
    K = 50_000
    k = _k(K)
    X = 1.0 + _unit(2, 8) / k
    X[: K // 50] = 5.0 * np.stack([np.cos(k[: K // 50, 0]), np.sin(k[: K // 50, 0])], -1)  # long transient
    add("long oscillating transient then 1/k", quadratic(2, center=[1.0, 1.0]), X, ALL)
    X = 0.97 ** np.maximum(k - 5000, 0) * np.array([[2.0, -1.0]])           # stalls at a non-stationary point first
    add("stall until k=5000 then linear", quadratic(2), X, ALL)
    add("finite termination at k=60", quadratic(3), np.where(k < 60, 0.5 ** k, 0.0) * np.array([1.0, 1.0, -1.0]), ALL)
    s = 1.0 + 1.0 / k[:, 0]
    add("rosenbrock valley 1/k", rosenbrock(), np.stack([s, s * s], -1), ALL)
    k = _k(50_000)
    r, th = 1.0 + 1.0 / k[:, 0], 1.0 + 1.0 / k[:, 0]
    add("ring: spiral converging to one circle point", ring(), np.stack([r * np.cos(th), r * np.sin(th)], -1), ALL)

    # --- stationary accumulation set without convergence: P1-P4 hold, P5 fails -------------------
    no_conv = dict(ALL, P5=False)
    r, th = 1.0 + 1.0 / k[:, 0], np.log(k[:, 0])
    add("ring: continuum, angle log k", ring(), np.stack([r * np.cos(th), r * np.sin(th)], -1), no_conv)
    r, th = 1.0 + 1.0 / np.sqrt(k[:, 0]), np.sqrt(k[:, 0])
    add("ring: continuum, angle sqrt k", ring(), np.stack([r * np.cos(th), r * np.sin(th)], -1), no_conv)
    add("2-cycle between minima ±1", double_well(1), (-1.0) ** k * (1.0 + 1.0 / k), no_conv)
    k = _k(5000)
    n = 200
    corners = np.sign(np.random.default_rng(9).standard_normal((3, n)))
    X = corners[np.arange(len(k)) % 3] * (1.0 + 1.0 / k)
    add("3-cycle between minima, n=200", double_well(n), X, no_conv)
    ang = 2 * np.pi * np.arange(len(k)) / 3
    add("3-cycle on the ring, exact", ring(), np.stack([np.cos(ang), np.sin(ang)], -1), no_conv)

    # --- liminf 0 without a limit: P1 holds, the rest fail ----------------------------------------
    only_p1 = dict(NONE, P1=True)
    k = _k(100_000)
    add("oscillation sin(sqrt k)", quadratic(1), np.sin(np.sqrt(k)), only_p1)
    spikes = np.where(np.sqrt(k[:, 0]).round() ** 2 == k[:, 0], 1.0, 1.0 / k[:, 0])
    add("spikes at perfect squares", quadratic(2), spikes[:, None] * np.array([[1.0, 0.5]]), only_p1)
    add("oscillation |sin(sqrt k)| in n=50", quadratic(50, seed=3), np.abs(np.sin(np.sqrt(k))) * _unit(50, 10), only_p1)

    # --- convergence to / cycling at non-stationary points: all fail ------------------------------
    add("converges to rho=1 on x^2 (1/k)", quadratic(1), 1.0 + 1.0 / k, NONE)
    k = _k(5000)
    add("converges linearly to non-stationary point", quadratic(3), np.array([0.5, -1.0, 2.0]) + 0.5 ** k * np.ones(3), NONE)
    add("2-cycle ±0.5 on x^2", quadratic(1), 0.5 * (-1.0) ** k, NONE)
    add("2-cycle ±(0.5 + 1/k)", quadratic(1), (-1.0) ** k * (0.5 + 1.0 / k), NONE)
    k = _k(2000)
    n = 500
    pts = np.random.default_rng(11).standard_normal((2, n))
    add("2-cycle in n=500", quadratic(n, seed=4), pts[np.arange(len(k)) % 2], NONE)
    pts = np.random.default_rng(12).standard_normal((3, 300))
    add("3-cycle in n=300", quadratic(300, seed=5), pts[np.arange(len(k)) % 3] * (1 + 1 / k), NONE)
    k = _k(50_000)
    add("ring radius 1.5 circling (log k)", ring(),
        1.5 * np.stack([np.cos(np.log(k[:, 0])), np.sin(np.log(k[:, 0]))], -1), NONE)
    add("rosenbrock: converges to (0,0)", rosenbrock(), np.hstack([1 / k, 1 / k]), NONE)

    # --- escape to infinity with vanishing gradient: P1-P3 hold (P2 vacuously), P4, P5 fail --------
    escape = dict(P1=True, P2=True, P3=True, P4=False, P5=False)
    k = _k(100_000)
    add("escape: exp valley, x = log k", exp_valley(), np.hstack([np.log(k + 1.0), 0.5 ** k]), escape)
    add("escape: log(1+x^2), x = sqrt k", log_bowl(), np.sqrt(k), escape)

    # --- unbounded divergence: gradient grows; P2 vacuous ---------------------------------------
    div = dict(NONE, P2=True)
    add("divergence x = k on quadratic", quadratic(2), k * np.array([[1.0, -1.0]]), div)
    k = _k(3000)
    add("exponential divergence 1.01^k", quadratic(3), 1.01 ** k * np.array([[1.0, 0.0, 2.0]]), div)
    return out


def scaled_cases(factor: float) -> list[Case]:
    return [Case(f"{c.name} [f×{factor:g}]", scaled(c.problem, factor), c.iterates, c.truth) for c in cases()]


def all_cases() -> list[Case]:
    """:func:`cases` plus the externally written sequences of ``labelled_external.py``."""
    from labelled_external import external_cases
    return cases() + external_cases()
