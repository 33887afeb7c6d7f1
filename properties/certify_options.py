"""Validate ``certify``'s options and its ``problem`` argument before any work.

Each option's kind follows its default in ``DEFAULT_OPTIONS``: an integer default takes a positive whole
number, a real default a finite positive real (a fraction in (0, 1] where :data:`FRACTIONS` says so), a
text default one of its accepted words. A value of the wrong type, sign or finiteness is one
:class:`~convcheck.errors.InputError` that names the option, the value and what is accepted; before,
``max_windows=-1`` or ``beta_min=nan`` were accepted silently and decided verdicts on nonsense.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

from convcheck.errors import InputError, unknown_name

#: Options that are fractions of something (a share, a drop factor, a tolerance relative to a size).
FRACTIONS = frozenset({"aitken_fraction", "zero_drop", "linear_drop", "period_tol", "floor_tol", "floor_seen"})
#: Accepted words of the text options.
CHOICES: Mapping[str, tuple[str, ...]] = {"on_inconsistency": ("downgrade", "record", "raise")}


def validated_options(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``given``, each given value checked against its default's kind."""
    options = dict(defaults)
    for key, value in given.items():
        if key not in defaults:
            raise unknown_name("certify option", key, defaults)
        options[key] = _checked(key, value, defaults[key])
    return options


def _checked(key: str, value, default):
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(f"certify option {key}={value!r}: give True or False")
        return value
    if isinstance(default, str):
        accepted = CHOICES.get(key, (default,))
        if value not in accepted:
            raise InputError(f"certify option {key}={value!r}; accepted: {', '.join(map(repr, accepted))}")
        return value
    if isinstance(default, numbers.Integral):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InputError(f"certify option {key}={value!r}: give a whole number ≥ 1 (default {default})")
        return int(value)
    if isinstance(default, numbers.Real):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise InputError(f"certify option {key}={value!r}: give a finite number > 0 (default {default})")
        if key in FRACTIONS and value > 1:
            raise InputError(f"certify option {key}={value!r}: a fraction, give a number in (0, 1] (default {default})")
        return float(value)
    return value


def resolved_problem(problem):
    """A Problem as given, or the catalogue entry a spec string names (``"logsum:n=20,seed=0"``)."""
    if isinstance(problem, str):
        from convcheck import problems as problems_module

        problem = problems_module.get(problem)
    if not all(hasattr(problem, name) for name in ("f", "grad", "dim")):
        raise InputError(f"certify: problem must be a convcheck Problem or a catalogue spec string, "
                         f"got {type(problem).__name__}")
    return problem
