"""``check``: run, certify, and compare with every result of the paper, in one call.

``check(problem, method, x0, step, radius, iters, max_iters)`` runs the configuration (or one run per
start of ``starts``, batched), certifies P1–P5 (paper, Table 1) and decides every result of the
paper on the setting (:func:`convcheck.properties.applicable` with ``include_all``). While some
property stays inconclusive and fewer than ``max_iters`` steps have run, each such run is extended to
twice its length.

Extension resumes from the last iterate for methods whose step depends only on x^k, k and the
schedules (no state between steps, no random draws): steps K+1 … 2K are run from x^{K+1} with the
schedules shifted by K and the step number the method sees offset by K (run option ``k_offset``), which
is exactly the continuation of the run, and the two traces are joined.
A method that carries state between steps (VaSSO's d^{k−1}, F-SAM's m^{k−1}) or draws random vectors
(RSAM, random errors) cannot be resumed from a trace, which records neither: such a run is restarted
from x¹ with twice the steps, and the result says so.

The returned :class:`CheckResult` prints as a table (property, verdict, prediction, reason) followed by
each result of the paper with whether it applies and, if not, the hypothesis that failed or could not
be decided.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from .errors import InputError
from .runner import make_config, sweep
from .schedule_types import Schedule
from .trace import Trace, atomic_write_text

PROPERTY_KEYS = ("P1", "P2", "P3", "P4", "P5")
DEFAULT_MAX_ITERS_FACTOR = 16
MAX_EXTENDED_ITERS = 1_000_000       # the runner records every step up to its default max_records


class Shifted(Schedule):
    """The schedule k ↦ base(k + offset): the tail of ``base`` after ``offset`` steps (used to resume).

    Only its values are meant to be used (to run a continuation); the facts of the paper's hypotheses are
    always decided on ``base``.
    """

    def __init__(self, base: Schedule, offset: int):
        super().__init__("shifted", {"base": base.spec, "offset": int(offset)},
                         f"{base.formula} at k + {int(offset)}", base.sympy_expr)
        self.base, self.offset = base, int(offset)

    def _evaluate(self, k):
        return self.base.values(k + self.offset)


def resumable(method) -> tuple:
    """(True, "") when a run of ``method`` can be continued from its last iterate, else (False, why)."""
    state = method.init_state(np, None)
    if state:
        return False, f"{method.spec} carries state between steps ({', '.join(state)}) that a trace does not record"
    if getattr(method, "noise_dim", 0):
        return False, f"{method.spec} draws random vectors each step; a resumed run would repeat the first draws"
    if any(callable(v) for v in method.params.values()):
        return False, f"{method.spec} has a callable parameter that may depend on the step number"
    return True, ""


def join(first: Trace, second: Trace) -> Trace:
    """The trace of a run continued by ``second`` (started at ``first``'s last iterate x^{K+1})."""
    K = first.last_k - 1
    if first.status != "completed" or len(first.k) == 0 or int(first.k[-1]) != K + 1:
        raise InputError("only a completed trace recorded to its last step can be extended")
    shift = lambda a: np.asarray(a) + K  # noqa: E731
    scalars = {name: np.concatenate([np.asarray(getattr(first, name))[:-1], np.asarray(getattr(second, name))])
               for name in ("f", "grad_norm", "step_norm", "step_size", "radius")}
    k = np.concatenate([np.asarray(first.k)[:-1], shift(second.k)])
    tail_k = shift(second.tail_k)
    early_k = np.concatenate([np.asarray(first.x_k)[:-1], shift(second.x_k[:second.tail_start])])
    early_x = np.concatenate([np.asarray(first.x)[:-1], np.asarray(second.x)[:second.tail_start]])
    keep = early_k < tail_k[0]
    early_k, index = np.unique(early_k[keep], return_index=True)
    early_x = early_x[keep][index]
    meta = dict(first.metadata)
    meta["iters"] = int(K + int(second.metadata.get("iters", second.last_k - 1)))
    meta["extended"] = list(first.metadata.get("extended", [])) + [{"from_k": K + 1, "steps": int(meta["iters"] - K),
                                                                    "resumed": True}]
    return Trace(k=k, **scalars, x_k=np.concatenate([early_k, tail_k]).astype(np.int64),
                 x=np.concatenate([early_x, np.asarray(second.tail_x)]), tail_start=len(early_k),
                 status=second.status, status_k=None if second.status_k is None else int(second.status_k) + K,
                 status_reason=second.status_reason, record_every=max(first.record_every, second.record_every),
                 metadata=meta)


@dataclass
class RunCheck:
    """One start of a check: its trace (joined over extensions), certificate and comparisons."""

    x0: np.ndarray
    trace: Trace
    certificate: object
    comparisons: list            # [(Applicability, verdict, details)] for the applying results
    iterations: int
    extensions: list = field(default_factory=list)   # "resumed at k=..." / "restarted with ... steps"

    @property
    def inconclusive(self) -> list:
        return [p for p in PROPERTY_KEYS if self.certificate[p].status == "inconclusive"]


@dataclass
class CheckResult:
    """What :func:`check` found. ``str()`` is the readable table; ``to_dict()`` JSON-ready."""

    problem: object
    method: object
    step: object
    radius: object
    results: list                # Applicability for every result of the paper
    runs: list                   # RunCheck per start
    max_iters: int
    notes: list = field(default_factory=list)

    @property
    def applying(self) -> list:
        return [a for a in self.results if a.applies is True]

    def predictions(self) -> dict:
        """P -> (prediction, result number) from the results that apply."""
        out = {}
        for app in self.applying:
            for key, value in app.predicted.items():
                out.setdefault(key, (value, app.number))
        return out

    def why_not(self, app) -> str:
        return why_not(app)

    def __str__(self) -> str:
        lines = [f"check: {self.method.spec} on {self.problem.key}, step {self.step.spec}"
                 + (f", radius {self.radius.spec}" if self.radius is not None else "")]
        predicted = self.predictions()
        for run in self.runs:
            lines.append("")
            lines.append(f"x1 = {np.round(run.x0, 6).tolist()}: {run.trace.status} after {run.iterations} steps"
                         + (f" ({'; '.join(run.extensions)})" if run.extensions else ""))
            rows = [("property", "verdict", "prediction", "reason")]
            for key in PROPERTY_KEYS:
                verdict = run.certificate[key]
                pred = predicted.get(key)
                rows.append((key, verdict.status, f"{pred[0]} ({pred[1]})" if pred else "-", verdict.reason))
            lines += _table(rows)
            for app, verdict, details in run.comparisons:
                lines.append(f"{app.number}: {verdict}" + (f" ({'; '.join(details)})" if details else ""))
        lines.append("")
        lines.append("results of the paper:")
        for app in self.results:
            state = {True: "applies", False: "does not apply", None: "undecided"}[app.applies]
            lines.append(f"  {app.number} ({app.title}): {state}" + ("" if app.applies else f": {why_not(app)}"))
            if app.applies:
                lines += [f"    part {part.label} predicts nothing: {part.reason}" for part in app.parts if not part.applies]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        from convcheck.properties.verdict import json_ready

        return json_ready({
            "problem": self.problem.key, "method": self.method.spec, "step": self.step.spec,
            "radius": self.radius.spec if self.radius is not None else None, "max_iters": self.max_iters,
            "results": [{"result": a.result, "number": a.number, "applies": a.applies,
                         "predicted": dict(a.predicted), "why_not": None if a.applies else why_not(a)}
                        for a in self.results],
            "runs": [{"x0": r.x0.tolist(), "status": r.trace.status, "iterations": r.iterations,
                      "extensions": list(r.extensions), "certificate": r.certificate.to_dict(),
                      "comparisons": [{"result": a.number, "verdict": v, "details": d} for a, v, d in r.comparisons]}
                     for r in self.runs],
            "notes": list(self.notes)})

    def write(self, out, force: bool = False) -> list:
        """Write check.md, check.json and the joined traces (run<i>.npz) into folder ``out``.

        The rules of report folders (:mod:`convcheck.outdir`): an empty or new ``out`` is written; an
        earlier check folder (convcheck's marker, nothing but the files it lists) is replaced only with
        ``force``; a folder holding anything else is never touched (OutputExistsError). The folder is
        assembled beside ``out`` and swapped in whole."""
        from . import outdir

        out = outdir.prepare_report_folder(Path(out), force=force, names=outdir.CHECK_NAMES)
        staging = outdir.make_staging(out)
        try:
            atomic_write_text(staging / "check.md", "```\n" + str(self) + "\n```\n")
            atomic_write_text(staging / "check.json", json.dumps(self.to_dict(), indent=1))
            names = ["check.md", "check.json"]
            for i, run in enumerate(self.runs, start=1):
                run.trace.save(staging / f"run{i}.npz")
                names.append(f"run{i}.npz")
            outdir.install_folder(staging, out)
        except BaseException:
            import shutil
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return [out / name for name in names]


def _region_notes(problem, trace, already: list) -> list:
    """A note when the iterates leave the box on which the problem's L was estimated."""
    box = (problem.meta.L_region or {}).get("box")
    if box is None or problem.meta.L is None or len(trace.x) == 0:
        return []
    region = np.asarray(box, dtype=float)
    region = np.tile(region, (problem.dim, 1)) if region.shape == (2,) else region
    outside = np.any((trace.x < region[:, 0]) | (trace.x > region[:, 1]), axis=1)
    note = (f"the iterates leave the box {region.tolist()} on which L = {problem.meta.L:g} was estimated; "
            "pass symbolic(..., box=...) covering the run (the estimate decides no hypothesis either way)")
    return [note] if outside.any() and note not in already else []


def why_not(app) -> str:
    """The hypotheses of a result that failed (or, if none failed, could not be decided), in words."""
    named = list(app.hypotheses)
    failed = [d.how for _, d in named if d.value is False]
    if failed:
        return "violated: " + "; ".join(failed)
    undecided = [d.how for _, d in named if d.value is None]
    return "not decided: " + "; ".join(undecided) if undecided else "all hypotheses hold"


def _table(rows) -> list:
    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    out = ["  " + "  ".join(str(r[i]).ljust(widths[i]) for i in range(3)) + "  " + str(r[3]) for r in rows]
    out.insert(1, "  " + "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return out


def check(problem, method, x0=None, step=None, radius=None, iters: int = 10_000, max_iters: Optional[int] = None,
          starts=None, seed: int = 0, backend: str = "numpy", **run_options) -> CheckResult:
    """Run, certify P1–P5, compare with the paper's results, and extend inconclusive runs.

    Parameters
    ----------
    problem, method : as for :func:`convcheck.run` (a Problem or spec; a Method, including the user's own
        declared one, or spec).
    x0 : the initial point x¹; ``starts`` : several initial points instead (one batched sweep; the results
        of the paper are decided at the first start, which only the examples' hypotheses depend on).
    step, radius : schedules, numbers or specs.
    iters : steps of the first run. max_iters : the most steps any run is extended to by doubling
        (default 16 × iters, capped at 10⁶ so that every step of a joined trace stays recorded).
    run_options : passed to :func:`convcheck.run` (``tail``, ``bound``).

    Returns
    -------
    :class:`CheckResult`.
    """
    from convcheck.properties import applicable, certify

    if isinstance(iters, bool) or not isinstance(iters, (int, np.integer)) or iters < 1:
        raise InputError(f"iters must be a positive whole number of steps, got {iters!r}")
    if max_iters is None:
        max_iters = max(iters, min(iters * DEFAULT_MAX_ITERS_FACTOR, MAX_EXTENDED_ITERS))
    if isinstance(max_iters, bool) or not isinstance(max_iters, (int, np.integer)) or max_iters < iters:
        raise InputError(f"max_iters must be a whole number >= iters = {iters}, got {max_iters!r}")
    if max_iters > max(iters, MAX_EXTENDED_ITERS):
        raise InputError(f"runs are extended to at most {MAX_EXTENDED_ITERS} steps (every step is recorded), "
                         f"got max_iters = {max_iters}")
    thinned = sorted({"max_records", "record_every"} & set(run_options))
    if thinned:  # joined segments must record every step (see join)
        raise InputError(f"check records every step; drop the run option(s) {', '.join(thinned)}")
    starts = [x0] if starts is None else list(starts)
    if not starts:
        raise InputError("starts must hold at least one initial point")
    configs = [make_config(problem, method, x, iters, step, radius, seed, **run_options) for x in starts]
    first = configs[0]
    problem, method, step, radius = first.problem, first.method, first.step, first.radius
    results = applicable(problem, method, step, radius, x0=first.x0, include_all=True)
    can_resume, why = resumable(method)
    notes = [] if can_resume else [f"runs are restarted, not resumed: {why}"]
    traces = sweep(configs, backend=backend, on_error="raise")
    lengths = [iters] * len(configs)
    extensions = [[] for _ in configs]
    certificates = [certify(t, problem) for t in traces]
    while True:
        todo = [i for i, (t, c) in enumerate(zip(traces, certificates))
                if t.status == "completed" and lengths[i] * 2 <= max_iters
                and any(c[p].status == "inconclusive" for p in PROPERTY_KEYS)]
        if not todo:
            break
        more = []
        for i in todo:
            if can_resume:
                more.append(make_config(problem, method, traces[i].x_last, lengths[i], Shifted(step, lengths[i]),
                                        None if radius is None else Shifted(radius, lengths[i]), seed,
                                        **{**run_options, "k_offset": lengths[i] + int(run_options.get("k_offset") or 0)}))
            else:
                more.append(make_config(problem, method, configs[i].x0, 2 * lengths[i], step, radius, seed,
                                        **run_options))
        for i, trace in zip(todo, sweep(more, backend=backend, on_error="raise")):
            if can_resume:
                traces[i] = join(traces[i], trace)
                extensions[i].append(f"resumed at k = {lengths[i] + 1}")
            else:
                traces[i] = trace
                extensions[i].append(f"restarted with {2 * lengths[i]} steps")
            lengths[i] *= 2
            certificates[i] = certify(traces[i], problem)
    runs = []
    from convcheck.properties.study import audit_declaration, compare

    for config, trace, cert, length, ext in zip(configs, traces, certificates, lengths, extensions):
        comparisons = [(app, *audit_declaration({"problem": problem, "method": method}, trace,
                                                *compare(app, cert, trace)))
                       for app in results if app.applies is True]
        notes += _region_notes(problem, trace, notes)
        if any(cert[p].status == "inconclusive" for p in PROPERTY_KEYS) and trace.status == "completed":
            ext = ext + [f"still inconclusive at max_iters = {max_iters}" if length * 2 > max_iters else ""]
        runs.append(RunCheck(config.x0, trace, cert, comparisons, length, [e for e in ext if e]))
    return CheckResult(problem, method, step, radius, results, runs, max_iters, notes)


__all__ = ["check", "CheckResult", "RunCheck", "Shifted", "join", "resumable", "why_not"]
