"""The Mexican hat of Absil, Mahony and Andrews: descent iterates that do not converge.

Reference: P.-A. Absil, R. Mahony, B. Andrews, "Convergence of the iterates of descent methods for
analytic cost functions", SIAM J. Optim. 16(2):531–547, 2005 (the "Mexican hat" of its keywords;
F. Gruen, arXiv 2408.10582, recalls that its gradient trajectories have the whole unit circle as limit
set). In polar coordinates, with s = 1/(1 − r²),

    f(r, θ) = e^{−s} [1 − 4r⁴/(4r⁴ + (1 − r²)⁴) · sin(θ − s)]   for r < 1,      f = 0 for r ≥ 1.

(The formula is the one transcribed in this project's brief; the search corpus confirmed the paper
and the example's name, not the formula's text.) The valley where sin(θ − s) ≈ 1 is a spiral: along
it θ − s stays constant, so each turn (θ += 2π) moves s up by 2π and r → 1, while f decreases by a
factor about e^{−2π}. Descent iterates that follow the valley wind around forever; their ω-limit is
the whole unit circle, all of whose points are minimizers. f is not analytic (it is flat at r = 1),
which is what the analytic (KL) convergence theorem needs; the KL property fails on the circle.

Smoothness: C^∞ on R²∖{0}; at the origin the angular term 4r⁴ sin θ = 4r³y is C³ but not C⁴, so f is
C³ there (enough for a bounded Hessian, hence a global Lipschitz gradient).

Floating point: e^{−s} underflows to 0 for s > 745, i.e. r > 0.99933; there f and ∇f evaluate to
exactly 0, so numerically every point that close to the circle is stationary. The bracket is
computed without cancellation as (1 − a) + a(1 − sin u) with 1 − a = (1 − r²)⁴/(4r⁴ + (1 − r²)⁴) and
1 − sin u = 2 sin²(π/4 − u/2).

Speed of the spiral [derived, measured]: near the valley floor the curvature across the valley is
about 4s⁴e^{−s} while the slope along it is about e^{−s}/(4s⁴), so gradient descent with any step that
is stable across the valley advances at most ~1/(16 s⁸) radians per step along it (constant step 0.1
from s = 2: 0.27 of a turn in 2·10⁴ steps). A full turn is out of reach of a test; :meth:`spiral_start`
therefore gives valley-floor starting points one turn apart, with a locally stable constant step
each, on which GD's angle and radius both increase monotonically.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from convcheck.jit import CompiledProblem
from .base import Meta, MinimizerSet, Problem
from .registry import register

UNDERFLOW_RADIUS = math.sqrt(1.0 - 1.0 / 745.0)


class MexicanHatProblem(Problem):
    """The AMA05 Mexican hat on R² (see the module docstring for the formula)."""

    def _value_and_grad(self, X):
        xp = self.xp
        x, y = X[..., 0], X[..., 1]
        rho = x * x + y * y
        inside = rho < 1.0
        # outside the disk (ρ ≥ 1, overflowing ρ = inf included) f = 0 and ∇f = 0: dummy ρ = 0 and w = 1
        # there keep every expression below finite, so the envelope 0 gives exact zeros
        rho = xp.where(inside, rho, 0.0)
        w = 1.0 - rho
        s = 1.0 / w
        envelope = xp.where(inside, xp.exp(-s), 0.0)
        w4 = w * w * w * w
        denominator = 4.0 * rho * rho + w4
        a = 4.0 * rho * rho / denominator
        u = xp.arctan2(y, x) - s
        sin_u, cos_u = xp.sin(u), xp.cos(u)
        half = xp.sin(0.25 * math.pi - 0.5 * u)
        bracket = w4 / denominator + 2.0 * a * half * half
        da_drho = 8.0 * rho * w4 / w * (w + 2.0 * rho) / (denominator * denominator)
        # ∇f = e^{−s}[(−2s²B − 2 sin u a′ + 2 a cos u s²) X − (a/ρ) cos u (−y, x)]
        radial = envelope * (2.0 * s * s * (a * cos_u - bracket) - 2.0 * sin_u * da_drho)
        angular = envelope * (4.0 * rho / denominator) * cos_u  # a/ρ, finite at the origin
        grad = xp.stack([radial * x + angular * y, radial * y - angular * x], axis=-1)
        return envelope * bracket, grad

    def compiled_form(self):
        return CompiledProblem.of("mexican_hat", _mexican_hat_value_and_grad)

    def valley_phase(self, X) -> np.ndarray:
        """u = θ − 1/(1 − r²) modulo 2π, in [0, 2π); the valley floor is near u = π/2 (host array)."""
        X = np.asarray(self.backend.to_host(X), dtype=float)
        rho = np.sum(X * X, axis=-1)
        return np.mod(np.arctan2(X[..., 1], X[..., 0]) - 1.0 / (1.0 - rho), 2 * math.pi)

    def spiral_start(self, turn: int = 0, s0: float = 2.0) -> dict:
        """A valley-floor start ``turn`` windings down the spiral, with a locally stable constant step.

        Returns dict with ``x1`` (θ − s = π/2 at s = s0 + 2π·turn), ``step`` = 0.5/‖∇²f(x1)‖ (stable
        across the valley near x1), ``s`` and ``radius``. For turn = 0 the step is 0.5/‖∇²f‖ ≈ 0.06;
        a step of 0.1 also works there. Gradient descent from x1 moves counterclockwise and outward.
        """
        s = s0 + 2 * math.pi * turn
        r = math.sqrt(1.0 - 1.0 / s)
        theta = s + 0.5 * math.pi
        x1 = np.array([r * math.cos(theta), r * math.sin(theta)])
        step = 0.5 / np.linalg.norm(self.hessian(x1), 2)
        return {"x1": x1, "step": float(step), "s": s, "radius": r}


def _mexican_hat_value_and_grad(X, data, dims, F, G, with_value):
    """Compiled :meth:`MexicanHatProblem._value_and_grad`, row by row in the same order of operations
    (ρ = x² + y², w = 1 − ρ inside the disk; ρ = 0 and w = 1 outside, where e^{−s} is 0; the bracket without
    cancellation; ∇f = radial·(x, y) + angular·(y, −x))."""
    for i in range(X.shape[0]):
        x, y = X[i, 0], X[i, 1]
        rho = x * x + y * y
        inside = rho < 1.0
        rho = rho if inside else 0.0  # dummy ρ = 0, so w = 1, outside the disk, as in the NumPy form
        w = 1.0 - rho
        s = 1.0 / w
        envelope = math.exp(-s) if inside else 0.0
        w4 = w * w * w * w
        denominator = 4.0 * rho * rho + w4
        a = 4.0 * rho * rho / denominator
        u = math.atan2(y, x) - s
        sin_u, cos_u = math.sin(u), math.cos(u)
        half = math.sin(0.25 * math.pi - 0.5 * u)
        bracket = w4 / denominator + 2.0 * a * half * half
        da_drho = 8.0 * rho * w4 / w * (w + 2.0 * rho) / (denominator * denominator)
        radial = envelope * (2.0 * s * s * (a * cos_u - bracket) - 2.0 * sin_u * da_drho)
        angular = envelope * (4.0 * rho / denominator) * cos_u
        G[i, 0] = radial * x + angular * y
        G[i, 1] = radial * y - angular * x
        if with_value:
            F[i] = envelope * bracket


@lru_cache(maxsize=1)
def estimated_lipschitz() -> float:
    """max ‖∇²f‖₂ over a polar grid of the unit disk (FD Hessian of the exact gradient), times 1.05.

    The grid is 4000 radii (up to 0.9995) × 48 angles; the maximum (≈ 58, near r ≈ 0.7) is far
    from the origin and from the flat circle, where the Hessian varies on a scale ≫ the grid step.
    """
    problem = MexicanHatProblem("mexican_hat", Meta(dim=2))
    r = np.linspace(0.0, 0.9995, 4000)[:, None]
    theta = np.linspace(0.0, 2 * math.pi, 48, endpoint=False)[None, :]
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1).reshape(-1, 2)
    h = 1e-6
    columns = [(problem.grad(X + h * e) - problem.grad(X - h * e)) / (2 * h) for e in np.eye(2)]
    H = np.stack(columns, axis=-1)
    H = 0.5 * (H + np.swapaxes(H, -1, -2))
    return 1.05 * float(np.max(np.abs(np.linalg.eigvalsh(H))))


@register("mexican_hat", "Absil–Mahony–Andrews (2005) Mexican hat: smooth, not analytic; descent iterates "
          "spiral to the unit circle without converging")
def mexican_hat() -> MexicanHatProblem:
    """Meta: nonconvex; minimizers = the closed exterior of the unit disk (f = 0 there, f > 0
    inside), f* = 0; known stationary points: the origin (a local maximum) and every minimizer;
    L estimated (provenance "estimate") by :func:`estimated_lipschitz`; not analytic, KL fails on
    the unit circle; level sets unbounded (f = 0 outside the disk)."""
    meta = Meta(dim=2, params={}, convex=False, L=estimated_lipschitz(), f_star=0.0,
                minimizer=MinimizerSet("exterior", points=np.zeros((1, 2)), radius=1.0),
                stationary_points=np.zeros((1, 2)), bounded_level_sets=False, analytic=False, kl=False,
                reference="Absil, Mahony, Andrews, SIAM J. Optim. 16(2):531-547, 2005 (Mexican hat)",
                provenance={"L": "estimate", "f_star": "exact"},
                notes="C^3 at the origin, C^inf elsewhere; f and grad underflow to 0 for r > 0.99933; "
                      "GD follows the spiral valley ~1/(16 s^8) rad per step (see spiral_start)")
    return MexicanHatProblem("mexican_hat", meta)
