"""Problems from user callables: :func:`from_functions`, and the metadata keywords shared with
:func:`convcheck.problems.symbolic`.

The callables are probed when the problem is built (:func:`probe_callables`): batches of 1 and n + 1
points (a batch of exactly n points would hide a function that reads rows as coordinates), output
shapes and dtypes, finiteness, each row against the same point evaluated alone, and the gradient
against central differences of f at a few seeded points. A mismatch is an :class:`InputError` that
says what was expected, with a one-line example.

Hypotheses are stated by name (``L=4.0``, ``lower_bound=0.0``, ``convex=True``, ``mu=``,
``bounded_level_sets=``, ``kl_exponent=``, any :class:`Meta` field) with their provenance: a bare value
gets the default of :data:`DEFAULT_USER_PROVENANCE`; ``estimate(4.0)``, ``bound(4.0)``, ``exact(4.0)``
or a pair ``(4.0, "estimate")`` say it explicitly. An estimate never decides a hypothesis.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from convcheck.errors import InputError, SpecError
from convcheck.limits import MAX_TRACE_DIM

from .base import MINIMIZER_KINDS, PROVENANCES, FunctionProblem, Meta, MinimizerSet

# Meta fields a user may state; dim and params are set by the constructors.
META_KEYWORDS = tuple(f.name for f in dataclasses.fields(Meta) if f.name not in ("dim", "params"))
# Provenance recorded for user-stated constants unless stated otherwise: a stated L (or μ, descent
# constant, lower bound) is a claimed bound, a stated f*, exponent or property a claimed exact value.
DEFAULT_USER_PROVENANCE = {"L": "bound", "mu": "bound", "descent_L": "bound", "lower_bound": "bound",
                           "f_star": "exact", "kl_exponent": "exact", "convex": "exact",
                           "bounded_level_sets": "exact"}
EXAMPLE_F = "f = lambda X: (X[..., 0] - 1)**2 + X[..., 1]**2"
EXAMPLE_GRAD = "grad = lambda X: np.stack([2*(X[..., 0] - 1), 2*X[..., 1]], axis=-1)"
PROBE_SEED = 20240
GRADIENT_CHECK_POINTS = 3
#: up to this n the batch probe holds n + 1 points and the gradient is checked along every axis; above
#: it, 3 points (still a batch size other than n) and RANDOM_DIRECTIONS seeded unit directions, so the
#: probe's memory is O(n), not O(n²)
FULL_PROBE_DIM = 256
RANDOM_DIRECTIONS = 16
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Stated:
    """A hypothesis value with its provenance ("exact", "bound" or "estimate")."""

    value: Any
    provenance: str

    def __post_init__(self):
        if self.provenance not in PROVENANCES:
            raise SpecError(f"provenance must be one of {', '.join(PROVENANCES)}, got {self.provenance!r}")


def exact(value) -> Stated:
    """``L=exact(4.0)``: the value is exact."""
    return Stated(value, "exact")


def bound(value) -> Stated:
    """``L=bound(4.0)``: a proven bound (an upper bound for L, a lower bound for ``lower_bound``)."""
    return Stated(value, "bound")


def estimate(value) -> Stated:
    """``L=estimate(4.0)``: a numerical estimate; it decides no hypothesis."""
    return Stated(value, "estimate")


def _split_stated(key: str, value):
    if isinstance(value, Stated):
        return value.value, value.provenance
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str) and key != "minimizer":
        return Stated(*value).value, value[1]
    return value, None


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


_POSITIVE = ("L", "mu", "descent_L")
_FINITE = ("lower_bound", "f_star")
_TRUTH = ("convex", "bounded_level_sets", "analytic")


def _check_stated_value(key: str, value) -> None:
    """A stated constant must be what its hypothesis needs: L, μ, the descent constant finite and > 0;
    a lower bound or f* finite; a Łojasiewicz exponent q in [0, 1); convexity and the like true/false."""
    if value is None:
        return
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if key in _POSITIVE and not (number and np.isfinite(value) and value > 0):
        raise InputError(f"{key} must be a finite number > 0, got {value!r}")
    if key in _FINITE and not (number and np.isfinite(value)):
        raise InputError(f"{key} must be a finite number, got {value!r}")
    if key == "kl_exponent" and not (number and 0 <= value < 1):
        raise InputError(f"kl_exponent must be a number q in [0, 1) (the Łojasiewicz exponent of "
                         f"|f(x) − f(x̄)|^q ≤ C‖∇f(x)‖), got {value!r}")
    if key in _TRUTH and not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{key} must be True or False, got {value!r}")


def build_meta(dim: int, metadata: dict, params: Optional[dict] = None, defaults: Optional[Meta] = None) -> Meta:
    """Meta from user keywords (Meta field names, values optionally :class:`Stated`), on top of
    ``defaults`` (estimates) when given.

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
    for key in list(stated):
        stated[key], explicit = _split_stated(key, stated[key])
        if explicit is not None:
            user_provenance[key] = explicit
    for key, value in stated.items():
        _check_stated_value(key, value)
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


# ----------------------------------------------------------------------------- probing the callables
def vectorized(fn: Callable, dim: int, kind: str) -> Callable:
    """Wrap a per-point function (one point of shape (n,) in, a number or an (n,) vector out) into a
    batched one on arrays (..., n): a Python loop over the points, so slower, but exact."""
    def batched(X):
        X = np.asarray(X, dtype=np.float64)
        flat = X.reshape(-1, dim)
        rows = [np.asarray(fn(x), dtype=np.float64) for x in flat]
        shape = X.shape[:-1] if kind == "f" else X.shape
        return np.asarray(rows, dtype=np.float64).reshape(shape)
    batched.__wrapped__ = fn
    return batched


def _call(name: str, label: str, fn: Callable, X: np.ndarray, expected: tuple):
    hint = (f"{label} must take a batch X of shape (B, n) and return shape {'(B,)' if label == 'f' else '(B, n)'}, "
            f"e.g. {EXAMPLE_F if label == 'f' else EXAMPLE_GRAD}; for a function of one point pass vectorize=True")
    try:
        with np.errstate(all="ignore"):
            out = fn(X)
    except Exception as exc:  # user code: report what failed, keep the cause
        raise InputError(f"problem {name!r}: {label} failed on a batch of shape {X.shape} "
                         f"({type(exc).__name__}: {exc}); {hint}") from exc
    out = np.asarray(out)
    if out.dtype.kind == "c":
        raise InputError(f"problem {name!r}: {label} returned complex values; f must be real-valued")
    if out.dtype.kind not in "fiub":
        raise InputError(f"problem {name!r}: {label} returned {out.dtype} values, expected real numbers")
    if out.shape != expected:
        raise InputError(f"problem {name!r}: {label} returned shape {out.shape} for a batch of shape {X.shape}, "
                         f"expected {expected}; {hint}")
    return out.astype(np.float64)


def probe_callables(name: str, dim: int, f: Callable, grad: Callable,
                    value_and_grad: Optional[Callable] = None, points=None, gradient_tolerance: float = 1e-3) -> None:
    """Probe f, grad (and value_and_grad) at seeded points; InputError on the first mismatch.

    ``points`` (m, n), optional: where to probe (default: seeded uniform points of [−0.5, 0.5]^n); give
    points inside the domain of a function that is not finite everywhere. The batch holds n + 1 points
    (3 when n > FULL_PROBE_DIM), never exactly n, so rows read as coordinates show. The gradient must
    match central differences of f along each axis (random directions when n > FULL_PROBE_DIM) with
    h = 1e-5·max(1, ‖x‖_∞), to ``gradient_tolerance`` relative plus the differences' own rounding and
    truncation error (see :func:`_check_gradient`).
    """
    rng = np.random.default_rng(PROBE_SEED)
    wanted = dim + 1 if dim <= FULL_PROBE_DIM else 3
    if points is None:
        points = rng.uniform(-0.5, 0.5, size=(wanted, dim))
    points = np.asarray(points, dtype=np.float64).reshape(-1, dim)
    if len(points) < wanted or len(points) == dim:  # never a batch of exactly n points
        extra = max(wanted - len(points), 1)
        points = np.concatenate([points, points[-1] + rng.uniform(-1e-3, 1e-3, size=(extra, dim))])
    single = points[:1]
    values = _call(name, "f", f, points, (len(points),))
    gradients = _call(name, "grad", grad, points, (len(points), dim))
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(gradients))):
        bad = points[np.flatnonzero(~(np.isfinite(values) & np.all(np.isfinite(gradients), axis=1)))[0]]
        raise InputError(f"problem {name!r}: f or grad is not finite at the probe point {bad.tolist()}; "
                         "pass probe_points=... (points inside the domain of f)")
    for i in sorted({0, 1, len(points) - 1} & set(range(len(points)))):  # first rows and the last one
        alone_f = _call(name, "f", f, points[i:i + 1], (1,))
        alone_g = _call(name, "grad", grad, points[i:i + 1], (1, dim))
        if not (np.allclose(alone_f[0], values[i], rtol=1e-9, atol=1e-12)
                and np.allclose(alone_g[0], gradients[i], rtol=1e-9, atol=1e-12)):
            raise InputError(f"problem {name!r}: f or grad of the batch's row {i} differs from its value at that "
                             "point alone (the rows of X are points; X[..., j] is coordinate j); "
                             f"e.g. {EXAMPLE_F}; or pass vectorize=True")
    _check_gradient(name, dim, f, single, points, values, gradients, gradient_tolerance)
    if value_and_grad is not None:
        try:
            value, gradient = value_and_grad(points)
        except Exception as exc:  # user code
            raise InputError(f"problem {name!r}: value_and_grad failed on a batch of shape {points.shape} "
                             f"({type(exc).__name__}: {exc})") from exc
        if np.shape(value) != (len(points),) or np.shape(gradient) != points.shape:
            raise InputError(f"problem {name!r}: value_and_grad returned shapes {np.shape(value)}, "
                             f"{np.shape(gradient)}; expected ({len(points)},), {points.shape}")
        if not (np.allclose(value, values, rtol=1e-9, atol=1e-12) and np.allclose(gradient, gradients, rtol=1e-9, atol=1e-12)):
            raise InputError(f"problem {name!r}: value_and_grad disagrees with f and grad at the probe points")


def _check_gradient(name, dim, f, single, points, values, gradients, tolerance) -> None:
    """Directional derivatives of f by central differences against ⟨∇f(x), u⟩, u along every axis
    (n ≤ FULL_PROBE_DIM) or along RANDOM_DIRECTIONS seeded unit directions.

    The allowance is ``tolerance``·max(|⟨g, u⟩|, |quotient|) plus the quotient's own error, estimated
    from the data and not from |f|: the rounding error 4·eps·max|f(x ± hu)|/h, plus the truncation
    error, measured as 2·|D(h) − D(2h)| (D(2h) − D(h) ≈ 3·(truncation error of D(h)) for smooth f;
    the same order for a kink). Adding a constant to f therefore widens the allowance only by its
    rounding effect (eps·|f|/h), and a tiny or wrong-by-a-factor gradient is still refused.
    """
    rng = np.random.default_rng(PROBE_SEED + 1)
    if dim <= FULL_PROBE_DIM:
        directions = np.eye(dim)
    else:
        directions = rng.standard_normal((RANDOM_DIRECTIONS, dim))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    count = len(directions)
    for i in range(min(GRADIENT_CHECK_POINTS, len(points))):
        x = points[i]
        h = 1e-5 * max(1.0, float(np.max(np.abs(x))))
        shifted = np.concatenate([x + h * directions, x - h * directions, x + 2 * h * directions, x - 2 * h * directions])
        fx = _call(name, "f", f, shifted, (4 * count,))
        quotient = (fx[:count] - fx[count:2 * count]) / (2 * h)
        coarse = (fx[2 * count:3 * count] - fx[3 * count:]) / (4 * h)
        predicted = directions @ gradients[i]
        rounding = 4 * EPS * np.max(np.abs(fx)) / h
        allowed = tolerance * np.maximum(np.abs(predicted), np.abs(quotient)) + rounding + 2 * np.abs(quotient - coarse)
        wrong = ~(np.abs(predicted - quotient) <= allowed)
        if np.any(wrong):
            j = int(np.argmax(wrong))
            along = f"along axis {j}" if dim <= FULL_PROBE_DIM else "along a random direction"
            raise InputError(f"problem {name!r}: grad does not match central differences of f at "
                             f"x = {np.round(x, 6).tolist()[:8]}{' …' if dim > 8 else ''} {along}: ⟨grad, u⟩ = "
                             f"{predicted[j]:.6g}, differences give {quotient[j]:.6g}; grad must be the gradient of "
                             f"f, e.g. {EXAMPLE_GRAD}")


def from_functions(f: Callable, grad: Callable, dim: int, name: str = "user",
                   value_and_grad: Optional[Callable] = None, vectorize: bool = False,
                   probe_points=None, **metadata) -> FunctionProblem:
    """A problem from callables f(X) -> (...) and grad(X) -> (..., n) on arrays X of shape (..., n).

    Parameters
    ----------
    f, grad : batched callables (NumPy arrays in and out), e.g.
        ``f = lambda X: (X[..., 0] - 1)**2 + X[..., 1]**2``.
    dim : n.
    name : label for reports and :attr:`Problem.key`.
    value_and_grad : optional fused callable returning (f(X), ∇f(X)).
    vectorize : f and grad take ONE point x of shape (n,) (``lambda x: (x[0] - 1)**2 + x[1]**2``);
        they are wrapped in a loop over the batch (slower, results identical).
    probe_points : where the callables are probed at build time (see :func:`probe_callables`).
    **metadata : :class:`Meta` field names (L, mu, convex, f_star, lower_bound, minimizer, analytic,
        kl_exponent, bounded_level_sets, ...), each a value or ``exact(v)`` / ``bound(v)`` /
        ``estimate(v)`` / ``(v, "estimate")``. A bare L, mu, descent_L, lower_bound is a "bound", any
        other stated value "exact". ``minimizer`` may be a MinimizerSet, an array of points, or
        "none"/"unknown".

    The problem runs on NumPy only (``.on("cupy")`` raises BackendError); its ``hessian`` is the
    finite-difference fallback of :class:`Problem`.

    Raises
    ------
    SpecError : unknown metadata keyword. InputError : bad dim, or callables that are not batched, return
        wrong shapes, complex or non-finite values, or a gradient that is not the gradient of f.
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim <= MAX_TRACE_DIM:
        raise InputError(f"dim must be a whole number in [1, {MAX_TRACE_DIM}], got {dim!r}")
    for label, fn in (("f", f), ("grad", grad)):
        if not callable(fn):
            raise InputError(f"{label} must be callable, got {type(fn).__name__}")
    dim = int(dim)
    if vectorize:
        f, grad = vectorized(f, dim, "f"), vectorized(grad, dim, "grad")
        value_and_grad = None
    meta = build_meta(dim, metadata)
    probe_callables(name, dim, f, grad, value_and_grad, points=probe_points)
    return FunctionProblem(name, meta, f, grad, value_and_grad)


def check_callables(name: str, dim: int, f: Callable, grad: Callable, value_and_grad: Optional[Callable]) -> None:
    """Former name of :func:`probe_callables` (kept for callers)."""
    probe_callables(name, dim, f, grad, value_and_grad)


# ----------------------------------------------------------------------------- stated metadata as data
def metadata_to_json(metadata: dict) -> dict:
    """User-stated metadata as JSON-ready data (recorded in ``meta.params`` so a trace can rebuild it)."""
    out = {}
    for key, value in metadata.items():
        value, provenance = _split_stated(key, value)
        if isinstance(value, MinimizerSet):
            value = {"minimizer_set": value.to_dict()}
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, dict) and key == "provenance":
            value = dict(value)
        out[key] = [value, provenance] if provenance is not None else value
    return out


def metadata_from_json(data: dict) -> dict:
    """Inverse of :func:`metadata_to_json` (plain data in; no code)."""
    if not isinstance(data, dict):
        raise InputError("recorded metadata must be a mapping")
    out = {}
    for key, value in data.items():
        provenance = None
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str) and value[1] in PROVENANCES:
            value, provenance = value
        if isinstance(value, dict) and set(value) == {"minimizer_set"}:
            found = value["minimizer_set"]
            value = MinimizerSet(found["kind"], points=None if found.get("points") is None else np.asarray(found["points"], float),
                                 directions=None if found.get("directions") is None else np.asarray(found["directions"], float),
                                 radius=found.get("radius"))
        out[key] = Stated(value, provenance) if provenance is not None else value
    return out
