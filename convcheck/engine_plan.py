"""The decisions of a batched run, made once per group of runs at the top and passed down.

:func:`make_plan` fixes, for one group of configurations that share problem, method, length and
options (see :func:`convcheck.run_config.RunConfig.group_key`):

- the kernel: a compiled chunk kernel (:func:`convcheck.engine_kernels.choose_kernel`) or None, the
  generic NumPy step (:mod:`convcheck.engine_loop`);
- the shards the group is split into and the threads that run them (CPU cache and BLAS, see
  :func:`shard_bounds`);
- the memory budget of every shard: steps per chunk (``CHUNK_STEPS`` at most), the ring of the last
  ``tail`` iterates, the log-spaced checkpoints and the thinning ``record_every`` of the per-step
  scalars. Budgets are per group, so a run keeps the same records however the group is sharded.

Nothing below this module decides any of these again; :mod:`convcheck.distributed` sends the same
plan to its workers, so results are bitwise those of the in-process sweep.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from . import engine_kernels

CHUNK_STEPS = 1024                    # steps per chunk: one host synchronisation (and one kernel call) each
RECORD_BUDGET_BYTES = 64 * 2 ** 20   # per-step scalars kept per group (5 float64 per run per record)
NOISE_BUDGET_FLOATS = 2 ** 22        # random draws held per chunk and shard
TAIL_BUDGET_FLOATS = 2 ** 24          # ring buffer cap: B * tail * n floats (128 MiB)
MAX_TAIL = 4096
CHECKPOINTS_PER_DECADE = 16
MIN_SHARD = 32                        # fewest runs in a CPU shard
SHARD_FLOATS = 12288                  # B·n per shard: fits the cache (see shard_bounds)
DEFAULT_THREADS = 1                   # generic shards in parallel threads: no gain measured
LARGE_DIM = 256                       # from this n on BLAS-bound: larger shards, BLAS threads
LARGE_SHARD_FLOATS = 131072           # B·n per shard for n ≥ LARGE_DIM (n = 500: B = 262)
COMPILED_SHARD_FLOATS = 4096          # B·n per shard on compiled kernels (see shard_bounds)
COMPILED_MIN_SHARD = 32               # fewest runs in such a shard: dgemm needs rows


@dataclass(frozen=True)
class Plan:
    """How one group of runs is run. ``kernel`` None: the generic NumPy step.

    ``shards``: (start, stop) bounds into the group; ``workers``: shards run at a time (> 1: threads with
    single-threaded BLAS); ``group_size``: runs in the whole group; ``chunk``: steps per chunk;
    ``tail``: iterates in the ring; ``record_every``: keep the scalars of steps k ≡ 1 (mod record_every);
    ``checkpoints``: the log-spaced steps whose iterates are kept.
    """

    kernel: Optional[Any]
    shards: tuple
    workers: int
    group_size: int
    chunk: int
    tail: int
    record_every: int
    checkpoints: frozenset

    @property
    def engine_name(self) -> str:
        """What a Trace's ``metadata["engine"]`` says ran."""
        return f"compiled:{self.kernel.name}" if self.kernel is not None else "numpy"


def make_plan(batch: list, backend, threads: Optional[int] = None) -> Plan:
    """The plan of one group ``batch`` of RunConfigs on ``backend`` (see the module doc)."""
    first = batch[0]
    dim, iters, options = first.problem.dim, first.iters, first.options
    kernel = engine_kernels.choose_kernel(first.problem, first.method, backend, steps=iters)
    shards, workers = shard_bounds(len(batch), dim, backend, kernel is not None, threads)
    max_records = options.get("max_records") or max(2, RECORD_BUDGET_BYTES // (40 * len(batch)))
    record_every = options.get("record_every") or max(1, math.ceil((iters + 1) / max_records))
    tail = tail_length(len(batch), dim, options.get("tail"), iters)
    chunk = min(CHUNK_STEPS, max(1, tail // 4))  # x^k of a whole chunk is still in the ring at its end
    if first.method.noise_dim:
        largest_shard = max(stop - start for start, stop in shards)
        chunk = min(chunk, max(1, NOISE_BUDGET_FLOATS // (largest_shard * dim * first.method.noise_dim)))
    return Plan(kernel, tuple(shards), workers, len(batch), chunk, tail, record_every,
                frozenset(checkpoint_steps(iters).tolist()))


def shard_bounds(runs: int, dim: int, backend, compiled: bool, threads: Optional[int] = None) -> tuple:
    """(the (start, stop) bounds of the shards of ``runs`` runs, the threads that run them).

    Runs are independent, so a large batch of small problems is split into shards run one after
    another. Generic engine: about SHARD_FLOATS values per (B, n) array (at least MIN_SHARD runs);
    measured on 2 cores, the per-step cost grows faster than linearly once the temporaries leave the
    cache (n = 20: 1.5e6 run-steps/s at B = 512, 0.95e6 at B = 1024). Problems with n ≥ LARGE_DIM are
    bound by BLAS, which prefers larger batches and its own threads: LARGE_SHARD_FLOATS. ``threads`` > 1
    runs generic shards concurrently with single-threaded BLAS, measured no faster on 2 cores (the
    per-call dispatch holds the GIL), so the default is 1.

    Compiled kernels release the GIL, so their shards run in one thread per core with single-threaded
    BLAS (measured at n = m = 100, B = 256, SAM on logsum: single-threaded dgemm on half the batch at
    55 GFLOP/s per core, against 76 GFLOP/s for one two-threaded dgemm on the whole batch); their shards
    hold about COMPILED_SHARD_FLOATS values (at least COMPILED_MIN_SHARD runs) so that a shard stays in
    the core's cache (n = 100: 9.9e5 run-steps/s at B = 64 against 6.0e5 at B = 256 in two shards), and
    LARGE_SHARD_FLOATS from n = LARGE_DIM on (dgemm streams A once per call and wants rows). Their
    shard count is a multiple of the threads.

    The numbers of a run depend on its shard (BLAS sums differently for other batch sizes); results do
    not otherwise depend on the sharding, and repeated runs are bitwise identical.
    """
    if compiled:
        workers = max(1, min(threads or compiled_threads(), runs))
        per_shard = max(COMPILED_MIN_SHARD, (COMPILED_SHARD_FLOATS if dim < LARGE_DIM else LARGE_SHARD_FLOATS) // dim)
        count = min(runs, workers * -(-runs // (per_shard * workers)))
    else:
        shard_floats = SHARD_FLOATS if dim < LARGE_DIM else LARGE_SHARD_FLOATS
        if backend.name != "numpy" or runs * dim <= shard_floats or runs < 2 * MIN_SHARD:
            count = 1
        else:
            count = -(-runs // max(MIN_SHARD, shard_floats // dim))
        workers = max(1, min(threads or DEFAULT_THREADS, count))
    edges = np.linspace(0, runs, count + 1).astype(int)
    return [(int(edges[i]), int(edges[i + 1])) for i in range(count)], (workers if count > 1 else 1)


def compiled_threads() -> int:
    """Threads for compiled shards: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def tail_length(batch_size: int, dim: int, requested: Optional[int], iters: int) -> int:
    """Iterates kept in the ring per run: as requested, else as many as TAIL_BUDGET_FLOATS allows (at
    least 64, at most MAX_TAIL) but no more than the run has (a ring is allocated, and page-faulted,
    anew for every batch)."""
    if requested is not None:
        return int(requested)
    budget = max(64, min(MAX_TAIL, TAIL_BUDGET_FLOATS // max(1, batch_size * dim)))
    return int(min(budget, max(64, iters + 1)))


def checkpoint_steps(iters: int) -> np.ndarray:
    """Log-spaced iteration numbers in [1, iters+1] (always including 1 and iters+1)."""
    last = iters + 1
    count = max(2, int(math.ceil(CHECKPOINTS_PER_DECADE * math.log10(last))) + 1)
    ks = np.unique(np.round(np.logspace(0, math.log10(last), count)).astype(np.int64))
    return np.unique(np.concatenate([[1], ks, [last]]))
