"""One exception family for everything a user can cause.

Every error a user can trigger (a bad name, a malformed spec, a wrong shape, a corrupt file) is a
:class:`ConvcheckError`. The command line catches exactly this family, prints its one-line message and
exits with status 2; anything else is a bug and keeps its traceback.

Messages say what was wrong and what is accepted.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class ConvcheckError(Exception):
    """Base class of all errors a user can cause."""


class UnknownNameError(ConvcheckError, KeyError):
    """A problem, method, schedule or backend name that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


class SpecError(ConvcheckError, ValueError):
    """A malformed ``NAME:key=value,...`` spec or a parameter out of its range."""


class ExpressionError(ConvcheckError, ValueError):
    """A user expression that the restricted parser refuses."""


class InputError(ConvcheckError, ValueError):
    """Bad numeric input: wrong shape, non-finite values, negative steps, bad iteration counts."""


class BackendError(ConvcheckError, RuntimeError):
    """The requested array backend is not available."""


class TraceFileError(ConvcheckError, OSError):
    """A trace file that is missing, truncated, corrupt or from an incompatible version."""


class OutputExistsError(ConvcheckError, FileExistsError):
    """An output folder that already holds results (use --force or --resume)."""


class RunFailedError(ConvcheckError, RuntimeError):
    """A run whose code raised an exception that is not a :class:`ConvcheckError`: typically the user's
    own f, gradient or method (``from_functions``, ``py:`` code). The message is one line, naming the
    exception; the original is chained as ``__cause__`` for debugging."""

    @classmethod
    def wrap(cls, exc: BaseException) -> "RunFailedError":
        text = " ".join(str(exc).split()) or "(no message)"
        if len(text) > 300:
            text = text[:297] + "..."
        return cls(f"the run raised {type(exc).__name__}: {text} (in the problem's or method's code)")


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that suggests the closest accepted names."""
    choices = sorted(choices)
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(
        f"unknown {kind} {name!r}{hint} (accepted: {', '.join(choices)})")
