"""The methods of the paper as batched update rules x^{k+1} = x^k − t_k · D(x^k).

Every method maps the current iterates X (B, n), their gradients G = ∇f(X) (computed once per step
by the runner and shared with the recorder), per-run t_k and ρ_k (B, 1) and the method's state to the
update direction D (B, n); the runner then sets x^{k+1} = x^k − t_k D.

Members of the paper's Algorithm 1a (SAM, RSAM, VaSSO, F-SAM) share one step,
:func:`perturbed_gradient`: D = ∇f(x^k + ρ_k d^k/‖d^k‖), and differ only in the direction rule d^k.
Unnormalized methods (USAM, extragradient) and the inexact-gradient methods (Algorithms 1 and 2)
are written the same way. Numbers are the paper's own (algorithms, equations, theorems).

Normalization and zero gradients (convcheck's choice where the paper is silent): a normalized method
divides by ‖d^k‖, and Algorithm 1a asks for d^k ≠ 0.

- ∇f(x^k) = 0: every normalized method stops there with status "stationary", the optional stopping
  rule "stop if ∇f(x^k) = 0" behind Theorem 4.1(v)'s finite termination. For SAM d^k = ∇f(x^k) = 0
  leaves no step to take; for RSAM, VaSSO and F-SAM d^k is in general non-zero there and the formula
  could continue, but x^k is already a stationary point, which is what P1–P5 are about.
- d^k = 0 while ∇f(x^k) ≠ 0 (VaSSO's average or F-SAM's difference can cancel; e.g. VaSSO with
  θ = ½ on x² from x¹ = a with t = t₁, ρ = a(1 − t)/t gives d² = 0): d^k/‖d^k‖ is 0/0, the method is
  undefined, and the run stops with status "undefined_step" (not "diverged": nothing grew);
  :func:`convcheck.properties.certify` marks every property of such a run inconclusive.

An epsilon guard ‖d‖ + eps (as in the deep-learning codes of the variants) is available as
``eps_guard`` and is off (0) by default; with it a zero gradient does not stop the run.

Compiled rules: beside each ``direction_step`` (the NumPy reference) a ``_..._rule`` function states
the same formula in Numba's nopython subset with the fixed signature of
:class:`convcheck.jit.CompiledRule` (a small program over gradient evaluations: return 1 after
writing a point Y, whose gradient GY the kernel evaluates, and 0 once the direction D is written);
``compiled_rule`` returns it with the parameters as a float array. Methods whose step calls user code
(an ``error`` callable) have none and run on the generic engine.

Radius slot: for Algorithm 1a members, USAM and extragradient the runner's ``radius`` schedule is
ρ_k; for ``igd`` (Algorithm 1) it is the absolute error level ε_k (for ``error="example34"`` it is the
reverse-SAM radius ρ, whose error is ≤ Lρ); ``igdr`` (Algorithm 2) takes its relative error ν as a
parameter and uses no radius; ``gd`` uses none.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from . import declarations as declared
from .jit import CompiledRule, jit_inline
from .specs import format_spec


def row_norms(xp, V):
    """Euclidean norm of each row of V (B, n) as a column (B, 1)."""
    return xp.sqrt(xp.einsum("ij,ij->i", V, V))[:, None]


def perturbed_gradient(problem, X, direction, rho, eps_guard: float = 0.0):
    """Shared step of Algorithm 1a: ∇f(x + ρ d/‖d‖) row-wise (B, n); ρ is (B, 1).

    With ``eps_guard`` > 0 the division is by ‖d‖ + eps_guard (deep-learning codes' guard).
    """
    xp = problem.xp
    scale = rho / (row_norms(xp, direction) + eps_guard)
    return problem.grad(X + scale * direction)


@dataclass(frozen=True)
class Method:
    """A batched update rule. Subclasses implement :meth:`direction_step`.

    Attributes
    ----------
    name : registry name; ``params`` its parameters (paper names).
    normalized : divides by ‖d^k‖ (a zero gradient terminates the run).
    uses_radius : consumes the runner's ``radius`` schedule.
    noise_dim : number of standard-normal vectors of length n drawn per step per run (seeded per run).
    """

    name: str = "gd"
    params: dict = field(default_factory=dict)
    normalized: bool = False
    uses_radius: bool = False
    noise_dim: int = 0

    @property
    def stops_at_zero_gradient(self) -> bool:
        """Normalized without an epsilon guard: ∇f(x^k) = 0 ends the run (finite termination)."""
        return self.normalized and not self.params.get("eps_guard", 0.0)

    @property
    def spec(self) -> str:
        return format_spec(self.name, {k: v for k, v in self.params.items() if not callable(v)})

    def to_dict(self) -> dict:
        out = {"name": self.name, "spec": self.spec,
               "params": {k: (repr(v) if callable(v) else v) for k, v in self.params.items()},
               "normalized": self.normalized, "uses_radius": self.uses_radius,
               "algorithm": ALGORITHM_NUMBERS.get(self.name, "")}
        if type(self).__dict__.get("registry_name") != self.name:
            out.update(declared.recorded(self))  # a user's method: what the theory needs, rebuilt without its code
        return out

    def init_state(self, xp, G) -> dict:
        """State arrays (first dimension B) before step k = 1."""
        return {}

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        """Return (D, state) with x^{k+1} = x^k − t_k D. Shapes: X, G (B, n); gnorm, t, rho (B, 1)."""
        raise NotImplementedError

    def compiled_rule(self) -> Optional[CompiledRule]:
        """The compiled form of :meth:`direction_step` (see the module doc), or None: the generic
        engine runs this method. A subclass that overrides ``direction_step`` must define its own."""
        return None


# ---------------------------------------------------------------------- shared parts of the compiled rules
@jit_inline
def _perturb_row(Y, X, V, i, scale):
    """Y_i = x_i + scale·v_i (the point at which Algorithm 1a evaluates the gradient)."""
    for l in range(X.shape[1]):
        Y[i, l] = X[i, l] + scale * V[i, l]


@jit_inline
def _row_norm(V, i):
    squares = 0.0
    for l in range(V.shape[1]):
        squares += V[i, l] * V[i, l]
    return math.sqrt(squares)


@jit_inline
def _take_gradient(D, GY):
    """The last stage of a perturbed-gradient rule: D = ∇f(Y)."""
    D[:, :] = GY
    return 0


def _rule(self, function, *params, state_rows=0) -> CompiledRule:
    return CompiledRule(self.name, function, tuple(float(p) for p in params), state_rows)


# ---------------------------------------------------------------------- GD and Algorithm 1a family
class GD(Method):
    """Gradient descent, x^{k+1} = x^k − t_k ∇f(x^k) (the paper, Section 2)."""

    declaration = declared.RelativeError(nu=0.0)
    registry_name = "gd"

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return G, state

    def compiled_rule(self):
        return _rule(self, _gd_rule)


def _gd_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """D = ∇f(x^k)."""
    D[:, :] = G
    return 0


class SAM(Method):
    """SAM, normalized (Alg. 1a/2c; eq. (6)): x^{k+1} = x^k − t_k ∇f(x^k + ρ_k ∇f(x^k)/‖∇f(x^k)‖)."""

    declaration = declared.PerturbedGradient(direction="gradient")
    registry_name = "sam"

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        scale = rho / (gnorm + self.params.get("eps_guard", 0.0))
        return problem.grad(X + scale * G), state

    def compiled_rule(self):
        return _rule(self, _sam_rule, self.params.get("eps_guard", 0.0))


def _sam_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """Y = x^k + ρ_k ∇f(x^k)/(‖∇f(x^k)‖ + eps_guard), then D = ∇f(Y) (eq. (6))."""
    if stage == 0:
        for i in range(X.shape[0]):
            _perturb_row(Y, X, G, i, rho[i] / (gnorm[i] + params[0]))
        return 1
    return _take_gradient(D, GY)


class RSAM(Method):
    """Random SAM (Alg. 2d; Liu et al. 2022): Δ^k ~ N(0, σ²I), g̃ = ∇f(x^k + Δ^k),
    d^k = Δ^k + λ g̃, x^{k+1} = x^k − t_k ∇f(x^k + ρ_k d^k/‖d^k‖).

    The Gaussian law of Δ^k is Liu et al.'s [inferred]; draws come from per-run seeded generators.
    """

    declaration = declared.PerturbedGradient(direction="Δ^k + λ∇f(x^k + Δ^k), Δ^k ~ N(0, σ²I)")

    registry_name = "rsam"

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        delta = self.params["sigma"] * noise[0]
        direction = delta + self.params["lam"] * problem.grad(X + delta)
        return perturbed_gradient(problem, X, direction, rho, self.params.get("eps_guard", 0.0)), state

    def compiled_rule(self):
        return _rule(self, _rsam_rule, self.params["sigma"], self.params["lam"], self.params.get("eps_guard", 0.0))


def _rsam_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """Y = x^k + Δ^k (Δ^k = σ·noise); d = Δ^k + λ∇f(Y); Y = x^k + ρ_k d/(‖d‖ + eps_guard); D = ∇f(Y)."""
    sigma, lam, eps_guard = params[0], params[1], params[2]
    batch, n = X.shape
    if stage == 0:
        for i in range(batch):
            for l in range(n):
                Y[i, l] = X[i, l] + sigma * noise[0, i, l]
        return 1
    if stage == 1:
        for i in range(batch):
            for l in range(n):
                D[i, l] = sigma * noise[0, i, l] + lam * GY[i, l]  # d^k, held in D until the last stage
            _perturb_row(Y, X, D, i, rho[i] / (_row_norm(D, i) + eps_guard))
        return 1
    return _take_gradient(D, GY)


class VaSSO(Method):
    """VaSSO (Alg. 2e; Li & Giannakis 2023): d¹ = ∇f(x¹), d^k = (1 − θ) d^{k−1} + θ ∇f(x^k),
    x^{k+1} = x^k − t_k ∇f(x^k + ρ_k d^k/‖d^k‖). θ = 1 is SAM. [inferred EMA form, from Li & Giannakis 2023]
    """

    declaration = declared.PerturbedGradient(direction="(1 − θ) d^{k−1} + θ ∇f(x^k)")

    registry_name = "vasso"

    def init_state(self, xp, G):
        return {"d": None}

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        theta = self.params["theta"]
        previous = state["d"]
        direction = G.copy() if previous is None else (1.0 - theta) * previous + theta * G
        D = perturbed_gradient(problem, X, direction, rho, self.params.get("eps_guard", 0.0))
        return D, {"d": direction}

    def compiled_rule(self):
        return _rule(self, _vasso_rule, self.params["theta"], self.params.get("eps_guard", 0.0), state_rows=1)


def _vasso_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """state d: d¹ = ∇f(x¹), d^k = (1 − θ)d^{k−1} + θ∇f(x^k); Y = x^k + ρ_k d^k/(‖d^k‖ + eps); D = ∇f(Y)."""
    theta, eps_guard = params[0], params[1]
    if stage == 0:
        d = state[:, 0, :]
        for i in range(X.shape[0]):
            for l in range(X.shape[1]):
                d[i, l] = G[i, l] if local_k == 1 else (1.0 - theta) * d[i, l] + theta * G[i, l]
            _perturb_row(Y, X, d, i, rho[i] / (_row_norm(d, i) + eps_guard))
        return 1
    return _take_gradient(D, GY)


class FSAM(Method):
    """F-SAM (Alg. 2f; Li et al. 2024): remove the EMA m of past gradients before normalizing.

    order="code" (default, nblt/F-SAM): d¹ = g¹, m¹ = g¹; for k ≥ 2 d^k = g^k − σ m^{k−1}, then
    m^k = λ m^{k−1} + (1 − λ) g^k. order="paper" (third-party reading): m^k is updated first and
    d^k = g^k − σ m^k (k ≥ 2; d¹ = g¹ in both orders, since m¹ = g¹ would give d¹ = 0 at σ = 1).
    σ = 0 is SAM. Step: x^{k+1} = x^k − t_k ∇f(x^k + ρ_k d^k/‖d^k‖).
    """

    declaration = declared.PerturbedGradient(direction="∇f(x^k) − σ m^{k−1}")

    def init_state(self, xp, G):
        return {"m": None}

    registry_name = "fsam"

    def compiled_rule(self):
        return _rule(self, _fsam_rule, self.params["sigma"], self.params["lam"], self.params["order"] == "paper",
                     self.params.get("eps_guard", 0.0), state_rows=1)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        sigma, lam = self.params["sigma"], self.params["lam"]
        m = state["m"]
        if m is None:
            direction, m_new = G, G.copy()
        elif self.params["order"] == "code":
            direction = G - sigma * m
            m_new = lam * m + (1.0 - lam) * G
        else:
            m_new = lam * m + (1.0 - lam) * G
            direction = G - sigma * m_new
        D = perturbed_gradient(problem, X, direction, rho, self.params.get("eps_guard", 0.0))
        return D, {"m": m_new}


def _fsam_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """state m; d^k = g − σm^{k−1}, m^k = λm^{k−1} + (1 − λ)g ("code"; "paper": m first, d^k = g − σm^k);
    d¹ = g¹, m¹ = g¹; Y = x^k + ρ_k d^k/(‖d^k‖ + eps); D = ∇f(Y)."""
    sigma, lam, paper, eps_guard = params[0], params[1], params[2] != 0.0, params[3]
    if stage == 0:
        m = state[:, 0, :]
        for i in range(X.shape[0]):
            for l in range(X.shape[1]):
                g = G[i, l]
                if local_k == 1:
                    D[i, l], m[i, l] = g, g  # d^k, held in D until the last stage
                elif paper:
                    m[i, l] = lam * m[i, l] + (1.0 - lam) * g
                    D[i, l] = g - sigma * m[i, l]
                else:
                    D[i, l] = g - sigma * m[i, l]
                    m[i, l] = lam * m[i, l] + (1.0 - lam) * g
            _perturb_row(Y, X, D, i, rho[i] / (_row_norm(D, i) + eps_guard))
        return 1
    return _take_gradient(D, GY)


# ---------------------------------------------------------------------- unnormalized (Algorithm 2 family)
class USAM(Method):
    """USAM (Alg. 2a; Andriushchenko & Flammarion 2022): x^{k+1} = x^k − t_k ∇f(x^k + ρ_k ∇f(x^k))."""

    declaration = declared.UnnormalizedPerturbation(sign=1)
    registry_name = "usam"

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return problem.grad(X + rho * G), state

    def compiled_rule(self):
        return _rule(self, _unnormalized_rule, 1.0)


def _unnormalized_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """Y = x^k + sign·ρ_k ∇f(x^k) (sign = params[0]: +1 USAM, −1 extragradient), then D = ∇f(Y)."""
    if stage == 0:
        for i in range(X.shape[0]):
            _perturb_row(Y, X, G, i, params[0] * rho[i])  # (−ρ)·g is −(ρ·g) exactly: x − ρg bitwise
        return 1
    return _take_gradient(D, GY)


class Extragradient(Method):
    """Extragradient (Alg. 2b; Korpelevich 1976): x^{k+1} = x^k − t_k ∇f(x^k − ρ_k ∇f(x^k)) [inferred form]."""

    declaration = declared.UnnormalizedPerturbation(sign=-1)
    registry_name = "extragradient"

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return problem.grad(X - rho * G), state

    def compiled_rule(self):
        return _rule(self, _unnormalized_rule, -1.0)


ALGORITHM_NUMBERS = {
    "gd": "GD (Section 2)", "sam": "Algorithm 1a/2c, eq. (6)", "rsam": "Algorithm 2d",
    "vasso": "Algorithm 2e", "fsam": "Algorithm 2f", "usam": "Algorithm 2a",
    "extragradient": "Algorithm 2b", "igd": "Algorithm 1", "igdr": "Algorithm 2",
}
