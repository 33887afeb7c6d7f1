"""Certify saved traces: rebuild the problem a trace names, then certify.

A trace file records how to rebuild its problem: catalogue name and parameters (the same seed gives
the same instance), a symbolic problem's expression and variable order, or a marked Python factory
(see :mod:`convcheck.problems.rebuild`). Problems built from bare Python callables cannot be rebuilt
from a file: certify those through the Python API.

Before a rebuilt problem is used, the trace is checked against it: the problem's dimension must be the
iterates' (checked before the problem is built, where the parameters name it), and f recomputed at a
few kept iterates must equal the recorded f(x^k) within the round-off of the stored precision
(:func:`check_iterates_match`), so a trace relabelled with another problem's name, or whose iterates
were replaced, is refused instead of certified.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from convcheck.errors import ConvcheckError, TraceFileError
from convcheck.safe_text import quote
from convcheck.trace import Trace

#: Kept iterates at which f is recomputed (spread over the checkpoints and the tail).
CHECKED_ITERATES = 6
#: Round-off allowance, in units of the stored precision's machine epsilon: f recomputed from a
#: rounded x differs from f(x) by about ‖∇f‖·‖x‖·eps, and the summation itself by about n·eps·|f|.
ROUNDOFF_UNITS = 64
#: Exceptions a rebuild from (validated but untrusted) metadata may raise; each becomes one line.
_REBUILD_ERRORS = (ConvcheckError, ValueError, TypeError, AttributeError, NameError, OverflowError,
                   ZeroDivisionError, RecursionError, ArithmeticError, KeyError, IndexError, NotImplementedError)


def problem_from_trace(trace, path=None, verify: bool = True):
    """The problem instance a trace (or the trace file at a path) was run on, rebuilt from its metadata
    (see :mod:`convcheck.problems.rebuild`).

    ``verify`` also checks the trace against the rebuilt problem (:func:`check_iterates_match`).
    """
    from convcheck.problems.rebuild import problem_from_trace as rebuild

    if isinstance(trace, (str, Path)):
        path = trace if path is None else path
        trace = Trace.load(trace)
    where = "trace" if path is None else path
    if hasattr(trace, "metadata"):
        info = trace.metadata.get("problem") or {}
        params = info.get("params") if isinstance(info, dict) else None
        n = params.get("n") if isinstance(params, dict) else None
        if len(trace.x) and isinstance(n, int) and n != trace.dim:
            raise TraceFileError(f"trace {quote(where)}: its problem has n = {n} but its iterates have "
                                 f"dimension {trace.dim} (corrupt or forged)")
    try:
        problem = rebuild(trace, path)
    except TraceFileError:
        raise
    except _REBUILD_ERRORS as exc:
        raise TraceFileError(f"trace {quote(where)}: cannot rebuild its problem ({_first_line(exc)})") from None
    if verify:
        check_iterates_match(trace, problem, where)
    return problem


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_iterates_match(trace: Trace, problem, path="trace") -> None:
    """Refuse a trace whose recorded f(x^k) is not f at its kept iterates x^k.

    At up to CHECKED_ITERATES kept iterates whose iteration number also has a scalar record, f is
    recomputed in float64 from the stored iterate and compared with the stored f(x^k); the allowance is
    (ROUNDOFF_UNITS + n)·eps·(1 + |f| + |f recomputed| + ‖∇f(x^k)‖·‖x^k‖) with eps the machine epsilon
    of the coarser of the two stored dtypes (n for sums of n terms in another order, as the compiled
    kernels and other backends take them); a forged trace is off by far more. Non-finite records (a diverged run's last ones) are not compared.
    """
    if not len(trace.x) or not len(trace.k):
        return
    if getattr(problem, "dim", trace.dim) != trace.dim:
        raise TraceFileError(f"trace {quote(path)}: iterates of dimension {trace.dim} do not belong to "
                             f"problem {quote(getattr(problem, 'key', '?'))} of dimension {problem.dim}")
    positions = np.searchsorted(trace.k, trace.x_k)
    positions = np.minimum(positions, len(trace.k) - 1)
    common = np.flatnonzero(trace.k[positions] == trace.x_k)
    finite = [i for i in common if np.isfinite(trace.f[positions[i]]) and np.all(np.isfinite(trace.x[i]))]
    if not finite:
        return
    chosen = sorted({finite[int(j)] for j in np.linspace(0, len(finite) - 1, min(CHECKED_ITERATES, len(finite)))})
    x = np.asarray(trace.x[chosen], dtype=np.float64)
    with np.errstate(all="ignore"):
        recomputed = np.asarray(problem.f(x), dtype=np.float64).reshape(-1)
    recorded = np.asarray(trace.f[positions[chosen]], dtype=np.float64)
    grad_norm = np.asarray(trace.grad_norm[positions[chosen]], dtype=np.float64)
    eps = max(np.finfo(trace.x.dtype).eps, np.finfo(trace.f.dtype).eps)
    allowance = (ROUNDOFF_UNITS + trace.dim) * eps * (
        1 + np.abs(recorded) + np.abs(np.nan_to_num(recomputed)) + np.nan_to_num(grad_norm, posinf=0.0)
        * np.linalg.norm(x, axis=-1))
    wrong = ~(np.abs(recomputed - recorded) <= allowance)
    if np.any(wrong):
        i = int(np.argmax(wrong))
        raise TraceFileError(
            f"trace {quote(path)}: f recomputed at its iterate k = {int(trace.x_k[chosen[i]])} is "
            f"{recomputed[i]:.6g}, the file records {recorded[i]:.6g}; the iterates do not belong to problem "
            f"{quote(getattr(problem, 'key', '?'))} (relabelled, edited or corrupt)")


def certify_trace_file(path, **options):
    """Load a trace file, rebuild its problem and certify it (see ``certify`` for ``options``)."""
    from . import certify

    trace = Trace.load(path)
    if trace.status == "failed":
        raise TraceFileError(f"trace {quote(Path(path))} records a failed configuration "
                             f"({trace.status_reason}); there is nothing to certify")
    return certify(trace, problem_from_trace(trace, path), **options)
