"""The user's own problem code: ``py:package.module:factory`` specs and factories marked rebuildable.

A problem built by Python code records ``py`` (``"package.module:factory"``) and the factory's keyword
parameters on its ``meta.params``. A trace file may come from someone else, so :func:`rebuild_python`
calls the named factory only when it is marked with :func:`problem_factory` (which also records ``py``
and the parameters on every problem it builds); an unmarked factory is refused with what to do. Naming
a module makes it imported (its top level runs) before the mark can be checked, so modules of the
standard library (and convcheck's own) are refused without import; certify traces naming Python code
only from sources you trust.

``--problem py:package.module:factory[:key=value,...]`` on the command line names the user's own code
and needs no mark (:func:`python_problem`).
"""
from __future__ import annotations

import functools
import inspect
import sys

from convcheck import user_code
from convcheck.errors import TraceFileError

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


def rebuild_python(target, params: dict, where: str) -> Problem:
    """The problem a trace file's ``py`` entry names, built only by a factory marked
    :func:`problem_factory` (TraceFileError otherwise; standard-library and convcheck modules are
    refused without import)."""
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
