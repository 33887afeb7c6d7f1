"""End-to-end ``sweep`` benchmark: the compiled chunk kernel against the generic NumPy engine and JAX.

Each workload is one ``sweep`` call the way a study makes it: B runs of one method on one problem,
each run with its own step schedule t_k = c_b / k^p (c_b differs per run, p = 0.1) and radius
ρ_k = 0.05 / k^0.1, every step recorded (f, ‖∇f‖, step length), Traces assembled. The timed figure is
the wall time of the whole call (validation, planning, the steps, recording, Trace assembly), as
run-steps per second (one step of one run is one unit). The generic engine is the same call with
``CONVCHECK_COMPILED=0``, measured in the same process.

JAX columns (when jax is importable; "—" otherwise): the same B runs written as a JAX user would,
``jax.jit(jax.vmap(lambda x0, c: lax.scan(step, …)))`` in float64 (benchmarks/jax_baselines.py): the
problem's closed-form f and ∇f on the convcheck instance's data, the method's step with convcheck's
default parameters, t_k = c_b·k^-0.1 per run and ρ_k = 0.05·k^-0.1 computed in the scan, and
f(x^k), ‖∇f(x^k)‖ and the step length t_k‖D^k‖ (= ‖x^{k+1} − x^k‖, as convcheck stores it) emitted
at every step, so they come back as (K, B) arrays. "jax" is run-steps/s of one call of the compiled
program including the transfer of those records to NumPy (convcheck's figure includes Trace
assembly); "x jax" is compiled convcheck's rate over JAX's (> 1: convcheck faster). Compilation is
excluded on both sides: convcheck's kernels are loaded by a small sweep, and the JAX program is
called once (block_until_ready) before the timing.

Before timing, each workload is checked at K = 50, B = 4 against both convcheck engines: SAM, VaSSO
and F-SAM are deterministic (F-SAM's EMA draws no noise), so f, ‖∇f‖ and the step lengths must agree
to 1e-9 relative at every step. RSAM draws Δ^k ~ N(0, σ²I): convcheck from NumPy's
default_rng(seed) per run, the benchmarked JAX program from JAX's PRNG (same law, other numbers), so
its trajectories cannot agree exactly; it is checked twice: with convcheck's NumPy draws replayed as
scan inputs (the formula, to 1e-9), and with JAX's PRNG statistically (median final ‖∇f‖ over the
runs within a factor of 2 of convcheck's). The timed JAX RSAM includes its PRNG draws, as
convcheck's includes NumPy's.

Usage::

    python benchmarks/bench_sweep.py                  # K = 2000 and 20 000 (about 15 minutes on 2 cores)
    python benchmarks/bench_sweep.py --iters 2000     # K = 2000 only
    python benchmarks/bench_sweep.py --repeats 3      # the K = 2000 cells repeated: the noise
    python benchmarks/bench_sweep.py --check-only     # the JAX-vs-convcheck checks only (seconds)

Run with ``PYTHONPATH=<an older checkout>`` from that checkout's root to measure an older engine with the
same workloads (the "before" figures in benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time

import numpy as np

import convcheck
from convcheck import schedules, sweep
from convcheck.methods import get as get_method
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
    """B runs from seeded points x0 = c + 0.2 + 0.05·N(0, I), c the problem's minimizer (x_star), else the
    first point its minimizer set lists (for the ring, whose minimizers form the unit circle, that is
    its centre, the origin: the runs start inside the circle and move out to it); c_b ∈ [0.3, 0.5]/L."""
    rng = np.random.default_rng(1)
    centre = getattr(problem, "x_star", None)
    if centre is None:
        centre = problem.meta.minimizer.points[0] if problem.meta.minimizer.points is not None else np.zeros(problem.dim)
    x0s = centre + 0.2 + 0.05 * rng.standard_normal((batch, problem.dim))
    scales = np.linspace(0.3, 0.5, batch) / problem.meta.L
    return [dict(problem=problem, method=method, x0=x0s[b], iters=iters, step=f"power:c={float(scales[b])!r},p=0.1",
                 radius="power:c=0.05,p=0.1", seed=b, record=record) for b in range(batch)]


@contextlib.contextmanager
def engine(compiled: bool):
    """CONVCHECK_COMPILED set for the block, restored after."""
    previous = os.environ.get(ENV_SWITCH)
    os.environ[ENV_SWITCH] = "1" if compiled else "0"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[ENV_SWITCH]
        else:
            os.environ[ENV_SWITCH] = previous


def timed_sweep(configs, compiled: bool) -> tuple:
    """(seconds, engine named in the Traces) of one sweep call."""
    # each call reads its 2B spec texts anew, as a study's first call does (older checkouts cache nothing)
    getattr(schedules, "clear_spec_cache", lambda: None)()
    with engine(compiled):
        start = time.perf_counter()
        traces = sweep(configs, on_error="raise")
        seconds = time.perf_counter() - start
    bad = [t.status_reason for t in traces if t.status != "completed"]
    assert not bad, bad[:3]
    return seconds, traces[0].metadata["engine"]


def timed_jax(run) -> float:
    """Seconds of one call of a compiled JAX program, records brought to NumPy (see jax_baselines)."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def check_jax(problem, method, iters=50, batch=4, tolerance=1e-9) -> str:
    """Assert that the JAX program computes what convcheck's sweep does (see the module doc); return
    the largest relative differences (f, ‖∇f‖, step length) over both engines, as text."""
    configs = configs_for(problem, method, batch, iters)
    random = get_method(method).noise_dim > 0
    exact = jax_baselines.jax_sweep(problem, method, configs, noise="replay" if random else "prng")()
    gaps = np.zeros(3)
    for compiled in (True, False):
        with engine(compiled):
            traces = sweep(configs, on_error="raise")
        assert all(t.status == "completed" for t in traces), [t.status_reason for t in traces]
        for i, name in enumerate(("f", "grad_norm", "step_norm")):
            ours = np.stack([getattr(t, name)[:iters] for t in traces], axis=1)  # (K, B); record K + 1 is x^{K+1}
            gaps[i] = max(gaps[i], np.max(np.abs(exact[i] - ours) / np.maximum(np.abs(ours), 1e-300)))
    gradient_gap = jax_baselines.check_gradients(problem, np.stack([c["x0"] for c in configs]))
    assert gaps.max() <= tolerance and gradient_gap <= tolerance, (gaps, gradient_gap)
    text = f"max rel diff f {gaps[0]:.1e}, |grad| {gaps[1]:.1e}, step {gaps[2]:.1e}"
    text += " (NumPy draws replayed)" if random else ""
    if random:  # JAX's own PRNG: other draws, so only the magnitude can agree
        prng_final = np.median(jax_baselines.jax_sweep(problem, method, configs)()[1][-1])
        ours_final = np.median([t.grad_norm[iters - 1] for t in traces])
        ratio = prng_final / ours_final
        assert 0.5 <= ratio <= 2.0, (prng_final, ours_final)
        text += f"; JAX PRNG: median final |grad| {ratio:.3f}x convcheck's"
    return text


def jax_available() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


from bench_engine import dgemm_flops  # noqa: E402 - benchmarks/bench_engine.py, beside this script

if jax_available():
    import jax_baselines  # benchmarks/jax_baselines.py, beside this script
else:
    jax_baselines = None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, nargs="*", default=[2000, 20000])
    parser.add_argument("--repeats", type=int, default=1, help="repeats of each K = 2000 cell (median shown)")
    parser.add_argument("--only", default="", help="run only workloads whose label contains this text")
    parser.add_argument("--check-only", action="store_true", help="only the JAX-vs-convcheck checks (K = 50, B = 4)")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()} cores={os.cpu_count()} affinity={len(os.sched_getaffinity(0))} "
          f"python={platform.python_version()} numpy={np.__version__} load={os.getloadavg()[0]:.1f} "
          f"convcheck={os.path.dirname(convcheck.__file__)}")
    flops = dgemm_flops()
    print(f"dgemm (1024², float64, all cores): {flops / 1e9:.1f} GFLOP/s; "
          f"JAX: {'importable' if jax_available() else 'not installed (no JAX column)'}")
    if jax_baselines is not None:  # before any timing: a baseline that computes something else is no baseline
        for label, spec, method, _ in WORKLOADS:
            if not args.only or args.only in label:
                print(f"check {label:<22} {check_jax(get_problem(spec), method)}", flush=True)
    if args.check_only:
        return
    print(f"{'workload':<22} {'B':>5} {'K':>6} {'compiled':>10} {'generic':>10} {'x generic':>9} {'jax':>10} "
          f"{'x jax':>6} {'%roof':>6} {'spread':>7} engine")
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
            jax_rate = jax_ratio = "—"
            if jax_baselines is not None:
                run = jax_baselines.jax_sweep(problem, method, configs)
                run()  # compile (and run once) outside the timing
                jax_s = statistics.median(timed_jax(run) for _ in range(repeats))
                del run
                jax_rate, jax_ratio = f"{batch * iters / jax_s:.3g}", f"{jax_s / fast_s:.2f}"
            rate = batch * iters / fast_s
            spread = (max(s for s, _ in fast) - min(s for s, _ in fast)) / fast_s if repeats > 1 else float("nan")
            roof = ""
            if spec.startswith("logsum:n=100") and method == "sam":
                roof = f"{100 * rate * 8 * 100 * 100 / flops:6.1f}"
            print(f"{label:<22} {batch:>5} {iters:>6} {rate:>10.3g} {batch * iters / slow_s:>10.3g} "
                  f"{slow_s / fast_s:>9.2f} {jax_rate:>10} {jax_ratio:>6} {roof:>6} {spread:>7.2f} {fast[0][1]}",
                  flush=True)
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
