"""Throughput benchmark: SAM on Σ log(1 + (Ax − b)_i²) with per-step recording of f, ‖∇f‖, step length.

Measured side by side in one process (float64, recording included):

- convcheck's batched ``sweep`` (B runs as one (B, n) program);
- a per-run Python loop over NumPy (what a researcher writes by hand);
- JAX jit + vmap + lax.scan, when jax is installed (``pip install 'convcheck[bench]'``);
- the roofline: this machine's dgemm throughput, measured here, against 8·m·n flops per SAM step
  (two gradients, two matrix-vector products each).

Usage::

    python benchmarks/bench_engine.py                 # the full grid (several minutes)
    python benchmarks/bench_engine.py --quick         # a small grid
    python benchmarks/bench_engine.py --memory        # SAM, B = 64, n = 100, 10^4 … 10^6 iterations
    python benchmarks/bench_engine.py --gpu           # CuPy vs NumPy (needs a CUDA device)

Figures are run-steps per second (one step of one run = one unit) and ratios against baselines
measured in the same run, never absolute claims.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from convcheck import sweep
from convcheck.backend import get_backend
from convcheck.problems import get as get_problem

RADIUS = 0.05


def step_for(problem) -> float:
    """t = 1/L (L the stated gradient Lipschitz constant): a step in the stable regime. At t = 0.1 SAM on
    this problem (L ≈ 800 at n = 100) is chaotic; the work per step does not depend on t."""
    return 1.0 / problem.meta.L


def dgemm_flops(size: int = 1024, seconds: float = 1.0) -> float:
    """Measured dgemm throughput (flop/s) on square matrices of the given size."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2.0 * size ** 3 * count / (time.perf_counter() - start)


def timed(fn, min_seconds: float, steps: int):
    """Run fn(steps), doubling steps until one call takes at least min_seconds; return (seconds, steps)."""
    while True:
        start = time.perf_counter()
        fn(steps)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or steps > 10 ** 7:
            return elapsed, steps
        steps = int(steps * max(2.0, 1.2 * min_seconds / max(elapsed, 1e-6)))


def convcheck_sweep(problem, batch, record=True, backend="numpy", step=None):
    x0s = problem.x_star + 0.1 / problem.dim ** 2 + 0.01 * np.random.default_rng(1).standard_normal((batch, problem.dim))

    def go(steps):
        configs = [dict(problem=problem, method="sam", x0=x0s[b], iters=steps, step=step or step_for(problem), radius=RADIUS, seed=b,
                        record=record) for b in range(batch)]
        traces = sweep(configs, backend=backend, on_error="raise")
        assert all(t.status == "completed" for t in traces), [t.status_reason for t in traces]
        return traces
    return go


def python_loop(problem, batch):
    A, b, STEP = problem.A, problem.b, step_for(problem)
    x0s = problem.x_star + 0.1 / problem.dim ** 2 + 0.01 * np.random.default_rng(1).standard_normal((batch, problem.dim))

    def go(steps):
        for run_index in range(batch):
            x = x0s[run_index].copy()
            fs, gns, sns = np.empty(steps), np.empty(steps), np.empty(steps)
            for k in range(steps):
                r = A @ x - b
                fs[k] = np.log1p(r * r).sum()
                g = A.T @ (2 * r / (1 + r * r))
                gn = np.linalg.norm(g)
                gns[k] = gn
                rp = A @ (x + RADIUS * g / gn) - b
                gp = A.T @ (2 * rp / (1 + rp * rp))
                x = x - STEP * gp
                sns[k] = STEP * np.linalg.norm(gp)
    return go


def jax_scan(problem, batch):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    A, b, STEP = jnp.asarray(problem.A), jnp.asarray(problem.b), step_for(problem)
    x0s = jnp.asarray(problem.x_star + 0.1 / problem.dim ** 2
                      + 0.01 * np.random.default_rng(1).standard_normal((batch, problem.dim)))

    def value_and_grad(x):
        r = A @ x - b
        return jnp.log1p(r * r).sum(), A.T @ (2 * r / (1 + r * r))

    def one_step(x, _):
        f, g = value_and_grad(x)
        gn = jnp.linalg.norm(g)
        _, gp = value_and_grad(x + RADIUS * g / gn)
        return x - STEP * gp, (f, gn, STEP * jnp.linalg.norm(gp))

    compiled = {}

    def go(steps):
        if steps not in compiled:
            def run_all(x0s):
                return jax.vmap(lambda x0: jax.lax.scan(one_step, x0, None, length=steps))(x0s)
            compiled[steps] = jax.jit(run_all)
            jax.block_until_ready(compiled[steps](x0s))  # compile outside the timing
        jax.block_until_ready(compiled[steps](x0s))

    # compilation is excluded: call once per size before timing
    return go


def measure(n, batch, min_seconds, flops, with_loop=True, with_jax=True):
    problem = get_problem("logsum", n=n, m=n, seed=0)
    row = {"n": n, "m": n, "B": batch}
    seconds, steps = timed(convcheck_sweep(problem, batch), min_seconds, 64)
    row["convcheck"] = batch * steps / seconds
    tracemalloc.start()  # separately: tracing allocations slows NumPy down
    convcheck_sweep(problem, batch)(steps)
    row["convcheck_peak_MiB"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    if with_loop:
        loop_batch = min(batch, 8)  # the loop's cost is linear in B: time a few runs, scale
        seconds, steps = timed(python_loop(problem, loop_batch), min_seconds, 64)
        row["loop"] = loop_batch * steps / seconds
    if with_jax:
        go = jax_scan(problem, batch)
        if go is not None:
            go(steps)  # warm the compiled program for this length
            start = time.perf_counter()
            go(steps)
            row["jax"] = batch * steps / (time.perf_counter() - start)
    row["roofline"] = flops / (8.0 * n * n)
    return row


def print_rows(rows):
    header = f"{'n=m':>5} {'B':>5} {'convcheck':>12} {'loop':>10} {'jax':>12} {'x loop':>7} {'x jax':>6} {'%roof':>6} {'peak MiB':>9}"
    print(header)
    for r in rows:
        loop, jx = r.get("loop"), r.get("jax")
        print(f"{r['n']:>5} {r['B']:>5} {r['convcheck']:>12.4g} {loop or float('nan'):>10.4g} "
              f"{jx or float('nan'):>12.4g} {r['convcheck'] / loop if loop else float('nan'):>7.1f} "
              f"{r['convcheck'] / jx if jx else float('nan'):>6.2f} {100 * r['convcheck'] / r['roofline']:>6.1f} "
              f"{r['convcheck_peak_MiB']:>9.1f}")


def recording_overhead(n=100, batch=256, min_seconds=2.0, repeats=3):
    """Median time with recording over median time without, minus 1; the two alternate, ``repeats``
    times each, so that a slow spell of the shared machine does not fall on one side only."""
    problem = get_problem("logsum", n=n, m=n, seed=0)
    _, steps = timed(convcheck_sweep(problem, batch, record=True), min_seconds, 64)
    seconds = {True: [], False: []}
    for _ in range(repeats):
        for record in (True, False):
            go = convcheck_sweep(problem, batch, record=record)
            start = time.perf_counter()
            go(steps)
            seconds[record].append(time.perf_counter() - start)
    return float(np.median(seconds[True]) / np.median(seconds[False]) - 1.0)


def memory_child(iters: int) -> None:
    import resource
    problem = get_problem("logsum", n=100, m=100, seed=0)
    start = time.perf_counter()
    traces = convcheck_sweep(problem, 64)(iters)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"iters": iters, "peak_rss_MiB": peak, "seconds": elapsed,
                      "records_per_run": len(traces[0].k), "iterates_per_run": len(traces[0].x_k)}))


def memory_benchmark(sizes=(10 ** 4, 10 ** 5, 10 ** 6)):
    print("memory: SAM on logsum n=m=100, B=64 (peak resident set of a fresh process per size)")
    for iters in sizes:
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(iters)], capture_output=True,
                             text=True, check=True)
        print("  " + out.stdout.strip().splitlines()[-1])


def gpu_benchmark(batch=10 ** 4, n=1000, iters=1000, compare_runs=4):
    """CuPy at B = batch, n = m = n against the device's fp64 matmul rate, and agreement with NumPy.

    The step is 1/L (L the problem's stated gradient Lipschitz constant): at t = 0.1 SAM on this
    problem is chaotic and rounding differences between any two BLAS libraries grow to O(1), so
    agreement would measure chaos, not correctness. The work per step does not depend on t.
    """
    backend = get_backend("cupy")
    cp = backend.xp
    size = 8192
    a = cp.random.standard_normal((size, size))
    a @ a
    backend.synchronize()
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < 2.0:
        a @ a
        count += 1
    backend.synchronize()
    gpu_flops = 2 * size ** 3 * count / (time.perf_counter() - start)
    del a
    problem = get_problem("logsum", n=n, m=n, seed=0)
    step = step_for(problem)
    go = convcheck_sweep(problem, batch, backend="cupy", step=step)
    go(5)  # warm-up: CuPy compiles its kernels on first use
    start = time.perf_counter()
    traces = go(iters)
    seconds = time.perf_counter() - start
    engine_seconds = traces[0].metadata["timing"]["batch_seconds"]
    assembly_seconds = traces[0].metadata["timing"]["assembly_seconds"]
    rate = batch * iters / seconds
    roof = gpu_flops / (8.0 * n * n)
    subset = convcheck_sweep(problem, compare_runs, backend="numpy", step=step)(iters)

    def rel(gpu, cpu, name):
        """max |gpu − cpu| / max |cpu| over the steps both traces kept (their thinning differs with B)."""
        keys = ("x_k", "x") if name == "x" else ("k", name)
        ks_gpu, ks_cpu = getattr(gpu, keys[0]), getattr(cpu, keys[0])
        common = np.intersect1d(ks_gpu, ks_cpu)
        a = getattr(gpu, keys[1])[np.searchsorted(ks_gpu, common)]
        b = getattr(cpu, keys[1])[np.searchsorted(ks_cpu, common)]
        return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300)), len(common)
    agreement, compared = {}, {}
    for name in ("x", "f", "grad_norm"):
        pairs = [rel(g, c, name) for g, c in zip(traces, subset)]
        agreement[name] = max(p[0] for p in pairs)
        compared[name] = min(p[1] for p in pairs)
    print(json.dumps({"device_fp64_matmul_TFLOPs": gpu_flops / 1e12, "run_steps_per_s": rate,
                      "seconds_total": seconds, "seconds_engine": engine_seconds,
                      "seconds_assembling_traces": assembly_seconds,
                      "percent_roofline": 100 * rate / roof,
                      "percent_roofline_engine_only": 100 * batch * iters / engine_seconds / roof,
                      "max_rel_diff_vs_numpy": agreement, "compared_runs": compare_runs,
                      "compared_steps_per_run": compared,
                      "batch": batch, "n": n, "iters": iters, "step": step}, indent=1))
    worst = max(agreement.values())
    print(f"agreement with NumPy: {worst:.2e} relative ({'within' if worst <= 1e-10 else 'OUTSIDE'} 1e-10)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-child", type=int)
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum seconds per measurement")
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child)
        return
    if args.gpu:
        gpu_benchmark()
        return
    if args.memory:
        memory_benchmark()
        return
    print(f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
          f"python={platform.python_version()} numpy={np.__version__}")
    flops = dgemm_flops()
    print(f"dgemm (1024x1024, float64): {flops / 1e9:.1f} GFLOP/s")
    sizes = [2, 100] if args.quick else [2, 20, 100, 500]
    batches = [1, 256] if args.quick else [1, 64, 256, 1024]
    rows = []
    for n in sizes:
        for batch in batches:
            rows.append(measure(n, batch, args.seconds, flops))
            print_rows(rows[-1:]) if len(rows) > 1 else print_rows(rows)
    print()
    print_rows(rows)
    print(f"recording overhead at n=m=100, B=256: {100 * recording_overhead():.1f}%")


if __name__ == "__main__":
    main()
