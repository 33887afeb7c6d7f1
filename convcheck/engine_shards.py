"""Running one group of runs by its :class:`~convcheck.engine_plan.Plan`: shards, threads, BLAS threads.

:func:`run_group` makes the plan (once) and runs its shards, one after another or in threads;
:func:`run_shard` runs one shard with :class:`~convcheck.engine_loop.BatchEngine`. The Dask sweep
(:mod:`convcheck.distributed`) calls :func:`run_shard` on its workers with the same plan.
"""
from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from .engine_loop import BatchEngine
from .engine_plan import Plan, make_plan
from .errors import ConvcheckError, RunFailedError


def run_group(batch: list, backend, bar=None, threads: Optional[int] = None) -> list:
    """Run one group of compatible configurations (see :func:`convcheck.engine_plan.make_plan`)."""
    plan = make_plan(batch, backend, threads)
    parts = [batch[start:stop] for start, stop in plan.shards]
    if plan.workers == 1:
        return [trace for part in parts for trace in run_shard(part, plan, backend, bar)]
    with blas_threads(1), ThreadPoolExecutor(max_workers=plan.workers) as pool:
        results = list(pool.map(lambda part: run_shard(part, plan, backend, bar), parts))
    return [trace for part in results for trace in part]


def run_shard(part: list, plan: Plan, backend, bar=None) -> list:
    """One shard of a group run by ``plan``, with single-threaded BLAS when the plan runs shards in
    threads."""
    with blas_threads(1) if plan.workers > 1 else contextlib.nullcontext():
        return BatchEngine(part, plan, backend, bar).run()


def blas_threads(limit):
    """A context that limits BLAS to ``limit`` threads (threadpoolctl; a no-op without it)."""
    if limit is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # declared dependency; without it BLAS keeps its own threading
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def guarded(function, *args):
    """``function(*args)``, with any exception that is not a ConvcheckError (the user's own code
    raising, typically) turned into a one-line :class:`RunFailedError` chained to the original."""
    try:
        return function(*args)
    except ConvcheckError:
        raise
    except Exception as exc:  # noqa: BLE001 -- user code may raise anything; recorded, never lost
        raise RunFailedError.wrap(exc) from exc
