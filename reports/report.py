"""``convcheck report``: run the built-in study (or load given traces), certify, and write the report.

Output folder layout::

    DIR/index.html      self-contained page (images embedded, no network access)
    DIR/report.md       the same content as Markdown (images under figures/)
    DIR/results.json    every run: configuration, status, certificate, prediction (schema: reports/schema.py)
    DIR/figures/        the paper's figures (PNG, PDF, JSON sidecar each) and runs/<id>.png|.pdf|.json

The folder is assembled in a temporary sibling folder and renamed into place at the end, so an
interrupted report leaves no half-written folder; an existing folder is replaced only with ``force``
(or, for the default folder, when it carries convcheck's marker file), and never when it holds files
convcheck did not write (rules in :mod:`convcheck.outdir`).
"""
from __future__ import annotations

import datetime as _dt
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from convcheck.errors import ConvcheckError
from convcheck.trace import Trace, atomic_write_text
from convcheck.versions import library_versions

from . import drawing
from .progress import Phase, line
from .render import PROPERTIES, render_html, render_markdown
from .schema import SCHEMA_VERSION


def per_property(predicted: dict, observed: dict) -> dict:
    """Per-property comparison: "consistent", "contradiction" or "inconclusive" for each predicted property."""
    out = {}
    for p in PROPERTIES:
        if p in predicted:
            seen = observed.get(p, "inconclusive")
            out[p] = "inconclusive" if seen == "inconclusive" else \
                ("consistent" if seen == predicted[p] else "contradiction")
    return out


def _summary(runs: list) -> dict:
    counts = {"consistent": 0, "contradiction": 0, "inconclusive": 0, "no prediction": 0}
    for run in runs:
        counts[run["verdict"]] += 1
    return {"runs": len(runs), "results": len({r["result"] for r in runs}), "consistent": counts["consistent"],
            "contradiction": counts["contradiction"], "inconclusive": counts["inconclusive"],
            "no_prediction": counts["no prediction"]}


def _record(index, app, trace, certificate, verdict, details) -> dict:
    """One run of the report: configuration, status, certificate, prediction and comparison."""
    meta = trace.metadata
    predicted = dict(app.predicted) if app is not None else {}
    observed = dict(certificate.summary) if certificate is not None else {}
    radius = meta.get("radius")
    return {"id": f"run{index:03d}", "result": app.number if app is not None else "no result applies",
            "result_id": app.result if app is not None else None,
            "statement": app.statement if app is not None else None,
            "problem": meta.get("problem", {}).get("key", "?"), "method": meta.get("method", {}).get("spec", "?"),
            "step": (meta.get("step") or {}).get("spec", "?"),
            "radius": radius.get("spec") if isinstance(radius, dict) else None,
            "x0": [float(v) for v in meta.get("x0", [])], "iters": int(meta.get("iters", 1)),
            "seed": int(meta.get("seed", 0)), "status": trace.status, "status_reason": trace.status_reason or "",
            "predicted": predicted, "observed": observed, "comparison": per_property(predicted, observed),
            "verdict": verdict, "details": list(details),
            "hypotheses": [{"name": name, "value": d.value, "how": d.how} for name, d in app.hypotheses]
            if app is not None else [],
            "certificate": certificate.to_dict() if certificate is not None else None}


def runs_from_study(study) -> list:
    """(record, trace, problem, certificate) for each run of the theorem study."""
    from convcheck.properties import problem_from_trace

    out = []
    for index, row in enumerate(study.rows, start=1):
        record = _record(index, row.applicability, row.trace, row.certificate, row.verdict, row.details)
        out.append((record, row.trace, problem_from_trace(row.trace), row.certificate))
    return out


def runs_from_traces(paths) -> list:
    """Load, certify and predict for saved traces (catalogue problems are rebuilt from the metadata).

    A trace to which several results apply appears once per result; one to which none applies is
    reported with "no prediction".
    """
    from convcheck.check import why_not
    from convcheck.problems.rebuild import method_from_trace
    from convcheck.properties import applicable, certify, problem_from_trace
    from convcheck.properties.study import compare

    out = []
    for path in paths:
        trace = Trace.load(path)
        problem = problem_from_trace(trace, path)
        if trace.status == "failed":
            out.append((_record(len(out) + 1, None, trace, None, "no prediction", [trace.status_reason]),
                        trace, problem, None))
            continue
        certificate = certify(trace, problem)
        meta = trace.metadata
        radius = meta.get("radius")
        decided = applicable(problem, method_from_trace(trace), meta["step"]["spec"],
                             radius.get("spec") if isinstance(radius, dict) else None,
                             x0=np.asarray(meta.get("x0"), float), include_all=True)
        results = [a for a in decided if a.applies is True]
        for app in results:
            verdict, details = compare(app, certificate, trace)
            if not app.predicted and app.bound is None and not app.checks:
                verdict = "no prediction"
            out.append((_record(len(out) + 1, app, trace, certificate, verdict, details), trace, problem, certificate))
        if not results:  # say why not, result by result (the hypothesis that failed or was undecided)
            why = [f"{a.number} does not apply: {why_not(a)}" if a.applies is False else
                   f"{a.number} is undecided: {why_not(a)}" for a in decided]
            out.append((_record(len(out) + 1, None, trace, certificate, "no prediction", why), trace, problem,
                        certificate))
    return out


def make_report(out, traces=None, quick=False, figures=True, force=False, progress=True,
                replace_own=False, experiments=False, workers=None, scheduler=None) -> str:
    """Write the report folder ``out``; return a short summary for the terminal.

    Parameters
    ----------
    traces : trace files to report on; None runs the built-in study (``quick`` for its small size).
    figures : also regenerate the paper's figures into ``out/figures``.
    force : replace an existing non-empty ``out`` (never one holding files convcheck did not write).
    replace_own : replace ``out`` without ``force`` when it carries convcheck's report marker (the
        default folder of ``convcheck report``); see :mod:`convcheck.outdir`.
    progress : a bar per phase on a terminal, one line per phase otherwise (:mod:`.progress`).
    experiments : add the Section 5 miniature (``convcheck.experiment_report.report_section``).
    workers : drawing processes (:mod:`.drawing`); default 2 when there is enough to draw (the
        paper's figures, the study, or at least :data:`MIN_RUNS_FOR_WORKERS` traces), else 1.
    scheduler : run the study's sweep on a Dask cluster (see :func:`convcheck.sweep`); the figures'
        runs, a few seconds, stay in-process.
    """
    from convcheck import outdir

    out = Path(out)
    outdir.prepare_report_folder(out, inputs=traces or (), force=force, replace_own=replace_own)
    if traces is not None:
        for path in traces:
            Trace.load(path)  # refuse bad files before any work
    if workers is None:
        workers = drawing.WORKERS if figures or traces is None or len(traces) >= MIN_RUNS_FOR_WORKERS else 1
    staging = outdir.make_staging(out)
    executor = None
    try:
        figure_dir = staging / "figures"
        (figure_dir / "runs").mkdir(parents=True)
        executor = drawing.pool(workers)
        report, pages = _build(staging, figure_dir, executor, traces, quick, figures, progress, experiments,
                               scheduler)
        executor.shutdown(wait=True)
        executor = None
        phase = Phase("pages", 0, "page", progress)
        atomic_write_text(staging / "results.json", json.dumps(report, indent=1, allow_nan=False))
        atomic_write_text(staging / "report.md", render_markdown(report, pages["run_paths"], pages["figure_paths"]))
        atomic_write_text(staging / "index.html", render_html(report, pages["run_images"], pages["figure_images"]))
        if pages["section"] is not None:
            from convcheck.experiment_report import append_to_pages
            append_to_pages(staging, pages["section"])
        outdir.install_folder(staging, out)
        size = (out / "index.html").stat().st_size
        phase.close(f"index.html ({size / 1e6:.1f} MB), report.md, results.json")
    except OSError as exc:  # a full disk or a file-size limit while drawing: one line, old report kept
        _abandon(executor, staging)
        if isinstance(exc, ConvcheckError):
            raise
        raise outdir.write_error(staging, exc) from None
    except BaseException:
        _abandon(executor, staging)
        raise
    s = report["summary"]
    return (f"{out}/index.html: {s['runs']} runs, {s['results']} results; consistent {s['consistent']}, "
            f"contradiction {s['contradiction']}, inconclusive {s['inconclusive']}, no prediction {s['no_prediction']}")


MIN_RUNS_FOR_WORKERS = 8  # fewer run plots than this draw faster than two processes start


def _abandon(executor, staging) -> None:
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(staging, ignore_errors=True)


def _build(staging, figure_dir, executor, traces, quick, figures, progress, experiments, scheduler=None) -> tuple:
    """Run (or load) and certify, draw everything through ``executor``; the report dict and page parts."""
    import time

    from . import run_plots
    from .figures import FIGURES

    # the paper's figures first: their runs and drawing overlap the study in the worker processes
    started = time.perf_counter()
    # one process for the figures, one core for the study; both worker processes draw the run plots later
    figure_job = executor.submit(drawing.figures_job, list(FIGURES), str(figure_dir)) if figures else None
    if traces is not None:
        phase = Phase("certify", len(traces), "trace", progress)
        entries = runs_from_traces(traces)
        phase.update(len(traces))
        phase.close(f"{len(traces)} trace file(s), {len(entries)} run record(s)")
        study_kind = "traces"
    else:
        from convcheck.properties.study import run_study
        study = run_study(quick=quick, progress=progress, scheduler=scheduler)
        entries = runs_from_study(study)
        steps = sum(int(record["iters"]) for record, *_ in entries)
        if progress:
            line(f"study: {len(entries)} runs, " + f"{steps:,}".replace(",", " ")
                 + f" steps, certified in {time.perf_counter() - started:.1f} s")
        study_kind = "quick" if quick else "default"
    section = None
    if experiments:
        from convcheck.experiment_report import report_section
        section = report_section(figure_dir, quick=quick)
    records, plot_jobs = [], {}
    for record, trace, problem, certificate in entries:
        records.append(record)
        if trace.status == "failed" or len(trace.k) == 0:
            continue
        stem = figure_dir / "runs" / record["id"]
        if isinstance(executor, drawing.Inline):   # drawn here, through the one public entry point
            plot_jobs[record["id"]] = executor.submit(run_plots.save_run_plot, trace, problem, certificate, stem)
        else:                                     # the problem may not pickle: only the data travels
            data = run_plots.run_plot_data(trace, problem, certificate)
            plot_jobs[record["id"]] = executor.submit(drawing.run_plot_job, data, str(stem))
        record["plot"] = f"figures/runs/{record['id']}.png"
    figure_entries, figure_images = [], []
    if figure_job is not None:
        phase = Phase("figures", len(FIGURES), "figure", progress)
        for number, done in enumerate(figure_job.result(), start=1):
            phase.update()
            figure_entries.append({"name": done["name"], "number": number, "title": done["title"],
                                   "caption": done["caption"], "choices": done["choices"],
                                   "files": [f"figures/{done['name']}.{ext}" for ext in ("png", "pdf", "json")]})
            figure_images.append((done["name"], done["title"], done["caption"], done["png"]))
        phase.close(f"{len(FIGURES)} paper figures, computed alongside the study, ready "
                    f"{time.perf_counter() - started:.1f} s after the start", timed=False)
    phase = Phase("run plots", len(plot_jobs), "plot", progress)
    run_images = {}
    for run_id, job in plot_jobs.items():
        run_images[run_id] = job.result()
        phase.update()
    phase.close(f"{len(plot_jobs)} run plots")
    report = {"schema_version": SCHEMA_VERSION,
              "generated": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
              "command": "convcheck " + " ".join(sys.argv[1:]) if sys.argv and "convcheck" in sys.argv[0]
              else "convcheck.reports.report.make_report",
              "versions": {k: str(v) for k, v in library_versions().items()}, "study": study_kind,
              "summary": _summary(records), "runs": records, "figures": figure_entries}
    if section is not None:
        report["experiments"] = {**section["summary"], "files": section["files"]}
    pages = {"run_images": run_images, "run_paths": {k: f"figures/runs/{k}.png" for k in run_images},
             "figure_images": figure_images,
             "figure_paths": [(n, t, c, f"figures/{n}.png") for n, t, c, _ in figure_images], "section": section}
    return report, pages
