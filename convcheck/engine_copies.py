"""Host copies for Trace assembly: tiled transposes from the engine's step-major buffers to per-run rows.

The engine stores per-step scalars as (C, B) blocks and iterates in a step-major ring (tail, B, n);
a Trace wants one run's values contiguous. A plain ``a.T.copy()`` walks one side with a stride of a
whole row and leaves the cache at every element; here both sides are visited in tiles of
TILE_STEPS × TILE_RUNS that stay in cache. Compiled with Numba where present (NumPy otherwise).
"""
from __future__ import annotations

import numpy as np

from .jit import jit, numba

TILE_STEPS, TILE_RUNS = 16, 64


def _gather_transposed_numpy(ring, slots, cols, out, offset):
    for start in range(0, len(slots), TILE_STEPS * 4):
        rows = ring[slots[start:start + TILE_STEPS * 4]][:, cols]
        out[:, offset + start:offset + start + len(rows)] = rows.transpose(1, 0, 2)


@jit
def _gather_transposed_compiled(ring, slots, cols, out, offset):
    steps, runs, n = len(slots), len(cols), ring.shape[2]
    for q0 in range(0, steps, TILE_STEPS):
        for r0 in range(0, runs, TILE_RUNS):
            for r in range(r0, min(r0 + TILE_RUNS, runs)):
                column = cols[r]
                for q in range(q0, min(q0 + TILE_STEPS, steps)):
                    for l in range(n):
                        out[r, offset + q, l] = ring[slots[q], column, l]


@jit
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
    """out[r, offset + q] ← ring[slots[q], cols[r]]: a step-major ring (tail, B, n) to run-major rows."""
    if numba is not None:
        _gather_transposed_compiled(ring, slots, cols, out, offset)
    else:  # pragma: no cover
        _gather_transposed_numpy(ring, slots, cols, out, offset)
