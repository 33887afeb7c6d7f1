"""End-to-end ``sweep`` benchmark: the compiled chunk kernel against the generic NumPy engine (and JAX).

Each workload is one ``sweep`` call the way a study makes it: B runs of one method on one problem,
each run with its own step schedule t_k = c_b / k^p (c_b differs per run, p = 0.1) and radius
ρ_k = 0.05 / k^0.1, every step recorded (f, ‖∇f‖, step length), Traces assembled. The timed figure is
the wall time of the whole call (validation, planning, the steps, recording, Trace assembly), as
run-steps per second (one step of one run is one unit). The generic engine is the same call with
``CONVCHECK_COMPILED=0``, measured in the same process; JAX (jit + vmap + lax.scan, same recording)
when importable. Compilation is excluded: each pair runs once before the timing.

Usage::

    python benchmarks/bench_sweep.py                  # K = 2000 and 20 000 (about 15 minutes on 2 cores)
    python benchmarks/bench_sweep.py --iters 2000     # K = 2000 only
    python benchmarks/bench_sweep.py --repeats 3      # the K = 2000 cells repeated: the noise

Run with ``PYTHONPATH=<an older checkout>`` from that checkout's root to measure an older engine with the
same workloads (the "before" figures in benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import convcheck
from convcheck import sweep
from convcheck.problems import get as get_problem

ENV_SWITCH = "CONVCHECK_COMPILED"  # read by convcheck.jit.available (and by older checkouts' engines)

WORKLOADS = [  # (label, problem spec, method, B)
    ("logsum n=m=100 SAM", "logsum:n=100,m=100,seed=0", "sam", 256),
    ("logsum n=m=2 SAM", "logsum:n=2,m=2,seed=0", "sam", 1024),
    ("quadratic n=100 SAM", "quadratic:n=100,cond=10", "sam", 256),
    ("ring n=2 SAM", "ring:n=2", "sam", 1024),
    ("rosenbrock n=2 SAM", "rosenbrock:n=2", "sam", 1024),
    ("logsum n=m=100 RSAM", "logsum:n=100,m=100,seed=0", "rsam", 256),
    ("logsum n=m=100 VaSSO", "logsum:n=100,m=100,seed=0", "vasso", 256),
    ("logsum n=m=100 F-SAM", "logsum:n=100,m=100,seed=0", "fsam", 256),
]


def configs_for(problem, method, batch, iters, record=True):
    """B runs from seeded points near the minimizer (or near 1.2·e for the ring); c_b ∈ [0.3, 0.5]/L."""
    rng = np.random.default_rng(1)
    centre = getattr(problem, "x_star", None)
    if centre is None:
        centre = problem.meta.minimizer.points[0] if problem.meta.minimizer.points is not None else np.zeros(problem.dim)
    x0s = centre + 0.2 + 0.05 * rng.standard_normal((batch, problem.dim))
    scales = np.linspace(0.3, 0.5, batch) / problem.meta.L
    return [dict(problem=problem, method=method, x0=x0s[b], iters=iters, step=f"power:c={float(scales[b])!r},p=0.1",
                 radius="power:c=0.05,p=0.1", seed=b, record=record) for b in range(batch)]


def timed_sweep(configs, compiled: bool) -> tuple:
    """(seconds, engine named in the Traces) of one sweep call."""
    previous = os.environ.get(ENV_SWITCH)
    os.environ[ENV_SWITCH] = "1" if compiled else "0"
    try:
        start = time.perf_counter()
        traces = sweep(configs, on_error="raise")
        seconds = time.perf_counter() - start
    finally:
        if previous is None:
            del os.environ[ENV_SWITCH]
        else:
            os.environ[ENV_SWITCH] = previous
    bad = [t.status_reason for t in traces if t.status != "completed"]
    assert not bad, bad[:3]
    return seconds, traces[0].metadata["engine"]


def dgemm_flops(size: int = 1024, seconds: float = 1.0) -> float:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2.0 * size ** 3 * count / (time.perf_counter() - start)


def jax_available() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, nargs="*", default=[2000, 20000])
    parser.add_argument("--repeats", type=int, default=1, help="repeats of each K = 2000 cell (median shown)")
    parser.add_argument("--only", default="", help="run only workloads whose label contains this text")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()} cores={os.cpu_count()} affinity={len(os.sched_getaffinity(0))} "
          f"python={platform.python_version()} numpy={np.__version__} load={os.getloadavg()[0]:.1f} "
          f"convcheck={os.path.dirname(convcheck.__file__)}")
    flops = dgemm_flops()
    print(f"dgemm (1024², float64, all cores): {flops / 1e9:.1f} GFLOP/s; "
          f"JAX: {'importable' if jax_available() else 'not installed (no JAX column)'}")
    print(f"{'workload':<22} {'B':>5} {'K':>6} {'compiled':>10} {'generic':>10} {'x generic':>9} {'%roof':>6} "
          f"{'spread':>7} engine")
    for label, spec, method, batch in WORKLOADS:
        if args.only and args.only not in label:
            continue
        problem = get_problem(spec)
        timed_sweep(configs_for(problem, method, 4, 3), True)  # load the compiled functions
        for iters in args.iters:
            configs = configs_for(problem, method, batch, iters)
            repeats = args.repeats if iters <= 2000 else 1
            fast = [timed_sweep(configs, True) for _ in range(repeats)]
            slow = [timed_sweep(configs, False) for _ in range(repeats)]
            fast_s = statistics.median(s for s, _ in fast)
            slow_s = statistics.median(s for s, _ in slow)
            rate = batch * iters / fast_s
            spread = (max(s for s, _ in fast) - min(s for s, _ in fast)) / fast_s if repeats > 1 else float("nan")
            roof = ""
            if spec.startswith("logsum:n=100") and method == "sam":
                roof = f"{100 * rate * 8 * 100 * 100 / flops:6.1f}"
            print(f"{label:<22} {batch:>5} {iters:>6} {rate:>10.3g} {batch * iters / slow_s:>10.3g} "
                  f"{slow_s / fast_s:>9.2f} {roof:>6} {spread:>7.2f} {fast[0][1]}", flush=True)
    if not args.only or "record" in args.only:
        problem = get_problem("logsum:n=100,m=100,seed=0")
        times = {True: [], False: []}
        for _ in range(3):
            for record in (True, False):
                os.environ[ENV_SWITCH] = "1"
                start = time.perf_counter()
                sweep(configs_for(problem, "sam", 256, 2000, record=record), on_error="raise")
                times[record].append(time.perf_counter() - start)
        overhead = statistics.median(times[True]) / statistics.median(times[False]) - 1.0
        print(f"recording overhead (logsum n=m=100, SAM, B=256, K=2000, medians of 3): {100 * overhead:.1f}%")


if __name__ == "__main__":
    main()
