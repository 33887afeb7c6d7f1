"""Rebuild a trace's problem (and, for reports, what its method declared) from the trace's metadata.

A trace records its problem as ``{"name", "key", "dim", "params"}``. ``params`` say how to rebuild it:

- a catalogue entry: its parameters (``get(name, **params)``);
- a symbolic problem: ``expr``, the ordered ``variables``, ``box`` and the ``stated`` metadata, so that
  ``symbolic("x + 2*y", variables=["y", "x"])`` comes back with coordinate 0 = y, not x;
- a problem built by Python code: ``py`` (``"package.module:factory"``) and the factory's keyword
  parameters, called only when the factory is marked rebuildable
  (:mod:`convcheck.problems.python_factories`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convcheck import declarations, methods
from convcheck.declarations import UNDECLARED, Declaration
from convcheck.errors import ConvcheckError, InputError, TraceFileError
from convcheck.methods import Method
from convcheck.trace import Trace

from .base import Problem
from .python_factories import rebuild_python
from .registry import catalogue, get
from .symbolic import rebuild_recorded
from .user import metadata_from_json


def rebuild_problem(info: dict, where: str = "trace") -> Problem:
    """The problem described by a trace's ``metadata["problem"]``; TraceFileError when it cannot be rebuilt."""
    info = info if isinstance(info, dict) else {}
    name, params = info.get("name"), dict(info.get("params") or {})
    if not name:
        raise TraceFileError(f"{where} does not name its problem")
    try:
        if "py" in params:
            return rebuild_python(params.pop("py"), params, where)
        if "expr" in params:  # a symbolic problem, through the restricted parser
            stated = metadata_from_json(params.pop("stated", {}))
            return rebuild_recorded(params.pop("expr"), name=name, **params, **stated)
        if name not in catalogue():
            raise TraceFileError(
                f"{where} ran on problem {name!r}, which records no way to rebuild it (built from Python "
                "callables directly); build it in a factory marked @convcheck.problems.problem_factory, or "
                "certify from Python with convcheck.properties.certify(trace, problem)")
        return get(name, **params)
    except TraceFileError:
        raise
    except ConvcheckError as exc:
        raise TraceFileError(f"{where}: cannot rebuild problem {name!r} ({exc})") from None


def problem_from_trace(trace_or_path, path=None) -> Problem:
    """The problem a trace (a :class:`~convcheck.trace.Trace` or the path of a trace file) ran on."""
    if isinstance(trace_or_path, (str, Path)):
        path = trace_or_path if path is None else path
        trace_or_path = Trace.load(trace_or_path)
    if not hasattr(trace_or_path, "metadata"):
        raise TraceFileError(f"expected a Trace or the path of a trace file, got {type(trace_or_path).__name__}")
    where = f"trace {str(path)!r}" if path is not None else "the trace"
    return rebuild_problem(trace_or_path.metadata.get("problem"), where)


def method_from_trace(trace):
    """The method a trace ran, for deciding hypotheses: a catalogue method from its spec, otherwise a
    :class:`RecordedMethod` carrying the declaration the trace recorded (no code is imported)."""
    info = trace.metadata.get("method") or {}
    spec = info.get("spec", "")
    if "declaration" not in info:
        try:
            return methods.get(spec)
        except ConvcheckError as exc:
            raise TraceFileError(f"the trace's method {spec!r} cannot be rebuilt ({exc})") from None
    return RecordedMethod(name=str(info.get("name", "user")), params=dict(info.get("params") or {}),
                          normalized=bool(info.get("normalized")), uses_radius=bool(info.get("uses_radius")),
                          declaration=declarations.from_dict(info.get("declaration")),
                          recorded_stop=bool(info.get("stops_at_zero_gradient")), recorded_spec=spec)


@dataclass(frozen=True)
class RecordedMethod(Method):
    """What a trace recorded about a user's method: enough to decide hypotheses, not to run it."""

    recorded_spec: str = ""
    recorded_stop: bool = False
    declaration: Declaration = UNDECLARED
    runnable = False      # no code: an audit of its declaration reads the recorded steps instead

    @property
    def spec(self) -> str:
        return self.recorded_spec or self.name

    @property
    def stops_at_zero_gradient(self) -> bool:
        return self.recorded_stop

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        raise InputError(f"method {self.spec!r} was rebuilt from a trace's record and cannot run; load its code")
