"""Certify saved traces: rebuild the problem a trace names, then certify.

A trace file records its problem by catalogue name and parameters, so catalogue (and symbolic)
problems are rebuilt exactly (the same seed gives the same instance). Problems built from Python
callables (``from_functions``) cannot be rebuilt from a file: certify those through the Python API.

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


def problem_from_trace(trace: Trace, path="trace", verify: bool = True):
    """The problem instance a trace was run on, rebuilt from its metadata.

    ``verify`` also checks the trace against the rebuilt problem (:func:`check_iterates_match`).
    """
    problem = _rebuild(trace, path)
    if verify:
        check_iterates_match(trace, problem, path)
    return problem


def _rebuild(trace: Trace, path):
    from convcheck import problems

    info = trace.metadata.get("problem") or {}
    name, params = info.get("name"), dict(info.get("params") or {})
    if not name:
        raise TraceFileError(f"trace {quote(path)} does not name its problem")
    if len(trace.x) and isinstance(params.get("n"), int) and params["n"] != trace.dim:
        raise TraceFileError(f"trace {quote(path)}: its problem has n = {params['n']} but its iterates have "
                             f"dimension {trace.dim} (corrupt or forged)")
    if name == "symbolic" and "expr" in params:  # rebuilt from its expression, through the restricted parser
        try:
            expr = params.pop("expr")
            return problems.symbolic(expr, **params)
        except _REBUILD_ERRORS as exc:
            raise TraceFileError(f"trace {quote(path)}: cannot rebuild its symbolic problem ({_first_line(exc)})") from None
    if name not in problems.catalogue():
        raise TraceFileError(
            f"trace {quote(path)} ran on problem {quote(name)}, which is not in the catalogue (a user-defined "
            "problem); certify it from Python with convcheck.properties.certify(trace, problem)")
    try:
        return problems.get(name, **params)
    except _REBUILD_ERRORS as exc:
        raise TraceFileError(f"trace {quote(path)}: cannot rebuild problem {quote(name)} ({_first_line(exc)})") from None


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
