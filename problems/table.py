"""The catalogue as data and as a printable table (``convcheck list problems``)."""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Optional

from .registry import catalogue, entry

PROVENANCE_MARK = {"exact": "", "bound": "≤", "estimate": "≈"}


def _number(value: Any) -> Any:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else str(value)


@lru_cache(maxsize=1)
def _describe() -> tuple:
    rows = []
    for name in catalogue():
        item = entry(name)
        problem = item.build(**{p.name: p.default for p in item.params})
        meta = problem.meta
        rows.append({
            "name": name, "summary": item.summary, "dim": meta.dim,
            "parameters": {p.name: p.default for p in item.params},
            "parameter_ranges": {p.name: p.describe_range() for p in item.params},
            "convex": meta.convex, "mu": _number(meta.mu), "L": _number(meta.L), "L_region": meta.L_region,
            "descent_L": _number(meta.descent_L), "descent_only": meta.descent_only,
            "f_star": _number(meta.f_star), "minimizer": meta.minimizer.kind,
            "kl_exponent": _number(meta.kl_exponent), "analytic": meta.analytic, "kl": meta.kl,
            "bounded_level_sets": meta.bounded_level_sets, "provenance": dict(meta.provenance),
            "reference": meta.reference,
        })
    return tuple(rows)


def describe_catalogue() -> list[dict]:
    """One dict per entry, built with default parameters: name, summary, dim, parameters (defaults)
    and parameter_ranges, convex, mu, L, L_region, descent_L, descent_only, f_star, minimizer kind,
    kl_exponent, analytic, kl, bounded_level_sets, provenance, reference (JSON-ready)."""
    return [dict(row) for row in _describe()]


def _constant(row: dict, key: str) -> str:
    value = row[key]
    if value is None:
        return "-"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    mark = PROVENANCE_MARK.get(row["provenance"].get(key, "exact"), "")
    local = "*" if key == "L" and row["L_region"] else ""
    return f"{mark}{text}{local}"


def format_catalogue_table(rows: Optional[list] = None, width: Optional[int] = 100) -> str:
    """The catalogue's key constants as aligned text, one entry per line, then a legend.

    ``width``: wrap cells and the legend to at most that many columns (None: never wrap).
    """
    import textwrap

    from convcheck.tables import format_table

    rows = describe_catalogue() if rows is None else rows
    header = ("name", "n", "convex", "mu", "L", "f*", "minimizers", "KL q", "parameters (defaults)")
    lines = []
    for row in rows:
        convex = {True: "yes", False: "no", None: "?"}[row["convex"]]
        L = "descent " + _constant(row, "descent_L") if row["descent_only"] else _constant(row, "L")
        params = ", ".join(f"{k}={v}" for k, v in row["parameters"].items()) or "-"
        lines.append((row["name"], str(row["dim"]), convex, _constant(row, "mu"), L, _constant(row, "f_star"),
                      row["minimizer"], _constant(row, "kl_exponent"), params))
    out = [format_table(header, lines, width, nowrap=(0,)), ""]
    legend = ("≤ proven bound, ≈ estimate, no mark exact; * L holds only on the stated region (ball or box); "
              "'descent' = only the L-descent condition (4) holds. Values for the default parameters.")
    out += textwrap.wrap(legend, width) if width else [legend]
    for row in rows:
        entry = f"  {row['name']}: {row['summary']}"
        out += textwrap.wrap(entry, width, subsequent_indent="    ") if width else [entry]
    return "\n".join(out)
