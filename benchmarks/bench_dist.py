"""Sweeps on Dask against the in-process sweep: overhead per task and throughput with 1 and 2 workers.

    python benchmarks/bench_dist.py                  # about a minute on 2 cores
    python benchmarks/bench_dist.py --groups 32 --runs 16 --iters 200000

Workload: SAM (t = ρ = 0.02) on logsum (n = m = 20), ``--groups`` instances (one group, and so at
least one task, each) of ``--runs`` runs of ``--iters`` steps. Throughput is run-steps per second of
wall time, cluster start-up excluded (reported apart), each cluster warmed by one sweep first (imports,
JIT). Overhead per task: ``--tiny`` one-step groups, (cluster time − in-process time) / tasks. Every
ratio is against the in-process sweep measured in the same process. Results are checked bitwise equal.
"""
from __future__ import annotations

import argparse
import logging
import os
import platform
import time

import numpy as np


def workload(groups, runs, iters):
    from convcheck import problems
    rng = np.random.default_rng(0)
    return [dict(problem=problems.get(f"logsum:n=20,seed={g}"), method="sam", x0=rng.standard_normal(20),
                 iters=iters, step=0.02, radius=0.02) for g in range(groups) for _ in range(runs)]


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=16)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--iters", type=int, default=50_000)
    parser.add_argument("--tiny", type=int, default=200, help="one-step groups for the overhead per task")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    from convcheck import sweep
    import convcheck.distributed  # noqa: F401  (the extra is installed)

    configs = workload(args.groups, args.runs, args.iters)
    tiny = workload(args.tiny, 1, 1)
    steps = len(configs) * args.iters
    sweep(configs[:args.runs]), sweep(tiny[:2])  # JIT in this process
    t_local, reference = timed(lambda: sweep(configs))
    t_local_tiny, _ = timed(lambda: sweep(tiny))
    print(f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, workload {args.groups} groups x {args.runs} runs x "
          f"{args.iters} steps = {steps:.3g} run-steps; tiny: {args.tiny} one-step groups")
    print(f"in-process       {steps / t_local:10.3g} run-steps/s  ({t_local:.2f} s); tiny {t_local_tiny:.2f} s")
    for workers in (1, 2):
        t_start, cluster = timed(lambda: LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                                                      dashboard_address=":0", silence_logs=logging.ERROR))
        with cluster, Client(cluster) as client:
            sweep(configs[:args.runs], scheduler=client), sweep(tiny[:2], scheduler=client)  # warm-up
            t_dist, got = timed(lambda: sweep(configs, scheduler=client))
            t_tiny, _ = timed(lambda: sweep(tiny, scheduler=client))
        equal = all(np.array_equal(a.x, b.x) and np.array_equal(a.grad_norm, b.grad_norm)
                    for a, b in zip(reference, got))
        print(f"dask {workers} worker(s) {steps / t_dist:10.3g} run-steps/s  ({t_dist:.2f} s, x{t_local / t_dist:.2f} "
              f"in-process); overhead {1e3 * (t_tiny - t_local_tiny) / args.tiny:.1f} ms/task; "
              f"cluster start {t_start:.1f} s; bitwise equal: {equal}")


if __name__ == "__main__":
    main()
