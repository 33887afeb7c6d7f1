"""Progress of ``convcheck report``'s phases: a bar on a terminal, one line per phase otherwise.

Every phase (the study's steps, the paper's figures, the run plots, the pages) ends with one line on
stderr, ``convcheck report: <phase>: <what> in <s> s``, so a log of a run that is not on a terminal
still shows where the time went; on a terminal a tqdm bar shows the phase while it runs. ``--quiet``
(``enabled=False``) prints nothing.
"""
from __future__ import annotations

import sys
import time


class Phase:
    """One phase: ``update(n)`` as items complete, ``close(what)`` prints the phase's line."""

    def __init__(self, name: str, total: int, unit: str, enabled: bool = True):
        self.name, self.total, self.unit, self.enabled = name, total, unit, enabled
        self.started = time.perf_counter()
        self.done = 0
        self.bar = None
        if enabled and total and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=name, unit=unit, leave=False)

    def update(self, count: int = 1) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)

    def close(self, what: str = "", timed: bool = True) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.enabled:
            what = what or f"{self.done} {self.unit}{'s' if self.done != 1 else ''}"
            line(f"{self.name}: {what}" + (f" in {time.perf_counter() - self.started:.1f} s" if timed else ""))


def line(text: str) -> None:
    """One progress line on stderr."""
    print(f"convcheck report: {text}", file=sys.stderr, flush=True)
