"""Problems from user callables: :func:`from_functions`, and the metadata keywords shared with
:func:`convcheck.problems.symbolic`."""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from convcheck.errors import InputError, SpecError

from .base import MINIMIZER_KINDS, FunctionProblem, Meta, MinimizerSet

# Meta fields a user may state; dim and params are set by the constructors.
META_KEYWORDS = tuple(f.name for f in dataclasses.fields(Meta) if f.name not in ("dim", "params"))
# Provenance recorded for user-stated constants unless ``provenance=`` says otherwise: a stated L (or
# μ, descent constant) is a claimed bound, a stated f* or exponent a claimed exact value.
DEFAULT_USER_PROVENANCE = {"L": "bound", "mu": "bound", "descent_L": "bound", "f_star": "exact",
                           "kl_exponent": "exact"}


def _minimizer(value, dim: int) -> MinimizerSet:
    if isinstance(value, MinimizerSet):
        return value
    if isinstance(value, str):
        if value not in ("none", "unknown"):
            raise SpecError(f"minimizer given as text must be 'none' or 'unknown' (other kinds need points: "
                            f"pass a MinimizerSet of kind {', '.join(MINIMIZER_KINDS)})")
        return MinimizerSet(value)
    points = np.atleast_2d(np.asarray(value, dtype=float))
    if points.shape[-1] != dim:
        raise InputError(f"minimizer points must have shape (k, {dim}), got {points.shape}")
    return MinimizerSet("point" if len(points) == 1 else "finite", points=points)


def build_meta(dim: int, metadata: dict, params: Optional[dict] = None, defaults: Optional[Meta] = None) -> Meta:
    """Meta from user keywords (Meta field names), on top of ``defaults`` (estimates) when given.

    Raises
    ------
    SpecError : for a keyword that is not a Meta field (lists the accepted ones).
    """
    unknown = sorted(set(metadata) - set(META_KEYWORDS))
    if unknown:
        raise SpecError(f"unknown metadata keyword {unknown[0]!r}; accepted: {', '.join(META_KEYWORDS)}")
    fields = {} if defaults is None else {k: getattr(defaults, k) for k in META_KEYWORDS}
    provenance = dict(fields.pop("provenance", {}) or {})
    stated = dict(metadata)
    user_provenance = dict(stated.pop("provenance", {}) or {})
    if "minimizer" in stated:
        stated["minimizer"] = _minimizer(stated["minimizer"], dim)
    if stated.get("stationary_points") is not None:
        stated["stationary_points"] = np.atleast_2d(np.asarray(stated["stationary_points"], dtype=float))
    for key, value in stated.items():
        fields[key] = value
        if key in DEFAULT_USER_PROVENANCE and value is not None:
            provenance[key] = DEFAULT_USER_PROVENANCE[key]
        if key == "L" and "L_region" not in stated:
            fields["L_region"] = None  # a stated L replaces an estimate made on a box
    if "L" in stated and "descent_L" not in stated:
        fields["descent_L"] = None  # recomputed from the stated L by Meta
        provenance.pop("descent_L", None)
    provenance.update(user_provenance)
    return Meta(dim=dim, params=dict(params or {}), provenance=provenance, **fields)


def check_callables(name: str, dim: int, f: Callable, grad: Callable, value_and_grad: Optional[Callable]) -> None:
    """Evaluate the callables once on a (2, dim) batch; InputError on a wrong output shape."""
    test_points = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2, dim))
    checks = [("f", f, (2,)), ("grad", grad, (2, dim))]
    for label, fn, shape in checks:
        try:
            out = np.asarray(fn(test_points))
        except Exception as exc:  # user code: report what failed, keep the cause
            raise InputError(f"problem {name!r}: {label} failed on a batch of shape (2, {dim}): "
                             f"{type(exc).__name__}: {exc}; f and grad must accept arrays of shape (..., n)") from exc
        if np.iscomplexobj(out):
            raise InputError(f"problem {name!r}: {label} returned complex values ({out.dtype}); f and grad must be real")
        if out.shape != shape:
            raise InputError(f"problem {name!r}: {label} returned shape {out.shape} for input shape (2, {dim}); "
                             f"expected {shape} (f: (...), grad: (..., n))")
    if value_and_grad is not None:
        value, gradient = value_and_grad(test_points)
        if np.shape(value) != (2,) or np.shape(gradient) != (2, dim):
            raise InputError(f"problem {name!r}: value_and_grad returned shapes {np.shape(value)}, "
                             f"{np.shape(gradient)}; expected (2,), (2, {dim})")


def from_functions(f: Callable, grad: Callable, dim: int, name: str = "user",
                   value_and_grad: Optional[Callable] = None, **metadata) -> FunctionProblem:
    """A problem from callables f(X) -> (...) and grad(X) -> (..., n) on arrays X of shape (..., n).

    Parameters
    ----------
    f, grad : batched callables (NumPy arrays in and out).
    dim : n.
    name : label for reports and :attr:`Problem.key`.
    value_and_grad : optional fused callable returning (f(X), ∇f(X)).
    **metadata : :class:`Meta` field names (L, mu, convex, f_star, minimizer, analytic, kl_exponent,
        bounded_level_sets, ...). Stated L, mu, descent_L get provenance "bound", f_star and kl_exponent
        "exact", unless ``provenance={...}`` says otherwise. ``minimizer`` may be a MinimizerSet, an
        array of points, or "none"/"unknown".

    The problem runs on NumPy only (``.on("cupy")`` raises BackendError); its ``hessian`` is the
    finite-difference fallback of :class:`Problem`.

    Raises
    ------
    SpecError : unknown metadata keyword. InputError : bad dim, or callables returning wrong shapes.
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InputError(f"dim must be a positive integer, got {dim!r}")
    for label, fn in (("f", f), ("grad", grad)):
        if not callable(fn):
            raise InputError(f"{label} must be callable, got {type(fn).__name__}")
    meta = build_meta(int(dim), metadata)
    check_callables(name, int(dim), f, grad, value_and_grad)
    return FunctionProblem(name, meta, f, grad, value_and_grad)
