"""Trace: what a run recorded, and its save/load round trip.

Iteration numbers follow the paper: k = 1 is the initial point x¹, and a run of ``iters`` steps
produces x¹, …, x^{iters+1} (fewer when it stops early).

Per-step scalars, aligned with ``k`` (every step, or every ``record_every``-th step for very long runs):

- ``f``          f(x^k)
- ``grad_norm``  ‖∇f(x^k)‖
- ``step_norm``  ‖x^{k+1} − x^k‖ (NaN at the last recorded iterate, which has no successor)
- ``step_size``  t_k, ``radius`` ρ_k (NaN where the method has no radius or at the last iterate)

Iterates, aligned with ``x_k``: log-spaced checkpoints followed by a contiguous tail window of the
last iterates; ``x_k[tail_start:]`` is that window (consecutive iteration numbers). Memory is bounded
independently of the iteration count.

Files are ``.npz`` archives loaded with ``allow_pickle=False``; metadata (problem, method, schedules,
x0, seed, backend, versions, status, timing) is stored as a JSON string inside the archive under
``metadata_json``, with a ``format_version`` and a ``digest`` (SHA-256 of the configuration and the
arrays). Reading goes through the validated reader :mod:`convcheck.trace_schema`: sizes from the zip
directory, dtypes and shapes from each array's header, then the metadata schema, the arrays'
consistency and the digest, all before any array is used. The stored dtype of every array is kept
(a float32 trace loads as float32), so certificates can follow the precision actually stored.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from . import trace_schema
from .errors import TraceFileError

FORMAT_VERSION = 1
#: how a run ended: "completed" (all iterations), "stationary" (exact zero gradient, the paper's finite
#: termination), "diverged" (non-finite values, an infinite step, or the iterate bound), "undefined_step"
#: (finite f and gradient but a NaN step: the method's formula is undefined there, e.g. d^k = 0 with
#: ∇f(x^k) ≠ 0 in Algorithm 1a), "failed" (the configuration could not run)
STATUSES = ("completed", "stationary", "diverged", "undefined_step", "failed")
_ARRAYS = trace_schema.ARRAY_NAMES


@dataclass
class Trace:
    """A recorded run. See the module docstring for the meaning of each array."""

    k: np.ndarray
    f: np.ndarray
    grad_norm: np.ndarray
    step_norm: np.ndarray
    step_size: np.ndarray
    radius: np.ndarray
    x_k: np.ndarray
    x: np.ndarray
    tail_start: int
    status: str = "completed"
    status_k: Optional[int] = None
    status_reason: str = ""
    record_every: int = 1
    metadata: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- convenience
    @property
    def last_k(self) -> int:
        """Iteration number of the last iterate the run produced."""
        return int(self.x_k[-1]) if len(self.x_k) else 0

    @property
    def tail_k(self) -> np.ndarray:
        return self.x_k[self.tail_start:]

    @property
    def tail_x(self) -> np.ndarray:
        return self.x[self.tail_start:]

    @property
    def x_last(self) -> np.ndarray:
        return self.x[-1]

    @property
    def dim(self) -> int:
        return int(self.x.shape[-1])

    def __repr__(self) -> str:
        name = self.metadata.get("method", {}).get("spec", "?")
        prob = self.metadata.get("problem", {}).get("key", "?")
        where = f" at k={self.status_k}" if self.status_k is not None else ""
        return (f"<Trace {name} on {prob}: {self.status}{where}, last iterate k={self.last_k}, "
                f"{len(self.k)} scalar records, {len(self.x_k)} iterates>")

    # ---------------------------------------------------------------- persistence
    def save(self, path: "str | os.PathLike") -> Path:
        """Write the trace atomically (temporary file in the same folder, then rename)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.metadata)
        meta.update(format_version=FORMAT_VERSION, tail_start=int(self.tail_start), status=self.status,
                    status_k=self.status_k, status_reason=self.status_reason,
                    record_every=int(self.record_every))
        meta.pop(trace_schema.DIGEST_KEY, None)
        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAYS}
        for name, values in arrays.items():
            if np.iscomplexobj(values):
                raise TraceFileError(f"trace array {name!r} is complex; traces hold real numbers only")
        # the digest is taken over the metadata as it will be read back (JSON round trip)
        meta = json.loads(json.dumps(meta, default=_json_default, allow_nan=True))
        meta[trace_schema.DIGEST_KEY] = trace_schema.content_digest(meta, arrays)
        arrays["metadata_json"] = np.array(json.dumps(meta, allow_nan=True))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: "str | os.PathLike") -> "Trace":
        """Read a trace written by :meth:`save`; refuses pickles, corrupt and incompatible files."""
        path = Path(path)
        if not path.is_file():
            raise TraceFileError(f"trace file {trace_schema._q(path)} does not exist")
        arrays, meta = trace_schema.read_members(path)
        version = meta.get("format_version") if isinstance(meta, dict) else None
        if version != FORMAT_VERSION:
            raise TraceFileError(
                f"trace file {trace_schema._q(path)} has format version {trace_schema._short(version)}; this "
                f"convcheck reads version {FORMAT_VERSION} (re-run it with this version)")
        trace_schema.check_metadata(meta, path, STATUSES)
        trace_schema.check_arrays(arrays, meta, path)
        trace_schema.check_digest(meta, arrays, path)
        meta.pop(trace_schema.DIGEST_KEY)
        return cls(**arrays, tail_start=int(meta.pop("tail_start")), status=meta.pop("status"),
                   status_k=meta.pop("status_k", None), status_reason=meta.pop("status_reason", ""),
                   record_every=int(meta.pop("record_every", 1)), metadata=meta)


def _json_default(obj: Any):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def atomic_write_bytes(path: "str | os.PathLike", payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers see either the old file or the whole new one."""
    from .outdir import kill_point, write_error

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the process id in the name lets the next run of this folder recognise an abandoned file
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        kill_point("write")
        os.replace(tmp, path)
        kill_point("written")
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def atomic_write_text(path: "str | os.PathLike", text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
