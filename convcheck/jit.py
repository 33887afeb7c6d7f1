"""Numba, where present: the one place that imports it, the switch ``CONVCHECK_COMPILED``, and the two
forms a problem and a method supply so that their steps run compiled.

``jit`` compiles a helper with ``numba.njit(nogil=True, error_model="numpy", cache=True)`` (floating
point errors give inf/NaN as in NumPy, never an exception; the GIL is released, so shards run in
threads; compiled code is cached on disk); without Numba it returns the function unchanged. The disk
cache is an optimisation only: where it cannot be written (a full disk, a file-size limit, a read-only
folder: Numba raises ``OSError`` from the compile) the compiled code is kept in memory and the run goes
on (:func:`tolerate_cache_write_errors`); Numba removes its own half-written temporary file.
``available()`` says whether compiled kernels may run: Numba imports and the environment variable
``CONVCHECK_COMPILED`` is not 0/false/no/off (then the generic NumPy engine runs everything).

The compiled forms are plain Python functions in Numba's nopython subset, written beside the NumPy
reference they transcribe (a problem's ``_value_and_grad``, a method's ``direction_step``), with one
fixed signature each, so that one chunk kernel (:mod:`convcheck.engine_kernels`) composes any pair
through Numba first-class functions (compiled once per function, not once per pair):

- :class:`CompiledProblem`: ``value_and_grad(X, data, dims, F, G, with_value)`` writes ∇f(X) into G
  (B, n) and, when ``with_value``, f(X) into F (B,); ``data`` (float64, 1-D) and ``dims`` (int64, 1-D)
  carry the instance (matrices flattened, sizes);
- :class:`CompiledRule`: ``direction(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k,
  local_k) -> int`` is the method's step as a small program over gradient evaluations: it returns 1
  after writing a point Y at which the kernel then evaluates GY = ∇f(Y) and calls it again with
  ``stage + 1``, and 0 once it has written the direction D (x^{k+1} = x^k − t_k D). X, G = ∇f(X),
  Y, GY, D are (B, n); gnorm = ‖∇f(x^k)‖, t, rho (B,); noise (noise_dim, B, n) the step's standard
  normal draws (the generic engine's, same stream); state (B, state_rows, n) the method's state,
  carried between steps; params the method's parameters (float64, 1-D); k the step number the method
  sees (k_offset included), local_k the run's own step number (1 at its first step).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

try:  # a declared dependency; a platform without Numba wheels still runs the generic engine
    import numba
except ImportError:  # pragma: no cover - exercised only where Numba is missing
    numba = None

ENV_SWITCH = "CONVCHECK_COMPILED"
JIT_OPTIONS = dict(nogil=True, error_model="numpy", cache=True)


def available() -> bool:
    """True when Numba imports and ``CONVCHECK_COMPILED`` is not set to 0/false/no/off."""
    switch = os.environ.get(ENV_SWITCH, "1").strip().lower()
    return numba is not None and switch not in ("0", "false", "no", "off")


def tolerate_cache_write_errors(dispatcher):
    """``dispatcher`` (a Numba dispatcher with ``cache=True``) with an on-disk cache whose failed writes
    are skipped: Numba adds a compiled overload to the dispatcher before it saves it, so a save that
    fails leaves the compile usable in this process, and the next process simply compiles again.

    This wraps the dispatcher's cache object (``_cache.save_overload``, Numba's own attribute since
    0.2x); where a Numba version lacks it the dispatcher is returned unchanged (writes then fail as
    Numba makes them)."""
    cache = getattr(dispatcher, "_cache", None)
    save = getattr(cache, "save_overload", None)
    if save is None:  # pragma: no cover - a Numba without the attribute
        return dispatcher

    def save_or_skip(signature, data):
        try:
            save(signature, data)
        except OSError:
            pass  # the disk cache is an optimisation; the overload is already in memory

    cache.save_overload = save_or_skip
    return dispatcher


def has_source_file(function) -> bool:
    """Whether ``function`` was defined in a file (Numba's disk cache is keyed by it); generated code
    (``exec``) is compiled without the cache."""
    code = getattr(function, "__code__", None)
    return code is not None and os.path.isfile(code.co_filename)


def jit(function):
    """``function`` compiled lazily at its first call (see the module doc)."""
    if numba is None:  # pragma: no cover
        return function
    return tolerate_cache_write_errors(numba.njit(**JIT_OPTIONS)(function))


def jit_inline(function):
    """A per-row helper of compiled forms, compiled into each caller (``inline="always"``: Numba
    inlines it at its IR level, so a call per row costs no call; measured on SAM's perturbation,
    called B times per step, the step is a third faster than with a call); without Numba unchanged."""
    if numba is None:  # pragma: no cover
        return function
    return tolerate_cache_write_errors(numba.njit(inline="always", **JIT_OPTIONS)(function))


@dataclass(frozen=True)
class CompiledProblem:
    """A problem instance's compilable value-and-gradient (see the module doc)."""

    name: str
    value_and_grad: Callable
    data: np.ndarray
    dims: np.ndarray
    min_steps: int = 0      # runs shorter than this stay on the generic engine (code compiled per process)
    generated: bool = False  # generated code: if Numba does not type it, the generic engine runs instead

    @staticmethod
    def of(name: str, value_and_grad: Callable, arrays=(), dims=(), min_steps: int = 0,
           generated: bool = False) -> "CompiledProblem":
        """Pack ``arrays`` (flattened, in order) into ``data`` and ``dims`` into an int64 array."""
        data = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays]) if arrays else np.zeros(0)
        return CompiledProblem(name, value_and_grad, np.ascontiguousarray(data), np.asarray(dims, dtype=np.int64),
                               int(min_steps), bool(generated))


@dataclass(frozen=True)
class CompiledRule:
    """A method's compilable direction rule with its parameters and state size (see the module doc)."""

    name: str
    direction: Callable
    params: tuple = ()
    state_rows: int = 0
