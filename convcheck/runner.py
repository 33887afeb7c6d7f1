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

The flow, one way: :mod:`convcheck.run_config` validates the keywords; :func:`execute` groups the
runs; per group :mod:`convcheck.engine_plan` decides once the kernel, the shards and the memory
budget; :mod:`convcheck.engine_shards` runs the shards, each a
:class:`~convcheck.engine_loop.BatchEngine` (the generic NumPy step, or a compiled chunk kernel from
:mod:`convcheck.engine_kernels`), which assembles the Traces.
"""
from __future__ import annotations

from . import distributed
from .backend import get_backend
from .engine_plan import checkpoint_steps, tail_length  # noqa: F401 - re-exported
from .engine_shards import guarded, run_group
from .errors import ConvcheckError
from .progress import progress_bar
from .run_config import (DEFAULT_BOUND, RunConfig, failed_trace, make_config,  # noqa: F401 - re-exported
                         prepare)
from .trace import Trace


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
        return distributed.sweep(configs, scheduler, backend=backend, progress=progress, on_error=on_error)
    return execute(prepare(configs, on_error), backend=backend, progress=progress, on_error=on_error)


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
    bar = progress_bar(sum(configs[i].iters for g in groups.values() for i in g), progress)
    expected = 0
    for indices in groups.values():
        batch = [configs[i] for i in indices]
        expected += sum(config.iters for config in batch)
        try:
            traces = guarded(run_group, batch, backend, bar)
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


def _run_alone(config: RunConfig, backend) -> Trace:
    try:
        return guarded(run_group, [config], backend)[0]
    except ConvcheckError as exc:
        return failed_trace(config, exc)
