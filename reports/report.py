"""``convcheck report``: run the built-in study (or load given traces), certify, and write the report.

Output folder layout::

    DIR/index.html      self-contained page (images embedded, no network access)
    DIR/report.md       the same content as Markdown (images under figures/)
    DIR/results.json    every run: configuration, status, certificate, prediction (schema: reports/schema.py)
    DIR/figures/        the paper's figures (PNG, PDF, JSON sidecar each) and runs/<id>.png|.pdf|.json

The folder is assembled in a temporary sibling folder and renamed into place at the end, so an
interrupted report leaves no half-written folder; an existing folder is replaced only with ``force``.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from convcheck.errors import OutputExistsError
from convcheck.trace import Trace, atomic_write_text
from convcheck.versions import library_versions

from .render import PROPERTIES, render_html, render_markdown
from .schema import SCHEMA_VERSION


def compare(predicted: dict, observed: dict) -> tuple[dict, str]:
    """Per-property and overall comparison of a prediction with a certificate's verdicts.

    A predicted "holds" observed "fails" (or the reverse) is a contradiction; a predicted property
    observed "inconclusive" is inconclusive; all predicted properties observed as predicted is
    consistent; no predicted property is "no prediction".
    """
    comparison = {}
    for p in PROPERTIES:
        if p not in predicted:
            continue
        seen = observed.get(p, "inconclusive")
        if seen == "inconclusive":
            comparison[p] = "inconclusive"
        else:
            comparison[p] = "consistent" if seen == predicted[p] else "contradiction"
    values = set(comparison.values())
    if not values:
        return comparison, "no prediction"
    for verdict in ("contradiction", "inconclusive"):
        if verdict in values:
            return comparison, verdict
    return comparison, "consistent"


def _summary(runs: list) -> dict:
    counts = {"consistent": 0, "contradiction": 0, "inconclusive": 0, "no prediction": 0}
    for run in runs:
        counts[run["verdict"]] += 1
    return {"runs": len(runs), "results": len({r["result"] for r in runs}), "consistent": counts["consistent"],
            "contradiction": counts["contradiction"], "inconclusive": counts["inconclusive"],
            "no_prediction": counts["no prediction"]}


def _run_record(index, result, result_id, statement, trace, predicted, hypotheses, certificate) -> dict:
    meta = trace.metadata
    observed = dict(certificate.summary) if certificate is not None else {}
    comparison, verdict = compare(predicted, observed)
    return {"id": f"run{index:03d}", "result": result, "result_id": result_id, "statement": statement,
            "problem": meta.get("problem", {}).get("key", "?"), "method": meta.get("method", {}).get("spec", "?"),
            "step": (meta.get("step") or {}).get("spec", "?"),
            "radius": (meta.get("radius") or {}).get("spec") if meta.get("radius") else None,
            "x0": [float(v) for v in meta.get("x0", [])], "iters": int(meta.get("iters", max(1, trace.last_k - 1))),
            "seed": int(meta.get("seed", 0)), "status": trace.status, "status_reason": trace.status_reason or "",
            "predicted": dict(predicted), "observed": observed, "comparison": comparison, "verdict": verdict,
            "hypotheses": hypotheses, "certificate": certificate.to_dict() if certificate is not None else None}


def runs_from_study(study) -> list:
    """(record, trace, problem, certificate) for each run of the theorem study."""
    out = []
    for index, row in enumerate(study.rows, start=1):
        record = _run_record(index, row.result_label, row.result_id, row.statement, row.trace, row.predicted,
                             row.hypotheses_json(), row.certificate)
        out.append((record, row.trace, row.problem, row.certificate))
    return out


def runs_from_traces(paths) -> list:
    """Load, certify and predict for saved traces (catalogue problems are rebuilt from the metadata)."""
    from convcheck.properties import applicable, certify, problem_from_trace

    out = []
    for path in paths:
        trace = Trace.load(path)
        problem = problem_from_trace(trace, path)
        certificate = certify(trace, problem) if trace.status != "failed" else None
        meta = trace.metadata
        results = [] if trace.status == "failed" else applicable(
            problem, meta["method"]["spec"], meta["step"]["spec"], (meta.get("radius") or {}).get("spec"))
        applying = [r for r in results if r.applies]
        if applying:
            for result in applying:
                record = _run_record(len(out) + 1, result.label, result.result_id, result.statement, trace,
                                     result.predicted, result.hypotheses_json(), certificate)
                out.append((record, trace, problem, certificate))
        else:
            record = _run_record(len(out) + 1, f"{Path(path).name} (no result applies)", None, None, trace, {},
                                 [], certificate)
            out.append((record, trace, problem, certificate))
    return out


def make_report(out, traces=None, quick=False, figures=True, force=False, resume=False, progress=True) -> str:
    """Write the report folder ``out``; return a short summary for the terminal."""
    from . import run_plots
    from .figures import FIGURES, make_figures

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {str(out)!r} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise OutputExistsError(f"output folder {str(out)!r} is not empty; pass --force to replace it")
    if traces is not None:
        for path in traces:
            Trace.load(path)  # refuse bad files before any work
        entries = runs_from_traces(traces)
        study_kind = "traces"
    else:
        from convcheck.properties.study import run_study
        entries = runs_from_study(run_study(quick=quick, progress=progress))
        study_kind = "quick" if quick else "default"
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent if out.parent.exists() else None))
    try:
        figure_dir = staging / "figures"
        (figure_dir / "runs").mkdir(parents=True)
        figure_entries, figure_images = [], []
        if figures:
            make_figures(figure_dir, force=True)
            for name in FIGURES:
                sidecar = json.loads((figure_dir / f"{name}.json").read_text())
                caption = sidecar.get("caption", "")
                figure_entries.append({"name": name, "caption": caption,
                                       "files": [f"figures/{name}.{ext}" for ext in ("png", "pdf", "json")]})
                figure_images.append((name, caption, (figure_dir / f"{name}.png").read_bytes()))
        records, run_images, run_image_paths = [], {}, {}
        for record, trace, problem, certificate in entries:
            records.append(record)
            if trace.status == "failed" or len(trace.k) == 0:
                continue
            png = run_plots.save_run_plot(trace, problem, certificate, figure_dir / "runs" / record["id"])
            run_images[record["id"]] = png
            run_image_paths[record["id"]] = f"figures/runs/{record['id']}.png"
            record["plot"] = run_image_paths[record["id"]]
        report = {"schema_version": SCHEMA_VERSION,
                  "generated": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
                  "command": "convcheck " + " ".join(sys.argv[1:]) if sys.argv and "convcheck" in sys.argv[0]
                  else "convcheck.reports.report.make_report",
                  "versions": {k: str(v) for k, v in library_versions().items()}, "study": study_kind,
                  "summary": _summary(records), "runs": records, "figures": figure_entries}
        atomic_write_text(staging / "results.json", json.dumps(report, indent=1, allow_nan=False))
        atomic_write_text(staging / "report.md", render_markdown(report, run_image_paths,
                                                                 [(n, c, f"figures/{n}.png") for n, c, _ in figure_images]))
        atomic_write_text(staging / "index.html", render_html(report, run_images, figure_images))
        _move_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    s = report["summary"]
    return (f"{out}/index.html: {s['runs']} runs, {s['results']} results; consistent {s['consistent']}, "
            f"contradiction {s['contradiction']}, inconclusive {s['inconclusive']}, no prediction {s['no_prediction']}")


def _move_into_place(staging: Path, out: Path) -> None:
    if out.exists():
        trash = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, trash)
        os.replace(staging, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, out)
