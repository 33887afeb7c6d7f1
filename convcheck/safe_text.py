"""Text from files and file names, made safe to print: terminal, Markdown and HTML.

A file name or a field of a trace file may hold a newline (which would print a forged line such as a
verdict), terminal escape sequences (ESC[31m recolours, ESC]… retitles or worse), or markup. Every
printed piece of such text goes through one of these functions:

- :func:`escape` for a terminal or a log: control characters (C0, DEL, C1), line and paragraph
  separators and bidirectional overrides become visible escapes (``\\n``, ``\\x1b``, ``\\u202e``);
- :func:`quote` is :func:`escape` inside single quotes (for messages naming a file);
- :func:`markdown_code` for a Markdown code span (the fence is longer than any backtick run inside);
- :func:`markdown` for Markdown (and so for any HTML it is rendered into): :func:`escape`, then the
  HTML-significant characters as entities and Markdown's punctuation backslash-escaped, so the text
  is shown literally and never becomes a heading, a link, an image or a tag.
"""
from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def _visible(match: re.Match) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text, keep: str = "") -> str:
    """``text`` with every control or layout-changing character replaced by a visible escape, except
    those in ``keep`` (HTML keeps newlines and tabs: they cannot forge anything there)."""
    return _UNSAFE.sub(lambda m: m.group(0) if m.group(0) in keep else _visible(m), str(text))


def quote(text) -> str:
    """``escape(text)`` in single quotes (as ``repr`` would quote a plain name)."""
    return "'" + escape(text) + "'"


def markdown(text) -> str:
    """``text`` shown literally in Markdown and in the HTML rendered from it."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escape(text))
    # entities last: their own '#' and ';' must not be backslash-escaped
    return "".join(_HTML.get(c, c) for c in escaped)


def markdown_code(text) -> str:
    """``text`` as a Markdown code span: controls made visible, fenced by more backticks than it holds."""
    escaped = escape(text)
    longest = max((len(run) for run in re.findall("`+", escaped)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {escaped} {fence}" if longest else f"`{escaped}`"
