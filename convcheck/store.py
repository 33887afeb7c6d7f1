"""Result folders: one trace file per configuration, named by a hash of the configuration.

A folder written by ``convcheck run`` holds ``<hash>.npz`` per configuration and ``index.json`` (the
list of configurations with their files and statuses). Every file is written atomically (temporary
file, then rename), so an interrupted sweep leaves only complete files; ``--resume`` re-runs only the
configurations whose file is missing, unreadable or "failed" (the user's code raised); a folder holding
results is never overwritten without ``--force``, and ``--force`` removes only files convcheck wrote (see :mod:`convcheck.outdir`).
``index.json`` is read through a validated reader (size, JSON shape, entry names) and updated under a
lock, merged with what is on disk, so several writers on one folder lose no entry.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from . import outdir
from .errors import OutputExistsError, TraceFileError
from .limits import MAX_INDEX_BYTES
from .safe_text import quote
from .trace import FORMAT_VERSION, STATUSES, Trace, atomic_write_text

INDEX_NAME = "index.json"
_HASH = re.compile(r"^[0-9a-f]{16}$")


def config_hash(description: dict) -> str:
    """Stable 16-hex-digit hash of a configuration's description (what ran, not when)."""
    keep = {k: description.get(k) for k in ("problem", "method", "step", "radius", "x0", "iters", "seed", "options")}
    payload = json.dumps({"format": FORMAT_VERSION, **keep}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def prepare_folder(out: "str | Path", force: bool = False, resume: bool = False) -> Path:
    """Create ``out`` or check that it may be written into, before any computing.

    Raises OutputExistsError when it already holds results and neither ``force`` (start afresh:
    the files convcheck wrote there are removed, nothing else) nor ``resume`` (keep them) is given;
    OutputWriteError when it cannot be written. Stale temporary files are removed.
    """
    out = Path(out)
    outdir.check_writable(out)
    with outdir.folder_lock(out):
        outdir.clean_stale_temporaries(out)
        existing = list(out.glob("*.npz")) + list(out.glob(INDEX_NAME))
        if existing and not (force or resume):
            raise OutputExistsError(f"output folder {quote(out)} already holds results; pass --resume to "
                                    "complete it or --force to replace it")
        if existing and force and not resume:
            for path in owned_run_files(out):
                path.unlink(missing_ok=True)
    return out


def owned_run_files(out: Path) -> list:
    """Files of ``out`` that convcheck wrote: the index, the trace files it lists, and trace files whose
    name is the hash of the configuration inside and whose content digest verifies."""
    out = Path(out)
    owned = {out / e["file"] for e in read_index(out)}
    for path in out.glob("*.npz"):
        if path in owned or not _HASH.match(path.stem):
            continue
        try:
            trace = Trace.load(path)
        except TraceFileError:
            continue
        description = dict(trace.metadata, x0=trace.metadata.get("x0"))
        if config_hash(description) == path.stem:
            owned.add(path)
    if (out / INDEX_NAME).is_file():
        owned.add(out / INDEX_NAME)
    return sorted(p for p in owned if p.is_file() and not p.is_symlink())


def completed_hashes(out: Path) -> set:
    """Hashes whose trace file exists, loads and holds a result: a corrupt or partial file counts as
    missing, and so does a "failed" trace (the user's code raised; that is no result, so ``--resume``
    runs the configuration again, e.g. after the code was mended)."""
    done = set()
    for path in Path(out).glob("*.npz"):
        if not _HASH.match(path.stem):
            continue
        try:
            trace = Trace.load(path)
        except TraceFileError:
            continue
        if trace.status != "failed":
            done.add(path.stem)
    return done


def write_index(out: Path, entries: list) -> None:
    """Merge ``entries`` into ``out/index.json`` under the folder's lock (by hash; new entries win)."""
    out = Path(out)
    with outdir.folder_lock(out):
        merged = {e["hash"]: e for e in read_index(out)}
        merged.update({e["hash"]: e for e in entries})
        atomic_write_text(out / INDEX_NAME, json.dumps(
            {"format_version": FORMAT_VERSION, "runs": [merged[h] for h in sorted(merged)]},
            indent=1, sort_keys=True, default=str))


def read_index(out: Path) -> list:
    """The entries of ``out/index.json`` (none when absent), checked: refuses a malformed file."""
    path = Path(out) / INDEX_NAME
    if not path.is_file():
        return []
    try:
        if path.stat().st_size > MAX_INDEX_BYTES:
            raise TraceFileError(f"{quote(path)} is larger than {MAX_INDEX_BYTES} bytes; not an index convcheck wrote")
        data = json.loads(path.read_bytes())
    except TraceFileError:
        raise
    except (OSError, ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise TraceFileError(f"{quote(path)} is unreadable or not JSON ({type(exc).__name__}); move it away "
                             "or choose another --out") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list) or data.get("format_version") != FORMAT_VERSION:
        raise TraceFileError(f"{quote(path)} is not a convcheck index (format_version {FORMAT_VERSION} and a "
                             "list of runs expected); move it away or choose another --out")
    for entry in runs:
        ok = isinstance(entry, dict) and isinstance(entry.get("hash"), str) and _HASH.match(entry["hash"]) \
            and entry.get("file") == f"{entry['hash']}.npz" and entry.get("status") in STATUSES
        if not ok:
            raise TraceFileError(f"{quote(path)} has a malformed entry (hash, file and status expected); "
                                 "move it away or choose another --out")
    return runs


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
