"""Which of the paper's results apply to a problem, method and schedules, and what they predict.

``applicable(problem, method, step, radius=None, x0=None) -> list[Applicability]``

Every result of :data:`.registry.RESULTS` is decided hypothesis by hypothesis (:mod:`.hypotheses`,
:mod:`.counterexamples`). A result *applies* when all its hypotheses hold (True), does not when one
fails (False), and is undecided (None) otherwise; an undecided result predicts nothing and says which
hypothesis could not be decided. Each part of an applying result adds its own hypotheses; its
conclusions enter ``predicted`` only when those hold too (otherwise the part is listed with its
reason). ``predicted`` maps P1–P5 to "holds" or "fails"; Theorem 4.1(v) / 4.2(v) add a rate
prediction, and the bound of Dai et al. 2023 its parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from convcheck import methods as methods_module
from convcheck import schedules as schedules_module
from convcheck.errors import InputError

from . import counterexamples as ex
from . import hypotheses as hy
from .hypotheses import Decision, Setting
from .registry import HYPOTHESES, RESULTS, RESULTS_BY_KEY, Result


@dataclass
class PartOutcome:
    """One part of a result: whether its own hypotheses hold, and what it predicts if so."""

    label: str
    statement: str
    applies: Optional[bool]
    predicted: dict
    reason: str

    def to_dict(self) -> dict:
        return {"label": self.label, "statement": self.statement, "applies": self.applies,
                "predicted": dict(self.predicted), "reason": self.reason}


@dataclass
class Applicability:
    """A result decided on one setting.

    Attributes
    ----------
    result : registry key (``"corollary-3.5"``); ``number``, ``title``, ``statement`` from the registry.
    hypotheses : [(statement, Decision)] for the result's hypotheses and then those of its parts.
    applies : True / False / None (undecided: no prediction).
    predicted : {"P3": "holds", ...} from the parts whose hypotheses hold.
    parts : :class:`PartOutcome` per part.
    rate : Theorem 4.1(v) prediction {"q", "model": "linear"|"power", "exponent_x", "exponent_f"} or None.
    bound : Dai et al. 2023 parameters (see :func:`.counterexamples.dai_bound`) or None.
    checks : run-time checks on the trace asked for by applying parts.
    reason : one sentence.
    """

    result: str
    number: str
    title: str
    statement: str
    kind: str
    hypotheses: list
    applies: Optional[bool]
    predicted: dict
    parts: list
    rate: Optional[dict] = None
    bound: Optional[dict] = None
    checks: list = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict:
        return {"result": self.result, "number": self.number, "title": self.title, "statement": self.statement,
                "kind": self.kind, "applies": self.applies, "predicted": dict(self.predicted),
                "hypotheses": [{"hypothesis": name, **d.to_dict()} for name, d in self.hypotheses],
                "parts": [p.to_dict() for p in self.parts], "rate": self.rate, "bound": self.bound,
                "checks": list(self.checks), "reason": self.reason}


def _combine(decisions: list) -> Optional[bool]:
    values = [d.value for d in decisions]
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _why_not(named: list) -> str:
    failed = [f"{name} ({d.how})" for name, d in named if d.value is False]
    if failed:
        return "violated: " + "; ".join(failed)
    undecided = [f"{name} ({d.how})" for name, d in named if d.value is None]
    return "undecided, so no prediction: " + "; ".join(undecided)


def kl_rate(q: float) -> dict:
    """Theorem 4.1(v): linear for q ∈ (0, ½]; for q ∈ (½, 1) ‖x^k − x̄‖, ‖∇f(x^k)‖ = O(k^{−(1−q)/(2q−1)})
    and f(x^k) − f(x̄) = O(k^{−2(1−q)/(2q−1)}). The power exponents are upper bounds on the decay order."""
    if q <= 0.5:
        return {"q": q, "model": "linear", "of": "‖x^k − x̄‖, f(x^k) − f(x̄), ‖∇f(x^k)‖"}
    e = (1 - q) / (2 * q - 1)
    return {"q": q, "model": "power", "exponent_x": e, "exponent_grad": e, "exponent_f": 2 * e,
            "of": "O(k^-exponent): observed decay at least this fast"}


def decide_result(result: Result, setting: Setting, cache: Optional[dict] = None) -> Applicability:
    """Decide one result on one setting (``cache`` shares hypothesis decisions between results)."""
    cache = {} if cache is None else cache

    def decide(key: str) -> Decision:
        if key not in cache:
            cache[key] = HYPOTHESES[key].check(setting)
        return cache[key]

    base = [(HYPOTHESES[k].statement, decide(k)) for k in result.hypotheses]
    applies = _combine([d for _, d in base])
    named = list(base)
    parts, predicted, checks = [], {}, []
    rate = bound = None
    for part in result.parts:
        own = [(HYPOTHESES[k].statement, decide(k)) for k in part.hypotheses]
        named += [item for item in own if item[0] not in {n for n, _ in named}]
        part_applies = _combine([d for _, d in base + own])
        outcome = {**{p: "holds" for p in part.holds}, **{p: "fails" for p in part.fails}}
        if part_applies:
            predicted.update(outcome)
            checks += list(part.checks)
            if part.rate == "kl":
                rate = kl_rate(hy.kl_exponent(setting)[0])
            if part.bound == "dai2023":
                bound = ex.dai_bound(setting)
            reason = "hypotheses hold"
        else:
            reason = _why_not(base + own)
        parts.append(PartOutcome(part.label, part.statement, part_applies, outcome if part_applies else {}, reason))
    if applies:
        conditional = [p.label for p in parts if not p.applies]
        reason = "all hypotheses hold" + (f"; parts {', '.join(conditional)} make no prediction (see parts)"
                                          if conditional else "")
    else:
        reason = _why_not(base)
    return Applicability(result.key, result.number, result.title, result.statement, result.kind, named,
                         applies, predicted, parts, rate, bound, checks, reason)


def _as_setting(problem, method, step, radius, x0) -> Setting:
    if isinstance(problem, str):
        from convcheck import problems as problems_module
        problem = problems_module.get(problem)
    if not hasattr(problem, "meta"):
        raise InputError(f"problem must be a convcheck Problem or a spec string, got {type(problem).__name__}")
    method = methods_module.get(method)
    step = schedules_module.from_spec(step)
    radius = schedules_module.from_spec(radius) if radius is not None else None
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float).reshape(-1)
        if x0.shape != (problem.dim,):
            raise InputError(f"x0 must have shape ({problem.dim},), got {x0.shape}")
    return Setting(problem, method, step, radius, x0)


def applicable(problem, method, step, radius=None, x0=None, *, include_all: bool = False,
               results=None) -> list:
    """The paper's results whose hypotheses hold (or are undecided), with every hypothesis decided.

    Parameters
    ----------
    problem : Problem or catalogue spec string (``"logsum:n=20,seed=0"``).
    method : Method or spec string (``"sam"``, ``"vasso:theta=0.9"``).
    step, radius : Schedule, number or spec string (``"power:c=0.1,p=1"``); radius may be None.
    x0 : the initial point x¹ (only the examples' hypotheses use it; without it they are undecided).
    include_all : also return the results that do not apply (``applies`` False).
    results : restrict to these registry keys.

    Returns
    -------
    list of :class:`Applicability`, in registry order: ``applies`` True (with ``predicted``) or None
    (undecided: listed with the reason, no prediction); False only with ``include_all``.
    """
    setting = _as_setting(problem, method, step, radius, x0)
    chosen = RESULTS if results is None else tuple(RESULTS_BY_KEY[k] for k in results)
    cache: dict = {}
    out = []
    for result in chosen:
        # a result that does not apply is listed only with include_all
        decided = decide_result(result, setting, cache)
        if include_all or decided.applies is not False:
            out.append(decided)
    return out


def f_eventually_nonincreasing(trace, start_fraction: float = 0.5, round_off_factor: float = 100.0) -> dict:
    """Theorem 4.1(ii): f(x^{k+1}) ≤ f(x^k) over the last half of the recorded steps, to round-off.

    An increase counts only above the f floor of the certifier: round_off_factor·ε·(max |f| on the
    checked steps + (max f − min f) over the run), the resolution of f itself.
    """
    f = np.asarray(trace.f, dtype=float)
    f = f[np.isfinite(f)]
    tail = f[int(len(f) * start_fraction):]
    if len(tail) < 2:
        return {"holds": None, "note": "too few recorded values"}
    floor = round_off_factor * np.finfo(float).eps * (float(np.max(np.abs(tail))) + float(np.ptp(f)))
    rises = np.diff(tail) > floor
    return {"holds": not bool(rises.any()), "increases": int(rises.sum()), "checked_steps": int(len(tail) - 1),
            "largest_increase": float(np.max(np.diff(tail))), "floor": floor}


RUN_CHECKS = {"f_eventually_nonincreasing": f_eventually_nonincreasing}

__all__ = ["applicable", "Applicability", "PartOutcome", "Decision", "decide_result", "kl_rate",
           "f_eventually_nonincreasing", "RUN_CHECKS", "RESULTS", "HYPOTHESES"]
