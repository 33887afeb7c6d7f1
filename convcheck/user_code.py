"""The user's own Python code, named explicitly: ``py:package.module:Name`` (optionally
``py:package.module:Name:key=value,...``).

This is the one place where convcheck imports code a user names. On the command line
(``--problem py:...``, ``--method py:...``) the user names their own code, as they would in a script.
A trace *file* may name code too, but a file may come from someone else: code named by a file is
only called when it is marked with :func:`convcheck.problems.problem_factory` (see
:mod:`convcheck.problems.rebuild`). Text is never evaluated; the name is imported and looked up.
"""
from __future__ import annotations

import importlib
import re

from .errors import ConvcheckError, InputError, SpecError
from .specs import BARE_KEY, parse_spec

PREFIX = "py:"
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
EXAMPLE = "py:mypackage.mymodule:make_problem (or py:mypackage.mymodule:make_problem:n=3)"


def _one_line(exc: BaseException) -> str:
    """An exception as one line of at most 300 characters: its type and its message's words."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_python_spec(spec) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse_python_spec(spec: str) -> tuple:
    """(module, attribute, params) of ``py:module:attribute[:key=value,...]``."""
    body = spec[len(PREFIX):]
    parts = body.split(":", 2)
    if len(parts) < 2 or not _DOTTED.match(parts[0]) or not _DOTTED.match(parts[1]):
        raise SpecError(f"{spec!r}: expected py:package.module:Name, e.g. {EXAMPLE}")
    params = {}
    if len(parts) == 3 and parts[2]:
        try:
            _, params = parse_spec(f"py:{parts[2]}", "py")
        except ConvcheckError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            raise SpecError(f"{spec!r}: bad parameters ({_one_line(exc)}); e.g. {EXAMPLE}") from None
        if BARE_KEY in params:
            raise SpecError(f"{spec!r}: give parameters as key=value, e.g. {EXAMPLE}")
    return parts[0], parts[1], params


def load_object(module_name: str, attribute: str):
    """Import ``module_name`` and return its (dotted) ``attribute``; SpecError when either is missing."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"cannot import module {module_name!r} ({_one_line(exc)}); is it on PYTHONPATH?") from None
    except Exception as exc:  # noqa: BLE001 -- importing user code runs it (a SyntaxError, an error at import)
        raise SpecError(f"importing module {module_name!r} failed ({_one_line(exc)})") from exc
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise SpecError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    return target


def build(spec: str, expected: type, what: str):
    """The object named by a ``py:`` spec: an instance of ``expected`` as is (no parameters), else the
    named class or factory called with the spec's parameters, which must return an ``expected``."""
    module_name, attribute, params = parse_python_spec(spec)
    target = load_object(module_name, attribute)
    if isinstance(target, expected):
        if params:
            raise SpecError(f"{spec!r} names a ready {what}, which takes no parameters")
        return target
    if not callable(target):
        raise SpecError(f"{spec!r} names neither a {what} nor a callable that builds one")
    return call_factory(target, params, spec, expected, what)


def call_factory(factory, params: dict, spec: str, expected: type, what: str):
    """``factory(**params)``, which must return an ``expected``; a one-line error names ``spec`` otherwise."""
    name = getattr(factory, "__name__", "the factory")
    try:
        made = factory(**params)
    except ConvcheckError:
        raise
    except Exception as exc:  # noqa: BLE001 -- the user's code may raise anything: one line, never a traceback
        raise SpecError(f"{spec!r}: calling {name} failed ({_one_line(exc)})") from exc
    if not isinstance(made, expected):
        raise InputError(f"{spec!r}: {name}(...) returned {type(made).__name__}, not a convcheck {what}")
    return made
