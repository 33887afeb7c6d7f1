"""Certify saved traces: rebuild the problem a trace names, then certify.

A trace file records how to rebuild its problem: catalogue name and parameters (the same seed gives
the same instance), a symbolic problem's expression and variable order, or a marked Python factory
(see :mod:`convcheck.problems.rebuild`). Problems built from bare Python callables cannot be rebuilt
from a file: certify those through the Python API.
"""
from __future__ import annotations

from pathlib import Path

from convcheck.errors import TraceFileError
from convcheck.trace import Trace


def problem_from_trace(trace, path=None):
    """The problem instance a trace (or the trace file at a path) was run on, rebuilt from its metadata
    (see :mod:`convcheck.problems.rebuild`)."""
    from convcheck.problems.rebuild import problem_from_trace as rebuild

    return rebuild(trace, path)


def certify_trace_file(path, **options):
    """Load a trace file, rebuild its problem and certify it (see ``certify`` for ``options``)."""
    from . import certify

    trace = Trace.load(path)
    if trace.status == "failed":
        raise TraceFileError(f"trace {str(Path(path))!r} records a failed configuration "
                             f"({trace.status_reason}); there is nothing to certify")
    return certify(trace, problem_from_trace(trace, path), **options)
