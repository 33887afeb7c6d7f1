"""The methods of the paper by name: the registry, spec strings (``"vasso:theta=0.9"``) and factories.

The update rules themselves, each with its compiled direction rule beside its NumPy formula, are in
:mod:`convcheck.method_family` and :mod:`convcheck.method_inexact` (re-exported here: ``methods.SAM``, ``methods.Method``, ...).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from .errors import SpecError, unknown_name
from .method_family import (ALGORITHM_NUMBERS, FSAM, GD, RSAM, SAM, USAM, Extragradient, Method,  # noqa: F401
                            VaSSO, perturbed_gradient, row_norms)
from .method_inexact import IGD, IGDR  # noqa: F401 - re-exported
from .specs import BARE_KEY, parse_spec
from .user_code import build


# ---------------------------------------------------------------------- registry and specs


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
        return method_from_python(spec)
    name, params = parse_spec(spec, "method")
    if BARE_KEY in params:
        raise SpecError(f"method spec {spec!r}: give parameters as key=value (for example vasso:theta=0.9)")
    return make(name, **params)


def method_from_python(spec: str) -> Method:
    """A :class:`Method` from ``py:package.module:Name`` (a Method instance, a Method subclass or a
    factory; see :mod:`convcheck.user_code`), remembered as loaded from ``spec``."""
    method = build(spec, Method, "method")
    object.__setattr__(method, "py_source", spec)
    return method


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
