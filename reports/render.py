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

from .style import DPI

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
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:0 auto 2em;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-top:.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h2,h3,.run{scroll-margin-top:3em}
nav.bar{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.4em 0;z-index:5;
font-size:.95em}nav.bar a{margin-right:1.2em}
nav.toc{font-size:.92em}nav.toc ol{margin:.2em 0}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
td{overflow-wrap:anywhere}th{background:#f3f3f3}
.ok{background:#e3f4e3}.bad{background:#f8d7d7;font-weight:bold}.warn{background:#fff3cd}.none{color:#777}
.expected{background:#e4ecf7;color:#234;font-style:italic}
.run{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1.2em 0}
.result{border-left:4px solid #8aa;padding-left:1em;margin:1.5em 0}
.statement{background:#f8f8f8;border:1px solid #e3e3e3;padding:.5em .8em;border-radius:4px}
.meta{color:#555;font-size:.9em}code{background:#f5f5f5;padding:0 .2em;overflow-wrap:anywhere}
img{max-width:100%;height:auto}figure{margin:1.5em 0}figcaption{font-size:.9em;color:#444;max-width:75em}
.wide{overflow-x:auto}th code{font-size:.85em;word-break:break-all}
table tr th:first-child{max-width:16em}
label.zoom{display:block}label.zoom input{display:none}label.zoom img{cursor:zoom-in}
label.zoom input:checked+img{position:fixed;top:0;left:0;width:100vw!important;height:100vh;max-width:none;
object-fit:contain;background:#fff;z-index:10;cursor:zoom-out;padding:1em;box-sizing:border-box}
"""

#: CSS pixels per inch of the paper's figures on the page (they are drawn at 3.4 or 7 in with 7–8 pt
#: text; at 150 px/in that text is 14–17 px, and a full-width figure fills the 1050 px column)
FIGURE_PX_PER_IN = 150


def _e(text) -> str:
    return html.escape(escape_controls(text, keep="\n\t"), quote=True)  # control characters made visible, then entities


def png_width(png: bytes) -> int:
    """Pixel width of a PNG (from its IHDR chunk); 0 when ``png`` is not a PNG."""
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        return int.from_bytes(png[16:20], "big")
    return 0


def _img(png: bytes, alt: str, scale: float = 1.0) -> str:
    """An embedded image at ``scale`` × its pixel width (never wider than the page), click to enlarge."""
    width = round(png_width(png) * scale)
    size = f' style="width:{width}px"' if width else ""
    return (f'<label class="zoom" title="click to enlarge"><input type="checkbox"><img alt="{_e(alt)}"{size} '
            f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"></label>')


def _cell(value: str, klass: str = None) -> str:
    return f'<td class="{klass or VERDICT_CLASS.get(value, "")}">{_e(value)}</td>'


def observed_text(run: dict, prop: str) -> tuple:
    """(text, css class) of an observed verdict: a failure the result predicts reads as such."""
    seen = run["observed"].get(prop, "—")
    predicted = run["predicted"].get(prop)
    if seen == "fails" and predicted == "fails":
        return f"fails, as {run['result']} predicts", "expected"
    if seen == "fails" and predicted is None:
        return "fails (no prediction)", "none"
    return seen, VERDICT_CLASS.get(seen, "")


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


def by_result(runs: Iterable[dict]) -> dict:
    """{result: [runs]} in the order results first appear."""
    groups: dict = {}
    for run in runs:
        groups.setdefault(run["result"], []).append(run)
    return groups


def prediction_lines(runs: list) -> list:
    """(property, what the result predicts across its runs) — e.g. "holds in all 12 runs"."""
    out = []
    for p in PROPERTIES:
        values = [r["predicted"].get(p) for r in runs]
        counts = {v: values.count(v) for v in ("holds", "fails") if v in values}
        if not counts:
            continue
        parts = [f"{v} in all {len(runs)} runs" if n == len(runs) else f"{v} in {n} of {len(runs)} runs"
                 for v, n in counts.items()]
        rest = values.count(None)
        if rest:
            parts.append(f"no prediction in {rest} (a further hypothesis is not met)")
        out.append((p, "; ".join(parts)))
    return out


def _combined(runs_in_cell: list) -> str:
    verdicts = {r["verdict"] for r in runs_in_cell}
    for v in ("contradiction", "inconclusive", "consistent"):
        if v in verdicts:
            return v
    return "no prediction"


def _anchor(text: str) -> str:
    return "res-" + "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def figure_label(number: int, title: str) -> str:
    """The caption's label: the sidecar's title, which carries the paper's number ("Figure 1: …") or
    names what a figure the paper does not have shows ("Example 3.4: …"); ``number`` is unused there."""
    return title


def paper_order(figures: list) -> list:
    """Figures in the paper's order: Figure 1, 2, 3 by their number, then the ones the paper lacks."""
    import re

    def key(item):
        match = re.match(r"Figure (\d+)", item[1])
        return (0, int(match.group(1))) if match else (1, 0)
    return sorted(figures, key=key)


def render_html(report: dict, run_images: dict, figures: list) -> str:
    """``figures``: [(name, title, caption, png_bytes)]; ``run_images``: {run id: png_bytes}."""
    groups = by_result(report["runs"])
    figures = paper_order(figures)
    toc = ["<nav class='toc'><b>Contents</b><ol><li><a href='#summary'>Summary</a></li>",
           "<li><a href='#table'>Results × problems</a></li>"]
    if figures:
        toc.append("<li><a href='#figures'>The paper's figures</a><ol>" + "".join(
            f"<li><a href='#fig-{_e(name)}'>{_e(figure_label(i, title))}</a></li>"
            for i, (name, title, _, _) in enumerate(figures, start=1)) + "</ol></li>")
    toc.append("<li><a href='#results'>Results and their runs</a><ol>" + "".join(
        f"<li><a href='#{_anchor(result)}'>{_e(result)}</a> ({len(runs)} run{'s' if len(runs) != 1 else ''})</li>"
        for result, runs in groups.items()) + "</ol></li></ol></nav>")
    bar = ("<nav class='bar'><a href='#summary'>Summary</a><a href='#table'>Results × problems</a>"
           + ("<a href='#figures'>Figures</a>" if figures else "") + "<a href='#results'>Results and runs</a></nav>")
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<title>convcheck report</title>", f"<style>{CSS}</style></head><body>", bar,
             "<h1>convcheck report: convergence of SAM and its variants</h1>",
             "<p class='meta'>Khanh, Luong, Mordukhovich, Tran, <i>Fundamental Convergence Analysis of "
             "Sharpness-Aware Minimization</i>, NeurIPS 2024. "
             f"Generated {_e(report['generated'])} by <code>{_e(report.get('command', ''))}</code>; "
             + ", ".join(f"{_e(k)} {_e(v)}" for k, v in report["versions"].items()) + ".</p>",
             *toc, "<h2 id='summary'>Summary</h2>"]
    parts += [f"<p>{_e(line)}</p>" for line in summary_lines(report)]
    parts.append("<table><tr><th>property</th><th>meaning</th></tr>" + "".join(
        f"<tr><td>{p}</td><td>{_e(PROPERTY_TEXT[p])}</td></tr>" for p in PROPERTIES) + "</table>")
    parts.append(_overview(groups))
    results, problems, cells = result_problem_table(report["runs"])
    parts.append("<h2 id='table'>Results × problems</h2><p class='meta'>Each cell combines the runs of one "
                 "result on one problem (worst verdict first); the links lead to the runs.</p>"
                 "<div class='wide'><table><tr><th>problem</th>"
                 + "".join(f"<th><a href='#{_anchor(r)}'>{_e(r)}</a></th>" for r in results) + "</tr>")
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
        parts.append("<h2 id='figures'>The paper's figures, regenerated</h2><p class='meta'>Click a figure to "
                     "enlarge it; PNG, PDF and the JSON data of each are in <code>figures/</code>.</p>")
        for number, (name, title, caption, png) in enumerate(figures, start=1):
            label = figure_label(number, title)
            parts.append(f"<figure id='fig-{_e(name)}'>{_img(png, label, FIGURE_PX_PER_IN / DPI)}"
                         f"<figcaption><b>{_e(label)}.</b> {_e(caption)}</figcaption></figure>")
    parts.append("<h2 id='results'>Results and their runs</h2>")
    for result, runs in groups.items():
        parts.append(_result_html(result, runs, run_images))
    parts.append("</body></html>")
    return "\n".join(parts)


def _overview(groups: dict) -> str:
    """The paper-style summary: which result predicts which property, and what the runs showed."""
    head = "".join(f"<th>{p}</th>" for p in PROPERTIES)
    rows = []
    for result, runs in groups.items():
        cells = []
        for p in PROPERTIES:
            predicted = {r["predicted"].get(p) for r in runs} - {None}
            text = "/".join(sorted(predicted)) if predicted else "—"
            cells.append(f"<td class='{'expected' if predicted == {'fails'} else ''}'>{_e(text)}</td>")
        verdict = _combined(runs)
        rows.append(f"<tr><th><a href='#{_anchor(result)}'>{_e(result)}</a></th>{''.join(cells)}"
                    f"<td class='{VERDICT_CLASS[verdict]}'>{_e(verdict)} ({len(runs)})</td></tr>")
    return ("<p>What each result predicts (\"holds\" or \"fails\"; — where it says nothing) and how its runs "
            "compare:</p><div class='wide'><table><tr><th>result</th>" + head + "<th>runs</th></tr>"
            + "".join(rows) + "</table></div>")


def _result_html(result: str, runs: list, run_images: dict) -> str:
    statement = next((r.get("statement") for r in runs if r.get("statement")), None)
    predictions = prediction_lines(runs)
    listing = "".join(
        f"<tr><td><a href='#{_e(r['id'])}'>{_e(r['id'])}</a></td><td><code>{_e(r['problem'])}</code></td>"
        f"<td><code>{_e(r['method'])}</code></td><td><code>{_e(r['step'])}</code></td>"
        f"<td><code>{_e(r['radius'])}</code></td>{_cell(r['verdict'])}</tr>" for r in runs)
    return (f"<section class='result' id='{_anchor(result)}'><h3>{_e(result)}</h3>"
            + (f"<p class='statement'>{_e(statement)}</p>" if statement else "")
            + ("<p>Prediction per property:</p><ul>" + "".join(
                f"<li>{p} ({_e(PROPERTY_TEXT[p])}): {_e(text)}</li>" for p, text in predictions) + "</ul>"
               if predictions else "<p>No property is predicted (the result states a bound or a check).</p>")
            + "<div class='wide'><table><tr><th>run</th><th>problem</th><th>method</th><th>step</th>"
              "<th>radius</th><th>verdict</th></tr>" + listing + "</table></div>"
            + "".join(_run_html(r, run_images.get(r["id"])) for r in runs) + "</section>")


def _run_html(run: dict, png) -> str:
    cert = run.get("certificate") or {}
    verdicts = cert.get("verdicts", {})
    rows = []
    for p in PROPERTIES:
        v = verdicts.get(p, {})
        rate = rate_text(v.get("rate"))
        seen, klass = observed_text(run, p)
        rows.append(f"<tr><td>{p}</td><td>{_e(run['predicted'].get(p, '—'))}</td>{_cell(seen, klass)}"
                    f"{_cell(run['comparison'].get(p, '—'))}<td>{_e(v.get('reason', ''))}</td><td>{_e(rate)}</td></tr>")
    hyps = "".join(f"<li>{_e(h.get('name', ''))}: <b>{_e(_decided(h.get('value')))}</b> — {_e(h.get('how', ''))}</li>"
                   for h in run.get("hypotheses") or [])
    details = "".join(f"<li>{_e(d)}</li>" for d in run.get("details") or [])
    return (f"<div class='run' id='{_e(run['id'])}'><h4>{_e(run['id'])}: {_e(run['result'])} — "
            f"<span class='{VERDICT_CLASS.get(run['verdict'], '')}'>{_e(run['verdict'])}</span></h4>"
            f"<p class='meta'>problem <code>{_e(run['problem'])}</code>, method <code>{_e(run['method'])}</code>, "
            f"step <code>{_e(run['step'])}</code>, radius <code>{_e(run['radius'])}</code>, "
            f"{run['iters']} iterations, seed {run['seed']}; status <b>{_e(run['status'])}</b> "
            f"{_e(run.get('status_reason') or '')}</p>"
            + (f"<details><summary>hypotheses and how each was decided</summary><ul>{hyps}</ul></details>"
               if hyps else "")
            + (f"<p class='meta'>checks:</p><ul class='meta'>{details}</ul>" if details else "")
            + "<div class='wide'><table><tr><th>property</th><th>predicted</th><th>observed</th><th>comparison</th>"
              "<th>reason</th><th>observed rate</th></tr>" + "".join(rows) + "</table></div>"
            + (_img(png, f"plots of run {run['id']}") if png else "") + "</div>")


def _decided(value) -> str:
    return {True: "holds", False: "violated", None: "undecided"}.get(value, str(value))


def rate_text(rate) -> str:
    """The certificate's fitted rate as the reason text states it: "k^−1.3 (R² 1.000)", "linear 0.5"."""
    if not rate:
        return ""
    if isinstance(rate, dict):
        model = rate.get("model") or rate.get("kind") or ""
        quality = rate.get("r2", rate.get("r_squared"))
        if model == "power" and isinstance(rate.get("exponent"), (int, float)):
            text = f"power k^−{rate['exponent']:.3g}"
        elif model == "faster than any power" and isinstance(rate.get("exponent"), (int, float)):
            text = f"faster than any power (local slope k^−{rate['exponent']:.3g})"
        elif model == "linear" and isinstance(rate.get("factor"), (int, float)):
            text = f"linear, factor {rate['factor']:.4g} per step"
        else:
            value = rate.get("factor", rate.get("exponent", rate.get("value")))
            text = f"{model} {value:.4g}" if isinstance(value, (int, float)) else f"{model} {value or ''}"
        if isinstance(quality, (int, float)):
            text += f" (R² {quality:.3f})"
        if rate.get("of"):
            text += f", of {rate['of']}"
        return text.strip()
    return str(rate)


def render_markdown(report: dict, run_image_paths: dict, figures: list) -> str:
    """``figures``: [(name, title, caption, relative png path)]; ``run_image_paths``: {run id: relative path}."""
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
    figures = paper_order(figures)
    if figures:
        out += ["", "## The paper's figures, regenerated", ""]
        for number, (name, title, caption, path) in enumerate(figures, start=1):
            label = figure_label(number, title)
            out += [f"![{label}]({path})", "", f"**{label}.** {caption}", ""]
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
            out.append(f"| {p} | {run['predicted'].get(p, '—')} | {observed_text(run, p)[0]} | "
                       f"{run['comparison'].get(p, '—')} | {reason} | {rate_text(v.get('rate'))} |")
        for detail in run.get("details") or []:
            out.append(f"- {md_text(detail)}")
        if run["id"] in run_image_paths:
            out += ["", f"![plots of {run['id']}]({run_image_paths[run['id']]})"]
        out.append("")
    return "\n".join(out)
