"""The catalogue registry: names, parameters with defaults and ranges, and ``get``.

Each catalogue module registers its builders with :func:`register`, declaring every parameter as a
:class:`Param` (default, type, range). :func:`get` accepts a name plus keywords or a spec string
``"logsum:n=20,seed=0"`` (parsed by :func:`convcheck.specs.parse_spec`), checks every parameter
against its declaration and calls the builder with the complete parameter set, which the builder
records in ``meta.params`` (so :attr:`Problem.key` names the instance completely).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from convcheck.errors import SpecError, unknown_name
from convcheck.limits import MAX_INTEGER_PARAMETER, MAX_PARAMETER_MAGNITUDE
from convcheck.specs import BARE_KEY, parse_spec

from .python_factories import python_problem
from .symbolic import symbolic

_CATALOGUE_MODULES = ("catalogue_quadratic", "catalogue_convex", "catalogue_nonconvex", "mexican_hat")


@dataclass(frozen=True)
class Param:
    """One parameter of a catalogue entry.

    kind : "int", "float" or "bool". ``default`` may be None (then None is accepted and means "derived
    from the other parameters", as documented by the entry).
    low, high : inclusive bounds (None = unbounded); ``low_open`` makes the lower bound strict.
    """

    name: str
    default: Any
    kind: str = "float"
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    doc: str = ""

    def describe_range(self) -> str:
        lo = "" if self.low is None else (f"> {self.low:g}" if self.low_open else f">= {self.low:g}")
        hi = "" if self.high is None else f"<= {self.high:g}"
        return " and ".join(x for x in (lo, hi) if x) or "any"

    def coerce(self, entry: str, value: Any) -> Any:
        """Check one value against the declaration; return it converted to ``kind``."""
        if value is None and self.default is None:
            return None
        where = f"parameter {self.name!r} of problem {entry!r}"
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise SpecError(f"{where} must be true or false, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{where} must be a number ({self.kind}), got {value!r}")
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise SpecError(f"{where} must be an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise SpecError(f"{where} must be finite, got {value!r}")
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and value > self.high
        # without a declared upper bound, a generic magnitude cap keeps the constants derived from the
        # parameters (R^(p-2), 1/lam, ...) inside float64 (power:R=1e300 overflowed)
        cap = MAX_INTEGER_PARAMETER if self.kind == "int" else MAX_PARAMETER_MAGNITUDE
        if self.high is None and abs(value) > cap:
            raise SpecError(f"{where} is {value!r}; accepted: {self.describe_range()} with magnitude at most {cap:g}")
        if self.kind != "int" and value != 0 and abs(value) < 1 / MAX_PARAMETER_MAGNITUDE:
            raise SpecError(f"{where} is {value!r}; accepted: 0 or magnitude at least {1 / MAX_PARAMETER_MAGNITUDE:g}")
        if too_low or too_high:
            raise SpecError(f"{where} is {value!r}; accepted: {self.describe_range()}")
        return value


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: builder, one-line summary and declared parameters."""

    name: str
    build: Callable[..., Any]
    summary: str
    params: tuple

    def accepted(self) -> str:
        if not self.params:
            return "none"
        return ", ".join(f"{p.name}={p.default} ({p.describe_range()})" for p in self.params)


_REGISTRY: dict[str, Entry] = {}


def register(name: str, summary: str, params: tuple = ()) -> Callable:
    """Decorator registering ``builder(**params) -> Problem`` under ``name``."""
    def decorate(builder: Callable) -> Callable:
        if name in _REGISTRY:
            raise RuntimeError(f"problem {name!r} registered twice")
        _REGISTRY[name] = Entry(name, builder, summary, tuple(params))
        return builder
    return decorate


def _load() -> dict[str, Entry]:
    # Imported lazily: the catalogue modules import this one for ``register``.
    import importlib  # noqa: PLC0415
    for module in _CATALOGUE_MODULES:
        importlib.import_module(f"{__package__}.{module}")
    return _REGISTRY


def catalogue() -> list[str]:
    """Names of the catalogue entries, sorted."""
    return sorted(_load())


def entry(name: str) -> Entry:
    """The registry entry called ``name``; UnknownNameError (with suggestions) otherwise."""
    registry = _load()
    if name not in registry:
        raise unknown_name("problem", name, list(registry) + ["symbolic"])
    return registry[name]


def resolve_params(item: Entry, given: dict) -> dict:
    """Complete ``given`` with defaults after checking names and ranges (SpecError otherwise)."""
    declared = {p.name: p for p in item.params}
    given = dict(given)
    if BARE_KEY in given:
        if len(item.params) != 1:
            raise SpecError(f"problem {item.name!r} needs key=value parameters, not a bare value; "
                            f"accepted: {item.accepted()}")
        given[item.params[0].name] = given.pop(BARE_KEY)
    for key in given:
        if key not in declared:
            raise SpecError(f"problem {item.name!r} has no parameter {key!r}; accepted: {item.accepted()}")
    return {p.name: p.coerce(item.name, given.get(p.name, p.default)) for p in item.params}


def get(name_or_spec: str, **params) -> Any:
    """Build a catalogue entry: ``get("logsum", n=20, seed=0)`` or ``get("logsum:n=20,seed=0")``.

    ``"symbolic:EXPR"`` builds :func:`convcheck.problems.symbolic` from the expression (keywords are
    passed on). A parameter given both in the spec and as a keyword is an error.

    Raises
    ------
    UnknownNameError : unknown problem name (with the closest names).
    SpecError : malformed spec, unknown parameter or value out of range (lists accepted parameters).
    """
    if isinstance(name_or_spec, str) and name_or_spec.startswith("py:"):  # the user's own code, named explicitly
        return python_problem(name_or_spec, **params)
    name, spec_params = parse_spec(name_or_spec, kind="problem")
    if name == "symbolic":
        if BARE_KEY not in spec_params:
            raise SpecError("problem spec 'symbolic' needs an expression: symbolic:EXPR, e.g. symbolic:x**2+y**2")
        return symbolic(spec_params[BARE_KEY], **params)
    twice = set(spec_params) & set(params)
    if twice:
        raise SpecError(f"parameter {sorted(twice)[0]!r} of problem {name!r} given both in the spec and as a keyword")
    item = entry(name)
    resolved = resolve_params(item, {**spec_params, **params})
    try:
        return item.build(**resolved)
    except (OverflowError, FloatingPointError, ZeroDivisionError) as exc:
        raise SpecError(f"problem {name!r} with {resolved} overflows float64 ({exc}); use smaller parameters") from None
