"""Exact decisions about step-size and radius sequences: series, limits, monotonicity.

The theorems of the paper (Khanh, Luong, Mordukhovich, Tran, NeurIPS 2024) ask for facts about the
sequences t_k (step size) and rho_k (perturbation radius), k = 1, 2, ...:

- (7), Theorem 3.2: Σ t_k = ∞, Σ t_k² < ∞, sup rho_k < ∞;
- (8)/(11), Theorem 3.3 and Corollary 3.5: Σ t_k = ∞, t_k ↓ 0, Σ t_k rho_k < ∞, limsup rho_k < 2/L;
- (9), Theorem 3.3(iii): Σ_k t_k [φ'(Σ_{i≥k} t_i ε_i)]^{-1} < ∞ with φ(s) = M s^{1-q};
- (12), Theorem 4.1(v): t_k ≥ t̄ > 0 for large k.

This module decides them exactly or answers "unknown" (``None``); it never guesses.

- :class:`Asymptotic` is the closed form c · k^{-p} · (log k)^{-r} (ratio → 1) of the power and
  power-log families; exponents are exact fractions, so p = 1 is never missed through rounding.
  Series of such terms are decided by the p-series and Bertrand rules: Σ k^{-p} (log k)^{-r} < ∞ iff
  p > 1, or p = 1 and r > 1 (limit comparison transfers this to any positive t_k with that ratio limit).
- :func:`decide_series` decides Σ a_k for a SymPy expression a(k): first an order test with SymPy
  limits (if lim log a(x)/log x = -p with p ≠ 1 the series behaves like Σ k^{-p±ε}; if p = 1 the same
  test on log(x a(x))/log log x gives the Bertrand exponent), then ``Sum(...).is_convergent()``; an
  exception, a timeout or an undecided answer gives ``None``. The order test runs first because
  ``is_convergent`` uses non-sharp orders and can answer wrongly (SymPy issue 21315:
  Σ (1 − cos(1/k)) is reported divergent).
"""
from __future__ import annotations

import math
import signal
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional

import sympy as sp

SYMPY_TIMEOUT_S = 5.0  # per SymPy call; facts are computed rarely and cached
K = sp.Symbol("k", positive=True, integer=True)  # the iteration index, 1-based as in the paper
X = sp.Symbol("x", positive=True)  # real stand-in for k in limits and derivatives


@dataclass(frozen=True)
class Fact:
    """A decided or undecided yes/no fact about a schedule.

    ``value`` is True, False, or None for "unknown"; ``how`` says how it was decided. Truth testing
    (``if fact:``) raises, because an unknown fact must not silently read as False: test ``fact.value``.
    """

    value: Optional[bool]
    how: str

    @property
    def known(self) -> bool:
        return self.value is not None

    def __bool__(self) -> bool:
        raise TypeError("a Fact may be unknown; test fact.value (True, False or None) instead")

    def to_dict(self) -> dict:
        return {"value": self.value, "how": self.how}


@dataclass(frozen=True)
class Value:
    """A number about a schedule (sup, limsup, liminf): a float (``math.inf`` allowed) or None if unknown."""

    value: Optional[float]
    how: str

    @property
    def known(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict:
        return {"value": self.value, "how": self.how}


def exact(number: float | int | Fraction) -> Fraction:
    """The decimal the user wrote, as an exact fraction (``repr`` of a float is its shortest decimal)."""
    if isinstance(number, Fraction):
        return number
    if isinstance(number, int):
        return Fraction(number)
    return Fraction(repr(float(number)))


def _fmt(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{float(q):g}"


@dataclass(frozen=True)
class Asymptotic:
    """t_k / (coef · k^{-power} · (log k)^{-log_power}) → 1 as k → ∞; ``coef == 0`` means t_k = 0 for all k.

    Every schedule of the power and power-log families has such a form. Limit comparison makes the
    series, limit and tail facts of t_k those of the closed form.
    """

    coef: float
    power: Fraction
    log_power: Fraction = Fraction(0)

    @property
    def is_zero(self) -> bool:
        return self.coef == 0

    def describe(self) -> str:
        if self.is_zero:
            return "0"
        text = f"{self.coef:g}" + (f"·k^{_fmt(-self.power)}" if self.power else "")
        return text + (f"·(log k)^{_fmt(-self.log_power)}" if self.log_power else "")

    def times(self, other: "Asymptotic") -> "Asymptotic":
        if self.is_zero or other.is_zero:
            return ZERO
        return Asymptotic(self.coef * other.coef, self.power + other.power, self.log_power + other.log_power)

    def to_power(self, q: Fraction) -> "Asymptotic":
        """(t_k)^q for q ≥ 0, with 0^0 = 1."""
        if q == 0:
            return Asymptotic(1.0, Fraction(0))
        if self.is_zero:
            return ZERO
        return Asymptotic(self.coef ** float(q), self.power * q, self.log_power * q)

    def at_squares(self) -> "Asymptotic":
        """The subsequence j ↦ t_{j²}: coef · j^{-2p} · (2 log j)^{-r}."""
        if self.is_zero:
            return ZERO
        return Asymptotic(self.coef * 2.0 ** (-float(self.log_power)), 2 * self.power, self.log_power)

    def dominant(self, other: "Asymptotic") -> "Asymptotic":
        """Asymptotic form of the sum of two nonnegative sequences: the slower-decaying one wins."""
        if self.is_zero:
            return other
        if other.is_zero:
            return self
        mine, theirs = (self.power, self.log_power), (other.power, other.log_power)
        if mine == theirs:
            return Asymptotic(self.coef + other.coef, self.power, self.log_power)
        return self if mine < theirs else other

    def limit(self) -> float:
        """lim t_k: 0, coef, or ∞."""
        if self.is_zero or self.power > 0 or (self.power == 0 and self.log_power > 0):
            return 0.0
        if self.power == 0 and self.log_power == 0:
            return self.coef
        return math.inf

    def series(self) -> Fact:
        """Whether Σ_k t_k < ∞ (p-series and Bertrand rules)."""
        p, r = self.power, self.log_power
        if self.is_zero:
            return Fact(True, "every term is 0")
        if p != 1:
            return Fact(p > 1, f"p-series with terms ~ {self.describe()}: p = {_fmt(p)} {'>' if p > 1 else '<'} 1")
        return Fact(r > 1, f"Bertrand series with terms ~ {self.describe()}: p = 1 and log power "
                           f"r = {_fmt(r)} {'>' if r > 1 else '≤'} 1")

    def tail(self) -> "Asymptotic":
        """Σ_{i≥k} t_i for a convergent series: k^{1-p}(log k)^{-r}/(p-1) if p > 1, (log k)^{1-r}/(r-1) if p = 1."""
        if self.is_zero:
            return ZERO
        if not self.series().value:
            raise ValueError("tail of a divergent series")
        if self.power > 1:
            return Asymptotic(self.coef / float(self.power - 1), self.power - 1, self.log_power)
        return Asymptotic(self.coef / float(self.log_power - 1), Fraction(0), self.log_power - 1)

    def sympy(self, k: sp.Symbol = K) -> sp.Expr:
        """coef · k^{-p} · (log k)^{-r}, defined for k ≥ 2."""
        if self.is_zero:
            return sp.Integer(0)
        expr = sp.Float(self.coef) * k ** (-sp.Rational(self.power))
        return expr * sp.log(k) ** (-sp.Rational(self.log_power)) if self.log_power else expr


ZERO = Asymptotic(0.0, Fraction(0))


class _Timeout(Exception):
    pass


def sympy_call(compute: Callable[[], object], seconds: float = SYMPY_TIMEOUT_S):
    """Run a SymPy computation; None if it raises or runs past ``seconds``.

    The time limit uses SIGALRM, available only in the main thread of a POSIX process; elsewhere the
    call runs without a limit.
    """
    use_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = None
    if use_alarm:
        def on_alarm(signum, frame):
            raise _Timeout()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return compute()
    except (_Timeout, Exception):  # SymPy raises many kinds (NotImplementedError, PoleError, ...)
        return None
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _number(value) -> Optional[sp.Expr]:
    """A SymPy limit result if it is a real number or ±∞, else None (AccumBounds, unevaluated, complex)."""
    if value is None or not isinstance(value, sp.Expr):
        return None
    if value in (sp.oo, -sp.oo):
        return value
    if value.is_real and value.is_finite and value.is_number:
        return value
    return None


def limit_at_infinity(expr: sp.Expr) -> Optional[sp.Expr]:
    """lim_{x→∞} expr(x) over the reals (which, when it exists, is also the limit over integers)."""
    return _number(sympy_call(lambda: sp.limit(expr.subs(K, X), X, sp.oo)))


def _sign(value: sp.Expr) -> Optional[int]:
    if value is sp.oo or value.is_positive:
        return 1
    if value is -sp.oo or value.is_negative:
        return -1
    if value.is_zero:
        return 0
    return None


def _order_test(term: sp.Expr) -> Optional[Fact]:
    """Decide Σ a_k by the growth order of a(x): see the module docstring."""
    a = term.subs(K, X)
    order = _number(sympy_call(lambda: sp.limit(sp.log(a) / sp.log(X), X, sp.oo)))
    if order is None or order in (sp.oo, -sp.oo):
        return None
    p = -order
    # a(x)·x^{p+1} = x^{1+o(1)} → +∞ exactly when a(x) > 0 for large x
    if _number(sympy_call(lambda: sp.limit(a * X ** (p + 1), X, sp.oo))) != sp.oo:
        return None
    side = _sign(p - 1)
    if side is None:
        return None
    if side != 0:
        return Fact(side > 0, f"order test (SymPy limits): log a(k)/log k → -{p}, so Σ behaves like a "
                              f"p-series with p = {p} {'>' if side > 0 else '<'} 1")
    log_order = _number(sympy_call(lambda: sp.limit(sp.log(a * X) / sp.log(sp.log(X)), X, sp.oo)))
    if log_order is None:
        return None
    side = _sign(-log_order - 1) if log_order not in (sp.oo, -sp.oo) else (1 if log_order == -sp.oo else -1)
    if not side:
        return None
    return Fact(side > 0, f"order test (SymPy limits): a(k) = k^-1·(log k)^-r with r = {-log_order}, "
                          f"a Bertrand series that {'converges' if side > 0 else 'diverges'}")


def decide_series(term: sp.Expr, nonnegative: Optional[bool] = None) -> Fact:
    """Whether Σ_{k≥2} a_k < ∞ for a SymPy expression a in :data:`K` (finitely many terms do not matter).

    ``nonnegative`` says whether a_k ≥ 0 is known; the SymPy fallback needs it to read "not
    convergent" as "= ∞", and is asked otherwise.
    """
    term = sp.sympify(term)
    if term.is_zero:
        return Fact(True, "every term is 0")
    decided = _order_test(term)
    if decided is not None:
        return decided
    verdict = sympy_call(lambda: sp.Sum(term, (K, 2, sp.oo)).is_convergent())
    if verdict is sp.true or verdict is True:
        return Fact(True, "SymPy Sum.is_convergent")
    if verdict is sp.false or verdict is False:
        if nonnegative is None:
            nonnegative = sympy_call(lambda: term.is_nonnegative)
        if nonnegative:
            return Fact(False, "SymPy Sum.is_convergent (nonnegative terms)")
        return Fact(None, "undecided: SymPy finds the series not convergent but cannot show its terms are ≥ 0")
    return Fact(None, "undecided: neither the order test nor SymPy's Sum.is_convergent could decide")


def negate(fact: Fact, how_prefix: str = "") -> Fact:
    """The opposite fact (for nonnegative terms, 'Σ diverges' is 'not Σ converges')."""
    value = None if fact.value is None else not fact.value
    return Fact(value, how_prefix + fact.how)


def eventually_decreasing(expr: sp.Expr) -> Optional[bool]:
    """Whether a smooth a(x) is eventually decreasing: lim sign a'(x), else (for a > 0) the sign of
    x·a'/a or x·log x·a'/a at infinity. A strict sign is a sound answer; 0 or no limit gives None."""
    a = expr.subs(K, X)
    derivative = sympy_call(lambda: sp.diff(a, X))
    if derivative is None:
        return None
    side = _number(sympy_call(lambda: sp.limit(sp.sign(derivative), X, sp.oo)))
    if side is not None and side != 0:
        return bool(side < 0)
    if not sympy_call(lambda: a.is_positive):
        return None
    for scale in (X, X * sp.log(X)):
        ratio = _number(sympy_call(lambda: sp.limit(scale * derivative / a, X, sp.oo)))
        if ratio is None:
            return None
        side = _sign(ratio)
        if side:
            return side < 0
    return None


def nonincreasing_from_one(expr: sp.Expr) -> Optional[bool]:
    """True if the real extension a(x) has a'(x) ≤ 0 on [1, ∞) (so a_k is nonincreasing); None otherwise."""
    y = sp.Symbol("y", nonnegative=True)
    shifted = expr.subs(K, 1 + y)
    sign = sympy_call(lambda: sp.diff(shifted, y).is_nonpositive)
    return True if sign else None
