"""First-class functions against per-pair specialised kernels: which composition of the chunk kernel is faster.

The chunk kernel (:mod:`convcheck.engine_kernels`) takes the problem's value-and-gradient and the
method's direction rule as Numba first-class functions: compiled once per function, called through a
pointer (no inlining). The alternative compiles the same kernel once per (problem, method) pair with
both functions as dispatcher arguments (Numba then specialises and may inline them). This measures
both on the same arrays, one chunk of 1024 steps of SAM, in one process; compile times apart.

Usage::

    python benchmarks/bench_dispatch.py
"""
from __future__ import annotations

import time

import numba
import numpy as np

from convcheck import engine_kernels, methods
from convcheck.problems import get


def arrays(problem, batch, steps=1024):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, problem.dim))
    t = np.full((steps, batch), 0.1 / problem.meta.L)
    rho = np.full((steps, batch), 0.01)
    noise = np.zeros((steps, 0, batch, problem.dim))
    state = np.zeros((batch, 0, problem.dim))
    ring = np.empty((steps, batch, problem.dim))
    records = [np.empty((steps, batch)) for _ in range(3)]
    summary = (np.zeros(batch, np.int64), np.zeros(batch))  # events and path per run, as the engine passes
    return X, t, rho, noise, state, ring, records, summary


def main():
    specialised = numba.njit(nogil=True, error_model="numpy")(engine_kernels._chunk_kernel)
    print(f"{'problem':<28} {'B':>5} {'first-class':>12} {'per pair':>10} {'ratio':>6} {'pair compile s':>14}")
    for spec, batch in (("logsum:n=2,m=2", 1024), ("logsum:n=20,m=20", 256), ("logsum:n=100,m=100", 256),
                        ("ring:n=2", 1024), ("quadratic:n=100", 256)):
        problem = get(spec)
        kernel = engine_kernels.choose_kernel(problem, methods.sam(), engine_kernels_backend())
        form, rule = kernel.problem, kernel.rule
        vg = numba.njit(nogil=True, error_model="numpy")(form.value_and_grad)
        direction = numba.njit(nogil=True, error_model="numpy")(rule.direction)
        params = np.asarray(rule.params, dtype=np.float64)
        X, t, rho, noise, state, ring, (rf, rg, rs), (events, path) = arrays(problem, batch)
        start = time.perf_counter()
        specialised(vg, direction, X.copy(), form.data, form.dims, t[:1], rho[:1], noise[:1], state, params, ring, 0,
                    True, rf[:1], rg[:1], rs[:1], events, path, 1, 1)
        compile_seconds = time.perf_counter() - start
        rates = {}
        for name in ("first-class", "per pair"):
            best = float("inf")
            for _ in range(3):
                Y = X.copy()
                start = time.perf_counter()
                if name == "first-class":
                    kernel.run_chunk(Y, t, rho, noise, state, ring, 0, True, rf, rg, rs, events, path, 1, 1)
                else:
                    specialised(vg, direction, Y, form.data, form.dims, t, rho, noise, state, params, ring, 0, True,
                                rf, rg, rs, events, path, 1, 1)
                best = min(best, time.perf_counter() - start)
            rates[name] = batch * t.shape[0] / best
        print(f"{spec:<28} {batch:>5} {rates['first-class']:>12.3g} {rates['per pair']:>10.3g} "
              f"{rates['first-class'] / rates['per pair']:>6.2f} {compile_seconds:>14.2f}")


def engine_kernels_backend():
    from convcheck.backend import get_backend
    return get_backend("numpy")


if __name__ == "__main__":
    main()
