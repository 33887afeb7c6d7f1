"""The compiled chunk kernel: C steps of any (problem, method) pair with compiled forms in one call.

The generic engine (:mod:`convcheck.engine_loop`) advances a batch with about 30 NumPy calls per step;
for small and mid-sized problems that dispatch, and one memory pass per elementwise call, cost more
than the arithmetic. Here one Numba function, :func:`chunk_kernel`, runs a whole chunk of steps of the
shared step of the paper's methods (Algorithm 1a and its relatives): per step k

    x^k → ring;  f(x^k), ∇f(x^k) (the problem's ``value_and_grad``);  ‖∇f(x^k)‖;
    D^k from the method's ``direction`` rule (which asks for gradients at the points it builds);
    ‖D^k‖²;  x^{k+1} = x^k − t_k D^k,

with the problem's and the method's compiled forms (:class:`convcheck.jit.CompiledProblem`,
:class:`convcheck.jit.CompiledRule`, written once beside their NumPy references) passed in as Numba
first-class functions of fixed signatures. Each function is compiled once (and cached on disk), not
once per pair; a new problem or method gets compiled speed without touching this module. Matrix
products stay in BLAS (``np.dot`` calls dgemm, BLAS-3 over the batch); nothing returns to Python until
the chunk ends; the GIL is released, so the shards of a batch run in threads.

:func:`choose_kernel` is called once per group by :func:`convcheck.engine_plan.make_plan`: a kernel
runs when Numba is available and not switched off (``CONVCHECK_COMPILED=0``), the backend is NumPy,
both the problem and the method supply a compiled form declared by the class that also defines their
NumPy formulas (a subclass that overrides the formula without a new compiled form falls back to the
generic engine, which runs everything else with the same semantics), and the run has at least the
form's ``min_steps`` steps (generated forms, compiled once per process: symbolic problems; a generated
form Numba does not type also falls back). Each Trace records which ran in ``metadata["engine"]``.

Numerics against the generic engine: the same formulas in the same order of operations per row,
except reductions (row sums such as ‖∇f‖² and f are summed left to right instead of NumPy's pairwise
order, a few ulp), and each problem's own notes (the log-sum's f, summed in groups). Random draws
(RSAM, random inexact gradients) are the generic engine's: the same per-run generators, drawn on the
host in the same order, handed to the kernel per chunk.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from .jit import (JIT_OPTIONS, CompiledProblem, CompiledRule, available, has_source_file, numba,
                  tolerate_cache_write_errors)

PROBLEM_FORMULAS = ("_value_and_grad", "_value", "_grad")
METHOD_FORMULAS = ("direction_step",)

if numba is not None:
    from numba import types

    _A1, _A2, _A3 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1]
    VALUE_AND_GRAD_SIGNATURE = types.void(_A2, _A1, types.int64[::1], _A1, _A2, types.boolean)
    DIRECTION_SIGNATURE = types.int64(types.int64, _A2, _A2, _A1, _A2, _A2, _A2, _A1, _A1, _A3, _A3, _A1,
                                      types.int64, types.int64)
    CHUNK_SIGNATURE = types.void(
        types.FunctionType(VALUE_AND_GRAD_SIGNATURE), types.FunctionType(DIRECTION_SIGNATURE),
        _A2, _A1, types.int64[::1], _A2, _A2, types.float64[:, :, :, ::1], _A3, _A1, _A3, types.int64,
        types.boolean, _A2, _A2, _A2, types.int64[::1], _A1, types.int64, types.int64)


def _chunk_kernel(value_and_grad, direction, X, data, dims, steps, radii, noise, state, params, ring, slot0,
                  record, rec_f, rec_g, rec_s, events, path, k0, local0):
    """Advance X (B, n) in place by C steps; steps, radii (C, B); noise (C, noise_dim, B, n).

    Step j writes x^k into ``ring[(slot0 + j) % tail, :B]``, f(x^k) (when ``record``), ‖∇f(x^k)‖ and
    the step length t_k‖D^k‖ (t_k·sqrt(‖D^k‖²), as the generic engine forms it) into row j of rec_f,
    rec_g, rec_s (C, B), then sets x^{k+1} = x^k − t_k D^k; the method sees k = k0 + j and local_k =
    local0 + j. Per run it adds to ``events`` (B,) the steps whose recorded f, ‖∇f‖ or step length is
    not finite or whose ‖∇f‖ is 0, and to ``path`` (B,) the finite step lengths: the engine's stop
    check reads these instead of the (C, B) records when nothing happened.
    """
    batch, n = X.shape
    tail = ring.shape[0]
    G = np.empty((batch, n))
    Y = np.empty((batch, n))
    GY = np.empty((batch, n))
    D = np.empty((batch, n))
    unused_values = np.empty(batch)
    for j in range(steps.shape[0]):
        slot = (slot0 + j) % tail
        for i in range(batch):
            for l in range(n):
                ring[slot, i, l] = X[i, l]
        value_and_grad(X, data, dims, rec_f[j], G, record)
        gnorm = rec_g[j]
        for i in range(batch):
            squares = 0.0
            for l in range(n):
                squares += G[i, l] * G[i, l]
            gnorm[i] = math.sqrt(squares)
        stage = 0
        while direction(stage, X, G, gnorm, Y, GY, D, steps[j], radii[j], noise[j], state, params,
                        k0 + j, local0 + j) == 1:
            value_and_grad(Y, data, dims, unused_values, GY, False)
            stage += 1
        values = rec_f[j]
        for i in range(batch):
            t = steps[j, i]
            squares = 0.0
            for l in range(n):
                d = D[i, l]
                squares += d * d
                X[i, l] = X[i, l] - t * d
            length = t * math.sqrt(squares)
            rec_s[j, i] = length
            if math.isfinite(length):
                path[i] += length
            if not (math.isfinite(length) and math.isfinite(gnorm[i]) and gnorm[i] != 0.0
                    and (not record or math.isfinite(values[i]))):
                events[i] += 1


@lru_cache(maxsize=None)
def _compiled(function, which: str):
    """``function`` compiled for its fixed signature (once per process; Numba caches it on disk)."""
    signature = {"value_and_grad": VALUE_AND_GRAD_SIGNATURE, "direction": DIRECTION_SIGNATURE,
                 "chunk": CHUNK_SIGNATURE}[which]
    options = JIT_OPTIONS if has_source_file(function) else {**JIT_OPTIONS, "cache": False}  # generated code
    dispatcher = tolerate_cache_write_errors(numba.njit(**options)(function))
    dispatcher.compile(signature)  # as numba.njit(signature) does, once the cache tolerates failed writes
    dispatcher.disable_compile()
    return dispatcher


def chunk_kernel():
    """The compiled :func:`_chunk_kernel`."""
    return _compiled(_chunk_kernel, "chunk")


@dataclass(frozen=True)
class ChunkKernel:
    """A problem instance's compiled form and a method's compiled rule, composed by :func:`chunk_kernel`.

    Picklable (module-level functions travel by name), so a plan can be sent to Dask workers."""

    problem: CompiledProblem
    rule: CompiledRule

    @property
    def name(self) -> str:
        return f"{self.problem.name}/{self.rule.name}"

    def compile(self) -> None:
        """Compile both forms and the chunk kernel now (raises Numba's error if a form does not type)."""
        _compiled(self.problem.value_and_grad, "value_and_grad")
        _compiled(self.rule.direction, "direction")
        chunk_kernel()

    def initial_state(self, batch: int, dim: int) -> np.ndarray:
        return np.zeros((batch, self.rule.state_rows, dim))

    def run_chunk(self, X, steps, radii, noise, state, ring, slot0, record, rec_f, rec_g, rec_s, events, path,
                  k0, local0):
        """See :func:`_chunk_kernel`; ``radii`` may be None (methods without a radius), ``noise`` None."""
        if radii is None:
            radii = np.zeros_like(steps)
        if noise is None:
            noise = np.zeros((steps.shape[0], 0, X.shape[0], X.shape[1]))
        arrays = (X, steps, radii, noise, state, ring, rec_f, rec_g, rec_s, path)
        if not (all(a.flags.c_contiguous and a.dtype == np.float64 for a in arrays)
                and events.flags.c_contiguous and events.dtype == np.int64):
            raise ValueError("compiled kernels take C-contiguous float64 arrays")  # an engine bug, not input
        chunk_kernel()(_compiled(self.problem.value_and_grad, "value_and_grad"),
                       _compiled(self.rule.direction, "direction"), X, self.problem.data, self.problem.dims,
                       steps, radii, noise, state, np.asarray(self.rule.params, dtype=np.float64), ring, slot0,
                       record, rec_f, rec_g, rec_s, events, path, k0, local0)


def _declared_with_its_formulas(obj, form: str, formulas: tuple) -> bool:
    """Whether the class that defines ``form`` also defines the most derived of ``formulas``: a
    subclass that changes the NumPy formula without a compiled form of its own must not inherit one."""
    mro = type(obj).__mro__
    owner = next((c for c in mro if form in c.__dict__), None)
    formula_owner = next((c for c in mro if any(name in c.__dict__ for name in formulas)), None)
    return owner is not None and formula_owner is not None and mro.index(owner) <= mro.index(formula_owner)


def choose_kernel(problem, method, backend, steps: Optional[int] = None) -> Optional[ChunkKernel]:
    """The compiled kernel for this (problem, method, backend), or None where the generic engine runs
    (also for runs of fewer than the form's ``min_steps`` ``steps``, where compiling would cost more
    than it saves, and for generated forms Numba does not type)."""
    if not available() or backend.name != "numpy":
        return None
    if not (_declared_with_its_formulas(problem, "compiled_form", PROBLEM_FORMULAS)
            and _declared_with_its_formulas(method, "compiled_rule", METHOD_FORMULAS)):
        return None
    form, rule = problem.compiled_form(), method.compiled_rule()
    if form is None or rule is None or (steps is not None and steps < form.min_steps):
        return None
    kernel = ChunkKernel(form, rule)
    try:
        kernel.compile()
    except Exception:  # noqa: BLE001 - Numba's typing and lowering errors
        if not form.generated:
            raise  # a catalogue form that does not compile is a bug, not a fallback
        return None
    return kernel
