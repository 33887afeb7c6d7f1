"""The theorem study behind ``convcheck theorems``: every result, run on catalogue problems, certified.

For each configuration of :data:`CASES` the study decides the target result with
:func:`.theorems.applicable` (a configuration whose target result does not apply is a bug of this
list and raises), runs all configurations batched with :func:`convcheck.sweep` (runs sharing a
problem instance, method and length form one (B, n) array program), certifies each trace, and
compares prediction with observation per property:

- "consistent": every predicted property observed as predicted (and the rate / bound / run-time
  checks of the result pass);
- "contradiction": some predicted property observed the opposite way (or a check fails);
- "inconclusive": otherwise (a predicted property undecided by the certificate).

Configurations (``CASES``; problems from the catalogue, x¹ as named in ``start``):

- Theorem 3.2 (SAM, convex, Σt² < ∞): quadratic and x2 (unique minimizer) with t_k = c/k^0.6,
  ρ_k = C/k^0.7; flat_ball (ball of minimizers) and quadratic_singular (affine minimizers) with a
  constant ρ. (With a constant ρ and a unique minimizer SAM oscillates with steps ~ t_kρL, whose sum
  diverges; the certifier leaves P5 undecided there, so those rows use a decreasing ρ; the tests
  check the constant-ρ case against the known minimizer.)
- Theorem 3.3 (IGD with absolute errors ε_k): "opposite" error on logsum (two nonconvex instances),
  logsum_under (affine minimizers) and quadratic, "random" error on the logsum instances;
  t_k = c/k^0.55, ε_k = C/k^0.7 (exponents summing to ≥ 1.25 make the path length decidably
  summable); on the quadratic t_k = 1.5/k, so that condition (9) holds and P5 is predicted.
- Corollary 3.5 (SAM, RSAM, VaSSO, F-SAM): the same problems and schedules. At the --quick length the
  certificate's floor-model comparison does not reject a level of half the newest window maximum of
  ‖∇f‖ on the log-sum rows (oscillation ∝ ρ_k), nor of the minima with random directions: those rows
  declare P2, P3 (and P1, P4, with random directions; all five for RSAM on the quadratic) ``undecidable``.
- Appendix E (the paper's own nonconvex experiment): the log-sum with square A (rank A = m = n, so its
  stationary set is the minimizer set {x^∞} and q = ½ there), n = 2, started at Appendix E's
  x¹ = x^∞ + (0.1/n²)·1. Corollary 3.5(iii) (SAM, VaSSO, RSAM, F-SAM) and Theorem 3.3(iii) (IGD) with
  t_k = 1/k and ρ_k = 0.1/k (the paper's p = 1; its t_k = (0.1/n)/k makes the decay k^{−0.05λ}, too
  slow to certify in any affordable run, so the step constant is 1): P1–P5 predicted; 2·10⁴ steps, 8·10⁴
  for F-SAM, whose gradient average bends ‖∇f‖ so that at 2·10⁴ steps a floor of 14% of the newest
  window maximum fits better than a decay to zero. (With the paper's
  p = 0.1 or 0.001 the path length Σ t_kρ_k converges too slowly for P5 to be decided, so those rows
  would only be inconclusive; the remarks' rows cover those radii.) Theorem 4.1(v) / 4.2(v) with
  constant steps: linear rates of ‖x^k − x̄‖, ‖∇f(x^k)‖ and f(x^k) − f(x̄) predicted and compared.
- Theorem 4.1 (GD, IGDr ν = 0.5): constant steps on logsum, descent_only (L-descent only), quadratic
  (linear rate, q = ½), soft_quartic (global L = 2√2, q = ¾: the power rates k^{−½} for ‖x^k − x̄‖ and
  ‖∇f‖, k^{−1} for f − f*).
- Theorem 4.2 (USAM, extragradient): constant steps and radii ρ < 1/L on logsum, logsum_under, quadratic,
  soft_quartic.
- Example 3.1: the example31 instances (n = 1, 2, 5) with their admissible t, ρ, x¹.
- Example 3.4: x2 with three (ρ, x¹, t_k) choices.
- Remark 3.6: SAM and VaSSO, t_k = c/k, ρ_k = 0.1/k^0.001 on logsum, logsum_under, flat_ball. On the
  square log-sum P5 is predicted (unique stationary point), but the oscillation's path length
  Σ t_kρ_k ~ Σ k^-1.001 is not decidably finite in any affordable run: those rows declare P5
  ``undecidable`` (an inconclusive P5 is expected there; a "fails" would still be a contradiction).
- Remark G.2: SAM and VaSSO, t_k = c/k, the perfect-squares ρ_k (p = ½) on logsum, logsum_under, quadratic.
- Dai et al. 2023: SAM with constant t ≤ 1/L, ρ on quadratic, quadratic_1d and x2.

Rates (Theorem 4.1(v) / 4.2(v), :func:`rate_agreement`): each of the three stated rates is compared
with the certificate's fitted rate of the same quantity (P5: ‖x^k − x̄‖, P3: ‖∇f(x^k)‖, P4:
|f(x^k) − f(x̄)|). The stated rates are upper bounds on the error, so a faster observed decay agrees.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

from convcheck import problems as problems_module
from convcheck.runner import sweep

from .certify import certify
from .counterexamples import check_dai_bound
from .hypotheses import lipschitz_constant
from .theorems import RUN_CHECKS, applicable
from .verdict import json_ready

OPPOSITE = {"holds": "fails", "fails": "holds"}


@dataclass(frozen=True)
class Case:
    """One configuration of the study; ``iters`` at the default size, ``quick`` at --quick."""

    result: str
    problem: str
    method: object           # a spec string, or a Method (a user's declared variant)
    step: str
    radius: Optional[str]
    iters: int
    quick: int
    start: str = "min+0.5"   # "min+<offset>", "ones", "example31", "x=<value>", "appendixE"
    seed: int = 0
    # predicted properties known to stay undecided at this length (documented per row): inconclusive
    # there is expected, a contradiction never is
    undecidable: tuple = ()


def _cases() -> tuple:
    c = []
    # Theorem 3.2: SAM, convex, Σ t² < ∞, constant radius
    for prob, step, rho in (("quadratic:n=10,cond=4", "power:c=0.2,p=0.6", "power:c=0.1,p=0.7"),
                            ("flat_ball:n=2", "power:c=0.4,p=0.6", "constant:0.1"),
                            ("quadratic_singular:n=4,rank=2,cond=2", "power:c=0.3,p=0.6", "constant:0.1"),
                            ("x2", "power:c=0.2,p=0.6", "power:c=0.2,p=0.7")):
        c.append(Case("theorem-3.2", prob, "sam", step, rho, 40000, 20000, "min+1.5" if "flat" in prob else "min+0.5"))
    # Theorem 3.3 and Corollary 3.5: nonconvex logsum instances, affine minimizers, a convex quadratic.
    # Exponents 0.55 + 0.7 ≥ 1.25 make the oscillation's path length Σ t_k ρ_k summable within the run.
    grid = (("logsum:n=2,seed=1", "power:c=0.4,p=0.55", "power:c=0.3,p=0.7"),
            ("logsum:n=5,m=10", "power:c=0.04,p=0.55", "power:c=0.02,p=0.7"),
            ("logsum_under:n=4,m=2", "power:c=0.25,p=0.55", "power:c=0.1,p=0.7"),
            ("quadratic:n=10,cond=4", "power:c=1.5,p=1", "power:c=0.1,p=0.7"))
    # At the --quick length the window maxima of ‖∇f‖ of these oscillating runs (∝ ρ_k plus the
    # oscillation) do not let the certificate's floor-model comparison reject a level of half the newest
    # value; with random directions the window minima do not either. Those properties are documented as
    # undecided there (a "fails" would still be a contradiction).
    def open_keys(prob, method):
        noisy = "random" in method or method.startswith("rsam")
        if prob.startswith("quadratic"):
            return ("P1", "P2", "P3", "P4", "P5") if noisy else ()
        return ("P1", "P2", "P3", "P4") if noisy else ("P2", "P3")
    for prob, step, rho in grid:
        for method in ("igd",) + (("igd:error=random",) if "logsum" in prob else ()):
            c.append(Case("theorem-3.3", prob, method, step, rho, 40000, 20000, undecidable=open_keys(prob, method)))
        for method in ("sam", "rsam:sigma=0.01", "vasso:theta=0.5", "fsam:sigma=0.5,lam=0.9"):
            c.append(Case("corollary-3.5", prob, method, step, rho, 40000, 20000, undecidable=open_keys(prob, method)))
    # Appendix E: the paper's log-sum (square A) from the paper's x¹, under Theorem 3.3(iii) / Corollary 3.5(iii)
    # F-SAM's gradient average bends ‖∇f‖ at 2·10⁴ steps so that a floor of 14% of the newest window
    # maximum fits better than a decay (P2, P3, P5 inconclusive there); from 8·10⁴ steps it is decided
    for method in ("igd", "sam", "vasso:theta=0.5", "rsam:sigma=0.01", "fsam:sigma=0.5,lam=0.9"):
        result = "theorem-3.3" if method == "igd" else "corollary-3.5"
        length = 80000 if method.startswith("fsam") else 20000
        c.append(Case(result, "logsum:n=2,seed=1", method, "power:c=1,p=1", "power:c=0.1,p=1", length, length,
                      "appendixE"))
    for method, step, rho in (("gd", "constant:0.2", None), ("usam", "constant:0.2", "constant:0.05"),
                              ("extragradient", "constant:0.2", "constant:0.05")):
        c.append(Case("theorem-4.1" if method == "gd" else "theorem-4.2", "logsum:n=2,seed=1", method, step, rho,
                      4000, 2000, "appendixE"))
    # Theorem 4.1(v) / 4.2(v) with q = ¾ and a global L: the power rates
    for method, rho in (("gd", None), ("igdr:nu=0.2,error=random", None), ("usam", "constant:0.1"),
                        ("extragradient", "constant:0.1")):
        c.append(Case("theorem-4.1" if rho is None else "theorem-4.2", "soft_quartic:n=2", method, "constant:0.3",
                      rho, 20000, 10000, "min+0.5"))
    # Theorem 4.1: exact gradient (ν = 0) and relative error ν = 0.5, constant steps
    for prob, step_gd, step_igdr in (("logsum:n=2,seed=1", "constant:0.3", "constant:0.08"),
                                     ("descent_only:n=2", "constant:0.5", "constant:0.2"),
                                     ("quadratic:n=10,cond=4", "constant:0.3", "constant:0.1")):
        c.append(Case("theorem-4.1", prob, "gd", step_gd, None, 8000, 4000))
        c.append(Case("theorem-4.1", prob, "igdr:nu=0.5,error=random", step_igdr, None, 8000, 4000))
    # Theorem 4.2: USAM and extragradient, ρ < 1/L
    for prob, step, rho in (("logsum:n=2,seed=1", "constant:0.15", "constant:0.05"),
                            ("logsum_under:n=4,m=2", "constant:0.1", "constant:0.05"),
                            ("quadratic:n=10,cond=4", "constant:0.1", "constant:0.1")):
        for method in ("usam", "extragradient"):
            c.append(Case("theorem-4.2", prob, method, step, rho, 8000, 4000))
    # counterexamples
    for prob in ("example31:n=1", "example31:n=2", "example31:n=5,lam_max=1.8"):
        c.append(Case("example-3.1", prob, "sam", "example31", "example31", 8000, 4000, "example31"))
    for rho, x1, step in (("constant:0.3", "x=1.0", "power:c=0.25,p=1"), ("constant:0.1", "x=-2.0", "power:c=0.4,p=0.7"),
                          ("constant:0.5", "x=0.8", "power:c=0.45,p=1")):
        c.append(Case("example-3.4", "x2", "igd:error=example34", step, rho, 40000, 20000, x1))
    # remarks: admissible radius schedules with t_k = c/k
    for prob, step, C in (("logsum:n=2,seed=1", "power:c=3,p=1", 0.1), ("flat_ball:n=2", "power:c=1.5,p=1", 0.1),
                          ("logsum_under:n=4,m=2", "power:c=3,p=1", 0.1)):
        start = "min+1.5" if "flat" in prob else "min+0.5"
        # on the square log-sum P5 is predicted (stationary set = {x^∞}) but SAM's oscillation has path
        # length ~ Σ t_kρ_k ~ Σ k^-1.001 per run: no affordable run decides it
        open_p5 = ("P5",) if prob.startswith("logsum:") else ()
        for method in ("sam", "vasso:theta=0.5"):
            c.append(Case("remark-3.6", prob, method, step, f"almost_constant:C={C}", 40000, 20000, start,
                          undecidable=open_p5))
    for prob, step, C in (("logsum:n=2,seed=1", "power:c=3,p=1", 0.1), ("quadratic:n=10,cond=4", "power:c=1.5,p=1", 0.1),
                          ("logsum_under:n=4,m=2", "power:c=3,p=1", 0.1)):
        for method in ("sam", "vasso:theta=0.5"):
            c.append(Case("remark-G.2", prob, method, step, f"perfect_squares:C={C},p=0.5", 40000, 20000))
    # Dai et al. 2023
    for prob, step, rho in (("quadratic:n=10,cond=4", "constant:0.2", "constant:0.1"),
                            ("quadratic_1d:lam=2,b=1", "constant:0.3", "constant:0.2"),
                            ("x2", "constant:0.25", "constant:0.1")):
        c.append(Case("dai-2023", prob, "sam", step, rho, 4000, 2000))
    return tuple(c)


CASES: tuple = _cases()


@dataclass
class Row:
    """One configuration's outcome (``trace`` kept for plotting; not in :meth:`to_dict`)."""

    case: Case
    problem_key: str
    applicability: object
    predicted: dict
    observed: dict
    verdict: str
    details: list
    certificate: object
    trace: object
    seconds: float = 0.0

    @property
    def result(self) -> str:
        return self.case.result

    def to_dict(self) -> dict:
        a = self.applicability
        return json_ready({"result": self.case.result, "number": a.number, "problem": self.problem_key,
                           "method": getattr(self.case.method, "spec", self.case.method), "step": a_step(self), "radius": a_radius(self),
                           "iters": self.trace.last_k, "predicted": self.predicted, "observed": self.observed,
                           "verdict": self.verdict, "details": self.details, "rate": a.rate, "bound": a.bound,
                           "applicability": a.to_dict(), "certificate": self.certificate.to_dict()})


def a_step(row: Row) -> str:
    return row.trace.metadata.get("step", {}).get("spec", row.case.step) if row.trace.metadata else row.case.step


def a_radius(row: Row) -> Optional[str]:
    meta = row.trace.metadata or {}
    radius = meta.get("radius")
    return radius.get("spec") if isinstance(radius, dict) else row.case.radius


@dataclass
class Study:
    rows: list
    quick: bool
    seconds: float

    @property
    def contradictions(self) -> list:
        return [r for r in self.rows if r.verdict == "contradiction"]

    @property
    def inconclusive(self) -> list:
        return [r for r in self.rows if r.verdict == "inconclusive"]

    def to_dict(self) -> dict:
        return {"quick": self.quick, "seconds": self.seconds, "configurations": len(self.rows),
                "contradictions": len(self.contradictions), "inconclusive": len(self.inconclusive),
                "rows": [r.to_dict() for r in self.rows]}


def _start(problem, case: Case, params: dict) -> np.ndarray:
    if case.start == "example31":
        return np.asarray(params["x1"], dtype=float)
    if case.start.startswith("x="):
        return np.full(problem.dim, float(case.start[2:]))
    if case.start == "ones":
        return np.ones(problem.dim)
    if case.start == "appendixE":
        return problem.appendix_e_start()
    offset = float(case.start.split("+")[1])
    centre = problem.meta.minimizer.points[0]
    return np.asarray(centre, dtype=float) + offset * np.ones(problem.dim)


def prepare(case: Case, quick: bool) -> dict:
    """The sweep configuration of a case, with its Example 3.1 parameters resolved."""
    problem = problems_module.get(case.problem)
    step, radius = case.step, case.radius
    params = problem.example31_parameters() if case.start == "example31" else {}
    if step == "example31":
        step, radius = f"constant:{params['t']!r}", f"constant:{params['rho']!r}"
    return dict(problem=problem, method=case.method, x0=_start(problem, case, params),
                iters=case.quick if quick else case.iters, step=step, radius=radius, seed=case.seed)


def compare(app, cert, trace, allowed_open: tuple = ()) -> tuple:
    """(verdict, details) of one run: predicted properties against the certificate, plus checks.

    ``allowed_open``: predicted properties that may stay inconclusive without making the row so
    (a case's documented ``undecidable``)."""
    details, opposite, undecided = [], [], []
    for key, expected in app.predicted.items():
        seen = cert[key].status
        if seen == expected or (seen == "inconclusive" and key in allowed_open):
            continue
        (opposite if seen == OPPOSITE[expected] else undecided).append(key)
        details.append(f"{key}: predicted {expected}, observed {seen} ({cert[key].reason})")
    for name in app.checks:
        outcome = RUN_CHECKS[name](trace)
        if outcome["holds"] is False:
            opposite.append(name)
            details.append(f"{name} fails: {outcome}")
    if app.bound is not None:
        outcome = check_dai_bound(app.bound, trace)
        if not outcome["holds"]:
            opposite.append("bound")
        details.append(f"bound {'holds' if outcome['holds'] else 'violated'} at {outcome['checked_iterates']} "
                       f"iterates (max lhs/rhs = {outcome['max_lhs_over_rhs']:.3g})")
    if app.rate is not None:
        verdict, text = rate_agreement(app.rate, cert)
        details.append(text)
        (opposite if verdict == "contradiction" else undecided if verdict == "inconclusive" else []).append("rate")
    if opposite:
        return "contradiction", details
    return ("inconclusive" if undecided else "consistent"), details


def audit_declaration(config: dict, trace, verdict: str, details: list) -> tuple:
    """A method whose steps break the error bound its declaration states (convcheck.declarations.audit,
    at the recorded iterates) is a contradiction: the prediction rested on a false declaration."""
    from convcheck import methods as methods_module
    from convcheck.declarations import audit, audit_recorded, declaration_of

    L, _ = lipschitz_constant(config["problem"].meta)
    if L is None or trace.status == "failed":
        return verdict, details
    method = methods_module.get(config["method"])
    if getattr(method, "runnable", True):
        outcome = audit(method, config["problem"], trace, L)
    else:   # a user's method known from a trace file only: audited on the steps it recorded
        outcome = audit_recorded(declaration_of(method), config["problem"], trace, L)
    if outcome["holds"] is False:
        return "contradiction", details + [f"the method breaks its declared error bound at recorded iterates "
                                           f"(max ‖g − ∇f‖ / bound = {outcome['worst_ratio']:.3g}; {outcome['note']})"]
    return verdict, details


RATE_QUANTITIES = (("P5", "x", "‖x^k − x̄‖"), ("P3", "grad", "‖∇f(x^k)‖"), ("P4", "f", "f(x^k) − f(x̄)"))


def rate_agreement(predicted: dict, cert) -> tuple:
    """Theorem 4.1(v) / 4.2(v): each stated rate against the certificate's fitted rate of that quantity.

    Linear prediction (q ≤ ½): the fit (or its alternative with R² > 0.9) is linear with factor < 1.
    Power prediction O(k^−e) (q ∈ (½, 1)): an observed power exponent ≥ 0.8·e, or a linear rate (faster
    than any power). A quantity whose property is not certified "holds", or that has no fitted rate, is
    inconclusive; the verdict is the worst of the three (contradiction > inconclusive > consistent).
    """
    verdict = cert["P5"]
    if verdict.status == "holds" and verdict.implied_by is None and verdict.rate is None \
            and "finite termination" in verdict.reason:
        return "consistent", "rate: finite termination"
    verdicts, texts = [], []
    for key, name, label in RATE_QUANTITIES:
        one, text = _one_rate(predicted, name, cert[key])
        verdicts.append(one)
        texts.append(f"{label}: {text}")
    if all(v == "inconclusive" for v in verdicts) and cert.evidence.get("run", {}).get("status") == "stationary":
        return "consistent", "rate: the run stopped at a stationary point"
    worst = "contradiction" if "contradiction" in verdicts else "inconclusive" if "inconclusive" in verdicts \
        else "consistent"
    return worst, "rate: " + "; ".join(texts)


def _one_rate(predicted: dict, name: str, verdict) -> tuple:
    if verdict.status != "holds":
        return "inconclusive", f"not certified ({verdict.status}), no observed rate"
    observed = verdict.rate
    if observed is None:
        return "inconclusive", "no rate fitted (values at round-off from the start of the tail)"
    linear = observed["model"] == "linear" and observed["factor"] < 1
    alt = observed.get("alternative", {})
    linear = linear or (alt.get("model") == "linear" and alt.get("factor", 1) < 1 and alt.get("r2", 0) > 0.9)
    shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in observed.items() if k in
             ("model", "factor", "exponent", "r2")}
    if predicted["model"] == "linear":
        return ("consistent" if linear else "contradiction"), f"predicted linear, observed {shown}"
    expected = predicted[f"exponent_{name}"]
    ok = observed["model"] == "linear" or observed["exponent"] >= 0.8 * expected
    return ("consistent" if ok else "contradiction"), f"predicted O(k^-{expected:.3g}), observed {shown}"


def run_study(quick: bool = False, progress: bool = False, cases=None, scheduler=None) -> Study:
    """Run every configuration of ``cases`` (default :data:`CASES`); see the module docstring.
    ``scheduler``: run the sweep on a Dask cluster (see :func:`convcheck.sweep`), same results."""
    started = time.perf_counter()
    cases = CASES if cases is None else tuple(cases)
    configs = [prepare(case, quick) for case in cases]
    apps = []
    for case, config in zip(cases, configs):
        found = [a for a in applicable(config["problem"], config["method"], config["step"], config["radius"],
                                       x0=config["x0"], results=[case.result], include_all=True)]
        if not found or found[0].applies is not True:
            why = found[0].reason if found else "not applicable"
            raise RuntimeError(f"study configuration {case} does not meet {case.result}: {why}")
        apps.append(found[0])
    traces = sweep(configs, progress=progress, on_error="raise", scheduler=scheduler)
    rows = []
    for case, config, app, trace in zip(cases, configs, apps, traces):
        t0 = time.perf_counter()
        cert = certify(trace, config["problem"])
        verdict, details = compare(app, cert, trace, case.undecidable)
        verdict, details = audit_declaration(config, trace, verdict, details)
        rows.append(Row(case, config["problem"].key, app, dict(app.predicted), cert.summary, verdict, details,
                        cert, trace, time.perf_counter() - t0))
    return Study(rows, quick, time.perf_counter() - started)


def study_table(study: Study, width=None) -> str:
    """Result × problem table: method, schedules, predicted, observed, verdict; then a summary line.

    ``width``: wrap cells so that no line is wider (:func:`convcheck.tables.format_table`); None: never.
    """
    import textwrap

    from convcheck.tables import format_table

    short = {"holds": "+", "fails": "-", "inconclusive": "?"}
    head = ("result", "problem", "method", "step / radius", "predicted", "observed", "verdict")
    lines = []
    for r in study.rows:
        pred = " ".join(f"{k}{short[v]}" for k, v in sorted(r.predicted.items())) or "(bound)"
        obs = " ".join(f"{k}{short[v]}" for k, v in r.observed.items())
        sched = a_step(r) + (f" / {a_radius(r)}" if a_radius(r) else "")
        lines.append((r.applicability.number, r.problem_key, getattr(r.case.method, "spec", r.case.method), sched,
                      pred, obs, r.verdict))
    out = [format_table(head, lines, width, nowrap=(6,))]
    notes = []
    for r in study.rows:
        if r.verdict != "consistent":
            notes.append(f"{r.verdict}: {r.applicability.number} on {r.problem_key} "
                         f"({getattr(r.case.method, 'spec', r.case.method)}): " + "; ".join(r.details))
    notes.append(f"{len(study.rows)} runs in {study.seconds:.1f} s: "
                 f"{len(study.rows) - len(study.contradictions) - len(study.inconclusive)} consistent, "
                 f"{len(study.contradictions)} contradiction(s), {len(study.inconclusive)} inconclusive "
                 "(+ holds, - fails, ? inconclusive)")
    for note in notes:
        out.append("\n".join(textwrap.wrap(note, width, subsequent_indent="  ")) if width else note)
    return "\n".join(out)
