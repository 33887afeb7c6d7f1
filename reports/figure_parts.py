"""What every figure's data is made of: curves (min-max decimated), panels, run and problem
descriptions, and the runs themselves (one batched ``sweep``; a failed run is an error).

Shared by :mod:`convcheck.reports.figure_data` and :mod:`convcheck.reports.figure_data_nonconvex`;
every random instance of every figure is seeded with :data:`SEED`.
"""
from __future__ import annotations

import numpy as np

from convcheck import sweep
from convcheck.errors import ConvcheckError

SEED = 0                 # every random instance of every figure
MAX_BUCKETS = 1000       # curves longer than 2·MAX_BUCKETS points are min-max decimated (see thin)

def thin(y, max_buckets: int = MAX_BUCKETS) -> np.ndarray:
    """Indices of ``y`` to plot: all of them, or min-max decimation over log- and evenly spaced buckets.

    The buckets' edges are the union of log-spaced and evenly spaced indices (so both log and linear
    k axes stay resolved); in each bucket the first point and the points of least and greatest value
    are kept, in order. An oscillating curve therefore keeps its envelope instead of being aliased.
    """
    y = np.asarray(y, dtype=np.float64)
    count = len(y)
    if count <= 2 * max_buckets:
        return np.arange(count)
    half = max_buckets // 2
    logs = np.round(np.geomspace(1, count, half)).astype(np.int64) - 1
    even = np.round(np.linspace(0, count - 1, half)).astype(np.int64)
    edges = np.unique(np.concatenate([logs, even, [count - 1]]))
    keep = [edges]
    filled = np.where(np.isfinite(y), y, np.nan)
    for start, stop in zip(edges[:-1], edges[1:]):
        if stop - start > 2:
            segment = filled[start + 1:stop]
            if np.isfinite(segment).any():
                keep.append(start + 1 + np.array([np.nanargmin(segment), np.nanargmax(segment)]))
    return np.unique(np.concatenate(keep))


def curve(key: str, label: str, x, y, **params) -> dict:
    """One plotted curve (decimated by :func:`thin`) with the parameters of the run behind it."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = thin(y)
    return {"key": key, "label": label, "x": x[keep], "y": y[keep], **params}


ENVELOPE_BUCKETS = 40    # log-spaced ranges of k for envelope curves (about 10 per decade at n = 100)
MIN_BUCKET = 6           # points per envelope range after x¹


def envelope_curve(key: str, label: str, x, y, buckets: int = ENVELOPE_BUCKETS, **params) -> dict:
    """A curve drawn as its envelope: over log-spaced buckets of ``x``, the line through each bucket's
    median and a band from its least to its greatest value. A curve that oscillates from step to step
    shows as a shaded band around its median instead of a solid block of zig-zags; a smooth curve's band
    is as thin as the line. x¹ is its own bucket; every later one holds at least :data:`MIN_BUCKET`
    points, so that a period-2 oscillation is always inside one bucket."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    count = len(x)
    ratio = count ** (1.0 / buckets) if count > 1 else 2.0
    edges = [0, 1]                       # x¹ alone, then ranges of at least MIN_BUCKET points
    while edges[-1] < count:
        edges.append(min(count, max(edges[-1] + MIN_BUCKET, int(round(edges[-1] * ratio)))))
    centre, middle, lower, upper = [], [], [], []
    for start, stop in zip(edges[:-1], edges[1:]):
        chunk = y[start:stop]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size == 0:
            continue
        centre.append(float(np.sqrt(x[start] * x[stop - 1])) if x[start] > 0 else float(x[start]))
        # (a geometric centre: the k axis is logarithmic)
        middle.append(float(np.median(chunk)))
        lower.append(float(chunk.min()))
        upper.append(float(chunk.max()))
    return {"key": key, "label": label, "x": np.array(centre), "y": np.array(middle), "lower": np.array(lower),
            "upper": np.array(upper), **params}


def panel(title: str, xlabel: str, ylabel: str, curves: list, xscale: str = "log", yscale: str = "log",
          **extra) -> dict:
    return {"title": title, "xlabel": xlabel, "ylabel": ylabel, "xscale": xscale, "yscale": yscale,
            "curves": curves, "hlines": extra.pop("hlines", []), **extra}


def run_description(trace) -> dict:
    """The parameters of a run as the trace recorded them (method, schedules, x¹, iterations, seed)."""
    meta = trace.metadata
    return {"method": meta.get("method", {}).get("spec"), "step": _schedule_spec(meta.get("step")),
            "radius": _schedule_spec(meta.get("radius")), "x1": meta.get("x0"), "iters": meta.get("iters"),
            "seed": meta.get("seed"), "status": trace.status, "last_k": trace.last_k}


def _schedule_spec(described):
    if described is None:
        return None
    return described.get("spec", described) if isinstance(described, dict) else described


def problem_description(problem) -> dict:
    return {"name": problem.name, "key": problem.key, "dim": problem.dim,
            "params": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in problem.meta.params.items()},
            "f_star": problem.meta.f_star}


def run_all(configs: list) -> list:
    """Sweep the configs (batched by the runner) and insist that every run produced a trace."""
    traces = sweep(configs, on_error="raise")
    for config, trace in zip(configs, traces):
        if trace.status == "failed":
            raise ConvcheckError(f"figure run {config.get('label', '')!r} failed: {trace.status_reason}")
    return traces


def iterates_by_k(trace) -> tuple:
    """(k, x) of the kept iterates in increasing k (checkpoints, then the tail window)."""
    order = np.argsort(trace.x_k, kind="stable")
    return np.asarray(trace.x_k)[order], np.asarray(trace.x)[order]
