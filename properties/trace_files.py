"""Certify saved traces: rebuild the problem a trace names, then certify.

A trace file records how to rebuild its problem: catalogue name and parameters (the same seed gives
the same instance), a symbolic problem's expression and variable order, or a marked Python factory
(see :mod:`convcheck.problems.rebuild`). Problems built from bare Python callables cannot be rebuilt
from a file: certify those through the Python API.

Before a rebuilt problem is used, the trace is checked against it: the problem's dimension must be the
iterates' (checked before the problem is built, where the parameters name it), and f recomputed at a
few kept iterates must equal the recorded f(x^k) within the round-off of the stored precision
(:func:`check_iterates_match`), and so must ‖∇f‖ and, between consecutive kept iterates, the step
lengths; so a trace relabelled with another problem's name, or whose iterates
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
#: Relative allowance for recomputed gradient norms and step lengths: engines differ in summation order
#: and the recorded value may come from another backend, but a forged value is off by far more.
GRADIENT_RELATIVE = 1e-6
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
        check_problem_label(trace, problem, where)
        check_iterates_match(trace, problem, where)
    return problem


def check_problem_label(trace, problem, path="trace") -> None:
    """Refuse a trace whose recorded problem key is not the key of the problem its name and parameters
    rebuild: reports print the key, so a relabelled key would show one problem's run as another's."""
    info = trace.metadata.get("problem") if hasattr(trace, "metadata") else None
    recorded = info.get("key") if isinstance(info, dict) else None
    if recorded and recorded != getattr(problem, "key", recorded):
        raise TraceFileError(f"trace {quote(path)}: it is labelled {quote(recorded)} but its problem's name and "
                             f"parameters build {quote(problem.key)} (relabelled, edited or corrupt)")


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
    _check_gradient_norms(trace, problem, path, x, grad_norm, [int(trace.x_k[c]) for c in chosen], eps)
    _check_step_lengths(trace, path, positions, common, eps)


def _check_gradient_norms(trace, problem, path, x, recorded, iterations, eps) -> None:
    """Refuse a trace whose recorded ‖∇f(x^k)‖ is not the gradient norm at its kept iterates.

    The allowance is GRADIENT_RELATIVE·(‖g‖ + ‖g recomputed‖) + (ROUNDOFF_UNITS + n)·eps·(1 + L̂‖x‖),
    L̂ the stated L or a finite-difference curvature at x (the cancellation error of a gradient computed
    at a large x); a forged decay (a constant-ρ run's ‖∇f‖ replaced by one that falls) is off by orders.
    """
    with np.errstate(all="ignore"):
        gradient = np.asarray(problem.grad(x), dtype=np.float64).reshape(x.shape)
        norms = np.linalg.norm(gradient, axis=-1)
        curvature = _curvature(problem, x, gradient)
    size = np.linalg.norm(x, axis=-1)
    allowance = GRADIENT_RELATIVE * (np.abs(recorded) + norms) + (ROUNDOFF_UNITS + trace.dim) * eps * (
        1 + curvature * size)
    finite = np.isfinite(recorded) & np.isfinite(norms)
    wrong = finite & ~(np.abs(norms - recorded) <= allowance)
    if np.any(wrong):
        i = int(np.argmax(wrong))
        raise TraceFileError(
            f"trace {quote(path)}: ‖∇f‖ recomputed at its iterate k = {iterations[i]} is {norms[i]:.6g}, the "
            f"file records {recorded[i]:.6g}; its gradient norms do not belong to its iterates (edited or corrupt)")


def _curvature(problem, x, gradient):
    """A scale for ∇f's change per unit of x at each point: the stated L, else a difference quotient."""
    stated = getattr(getattr(problem, "meta", None), "L", None)
    if isinstance(stated, (int, float)) and np.isfinite(stated) and stated > 0:
        return np.full(len(x), float(stated))
    direction = np.random.default_rng(0).standard_normal(x.shape)
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    h = 1e-6 * (1 + np.linalg.norm(x, axis=-1, keepdims=True))
    moved = np.asarray(problem.grad(x + h * direction), dtype=np.float64).reshape(x.shape)
    quotient = np.linalg.norm(moved - gradient, axis=-1) / h[:, 0]
    return np.nan_to_num(quotient, nan=0.0, posinf=0.0)


def _check_step_lengths(trace, path, positions, common, eps) -> None:
    """Refuse a trace whose recorded ‖x^{k+1} − x^k‖ disagrees with consecutive kept iterates."""
    if trace.step_norm is None or len(common) < 2:
        return
    kept = np.asarray(trace.x_k)[common]
    consecutive = np.flatnonzero(np.diff(kept) == 1)[-CHECKED_ITERATES:]
    if not len(consecutive):
        return
    first, second = common[consecutive], common[consecutive + 1]
    x_first = np.asarray(trace.x[first], dtype=np.float64)
    x_second = np.asarray(trace.x[second], dtype=np.float64)
    lengths = np.linalg.norm(x_second - x_first, axis=-1)
    recorded = np.asarray(trace.step_norm[positions[first]], dtype=np.float64)
    allowance = GRADIENT_RELATIVE * (lengths + np.abs(recorded)) + (ROUNDOFF_UNITS + trace.dim) * eps * (
        np.linalg.norm(x_first, axis=-1) + np.linalg.norm(x_second, axis=-1))
    finite = np.isfinite(recorded) & np.isfinite(lengths)
    wrong = finite & ~(np.abs(lengths - recorded) <= allowance)
    if np.any(wrong):
        i = int(np.argmax(wrong))
        raise TraceFileError(
            f"trace {quote(path)}: ‖x^(k+1) − x^k‖ at k = {int(kept[consecutive[i]])} is {lengths[i]:.6g} from its "
            f"iterates, the file records {recorded[i]:.6g} (edited or corrupt)")


def certify_trace_file(path, **options):
    """Load a trace file, rebuild its problem and certify it (see ``certify`` for ``options``)."""
    from . import certify

    trace = Trace.load(path)
    if trace.status == "failed":
        raise TraceFileError(f"trace {quote(Path(path))} records a failed configuration "
                             f"({trace.status_reason}); there is nothing to certify")
    return certify(trace, problem_from_trace(trace, path), **options)
