"""Render a report (the results.json content plus images) as self-contained HTML and as Markdown.

The HTML embeds every image as a base64 ``data:`` URI and its style inline, so it reads offline and
loads nothing from the network. The Markdown holds the same content and points at the PNG files
under ``figures/``.
"""
from __future__ import annotations

import base64
import html
from typing import Iterable

from convcheck.safe_text import escape as escape_controls, markdown as md_text, markdown_code as md_code

PROPERTIES = ("P1", "P2", "P3", "P4", "P5")
PROPERTY_TEXT = {
    "P1": "liminf ‖∇f(xᵏ)‖ = 0",
    "P2": "every accumulation point is stationary",
    "P3": "lim ‖∇f(xᵏ)‖ = 0",
    "P4": "f(xᵏ) → f(x̄), x̄ stationary",
    "P5": "xᵏ → a stationary point",
}
VERDICT_CLASS = {"consistent": "ok", "contradiction": "bad", "inconclusive": "warn", "no prediction": "none",
                 "holds": "ok", "fails": "bad"}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}
.ok{background:#e3f4e3}.bad{background:#f8d7d7;font-weight:bold}.warn{background:#fff3cd}.none{color:#777}
.run{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1.2em 0}
.meta{color:#555;font-size:.9em}code{background:#f5f5f5;padding:0 .2em}
img{max-width:100%;height:auto}figure{margin:1em 0}figcaption{font-size:.9em;color:#444}
figure img{max-width:720px}.wide{overflow-x:auto}th code{font-size:.85em;word-break:break-all}
table tr th:first-child{max-width:16em}
"""


def _e(text) -> str:
    return html.escape(escape_controls(text, keep="\n\t"), quote=True)  # control characters made visible, then entities


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _cell(value: str) -> str:
    return f'<td class="{VERDICT_CLASS.get(value, "")}">{_e(value)}</td>'


def summary_lines(report: dict) -> list:
    s = report["summary"]
    return [f"Runs certified: {s['runs']} covering {s['results']} result(s) of the paper.",
            f"Consistent: {s['consistent']}; contradiction: {s['contradiction']}; "
            f"inconclusive: {s['inconclusive']}; no prediction: {s['no_prediction']}."]


def result_problem_table(runs: Iterable[dict]) -> tuple[list, list, dict]:
    """(results, problems, {(result, problem): [verdicts]}) for the result × problem table."""
    results, problems, cells = [], [], {}
    for run in runs:
        if run["result"] not in results:
            results.append(run["result"])
        if run["problem"] not in problems:
            problems.append(run["problem"])
        cells.setdefault((run["result"], run["problem"]), []).append(run)
    return results, problems, cells


def _combined(runs_in_cell: list) -> str:
    verdicts = {r["verdict"] for r in runs_in_cell}
    for v in ("contradiction", "inconclusive", "consistent"):
        if v in verdicts:
            return v
    return "no prediction"


def render_html(report: dict, run_images: dict, figures: list) -> str:
    """``figures``: [(name, caption, png_bytes)]; ``run_images``: {run id: png_bytes}."""
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<title>convcheck report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>convcheck report: convergence of SAM and its variants</h1>",
             "<p class='meta'>Khanh, Luong, Mordukhovich, Tran, <i>Fundamental Convergence Analysis of "
             "Sharpness-Aware Minimization</i>, NeurIPS 2024. "
             f"Generated {_e(report['generated'])} by <code>{_e(report.get('command', ''))}</code>; "
             + ", ".join(f"{_e(k)} {_e(v)}" for k, v in report["versions"].items()) + ".</p>",
             "<h2 id='summary'>Summary</h2>"]
    parts += [f"<p>{_e(line)}</p>" for line in summary_lines(report)]
    parts.append("<table><tr><th>property</th><th>meaning</th></tr>" + "".join(
        f"<tr><td>{p}</td><td>{_e(PROPERTY_TEXT[p])}</td></tr>" for p in PROPERTIES) + "</table>")
    results, problems, cells = result_problem_table(report["runs"])
    parts.append("<h2 id='table'>Results × problems</h2><p class='meta'>Each cell combines the runs of one "
                 "result on one problem (worst verdict first); the links lead to the runs.</p>"
                 "<div class='wide'><table><tr><th>problem</th>"
                 + "".join(f"<th>{_e(r)}</th>" for r in results) + "</tr>")
    for problem in problems:
        row = [f"<tr><th><code>{_e(problem)}</code></th>"]
        for result in results:
            runs = cells.get((result, problem))
            if not runs:
                row.append("<td></td>")
                continue
            verdict = _combined(runs)
            links = " ".join(f"<a href='#{_e(r['id'])}'>{_e(r['id'])}</a>" for r in runs)
            row.append(f"<td class='{VERDICT_CLASS[verdict]}'>{_e(verdict)}<br><small>{links}</small></td>")
        parts.append("".join(row) + "</tr>")
    parts.append("</table></div>")
    if figures:
        parts.append("<h2 id='figures'>The paper's figures, regenerated</h2>")
        for name, caption, png in figures:
            parts.append(f"<figure id='fig-{_e(name)}'>{_img(png, name)}<figcaption><b>{_e(name)}.</b> "
                         f"{_e(caption)}</figcaption></figure>")
    parts.append("<h2 id='runs'>Runs</h2>")
    for run in report["runs"]:
        parts.append(_run_html(run, run_images.get(run["id"])))
    parts.append("</body></html>")
    return "\n".join(parts)


def _run_html(run: dict, png) -> str:
    cert = run.get("certificate") or {}
    verdicts = cert.get("verdicts", {})
    rows = []
    for p in PROPERTIES:
        v = verdicts.get(p, {})
        rate = _rate_text(v.get("rate"))
        rows.append(f"<tr><td>{p}</td><td>{_e(run['predicted'].get(p, '—'))}</td>{_cell(run['observed'].get(p, '—'))}"
                    f"{_cell(run['comparison'].get(p, '—'))}<td>{_e(v.get('reason', ''))}</td><td>{_e(rate)}</td></tr>")
    hyps = "".join(f"<li>{_e(h.get('name', ''))}: <b>{_e(_decided(h.get('value')))}</b> — {_e(h.get('how', ''))}</li>"
                   for h in run.get("hypotheses") or [])
    details = "".join(f"<li>{_e(d)}</li>" for d in run.get("details") or [])
    return (f"<div class='run' id='{_e(run['id'])}'><h3>{_e(run['id'])}: {_e(run['result'])} — "
            f"<span class='{VERDICT_CLASS.get(run['verdict'], '')}'>{_e(run['verdict'])}</span></h3>"
            f"<p class='meta'>{_e(run.get('statement') or '')}</p>"
            f"<p class='meta'>problem <code>{_e(run['problem'])}</code>, method <code>{_e(run['method'])}</code>, "
            f"step <code>{_e(run['step'])}</code>, radius <code>{_e(run['radius'])}</code>, "
            f"{run['iters']} iterations, seed {run['seed']}; status <b>{_e(run['status'])}</b> "
            f"{_e(run.get('status_reason') or '')}</p>"
            + (f"<details><summary>hypotheses and how each was decided</summary><ul>{hyps}</ul></details>"
               if hyps else "")
            + (f"<p class='meta'>checks:</p><ul class='meta'>{details}</ul>" if details else "")
            + "<table><tr><th>property</th><th>predicted</th><th>observed</th><th>comparison</th><th>reason</th>"
              "<th>observed rate</th></tr>" + "".join(rows) + "</table>"
            + (_img(png, f"plots of run {run['id']}") if png else "") + "</div>")


def _decided(value) -> str:
    return {True: "holds", False: "violated", None: "undecided"}.get(value, str(value))


def _rate_text(rate) -> str:
    if not rate:
        return ""
    if isinstance(rate, dict):
        kind = rate.get("kind") or rate.get("model") or ""
        value = rate.get("factor", rate.get("exponent", rate.get("value")))
        quality = rate.get("r2", rate.get("r_squared"))
        text = f"{kind} {value:.4g}" if isinstance(value, (int, float)) else f"{kind} {value or ''}"
        if isinstance(quality, (int, float)):
            text += f" (R² {quality:.3f})"
        return text.strip()
    return str(rate)


def render_markdown(report: dict, run_image_paths: dict, figures: list) -> str:
    """``figures``: [(name, caption, relative png path)]; ``run_image_paths``: {run id: relative path}."""
    out = ["# convcheck report: convergence of SAM and its variants", "",
           "Khanh, Luong, Mordukhovich, Tran, *Fundamental Convergence Analysis of Sharpness-Aware "
           "Minimization*, NeurIPS 2024.", "",
           f"Generated {report['generated']} by `{report.get('command', '')}`; "
           + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".", "", "## Summary", ""]
    out += [line + "  " for line in summary_lines(report)]
    out += ["", "| property | meaning |", "|---|---|"] + [f"| {p} | {PROPERTY_TEXT[p]} |" for p in PROPERTIES]
    results, problems, cells = result_problem_table(report["runs"])
    out += ["", "## Results × problems", "", "| result | " + " | ".join(md_code(p).replace("|", "\\|") for p in problems) + " |",
            "|---|" + "---|" * len(problems)]
    for result in results:
        row = []
        for problem in problems:
            runs = cells.get((result, problem))
            row.append(f"{_combined(runs)} ({', '.join(r['id'] for r in runs)})" if runs else "")
        out.append(f"| {result} | " + " | ".join(row) + " |")
    if figures:
        out += ["", "## The paper's figures, regenerated", ""]
        for name, caption, path in figures:
            out += [f"![{name}]({path})", "", f"**{name}.** {caption}", ""]
    out += ["", "## Runs", ""]
    for run in report["runs"]:
        cert = run.get("certificate") or {}
        verdicts = cert.get("verdicts", {})
        out += [f"### {run['id']}: {run['result']} — {run['verdict']}", ""]
        if run.get("statement"):
            out += [run["statement"], ""]
        out += [f"problem {md_code(run['problem'])}, method {md_code(run['method'])}, step {md_code(run['step'])}, "
                f"radius {md_code(run['radius'])}, {run['iters']} iterations, seed {run['seed']}; status "
                f"**{run['status']}** {md_text(run.get('status_reason') or '')}", "",
                "| property | predicted | observed | comparison | reason | observed rate |", "|---|---|---|---|---|---|"]
        for p in PROPERTIES:
            v = verdicts.get(p, {})
            reason = str(v.get("reason", "")).replace("|", "\\|")
            out.append(f"| {p} | {run['predicted'].get(p, '—')} | {run['observed'].get(p, '—')} | "
                       f"{run['comparison'].get(p, '—')} | {reason} | {_rate_text(v.get('rate'))} |")
        for detail in run.get("details") or []:
            out.append(f"- {md_text(detail)}")
        if run["id"] in run_image_paths:
            out += ["", f"![plots of {run['id']}]({run_image_paths[run['id']]})"]
        out.append("")
    return "\n".join(out)
