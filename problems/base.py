"""The problem abstraction: batched f and ∇f with metadata that carries provenance.

A :class:`Problem` evaluates f and ∇f on arrays of shape (..., n) and a fused value-and-gradient for
the engine's hot loop. Its :class:`Meta` states what is known about f (paper notation, Section 2):
convexity, strong-convexity modulus μ, gradient Lipschitz constant L (C^{1,L}, eq. (3)) or only the
L-descent condition (4), f*, the minimizer set, stationary points, level-set boundedness, analyticity
and the KL/Łojasiewicz exponent. Every constant records its provenance: ``"exact"``, ``"bound"`` (a
proven upper/lower bound) or ``"estimate"`` (sampled or numerical).

Problem data is generated on the host (NumPy, seeded ``numpy.random.Generator``) and moved to a backend
with :meth:`Problem.on`, so NumPy and CuPy runs see the same instance.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from convcheck.backend import Backend, get_backend
from convcheck.errors import InputError
from convcheck.jit import CompiledProblem

PROVENANCES = ("exact", "bound", "estimate")
MINIMIZER_KINDS = ("point", "finite", "affine", "sphere", "ball", "exterior", "none", "unknown")


@dataclass(frozen=True)
class MinimizerSet:
    """The set of global minimizers.

    kind : one of :data:`MINIMIZER_KINDS`.
      - "point": ``points`` has shape (1, n);
      - "finite": ``points`` has shape (m, n);
      - "affine": {point + span(directions)}: ``points`` (1, n), ``directions`` (d, n), orthonormal rows;
      - "sphere" / "ball": centre ``points`` (1, n) and ``radius``;
      - "exterior": the closed exterior {x : ‖x − centre‖ ≥ radius} of a ball (centre ``points`` (1, n));
      - "none": f is bounded below but its infimum is not attained (or f is unbounded below);
      - "unknown".
    """

    kind: str
    points: Optional[np.ndarray] = None
    directions: Optional[np.ndarray] = None
    radius: Optional[float] = None

    def __post_init__(self):
        if self.kind not in MINIMIZER_KINDS:
            raise InputError(f"minimizer kind {self.kind!r} not one of {', '.join(MINIMIZER_KINDS)}")

    @property
    def bounded(self) -> Optional[bool]:
        return {"point": True, "finite": True, "sphere": True, "ball": True,
                "affine": False, "exterior": False, "none": None, "unknown": None}[self.kind]

    def distance(self, x: np.ndarray) -> Optional[np.ndarray]:
        """Euclidean distance of points x (..., n) to the set; None when the set is unknown or empty."""
        x = np.asarray(x, dtype=float)
        if self.kind in ("point", "finite"):
            d = np.linalg.norm(x[..., None, :] - self.points, axis=-1)
            return d.min(axis=-1)
        if self.kind == "affine":
            v = x - self.points[0]
            if self.directions is not None and len(self.directions):
                v = v - (v @ self.directions.T) @ self.directions
            return np.linalg.norm(v, axis=-1)
        if self.kind == "sphere":
            return np.abs(np.linalg.norm(x - self.points[0], axis=-1) - self.radius)
        if self.kind == "ball":
            return np.maximum(np.linalg.norm(x - self.points[0], axis=-1) - self.radius, 0.0)
        if self.kind == "exterior":
            return np.maximum(self.radius - np.linalg.norm(x - self.points[0], axis=-1), 0.0)
        return None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        if self.points is not None:
            out["points"] = np.asarray(self.points).tolist()
        if self.directions is not None:
            out["directions"] = np.asarray(self.directions).tolist()
        if self.radius is not None:
            out["radius"] = float(self.radius)
        return out


@dataclass
class Meta:
    """What is known about f. ``None`` means unknown. See the module docstring for provenance.

    Fields
    ------
    dim : n.
    params : the parameters the instance was built from (seed included).
    convex : f convex on R^n.
    mu : strong-convexity modulus (0 for convex but not strongly convex).
    L : Lipschitz constant of ∇f (C^{1,L}, eq. (3)), valid on ``L_region`` (None = all of R^n).
    L_region : description of where L holds when only local, e.g. {"ball": [centre, radius]}.
    descent_L : constant of the L-descent condition (4) when it holds (it does whenever L does).
    descent_only : True when (4) holds but ∇f is not globally Lipschitz.
    f_star : inf f (None when unknown; -inf when unbounded below).
    lower_bound : a number c with f ≥ c on R^n (weaker than f_star; enough for "f bounded below").
    minimizer : :class:`MinimizerSet`.
    stationary_points : known stationary points (k, n), minimizers included, or None.
    bounded_level_sets : every level set bounded.
    analytic : f real-analytic (hence KL everywhere, Remark 2.2).
    kl : f has the KL property at every point (True), not everywhere (False), unknown (None).
    kl_exponent : Łojasiewicz exponent q at the minimizers (φ(t) = M t^{1-q}), when known.
    reference : literature reference for the function.
    provenance : field name -> "exact" | "bound" | "estimate" for each numeric constant given.
    notes : free text (choices made, caveats).
    """

    dim: int
    params: dict = field(default_factory=dict)
    convex: Optional[bool] = None
    mu: Optional[float] = None
    L: Optional[float] = None
    L_region: Optional[dict] = None
    descent_L: Optional[float] = None
    descent_only: bool = False
    f_star: Optional[float] = None
    lower_bound: Optional[float] = None
    minimizer: MinimizerSet = field(default_factory=lambda: MinimizerSet("unknown"))
    stationary_points: Optional[np.ndarray] = None
    bounded_level_sets: Optional[bool] = None
    analytic: Optional[bool] = None
    kl: Optional[bool] = None
    kl_exponent: Optional[float] = None
    reference: str = ""
    provenance: dict = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        for key, value in self.provenance.items():
            if value not in PROVENANCES:
                raise InputError(f"provenance of {key!r} is {value!r}; accepted: {', '.join(PROVENANCES)}")
        if self.descent_L is None and self.L is not None and self.L_region is None:
            self.descent_L = self.L
            self.provenance.setdefault("descent_L", self.provenance.get("L", "exact"))
        if self.kl is None and self.analytic:
            self.kl = True

    @property
    def unique_minimizer(self) -> Optional[bool]:
        kind = self.minimizer.kind
        if kind == "point":
            return True
        if kind in ("finite", "affine", "sphere", "ball", "exterior", "none"):
            return kind == "finite" and self.minimizer.points is not None and len(self.minimizer.points) == 1
        return None

    def to_dict(self) -> dict:
        out = {}
        for f_ in dataclasses.fields(self):
            value = getattr(self, f_.name)
            if isinstance(value, MinimizerSet):
                value = value.to_dict()
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, (np.floating, np.integer)):
                value = value.item()
            out[f_.name] = value
        return out


class Problem:
    """A differentiable f: R^n -> R evaluated in batches.

    Subclasses implement :meth:`_value_and_grad` (and may override :meth:`_value` / :meth:`_grad`
    when cheaper) using ``self.xp`` for array math and data attributes listed in ``_data_fields``
    (host NumPy arrays moved by :meth:`on`).

    Parameters
    ----------
    name : catalogue name (``get(name, **params)`` rebuilds it).
    meta : :class:`Meta`.
    backend : where the data lives; default NumPy.
    """

    _data_fields: tuple[str, ...] = ()

    def __init__(self, name: str, meta: Meta, backend: "str | Backend" = "numpy"):
        self.name = name
        self.meta = meta
        self.backend = get_backend(backend)

    # ------------------------------------------------------------------ public API
    @property
    def dim(self) -> int:
        return self.meta.dim

    @property
    def xp(self):
        return self.backend.xp

    @property
    def key(self) -> str:
        """Identity of the instance: name plus sorted parameters (used to group sweeps)."""
        params = ",".join(f"{k}={v}" for k, v in sorted(self.meta.params.items()))
        return f"{self.name}:{params}" if params else self.name

    def f(self, X):
        """f at points X of shape (..., n); returns shape (...)."""
        return self._value(self._check(X))

    def grad(self, X):
        """∇f at points X of shape (..., n); returns shape (..., n)."""
        return self._grad(self._check(X))

    def value_and_grad(self, X):
        """(f(X), ∇f(X)) fused; the engine's hot loop calls this once per step."""
        return self._value_and_grad(self._check(X))

    def on(self, backend: "str | Backend") -> "Problem":
        """The same instance with its data on ``backend`` (a shallow copy; self is unchanged)."""
        backend = get_backend(backend)
        if backend.name == self.backend.name:
            return self
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.backend = backend
        for name in self._data_fields:
            value = getattr(self, name)
            if value is not None:
                setattr(clone, name, backend.asarray(self.backend.to_host(value)))
        return clone

    def compiled_form(self) -> Optional[CompiledProblem]:
        """This instance's compilable value-and-gradient (:class:`convcheck.jit.CompiledProblem`: a
        function in Numba's nopython subset that transcribes :meth:`_value_and_grad`, and the instance's
        data), or None: the generic engine runs it. A subclass that overrides the formula must define
        its own (the engine checks that the class defining the formula also defines this)."""
        return None

    def hessian(self, x) -> np.ndarray:
        """∇²f at one point x of shape (n,), as a host (n, n) NumPy array.

        This fallback differentiates the gradient by central finite differences (step
        ``1e-5 · max(1, |x_j|)`` per coordinate, then symmetrized), accurate to about 1e-8 relative for
        smooth f. Catalogue entries override it with the exact Hessian. Used by convexity checks.
        """
        x = np.asarray(self.backend.to_host(x) if hasattr(x, "shape") else x, dtype=np.float64)
        if x.shape != (self.dim,):
            raise InputError(f"{self.name}.hessian expects one point of shape ({self.dim},), got {x.shape}")
        steps = 1e-5 * np.maximum(1.0, np.abs(x))
        shifts = np.diag(steps)
        plus = self.backend.to_host(self.grad(self.backend.asarray(x + shifts)))
        minus = self.backend.to_host(self.grad(self.backend.asarray(x - shifts)))
        columns = (plus - minus) / (2.0 * steps[:, None])  # row j: ∂∇f/∂x_j
        return 0.5 * (columns + columns.T)

    def __repr__(self) -> str:
        return f"<Problem {self.key} n={self.dim}>"

    # ------------------------------------------------------------------ to implement
    def _value_and_grad(self, X):
        raise NotImplementedError

    def _value(self, X):
        return self._value_and_grad(X)[0]

    def _grad(self, X):
        return self._value_and_grad(X)[1]

    # ------------------------------------------------------------------ helpers
    def _check(self, X):
        xp = self.xp
        if not isinstance(X, xp.ndarray):  # lists, scalars, or host arrays given to a device problem
            X = xp.asarray(X, dtype=xp.float64)
        elif X.dtype.kind != "f":  # integer points would make integer arithmetic; keep float32 as given
            X = X.astype(xp.float64)
        if X.ndim == 0 or X.shape[-1] != self.dim:
            raise InputError(
                f"{self.name} expects points of shape (..., {self.dim}), got shape {tuple(X.shape)}")
        return X


class FunctionProblem(Problem):
    """A problem from user callables ``f(X)``/``grad(X)`` on arrays (..., n) (see ``from_functions``)."""

    def __init__(self, name: str, meta: Meta, f: Callable, grad: Callable,
                 value_and_grad: Optional[Callable] = None):
        super().__init__(name, meta)
        self._f_user = f
        self._grad_user = grad
        self._vg_user = value_and_grad

    @property
    def group_identity(self) -> int:
        """Runs are batched by problem identity: the key of a problem built from callables does not
        name its code, so each such object is its own group."""
        return id(self)

    def on(self, backend):
        if get_backend(backend).name != "numpy":
            from convcheck.errors import BackendError
            raise BackendError(f"problem {self.name!r} is built from Python callables and runs on 'numpy' only")
        return self

    def _value(self, X):
        return self._checked(self._f_user(X), X, "f", np.shape(X)[:-1])

    def _grad(self, X):
        return self._checked(self._grad_user(X), X, "grad", np.shape(X))

    def _value_and_grad(self, X):
        if self._vg_user is not None:
            out = self._vg_user(X)
            if not (isinstance(out, tuple) and len(out) == 2):
                from convcheck.errors import InputError
                raise InputError(f"problem {self.name!r}: value_and_grad must return the pair (f(X), ∇f(X))")
            F, G = out
        else:
            F, G = self._f_user(X), self._grad_user(X)
        return self._checked(F, X, "f", np.shape(X)[:-1]), self._checked(G, X, "grad", np.shape(X))

    def _checked(self, out, X, what: str, shape: tuple):
        """The user's result as a real float array of the expected shape, checked at every call (the
        build-time probe covers a few points only: a callable may change shape or turn complex where
        the run goes later, and NumPy would broadcast or cut the imaginary part silently)."""
        from convcheck.errors import InputError

        out = np.asarray(out)
        if out.shape != shape:
            raise InputError(f"problem {self.name!r}: {what} returned shape {out.shape} for X of shape "
                             f"{np.shape(X)} during the run (expected {shape})")
        if np.iscomplexobj(out):
            if np.any(out.imag != 0):
                raise InputError(f"problem {self.name!r}: {what} returned complex values during the run; f is real")
            out = out.real
        if out.dtype != np.float64:
            try:
                out = out.astype(np.float64)
            except (TypeError, ValueError):
                raise InputError(f"problem {self.name!r}: {what} returned {out.dtype} values during the run, "
                                 "not numbers") from None
        return out
