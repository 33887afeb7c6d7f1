"""Rebuild a trace's problem (and, for reports, what its method declared) from the trace's metadata.

A trace records its problem as ``{"name", "key", "dim", "params"}``. ``params`` say how to rebuild it:

- a catalogue entry: its parameters (``get(name, **params)``);
- a symbolic problem: ``expr``, the ordered ``variables``, ``box`` and the ``stated`` metadata, so that
  ``symbolic("x + 2*y", variables=["y", "x"])`` comes back with coordinate 0 = y, not x;
- a problem built by Python code: ``py`` (``"package.module:factory"``) and the factory's keyword
  parameters. A file may come from someone else, so the factory is only called when it is marked
  with :func:`problem_factory` (which also records ``py`` and the parameters on every problem it
  builds); an unmarked factory is refused with what to do. Naming a module makes it imported (its top
  level runs) before the mark can be checked, so modules of the standard library (and convcheck's own)
  are refused without import; certify traces naming Python code only from sources you trust.

``--problem py:package.module:factory[:key=value,...]`` on the command line names the user's own code
and needs no mark (:func:`python_problem`).
"""
from __future__ import annotations

import functools
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path

from convcheck import user_code
from convcheck.declarations import UNDECLARED, Declaration
from convcheck.errors import ConvcheckError, InputError, SpecError, TraceFileError
from convcheck.methods import Method

from .base import FunctionProblem, Problem

FACTORY_MARK = "__convcheck_problem_factory__"


def problem_factory(fn):
    """Mark ``fn(**params) -> Problem`` as rebuildable from trace files, and record on each problem it
    builds how to rebuild it (``meta.params = {"py": "module:name", **params}``; params must be numbers,
    strings or booleans, as in a spec)."""
    signature = inspect.signature(fn)
    target = f"{fn.__module__}:{fn.__qualname__}"

    @functools.wraps(fn)
    def build(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        problem = fn(*args, **kwargs)
        if isinstance(problem, FunctionProblem) and not hasattr(problem, "expr"):
            record(problem, target, dict(bound.arguments))
        return problem

    setattr(build, FACTORY_MARK, True)
    return build


def record(problem: FunctionProblem, target: str, params: dict) -> None:
    """Record on ``problem`` that ``py:target`` with ``params`` rebuilds it."""
    plain = {k: v for k, v in params.items() if isinstance(v, (int, float, str, bool)) or v is None}
    problem.meta.params = {"py": target, **plain}


def python_problem(spec: str, **params) -> Problem:
    """The problem built by ``py:package.module:factory[:key=value,...]`` (the user's own code)."""
    module_name, attribute, spec_params = user_code.parse_python_spec(spec)
    problem = user_code.build(spec, Problem, "problem") if not params else \
        user_code.call_factory(user_code.load_object(module_name, attribute), {**spec_params, **params}, spec,
                               Problem, "problem")
    if isinstance(problem, FunctionProblem) and not hasattr(problem, "expr") and "py" not in problem.meta.params:
        record(problem, f"{module_name}:{attribute}", {**spec_params, **params})
    return problem


def rebuild_problem(info: dict, where: str = "trace") -> Problem:
    """The problem described by a trace's ``metadata["problem"]``; TraceFileError when it cannot be rebuilt."""
    from . import get
    from .symbolic import rebuild_recorded
    from .registry import catalogue
    from .user import metadata_from_json

    info = info if isinstance(info, dict) else {}
    name, params = info.get("name"), dict(info.get("params") or {})
    if not name:
        raise TraceFileError(f"{where} does not name its problem")
    try:
        if "py" in params:
            return _rebuild_python(params.pop("py"), params, where)
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


def _rebuild_python(target, params: dict, where: str) -> Problem:
    if not isinstance(target, str) or ":" not in target:
        raise TraceFileError(f"{where}: its problem names {target!r}, not package.module:factory")
    module_name, _, attribute = target.partition(":")
    if module_name.split(".")[0] in getattr(sys, "stdlib_module_names", ()) or module_name.split(".")[0] == "convcheck":
        # importing runs a module's top level: a file may not make us import the standard library's modules
        raise TraceFileError(f"{where} names {target!r}, which is not a user's problem factory; refused")
    factory = user_code.load_object(module_name, attribute)
    if not getattr(factory, FACTORY_MARK, False):
        raise TraceFileError(
            f"{where} names the Python factory {target!r}, which is not marked @convcheck.problems.problem_factory; "
            "code named by a file is only called when so marked (mark it, or certify from Python)")
    return user_code.call_factory(factory, params, f"py:{target}", Problem, "problem")


def problem_from_trace(trace_or_path, path=None) -> Problem:
    """The problem a trace (a :class:`~convcheck.trace.Trace` or the path of a trace file) ran on."""
    from convcheck.trace import Trace

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
    from convcheck import declarations, methods

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

    @property
    def spec(self) -> str:
        return self.recorded_spec or self.name

    @property
    def stops_at_zero_gradient(self) -> bool:
        return self.recorded_stop

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        raise InputError(f"method {self.spec!r} was rebuilt from a trace's record and cannot run; load its code")
