"""Plain-text tables for the terminal: a header row, a rule, aligned columns, at most ``width`` wide.

``format_table(head, rows, width=100)`` pads every column to its widest cell; when the table is wider
than ``width`` the widest wrappable column is wrapped (at spaces, else anywhere) onto continuation
lines, one column at a time, until it fits or every column is at its minimum (:data:`MIN_COLUMN`).
``width=None`` never wraps (``--wide`` on the command line).
"""
from __future__ import annotations

import re

DEFAULT_WIDTH = 100
MIN_COLUMN = 8
GAP = "  "


def format_table(head, rows, width: "int | None" = DEFAULT_WIDTH, nowrap=()) -> str:
    """The table as text (no trailing spaces). ``nowrap``: indices of columns never wrapped."""
    head = [str(h) for h in head]
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(len(head))]
    if width is not None:
        floor = [max(len(head[i]), MIN_COLUMN) if i not in nowrap else widths[i] for i in range(len(head))]
        while sum(widths) + len(GAP) * (len(widths) - 1) > width:
            candidates = [i for i in range(len(widths)) if widths[i] > floor[i]]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
            widths[widest] = max(floor[widest], widths[widest] - excess, widths[widest] // 2)
    lines = [_line(head, widths), GAP.join("-" * w for w in widths)]
    for row in rows:
        cells = [_wrap(cell, w) for cell, w in zip(row, widths)]
        for depth in range(max(len(c) for c in cells)):
            lines.append(_line([c[depth] if depth < len(c) else "" for c in cells], widths))
    return "\n".join(lines)


def _wrap(cell: str, width: int) -> list:
    """Greedy wrap at spaces, commas, slashes and colons (kept at the line's end); longer pieces split."""
    if len(cell) <= width:
        return [cell]
    pieces = [p for p in re.findall(r"[^ ,/:]*[ ,/:]?", cell) if p]
    lines, current = [], ""
    for piece in pieces:
        while len(piece) > width:          # a piece longer than the column: split it hard
            if current:
                lines.append(current.rstrip())
                current = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len((current + piece).rstrip()) > width:
            lines.append(current.rstrip())
            current = ""
        current += piece
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def _line(cells, widths) -> str:
    return GAP.join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()
