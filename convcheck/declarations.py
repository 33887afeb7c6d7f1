"""What a method declares about itself, so that the paper's hypotheses can be decided without its name.

A method carries one ``declaration`` (an instance of a class below); the hypotheses of the theorem
registry ask only these objects. A new variant is one :class:`~convcheck.methods.Method` subclass with
its ``direction_step`` and a declaration, or an existing method re-declared with :func:`declare`.

The families of the paper:

- :class:`PerturbedGradient`, Algorithm 1a: x^{k+1} = x^k − t_k ∇f(x^k + s·ρ_k d^k/‖d^k‖) with a
  direction rule d^k ≠ 0 and a fixed scale s of the perturbation (s = 1 in the paper). Proof C.5: it
  is Algorithm 1 with ‖g^k − ∇f(x^k)‖ ≤ ε_k = L·s·ρ_k, so Corollary 3.5 applies with limsup ρ_k < 2/(sL).
  SAM (6) is the member with d^k = ∇f(x^k) and s = 1 (Theorem 3.2, Example 3.1).
- :class:`AbsoluteError`, Algorithm 1: ‖g^k − ∇f(x^k)‖ ≤ ε_k with ε_k = c·(radius slot), c = 1, or
  c = L for the reverse-SAM step (10) of Example 3.4.
- :class:`RelativeError`, Algorithm 2: ‖g^k − ∇f(x^k)‖ ≤ ν‖∇f(x^k)‖ with ν ∈ [0, 1); GD is ν = 0.
- :class:`UnnormalizedPerturbation`, USAM (2a, sign +1) and extragradient (2b, sign −1):
  g^k = ∇f(x^k + sign·s·ρ_k ∇f(x^k)), a relative error ν = s·L·sup ρ_k (Theorem 4.2).

Each declaration also states ``stays_at_stationary``: whether the method stays at a point where
∇f = 0 (used by part (iii) of Theorem 3.3 / Corollary 3.5), and can bound ‖g^k − ∇f(x^k)‖ so that
:func:`audit` checks a method against its declaration at recorded iterates (the theorem study does).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Declaration:
    """Base class: a method that declares nothing the theory can use (every method hypothesis undecided)."""

    family = "undeclared"
    label = "a method with no declaration"
    stays_at_stationary: Optional[bool] = None

    def error_bound(self, L: float, rho, grad_norm):
        """Declared bound on ‖g^k − ∇f(x^k)‖ (arrays of runs), or None when nothing is declared."""
        return None

    def describe(self) -> str:
        return self.label

    def to_dict(self) -> dict:
        return {"family": self.family, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


@dataclass(frozen=True)
class PerturbedGradient(Declaration):
    """Algorithm 1a member: D = ∇f(x + s·ρ_k d^k/‖d^k‖); ``direction`` names the rule d^k in words.

    ``direction="gradient"`` (d^k = ∇f(x^k)) with ``scale=1`` is SAM (6) itself.
    """

    family = "algorithm_1a"
    direction: str = "gradient"
    scale: float = 1.0
    stays_at_stationary: Optional[bool] = True   # ∇f = 0 ends a normalized run (finite termination)

    @property
    def label(self) -> str:
        return (f"a member of Algorithm 1a (d^k: {self.direction}, perturbation {self.scale:g}·ρ_k d^k/‖d^k‖)")

    @property
    def is_sam(self) -> bool:
        return self.direction == "gradient" and self.scale == 1.0

    def error_bound(self, L, rho, grad_norm):
        return L * self.scale * rho


@dataclass(frozen=True)
class AbsoluteError(Declaration):
    """Algorithm 1: ‖g^k − ∇f(x^k)‖ ≤ ε_k = scale·(radius slot), times L when ``times_L``."""

    family = "algorithm_1"
    scale: float = 1.0
    times_L: bool = False
    reverse_sam: bool = False                    # the error (10) of Example 3.4
    stays_at_stationary: Optional[bool] = None

    @property
    def label(self) -> str:
        eps = f"{self.scale:g}·L·ρ_k" if self.times_L else ("ε_k" if self.scale == 1 else f"{self.scale:g}·ε_k")
        return f"Algorithm 1 (absolute error ‖g^k − ∇f(x^k)‖ ≤ {eps})" + (", reverse SAM (10)" if self.reverse_sam else "")

    def error_bound(self, L, rho, grad_norm):
        return self.scale * (L if self.times_L else 1.0) * rho


@dataclass(frozen=True)
class RelativeError(Declaration):
    """Algorithm 2: ‖g^k − ∇f(x^k)‖ ≤ ν‖∇f(x^k)‖, ν ∈ [0, 1); ν = 0 is GD."""

    family = "algorithm_2"
    nu: float = 0.0
    stays_at_stationary: Optional[bool] = True   # g^k = 0 wherever ∇f(x^k) = 0

    @property
    def label(self) -> str:
        return f"Algorithm 2 (relative error ν = {self.nu:g})" if self.nu else "GD (Algorithm 2 with ν = 0)"

    def error_bound(self, L, rho, grad_norm):
        return self.nu * grad_norm


@dataclass(frozen=True)
class UnnormalizedPerturbation(Declaration):
    """USAM (sign +1) or extragradient (sign −1): g^k = ∇f(x^k + sign·s·ρ_k ∇f(x^k)), ν = s·L·sup ρ_k."""

    family = "unnormalized"
    sign: int = 1
    scale: float = 1.0
    stays_at_stationary: Optional[bool] = True

    @property
    def label(self) -> str:
        return ("USAM-type (2a)" if self.sign > 0 else "extragradient-type (2b)") + \
            f" with unnormalized perturbation {'+' if self.sign > 0 else '−'}{self.scale:g}·ρ_k ∇f(x^k)"

    def error_bound(self, L, rho, grad_norm):
        return L * self.scale * rho * grad_norm


def igd_declaration(params: dict) -> AbsoluteError:
    """Declaration of IGD (Algorithm 1) for its error model: "opposite" and the reverse-SAM step vanish
    where ∇f = 0; a random or user error need not."""
    model = params.get("error")
    if model == "example34":
        return AbsoluteError(times_L=True, reverse_sam=True, stays_at_stationary=True)
    return AbsoluteError(stays_at_stationary=True if model == "opposite" else None)


UNDECLARED = Declaration()
FAMILIES = {cls.family: cls for cls in (Declaration, PerturbedGradient, AbsoluteError, RelativeError,
                                        UnnormalizedPerturbation)}


def declaration_of(method) -> Declaration:
    """The method's declaration (:data:`UNDECLARED` when it states none)."""
    found = getattr(method, "declaration", None)
    return found if isinstance(found, Declaration) else UNDECLARED


def declare(method, declaration: Declaration):
    """The same method with ``declaration`` (a shallow copy; ``method`` is unchanged)."""
    if not isinstance(declaration, Declaration):
        raise InputError(f"declaration must be a convcheck.declarations.Declaration, got {type(declaration).__name__}")
    cls = type(method)
    redeclared = type(cls.__name__, (cls,), {"declaration": declaration, "__doc__": cls.__doc__,
                                             "__module__": cls.__module__})
    clone = object.__new__(redeclared)
    clone.__dict__.update(method.__dict__)
    return clone


def recorded(method) -> dict:
    """Trace metadata of a user's method: its declaration and, when loaded by ``py:``, where from."""
    out = {"declaration": declaration_of(method).to_dict(), "stops_at_zero_gradient": bool(method.stops_at_zero_gradient)}
    source = vars(method).get("py_source") if hasattr(method, "__dict__") else None
    if source:
        out["py"] = source
    return out


def from_dict(data) -> Declaration:
    """A declaration from its :meth:`Declaration.to_dict` (trace metadata: plain data, no code)."""
    if not isinstance(data, dict) or data.get("family") not in FAMILIES:
        return UNDECLARED
    cls = FAMILIES[data["family"]]
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return UNDECLARED


def _bound_at(declaration, problem, X, L: float, rho):
    """∇f, ‖∇f‖ and the declared error bound at the iterates X, with the mask of non-stationary ones;
    or a result dict (holds None) when no bound is declared or every iterate is stationary."""
    G = np.asarray(problem.grad(X), dtype=float)
    gnorm = np.linalg.norm(G, axis=1, keepdims=True)
    bound = declaration.error_bound(L, rho, gnorm)
    if bound is None:
        return {"holds": None, "checked": 0, "note": f"{declaration.describe()}: no error bound declared"}
    keep = gnorm[:, 0] > 0
    if not keep.any():
        return {"holds": None, "checked": 0, "note": "every checked iterate is stationary"}
    return G, gnorm, np.broadcast_to(np.asarray(bound, dtype=float), gnorm.shape), keep


def audit(method, problem, trace, L: float, slack: float = 1e-6, points: int = 64) -> dict:
    """Check the declared bound ‖D(x^k) − ∇f(x^k)‖ ≤ error_bound at up to ``points`` recorded iterates.

    D is the method's own update direction (its ``direction_step``, with its initial state, so for
    methods with memory the check is at a fresh start from x^k, and with zero random draws, so a random
    error is checked at its mean). Returns ``{"holds": True | False |
    None, "checked": m, "worst_ratio": max ‖D − ∇f‖ / bound, "note": ...}``; None when the method
    declares no bound or the trace records no radius a bound needs.
    """
    declaration = declaration_of(method)
    iterates = np.asarray(trace.x, dtype=float)
    ks = np.asarray(trace.x_k)
    if len(iterates) == 0:
        return {"holds": None, "checked": 0, "note": "no recorded iterates"}
    chosen = np.unique(np.linspace(0, len(iterates) - 1, min(points, len(iterates))).astype(int))
    X, k_of = iterates[chosen], ks[chosen]
    record_k = np.asarray(trace.k)
    position = np.clip(np.searchsorted(record_k, k_of), 0, max(len(record_k) - 1, 0))
    t = np.asarray(trace.step_size, dtype=float)[position][:, None]
    rho = np.asarray(trace.radius, dtype=float)[position][:, None]
    rho = np.where(np.isfinite(rho), rho, 0.0)
    found = _bound_at(declaration, problem, X, L, rho)
    if isinstance(found, dict):
        return found
    G, gnorm, bound, keep = found
    X, G, gnorm, t, rho, bound = X[keep], G[keep], gnorm[keep], t[keep], rho[keep], bound[keep]
    noise = [np.zeros_like(X)] * getattr(method, "noise_dim", 0)
    state = method.init_state(np, G)
    D, _ = method.direction_step(problem, X, G, gnorm, t, rho, state, noise, int(k_of[0]))
    error = np.linalg.norm(np.asarray(D) - G, axis=1)
    allowed = bound[:, 0] * (1 + slack) + slack * (1 + gnorm[:, 0])
    ratio = error / np.where(bound[:, 0] > 0, bound[:, 0], np.inf)
    result = {"holds": bool(np.all(error <= allowed)), "checked": int(len(error)),
              "worst_ratio": float(np.max(np.where(np.isfinite(ratio), ratio, 0.0))),
              "note": f"declared: {declaration.describe()}, bound with L = {L:g}"}
    if result["holds"] and isinstance(declaration, PerturbedGradient) and declaration.direction == "gradient":
        result.update(_audit_gradient_direction(method, problem, declaration, X, G, gnorm, rho, D))
    return result


def audit_recorded(declaration, problem, trace, L: float, slack: float = 1e-6, points: int = 64) -> dict:
    """:func:`audit` from the steps the trace itself recorded, for a method whose code is not at hand
    (a user's method rebuilt from a trace file): at consecutive kept iterates x^k, x^{k+1} the step
    direction actually taken is D = (x^k − x^{k+1})/t_k (Algorithm 1a, 1 and 2 all step x^{k+1} = x^k −
    t_k g^k), and ‖D − ∇f(x^k)‖ is compared with the declared bound, with the round-off of the
    difference quotient, 8ε(‖x^k‖ + ‖x^{k+1}‖)/t_k, allowed on top. A declared d^k = ∇f(x^k) (SAM) is
    also checked against its exact step, to 1e-8 relative plus that round-off. Same return value."""
    declaration = declaration if isinstance(declaration, Declaration) else UNDECLARED
    k_kept, x_kept = np.asarray(trace.x_k), np.asarray(trace.x, dtype=float)
    pairs = np.flatnonzero(np.diff(k_kept) == 1) if len(k_kept) >= 2 else np.zeros(0, int)
    if pairs.size == 0:
        return {"holds": None, "checked": 0, "note": "no consecutive recorded iterates"}
    pairs = pairs[np.unique(np.linspace(0, pairs.size - 1, min(points, pairs.size)).astype(int))]
    record_k = np.asarray(trace.k)
    position = np.searchsorted(record_k, k_kept[pairs])
    found = (position < len(record_k))
    found[found] = record_k[position[found]] == k_kept[pairs][found]
    pairs, position = pairs[found], position[found]
    if pairs.size == 0:
        return {"holds": None, "checked": 0, "note": "no step size recorded at consecutive iterates"}
    t = np.asarray(trace.step_size, dtype=float)[position][:, None]
    rho = np.asarray(trace.radius, dtype=float)[position][:, None]
    rho = np.where(np.isfinite(rho), rho, 0.0)
    X, X_next = x_kept[pairs], x_kept[pairs + 1]
    ok = np.isfinite(t[:, 0]) & (t[:, 0] > 0) & np.all(np.isfinite(X_next), axis=1)
    X, X_next, t, rho = X[ok], X_next[ok], t[ok], rho[ok]
    found = _bound_at(declaration, problem, X, L, rho)
    if isinstance(found, dict):
        return found
    G, gnorm, bound, keep = found
    X, X_next, G, gnorm, t, rho, bound = X[keep], X_next[keep], G[keep], gnorm[keep], t[keep], rho[keep], bound[keep]
    D = (X - X_next) / t
    quotient = 8 * np.finfo(float).eps * (np.linalg.norm(X, axis=1) + np.linalg.norm(X_next, axis=1)) / t[:, 0]
    error = np.linalg.norm(D - G, axis=1)
    allowed = bound[:, 0] * (1 + slack) + slack * (1 + gnorm[:, 0]) + quotient
    ratio = error / np.where(bound[:, 0] > 0, bound[:, 0], np.inf)
    result = {"holds": bool(np.all(error <= allowed)), "checked": int(len(error)),
              "worst_ratio": float(np.max(np.where(np.isfinite(ratio), ratio, 0.0))),
              "note": f"declared: {declaration.describe()}, bound with L = {L:g}, checked on the recorded steps"}
    if result["holds"] and isinstance(declaration, PerturbedGradient) and declaration.direction == "gradient":
        expected = np.asarray(problem.grad(X + declaration.scale * rho * G / gnorm), dtype=float)
        gap = np.linalg.norm(D - expected, axis=1)
        if np.any(gap > 1e-8 * (np.linalg.norm(expected, axis=1) + gnorm[:, 0]) + quotient + 1e-300):
            i = int(np.argmax(gap))
            result.update(holds=False, note=(f"declared: {declaration.describe()}, i.e. the step ∇f(x^k + "
                                             f"{declaration.scale:g}·ρ_k∇f(x^k)/‖∇f(x^k)‖), but the recorded "
                                             f"step differs from it by {gap[i]:.3g}"))
    return result


def _audit_gradient_direction(method, problem, declaration, X, G, gnorm, rho, D) -> dict:
    """A declared d^k = ∇f(x^k) fixes the step exactly: D = ∇f(x^k + s·ρ_k∇f(x^k)/(‖∇f(x^k)‖ + ε)) (ε the
    method's ``eps_guard``, 0 for SAM (6)). The error bound alone cannot see a method that takes a
    smaller step (plain GD meets ‖D − ∇f‖ ≤ Lρ_k trivially), yet SAM-only results (Example 3.1, Theorem
    3.2, Dai et al.) are applied on this declaration; so it is checked, to round-off."""
    guard = float(getattr(method, "params", {}).get("eps_guard", 0.0) or 0.0)
    expected = np.asarray(problem.grad(X + declaration.scale * rho * G / (gnorm + guard)), dtype=float)
    gap = np.linalg.norm(np.asarray(D, dtype=float) - expected, axis=1)
    allowed = 1e-8 * (np.linalg.norm(expected, axis=1) + gnorm[:, 0]) + 1e-300
    if np.all(gap <= allowed):
        return {}
    i = int(np.argmax(gap / allowed))
    return {"holds": False, "note": (f"declared: {declaration.describe()}, i.e. the step ∇f(x^k + "
                                     f"{declaration.scale:g}·ρ_k∇f(x^k)/‖∇f(x^k)‖), but the method's step differs "
                                     f"from it by {gap[i]:.3g} at a recorded iterate")}
