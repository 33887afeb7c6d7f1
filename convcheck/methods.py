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

Radius slot: for Algorithm 1a members, USAM and extragradient the runner's ``radius`` schedule is
ρ_k; for ``igd`` (Algorithm 1) it is the absolute error level ε_k (for ``error="example34"`` it is the
reverse-SAM radius ρ, whose error is ≤ Lρ); ``igdr`` (Algorithm 2) takes its relative error ν as a
parameter and uses no radius; ``gd`` uses none.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from . import declarations as declared
from .errors import InputError, SpecError, unknown_name
from .specs import BARE_KEY, format_spec, parse_spec


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
        if not (self.name in REGISTRY and type(self) is REGISTRY[self.name].cls):
            out.update(declared.recorded(self))  # a user's method: what the theory needs, rebuilt without its code
        return out

    def init_state(self, xp, G) -> dict:
        """State arrays (first dimension B) before step k = 1."""
        return {}

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        """Return (D, state) with x^{k+1} = x^k − t_k D. Shapes: X, G (B, n); gnorm, t, rho (B, 1)."""
        raise NotImplementedError


# ---------------------------------------------------------------------- GD and Algorithm 1a family
class GD(Method):
    """Gradient descent, x^{k+1} = x^k − t_k ∇f(x^k) (the paper, Section 2)."""

    declaration = declared.RelativeError(nu=0.0)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return G, state


class SAM(Method):
    """SAM, normalized (Alg. 1a/2c; eq. (6)): x^{k+1} = x^k − t_k ∇f(x^k + ρ_k ∇f(x^k)/‖∇f(x^k)‖)."""

    declaration = declared.PerturbedGradient(direction="gradient")

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        scale = rho / (gnorm + self.params.get("eps_guard", 0.0))
        return problem.grad(X + scale * G), state


class RSAM(Method):
    """Random SAM (Alg. 2d; Liu et al. 2022): Δ^k ~ N(0, σ²I), g̃ = ∇f(x^k + Δ^k),
    d^k = Δ^k + λ g̃, x^{k+1} = x^k − t_k ∇f(x^k + ρ_k d^k/‖d^k‖).

    The Gaussian law of Δ^k is Liu et al.'s [inferred]; draws come from per-run seeded generators.
    """

    declaration = declared.PerturbedGradient(direction="Δ^k + λ∇f(x^k + Δ^k), Δ^k ~ N(0, σ²I)")

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        delta = self.params["sigma"] * noise[0]
        direction = delta + self.params["lam"] * problem.grad(X + delta)
        return perturbed_gradient(problem, X, direction, rho, self.params.get("eps_guard", 0.0)), state


class VaSSO(Method):
    """VaSSO (Alg. 2e; Li & Giannakis 2023): d¹ = ∇f(x¹), d^k = (1 − θ) d^{k−1} + θ ∇f(x^k),
    x^{k+1} = x^k − t_k ∇f(x^k + ρ_k d^k/‖d^k‖). θ = 1 is SAM. [inferred EMA form, from Li & Giannakis 2023]
    """

    declaration = declared.PerturbedGradient(direction="(1 − θ) d^{k−1} + θ ∇f(x^k)")

    def init_state(self, xp, G):
        return {"d": None}

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        theta = self.params["theta"]
        previous = state["d"]
        direction = G.copy() if previous is None else (1.0 - theta) * previous + theta * G
        D = perturbed_gradient(problem, X, direction, rho, self.params.get("eps_guard", 0.0))
        return D, {"d": direction}


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


# ---------------------------------------------------------------------- unnormalized (Algorithm 2 family)
class USAM(Method):
    """USAM (Alg. 2a; Andriushchenko & Flammarion 2022): x^{k+1} = x^k − t_k ∇f(x^k + ρ_k ∇f(x^k))."""

    declaration = declared.UnnormalizedPerturbation(sign=1)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return problem.grad(X + rho * G), state


class Extragradient(Method):
    """Extragradient (Alg. 2b; Korpelevich 1976): x^{k+1} = x^k − t_k ∇f(x^k − ρ_k ∇f(x^k)) [inferred form]."""

    declaration = declared.UnnormalizedPerturbation(sign=-1)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return problem.grad(X - rho * G), state


# ---------------------------------------------------------------------- inexact gradients
def _unit_rows(xp, V):
    norms = row_norms(xp, V)
    return V / xp.where(norms > 0, norms, 1.0)


class IGD(Method):
    """Inexact GD with absolute errors (Algorithm 1): x^{k+1} = x^k − t_k g^k, ‖g^k − ∇f(x^k)‖ ≤ ε_k.

    ε_k is the runner's ``radius`` schedule. Error models (``error``):
    - "opposite": g = ∇f − ε_k ∇f/‖∇f‖ (worst case, against the gradient; 0 error at ∇f = 0);
    - "random": g = ∇f + ε_k u, u uniform on the unit sphere (seeded per run);
    - "example34": g = ∇f(x − ρ_k ∇f/‖∇f‖), the reverse-SAM construction of Example 3.4 (eq. (10)); on
      f = x² its error is exactly 2ρ_k, in general ≤ Lρ_k (here the radius slot is ρ_k, not ε_k);
    - a callable ``error(X, G, eps, k, rng_noise) -> E`` (B, n) with ‖E_b‖ ≤ eps_b, checked each step.
    """

    @property
    def declaration(self):
        return declared.igd_declaration(self.params)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        xp = problem.xp
        model = self.params["error"]
        if model == "opposite":
            return G - rho * _unit_rows(xp, G), state
        if model == "random":
            return G + rho * _unit_rows(xp, noise[0]), state
        if model == "example34":
            scale = rho / (gnorm + self.params.get("eps_guard", 0.0))
            return problem.grad(X - scale * G), state
        E = model(X, G, rho[:, 0], k, noise[0] if noise else None)
        _check_error_bound(xp, E, rho, X.shape, "absolute error eps_k")
        return G + E, state


class IGDR(Method):
    """Inexact GD with relative error (Algorithm 2): ‖g^k − ∇f(x^k)‖ ≤ ν‖∇f(x^k)‖, ν ∈ [0, 1).

    Error models: "opposite" g = (1 − ν)∇f; "random" g = ∇f + ν‖∇f‖u (u uniform on the sphere);
    a callable ``error(X, G, nu_norm, k, rng_noise) -> E`` with ‖E_b‖ ≤ ν‖∇f(x_b)‖, checked.
    """

    @property
    def declaration(self):
        return declared.RelativeError(nu=float(self.params["nu"]))

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        xp = problem.xp
        nu, model = self.params["nu"], self.params["error"]
        if model == "opposite":
            return (1.0 - nu) * G, state
        if model == "random":
            return G + (nu * gnorm) * _unit_rows(xp, noise[0]), state
        E = model(X, G, nu * gnorm[:, 0], k, noise[0] if noise else None)
        _check_error_bound(xp, E, nu * gnorm, X.shape, "relative error nu*|grad f|")
        return G + E, state


def _check_error_bound(xp, E, bound, shape, what):
    if getattr(E, "shape", None) != shape:
        raise InputError(f"error callable returned shape {getattr(E, 'shape', None)}, expected {shape}")
    excess = row_norms(xp, E) - bound * (1 + 1e-12)
    if bool(xp.any(excess > 1e-300)):
        raise InputError(f"error callable returned a vector longer than the {what}")


# ---------------------------------------------------------------------- registry and specs
ALGORITHM_NUMBERS = {
    "gd": "GD (Section 2)", "sam": "Algorithm 1a/2c, eq. (6)", "rsam": "Algorithm 2d",
    "vasso": "Algorithm 2e", "fsam": "Algorithm 2f", "usam": "Algorithm 2a",
    "extragradient": "Algorithm 2b", "igd": "Algorithm 1", "igdr": "Algorithm 2",
}


def _nonneg(name):
    def check(v):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise SpecError(f"{name} must be a finite number >= 0, got {v!r}")
        return float(v)
    return check


def _interval(name, low, high, high_open):
    def check(v):
        ok = isinstance(v, (int, float)) and math.isfinite(v) and low <= v and (v < high if high_open else v <= high)
        if not ok:
            bracket = ")" if high_open else "]"
            raise SpecError(f"{name} must lie in [{low}, {high}{bracket}, got {v!r}")
        return float(v)
    return check


def _choice(name, choices, allow_callable=False):
    def check(v):
        if allow_callable and callable(v):
            return v
        if v not in choices:
            raise SpecError(f"{name} must be one of {', '.join(choices)}{' or a callable' if allow_callable else ''}, got {v!r}")
        return v
    return check


@dataclass(frozen=True)
class _Entry:
    cls: type
    defaults: dict
    checks: dict
    normalized: bool
    uses_radius: bool
    noise_dim: Callable[[dict], int]
    summary: str


_EPS = {"eps_guard": _nonneg("eps_guard")}
REGISTRY: dict[str, _Entry] = {
    "gd": _Entry(GD, {}, {}, False, False, lambda p: 0, "x+ = x - t grad f(x)"),
    "sam": _Entry(SAM, {"eps_guard": 0.0}, _EPS, True, True, lambda p: 0,
                  "x+ = x - t grad f(x + rho grad f/|grad f|)"),
    "rsam": _Entry(RSAM, {"sigma": 0.01, "lam": 1.0, "eps_guard": 0.0},
                   {"sigma": _nonneg("sigma"), "lam": _interval("lam", 0, math.inf, True), **_EPS}, True, True,
                   lambda p: 1, "d = D + lam grad f(x + D), D ~ N(0, sigma^2 I); x+ = x - t grad f(x + rho d/|d|)"),
    "vasso": _Entry(VaSSO, {"theta": 0.9, "eps_guard": 0.0}, {"theta": _interval("theta", 0, 1, False), **_EPS},
                    True, True, lambda p: 0, "d = (1-theta) d_prev + theta grad f(x); x+ = x - t grad f(x + rho d/|d|)"),
    "fsam": _Entry(FSAM, {"sigma": 1.0, "lam": 0.9, "order": "code", "eps_guard": 0.0},
                   {"sigma": _nonneg("sigma"), "lam": _interval("lam", 0, 1, False),
                    "order": _choice("order", ("code", "paper")), **_EPS}, True, True, lambda p: 0,
                   "d = g - sigma m_prev, m = lam m + (1-lam) g; x+ = x - t grad f(x + rho d/|d|)"),
    "usam": _Entry(USAM, {}, {}, False, True, lambda p: 0, "x+ = x - t grad f(x + rho grad f(x))"),
    "extragradient": _Entry(Extragradient, {}, {}, False, True, lambda p: 0, "x+ = x - t grad f(x - rho grad f(x))"),
    "igd": _Entry(IGD, {"error": "opposite", "eps_guard": 0.0},
                  {"error": _choice("error", ("opposite", "random", "example34"), True), **_EPS},
                  False, True, lambda p: int(p["error"] == "random" or callable(p["error"])),
                  "x+ = x - t g, |g - grad f(x)| <= eps_k (radius slot = eps_k)"),
    "igdr": _Entry(IGDR, {"nu": 0.5, "error": "opposite"},
                   {"nu": _interval("nu", 0, 1, True), "error": _choice("error", ("opposite", "random"), True)},
                   False, False, lambda p: int(p["error"] == "random" or callable(p["error"])),
                   "x+ = x - t g, |g - grad f(x)| <= nu |grad f(x)|"),
}
ALIASES = {"usam": "usam", "eg": "extragradient", "f_sam": "fsam", "r_sam": "rsam", "igd_abs": "igd", "igd_rel": "igdr"}


def make(name: str, **params: Any) -> Method:
    """Build a method by registry name with keyword parameters (paper names), validated."""
    key = ALIASES.get(name, name)
    if key not in REGISTRY:
        raise unknown_name("method", name, REGISTRY)
    entry = REGISTRY[key]
    unknown = set(params) - set(entry.defaults)
    if unknown:
        accepted = ", ".join(f"{k}={v}" for k, v in entry.defaults.items()) or "none"
        raise SpecError(f"method {key!r} has no parameter {', '.join(sorted(unknown))}; accepted: {accepted}")
    merged = dict(entry.defaults)
    for k, v in params.items():
        merged[k] = entry.checks[k](v)
    normalized = entry.normalized or (key == "igd" and merged["error"] == "example34")
    return entry.cls(name=key, params=merged, normalized=normalized, uses_radius=entry.uses_radius,
                     noise_dim=entry.noise_dim(merged))


def get(spec: "str | Method") -> Method:
    """A method from a spec string (``"vasso:theta=0.9"``) or a Method (returned unchanged)."""
    if isinstance(spec, Method):
        return spec
    if isinstance(spec, str) and spec.startswith("py:"):  # the user's own code, named explicitly
        from .user_code import method_from_python
        return method_from_python(spec)
    name, params = parse_spec(spec, "method")
    if BARE_KEY in params:
        raise SpecError(f"method spec {spec!r}: give parameters as key=value (for example vasso:theta=0.9)")
    return make(name, **params)


def gd() -> Method:
    """Gradient descent (the paper, Section 2)."""
    return make("gd")


def sam(eps_guard: float = 0.0) -> Method:
    """SAM, normalized (Algorithm 1a/2c, eq. (6))."""
    return make("sam", eps_guard=eps_guard)


def usam() -> Method:
    """USAM (Algorithm 2a)."""
    return make("usam")


def extragradient() -> Method:
    """Extragradient (Algorithm 2b)."""
    return make("extragradient")


def igd(error: "str | Callable" = "opposite", eps_guard: float = 0.0) -> Method:
    """Inexact GD with absolute error ε_k (Algorithm 1); ε_k is the runner's radius schedule."""
    return make("igd", error=error, eps_guard=eps_guard)


def igdr(nu: float = 0.5, error: "str | Callable" = "opposite") -> Method:
    """Inexact GD with relative error ν ∈ [0, 1) (Algorithm 2)."""
    return make("igdr", nu=nu, error=error)


def rsam(sigma: float = 0.01, lam: float = 1.0, eps_guard: float = 0.0) -> Method:
    """Random SAM (Algorithm 2d)."""
    return make("rsam", sigma=sigma, lam=lam, eps_guard=eps_guard)


def vasso(theta: float = 0.9, eps_guard: float = 0.0) -> Method:
    """VaSSO (Algorithm 2e)."""
    return make("vasso", theta=theta, eps_guard=eps_guard)


def fsam(sigma: float = 1.0, lam: float = 0.9, order: str = "code", eps_guard: float = 0.0) -> Method:
    """F-SAM (Algorithm 2f)."""
    return make("fsam", sigma=sigma, lam=lam, order=order, eps_guard=eps_guard)


def describe_methods() -> list[dict]:
    """Rows for ``convcheck list methods``."""
    return [{"name": name, "algorithm": ALGORITHM_NUMBERS[name], "defaults": dict(entry.defaults),
             "normalized": entry.normalized, "radius": entry.uses_radius, "update": entry.summary}
            for name, entry in REGISTRY.items()]
