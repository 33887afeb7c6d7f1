"""Certify saved traces: rebuild the problem a trace names, then certify.

A trace file records its problem by catalogue name and parameters, so catalogue (and symbolic)
problems are rebuilt exactly (the same seed gives the same instance). Problems built from Python
callables (``from_functions``) cannot be rebuilt from a file: certify those through the Python API.
"""
from __future__ import annotations

from pathlib import Path

from convcheck.errors import ConvcheckError, TraceFileError
from convcheck.trace import Trace


def problem_from_trace(trace: Trace, path="trace"):
    """The problem instance a trace was run on, rebuilt from its metadata."""
    from convcheck import problems

    info = trace.metadata.get("problem") or {}
    name, params = info.get("name"), dict(info.get("params") or {})
    if not name:
        raise TraceFileError(f"trace {str(path)!r} does not name its problem")
    if name == "symbolic" and "expr" in params:  # rebuilt from its expression, through the restricted parser
        try:
            expr = params.pop("expr")
            return problems.symbolic(expr, **params)
        except ConvcheckError as exc:
            raise TraceFileError(f"trace {str(path)!r}: cannot rebuild its symbolic problem ({exc})") from None
    if name not in problems.catalogue():
        raise TraceFileError(
            f"trace {str(path)!r} ran on problem {name!r}, which is not in the catalogue (a user-defined "
            "problem); certify it from Python with convcheck.properties.certify(trace, problem)")
    try:
        return problems.get(name, **params)
    except ConvcheckError as exc:
        raise TraceFileError(f"trace {str(path)!r}: cannot rebuild problem {name!r} ({exc})") from None


def certify_trace_file(path, **options):
    """Load a trace file, rebuild its problem and certify it (see ``certify`` for ``options``)."""
    from . import certify

    trace = Trace.load(path)
    if trace.status == "failed":
        raise TraceFileError(f"trace {str(Path(path))!r} records a failed configuration "
                             f"({trace.status_reason}); there is nothing to certify")
    return certify(trace, problem_from_trace(trace, path), **options)
