"""Draw and write the paper's figures: ``convcheck figures --out DIR``.

For each name in :data:`FIGURES` (data from :mod:`convcheck.reports.figure_data`; the choices the paper
leaves open are listed there and in :mod:`convcheck.reports.figure_data_nonconvex`)::

    DIR/<name>.png    200 dpi, column or full width, publication style (:mod:`convcheck.reports.style`)
    DIR/<name>.pdf    vector version (fonts embedded as TrueType; no creation date, so reproducible)
    DIR/<name>.json   the sidecar: name, title, caption, every parameter (problem and seed, methods,
                      schedules, x¹, iterations) and the plotted arrays as lists; non-finite numbers
                      are written as null. It is enough to re-plot the figure (``draw_figure(name, data)``
                      accepts the parsed sidecar).

Files are written atomically (temporary file, then rename), PNG and PDF first and the sidecar last.
"""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np

from convcheck.jsonable import jsonable

from . import style  # first: selects the Agg backend before pyplot is imported anywhere
from .figure_data import FIGURES, figure_data
from .style import (COLUMN_WIDTH_IN, DPI, FULL_WIDTH_IN, close, curve_style, log_contour_levels, new_figure,
                    publication_style, quiet_font_subsetting)

__all__ = ["FIGURES", "figure_data", "draw_figure", "make_figures", "figure_files", "sidecar_json"]

SUFFIXES = (".png", ".pdf", ".json")


# ----------------------------------------------------------------------------- drawing
def draw_figure(name: str, data: dict):
    """Draw figure ``name`` from its data (``figure_data(name)`` or a parsed sidecar); returns a Figure."""
    layout = data.get("layout", {})
    ncols, nrows = int(layout.get("ncols", 1)), int(layout.get("nrows", 1))
    width = FULL_WIDTH_IN if layout.get("width") == "full" else COLUMN_WIDTH_IN
    height = layout.get("height")
    with publication_style():
        fig, axes = new_figure(ncols, nrows, width=width, height=height)
        shared = layout.get("shared_legend", False)
        for ax, panel in zip(axes.flat, data["panels"]):
            if panel.get("path") is not None:
                _draw_path_panel(ax, panel)
            else:
                _draw_curve_panel(ax, panel, legend=not shared)
        if shared:
            handles, labels = axes.flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))
    fig.set_label(name)
    return fig


def _draw_curve_panel(ax, panel: dict, legend: bool = True) -> None:
    for index, item in enumerate(panel["curves"]):
        x = np.asarray(item["x"], dtype=np.float64)
        y = _floats(item["y"])
        look = curve_style(item.get("style", index))
        if "lower" in item:   # an envelope: the band from each bucket's least to greatest value
            ax.fill_between(x, _floats(item["lower"]), _floats(item["upper"]), color=look["color"], alpha=0.18,
                            linewidth=0, zorder=item.get("zorder", 3 + 0.1 * index) - 1)
        look["markevery"] = _marker_indices(x, index, len(panel["curves"]), panel.get("xscale", "linear"))
        ax.plot(x, y, label=item["label"], zorder=item.get("zorder", 3 + 0.1 * index), **look)
    for line in panel.get("hlines", []):
        ax.axhline(line["y"], color="0.35", linewidth=0.8, linestyle=(0, (1, 1.5)), label=line.get("label"),
                   zorder=2)
    _decorate(ax, panel)
    if legend and (panel["curves"] or panel.get("hlines")):
        ax.legend(loc=panel.get("legend_loc", "best"))


def _floats(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)


def _marker_indices(x, index: int, count: int, xscale: str, markers: int = 7) -> list:
    """About ``markers`` marker positions per curve, staggered between curves so markers never coincide."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) <= 2:
        return list(range(len(x)))
    low, high = x[0], x[-1]
    fraction = (np.arange(markers) + (index + 0.5) / max(count, 1)) / markers
    if xscale == "log" and low > 0 and high > low:
        targets = low * (high / low) ** fraction
    else:
        targets = low + (high - low) * fraction
    return sorted(set(np.searchsorted(x, targets).clip(0, len(x) - 1).tolist()))


def _decorate(ax, panel: dict) -> None:
    ax.set_xscale(panel.get("xscale", "linear"))
    ax.set_yscale(panel.get("yscale", "linear"))
    ax.set_xlabel(panel["xlabel"])
    ax.set_ylabel(panel["ylabel"])
    if panel.get("title"):
        ax.set_title(panel["title"])
    if panel.get("ylim"):
        ax.set_ylim(*panel["ylim"])
    if panel.get("xlim"):
        ax.set_xlim(*panel["xlim"])


def _draw_path_panel(ax, panel: dict) -> None:
    """A 2-D iterate path over contour lines of f (levels from the sidecar), with optional circle."""
    path = panel["path"]
    contour = panel.get("contour")
    if contour is not None:
        z = np.asarray(contour["z"], dtype=np.float64)
        levels = contour.get("levels")
        levels = log_contour_levels(z) if levels is None else np.asarray(levels, dtype=np.float64)
        ax.contour(np.asarray(contour["x"]), np.asarray(contour["y"]), z, levels=levels, colors="0.45",
                   linewidths=0.6, linestyles="solid", zorder=1)  # solid: matplotlib dashes negative levels
        ax.plot([], [], color="0.45", linewidth=0.6, label="level sets of $f$")  # legend entry for the contours
    circle = panel.get("circle")
    if circle is not None:
        angle = np.linspace(0, 2 * math.pi, 400)
        cx, cy = circle.get("centre", [0.0, 0.0])
        ax.plot(cx + circle["radius"] * np.cos(angle), cy + circle["radius"] * np.sin(angle), color="0.15",
                linewidth=0.8, linestyle="-", label=circle.get("label"), zorder=2)
    guide = panel.get("guide")
    if guide is not None:
        guide_xy = np.asarray(guide["xy"], dtype=np.float64)
        ax.plot(guide_xy[:, 0], guide_xy[:, 1], color=style.PALETTE[3], linewidth=0.9, linestyle=(0, (4, 2)),
                label=guide.get("label"), zorder=2)
    xy = np.asarray(path["xy"], dtype=np.float64)
    if path.get("markers"):   # a few points (a cycle): every iterate shown, joined by thin lines
        ax.plot(xy[:, 0], xy[:, 1], color=style.PALETTE[0], linewidth=0.5, marker="o", markersize=2.5,
                label=path.get("label"), zorder=3)
    else:
        ax.plot(xy[:, 0], xy[:, 1], color=style.PALETTE[0], linewidth=1.0, label=path.get("label"), zorder=3)
    point = panel.get("point")
    if point is not None:
        ax.plot([point["xy"][0]], [point["xy"][1]], "*", color="0.1", markersize=7, label=point.get("label"),
                zorder=5)
    ax.plot(xy[:1, 0], xy[:1, 1], "o", color=style.PALETTE[1], markersize=4, label="$x^1$", zorder=4)
    ax.plot(xy[-1:, 0], xy[-1:, 1], "s", color=style.PALETTE[2], markersize=4, label="last iterate", zorder=4)
    ax.set_aspect("equal", adjustable="datalim")
    _decorate(ax, panel)
    # below the axes: a path panel has no empty corner to hold a legend
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize="small", handlelength=1.8,
              columnspacing=1.0)


# ----------------------------------------------------------------------------- sidecar
def _plain(value):
    """JSON-ready: arrays to lists, NumPy scalars to Python, non-finite floats to None."""
    return jsonable(value, nonfinite="none")


def sidecar_json(data: dict) -> str:
    """The sidecar text of a figure's data (strict JSON: no NaN or Infinity)."""
    return json.dumps(_plain(data), separators=(",", ":"), allow_nan=False)


# ----------------------------------------------------------------------------- writing
def figure_files(out, name: str) -> list:
    """The three files of figure ``name`` in folder ``out``: png, pdf, json."""
    return [Path(out) / f"{name}{suffix}" for suffix in SUFFIXES]


def render_bytes(fig, fmt: str) -> bytes:
    """Serialise a figure to PNG or PDF bytes without timestamps (reproducible files)."""
    buffer = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
    with quiet_font_subsetting():
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def write_figure(out, name: str, data: dict) -> list:
    """Draw ``data`` and write the figure's png, pdf and json atomically; returns the three paths."""
    from convcheck.trace import atomic_write_bytes, atomic_write_text

    png, pdf, sidecar = figure_files(out, name)
    fig = draw_figure(name, data)
    try:
        with publication_style():
            atomic_write_bytes(png, render_bytes(fig, "png"))
            atomic_write_bytes(pdf, render_bytes(fig, "pdf"))
    finally:
        close(fig)
    atomic_write_text(sidecar, sidecar_json(data))
    return [png, pdf, sidecar]


def make_figures(out, force: bool = False, resume: bool = False, names=None) -> list:
    """Regenerate the paper's figures into folder ``out``.

    Parameters
    ----------
    out : folder (created if missing).
    force : replace figure files already in ``out``.
    resume : keep every figure whose three files already exist, and (re)make the others. With both
        ``force`` and ``resume``, complete figures are kept and incomplete ones replaced.
    names : which figures (default: all of :data:`FIGURES`, in that order).

    Returns
    -------
    list[pathlib.Path] : the png, pdf and json of every requested figure (written now or kept).

    Raises
    ------
    OutputExistsError : ``out`` already holds figure files and neither ``force`` nor ``resume`` is set.
    UnknownNameError : a name not in :data:`FIGURES`.
    """
    from convcheck.errors import OutputExistsError, unknown_name

    names = list(FIGURES) if names is None else [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in FIGURES:
            raise unknown_name("figure", name, FIGURES)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {str(out)!r} is a file; give a folder for the figures")
    existing = [path for name in FIGURES for path in figure_files(out, name) if path.exists()]
    if existing and not (force or resume):
        shown = ", ".join(p.name for p in existing[:4]) + (" …" if len(existing) > 4 else "")
        raise OutputExistsError(f"output folder {str(out)!r} already holds figure files ({shown}); "
                                "use --force to replace them or --resume to keep the finished ones")
    out.mkdir(parents=True, exist_ok=True)
    paths: list = []
    for name in names:
        files = figure_files(out, name)
        if resume and all(path.is_file() for path in files):
            paths.extend(files)
            continue
        paths.extend(write_figure(out, name, figure_data(name)))
    return paths
