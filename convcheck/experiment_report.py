"""Write the Section 5 miniature: the table (paper's layout), Figure 2's panels and the claims' verdicts.

``write_outputs(result, out)`` writes::

    out/experiments.md                 table, claims with effects and intervals, setup
    out/experiments.json               the same numbers, per seed (strict JSON)
    out/experiments_figure2.png|.pdf|.json   training loss and step size against epochs (sidecar as
                                       for the paper's figures: parameters and plotted arrays)

:func:`report_section` is the hook ``convcheck report --experiments`` calls: it writes the figure
into the report's figures folder and returns the section as Markdown and HTML.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

from .experiment_train import METHOD_LABELS
from .experiments import COLUMN_LABELS, COLUMNS, ExperimentResult
from .jsonable import jsonable

FIGURE_NAME = "experiments_figure2"
FIGURE_COLUMNS = ("constant", "diminish1", "diminish2", "diminish3")
STEP_COLUMNS = ("constant", "diminish1", "diminish2", "diminish3", "diminish2-code", "diminish3-code")


# ----------------------------------------------------------------------------- text
def _cell_text(mean: float, half: float) -> str:
    return f"{mean:.2f}" if math.isnan(half) else f"{mean:.2f} ± {half:.2f}"


def table_rows(result: ExperimentResult) -> list:
    """[(momentum, [header...], [[cell text...] per method], [[is best...] per method])] per momentum."""
    header = ["Method"] + [COLUMN_LABELS[c] for c in COLUMNS]
    blocks = {}
    for row in result.table():
        texts = [row["label"]]
        for column in COLUMNS:
            text = _cell_text(*row["cells"][column])
            if column == "constant":
                text += f" (t={row['constant_step']:g})"
            if any(s == column or (column == "constant" and s == f"constant:{row['constant_step']:g}")
                   for s in row["diverged"]):
                text += " †"
            texts.append(text)
        flags = [False] + [c in row["best"] for c in COLUMNS]
        blocks.setdefault(row["momentum"], ([], []))
        blocks[row["momentum"]][0].append(texts)
        blocks[row["momentum"]][1].append(flags)
    return [(momentum, header, texts, flags) for momentum, (texts, flags) in blocks.items()]


def _effect_text(effect: dict, quantity: str) -> str:
    mean, half = effect["mean"], effect["half_width"]
    if quantity == "test_acc":
        interval = "no interval (one seed)" if math.isnan(half) else f"[{mean - half:+.2f}, {mean + half:+.2f}]"
        return f"{effect['comparison']}: {mean:+.2f} pp {interval}"
    ratio = 10 ** mean
    interval = "no interval (one seed)" if math.isnan(half) else f"[{10 ** (mean - half):.3g}, {10 ** (mean + half):.3g}]"
    return f"{effect['comparison']}: loss ratio {ratio:.3g} {interval}"


def claim_lines(result: ExperimentResult) -> list:
    """One line per claim: verdict, the claim, each effect with its 95 % interval."""
    lines = []
    for claim in result.claims():
        effects = "; ".join(_effect_text(e, claim["quantity"]) for e in claim["effects"])
        line = f"**{claim['verdict']}**: {claim['claim']}. {effects}."
        if "rows_best" in claim:
            winners = ", ".join(METHOD_LABELS[m] for m in claim["rows_best"]) or "none"
            line += (f" Diminish 3 has the best (or tied) mean for {len(claim['rows_best'])} of "
                     f"{len(result.config.methods)} methods ({winners}).")
        lines.append(line)
    return lines


def verdict_summary(result: ExperimentResult) -> str:
    """How many of the claim checks each verdict got (each claim × momentum × reading of the schedules)."""
    claims = result.claims()
    counts = {}
    for claim in claims:
        counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    shown = ", ".join(f"{verdict} {count}" for verdict, count in sorted(counts.items(), key=lambda kv: -kv[1]))
    return (f"{len(claims)} checks of Section 5's claims (2 claims × 2 quantities × "
            f"{len(result.config.momenta)} momenta × 2 readings of the schedules): {shown}. A verdict needs the "
            "paired 95 % interval to exclude 0; \"not resolved\" means it does not at this number of seeds.")


def setup_text(result: ExperimentResult) -> str:
    c = result.config
    return (f"Two-layer ReLU network (64-{c.hidden}-10) on scikit-learn's digits (train/validation/test "
            f"1077/360/360, fixed split), {c.epochs} epochs, batch {c.batch_size}, SGD with momentum "
            f"{', '.join(f'{m:g}' for m in c.momenta)} and weight decay {c.weight_decay:g} around each method, "
            f"ρ = {c.rho:g}, η₁ = {c.eta1:g}, constant grid {{{', '.join(f'{v:g}' for v in c.constant_grid)}}} "
            f"(best on validation), seeds {', '.join(map(str, c.seeds))}. Test accuracy (%) at the epoch of best "
            f"validation accuracy, mean ± 95 % t-interval over seeds; best mean per row in bold; † a run of "
            f"that cell diverged. Effects are paired (same seed), averaged over the methods, in percentage "
            f"points (accuracy) or as a ratio of final training losses. Configuration {c.name!r}.")


_SCOPE = ("A miniature: a 2-layer network on 8×8 digits stands in for ResNets on CIFAR, so it tests whether "
          "the comparison's direction carries over, not the paper's numbers.")


def markdown(result: ExperimentResult, figure_path: str = f"{FIGURE_NAME}.png", level: int = 1) -> str:
    h = "#" * level
    out = [f"{h} Section 5 in miniature: constant and diminishing step sizes", "", setup_text(result), "", _SCOPE, ""]
    for momentum, header, texts, flags in table_rows(result):
        out += [f"{h}# Test accuracy, momentum {momentum:g}", "", "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header)]
        for row_text, row_flags in zip(texts, flags):
            out.append("| " + " | ".join(f"**{t}**" if f else t for t, f in zip(row_text, row_flags)) + " |")
        out.append("")
    out += [f"{h}# What the miniature supports", "", verdict_summary(result), ""]
    out += [f"- {line}" for line in claim_lines(result)]
    out += ["", f"![Figure 2 in miniature]({figure_path})", "", figure_caption(result), ""]
    return "\n".join(out)


def html_section(result: ExperimentResult, png: bytes) -> str:
    import base64

    e = lambda text: html.escape(str(text), quote=True)  # noqa: E731
    parts = ["<h2 id='experiments'>Section 5 in miniature: constant and diminishing step sizes</h2>",
             f"<p>{e(setup_text(result))}</p><p>{e(_SCOPE)}</p>"]
    for momentum, header, texts, flags in table_rows(result):
        parts.append(f"<h3>Test accuracy, momentum {momentum:g}</h3><table><tr>"
                     + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        for row_text, row_flags in zip(texts, flags):
            parts.append("<tr>" + "".join(f"<td><b>{e(t)}</b></td>" if f else f"<td>{e(t)}</td>"
                                          for t, f in zip(row_text, row_flags)) + "</tr>")
        parts.append("</table>")
    items = "".join("<li>" + e(line).replace("**", "") + "</li>" for line in claim_lines(result))
    parts.append(f"<h3>What the miniature supports</h3><p>{e(verdict_summary(result))}</p><ul>{items}</ul>")
    parts.append(f"<figure><img alt='{FIGURE_NAME}' src='data:image/png;base64,"
                 f"{base64.b64encode(png).decode('ascii')}'><figcaption>{e(figure_caption(result))}"
                 "</figcaption></figure>")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- figure
def figure_caption(result: ExperimentResult) -> str:
    return ("Figure 2 in miniature: SAM's training loss (mean over seeds of the epoch's mean mini-batch loss) "
            "with the best constant step size and Diminish 1–3 (paper's formulas), for each momentum, and the "
            "step size of every schedule against the epoch, including the code's shifted Diminish 2 and 3.")


def figure_data(result: ExperimentResult, method: str = "sam") -> dict:
    """Figure 2's panels as the figure module's data (one loss panel per momentum, then step sizes)."""
    config, history = result.config, result.histories[method]
    epochs = list(range(1, config.epochs + 1))
    panels = []
    for mi, momentum in enumerate(config.momenta):
        curves = []
        for index, column in enumerate(FIGURE_COLUMNS):
            ci = result.column_index(method, mi, column)
            label = COLUMN_LABELS[column] + (f" (t={config.schedules[ci].split(':')[1]})" if column == "constant" else "")
            curves.append({"x": epochs, "y": history.train_loss[:, :, mi, ci].mean(axis=1), "label": label,
                           "style": index})
        panels.append({"curves": curves, "xlabel": "epoch", "ylabel": "training loss", "yscale": "log",
                       "xscale": "log", "legend_loc": "best",
                       "title": f"{METHOD_LABELS[method]}, momentum {momentum:g}"})
    curves = []
    for index, column in enumerate(STEP_COLUMNS):
        ci = result.column_index(method, 0, column)
        curves.append({"x": epochs, "y": history.step[:, 0, 0, ci], "label": COLUMN_LABELS[column], "style": index})
    panels.append({"curves": curves, "xlabel": "epoch", "ylabel": "step size $t$", "yscale": "log",
                   "xscale": "log", "legend_loc": "best", "title": "step size per epoch"})
    return {"name": FIGURE_NAME, "title": "Figure 2 in miniature (digits, two-layer network)",
            "caption": figure_caption(result), "parameters": {**config.to_dict(), "method": method},
            "layout": {"ncols": len(panels), "nrows": 1, "width": "full", "height": 2.4}, "panels": panels}


# ----------------------------------------------------------------------------- files
def write_outputs(result: ExperimentResult, out) -> list:
    """Write the Markdown, the JSON and the figure (PNG, PDF, sidecar) into folder ``out``; returns paths."""
    from convcheck.reports.figures import write_figure
    from convcheck.trace import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = write_figure(out, FIGURE_NAME, figure_data(result))
    md, data = out / "experiments.md", out / "experiments.json"
    atomic_write_text(md, markdown(result))
    atomic_write_text(data, json.dumps(jsonable(result.to_dict(), nonfinite="none"), indent=1, allow_nan=False))
    return [md, data, *figures]


def report_section(figure_dir, quick: bool = False, progress=None) -> dict:
    """The ``--experiments`` section of ``convcheck report``: run, write the figure, return the section.

    Returns {"markdown", "html", "files" (relative to the report folder), "summary" (JSON-ready)}.
    """
    from convcheck.reports.figures import write_figure

    from .experiments import FULL, QUICK, run_experiments

    result = run_experiments(QUICK if quick else FULL, progress=progress)
    figure_dir = Path(figure_dir)
    paths = write_figure(figure_dir, FIGURE_NAME, figure_data(result))
    files = [f"{figure_dir.name}/{p.name}" for p in paths]
    summary = jsonable({k: v for k, v in result.to_dict().items() if k != "runs"}, nonfinite="none")
    return {"markdown": markdown(result, files[0], level=2), "html": html_section(result, paths[0].read_bytes()),
            "files": files, "summary": summary}


def append_to_pages(folder, section: dict) -> None:
    """Append the section to ``folder``'s report.md and, before ``</body>``, to its index.html."""
    from convcheck.trace import atomic_write_text

    folder = Path(folder)
    page = folder / "report.md"
    atomic_write_text(page, page.read_text(encoding="utf-8") + "\n" + section["markdown"])
    page = folder / "index.html"
    head, body_end, rest = page.read_text(encoding="utf-8").rpartition("</body>")
    atomic_write_text(page, head + section["html"] + body_end + rest if body_end else rest + section["html"])
