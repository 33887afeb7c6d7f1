"""Drawing in worker processes: the report's paper figures and run plots, two processes at a time.

Drawing is pure CPU work in matplotlib, which holds the GIL, so ``convcheck report`` draws in separate
processes (:class:`concurrent.futures.ProcessPoolExecutor`, ``fork`` on Linux, started before the study
starts any thread, else ``spawn``; the Agg backend). The paper's figures are submitted before the theorem study starts,
so they are computed and drawn while the study runs; each run plot's data is computed in the main
process (it needs the problem, which may not pickle) and only the drawing is sent to a worker.

The PNGs embedded in the page are palette images (at most :data:`convcheck.reports.palette.PAGE_COLOURS` colours, no
dithering): on line plots this keeps every line and letter and makes the files about four times
smaller. Run plots are written that way; the paper's figures keep their full-colour PNG files and
only their embedded copies are reduced.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path

from .palette import page_png

WORKERS = 2


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from . import style  # noqa: F401  (the Agg backend before pyplot)


def figure_job(name: str, folder: str) -> dict:
    """Compute and write paper figure ``name`` into ``folder``; its title, caption and page PNG."""
    from .figures import figure_data, write_figure

    data = figure_data(name)
    png, _, _ = write_figure(folder, name, data)
    return {"name": name, "title": data.get("title", name), "caption": data.get("caption", ""),
            "choices": list(data.get("choices", [])), "png": page_png(Path(png).read_bytes())}


def figures_job(names: list, folder: str) -> list:
    """:func:`figure_job` for each of ``names`` in turn: one process draws the paper's figures while
    the study runs in the main process, so the two share the two cores without slowing each other."""
    return [figure_job(name, folder) for name in names]


def run_plot_job(data: dict, stem: str) -> bytes:
    """Draw a run plot from :func:`convcheck.reports.run_plots.run_plot_data`'s dict, write its files."""
    from .run_plots import write_run_plot

    return write_run_plot(data, stem)


class Inline(Executor):
    """The same interface, run at once in this process (one worker, or no process support)."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future


def pool(workers: int = WORKERS) -> Executor:
    """An executor for the drawing jobs: ``workers`` processes, or inline when ``workers`` ≤ 1."""
    workers = min(workers, os.cpu_count() or 1)
    if workers <= 1:
        return Inline()
    # fork on Linux (the workers inherit the imported modules, and their CPU time is the parent's
    # children's, so `time convcheck report` counts it); started at once, before the study starts any
    # thread. Elsewhere (macOS, Windows) spawn, the safe default there.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                                   initializer=_init_worker)
    executor.submit(int).result()   # start the workers now (a fork context starts all of them)
    return executor
