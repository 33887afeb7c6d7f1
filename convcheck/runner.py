"""The batched runner: ``run`` one configuration, ``sweep`` many as one (B, n) array program.

Per step k (paper indexing, x¹ = x0) the runner evaluates f(x^k) and ∇f(x^k) once (fused), hands the
gradient to the method, sets x^{k+1} = x^k − t_k D^k and records f(x^k), ‖∇f(x^k)‖, ‖x^{k+1} − x^k‖,
t_k and ρ_k. Iterates are kept at log-spaced checkpoints and in a ring buffer holding the last
``tail`` iterates, so memory does not grow with the iteration count beyond the per-step scalars,
which are thinned to at most ``max_records`` per run (``record_every`` = ⌈(iters+1)/max_records⌉).

Stops, checked once per chunk of steps (no host synchronisation inside a chunk):
- "stationary": a normalized method met ∇f(x^k) = 0 exactly (the paper's finite termination);
- "diverged": f(x^k), ∇f(x^k) or x^k non-finite, an infinite step, or ‖x^k‖ > ``bound``;
- "undefined_step": f(x^k) and ∇f(x^k) are finite but the step from x^k is NaN: the method's formula
  is undefined there, e.g. a normalized direction d^k/‖d^k‖ with d^k = 0 while ∇f(x^k) ≠ 0
  (Algorithm 1a requires d^k ≠ 0), or a gradient that is undefined at the perturbed point;
the run is removed from the batch at that iteration and the others continue. Runs are deterministic:
random draws come from one ``numpy.random.default_rng(seed)`` per run, drawn on the host.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from . import compiled
from . import methods as methods_module
from . import schedules as schedules_module
from .backend import get_backend
from .errors import ConvcheckError, InputError, RunFailedError, SpecError
from .limits import MAX_ITERS
from .trace import Trace
from .versions import library_versions

DEFAULT_MAX_RECORDS = 1_000_000
DEFAULT_BOUND = 1e50
TAIL_BUDGET_FLOATS = 2 ** 24          # ring buffer cap: B * tail * n floats (128 MiB)
MAX_TAIL = 4096
CHECKPOINTS_PER_DECADE = 16
CHUNK_STEPS = 256
MIN_SHARD = 32                        # fewest runs in a CPU shard
SHARD_FLOATS = 12288                  # B·n per shard: fits the cache (see run_group)
DEFAULT_THREADS = 1                   # shards in parallel threads: no gain measured (see run_group)
LARGE_DIM = 256                       # from this n on BLAS-bound: larger shards, BLAS threads
LARGE_SHARD_FLOATS = 131072           # B·n per shard for n ≥ LARGE_DIM (n = 500: B = 262)
COMPILED_SHARD_FLOATS = 4096          # B·n per shard on compiled kernels (see _run_compiled_shards)
COMPILED_MIN_SHARD = 32               # fewest runs in such a shard: dgemm needs rows


@dataclass
class RunConfig:
    """One validated configuration (what ``run`` takes, normalised)."""

    problem: Any
    method: methods_module.Method
    x0: np.ndarray
    iters: int
    step: Any
    radius: Any
    seed: int = 0
    label: str = ""
    options: dict = field(default_factory=dict)

    def group_key(self):
        from convcheck.problems.base import FunctionProblem
        problem_key = id(self.problem) if isinstance(self.problem, FunctionProblem) else self.problem.key
        # the method's class too: two user classes may share a name and parameters but not their steps
        return (problem_key, self.method.spec, type(self.method), id(self.method) if _has_callable(self.method) else 0,
                self.iters, tuple(sorted(self.options.items())))

    def describe(self) -> dict:
        return {"problem": {"name": self.problem.name, "key": self.problem.key, "dim": self.problem.dim,
                            "params": _jsonable(self.problem.meta.params)},
                "method": self.method.to_dict(), "step": self.step.to_dict(),
                "radius": self.radius.to_dict() if self.radius is not None else None,
                "x0": self.x0.tolist(), "iters": self.iters, "seed": self.seed, "label": self.label,
                "options": dict(self.options)}


def _has_callable(method) -> bool:
    return any(callable(v) for v in method.params.values())


def _jsonable(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, (np.generic,)):
            v = v.item()
        out[k] = v
    return out


def make_config(problem, method, x0=None, iters=1000, step=None, radius=None, seed=0, label="",
                **options) -> RunConfig:
    """Validate ``run``'s keywords into a :class:`RunConfig` (raises ConvcheckError on bad input)."""
    from convcheck import problems as problems_module

    if isinstance(problem, str):
        problem = problems_module.get(problem)
    if not hasattr(problem, "value_and_grad") or not hasattr(problem, "meta"):
        raise InputError(f"problem must be a convcheck Problem or a spec string, got {type(problem).__name__}")
    method = methods_module.get(method)
    if isinstance(iters, bool) or not isinstance(iters, (int, np.integer)) or iters < 1:
        raise InputError(f"iters must be a positive whole number of steps, got {iters!r}")
    iters = int(iters)
    if iters > MAX_ITERS:
        raise InputError(f"iters = {iters} is more than the {MAX_ITERS:.0e} steps a run may take")
    if x0 is None:
        x0 = getattr(problem, "default_x0", None)
        x0 = x0() if callable(x0) else x0
        if x0 is None:
            x0 = np.ones(problem.dim)
    if any(isinstance(v, complex) for v in np.ravel(np.asarray(x0, dtype=object))) or np.iscomplexobj(x0):
        raise InputError("x0 must be real numbers; complex values are refused (their imaginary part would be lost)")
    try:
        x0 = np.array(x0, dtype=np.float64).reshape(-1) if np.ndim(x0) <= 1 else np.array(x0, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"x0 must be a vector of {problem.dim} numbers, got {x0!r}") from None
    if x0.shape != (problem.dim,):
        raise InputError(f"x0 must have shape ({problem.dim},) for problem {problem.key}, got shape {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise InputError(f"x0 must be finite, got {x0.tolist()}")
    if step is None:
        raise InputError("a step schedule is required (for example step=0.1 or step='power:c=0.1,p=1')")
    step = _schedule(step, "step")
    radius = _schedule(radius, "radius") if radius is not None else None
    if method.uses_radius and radius is None:
        raise InputError(f"method {method.name!r} needs a radius schedule (for example radius='constant:0.1')")
    if not method.uses_radius:
        radius = None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative whole number, got {seed!r}")
    known = {"max_records", "record_every", "tail", "bound", "record", "k_offset"}
    unknown = set(options) - known
    if unknown:
        raise InputError(f"unknown run option(s) {', '.join(sorted(unknown))}; accepted: {', '.join(sorted(known))}")
    for name in ("max_records", "tail", "record_every"):
        value = options.get(name)
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise InputError(f"{name} must be a positive whole number, got {value!r}")
    k_offset = options.get("k_offset")
    if k_offset is not None and (isinstance(k_offset, bool) or not isinstance(k_offset, (int, np.integer))
                                 or not 0 <= k_offset <= MAX_ITERS):
        raise InputError(f"k_offset must be a whole number in [0, {MAX_ITERS}], got {k_offset!r}")
    bound = options.get("bound")
    if bound is not None and not (isinstance(bound, (int, float)) and bound > 0):
        raise InputError(f"bound must be a positive number, got {bound!r}")
    _validate_schedule_range(step, iters, "step")
    if radius is not None:
        _validate_schedule_range(radius, iters, "radius")
    return RunConfig(problem, method, x0, iters, step, radius, int(seed), label, options)


def _schedule(value, what):
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, a schedule or a spec string, got {value!r}")
    if isinstance(value, (int, float, np.floating, np.integer)):
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{what} must be a finite number >= 0, got {value!r}")
        return schedules_module.constant(float(value))
    try:
        return schedules_module.from_spec(value)
    except ConvcheckError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise SpecError(f"cannot read {what} schedule {value!r}: {exc}") from None


def _validate_schedule_range(schedule, iters, what):
    schedules_module.check_schedule_values(schedule, iters, what)


def run(problem, method, x0=None, iters=1000, step=None, radius=None, backend="numpy", seed=0,
        progress=False, **options) -> Trace:
    """Run one configuration; see :func:`sweep` for the recorded quantities.

    Parameters
    ----------
    problem : Problem or spec string ("logsum:n=20,seed=0").
    method : Method or spec string ("sam", "vasso:theta=0.9").
    x0 : initial point x¹ of shape (n,) (default: the problem's ``default_x0`` or ones).
    iters : number of steps K (iterates x¹ … x^{K+1}).
    step, radius : schedules, numbers (constant) or spec strings ("power:c=0.1,p=1").
    backend : "numpy" or "cupy".  seed : seeds the run's random draws (RSAM, random errors).
    options : ``max_records``, ``record_every``, ``tail``, ``bound`` (see the module docstring),
        ``k_offset`` (the method's ``direction_step`` sees step number k + k_offset: a run resumed
        after K steps continues the numbering a k-dependent method uses; schedules are shifted
        separately, see :class:`convcheck.check.Shifted`),
        ``record=False`` to skip per-step scalars (benchmarks).
    """
    config = make_config(problem, method, x0, iters, step, radius, seed, **options)
    return execute([config], backend=backend, progress=progress)[0]


def sweep(configs, backend="numpy", progress=False, on_error="record", scheduler=None) -> list:
    """Run many configurations; those sharing a problem instance, method and length run batched.

    Each item of ``configs`` is a dict of :func:`run`'s keywords (or a :class:`RunConfig`). Returns
    one Trace per config, in order. A config that fails validation, or whose run raises (any
    exception, the user's own f, gradient or method included), gets a Trace with status "failed" and
    a one-line reason (``on_error="raise"`` raises a :class:`~convcheck.errors.ConvcheckError`
    instead); the other configurations' results are kept: when a batched group raises, its members
    are rerun one by one so that only the culprit is recorded as failed. ``scheduler`` (a
    ``dask.distributed.Client``, an address "tcp://HOST:PORT" or a number of local worker processes)
    runs the same batches on a Dask cluster, with bitwise the same results (see
    :mod:`convcheck.distributed`; extra ``convcheck[dist]``).
    """
    if scheduler is not None:
        from . import distributed
        return distributed.sweep(configs, scheduler, backend=backend, progress=progress, on_error=on_error)
    return execute(prepare(configs, on_error), backend=backend, progress=progress, on_error=on_error)


def prepare(configs, on_error="record") -> list:
    """Validate sweep items into RunConfigs; with ``on_error="record"`` an invalid item becomes its error."""
    prepared: list = []
    for item in configs:
        try:
            prepared.append(item if isinstance(item, RunConfig) else make_config(**item))
        except ConvcheckError as exc:
            if on_error == "raise":
                raise
            prepared.append(exc)
        except TypeError as exc:
            if on_error == "raise":
                raise InputError(f"bad sweep configuration: {exc}") from None
            prepared.append(InputError(f"bad sweep configuration: {exc}"))
    return prepared


def execute(configs, backend="numpy", progress=False, on_error="raise") -> list:
    """Run validated configs (errors in the list become failed traces), batched by group."""
    backend = get_backend(backend)
    results: list = [None] * len(configs)
    groups: dict = {}
    for index, config in enumerate(configs):
        if isinstance(config, Exception):
            results[index] = failed_trace(None, config)
        else:
            groups.setdefault(config.group_key(), []).append(index)
    # the bar counts run-steps (one per run per step); a run that stops early counts its remaining steps
    # when its group ends, so the bar ends exactly at its total
    bar = _progress_bar(sum(configs[i].iters for g in groups.values() for i in g), progress)
    expected = 0
    for indices in groups.values():
        batch = [configs[i] for i in indices]
        expected += sum(config.iters for config in batch)
        try:
            traces = _guarded(run_group, batch, backend, bar)
        except ConvcheckError as exc:
            if on_error == "raise":
                raise
            # isolate the culprit: the group's configurations one by one, each failure recorded alone
            traces = [_run_alone(config, backend) if len(batch) > 1 else failed_trace(config, exc)
                      for config in batch]
        for i, trace in zip(indices, traces):
            results[i] = trace
        if bar is not None and bar.n != expected:
            bar.update(expected - bar.n)
    if bar is not None:
        bar.close()
    return results


def run_group(batch: list, backend, bar=None, threads: Optional[int] = None) -> list:
    """Run one group of compatible configurations; on a CPU, as cache-sized shards.

    Runs are independent, so a large batch of small problems is split into shards of about
    SHARD_FLOATS values per (B, n) array (at least MIN_SHARD runs), run one after another: measured on
    2 cores, the per-step cost grows faster than linearly once the temporaries leave the cache
    (n = 20: 1.5e6 run-steps/s at B = 512, 0.95e6 at B = 1024). Problems with n ≥ LARGE_DIM are bound
    by BLAS, which prefers larger batches and its own threads: their shards hold LARGE_SHARD_FLOATS
    (n = 500: 4.3e4 run-steps/s at B = 256, 2.7e4 at B = 1024 unsplit). ``threads`` > 1 runs
    shards concurrently with single-threaded BLAS; on the 2-core machine this was measured no faster
    (per-call dispatch holds the GIL), so the default is 1. Results do not depend on the sharding
    beyond BLAS round-off; repeated runs are bitwise identical.
    """
    bounds, workers = shard_plan(batch, backend, threads)
    if len(bounds) == 1:
        return run_shard(batch, len(batch), 1, backend, bar)
    parts = [batch[start:stop] for start, stop in bounds]
    if workers == 1:
        return [trace for part in parts for trace in run_shard(part, len(batch), 1, backend, bar)]
    with _blas_threads(1), ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda part: run_shard(part, len(batch), 1, backend, bar), parts))
    return [trace for part in results for trace in part]


def shard_plan(batch: list, backend, threads: Optional[int] = None) -> tuple:
    """How :func:`run_group` runs ``batch``: the (start, stop) bounds of its shards and the threads that
    run them (> 1: with single-threaded BLAS). The numbers of a run depend on its shard (measured:
    BLAS sums differently for other batch sizes), so :mod:`convcheck.distributed` runs these same
    shards."""
    dim = batch[0].problem.dim
    if compiled.supports(batch[0].problem, batch[0].method, backend):
        count, workers = _compiled_shard_count(batch, threads)
    else:
        shard_floats = SHARD_FLOATS if dim < LARGE_DIM else LARGE_SHARD_FLOATS
        if backend.name != "numpy" or len(batch) * dim <= shard_floats or len(batch) < 2 * MIN_SHARD:
            count = 1
        else:
            count = -(-len(batch) // max(MIN_SHARD, shard_floats // dim))
        workers = max(1, min(threads or DEFAULT_THREADS, count))
    edges = np.linspace(0, len(batch), count + 1).astype(int)
    return [(int(edges[i]), int(edges[i + 1])) for i in range(count)], (workers if count > 1 else 1)


def run_shard(part: list, group_size: int, workers: int, backend, bar=None) -> list:
    """One shard of a group of ``group_size`` runs (the budgets for records and ring are per group), with
    single-threaded BLAS when its group runs ``workers`` > 1 shards at a time."""
    from .engine import BatchEngine

    with _blas_threads(1) if workers > 1 else contextlib.nullcontext():
        return BatchEngine(part, backend, bar, group_size=group_size).run()


def _compiled_shard_count(batch: list, threads: Optional[int]) -> tuple:
    """Shards of a batch on compiled kernels, one thread each, single-threaded BLAS.

    The kernels release the GIL, so the threads run truly in parallel: measured on 2 cores at
    n = m = 100, B = 256 (SAM on logsum), single-threaded dgemm on half the batch runs at 55 GFLOP/s
    per core, against 76 GFLOP/s for one two-threaded dgemm on the whole batch. Shards hold about
    COMPILED_SHARD_FLOATS values per (B, n) array (at least COMPILED_MIN_SHARD runs), so that a shard's
    arrays stay in the core's cache: measured at n = 100, 9.9e5 run-steps/s at B = 64 against 6.0e5 at
    B = 256 in two shards of 128. From n = LARGE_DIM on, dgemm streams A (n² values) once per call and
    wants more rows per call: shards hold LARGE_SHARD_FLOATS values (n = 500, B = 1024: 6.7e4
    run-steps/s with shards of 128–256 runs, 5.3e4 with 32). The shard count is a multiple of the
    threads.
    """
    workers = max(1, min(threads or compiled_threads(), len(batch)))
    dim = batch[0].problem.dim
    per_shard = max(COMPILED_MIN_SHARD, (COMPILED_SHARD_FLOATS if dim < LARGE_DIM else LARGE_SHARD_FLOATS) // dim)
    count = min(len(batch), workers * -(-len(batch) // (per_shard * workers)))  # a multiple of workers
    return count, workers


def compiled_threads() -> int:
    """Threads for compiled shards: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _blas_threads(limit):
    if limit is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # declared dependency; without it BLAS keeps its own threading
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def _guarded(function, *args):
    """``function(*args)``, with any exception that is not a ConvcheckError (the user's own code
    raising, typically) turned into a one-line :class:`RunFailedError` chained to the original."""
    try:
        return function(*args)
    except ConvcheckError:
        raise
    except Exception as exc:  # noqa: BLE001 -- user code may raise anything; recorded, never lost
        raise RunFailedError.wrap(exc) from exc


def _run_alone(config: RunConfig, backend) -> Trace:
    try:
        return _guarded(run_group, [config], backend)[0]
    except ConvcheckError as exc:
        return failed_trace(config, exc)


def failed_trace(config: Optional[RunConfig], exc: Exception) -> Trace:
    """A Trace that records a configuration that could not run (status "failed")."""
    empty = np.zeros(0)
    dim = config.problem.dim if config is not None else 0
    meta = config.describe() if config is not None else {}
    meta.update(versions=library_versions(), error=str(exc), error_type=type(exc).__name__)
    return Trace(k=empty.astype(np.int64), f=empty, grad_norm=empty, step_norm=empty, step_size=empty,
                 radius=empty, x_k=empty.astype(np.int64), x=np.zeros((0, dim)), tail_start=0,
                 status="failed", status_k=None, status_reason=str(exc), metadata=meta)


def _progress_bar(total: int, progress, unit: str = "step", desc: str = "convcheck") -> Any:
    """A tqdm bar over ``total`` units on a terminal, else None (also the Dask sweep's bar over tasks)."""
    if not progress or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency; a broken install only loses the bar
        return None
    return tqdm(total=total, unit=unit, desc=desc, leave=False)


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

