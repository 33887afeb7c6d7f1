"""Parsing of ``NAME:key=value,...`` specs shared by the CLI and the Python API.

Grammar (whitespace around tokens is ignored)::

    spec   := NAME [":" params]
    params := value                      (one bare value, for one-parameter entries: constant:0.1)
            | key "=" value ("," key "=" value)*
    value  := int | float | true | false | none | bare word

For ``expr:...`` everything after the colon is kept verbatim (an expression in k may contain commas
and "="-free text), and is parsed later by :mod:`convcheck.expr`.
"""
from __future__ import annotations

import math
import re
from typing import Any

from .errors import SpecError

MAX_SPEC_LENGTH = 2000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VERBATIM_NAMES = frozenset({"expr", "symbolic"})
BARE_KEY = "_"  # key under which a bare value is returned


def parse_value(text: str) -> Any:
    """Convert one parameter value: int, float, bool, None, else the stripped string."""
    s = text.strip()
    low = s.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    try:
        return int(s)
    except ValueError:
        pass
    try:
        value = float(s)
    except ValueError:
        return s
    if math.isnan(value):
        raise SpecError(f"parameter value {text!r} is NaN; give a finite number")
    return value


def parse_spec(spec: str, kind: str = "spec") -> tuple[str, dict[str, Any]]:
    """Split ``NAME:key=value,...`` into ``(name, params)``.

    A bare value (``constant:0.1``) is returned under the key ``"_"``; ``expr:...`` and
    ``symbolic:...`` keep their text under ``"_"`` verbatim.

    Raises
    ------
    SpecError : on an empty or over-long spec, a bad name or key, a missing "=", a repeated key.
    """
    if not isinstance(spec, str):
        raise SpecError(f"{kind} spec must be a string like NAME:key=value,..., got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise SpecError(f"empty {kind} spec; expected NAME or NAME:key=value,...")
    if len(text) > MAX_SPEC_LENGTH:
        raise SpecError(f"{kind} spec is {len(text)} characters long; at most {MAX_SPEC_LENGTH} accepted")
    name, sep, rest = text.partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise SpecError(f"bad {kind} name {name!r} in {spec!r}; expected NAME or NAME:key=value,...")
    name = name.lower().replace("-", "_")
    if not sep:
        return name, {}
    if name in VERBATIM_NAMES:
        if not rest.strip():
            raise SpecError(f"{kind} spec {spec!r} has nothing after '{name}:'; give an expression")
        return name, {BARE_KEY: rest.strip()}
    if not rest.strip():
        raise SpecError(f"{kind} spec {spec!r} ends with ':'; give key=value pairs or drop the colon")
    items = rest.split(",")
    if len(items) == 1 and "=" not in items[0]:
        return name, {BARE_KEY: parse_value(items[0])}
    params: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not _KEY.match(key) or not value.strip():
            raise SpecError(
                f"cannot read {item.strip()!r} in {kind} spec {spec!r}; expected key=value pairs separated by commas")
        if key in params:
            raise SpecError(f"parameter {key!r} given twice in {kind} spec {spec!r}")
        params[key] = parse_value(value)
    return name, params


def format_spec(name: str, params: dict[str, Any]) -> str:
    """Inverse of :func:`parse_spec` for simple values (used to label runs)."""
    if not params:
        return name
    if set(params) == {BARE_KEY}:
        return f"{name}:{params[BARE_KEY]}"
    return name + ":" + ",".join(f"{k}={v}" for k, v in params.items())
