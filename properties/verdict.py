"""Verdicts, the certificate, and the implication check between the five properties.

Implications (design.md, paper Table 1): P5 ⇒ P3 ⇒ P2, P5 ⇒ P4, P3 ⇒ P1 (a limit 0 is a liminf 0),
and P2 ⇒ P1 when {x^k} is bounded. :func:`enforce_implications` propagates decided verdicts along
them (A holds ⇒ B holds; B fails ⇒ A fails), fills inconclusive verdicts it can derive (recording
"implied by"), and reports any contradiction (A holds while B fails): such a set is a bug of the
checkers, never a property of the run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from convcheck.jsonable import jsonable

PROPERTIES = {
    "P1": "liminf ‖∇f(x^k)‖ = 0",
    "P2": "every accumulation point of {x^k} is stationary",
    "P3": "lim ‖∇f(x^k)‖ = 0",
    "P4": "f(x^k) → f(x̄) for a stationary accumulation point x̄",
    "P5": "x^k converges to a stationary point",
}
STATUSES = ("holds", "fails", "inconclusive")


class InconsistentVerdicts(RuntimeError):
    """The five verdicts contradict an implication between the properties (a checker bug)."""


@dataclass
class Verdict:
    """One property's verdict: ``status`` in :data:`STATUSES`, a one-sentence ``reason``, the numbers
    behind it (``evidence``), and for a property that holds the observed ``rate`` (or None)."""

    status: str
    reason: str
    evidence: dict = field(default_factory=dict)
    rate: Optional[dict] = None
    implied_by: Optional[str] = None

    def to_dict(self) -> dict:
        return json_ready({"status": self.status, "reason": self.reason, "evidence": self.evidence,
                           "rate": self.rate, "implied_by": self.implied_by})


@dataclass
class Certificate:
    """The five verdicts of one run, with the scales and thresholds they were decided with."""

    verdicts: dict
    evidence: dict
    consistency: dict
    options: dict

    def __getitem__(self, key: str) -> Verdict:
        return self.verdicts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.verdicts)

    def items(self):
        return self.verdicts.items()

    @property
    def summary(self) -> dict:
        return {key: v.status for key, v in self.verdicts.items()}

    def to_dict(self) -> dict:
        """JSON-ready: plain floats and lists, non-finite numbers as the strings "inf", "-inf", "nan"."""
        return json_ready({"summary": self.summary,
                           "verdicts": {key: v.to_dict() for key, v in self.verdicts.items()},
                           "evidence": self.evidence, "consistency": self.consistency,
                           "options": self.options})

    def __str__(self) -> str:
        rows = [("property", "statement", "verdict", "rate", "reason")]
        for key, v in self.verdicts.items():
            rows.append((key, PROPERTIES[key], v.status, _rate_text(v.rate), v.reason))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = []
        for r in rows:
            lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
        lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
        run = self.evidence.get("run", {})
        head = (f"certificate: K = {run.get('k_last')}, n = {run.get('dim')}, status {run.get('status')}; "
                f"implications {'consistent' if self.consistency.get('ok') else 'INCONSISTENT'}")
        return head + "\n" + "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Certificate {' '.join(f'{k}={v}' for k, v in self.summary.items())}>"


def _rate_text(rate: Optional[dict]) -> str:
    if not rate:
        return "-"
    if rate.get("model") == "linear":
        return f"linear q={rate['factor']:.4g} (R²={rate['r2']:.3f})"
    if rate.get("model") == "power":
        return f"k^-{rate['exponent']:.3g} (R²={rate['r2']:.3f})"
    return str(rate.get("model", "-"))


IMPLICATIONS = (("P5", "P3", None), ("P3", "P2", None), ("P5", "P4", None), ("P3", "P1", None),
                ("P2", "P1", "bounded"))


def enforce_implications(verdicts: dict, bounded: bool) -> dict:
    """Propagate the implications and report contradictions; returns the ``consistency`` record.

    Parameters
    ----------
    verdicts : key -> :class:`Verdict`, modified in place where a verdict is implied.
    bounded : whether the run's iterates were found bounded (enables P2 ⇒ P1).
    """
    checked, derived, violations = [], [], []
    changed = True
    while changed:
        changed = False
        for a, b, condition in IMPLICATIONS:
            if condition == "bounded" and not bounded:
                continue
            va, vb = verdicts[a], verdicts[b]
            if va.status == "holds" and vb.status == "inconclusive":
                vb.status, vb.implied_by = "holds", a
                vb.reason = f"implied by {a} ({PROPERTIES[a]} holds); direct check: {vb.reason}"
                derived.append(f"{b} holds because {a} holds")
                changed = True
            elif vb.status == "fails" and va.status == "inconclusive":
                va.status, va.implied_by = "fails", b
                va.reason = f"implied by {b} failing ({PROPERTIES[b]} fails); direct check: {va.reason}"
                derived.append(f"{a} fails because {b} fails")
                changed = True
    for a, b, condition in IMPLICATIONS:
        label = f"{a} ⇒ {b}" + (" (bounded run)" if condition else "")
        if condition == "bounded" and not bounded:
            checked.append({"implication": label, "applies": False, "ok": True})
            continue
        ok = not (verdicts[a].status == "holds" and verdicts[b].status == "fails")
        checked.append({"implication": label, "applies": True, "ok": ok})
        if not ok:
            violations.append(f"{a} holds but {b} fails")
    return {"ok": not violations, "checked": checked, "derived": derived, "violations": violations}


def json_ready(obj: Any) -> Any:
    """JSON-safe form of certificate data (non-finite floats as "nan"/"inf"/"-inf" strings)."""
    return jsonable(obj, nonfinite="string")
