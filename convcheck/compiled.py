"""Compiled chunk kernels: whole chunks of steps of the hottest (problem, method) pairs in one call.

The generic engine (:mod:`convcheck.engine`) advances a batch with about 30 NumPy calls per step;
for small and mid-sized problems that dispatch, and one memory pass per elementwise call, cost more
than the arithmetic. Here a chunk of C steps of one batch runs inside one Numba-compiled function:
the matrix products stay in BLAS (``np.dot`` calls dgemm directly, BLAS-3 over the batch), the
elementwise work of a gradient is one fused pass per row, and nothing returns to Python until the
chunk ends. The functions release the GIL (``nogil``), so the runner runs shards of a batch in
threads, each with single-threaded BLAS.

Covered (everything else runs on the generic engine, with identical semantics):

- problems: :class:`~convcheck.problems.catalogue_nonconvex.LogSumProblem` (``logsum``,
  ``logsum_under``): f(x) = Σ_i log(1 + r_i²), r = Ax − b, ∇f(x) = Aᵀ[2r/(1 + r²)] (Appendix E);
- methods (same formulas as :mod:`convcheck.methods`): GD (x⁺ = x − t∇f(x)), SAM (Alg. 1a/2c,
  x⁺ = x − t∇f(x + ρ∇f(x)/(‖∇f(x)‖ + eps_guard))), USAM (Alg. 2a, x⁺ = x − t∇f(x + ρ∇f(x))) and
  extragradient (Alg. 2b, x⁺ = x − t∇f(x − ρ∇f(x)));
- backend NumPy, float64.

Numerics against the generic engine: the same formulas in the same order of operations per row,
except two reductions. Row sums (‖∇f‖², f) are summed left to right instead of NumPy's pairwise
order (differences of a few ulp). f is summed in groups (:func:`_grouped_log_sum`): for a group of
``GROUP`` = 32 terms u_i = r_i², e ← e + u + e·u accumulates Π(1 + u_i) − 1 without cancellation (in 4
lanes of 8 terms, then combined) and one log1p(e) replaces 32 of them (log1p is the costliest
operation of a step). Each update has relative error at most 3 ulp, so f carries at most about
3·(8 + 2) ulp ≈ 1e-14 relative error; a group with a term u > ``U_SPLIT`` is summed term by term, so
e stays below (1 + U_SPLIT)^GROUP ≈ 1e288 (no overflow).
Tests (tests/test_compiled.py) check that both engines give the same trajectories to 1e-8 relative
(typically 1e-14; the dynamics amplify the summation-order ulps at oscillating steps, seen: 1e-9).

Switch off with the environment variable ``CONVCHECK_COMPILED=0`` (the generic engine then runs
everything); without Numba installed the generic engine runs everything too. Each Trace records
which ran in ``metadata["engine"]``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

try:  # a declared dependency; a platform without Numba wheels still runs the generic engine
    import numba
except ImportError:  # pragma: no cover - exercised only where Numba is missing
    numba = None

ENV_SWITCH = "CONVCHECK_COMPILED"
LANE_TERMS = 8
GROUP = 4 * LANE_TERMS   # terms per log1p
U_SPLIT = 1e9            # a group without larger terms stays below (1 + U_SPLIT)^GROUP ≈ 1e288
METHOD_CODES = {"gd": 0, "sam": 1, "usam": 2, "extragradient": 3}
CHUNK_STEPS = 1024  # steps per kernel call: the GIL is taken once per call, so few and long calls


def available() -> bool:
    """True when Numba imports and ``CONVCHECK_COMPILED`` is not set to 0/false/no/off."""
    switch = os.environ.get(ENV_SWITCH, "1").strip().lower()
    return numba is not None and switch not in ("0", "false", "no", "off")


if numba is not None:
    _jit = numba.njit(nogil=True, error_model="numpy", cache=True)
else:  # pragma: no cover
    def _jit(function):
        return function


@_jit
def _grouped_log_sum(U):
    """Σ_l log1p(U[l]) for U ≥ 0 with one log1p per GROUP terms (see the module doc).

    Each group of GROUP = 4·LANE_TERMS terms is accumulated in 4 independent lanes (independent
    dependency chains, so the loop pipelines), e ← e + u + e·u = (1 + e)(1 + u) − 1, then the lanes
    are combined the same way. A group holding a term above U_SPLIT is summed term by term.
    """
    m = U.shape[0]
    value = 0.0
    start = 0
    while start + GROUP <= m:
        e0 = e1 = e2 = e3 = 0.0
        largest = 0.0
        for q in range(start, start + GROUP, 4):
            u0, u1, u2, u3 = U[q], U[q + 1], U[q + 2], U[q + 3]
            e0 = e0 + u0 + e0 * u0
            e1 = e1 + u1 + e1 * u1
            e2 = e2 + u2 + e2 * u2
            e3 = e3 + u3 + e3 * u3
            largest = max(largest, max(max(u0, u1), max(u2, u3)))
        if largest > U_SPLIT:  # (a NaN term makes e NaN: f is NaN either way)
            for q in range(start, start + GROUP):
                value += math.log1p(U[q])
        else:
            low = e0 + e1 + e0 * e1
            high = e2 + e3 + e2 * e3
            value += math.log1p(low + high + low * high)
        start += GROUP
    for q in range(start, m):
        value += math.log1p(U[q])
    return value


@_jit
def _logsum_gradient(X, A, AT, b, R, U, G, f_out, j, with_value):
    """G ← ∇f(X) row-wise for f = Σ log(1 + (Ax − b)²); with_value: f_out[j, i] ← f(X_i).
    R (B, m) and U (m,) are scratch."""
    np.dot(X, AT, R)
    batch, m = R.shape
    for i in range(batch):
        for l in range(m):
            r = R[i, l] - b[l]
            u = r * r
            R[i, l] = 2.0 * r / (1.0 + u)
            U[l] = u
        if with_value:
            f_out[j, i] = _grouped_log_sum(U)
    np.dot(R, A, G)


@_jit
def logsum_chunk(X, A, AT, b, steps, radii, method, eps_guard, ring, slot0, record, rec_f, rec_g, rec_d2):
    """Advance X (B, n) in place by C steps of ``method`` on the log-sum problem; steps, radii (C, B).

    Step j writes x^k into ``ring[(slot0 + j) % tail, :B]``, f(x^k) (when ``record``), ‖∇f(x^k)‖ and
    ‖D^k‖² into row j of rec_f, rec_g, rec_d2 (C, B), then sets x^{k+1} = x^k − t_k D^k.
    """
    batch, n = X.shape
    m = A.shape[0]
    tail = ring.shape[0]
    R = np.empty((batch, m))
    U = np.empty(m)
    G = np.empty((batch, n))
    D = np.empty((batch, n))
    Y = np.empty((batch, n))
    for j in range(steps.shape[0]):
        slot = (slot0 + j) % tail
        for i in range(batch):
            for l in range(n):
                ring[slot, i, l] = X[i, l]
        _logsum_gradient(X, A, AT, b, R, U, G, rec_f, j, record)
        for i in range(batch):
            squares = 0.0
            for l in range(n):
                squares += G[i, l] * G[i, l]
            rec_g[j, i] = math.sqrt(squares)
        if method == 0:
            direction = G
        else:
            for i in range(batch):
                if method == 1:
                    scale = radii[j, i] / (rec_g[j, i] + eps_guard)
                elif method == 2:
                    scale = radii[j, i]
                else:
                    scale = -radii[j, i]
                for l in range(n):
                    Y[i, l] = X[i, l] + scale * G[i, l]
            _logsum_gradient(Y, A, AT, b, R, U, D, rec_f, j, False)
            direction = D
        for i in range(batch):
            t = steps[j, i]
            squares = 0.0
            for l in range(n):
                d = direction[i, l]
                squares += d * d
                X[i, l] = X[i, l] - t * d
            rec_d2[j, i] = squares


TILE_STEPS, TILE_RUNS = 16, 64


def _gather_transposed_numpy(ring, slots, cols, out, offset):
    for start in range(0, len(slots), TILE_STEPS * 4):
        rows = ring[slots[start:start + TILE_STEPS * 4]][:, cols]
        out[:, offset + start:offset + start + len(rows)] = rows.transpose(1, 0, 2)


@_jit
def _gather_transposed_compiled(ring, slots, cols, out, offset):
    steps, runs, n = len(slots), len(cols), ring.shape[2]
    for q0 in range(0, steps, TILE_STEPS):
        for r0 in range(0, runs, TILE_RUNS):
            for r in range(r0, min(r0 + TILE_RUNS, runs)):
                column = cols[r]
                for q in range(q0, min(q0 + TILE_STEPS, steps)):
                    for l in range(n):
                        out[r, offset + q, l] = ring[slots[q], column, l]


@_jit
def _transpose_compiled(matrix, out):
    rows, cols = matrix.shape
    for i0 in range(0, rows, TILE_RUNS):
        for j0 in range(0, cols, TILE_RUNS):
            for j in range(j0, min(j0 + TILE_RUNS, cols)):
                for i in range(i0, min(i0 + TILE_RUNS, rows)):
                    out[j, i] = matrix[i, j]


def transposed(matrix):
    """A C-contiguous copy of matrix.T (tiled, compiled where Numba is present)."""
    if numba is None or matrix.dtype != np.float64:  # pragma: no cover
        return np.ascontiguousarray(matrix.T)
    out = np.empty((matrix.shape[1], matrix.shape[0]))
    _transpose_compiled(matrix, out)
    return out


def gather_transposed(ring, slots, cols, out, offset):
    """out[r, offset + q] ← ring[slots[q], cols[r]]: a step-major ring (tail, B, n) to run-major rows.

    Tiled (TILE_STEPS × TILE_RUNS) so that both sides stay in cache; compiled where Numba is present.
    """
    if numba is not None:
        _gather_transposed_compiled(ring, slots, cols, out, offset)
    else:  # pragma: no cover
        _gather_transposed_numpy(ring, slots, cols, out, offset)


@dataclass
class ChunkKernel:
    """A compiled chunk function bound to one problem instance and one method."""

    name: str
    method_code: int
    eps_guard: float
    A: np.ndarray
    AT: np.ndarray
    b: np.ndarray

    def run_chunk(self, X, steps, radii, ring, slot0, record, rec_f, rec_g, rec_d2):
        """See :func:`logsum_chunk`; ``radii`` may be None for GD."""
        if radii is None:
            radii = np.zeros_like(steps)
        arrays = (X, steps, radii, ring, rec_f, rec_g, rec_d2)
        if not all(a.flags.c_contiguous and a.dtype == np.float64 for a in arrays):
            raise ValueError("compiled kernels take C-contiguous float64 arrays")  # an engine bug, not input
        logsum_chunk(X, self.A, self.AT, self.b, steps, radii, self.method_code, self.eps_guard, ring,
                     slot0, record, rec_f, rec_g, rec_d2)


def supports(problem, method, backend) -> bool:
    """Whether a compiled kernel runs this (problem, method, backend) (see the module doc)."""
    from convcheck.problems.catalogue_nonconvex import LogSumProblem  # noqa: PLC0415 - import cycle

    return (available() and backend.name == "numpy" and type(problem) is LogSumProblem
            and method.name in METHOD_CODES)


def kernel_for(problem, method, backend) -> Optional[ChunkKernel]:
    """The compiled kernel for this (problem, method, backend), or None where the generic engine runs."""
    if not supports(problem, method, backend):
        return None
    code = METHOD_CODES[method.name]
    A = np.ascontiguousarray(problem.A, dtype=np.float64)
    b = np.ascontiguousarray(problem.b, dtype=np.float64)
    return ChunkKernel(f"logsum/{method.name}", code, float(method.params.get("eps_guard", 0.0)), A,
                       np.ascontiguousarray(A.T), b)
