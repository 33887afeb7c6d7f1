"""Per-run plots for the report: what one :class:`~convcheck.trace.Trace` did, at a glance.

``plot_run(trace, problem, certificate=None)`` draws, against the iteration number k (paper indexing,
k = 1 is x¹), on log-log axes:

(a) the function gap f(x^k) − f_lim, with f_lim the problem's f* when the catalogue knows it, else the
    limit the certificate observed (``cert["P4"].evidence["f_limit_estimate"]``), else the last
    recorded f. When some f(x^k) lie below f_lim the panel plots |f(x^k) − f_lim| and says so in its
    label; iterations where the gap is exactly 0 cannot be drawn on a log axis and are left out (the
    label says how many);
(b) the gradient norm ‖∇f(x^k)‖;
(c) the step length ‖x^{k+1} − x^k‖;
(d) for 2-D problems, the iterate path (kept iterates: log-spaced checkpoints, then the tail window,
    in order of k) over contour lines of f, log-spaced when f spans decades over the plotted window.

``figure_to_png_bytes`` / ``figure_to_pdf_bytes`` serialise a figure (the HTML report embeds PNGs as
base64) and close it, so that building many plots does not grow memory. ``save_run_plot`` writes
``<stem>.png``, ``<stem>.pdf`` and a ``<stem>.json`` sidecar of the plotted arrays (the report's
``figures/runs/<id>.*``). Long curves are min-max decimated to a few thousand points.
"""
from __future__ import annotations

import io
import textwrap
import math
from pathlib import Path
from typing import Optional

import numpy as np

from . import style  # noqa: F401  (Agg backend before pyplot)
from .style import (DPI, FULL_WIDTH_IN, PALETTE, close, log_contour_levels, new_figure, publication_style,
                    quiet_font_subsetting)

__all__ = ["plot_run", "run_plot_data", "draw_run_plot", "save_run_plot", "reference_value",
           "write_run_plot", "figure_to_png_bytes", "figure_to_pdf_bytes"]

CONTOUR_GRID = 120


def reference_value(trace, problem, certificate=None) -> tuple:
    """(f_lim, where it came from): the problem's f*, the certificate's observed limit, or the last f."""
    f_star = getattr(getattr(problem, "meta", None), "f_star", None)
    if f_star is not None and math.isfinite(float(f_star)):
        return float(f_star), "f*"
    if certificate is not None:
        try:
            estimate = certificate["P4"].evidence.get("f_limit_estimate")
        except (KeyError, TypeError, AttributeError):
            estimate = None
        if estimate is not None and math.isfinite(float(estimate)):
            return float(estimate), "observed limit"
    finite = np.asarray(trace.f, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return (float(finite[-1]), "last value") if finite.size else (0.0, "0")


def _gap_series(trace, f_lim: float, source: str) -> tuple:
    """(k, gap, label, note) of the function-gap panel; see the module docstring for the rules.

    The label is one line (the axis has room for one); what it cannot say (where f_lim came from,
    omitted exact zeros) is the ``note``, drawn inside the panel.
    """
    k = np.asarray(trace.k, dtype=np.float64)
    gap = np.asarray(trace.f, dtype=np.float64) - f_lim
    finite = np.isfinite(gap)
    below = bool(np.any(gap[finite] < 0))
    symbol = "f*" if source == "f*" else "f_lim"
    label = f"|f(xᵏ) − {symbol}|" if below else f"f(xᵏ) − {symbol}"
    gap = np.abs(gap)
    zeros = int(np.sum(finite & (gap == 0)))
    gap[~finite | (gap == 0)] = np.nan
    notes = []
    if source != "f*":
        notes.append(f"f_lim = {source}, {f_lim:.6g}")
    if zeros:
        notes.append(f"{zeros} exact zero{'s' if zeros > 1 else ''} omitted")
    return k, gap, label, "; ".join(notes)


def superscript(text) -> str:
    """``text`` (digits, signs) in Unicode superscripts: "-12" → "⁻¹²"."""
    return str(text).translate(_SUPERSCRIPTS)


_SUPERSCRIPTS = str.maketrans("0123456789-+−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁻")


def _plain_log_formatter():
    """Log-axis tick labels as plain Unicode text ("10⁻²", and "0.215" between decades) instead of mathtext.

    Plain text needs one font and no TeX parsing, which makes a run plot's PNG and PDF about twice
    as fast to write (the PDF embeds one font subset instead of several).
    """
    import re

    from matplotlib.ticker import LogFormatterSciNotation

    pattern = re.compile(r"^\$\\mathdefault\{(?:(?P<m>[0-9.]+)\\times)?(?P<b>\d+)\^\{(?P<e>[^}]*)\}\}\$$")

    class Plain(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            text = super().__call__(x, pos)
            match = pattern.match(text or "")
            if match is None:
                return text.replace("$\\mathdefault{", "").replace("}$", "") if text else text
            if match["m"]:   # a tick between decades: a short plain number ("0.215") keeps the margin
                return f"{x:.3g}"
            return f"{match['b']}{superscript(match['e'])}"

    return Plain


def _positive(values) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array[~np.isfinite(array) | (array <= 0)] = np.nan
    return array


def _path_data(trace, problem) -> Optional[dict]:
    """Kept iterates in order of k, and f on a grid around them (2-D problems only)."""
    order = np.argsort(trace.x_k, kind="stable")
    ks, xy = np.asarray(trace.x_k)[order], np.asarray(trace.x, dtype=np.float64)[order]
    finite = np.all(np.isfinite(xy), axis=1)
    ks, xy = ks[finite], xy[finite]
    if len(xy) == 0:
        return None
    low, high = xy.min(axis=0), xy.max(axis=0)
    centre = (low + high) / 2
    half = max(float((high - low).max()) / 2 * 1.15, 1e-3 * max(1.0, float(np.abs(centre).max())))
    gx = np.linspace(centre[0] - half, centre[0] + half, CONTOUR_GRID)
    gy = np.linspace(centre[1] - half, centre[1] + half, CONTOUR_GRID)
    host = problem.on("numpy") if hasattr(problem, "on") else problem
    with np.errstate(all="ignore"):
        z = np.asarray(host.f(np.stack(np.meshgrid(gx, gy), axis=-1)), dtype=np.float64)
    finite_z = z[np.isfinite(z)]
    levels = log_contour_levels(finite_z) if finite_z.size > 10 and finite_z.max() > finite_z.min() else None
    return {"k": ks, "xy": xy, "contour": {"x": gx, "y": gy, "z": z, "levels": levels}}


RUN_PLOT_BUCKETS = 400  # a panel is about 230 px wide: 400 buckets (≤ 3 points each) already resolve it


def run_plot_data(trace, problem, certificate=None, buckets: int = RUN_PLOT_BUCKETS) -> dict:
    """What :func:`plot_run` draws, as arrays (also the JSON sidecar of :func:`save_run_plot`).

    Curves with more than 2·``buckets`` records are min-max decimated (every bucket of iterations
    keeps its first point and its extremes, see :func:`convcheck.reports.figure_data.thin`).
    """
    from .figure_parts import thin

    method = trace.metadata.get("method", {}).get("spec", "?")
    problem_key = getattr(problem, "key", None) or trace.metadata.get("problem", {}).get("key", "?")
    where = f" at k = {trace.status_k}" if trace.status_k is not None else ""
    data = {"title": f"{method} on {problem_key}: {trace.status}{where}", "status": trace.status,
            "status_reason": trace.status_reason, "method": method, "problem": problem_key}
    if len(trace.k) == 0:
        return data
    f_lim, source = reference_value(trace, problem, certificate)
    k, gap, gap_label, gap_note = _gap_series(trace, f_lim, source)
    series = {"gap": gap, "grad_norm": _positive(trace.grad_norm), "step_norm": _positive(trace.step_norm)}
    for name, values in series.items():
        keep = thin(values, buckets)
        data[name] = {"k": k[keep], "y": values[keep]}
    data.update(f_lim=f_lim, f_lim_source=source, gap_label=gap_label, gap_note=gap_note)
    if getattr(problem, "dim", None) == 2 and len(trace.x) > 0:
        data["path"] = _path_data(trace, problem)
    return data


def _loglog(ax, series: dict, ylabel: str, colour: str, title: str, note: str = "") -> None:
    y = np.asarray(series["y"], dtype=np.float64)
    ax.plot(np.asarray(series["k"], dtype=np.float64), y, color=colour, linewidth=1.0)
    ax.set_xscale("log")
    if np.any(np.isfinite(y)):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_plain_log_formatter()(labelOnlyBase=False))
    else:
        ax.text(0.5, 0.5, "no positive finite values", ha="center", va="center", transform=ax.transAxes)
    ax.xaxis.set_major_formatter(_plain_log_formatter()(labelOnlyBase=False))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(_plain_log_formatter()(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    ax.set_xlabel("iteration k")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if note:
        ax.text(0.02, 0.03, note, transform=ax.transAxes, fontsize=6, color="0.3", ha="left", va="bottom",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})


def _draw_path(ax, path: Optional[dict]) -> None:
    if path is None:
        ax.text(0.5, 0.5, "no finite iterates", ha="center", va="center", transform=ax.transAxes)
        return
    contour = path["contour"]
    if contour["levels"] is not None:
        ax.contour(contour["x"], contour["y"], contour["z"], levels=contour["levels"], colors="0.6",
                   linewidths=0.5, linestyles="solid")  # solid: matplotlib dashes negative levels
    xy, ks = path["xy"], path["k"]
    ax.plot(xy[:, 0], xy[:, 1], color=PALETTE[0], linewidth=0.7, marker=".", markersize=1.5,
            label="kept iterates")
    ax.plot(xy[0, 0], xy[0, 1], "o", color=PALETTE[1], markersize=4, label="x¹")
    ax.plot(xy[-1, 0], xy[-1, 1], "s", color=PALETTE[2], markersize=4, label=f"x{superscript(int(ks[-1]))}")
    # the contour grid is a square around the path: show exactly it, at equal scales
    ax.set_xlim(contour["x"][0], contour["x"][-1])
    ax.set_ylim(contour["y"][0], contour["y"][-1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title("(d) iterate path over level sets of f")
    # below the x label: inside, it would hide part of the path or of the level sets
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), ncols=3, handlelength=1.6, columnspacing=1.0)


def draw_run_plot(data: dict):
    """Draw :func:`run_plot_data`'s dict; returns a matplotlib Figure."""
    two_d = "path" in data
    with publication_style():
        # fixed margins instead of constrained layout: a report draws dozens of these (see style.new_figure)
        if two_d:
            fig, axes = new_figure(2, 2, width=FULL_WIDTH_IN, height=5.4, layout=None)
            fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.86, wspace=0.32, hspace=0.42)
        else:
            fig, axes = new_figure(3, 1, width=FULL_WIDTH_IN, height=2.5, layout=None)
            fig.subplots_adjust(left=0.09, right=0.99, bottom=0.19, top=0.74, wspace=0.45)
        axes = axes.flat
        # long problem keys: wrap the title instead of letting it run off the canvas
        fig.suptitle("\n".join(textwrap.wrap(data["title"], 90)), fontsize="medium")
        if "gap" not in data:
            for ax in axes:
                ax.set_axis_off()
            axes[0].text(0, 0.5, f"no data: {data['status_reason']}", transform=axes[0].transAxes, wrap=True)
            return fig
        _loglog(axes[0], data["gap"], data["gap_label"], PALETTE[0], "(a) function gap", data.get("gap_note", ""))
        _loglog(axes[1], data["grad_norm"], "‖∇f(xᵏ)‖", PALETTE[1], "(b) gradient norm")
        _loglog(axes[2], data["step_norm"], "‖xᵏ⁺¹ − xᵏ‖", PALETTE[2], "(c) step length")
        if two_d:
            _draw_path(axes[3], data["path"])
    return fig


def plot_run(trace, problem, certificate=None):
    """Diagnostic panels of one run (see the module docstring); returns a matplotlib Figure.

    Parameters
    ----------
    trace : :class:`~convcheck.trace.Trace`.
    problem : the problem the run minimised (for f*, and for the contour lines of 2-D problems).
    certificate : optional :class:`~convcheck.properties.verdict.Certificate`; its observed limit of f
        is used when the problem's f* is unknown.
    """
    return draw_run_plot(run_plot_data(trace, problem, certificate))


RUN_PLOT_DPI = 110  # run plots are many and embedded in the HTML page; the PDF keeps full quality


def save_run_plot(trace, problem, certificate, stem, formats=("png", "pdf"), dpi: int = RUN_PLOT_DPI) -> bytes:
    """Write ``stem``.png (and .pdf) and the ``stem``.json sidecar atomically; return the PNG bytes."""
    return write_run_plot(run_plot_data(trace, problem, certificate), stem, formats, dpi)


def write_run_plot(data: dict, stem, formats=("png", "pdf"), dpi: int = RUN_PLOT_DPI) -> bytes:
    """Draw :func:`run_plot_data`'s dict and write ``stem``.png (a palette PNG, see
    :func:`convcheck.reports.palette.page_png`), .pdf and .json atomically; return the PNG bytes."""
    from convcheck.trace import atomic_write_bytes, atomic_write_text

    from .figures import sidecar_json
    from .palette import page_png

    stem = Path(stem)
    fig = draw_run_plot(data)
    try:
        png = page_png(figure_to_png_bytes(fig, dpi=dpi, close_figure=False))
        atomic_write_bytes(stem.with_name(stem.name + ".png"), png)
        if "pdf" in formats:
            atomic_write_bytes(stem.with_name(stem.name + ".pdf"), figure_to_pdf_bytes(fig, close_figure=False))
    finally:
        close(fig)
    atomic_write_text(stem.with_name(stem.name + ".json"), sidecar_json(data))
    return png


# ----------------------------------------------------------------------------- serialisation
def figure_to_png_bytes(fig, dpi: int = DPI, close_figure: bool = True) -> bytes:
    """PNG bytes of ``fig`` (no timestamp metadata); closes the figure unless ``close_figure=False``."""
    buffer = io.BytesIO()
    try:
        with publication_style():
            fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        if close_figure:
            close(fig)
    return buffer.getvalue()


def figure_to_pdf_bytes(fig, close_figure: bool = True) -> bytes:
    """PDF bytes of ``fig`` (no creation date, so reproducible); closes the figure unless told not to."""
    buffer = io.BytesIO()
    try:
        with publication_style():
            with quiet_font_subsetting():
                fig.savefig(buffer, format="pdf", metadata={"CreationDate": None})
    finally:
        if close_figure:
            close(fig)
    return buffer.getvalue()
