"""The progress bar of a sweep (in-process: over run-steps; on Dask: over tasks)."""
from __future__ import annotations

import sys
from typing import Any


def progress_bar(total: int, progress, unit: str = "step", desc: str = "convcheck") -> Any:
    """A tqdm bar over ``total`` units on a terminal, else None."""
    if not progress or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency; a broken install only loses the bar
        return None
    return tqdm(total=total, unit=unit, desc=desc, leave=False)
