"""Schedule objects: vectorised values t_k (k = 1, 2, ..., as in the paper), SymPy form, and facts.

Three kinds, built by the factories of :mod:`convcheck.schedules`:

- :class:`FamilySchedule`: constant, power c/k^p, Diminish 1-3 (optionally held over blocks). Each
  has a closed form c·k^{-p}·(log k)^{-r} (:class:`~convcheck.schedule_facts.Asymptotic`) that the
  series facts are read from, and a known monotonicity for all k.
- :class:`PerfectSquaresSchedule`: Remark G.2's rho_k = C on perfect squares, C/k^p elsewhere.
- :class:`ExpressionSchedule`: an expression in k through the restricted parser; facts by SymPy.

Facts are cached: they may cost up to a second of SymPy each, values must stay cheap.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np
import sympy as sp

from .errors import InputError
from .schedule_facts import (K, Asymptotic, Fact, Value, decide_series, eventually_decreasing, limit_at_infinity,
                             negate, nonincreasing_from_one, sympy_call)

WITNESS_SEARCH_LENGTH = 2000  # k = 1..N scanned for an increase t_{k+1} > t_k when SymPy cannot decide


def as_indices(k) -> np.ndarray:
    """Validate 1-based iteration indices: an integer array (or integral floats), all ≥ 1."""
    arr = np.asarray(k)
    if arr.dtype.kind == "f":
        if not (np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr))):
            raise InputError("iteration indices k must be integers ≥ 1; got non-integral values")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise InputError(f"iteration indices k must be an integer array, got dtype {arr.dtype}")
    if arr.size and arr.min() < 1:
        raise InputError(f"iteration indices k must be ≥ 1 (1-based as in the paper), got k={int(arr.min())}")
    return arr.astype(np.int64, copy=False)


def _memo(method):
    """Cache a no-argument fact method on the instance (facts never change: schedules are immutable)."""
    name = "_memo_" + method.__name__

    def cached(self):
        store = self.__dict__.setdefault("_facts", {})
        if name not in store:
            store[name] = method(self)
        return store[name]

    cached.__name__, cached.__doc__ = method.__name__, method.__doc__
    return cached


def _fmt(value) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class Schedule:
    """A nonnegative sequence t_k, k = 1, 2, ... (a step size or a perturbation radius).

    Attributes
    ----------
    name : registry name, e.g. ``"power"``.
    params : the parameters, in canonical order, as given.
    formula : a readable formula, e.g. ``"t_k = c / k^p"``.
    sympy_expr : the exact per-iteration SymPy form in ``k = Symbol('k', positive=True, integer=True)``
        (may be given as a function that builds it: built at first use, since a sweep validates one
        schedule per run and SymPy arithmetic costs about 0.2 ms, more than a run's validation).
    """

    def __init__(self, name: str, params: dict, formula: str, sympy_expr: "sp.Expr | Callable[[], sp.Expr]"):
        self.name, self.params, self.formula, self._sympy_expr = name, dict(params), formula, sympy_expr

    @property
    def sympy_expr(self) -> sp.Expr:
        if not isinstance(self._sympy_expr, sp.Basic):  # built once: the value it stands for never changes
            self.__dict__["_sympy_expr"] = self._sympy_expr()
        return self._sympy_expr

    # ----- values
    def values(self, k) -> np.ndarray:
        """t_k for an integer array of 1-based indices (any shape), as float64; vectorised NumPy.

        The result has the shape of ``k``: an ``_evaluate`` that returns one number (a constant, say)
        or any shape that broadcasts to k's is broadcast; any other shape is a one-line InputError
        (every caller, the engine's per-batch tables included, may rely on the shape)."""
        indices = as_indices(k)
        values = np.asarray(self._evaluate(indices))
        if values.shape != indices.shape:
            try:
                values = np.array(np.broadcast_to(values, indices.shape))
            except ValueError:
                raise InputError(f"schedule {self.name!r} returned values of shape {values.shape} for "
                                 f"indices of shape {indices.shape}; values(k) must have k's shape") from None
        return values

    __call__ = values

    def _evaluate(self, k: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ----- identity
    @property
    def spec(self) -> str:
        """Canonical ``NAME:key=value,...`` spec; :func:`convcheck.schedules.from_spec` round-trips it."""
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{key}={_fmt(value)}" for key, value in self.params.items())

    def to_dict(self) -> dict:
        return {"name": self.name, "params": dict(self.params), "spec": self.spec, "formula": self.formula}

    def __repr__(self) -> str:
        return f"Schedule({self.spec!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Schedule) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)

    def __setattr__(self, name, value):
        if name in self.__dict__:
            raise AttributeError(f"schedules are immutable; cannot set {name!r}")
        super().__setattr__(name, value)

    # ----- what the pair facts of convcheck.schedules need
    asymptotic: Optional[Asymptotic] = None  # closed form c·k^-p·(log k)^-r, where one exists

    def series_form(self) -> Optional[sp.Expr]:
        """An expression a(k) with a_k/t_k → 1 (or equal), for series tests; None if there is none."""
        return self.asymptotic.sympy() if self.asymptotic is not None else None

    @property
    def is_zero(self) -> bool:
        return self.asymptotic is not None and self.asymptotic.is_zero

    # ----- facts (each subclass decides them)
    def sum_diverges(self) -> Fact:
        """Σ_k t_k = ∞ (needed by (7), (8), (11), (12))."""
        raise NotImplementedError

    def sum_squares_converges(self) -> Fact:
        """Σ_k t_k² < ∞ (Theorem 3.2, condition (7))."""
        raise NotImplementedError

    def nonincreasing_to_zero(self) -> Fact:
        """t_k ↓ 0 with t_{k+1} ≤ t_k for ALL k ≥ 1."""
        raise NotImplementedError

    def eventually_nonincreasing_to_zero(self) -> Fact:
        """t_k → 0 and t_{k+1} ≤ t_k for all large k: the form the theorems' "t_k ↓ 0" needs."""
        raise NotImplementedError

    def sup(self) -> Value:
        """sup_k t_k (condition (7) asks it finite)."""
        raise NotImplementedError

    def limsup(self) -> Value:
        """limsup_k t_k (conditions (8)/(11): limsup ε_k < 2, limsup rho_k < 2/L)."""
        raise NotImplementedError

    def liminf(self) -> Value:
        """liminf_k t_k."""
        raise NotImplementedError

    def inf_tail_positive(self) -> Fact:
        """t_k ≥ t̄ > 0 for all large k (Theorem 4.1(v)); equivalent to liminf t_k > 0."""
        value = self.liminf()
        if value.value is None:
            return Fact(None, "undecided: " + value.how)
        return Fact(value.value > 0, f"liminf t_k = {value.value:g} ({value.how})")

    def facts(self) -> dict:
        """All facts, JSON-ready: name -> {"value", "how"}."""
        names = ("sum_diverges", "sum_squares_converges", "nonincreasing_to_zero",
                 "eventually_nonincreasing_to_zero", "sup", "limsup", "liminf", "inf_tail_positive")
        return {name: getattr(self, name)().to_dict() for name in names}


class FamilySchedule(Schedule):
    """A schedule of the power/power-log families with a known closed form and monotonicity.

    Values are t_k = coefficient · profile(k) (or coefficient / profile(k) with ``divide``): the
    coefficient is the family's scale parameter (c, C, eta1, value) and the profile depends only on
    the other parameters, named by ``profile_key``. Runs whose schedules share a profile key get their
    values from one profile evaluation per chunk (:class:`convcheck.schedule_tables.ScheduleTable`),
    bitwise as their own.

    Parameters
    ----------
    coefficient : the scale parameter (finite, ≥ 0).
    profile : int64 indices -> float64 profile values.
    profile_key : hashable; equal keys mean equal profiles.
    divide : t_k = coefficient / profile(k) instead of coefficient · profile(k).
    asymptotic : c·k^{-p}·(log k)^{-r} with t_k / (that) → 1.
    nonincreasing : whether t_{k+1} ≤ t_k for all k ≥ 1 (otherwise t_k is increasing).
    bounded_by_first : whether every computed value (in floating point, for every k) is proven to lie in
        [0, t_1]: the profile is ≤ 1 (≥ 1 with ``divide``) and ≥ 0; then :func:`check_schedule_values`
        needs only t_1.
    """

    def __init__(self, name, params, formula, sympy_expr, coefficient: float,
                 profile: Callable[[np.ndarray], np.ndarray], profile_key: tuple, asymptotic: Asymptotic,
                 nonincreasing: bool, divide: bool = False, bounded_by_first: bool = False):
        super().__init__(name, params, formula, sympy_expr)
        self.coefficient, self.profile, self.profile_key, self.divide = coefficient, profile, profile_key, divide
        self.asymptotic = asymptotic
        self.nonincreasing = nonincreasing
        self.bounded_by_first = bounded_by_first

    def _evaluate(self, k: np.ndarray) -> np.ndarray:
        profile = self.profile(k)
        return self.coefficient / profile if self.divide else self.coefficient * profile

    @_memo
    def sum_diverges(self) -> Fact:
        return negate(self.asymptotic.series(), "Σ t_k: ")

    @_memo
    def sum_squares_converges(self) -> Fact:
        return self.asymptotic.to_power(2).series()

    @_memo
    def nonincreasing_to_zero(self) -> Fact:
        limit = self.asymptotic.limit()
        if not self.nonincreasing:
            return Fact(False, f"for all k ≥ 1: t_k is increasing ({self.formula})")
        return Fact(limit == 0, f"for all k ≥ 1: t_k is nonincreasing ({self.formula}) and t_k → {limit:g}")

    @_memo
    def eventually_nonincreasing_to_zero(self) -> Fact:
        fact = self.nonincreasing_to_zero()  # monotone for all k one way or the other: same answer
        return Fact(fact.value, fact.how.replace("for all k ≥ 1", "eventually (indeed for all k ≥ 1)"))

    @_memo
    def sup(self) -> Value:
        if self.nonincreasing:
            return Value(float(self._evaluate(np.array([1]))[0]), "t_1, since t_k is nonincreasing")
        return Value(math.inf, "t_k is increasing and unbounded")

    @_memo
    def limsup(self) -> Value:
        return Value(self.asymptotic.limit(), f"lim t_k, with t_k ~ {self.asymptotic.describe()}")

    liminf = limsup


class PerfectSquaresSchedule(Schedule):
    """Remark G.2: rho_k = C if k is a perfect square, C/k^p otherwise (for C = 0: rho_k = 0)."""

    def __init__(self, name, params, formula, sympy_expr, C: float, p: float, zero_twin: Schedule):
        super().__init__(name, params, formula, sympy_expr)
        self.C, self.p, self._zero_twin = C, p, zero_twin
        self.asymptotic = zero_twin.asymptotic if C == 0 else None

    def _evaluate(self, k: np.ndarray) -> np.ndarray:
        kf = k.astype(np.float64)
        root = np.floor(np.sqrt(kf)).astype(np.int64)
        root -= root * root > k  # sqrt in float64 may round up or down near large squares
        root += (root + 1) * (root + 1) <= k
        return np.where(root * root == k, self.C, self.C * np.power(kf, -self.p))

    def _decided(self, fact: str, otherwise: Fact) -> Fact:
        """For C = 0 the schedule is the zero sequence; ask its constant twin."""
        return getattr(self._zero_twin, fact)() if self.C == 0 else otherwise

    @_memo
    def sum_diverges(self) -> Fact:
        return self._decided("sum_diverges", Fact(True, "rho_{j²} = C > 0 for every j: infinitely many terms equal C"))

    @_memo
    def sum_squares_converges(self) -> Fact:
        return self._decided("sum_squares_converges", Fact(False, "rho_{j²}² = C² > 0 for every j"))

    @_memo
    def nonincreasing_to_zero(self) -> Fact:
        return self._decided("nonincreasing_to_zero", Fact(
            False, "for all k ≥ 1: rho_{j²} = C > 0 for every j, so rho_k does not tend to 0"))

    @_memo
    def eventually_nonincreasing_to_zero(self) -> Fact:
        return self._decided("eventually_nonincreasing_to_zero", Fact(
            False, "eventually: rho_{j²} = C > 0 for every j, so rho_k does not tend to 0"))

    @_memo
    def sup(self) -> Value:
        if self.C == 0 or self.p >= 0:
            return Value(self.C, "rho_1 = C and rho_k ≤ C for p ≥ 0")
        return Value(math.inf, "C/k^p is unbounded for p < 0")

    @_memo
    def limsup(self) -> Value:
        if self.C == 0 or self.p >= 0:
            return Value(self.C, "rho_{j²} = C along the perfect squares, C/k^p ≤ C elsewhere")
        return Value(math.inf, "C/k^p → ∞ off the squares for p < 0")

    @_memo
    def liminf(self) -> Value:
        if self.C == 0 or self.p <= 0:
            return Value(self.C, "rho_k ≥ C for p ≤ 0, with equality on the perfect squares")
        return Value(0.0, "C/k^p → 0 along the non-squares for p > 0")


class ExpressionSchedule(Schedule):
    """t_k given by a SymPy expression in k; values by a NumPy function lambdified once."""

    def __init__(self, name, params, formula, sympy_expr: sp.Expr, text: str):
        super().__init__(name, params, formula, sympy_expr)
        self.text = text
        self._function = sp.lambdify(K, sympy_expr, modules="numpy")
        self._smooth = not sympy_expr.has(sp.floor, sp.ceiling, sp.frac, sp.Piecewise, sp.sign)

    @property
    def spec(self) -> str:
        return f"expr:{self.text}"

    def series_form(self) -> sp.Expr:
        return self.sympy_expr

    @property
    def is_zero(self) -> bool:
        return bool(self.sympy_expr.is_zero)

    def _evaluate(self, k: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            raw = np.asarray(self._function(k.astype(np.float64)))
        raw = np.broadcast_to(raw, k.shape)  # an expression without k comes back as a scalar
        if np.iscomplexobj(raw):
            bad = (raw.imag != 0) | ~np.isfinite(raw.real) | (raw.real < 0)
            out = np.array(raw.real, dtype=np.float64)
        else:
            out = np.array(raw, dtype=np.float64)
            bad = ~(np.isfinite(out) & (out >= 0))
        if bad.any():
            first = int(k[bad].min())
            value = complex(raw[k == first].flat[0]) if np.iscomplexobj(raw) else float(out[k == first].flat[0])
            raise InputError(f"schedule expr:{self.text} gives {value!r} at k={first}; "
                             f"step sizes and radii must be finite, real and ≥ 0")
        return out

    @_memo
    def _limit(self) -> Optional[sp.Expr]:
        return limit_at_infinity(self.sympy_expr)

    @_memo
    def sum_diverges(self) -> Fact:
        return negate(decide_series(self.sympy_expr), "Σ t_k: ")

    @_memo
    def sum_squares_converges(self) -> Fact:
        return decide_series(self.sympy_expr ** 2, nonnegative=True)

    def _limit_is_zero(self) -> Fact:
        limit = self._limit()
        if limit is None:
            return Fact(None, "undecided: SymPy found no limit of t(x) as x → ∞")
        return Fact(limit == 0, f"t_k → {limit} (SymPy limit)")

    @_memo
    def _monotone_for_all(self) -> Fact:
        if self._smooth and nonincreasing_from_one(self.sympy_expr):
            return Fact(True, "t'(x) ≤ 0 on [1, ∞) (SymPy)")
        witness = self._increase_witness()
        if witness is not None:
            return Fact(False, f"t_{witness + 1} > t_{witness} (checked with 30-digit arithmetic)")
        return Fact(None, "undecided: SymPy could not sign t'(x) and k ≤ "
                          f"{WITNESS_SEARCH_LENGTH} shows no increase")

    def _increase_witness(self) -> Optional[int]:
        """The first k ≤ N with t_{k+1} > t_k, confirmed exactly; None if none is found."""
        try:
            values = self._evaluate(np.arange(1, WITNESS_SEARCH_LENGTH + 1))
        except InputError:
            return None
        candidates = np.flatnonzero(values[1:] > values[:-1] * (1 + 1e-12)) + 1
        for k in candidates[:5]:
            difference = sympy_call(lambda: sp.N(self.sympy_expr.subs(K, int(k) + 1)
                                                 - self.sympy_expr.subs(K, int(k)), 30))
            if difference is not None and difference.is_positive:
                return int(k)
        return None

    @_memo
    def nonincreasing_to_zero(self) -> Fact:
        monotone, to_zero = self._monotone_for_all(), self._limit_is_zero()
        how = f"for all k ≥ 1: {monotone.how}; {to_zero.how}"
        if monotone.value is False or to_zero.value is False:
            return Fact(False, how)
        return Fact(True if monotone.value and to_zero.value else None, how)

    @_memo
    def eventually_nonincreasing_to_zero(self) -> Fact:
        to_zero = self._limit_is_zero()
        if to_zero.value is not True:
            return Fact(to_zero.value, "eventually: " + to_zero.how)
        if self.nonincreasing_to_zero().value:
            return Fact(True, "eventually (indeed " + self.nonincreasing_to_zero().how + ")")
        decreasing = eventually_decreasing(self.sympy_expr) if self._smooth else None
        if decreasing is None:
            return Fact(None, "undecided: t_k → 0 but SymPy could not sign t'(x) for large x")
        return Fact(decreasing, f"eventually: sign of x·t'(x)/t(x) at ∞ (SymPy); {to_zero.how}")

    @_memo
    def sup(self) -> Value:
        if self.nonincreasing_to_zero().value or self._monotone_for_all().value:
            try:
                return Value(float(self._evaluate(np.array([1]))[0]), "t_1, since t_k is nonincreasing")
            except InputError:
                pass
        if self._limit() == sp.oo:
            return Value(math.inf, "t_k → ∞ (SymPy limit)")
        return Value(None, "undecided: t_k is not known to be monotone")

    @_memo
    def limsup(self) -> Value:
        limit = self._limit()
        if limit is None:
            return Value(None, "undecided: SymPy found no limit of t(x) as x → ∞")
        return Value(math.inf if limit == sp.oo else float(limit), "lim t_k (SymPy limit)")

    liminf = limsup
