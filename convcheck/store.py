"""Result folders: one trace file per configuration, named by a hash of the configuration.

A folder written by ``convcheck run`` holds ``<hash>.npz`` per configuration and ``index.json`` (the
list of configurations with their files and statuses). Every file is written atomically (temporary
file, then rename), so an interrupted sweep leaves only complete files; ``--resume`` re-runs only the
configurations whose file is missing or unreadable; a folder holding results is never overwritten
without ``--force``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .errors import OutputExistsError, TraceFileError
from .trace import FORMAT_VERSION, Trace, atomic_write_text

INDEX_NAME = "index.json"


def config_hash(description: dict) -> str:
    """Stable 16-hex-digit hash of a configuration's description (what ran, not when)."""
    keep = {k: description.get(k) for k in ("problem", "method", "step", "radius", "x0", "iters", "seed", "options")}
    payload = json.dumps({"format": FORMAT_VERSION, **keep}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def prepare_folder(out: "str | Path", force: bool = False, resume: bool = False) -> Path:
    """Create ``out`` or check that it may be written into.

    Raises OutputExistsError when it already holds results and neither ``force`` (start afresh:
    earlier trace files are removed) nor ``resume`` (keep them) is given.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {str(out)!r} exists and is not a folder")
    existing = list(out.glob("*.npz")) + list(out.glob(INDEX_NAME)) if out.is_dir() else []
    if existing and not (force or resume):
        raise OutputExistsError(
            f"output folder {str(out)!r} already holds results; pass --resume to complete it or --force to replace it")
    if existing and force and not resume:
        for path in existing:
            path.unlink()
        for path in out.glob(".*.tmp"):
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def completed_hashes(out: Path) -> set:
    """Hashes whose trace file exists and loads (a corrupt or partial file counts as missing)."""
    done = set()
    for path in Path(out).glob("*.npz"):
        try:
            Trace.load(path)
        except TraceFileError:
            continue
        done.add(path.stem)
    return done


def write_index(out: Path, entries: list) -> None:
    atomic_write_text(Path(out) / INDEX_NAME, json.dumps({"format_version": FORMAT_VERSION, "runs": entries},
                                                         indent=1, sort_keys=True, default=str))


def read_index(out: Path) -> list:
    path = Path(out) / INDEX_NAME
    if not path.is_file():
        return []
    try:
        return json.loads(path.read_text()).get("runs", [])
    except (OSError, ValueError):
        return []


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
