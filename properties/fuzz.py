"""The paper's theorems as an oracle for the certifier: seeded random instances that meet a result's
hypotheses, run, certified, and compared with the prediction (``convcheck theorems --fuzz N --seed S``).

The paper's results are proven, so when every hypothesis of a result is decided True
(:func:`.theorems.applicable`) and the certificate says "fails" for a property the result says
"holds" (or the reverse), the certificate is wrong: a certifier bug, reported with the instance that
reproduces it. An "inconclusive" certificate is not an error (it is counted: the inconclusive share).

Each instance is drawn from the families a result admits (:func:`draw_instance`):

- problems: quadratics with random spectra in [μ, L] (random dimension 1–8, some singular, random
  rotation and b), the log-sum of Appendix E with m ≤ n and random data (square A: stationary set =
  minimizers), scaled, rotated and shifted soft_quartic / flat_ball / x² (:class:`Transformed`), and
  symbolic sums log(1 + (x − a)²) + log(1 + (y − b)²) + c·cos(αx + βy) with the proven bounds
  L ≤ 2 + |c|(α² + β²) and f ≥ −|c| (:func:`symbolic_sum`);
- methods: each result's own (SAM, USAM, RSAM, VaSSO, F-SAM, extragradient, GD, IGD with the
  "opposite" and "random" errors, IGDr);
- the counterexamples, whose predictions are "fails": Example 3.1 (random dimension, spectrum ratio,
  ρ, t in (13), start in the ball (15)) and Example 3.4 (reverse-SAM IGD on x², random ρ, x¹, t_k);
- schedules: c/k^p over the admissible p, almost-constant and perfect-squares radii, Diminish 1–3,
  constant steps below the (12) limit; scale constants relative to 1/L.

An instance whose target result does not apply (a draw outside the hypotheses, e.g. an undecided
one) is redrawn; every reported instance has its result's hypotheses decided True. Everything is a
pure function of (seed, index), so ``--seed S`` reproduces a campaign and :func:`rebuild` an instance
from its JSON ``recipe``.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

from convcheck import problems as problems_module
from convcheck import sweep
from convcheck.problems.base import Meta, MinimizerSet, Problem
from convcheck.problems.catalogue_quadratic import QuadraticProblem, quadratic_meta

from .certify import certify
from .theorems import applicable

OPPOSITE = {"holds": "fails", "fails": "holds"}
TARGETS = ("theorem-3.2", "theorem-3.3", "corollary-3.5", "theorem-4.1", "theorem-4.2", "remark-3.6", "remark-G.2",
           "example-3.1", "example-3.4")
MAX_REDRAWS = 40


# ----------------------------------------------------------------------------- problems
class Transformed(Problem):
    """g(x) = f(Qᵀ(x − a)/s) for a catalogue f, rotation Q, scale s > 0, shift a.

    ∇g(x) = Q∇f(Qᵀ(x − a)/s)/s, so L and μ scale by 1/s²; minimizers and stationary points map by
    y ↦ sQy + a; f*, convexity, analyticity, level-set boundedness and the Łojasiewicz exponent are
    unchanged.
    """

    def __init__(self, base: Problem, scale: float, rotation: np.ndarray, shift: np.ndarray, tag: str):
        meta = base.meta
        to_x = lambda pts: None if pts is None else (scale * np.asarray(pts) @ rotation.T + shift)
        m = meta.minimizer
        minimizer = MinimizerSet(m.kind, to_x(m.points), None if m.directions is None else m.directions @ rotation.T,
                                 None if m.radius is None else m.radius * scale)
        new = Meta(dim=meta.dim, params={**meta.params, "fuzz": tag}, convex=meta.convex,
                   mu=None if meta.mu is None else meta.mu / scale ** 2,
                   L=None if meta.L is None else meta.L / scale ** 2, f_star=meta.f_star, minimizer=minimizer,
                   stationary_points=to_x(meta.stationary_points), bounded_level_sets=meta.bounded_level_sets,
                   analytic=meta.analytic, kl=meta.kl, kl_exponent=meta.kl_exponent,
                   provenance=dict(meta.provenance), reference=f"{base.key} scaled, rotated and shifted")
        super().__init__(f"{base.name}_t", new)
        self.base, self.scale, self.rotation, self.shift = base, scale, rotation, shift

    def _value_and_grad(self, X):
        Y = ((X - self.shift) @ self.rotation) / self.scale
        value, grad = self.base._value_and_grad(Y)
        return value, (grad @ self.rotation.T) / self.scale


def _rotation(rng, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def symbolic_sum(a: float, b: float, c: float, alpha: float, beta: float, tag: str):
    """log(1 + (x − a)²) + log(1 + (y − b)²) + c·cos(αx + βy) with its proven constants.

    The log terms have Hessian diag(φ''), φ'' ∈ [−¼, 2]; the cosine term −c·cos(·)(α, β)ᵀ(α, β) has norm
    ≤ |c|(α² + β²): L = 2 + |c|(α² + β²) (provenance "bound"). f ≥ −|c| (f_star = −|c| as a proven
    lower bound of inf f, provenance "bound"); f → ∞ as ‖(x, y)‖ → ∞, so level sets are bounded.
    """
    expr = f"log(1+(x-({a!r}))^2)+log(1+(y-({b!r}))^2)+({c!r})*cos(({alpha!r})*x+({beta!r})*y)"
    L = 2.0 + abs(c) * (alpha ** 2 + beta ** 2)
    return problems_module.symbolic(expr, name=f"fuzz_symbolic_{tag}", L=L, L_region=None, convex=False,
                                     f_star=-abs(c), bounded_level_sets=True, analytic=True,
                                     provenance={"L": "bound", "f_star": "bound"}), expr


def rebuild(recipe: dict):
    """The Problem of a recipe (see :func:`draw_problem`)."""
    kind, tag = recipe["kind"], recipe["tag"]
    if kind == "catalogue":
        return problems_module.get(recipe["spec"])
    if kind == "quadratic":
        Q, spectrum = np.asarray(recipe["Q"]), np.asarray(recipe["spectrum"])
        A = (Q * spectrum) @ Q.T
        A = (A + A.T) / 2
        b = A @ np.asarray(recipe["x_star"])      # b ∈ range(A), so a minimizer exists even when A is singular
        return QuadraticProblem(f"fuzz_quadratic_{tag}", quadratic_meta(A, b, {"fuzz": tag},
                                                                        "random spectrum (theorem fuzzer)"), A, b)
    if kind == "transformed":
        return Transformed(problems_module.get(recipe["spec"]), recipe["scale"], np.asarray(recipe["Q"]),
                           np.asarray(recipe["shift"]), tag)
    if kind == "symbolic":
        return symbolic_sum(*recipe["coefficients"], tag)[0]
    raise ValueError(f"unknown recipe kind {kind!r}")


def draw_problem(rng, family: str, tag: str) -> dict:
    """A JSON-ready recipe of a random problem of ``family``."""
    if family == "quadratic":
        n = int(rng.integers(1, 9))
        mu = float(np.exp(rng.uniform(np.log(0.2), np.log(3))))
        spectrum = mu * np.exp(rng.uniform(0, np.log(float(rng.uniform(1, 20))), n))
        if n > 2 and rng.random() < 0.25:
            spectrum[: int(rng.integers(1, n))] = 0.0         # singular: affine minimizer set
        return {"kind": "quadratic", "tag": tag, "Q": _rotation(rng, n).tolist(), "spectrum": spectrum.tolist(),
                "x_star": rng.standard_normal(n).tolist()}
    if family == "logsum":
        n = int(rng.integers(1, 7))
        m = int(rng.integers(1, n + 1))
        name = "logsum" if m == n else "logsum_under"
        return {"kind": "catalogue", "tag": tag, "spec": f"{name}:n={n},m={m},seed={int(rng.integers(1000))}"}
    if family == "transformed":
        n = int(rng.integers(1, 5))
        base = str(rng.choice(["soft_quartic", "flat_ball", "x2"] if n == 1 else ["soft_quartic", "flat_ball"]))
        spec = f"{base}:n={n}" if base != "x2" else "x2"
        return {"kind": "transformed", "tag": tag, "spec": spec, "scale": float(np.exp(rng.uniform(-1.5, 1.5))),
                "Q": _rotation(rng, n).tolist(), "shift": rng.uniform(-3, 3, n).tolist()}
    if family == "symbolic":
        coefficients = [float(np.round(rng.uniform(-2, 2), 3)), float(np.round(rng.uniform(-2, 2), 3)),
                        float(np.round(rng.uniform(-0.4, 0.4), 3)), float(np.round(rng.uniform(0.5, 1.5), 3)),
                        float(np.round(rng.uniform(0.5, 2.0), 3))]
        return {"kind": "symbolic", "tag": tag, "coefficients": coefficients}
    raise ValueError(family)


# ----------------------------------------------------------------------------- schedules and methods
def _g(x: float) -> str:
    return repr(float(np.round(x, 6)))


def draw_absolute_error_schedules(rng, L: float, result: str) -> tuple:
    """(step, radius) from the families of (8) / (11): Σt = ∞, t ↓ 0, Σtρ < ∞, limsup ρ < 2/L."""
    c = _g(rng.uniform(0.2, 2.0) / L)
    if result == "remark-3.6":
        return f"power:c={_g(rng.uniform(1, 3) / L)},p=1", f"almost_constant:C={_g(rng.uniform(0.01, 1.5) / L)}"
    if result == "remark-G.2":
        return (f"power:c={_g(rng.uniform(1, 3) / L)},p=1",
                f"perfect_squares:C={_g(rng.uniform(0.01, 1.5) / L)},p={_g(rng.uniform(0.2, 1))}")
    kind = rng.integers(4)
    if kind == 0:      # c/k^p with p + q > 1
        p = rng.uniform(0.5, 1.0)
        return f"power:c={c},p={_g(p)}", f"power:c={_g(rng.uniform(0.01, 1) / L)},p={_g(rng.uniform(1.05 - p, 1.2))}"
    if kind == 1:
        return f"diminish1:eta1={c}", f"power:c={_g(rng.uniform(0.01, 1) / L)},p={_g(rng.uniform(0.1, 1))}"
    if kind == 2:
        return f"diminish2:eta1={c}", f"power:c={_g(rng.uniform(0.01, 1) / L)},p={_g(rng.uniform(0.55, 1))}"
    return f"diminish3:eta1={c}", f"power:c={_g(rng.uniform(0.01, 1) / L)},p={_g(rng.uniform(0.1, 1))}"


def draw_relative_error_step(rng, L: float, nu: float) -> str:
    """A constant or slowly diminishing step below (12)'s limit (2 − 2ν)/(L(1 + ν)²)."""
    limit = (2 - 2 * nu) / (L * (1 + nu) ** 2)
    if rng.random() < 0.7:
        return f"constant:{_g(rng.uniform(0.1, 0.9) * limit)}"
    return f"power:c={_g(rng.uniform(0.3, 0.9) * limit)},p={_g(rng.uniform(0.2, 1))}"


def draw_method(rng, result: str) -> str:
    if result in ("corollary-3.5", "remark-3.6", "remark-G.2"):
        return str(rng.choice(["sam", f"rsam:sigma={_g(rng.uniform(0.001, 0.05))}",
                               f"vasso:theta={_g(rng.uniform(0.1, 0.9))}",
                               f"fsam:sigma={_g(rng.uniform(0.1, 1))},lam={_g(rng.uniform(0.5, 0.95))}"]))
    if result == "theorem-3.3":
        return str(rng.choice(["igd", "igd:error=random"]))
    if result == "theorem-3.2":
        return "sam"
    if result == "theorem-4.1":
        return str(rng.choice(["gd", f"igdr:nu={_g(rng.uniform(0.05, 0.6))},error=random"]))
    return str(rng.choice(["usam", "extragradient"]))


@dataclass
class Instance:
    """One fuzz instance: everything needed to reproduce it (``recipe`` is JSON-ready)."""

    index: int
    result: str
    recipe: dict
    method: str
    step: str
    radius: object
    x0: list
    iters: int
    problem: object = field(default=None, repr=False)
    applicability: object = field(default=None, repr=False)

    def describe(self) -> dict:
        return {"index": self.index, "result": self.result, "problem": self.problem.key,
                "recipe": self.recipe if self.recipe["kind"] != "symbolic" else
                {**self.recipe, "expression": symbolic_expression(self.recipe)},
                "method": self.method, "step": self.step, "radius": self.radius, "x0": self.x0, "iters": self.iters}


def symbolic_expression(recipe: dict) -> str:
    a, b, c, alpha, beta = recipe["coefficients"]
    return f"log(1+(x-({a!r}))^2)+log(1+(y-({b!r}))^2)+({c!r})*cos(({alpha!r})*x+({beta!r})*y)"


FAMILIES_FOR = {"theorem-3.2": ("quadratic", "transformed"),
                "theorem-4.1": ("quadratic", "logsum", "transformed", "symbolic"),
                "theorem-4.2": ("quadratic", "logsum", "transformed", "symbolic")}
DEFAULT_FAMILIES = ("quadratic", "logsum", "transformed", "symbolic")
FAMILY_WEIGHTS = {"quadratic": 0.3, "logsum": 0.3, "transformed": 0.3, "symbolic": 0.1}


def _start(rng, problem) -> np.ndarray:
    points = problem.meta.minimizer.points
    centre = np.asarray(points[0]) if points is not None else np.zeros(problem.dim)
    offset = rng.standard_normal(problem.dim)
    scale = math.sqrt(problem.meta.L) if problem.meta.L else 1.0
    return centre + offset * rng.uniform(0.3, 2.0) / max(scale, 1e-3) * (1 + rng.random())


def draw_counterexample(rng, result: str, tag: str) -> tuple:
    """(recipe, method, step, radius, x0) of Example 3.1 (random n, spectrum ratio < 2, ρ, t in (13), offset)
    or Example 3.4 (x², reverse-SAM IGD, random ρ, |x¹| > ρ, t_k = c/k^p with c < ½, p ∈ (0, 1])."""
    if result == "example-3.1":
        n, lam_min = int(rng.integers(1, 7)), float(np.round(rng.uniform(0.3, 3), 4))
        lam_max = float(np.round(lam_min * rng.uniform(1, 1.9), 4))
        spec = (f"example31:n={n},lam_min={lam_min},lam_max={lam_max},rho={_g(rng.uniform(0.01, 1))},"
                f"offset={_g(rng.uniform(0.05, 0.95))},seed={int(rng.integers(1000))}")
        params = problems_module.get(spec).example31_parameters()
        return ({"kind": "catalogue", "tag": tag, "spec": spec}, "sam", f"constant:{params['t']!r}",
                f"constant:{params['rho']!r}", np.asarray(params["x1"], dtype=float))
    rho = float(rng.uniform(0.05, 1))
    x1 = float(rng.choice([-1, 1]) * rho * rng.uniform(1.05, 5))
    step = f"power:c={_g(rng.uniform(0.05, 0.49))},p={_g(rng.uniform(0.3, 1))}"
    return {"kind": "catalogue", "tag": tag, "spec": "x2"}, "igd:error=example34", step, f"constant:{_g(rho)}", np.array([x1])


def draw_instance(seed: int, index: int, iters: int = 3000) -> Instance:
    """The instance ``index`` of the campaign ``seed``: a pure function of both (redraws included)."""
    rng = np.random.default_rng([seed, index])
    result = TARGETS[int(rng.integers(len(TARGETS)))]
    for attempt in range(MAX_REDRAWS):
        if result.startswith("example"):
            recipe, method, step, radius, x0 = draw_counterexample(rng, result, f"{seed}_{index}_{attempt}")
            problem = rebuild(recipe)
            (app,) = applicable(problem, method, step, radius, x0=x0, results=[result], include_all=True)
            if app.applies is True:
                return Instance(index, result, recipe, method, step, radius, x0.tolist(), iters, problem, app)
            continue
        families = FAMILIES_FOR.get(result, DEFAULT_FAMILIES)
        weights = np.array([FAMILY_WEIGHTS[f] for f in families])
        family = str(rng.choice(families, p=weights / weights.sum()))
        recipe = draw_problem(rng, family, f"{seed}_{index}_{attempt}")
        problem = rebuild(recipe)
        L = problem.meta.L or 1.0
        method = draw_method(rng, result)
        if result in ("theorem-4.1", "theorem-4.2"):
            nu = float(method.split("nu=")[1].split(",")[0]) if "nu=" in method else 0.0
            step = draw_relative_error_step(rng, L, nu)
            radius = None if result == "theorem-4.1" else f"constant:{_g(rng.uniform(0.05, 0.9) / L)}"
        elif result == "theorem-3.2":
            step = str(rng.choice([f"power:c={_g(rng.uniform(0.2, 2) / L)},p={_g(rng.uniform(0.55, 1))}",
                                   f"diminish2:eta1={_g(rng.uniform(0.2, 2) / L)}",
                                   f"diminish1:eta1={_g(rng.uniform(0.2, 2) / L)}"]))
            radius = str(rng.choice([f"constant:{_g(rng.uniform(0.01, 1) / math.sqrt(L))}",
                                     f"power:c={_g(rng.uniform(0.01, 1) / math.sqrt(L))},p={_g(rng.uniform(0.3, 1))}"]))
        else:
            step, radius = draw_absolute_error_schedules(rng, L, result)
        x0 = _start(rng, problem)
        (app,) = applicable(problem, method, step, radius, x0=x0, results=[result], include_all=True)
        if app.applies is True and app.predicted:
            return Instance(index, result, recipe, method, step, radius, x0.tolist(), iters, problem, app)
    raise RuntimeError(f"fuzz instance {index} (seed {seed}): no admissible draw for {result} in {MAX_REDRAWS} tries")


# ----------------------------------------------------------------------------- the campaign
@dataclass
class Outcome:
    """One instance's verdict: "consistent", "inconclusive" or "contradiction" (a certifier bug)."""

    instance: Instance
    verdict: str
    predicted: dict
    observed: dict
    contradictions: list
    reasons: dict
    status: str

    def to_dict(self) -> dict:
        return {**self.instance.describe(), "verdict": self.verdict, "predicted": self.predicted,
                "observed": self.observed, "contradictions": self.contradictions, "trace_status": self.status,
                "reasons": self.reasons}


@dataclass
class Campaign:
    seed: int
    outcomes: list
    seconds: float

    @property
    def contradictions(self) -> list:
        return [o for o in self.outcomes if o.verdict == "contradiction"]

    @property
    def inconclusive(self) -> list:
        return [o for o in self.outcomes if o.verdict == "inconclusive"]

    @property
    def errors(self) -> list:
        """Instances on which ``certify`` raised: a certifier bug too (it must answer every finite run)."""
        return [o for o in self.outcomes if o.verdict == "error"]

    @property
    def bugs(self) -> list:
        return self.contradictions + self.errors

    def counts(self) -> dict:
        by_result: dict = {}
        for o in self.outcomes:
            row = by_result.setdefault(o.instance.result, {"consistent": 0, "inconclusive": 0, "contradiction": 0,
                                                           "error": 0})
            row[o.verdict] += 1
        return by_result

    def to_dict(self) -> dict:
        return {"seed": self.seed, "instances": len(self.outcomes), "seconds": self.seconds,
                "contradictions": len(self.contradictions), "errors": len(self.errors),
                "inconclusive": len(self.inconclusive),
                "inconclusive_share": len(self.inconclusive) / max(len(self.outcomes), 1),
                "by_result": self.counts(), "bug_instances": [o.to_dict() for o in self.bugs]}


def judge(instance: Instance, cert, trace) -> Outcome:
    """Prediction against certificate, property by property: a decisive opposite is a contradiction."""
    predicted = dict(instance.applicability.predicted)
    observed = {key: cert[key].status for key in predicted}
    contradictions = [key for key, expected in predicted.items() if observed[key] == OPPOSITE[expected]]
    open_ = [key for key, expected in predicted.items() if observed[key] == "inconclusive"]
    verdict = "contradiction" if contradictions else "inconclusive" if open_ else "consistent"
    reasons = {key: cert[key].reason for key in contradictions + open_}
    return Outcome(instance, verdict, predicted, observed, contradictions, reasons, str(trace.status))


def certify_and_judge(instance: Instance, trace) -> Outcome:
    """:func:`judge` of the certificate; when ``certify`` raises, an "error" outcome carrying the exception
    (certify must answer every finite run, so this too is a certifier bug to report, not to hide)."""
    try:
        cert = certify(trace, instance.problem)
    except Exception as exc:  # noqa: BLE001 - any exception of certify is the finding itself
        predicted = dict(instance.applicability.predicted)
        return Outcome(instance, "error", predicted, {}, [], {"certify": f"{type(exc).__name__}: {exc}"},
                       str(trace.status))
    return judge(instance, cert, trace)


def _check_campaign(count, seed, iters) -> None:
    """One-line errors for a campaign size outside 1 … MAX_FUZZ_INSTANCES, a negative seed or a
    non-positive run length, before anything is drawn."""
    from convcheck.errors import InputError
    from convcheck.limits import MAX_FUZZ_INSTANCES, MAX_ITERS
    whole = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool)  # noqa: E731
    if not whole(count) or not 1 <= count <= MAX_FUZZ_INSTANCES:
        raise InputError(f"fuzz: the number of instances must be a whole number from 1 to {MAX_FUZZ_INSTANCES} "
                         f"(one campaign keeps all its traces; run several seeds for more), got {count!r}")
    if not whole(seed) or seed < 0:
        raise InputError(f"fuzz: the seed must be a non-negative whole number, got {seed!r}")
    if not whole(iters) or not 1 <= iters <= MAX_ITERS:
        raise InputError(f"fuzz: iters must be a whole number from 1 to {MAX_ITERS}, got {iters!r}")


def run_campaign(count: int, seed: int = 0, iters: int = 3000, progress: bool = False,
                 scheduler=None) -> Campaign:
    """Draw ``count`` instances of campaign ``seed``, run them (batched by problem), certify, judge;
    ``scheduler``: the runs on a Dask cluster (see :func:`convcheck.sweep`), same results."""
    _check_campaign(count, seed, iters)
    started = time.perf_counter()
    instances = [draw_instance(seed, index, iters) for index in range(count)]
    configs = [dict(problem=i.problem, method=i.method, x0=np.asarray(i.x0), iters=i.iters, step=i.step,
                    radius=i.radius, seed=i.index) for i in instances]
    traces = sweep(configs, progress=progress, on_error="raise", scheduler=scheduler)
    outcomes = [certify_and_judge(i, trace) for i, trace in zip(instances, traces)]
    return Campaign(seed, outcomes, time.perf_counter() - started)


def finding_text(outcome: Outcome) -> str:
    """A reproducible report of one contradiction (Markdown)."""
    d = outcome.to_dict()
    lines = [f"### fuzz seed {outcome.instance.recipe['tag'].split('_')[0]}, instance {d['index']}: "
             f"{d['result']} predicts {', '.join(f'{k} {v}' for k, v in d['predicted'].items())}",
             f"- problem: `{d['problem']}`; recipe: `{json.dumps(d['recipe'])}`",
             f"- method `{d['method']}`, step `{d['step']}`, radius `{d['radius']}`, iters {d['iters']}, "
             f"x0 = {json.dumps([float(np.round(v, 12)) for v in d['x0']])}, run seed {d['index']}",
             f"- trace status: {d['trace_status']}; observed: {d['observed']}"]
    for key in outcome.contradictions:
        lines.append(f"- {key}: predicted {d['predicted'][key]}, certified {d['observed'][key]}: {d['reasons'][key]}")
    if outcome.verdict == "error":
        lines.append(f"- certify raised: {d['reasons']['certify']}")
    return "\n".join(lines)


def campaign_table(campaign: Campaign) -> str:
    """Per-result counts, the contradictions in full, and a summary line."""
    out = [f"theorem fuzzer, seed {campaign.seed}: {len(campaign.outcomes)} instances in {campaign.seconds:.1f} s"]
    for result, row in sorted(campaign.counts().items()):
        out.append(f"  {result:14s} consistent {row['consistent']:4d}  inconclusive {row['inconclusive']:4d}  "
                   f"contradiction {row['contradiction']:4d}  certify raised {row['error']:3d}")
    for o in campaign.contradictions:
        out.append("certifier bug (a proven result's 'holds' certified the opposite way):\n" + finding_text(o))
    for o in campaign.errors:
        out.append("certifier bug (certify raised on a finite run):\n" + finding_text(o))
    share = len(campaign.inconclusive) / max(len(campaign.outcomes), 1)
    out.append(f"{len(campaign.contradictions)} contradiction(s), {len(campaign.errors)} certify error(s), "
               f"inconclusive share {share:.1%}")
    return "\n".join(out)


__all__ = ["Transformed", "symbolic_sum", "rebuild", "draw_problem", "draw_instance", "Instance", "Outcome",
           "Campaign", "judge", "certify_and_judge", "run_campaign", "finding_text", "campaign_table"]
