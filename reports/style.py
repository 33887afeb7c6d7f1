"""Publication style for convcheck's figures: readable at one-column width (about 3.4 in).

The paper's figures are reproduced at column width (3.4 in) or two-column width (7.0 in) with 8-pt
text, thin lines and a colour cycle that stays distinguishable in grey-scale print (each colour also
gets its own line style and marker). Everything here is pure configuration: the matplotlib backend
is forced to the non-interactive "Agg" before pyplot is imported, so no window ever opens.

Also here: the helpers every log-scale plot needs, :func:`positive_for_log` (how exact zeros and
round-off negatives are shown on a log axis, stated in the caption) and :func:`log_contour_levels`.
"""
from __future__ import annotations

import contextlib

import matplotlib

matplotlib.use("Agg")  # before pyplot: never open a window (reports run headless)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLUMN_WIDTH_IN = 3.4     # one column of a two-column paper
FULL_WIDTH_IN = 7.0       # both columns
DPI = 200                 # PNG resolution: crisp at column width on screen and in print

#: colour-blind-safe palette (Okabe–Ito), then line styles and markers so curves survive grey print
#: (black fifth: orange #E69F00 next to vermillion #D55E00 is hard to tell apart, so it comes later)
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#56B4E9", "#E69F00", "#F0E442"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1)), "-", "--"]
MARKERS = ["o", "s", "^", "v", "D", "x", "+", "*"]

RC_PARAMS = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "legend.frameon": False,
    "legend.handlelength": 2.6,
    "figure.dpi": 100,
    "pdf.fonttype": 42,        # embed TrueType: text stays selectable and editable in the PDF
    "ps.fonttype": 42,
    "mathtext.fontset": "dejavusans",
    "svg.hashsalt": "convcheck",  # deterministic ids
}

#: smallest positive double: stands in for an exact zero on a log axis (said so in captions)
TINY = float(np.finfo(np.float64).tiny)


@contextlib.contextmanager
def publication_style():
    """Context manager applying :data:`RC_PARAMS` (restores the previous settings on exit)."""
    with matplotlib.rc_context(RC_PARAMS):
        yield


def curve_style(index: int) -> dict:
    """Colour, line style and marker of the ``index``-th curve (markers are placed by the caller)."""
    i = index % len(PALETTE)
    return {"color": PALETTE[i], "linestyle": LINESTYLES[i], "marker": MARKERS[i],
            "markerfacecolor": "none"}


def new_figure(ncols: int = 1, nrows: int = 1, width: float = COLUMN_WIDTH_IN, height: float = None,
               layout: "str | None" = "constrained", **subplot_kw):
    """A figure of ``nrows`` × ``ncols`` axes at the given width; height defaults to a 4:3 panel.

    Uses :class:`matplotlib.figure.Figure` directly (not pyplot's registry), so a figure the caller
    forgets to close is garbage-collected instead of accumulating in pyplot's global state.
    ``layout=None`` skips constrained layout (it measures every tick label, which dominates the cost
    of small plots drawn by the dozen); the caller then sets margins with ``subplots_adjust``.
    """
    from matplotlib.figure import Figure

    if height is None:
        height = 0.75 * width / ncols * nrows + 0.35
    fig = Figure(figsize=(width, height), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def positive_for_log(values, floor: float = TINY):
    """Values to plot on a log axis, and how many had to be changed.

    Exact zeros and negative round-off (f − f* < 0 by a few ulps) have no place on a log axis; they are
    clipped to ``floor`` (the smallest positive double by default). Non-finite values stay NaN (a gap).

    Returns
    -------
    (array, int) : the clipped values and the number of entries that were ≤ 0.
    """
    array = np.array(values, dtype=np.float64)
    nonpositive = np.isfinite(array) & (array <= 0)
    array[nonpositive] = floor
    array[~np.isfinite(array)] = np.nan
    return array, int(nonpositive.sum())


def spans_decades(values, decades: float = 2.0) -> bool:
    """True when the positive finite ``values`` span more than ``decades`` orders of magnitude."""
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array) & (array > 0)]
    return bool(array.size) and float(np.log10(array.max() / array.min())) > decades


def log_contour_levels(values, count: int = 14) -> np.ndarray:
    """Contour levels for a surface ``values``: log-spaced above its minimum when it spans decades.

    Levels are ``min + geomspace(·)`` of the excess over the minimum, so level sets crowd near the
    minimizers, where the iterate paths end, instead of near the steep walls.
    """
    array = np.asarray(values, dtype=np.float64)
    array = array[np.isfinite(array)]
    low, high = float(array.min()), float(array.max())
    excess = array - low
    positive = excess[excess > 0]
    if positive.size and spans_decades(positive, 2.0):
        start = max(float(np.quantile(positive, 0.002)), high * 1e-12 if high > 0 else TINY, TINY)
        return low + np.geomspace(start, high - low, count)
    return np.linspace(low, high, count + 2)[1:-1]


@contextlib.contextmanager
def quiet_font_subsetting():
    """Silence fontTools' warnings while a PDF embeds fonts.

    Embedding TrueType (Type 42, which publishers accept where they reject Type 3) subsets matplotlib's
    DejaVu fonts with fontTools, which logs "'created' timestamp seems very low" for their zero
    header dates. The message is harmless and would otherwise reach the command line's stderr.
    """
    import logging

    logger = logging.getLogger("fontTools")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def close(fig) -> None:
    """Release a figure's memory (works for pyplot-managed and free-standing figures)."""
    plt.close(fig)
    fig.clear()
