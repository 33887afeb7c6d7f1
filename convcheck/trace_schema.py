"""The validated reader of trace files: sizes, types, ranges and shapes checked before use.

A trace file is untrusted input (it may be truncated, edited, forged or built to exhaust memory).
:func:`read_trace_file` reads it in three stages, each refusing with one :class:`TraceFileError` line:

1. the zip directory: only the expected members, each of at most ``MAX_MEMBER_BYTES`` uncompressed
   (``MAX_TRACE_BYTES`` together, metadata at most ``MAX_METADATA_BYTES``), sizes read from the zip's
   central directory before anything is decompressed;
2. each array's ``.npy`` header: a real floating dtype for the values (float16/32/64: the stored
   precision is kept, never converted, so round-off floors can follow it), an integer dtype for
   iteration numbers, a shape whose size fits the member; complex and object arrays are refused;
3. the metadata schema (:func:`check_metadata`) and the arrays' mutual consistency
   (:func:`check_arrays`), then the content digest (:func:`content_digest`): SHA-256 of the
   configuration and every array's dtype, shape and bytes, written by ``Trace.save``.

Only after all three may a problem be rebuilt from the metadata.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import limits
from .errors import TraceFileError

ARRAY_NAMES = ("k", "f", "grad_norm", "step_norm", "step_size", "radius", "x_k", "x")
SCALAR_NAMES = ("f", "grad_norm", "step_norm", "step_size", "radius")
META_MEMBER = "metadata_json"
DIGEST_KEY = "digest"
_CORRUPT = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, zlib.error, struct.error,
            NotImplementedError, RuntimeError, OverflowError, TypeError, UnicodeDecodeError, RecursionError,
            MemoryError, IndexError)


def refuse(path, why: str) -> TraceFileError:
    from .safe_text import quote
    return TraceFileError(f"trace file {quote(str(path))}: {why}")


# ------------------------------------------------------------------ stage 1 and 2: zip and .npy headers
def read_members(path: Path) -> tuple:
    """The arrays and the parsed metadata of ``path``, sizes checked before each allocation."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _check_directory(path, archive)
            arrays = {name: _read_array(path, archive, members[name]) for name in ARRAY_NAMES}
            text = _read_array(path, archive, members[META_MEMBER], metadata=True)
            meta = json.loads(str(text))
    except TraceFileError:
        raise
    except _CORRUPT as exc:
        raise TraceFileError(f"cannot read trace file {_q(path)}: truncated or corrupt "
                             f"({type(exc).__name__}: {_short(exc)})") from None
    return arrays, meta


def _check_directory(path, archive: zipfile.ZipFile) -> dict:
    members = {}
    total = 0
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name not in ARRAY_NAMES and name != META_MEMBER:
            raise refuse(path, f"is not a convcheck trace (unexpected member {_short(info.filename)!r})")
        if name in members:
            raise refuse(path, f"has member {name!r} twice (corrupt)")
        limit = limits.MAX_METADATA_BYTES if name == META_MEMBER else limits.MAX_MEMBER_BYTES
        if info.file_size > limit:
            raise refuse(path, f"member {name!r} is {info.file_size} bytes uncompressed; at most {limit} accepted")
        total += info.file_size
        members[name] = info
    if total > limits.MAX_TRACE_BYTES:
        raise refuse(path, f"holds {total} bytes uncompressed; at most {limits.MAX_TRACE_BYTES} accepted")
    missing = [n for n in (*ARRAY_NAMES, META_MEMBER) if n not in members]
    if missing:
        raise TraceFileError(f"{_q(path)} is not a convcheck trace (missing {', '.join(missing)})")
    return members


def _read_array(path, archive, info: zipfile.ZipInfo, metadata: bool = False) -> np.ndarray:
    name = info.filename[:-4]
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise refuse(path, f"member {name!r} has an unsupported .npy version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(stream, max_header_size=10_000)
        if dtype.hasobject:
            raise refuse(path, f"member {name!r} holds Python objects (pickles are refused)")
        if not metadata and dtype.kind == "c":
            raise refuse(path, f"array {name!r} is complex ({dtype}); traces hold real numbers only")
        wanted = ("U",) if metadata else (("i", "u") if name in ("k", "x_k") else ("f",))
        if dtype.kind not in wanted or (dtype.kind == "f" and dtype.itemsize > 8):
            kinds = "text" if metadata else ("integers" if name in ("k", "x_k") else "float16/32/64 numbers")
            raise refuse(path, f"array {name!r} has dtype {dtype}; {kinds} expected")
        size = math.prod(int(s) for s in shape) * dtype.itemsize
        if size > info.file_size:
            raise refuse(path, f"array {name!r} announces {size} bytes in a member of {info.file_size} (corrupt)")
        buffer = bytearray(size)
        view, filled = memoryview(buffer), 0
        while filled < size:
            got = stream.readinto(view[filled:])
            if not got:
                raise refuse(path, f"array {name!r} is shorter than its header announces (truncated)")
            filled += got
        values = np.frombuffer(buffer, dtype=dtype) if size else np.zeros(0, dtype=dtype)
        return values.reshape(shape, order="F" if fortran else "C")


# ------------------------------------------------------------------ stage 3: schema
def _int(meta: dict, key: str, low: int, high: int, path, optional: bool = False):
    value = meta.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise refuse(path, f"metadata {key!r} must be a whole number in [{low}, {high}], got {_short(value)}")
    return value


def _text(value, key: str, path, optional: bool = False):
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limits.MAX_TEXT_FIELD:
        raise refuse(path, f"metadata {key!r} must be text of at most {limits.MAX_TEXT_FIELD} characters, "
                           f"got {type(value).__name__}")
    return value


def _depth(value, level: int = 0) -> int:
    if level > limits.MAX_METADATA_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level + 1])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level + 1])
    return level


def check_metadata(meta, path, statuses) -> None:
    """Types and ranges of every metadata field the readers use (see the module docstring)."""
    if not isinstance(meta, dict):
        raise refuse(path, f"metadata must be a JSON object, got {type(meta).__name__}")
    if _depth(meta) > limits.MAX_METADATA_DEPTH:
        raise refuse(path, f"metadata is nested more than {limits.MAX_METADATA_DEPTH} levels deep")
    if meta.get("status") not in statuses:
        raise TraceFileError(f"trace file {_q(path)} has an unknown status {_short(meta.get('status'))}")
    _int(meta, "tail_start", 0, limits.MAX_ITERS + 1, path)
    _int(meta, "record_every", 1, limits.MAX_ITERS + 1, path)
    _int(meta, "status_k", 1, limits.MAX_ITERS + 1, path, optional=True)
    _text(meta.get("status_reason", ""), "status_reason", path)
    failed = meta["status"] == "failed"
    if failed and "problem" not in meta:
        return
    problem = meta.get("problem")
    if not isinstance(problem, dict):
        raise refuse(path, "metadata 'problem' must be an object naming the problem")
    _text(problem.get("name"), "problem.name", path)
    _text(problem.get("key", ""), "problem.key", path)
    _int(problem, "dim", 1, limits.MAX_TRACE_DIM, path)
    params = problem.get("params", {})
    if not isinstance(params, dict) or len(params) > 64:
        raise refuse(path, "metadata 'problem.params' must be an object of at most 64 parameters")
    for key, value in params.items():
        if not _plain_value(value, depth=0):
            raise refuse(path, f"problem parameter {_short(key)!r} must be a number, text, true/false, or a small "
                               "list/object of those (a symbolic problem's variables, box and stated metadata)")
        if isinstance(value, str):
            _text(value, f"problem.params.{key}", path)
    for key in ("method", "step"):
        if not isinstance(meta.get(key), dict):
            raise refuse(path, f"metadata {key!r} must be an object with a 'spec'")
        _text(meta[key].get("spec"), f"{key}.spec", path)
    radius = meta.get("radius")
    if radius is not None:
        if not isinstance(radius, dict):
            raise refuse(path, "metadata 'radius' must be null or an object with a 'spec'")
        _text(radius.get("spec"), "radius.spec", path)
    _int(meta, "iters", 1, limits.MAX_ITERS, path)
    _int(meta, "seed", 0, limits.MAX_INTEGER_PARAMETER, path)
    x0 = meta.get("x0")
    if not isinstance(x0, list) or len(x0) != problem["dim"] or not all(
            _finite_number(v) for v in x0):
        raise refuse(path, f"metadata 'x0' must be a list of {problem['dim']} finite numbers")


def check_arrays(arrays: dict, meta: dict, path) -> None:
    """Shapes, ranges and mutual consistency of the arrays with each other and with the metadata."""
    k, x_k, x = arrays["k"], arrays["x_k"], arrays["x"]
    if k.ndim != 1 or x_k.ndim != 1 or x.ndim != 2 or any(arrays[n].ndim != 1 for n in SCALAR_NAMES):
        raise refuse(path, "has arrays of the wrong number of dimensions (corrupt)")
    if any(len(arrays[n]) != len(k) for n in SCALAR_NAMES) or len(x) != len(x_k):
        raise TraceFileError(f"trace file {_q(path)} has inconsistent array lengths (corrupt)")
    status = meta["status"]
    if status == "failed":
        if len(x_k) or len(k):
            raise refuse(path, "records a failed configuration but holds iterates (corrupt)")
        return
    dim, iters = meta["problem"]["dim"], meta["iters"]
    if x.shape[1] != dim:
        raise refuse(path, f"iterates have dimension {x.shape[1]} but its problem has dimension {dim}")
    if len(x_k) == 0 or len(k) == 0:
        raise refuse(path, f"records no iterates although its status is {status!r}")
    for name, values in (("k", k), ("x_k", x_k)):
        if values[0] != 1 or values[-1] > iters + 1 or np.any(np.diff(values) < 1):
            raise refuse(path, f"iteration numbers {name!r} must increase from 1 to at most iters + 1 = {iters + 1}")
    tail_start = meta["tail_start"]
    if tail_start >= len(x_k):
        raise refuse(path, f"tail_start = {tail_start} is not an index of its {len(x_k)} iterates")
    if np.any(np.diff(x_k[tail_start:]) != 1):
        raise refuse(path, "its tail window does not hold consecutive iterations (corrupt)")
    if np.any(np.diff(k) > meta["record_every"]):
        raise refuse(path, f"records scalars further apart than record_every = {meta['record_every']}")
    if status in ("completed", "stationary", "undefined_step"):
        for name in ("f", "grad_norm"):
            if not np.all(np.isfinite(arrays[name])):
                raise refuse(path, f"status {status!r} but {name!r} holds non-finite values (corrupt or forged)")
        if not np.all(np.isfinite(x)):
            raise refuse(path, f"status {status!r} but its iterates hold non-finite values (corrupt or forged)")
    if status == "completed" and x_k[-1] != iters + 1:
        raise refuse(path, f"status 'completed' but its last iterate is k = {int(x_k[-1])}, not iters + 1 = {iters + 1}")
    _check_stop(status, meta.get("status_k"), k, x_k, arrays["grad_norm"], path)
    with np.errstate(invalid="ignore"):
        if np.any(arrays["grad_norm"] < 0) or np.any(arrays["step_norm"] < 0):
            raise refuse(path, "holds negative norms (corrupt or forged)")


def _check_stop(status: str, status_k, k, x_k, grad_norm, path) -> None:
    """The status must be what the arrays show (a forged status would decide verdicts by itself):

    - "completed": no stop iteration;
    - "stationary": stopped at x^{status_k}, the last iterate and the last record, where ‖∇f‖ = 0
      exactly (the recomputation in :mod:`convcheck.properties.trace_files` then checks that zero);
    - "diverged", "undefined_step": the last iterate and the last record are x^{status_k − 1}, the
      one before the first bad iterate (nothing is recorded after a stop).
    """
    last_k, last_x = int(k[-1]), int(x_k[-1])
    if status == "completed":
        if status_k is not None:
            raise refuse(path, f"status 'completed' but it names a stop at k = {status_k} (corrupt or forged)")
        return
    if status_k is None:
        raise refuse(path, f"status {status!r} needs the iteration it happened at (status_k)")
    if status == "stationary":
        if not (last_k == last_x == status_k) or grad_norm[-1] != 0:
            raise refuse(path, f"status 'stationary' at k = {status_k}, but its last iterate is k = {last_x}, its last "
                               f"record k = {last_k} with ‖∇f‖ = {float(grad_norm[-1]):.3g} (a finite termination "
                               "ends the run at an exact zero gradient; corrupt or forged)")
    elif not (last_k == last_x == status_k - 1):
        raise refuse(path, f"status {status!r} at k = {status_k}, but its last iterate is k = {last_x} and its last "
                           f"record k = {last_k} (a stop leaves x^{status_k - 1} last; corrupt or forged)")


# ------------------------------------------------------------------ digest
def content_digest(meta: dict, arrays: dict) -> str:
    """SHA-256 over the configuration (metadata without the digest, canonical JSON) and every array's
    dtype, shape and bytes, in a fixed order."""
    hasher = hashlib.sha256()
    config = {k: v for k, v in meta.items() if k != DIGEST_KEY}
    hasher.update(json.dumps(config, sort_keys=True, allow_nan=True).encode())
    for name in ARRAY_NAMES:
        values = np.ascontiguousarray(arrays[name])
        hasher.update(f"|{name}|{values.dtype.str}|{values.shape}|".encode())
        hasher.update(values.tobytes())
    return hasher.hexdigest()


def check_digest(meta: dict, arrays: dict, path) -> None:
    stored = meta.get(DIGEST_KEY)
    if not isinstance(stored, str):
        raise refuse(path, "has no content digest (not written by this convcheck; re-run it)")
    if stored != content_digest(meta, arrays):
        raise refuse(path, "content digest does not match its arrays and configuration (edited or corrupt)")


def _short(value, limit: int = 60) -> str:
    from .safe_text import escape
    text = escape(str(value) if not isinstance(value, str) else value)
    return text if len(text) <= limit else text[:limit] + "…"


def _q(path) -> str:
    from .safe_text import quote
    return quote(str(path))


def _finite_number(value) -> bool:
    """A JSON number that is a finite float64: an integer beyond ±2^63 (the JSON reader makes one of
    any digit string) or a non-finite float is refused, before any float conversion could overflow."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= limits.MAX_INTEGER_PARAMETER
    return isinstance(value, float) and math.isfinite(value)


def _plain_value(value, depth: int) -> bool:
    """A parameter value a trace may hold: a scalar, or lists/objects of scalars nested at most 3 deep
    and of at most 256 entries each (symbolic problems record variables, box and stated metadata)."""
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, float):
        return True
    if isinstance(value, int):  # an integer too large for a float would overflow wherever it is used
        return abs(value) <= limits.MAX_INTEGER_PARAMETER
    if depth >= 3:
        return False
    if isinstance(value, list):
        return len(value) <= 256 and all(_plain_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 256 and all(isinstance(k, str) and _plain_value(v, depth + 1) for k, v in value.items())
    return False
