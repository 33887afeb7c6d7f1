"""Step-size and radius schedules t_k, rho_k, indexed k = 1, 2, ... as in the paper.

Khanh, Luong, Mordukhovich, Tran, "Fundamental Convergence Analysis of Sharpness-Aware Minimization"
(NeurIPS 2024). Every schedule gives vectorised values, its SymPy form, and the facts the theorems need
(Σ t_k = ∞, Σ t_k² < ∞, t_k ↓ 0, sup, limsup, liminf), each decided exactly or reported unknown; pair
facts (Σ t_k rho_k < ∞, condition (9)) are module functions.

=================  =========================================================  ========================
name               t_k                                                        source
=================  =========================================================  ========================
constant           value                                                      (7), (12)
power              c / k^p                                                    Remark G.3, Appendix E
diminish1          eta1 / n                                                   §5, "Diminish 1"
diminish2          eta1 / n^0.5001                                            §5, "Diminish 2"
diminish3          eta1 / (m ln m),  m = ⌊n/5⌋ + 2                            §5, "Diminish 3"
almost_constant    C / k^p, p = 0.001                                         Remark 3.6
perfect_squares    C if k is a perfect square, else C / k^p                   Remark G.2
expr               an expression in k (restricted parser)
=================  =========================================================  ========================

For the Diminish schedules n = ⌊(k−1)/block⌋ + 1 is the epoch: the value is held for ``block``
iterations, like the paper's per-epoch code; block = 1 gives n = k. The paper's formulas are the
definition. The authors' code differs by one epoch (Section 5, Appendix F): its Diminish 2 uses eta1/e^0.5001
for the 0-based epoch e ≥ 1, and its Diminish 3 never uses m = 2 after epoch 0
(m = ⌊(e−1)/5⌋ + 3), so its values from epoch 1 on are those of the formula one epoch later.

Why a block schedule has the series facts of its per-iteration formula: with n = ⌊(k−1)/B⌋ + 1 we
have n·B/k → 1, so t_k / (eta1·B^p·k^{-p}) → 1 for eta1/n^p, and t_k / (5B·eta1 / (k ln k)) → 1 for
Diminish 3 (m ln m ~ (k/5B)·ln k). By limit comparison Σ t_k and Σ t_k² behave as for those closed forms.
"""
from __future__ import annotations

import inspect
import math
import numbers
from fractions import Fraction
from functools import lru_cache
from typing import Callable

import numpy as np
import sympy as sp

from . import errors
from .errors import SpecError
from .expr import parse_expression
from .limits import SCHEDULE_CHECK_EXHAUSTIVE, SCHEDULE_CHECK_SAMPLES
from .schedule_facts import K, ZERO, Asymptotic, Fact, Value, decide_series, exact
from .schedule_types import ExpressionSchedule, FamilySchedule, PerfectSquaresSchedule, Schedule
from .specs import BARE_KEY, parse_spec

__all__ = ["Schedule", "Fact", "Value", "constant", "power", "diminish1", "diminish2", "diminish3",
           "almost_constant", "perfect_squares", "from_expr", "get", "from_spec", "SCHEDULES",
           "describe_schedules", "sum_product_converges", "kl_condition_9"]

DIMINISH2_POWER = Fraction(5001, 10000)


# ----------------------------------------------------------------------------- parameter checks
def _real(schedule: str, key: str, value, *, nonnegative: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(f"schedule {schedule} parameter {key} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise SpecError(f"schedule {schedule} parameter {key} must be finite, got {value!r}")
    if nonnegative and value < 0:
        raise SpecError(f"schedule {schedule} parameter {key} must be ≥ 0 (step sizes and radii are "
                        f"nonnegative), got {value!r}")
    return value


def _block(schedule: str, value) -> int:
    ok = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not ok or value < 1:
        raise SpecError(f"schedule {schedule} parameter block must be an integer ≥ 1 (iterations per "
                        f"epoch), got {value!r}")
    return int(value)


def _epoch(k: np.ndarray, block: int) -> np.ndarray:
    return (k - 1) // block + 1


def _epoch_symbol(block: int) -> sp.Expr:
    return K if block == 1 else sp.floor((K - 1) / block) + 1


# ----------------------------------------------------------------------------- families
def _ones(k: np.ndarray) -> np.ndarray:
    return np.ones(k.shape)


def _power_profile(p: float):
    def profile(k: np.ndarray) -> np.ndarray:
        return np.power(k.astype(np.float64), -p)
    return profile


def constant(value: float) -> Schedule:
    """t_k = value for all k: the constant step of (12) / Theorem 4.1, the constant radius of Theorem 3.2."""
    value = _real("constant", "value", value, nonnegative=True)
    return FamilySchedule("constant", {"value": value}, f"t_k = {value:g}", sp.Float(value), value, _ones,
                          ("constant",), Asymptotic(value, Fraction(0)), nonincreasing=True, bounded_by_first=True)


def _power_family(name: str, coef_key: str, c, p) -> Schedule:
    c = _real(name, coef_key, c, nonnegative=True)
    p = _real(name, "p", p, nonnegative=False)  # p < 0 (growing) is allowed; its facts say so
    exponent = exact(p)
    asymptotic = Asymptotic(c, exponent) if c else ZERO
    # p ≥ 0: k^-p ∈ (0, 1] (pow of k ≥ 1), so c·k^-p ∈ [0, c]; p < 0 may overflow (and 0·inf is NaN)
    return FamilySchedule(name, {coef_key: c, "p": p}, f"t_k = {c:g} / k^{p:g}",
                          lambda: sp.Float(c) * K ** (-sp.Rational(exponent)), c, _power_profile(p), ("power", p),
                          asymptotic, nonincreasing=p >= 0 or c == 0, bounded_by_first=p >= 0)


def power(c: float, p: float) -> Schedule:
    """t_k = c / k^p (Remark G.3 with p = 1, Appendix E radii with p ∈ {1, 0.1, 0.001}); p < 0 grows."""
    return _power_family("power", "c", c, p)


def almost_constant(C: float, p: float = 0.001) -> Schedule:
    """rho_k = C / k^0.001 (Remark 3.6): rho_{10^6} = C·10^{-0.006} ≈ 0.9863 C, yet Σ t_k rho_k < ∞ for t_k = 1/k.

    The name is the paper's; ``p`` may be changed (Appendix E also uses p = 0.1 and p = 1).
    """
    return _power_family("almost_constant", "C", C, p)


def _diminish_power(name: str, eta1, block, exponent: Fraction) -> Schedule:
    eta1 = _real(name, "eta1", eta1, nonnegative=True)
    block = _block(name, block)
    p = float(exponent)

    def profile(k: np.ndarray) -> np.ndarray:
        return np.power(_epoch(k, block).astype(np.float64), -p)

    asymptotic = Asymptotic(eta1 * block ** p, exponent) if eta1 else ZERO
    formula = f"t_k = {eta1:g} / n^{p:g}, n = {'k' if block == 1 else f'⌊(k−1)/{block}⌋ + 1'}"
    return FamilySchedule(name, {"eta1": eta1, "block": block}, formula,
                          sp.Float(eta1) * _epoch_symbol(block) ** (-sp.Rational(exponent)), eta1, profile,
                          ("epoch_power", p, block), asymptotic, nonincreasing=True, bounded_by_first=True)


def diminish1(eta1: float = 0.1, block: int = 1) -> Schedule:
    """Diminish 1 (§5): t = eta1 / n for epoch n = ⌊(k−1)/block⌋ + 1; Σ t = ∞, t ↓ 0, Σ t² < ∞."""
    return _diminish_power("diminish1", eta1, block, Fraction(1))


def diminish2(eta1: float = 0.1, block: int = 1) -> Schedule:
    """Diminish 2 (§5): t = eta1 / n^0.5001; Σ t = ∞, Σ t² < ∞ (2 × 0.5001 > 1), t ↓ 0."""
    return _diminish_power("diminish2", eta1, block, DIMINISH2_POWER)


def diminish3(eta1: float = 0.1, block: int = 1) -> Schedule:
    """Diminish 3 (§5): t = eta1 / (m ln m), m = ⌊n/5⌋ + 2 (the paper's formula; natural log as in its code).

    t_k ~ 5·block·eta1 / (k ln k): Σ t = ∞ (Bertrand, r = 1) and Σ t² < ∞; m ln m increases, so t ↓ 0.
    """
    eta1 = _real("diminish3", "eta1", eta1, nonnegative=True)
    block = _block("diminish3", block)

    def profile(k: np.ndarray) -> np.ndarray:  # m ln m ≥ 2 ln 2 > 1, so t_k ∈ [0, eta1]
        m = (_epoch(k, block) // 5 + 2).astype(np.float64)
        return m * np.log(m)

    m = sp.floor(_epoch_symbol(block) / 5) + 2
    asymptotic = Asymptotic(5 * block * eta1, Fraction(1), Fraction(1)) if eta1 else ZERO
    n_text = "k" if block == 1 else f"⌊(k−1)/{block}⌋ + 1"
    return FamilySchedule("diminish3", {"eta1": eta1, "block": block},
                          f"t_k = {eta1:g} / (m ln m), m = ⌊n/5⌋ + 2, n = {n_text}",
                          sp.Float(eta1) / (m * sp.log(m)), eta1, profile, ("diminish3", block), asymptotic,
                          nonincreasing=True, divide=True, bounded_by_first=True)


def perfect_squares(C: float, p: float) -> Schedule:
    """Remark G.2: rho_k = C if k is a perfect square, else C / k^p.

    With p > 0: limsup rho_k = C (so rho_k need not tend to 0), yet Σ t_k rho_k ≤ Σ_j C/j² + Σ_k C/k^{1+p} < ∞
    for t_k = 1/k. The SymPy form is a Piecewise on floor(sqrt(k))² = k.
    """
    C = _real("perfect_squares", "C", C, nonnegative=True)
    p = _real("perfect_squares", "p", p, nonnegative=False)
    is_square = sp.Eq(sp.floor(sp.sqrt(K)) ** 2, K)
    expr = sp.Piecewise((sp.Float(C), is_square), (sp.Float(C) * K ** (-sp.Rational(exact(p))), True))
    return PerfectSquaresSchedule("perfect_squares", {"C": C, "p": p},
                                  f"rho_k = {C:g} if k is a perfect square, else {C:g} / k^{p:g}",
                                  expr, C, p, zero_twin=constant(0.0))


def checked_indices(iters: int) -> np.ndarray:
    """Iteration numbers whose schedule values are checked before a run of ``iters`` steps.

    All of them up to SCHEDULE_CHECK_EXHAUSTIVE; beyond, those plus SCHEDULE_CHECK_SAMPLES log-spaced
    ones and the last 1024, so the check costs the same for 10^6 and 10^10 steps and a long run
    starts at once.
    """
    first = np.arange(1, min(iters, SCHEDULE_CHECK_EXHAUSTIVE) + 1, dtype=np.int64)
    if iters <= SCHEDULE_CHECK_EXHAUSTIVE:
        return first
    spread = np.unique(np.round(np.logspace(math.log10(SCHEDULE_CHECK_EXHAUSTIVE), math.log10(iters),
                                            SCHEDULE_CHECK_SAMPLES)).astype(np.int64))
    last = np.arange(max(1, iters - 1023), iters + 1, dtype=np.int64)
    return np.unique(np.concatenate([first, spread, last]))


_OWN_TYPES = (FamilySchedule, PerfectSquaresSchedule, ExpressionSchedule)
_FIRST = np.array([1], dtype=np.int64)


def check_schedule_values(schedule: Schedule, iters: int, what: str = "step") -> None:
    """Refuse a schedule with a non-finite, complex or negative value at a checked iteration (see
    :func:`checked_indices`); raises InputError naming the first such k.

    A family schedule whose computed values are proven to lie in [0, t_1] for every k
    (``bounded_by_first``: constant, c/k^p with p ≥ 0, Diminish 1-3) is decided by t_1 alone, exactly
    and for all k; a schedule that passed for ``iters`` steps is not checked again for them (schedules
    are immutable).
    """
    if type(schedule) is FamilySchedule and schedule.bounded_by_first:
        first = float(schedule.values(_FIRST)[0])
        if not (math.isfinite(first) and first >= 0):  # not reached: the parameters are checked finite, ≥ 0
            raise errors.InputError(f"{what} schedule {schedule.spec} gives {first!r} at k=1; "
                                    "values must be finite and >= 0")
        return
    if type(schedule) not in _OWN_TYPES:  # a user's subclass may compute its values from mutable state
        _check_values_at(schedule, checked_indices(iters), what)
        return
    passed = schedule.__dict__.setdefault("_checked_iters", set())
    key = (iters, SCHEDULE_CHECK_EXHAUSTIVE, SCHEDULE_CHECK_SAMPLES)  # what checked_indices(iters) covers
    if key not in passed:
        _check_values_at(schedule, checked_indices(iters), what)
        passed.add(key)


def _check_values_at(schedule: Schedule, ks: np.ndarray, what: str) -> None:
    for start in range(0, len(ks), SCHEDULE_CHECK_EXHAUSTIVE):
        part = ks[start:start + SCHEDULE_CHECK_EXHAUSTIVE]
        with np.errstate(all="ignore"):  # an overflow is reported below, as the bad k, not as a warning
            values = np.asarray(schedule.values(part))
        if np.iscomplexobj(values):
            raise errors.InputError(f"{what} schedule {schedule.spec} gives complex values; they must be real")
        values = values.astype(np.float64)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            k = int(part[np.argmax(bad)])
            raise errors.InputError(f"{what} schedule {schedule.spec} gives {values[np.argmax(bad)]!r} at k={k}; "
                                    "values must be finite and >= 0")


def from_expr(text: str) -> Schedule:
    """t_k from an expression in k, read by the restricted parser (e.g. ``"0.1/k"``, ``"1/(k*log(k+1)**2)"``).

    Values are checked when computed: a non-finite, complex or negative value raises InputError naming
    the first such k. Facts are decided by SymPy (order tests on limits, then Sum.is_convergent).
    """
    if not isinstance(text, str):
        raise SpecError(f"schedule expr needs the expression as text, got {type(text).__name__}")
    expr = parse_expression(text, {"k": K})
    return ExpressionSchedule("expr", {"expr": text.strip()}, f"t_k = {expr}", expr, text.strip())


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant, "power": power, "diminish1": diminish1, "diminish2": diminish2,
    "diminish3": diminish3, "almost_constant": almost_constant, "perfect_squares": perfect_squares,
    "expr": from_expr,
}
_FORMULAS = {
    "constant": "t_k = value", "power": "t_k = c / k^p",
    "diminish1": "eta1 / n, n = ⌊(k−1)/block⌋ + 1", "diminish2": "eta1 / n^0.5001, n = ⌊(k−1)/block⌋ + 1",
    "diminish3": "eta1 / (m ln m), m = ⌊n/5⌋ + 2, n = ⌊(k−1)/block⌋ + 1",
    "almost_constant": "C / k^p (Remark 3.6)",
    "perfect_squares": "C if k is a perfect square, else C / k^p (Remark G.2)",
    "expr": "an expression in k, e.g. expr:0.1/k",
}


def _parameters(name: str) -> list[inspect.Parameter]:
    return _signature_of(SCHEDULES[name])


@lru_cache(maxsize=64)
def _signature_of(factory) -> list[inspect.Parameter]:
    return list(inspect.signature(factory).parameters.values())


def describe_schedules() -> list[dict[str, str]]:
    """Rows ``{"name", "parameters" (with defaults), "formula"}`` for ``convcheck list schedules``."""
    rows = []
    for name in SCHEDULES:
        shown = [p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default}"
                 for p in _parameters(name)]
        rows.append({"name": name, "parameters": ", ".join(shown), "formula": _FORMULAS[name]})
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def from_spec(spec) -> Schedule:
    """A schedule from a spec string (``"power:c=0.1,p=1"``, ``"constant:0.1"``, ``"expr:0.1/k"``).

    A :class:`Schedule` passes through unchanged and a plain number, or a string that is one (``"0.1"``,
    ``--step 0.1``), means ``constant(number)``. Keys are
    matched case-insensitively; a bare value goes to the first parameter of a schedule with at most one
    required parameter.
    """
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return constant(spec)
    if isinstance(spec, str) and spec.partition(":")[0].strip().lower() != "expr":
        return _from_text(spec, _registry_identity())
    return _from_parsed(spec)


def clear_spec_cache() -> None:
    """Forget the schedules read from spec texts (benchmarks time cold validation with it)."""
    _from_text.cache_clear()


def _registry_identity() -> tuple:
    """The registry's current names and factories: a replaced factory is not served from the cache."""
    return tuple((name, id(factory)) for name, factory in SCHEDULES.items())


@lru_cache(maxsize=4096)
def _from_text(spec: str, registry: tuple) -> Schedule:
    """A family or perfect-squares spec text read once: schedules are immutable and these facts are
    closed forms, so runs that give the same text share one object (its facts and value checks are
    decided once). Expression texts are not cached: their facts come from SymPy under a time limit,
    and an answer left undecided by a busy moment must not stick to the text for the process."""
    if _is_number(spec):
        return constant(float(spec))
    return _from_parsed(spec)


def _from_parsed(spec) -> Schedule:
    name, given = parse_spec(spec, kind="schedule")
    if name not in SCHEDULES:
        raise errors.unknown_name("schedule", name, SCHEDULES)
    parameters = _parameters(name)
    by_key = {p.name.lower(): p.name for p in parameters}
    accepted = ", ".join(p.name for p in parameters)
    if name == "expr":
        if BARE_KEY not in given:
            raise SpecError(f"schedule spec {spec!r}: write the expression after 'expr:', e.g. expr:0.1/k")
        return from_expr(given[BARE_KEY])
    kwargs = {}
    for key, value in given.items():
        if key == BARE_KEY:
            required = [p for p in parameters if p.default is inspect.Parameter.empty]
            if len(required) > 1:
                raise SpecError(f"schedule {name} needs key=value parameters ({accepted}), e.g. "
                                f"{name}:" + ",".join(f"{p.name}=..." for p in required))
            key = parameters[0].name
        canonical = by_key.get(key.lower())
        if canonical is None:
            raise SpecError(f"unknown parameter {key!r} for schedule {name}; accepted: {accepted}")
        kwargs[canonical] = value
    missing = [p.name for p in parameters if p.default is inspect.Parameter.empty and p.name not in kwargs]
    if missing:
        raise SpecError(f"schedule {name} is missing {', '.join(missing)} (parameters: {accepted})")
    return SCHEDULES[name](**kwargs)


get = from_spec


# ----------------------------------------------------------------------------- pair facts
def _series_of_product(step: Schedule, radius: Schedule) -> Fact:
    if step.asymptotic is not None and radius.asymptotic is not None:
        return step.asymptotic.times(radius.asymptotic).series()
    a, b = step.series_form(), radius.series_form()
    if a is None or b is None:
        return Fact(None, "undecided: no closed form or SymPy form for this pair")
    return decide_series(a * b)


def _with_perfect_squares(other: Schedule, squares: PerfectSquaresSchedule) -> Fact:
    """Σ t_k rho_k for Remark G.2's rho: C·Σ_j t_{j²} + C·Σ_{k not a square} t_k / k^p.

    For p ≥ 0 this converges iff A = Σ_j t_{j²} and B = Σ_k t_k k^{-p} both converge: B minus its
    square terms Σ_j t_{j²} j^{-2p} ≤ A is the non-square part. For p < 0, C·t_k ≤ t_k rho_k ≤ C·t_k k^{-p}.
    """
    if isinstance(other, PerfectSquaresSchedule):
        return Fact(False, "both sequences equal their C > 0 on every perfect square: infinitely many terms C·C'")
    term = other.series_form()
    if term is None:
        return Fact(None, "undecided: no closed form for the other schedule")
    weight = Asymptotic(1.0, exact(squares.p))
    if other.asymptotic is not None:
        at_squares, weighted = other.asymptotic.at_squares().series(), other.asymptotic.times(weight).series()
    else:
        at_squares = decide_series(term.subs(K, K ** 2))
        weighted = decide_series(term * K ** (-sp.Rational(exact(squares.p))))
    detail = f"Σ_j t_(j²): {at_squares.how}; Σ t_k/k^p: {weighted.how}"
    if squares.p < 0:
        if other.sum_diverges().value:
            return Fact(False, "rho_k ≥ C and Σ t_k = ∞")
        return Fact(True if weighted.value else None, "rho_k ≤ C/k^p; " + detail)
    if at_squares.value is False or weighted.value is False:
        return Fact(False, "split over squares and non-squares (Remark G.2); " + detail)
    if at_squares.value and weighted.value:
        return Fact(True, "split over squares and non-squares (Remark G.2); " + detail)
    return Fact(None, "undecided: " + detail)


def sum_product_converges(step, radius) -> Fact:
    """Whether Σ_k t_k rho_k < ∞ (conditions (8)/(11), with ε_k = L rho_k in Corollary 3.5).

    Closed form for the power/power-log families (exponent sum > 1, or = 1 with log power > 1), the
    Remark G.2 split for perfect squares, SymPy for expressions; None when undecided.
    """
    step, radius = from_spec(step), from_spec(radius)
    if step.is_zero or radius.is_zero:
        return Fact(True, "one of the sequences is identically 0")
    for one, other in ((step, radius), (radius, step)):
        if isinstance(one, PerfectSquaresSchedule):
            return _with_perfect_squares(other, one)
    return _series_of_product(step, radius)


def _tail_of_product(step: Schedule, radius: Schedule):
    """Closed form of Σ_{i≥k} t_i rho_i up to a bounded factor, or None."""
    if radius.asymptotic is not None:
        return step.asymptotic.times(radius.asymptotic).tail()
    if isinstance(radius, PerfectSquaresSchedule) and radius.p >= 0:
        # squares: C·Σ_{j≥√k} t_{j²} ~ C·c'·(√k)^{-e}(log √k)^{-l}; non-squares: between B-tail − that
        # and B-tail, so the whole tail is within a factor 2 of the larger of the two
        in_j = step.asymptotic.at_squares().tail()
        squares = Asymptotic(radius.C * in_j.coef * 2.0 ** float(in_j.log_power), in_j.power / 2, in_j.log_power)
        rest = step.asymptotic.times(Asymptotic(radius.C, exact(radius.p))).tail()
        return squares.dominant(rest)
    return None


def kl_condition_9(step, radius, q: float) -> Fact:
    """Condition (9) of Theorem 3.3(iii): Σ_k t_k [φ'(Σ_{i≥k} t_i ε_i)]^{-1} < ∞ with φ(s) = M s^{1−q}.

    ε_k = L rho_k (Corollary 3.5); L and M only scale the terms. [φ'(s)]^{-1} = s^q / (M(1−q)), so with
    t_k ~ c k^{-a} and the tail Σ_{i≥k} t_i rho_i ~ k^{1−a−b} (rho_k ~ C k^{-b}, a + b > 1) the terms
    behave like k^{-a + q(1−a−b)}: (9) holds iff a − q(1 − a − b) > 1 (log powers as in Bertrand's rule).
    Decided for a power-family step with a power-family or perfect-squares radius; None otherwise.
    """
    q_exact = exact(_real("kl_condition_9", "q", q, nonnegative=True))
    if q_exact >= 1:
        raise SpecError(f"KL exponent q must satisfy 0 ≤ q < 1, got {q!r}")
    step, radius = from_spec(step), from_spec(radius)
    summable = sum_product_converges(step, radius)
    if summable.value is False:
        return Fact(False, "Σ t_k ε_k = ∞, so the tail sums in (9) are infinite; " + summable.how)
    if summable.value is None or step.asymptotic is None:
        return Fact(None, "undecided: (9) is decided in closed form only for power-family steps")
    tail = _tail_of_product(step, radius)
    if tail is None:
        return Fact(None, "undecided: no closed form for the tail sums of this radius")
    terms = step.asymptotic.times(tail.to_power(q_exact))
    verdict = terms.series()
    return Fact(verdict.value, f"tail Σ_(i≥k) t_i ρ_i ≍ {tail.describe()}, [φ'(s)]^-1 ∝ s^{float(q_exact):g}; "
                               f"terms ≍ {terms.describe()}: {verdict.how}")
