"""Hypotheses of the paper's examples and of the earlier bound of Dai et al. 2023, as predicates.

- Example 3.1: SAM with constant t and ρ on a strongly convex quadratic
  f(x) = ½⟨Ax, x⟩ − ⟨b, x⟩ does not converge, under (13): t ∈ (1/λ_min − 1/(λ_max + λ_min), 1/λ_min),
  ρ > 0, 0 < ‖x¹ − x*‖ < tρλ_min/(1 − tλ_min). [derived] The proof needs ‖I − tA‖ ≤ 1 − tλ_min, i.e.
  t ≤ 2/(λ_min + λ_max), possible together with (13) only when λ_max < 2λ_min (or n = 1): both are
  required here.
- Example 3.4: reverse-SAM IGD (10) on f(x) = x² with constant ρ > 0, |x¹| > ρ and
  t_k ∈ [0, ½), t_k ↓ 0, Σ t_k = ∞ converges to the non-stationary point ±ρ.
- Dai et al. 2023, Thm 1 (cited in Section 1.1): SAM with constant t, ρ on a μ-strongly convex f with L-Lipschitz
  gradient: f(x^k) − f* ≤ (1 − tμ(2 − Lt))^{k−1}(f(x¹) − f*) + tL³ρ²/(2μ(2 − Lt)) (their x⁰ is our x¹),
  for constant t ≤ 1/L (so 2 − Lt > 0). The floor is L³, not L²: it must have the units of f
  (L·‖x‖²), and tL³ρ²/μ does. SAM on x² (L = μ = 2) with t = 1/L, ρ = 0.1 settles at f = 0.01, exactly
  the L³ floor and twice an L² one; :data:`DAI_FLOOR_POWER_OF_L` is used by the control that keeps the
  wrong L² form refuted (``tests/theorems/test_dai_2023_bound.py``).

Whether f *is* such a quadratic (or x²) is decided from the problem's own data: a problem exposing
arrays ``A`` and ``b`` whose gradient equals Ax − b at sample points (checked to round-off), with
λ_min, λ_max computed from A.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from convcheck.declarations import declaration_of

from .hypotheses import Decision, Setting, lipschitz_constant

SAMPLE_POINTS = 8


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a, dtype=float)


def gradient_is_affine(problem) -> bool:
    """∇f((x + y)/2) = (∇f(x) + ∇f(y))/2 at seeded sample pairs (to round-off): f is a quadratic there."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, SAMPLE_POINTS, problem.dim)) * 3
    g = lambda Z: _host(problem.grad(problem.xp.asarray(Z)))
    mid, avg = g((X + Y) / 2), (g(X) + g(Y)) / 2
    return bool(np.allclose(mid, avg, rtol=1e-9, atol=1e-12 * (1 + np.abs(avg).max())))


def quadratic_data(problem) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(A, b) when f(x) = ½⟨Ax, x⟩ − ⟨b, x⟩ + c (gradient Ax − b checked at sample points), else None."""
    A, b = getattr(problem, "A", None), getattr(problem, "b", None)
    if A is None or b is None:
        return None
    A, b = _host(problem.backend.to_host(A)), _host(problem.backend.to_host(b))
    n = problem.dim
    if A.shape != (n, n) or b.shape != (n,) or not np.allclose(A, A.T, rtol=0, atol=1e-14 * np.abs(A).max()):
        return None
    X = np.random.default_rng(0).standard_normal((SAMPLE_POINTS, n)) * 3
    G = _host(problem.grad(problem.xp.asarray(X)))
    expected = X @ A - b
    if not np.allclose(G, expected, rtol=1e-10, atol=1e-12 * (1 + np.abs(expected).max())):
        return None
    return A, b


def is_quadratic(s: Setting) -> Decision:
    data = quadratic_data(s.problem)
    if data is None:
        if not gradient_is_affine(s.problem):
            return Decision(False, "f = ½⟨Ax,x⟩ − ⟨b,x⟩: ∇f is not affine (midpoint test at sample pairs fails)")
        return Decision(None, "f = ½⟨Ax,x⟩ − ⟨b,x⟩: ∇f looks affine but the problem exposes no A, b")
    eig = np.linalg.eigvalsh(data[0])
    return Decision(bool(eig[0] > 0), f"f = ½⟨Ax,x⟩ − ⟨b,x⟩ with A positive definite: λ = [{eig[0]:g}, {eig[-1]:g}] "
                                      f"(∇f = Ax − b checked at {SAMPLE_POINTS} points)")


def _eigen(s: Setting):
    data = quadratic_data(s.problem)
    if data is None:
        return None
    eig = np.linalg.eigvalsh(data[0])
    return float(eig[0]), float(eig[-1]), np.linalg.solve(data[0], data[1])


def eigen_ratio_below_two(s: Setting) -> Decision:
    """[derived] λ_max < 2λ_min (or n = 1), needed by the proof of Example 3.1."""
    e = _eigen(s)
    if e is None:
        return Decision(None, "λ_max < 2λ_min: f is not a known quadratic")
    lo, hi, _ = e
    ok = s.problem.dim == 1 or hi < 2 * lo
    return Decision(ok, f"λ_max < 2λ_min (caveat of the proof of Example 3.1): λ_max = {hi:g}, 2λ_min = {2 * lo:g}")


def constant_value(schedule) -> Optional[float]:
    if schedule is None or schedule.name != "constant":
        return None
    return float(schedule.params["value"])


def step_in_interval_13(s: Setting) -> Decision:
    """Constant t with 1/λ_min − 1/(λ_max + λ_min) < t < 1/λ_min and t ≤ 2/(λ_min + λ_max)."""
    e, t = _eigen(s), constant_value(s.step)
    if e is None or t is None:
        return Decision(False if t is None else None, f"constant t in (13): step {s.step.spec} "
                        + ("is not constant" if t is None else "on a problem that is not a known quadratic"))
    lo, hi, _ = e
    a, b, c = 1 / lo - 1 / (hi + lo), 1 / lo, 2 / (lo + hi)
    ok = a < t < b and t <= c
    return Decision(ok, f"constant t in (13): {a:g} < t = {t:g} < {b:g} and t ≤ 2/(λ_min+λ_max) = {c:g}")


def radius_constant_positive(s: Setting) -> Decision:
    rho = constant_value(s.radius)
    return Decision(rho is not None and rho > 0, f"constant ρ > 0: radius {getattr(s.radius, 'spec', None)}")


def start_in_ball_15(s: Setting) -> Decision:
    """0 < ‖x¹ − x*‖ < tρλ_min/(1 − tλ_min), condition (13) on x¹."""
    e, t, rho = _eigen(s), constant_value(s.step), constant_value(s.radius)
    if s.x0 is None:
        return Decision(None, "0 < ‖x¹ − x*‖ < tρλ_min/(1 − tλ_min): no initial point given")
    if e is None or t is None or rho is None or t * e[0] >= 1:
        return Decision(None, "0 < ‖x¹ − x*‖ < tρλ_min/(1 − tλ_min): needs a quadratic with constant t < 1/λ_min and ρ")
    lo, _, x_star = e
    dist, radius = float(np.linalg.norm(np.asarray(s.x0) - x_star)), t * rho * lo / (1 - t * lo)
    return Decision(0 < dist < radius, f"0 < ‖x¹ − x*‖ = {dist:g} < tρλ_min/(1 − tλ_min) = {radius:g}")


def is_x_squared(s: Setting) -> Decision:
    """f(x) = x² on R (checked: f and f′ at sample points)."""
    p = s.problem
    if p.dim != 1:
        return Decision(False, f"f(x) = x²: dimension is {p.dim}, not 1")
    X = np.linspace(-3, 3, SAMPLE_POINTS)[:, None]
    F, G = _host(p.f(p.xp.asarray(X))), _host(p.grad(p.xp.asarray(X)))
    ok = np.allclose(F, X[:, 0] ** 2, rtol=1e-12, atol=1e-14) and np.allclose(G, 2 * X, rtol=1e-12, atol=1e-14)
    return Decision(bool(ok), f"f(x) = x²: f and f′ {'match' if ok else 'differ from'} x², 2x at {SAMPLE_POINTS} points")


def reverse_sam(s: Setting) -> Decision:
    ok = bool(getattr(declaration_of(s.method), "reverse_sam", False))
    return Decision(ok, f"method is IGD with the reverse-SAM error of (10) (igd:error=example34): got {s.method.spec}")


def step_below_half(s: Setting) -> Decision:
    """t_k ∈ [0, ½) for every k (the proof of Example 3.4 uses t_k < ½)."""
    sup = s.step.sup()
    if sup.value is None:
        return Decision(None, "t_k < ½: " + sup.how)
    first = float(s.step.values(np.array([1]))[0])
    # sup is attained at k = 1 for the nonincreasing families; otherwise a sup < ½ still suffices
    ok = sup.value < 0.5 and first < 0.5
    return Decision(ok, f"t_k < ½ for all k: sup t = {sup.value:g} ({sup.how})")


def start_beyond_radius(s: Setting) -> Decision:
    rho = constant_value(s.radius)
    if s.x0 is None or rho is None:
        return Decision(None, "|x¹| > ρ: no initial point or no constant radius given")
    x1 = float(np.asarray(s.x0).reshape(-1)[0])
    return Decision(abs(x1) > rho, f"|x¹| = {abs(x1):g} {'>' if abs(x1) > rho else '≤'} ρ = {rho:g}")


def step_for_dai_bound(s: Setting) -> Decision:
    """Constant t with t ≤ 1/L (so 2 − Lt > 0; see the module docstring)."""
    t = constant_value(s.step)
    L, how = lipschitz_constant(s.meta)
    if t is None:
        return Decision(False, f"constant t ≤ 1/L: step {s.step.spec} is not constant")
    if L is None:
        return Decision(None, f"constant t ≤ 1/L: {how}")
    return Decision(t <= 1 / L, f"constant t ≤ 1/L: t = {t:g}, 1/L = {1 / L:g} ({how})")


DAI_FLOOR_POWER_OF_L = 3


def dai_floor(t: float, rho: float, L: float, mu: float, power_of_L: int = DAI_FLOOR_POWER_OF_L) -> float:
    """Floor term of Dai et al. 2023, Thm 1: t L³ ρ² / (2μ(2 − Lt)) (``power_of_L`` only for controls)."""
    return t * L ** power_of_L * rho ** 2 / (2 * mu * (2 - L * t))


def dai_bound(s: Setting) -> Optional[dict]:
    """The parameters of Dai et al.'s bound, when its constants are known: contraction, floor, f*."""
    t, rho = constant_value(s.step), constant_value(s.radius)
    L, _ = lipschitz_constant(s.meta)
    mu = s.meta.mu
    if None in (t, rho, L, mu, s.meta.f_star) or not mu or 2 - L * t <= 0:
        return None
    return {"contraction": 1 - t * mu * (2 - L * t), "floor": dai_floor(t, rho, L, float(mu)),
            "f_star": float(s.meta.f_star), "t": t, "rho": rho, "L": L, "mu": float(mu),
            "formula": "f(x^k) − f* ≤ (1 − tμ(2 − Lt))^(k−1) (f(x¹) − f*) + tL³ρ²/(2μ(2 − Lt))"}


def check_dai_bound(bound: dict, trace) -> dict:
    """Evaluate the bound at every recorded iterate of ``trace``: worst ratio gap, first violation."""
    k = np.asarray(trace.k, dtype=float)
    f = np.asarray(trace.f, dtype=float)
    gap0 = f[0] - bound["f_star"]
    rhs = bound["contraction"] ** (k - 1) * gap0 + bound["floor"]
    lhs = f - bound["f_star"]
    slack = 1e-12 * (abs(bound["f_star"]) + abs(gap0) + 1.0)  # round-off in f
    bad = lhs > rhs + slack
    first = int(k[np.argmax(bad)]) if bad.any() else None
    return {"holds": not bool(bad.any()), "checked_iterates": int(len(k)), "first_violation_k": first,
            "max_lhs_over_rhs": float(np.max(lhs / np.maximum(rhs, 1e-300)))}


__all__ = ["is_quadratic", "eigen_ratio_below_two", "step_in_interval_13", "radius_constant_positive",
           "start_in_ball_15", "is_x_squared", "reverse_sam", "step_below_half", "start_beyond_radius",
           "step_for_dai_bound", "dai_floor", "dai_bound", "check_dai_bound"]
