"""Output folders of ``run`` and ``report``: never destroy what convcheck did not write.

Rules, checked before any computing starts:

- ``--out`` may not be, or contain, an input of the same command (:func:`refuse_overlap`);
- the folder must be creatable and writable, with at least ``MIN_FREE_BYTES`` free
  (:func:`check_writable`, a probe file written and removed); a full disk, a read-only folder or a
  file-size limit met later is one line (:class:`OutputWriteError`) and every file already written
  stays (each file is written to a temporary name and renamed);
- ``run --force`` removes only files convcheck wrote: those its ``index.json`` lists, and trace files
  whose name is the hash of the configuration they hold and whose content digest verifies
  (:func:`owned_run_files`); anything else in the folder is kept;
- a report folder is replaced only when it is empty, or when it carries convcheck's marker file
  (:data:`REPORT_MARKER`), every file in it (``figures/`` included) is one the marker's manifest lists,
  and replacing it was asked for (``--force``, or the default folder of ``convcheck report``); a folder
  holding any other file, or no marker, is refused even with ``--force``;
- ``index.json`` is updated under an exclusive lock (:func:`folder_lock`, ``fcntl.flock`` on a lock
  file), merging the entries on disk with the new ones, so concurrent writers lose no entry;
- temporary files (``.<name>.<pid>.<random>.tmp``) and partial report folders
  (``.<name>.partial-<pid>-<random>``) of processes that no longer run are removed on the next run of
  the same folder; a report folder is swapped into place with one atomic exchange where the system
  has one (Linux ``renameat2``), so an interrupted report leaves either the old folder or the new one.

:func:`kill_point` is a test hook: with ``CONVCHECK_TEST_KILL_AT=<point>:<n>`` in the environment the
process kills itself (SIGKILL) at the n-th time it reaches that point, so tests can interrupt a run
or a report at chosen places; without the variable it does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

from .errors import ConvcheckError, OutputExistsError
from .limits import MIN_FREE_BYTES
from .safe_text import quote

REPORT_MARKER = ".convcheck-report"
REPORT_NAMES = {"index.html", "report.md", "results.json", "figures", REPORT_MARKER}


def CHECK_NAMES(name: str) -> bool:  # noqa: N802 -- used like the set REPORT_NAMES
    """The top-level names of a ``convcheck check --out`` folder: check.md, check.json, run<i>.npz."""
    return name in ("check.md", "check.json", REPORT_MARKER) or re.fullmatch(r"run[0-9]{1,6}\.npz", name) is not None
LOCK_NAME = ".convcheck.lock"
DEFAULT_REPORT_DIR = "report"
_TEMP_FILE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]{8}\.tmp$")
#: what convcheck writes through a temporary file: only a temporary of one of these is convcheck's
_TEMP_TARGETS = re.compile(r"^(index\.json|probe|check\.md|check\.json|index\.html|report\.md|results\.json|"
                           r"[0-9a-f]{16}\.npz|run[0-9]{1,6}\.npz)$")
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)(?:-[A-Za-z0-9_]+)?$")
_hits: dict = {}


class OutputWriteError(ConvcheckError, OSError):
    """The output folder cannot be written (read-only, full, a file-size limit)."""


def write_error(path, exc: OSError) -> OutputWriteError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return OutputWriteError(f"cannot write {quote(path)}: {reason}; every result written before it is kept "
                            "(free some space or choose another --out, then --resume)")


def kill_point(name: str) -> None:
    """Test hook (see the module docstring): SIGKILL this process at the chosen hit of ``name``."""
    wanted = os.environ.get("CONVCHECK_TEST_KILL_AT")
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point not in (name, "any"):
        return
    _hits[point] = _hits.get(point, 0) + 1
    if str(_hits[point]) == count:
        os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------ checks before computing
def refuse_overlap(out, inputs) -> None:
    """Refuse an output folder equal to, or containing, one of ``inputs`` (files or folders)."""
    target = Path(out).resolve()
    for item in inputs or ():
        source = Path(item).resolve()
        if source == target or target in source.parents:
            raise OutputExistsError(f"--out {quote(out)} is (or contains) the input {quote(item)}; "
                                    "choose an output folder outside the inputs")


def check_writable(out: Path) -> None:
    """Create ``out`` if needed and prove it writable with room for a first file; else one line."""
    with contextlib.suppress(ValueError):   # SIGXFSZ would kill the process at a file-size limit
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {quote(out)} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".probe.{os.getpid()}.", suffix=".tmp", dir=out)
        try:
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
        stats = os.statvfs(out)
    except OSError as exc:
        raise write_error(out, exc) from None
    free = stats.f_bavail * stats.f_frsize
    if free < MIN_FREE_BYTES:
        raise OutputWriteError(f"output folder {quote(out)} has {free} bytes free; at least {MIN_FREE_BYTES} "
                               "needed before starting")


# ------------------------------------------------------------------ locks and stale files
@contextlib.contextmanager
def folder_lock(out: Path):
    """An exclusive lock on ``out`` (advisory, ``fcntl.flock``), held for the ``with`` block."""
    import fcntl

    try:
        handle = open(Path(out) / LOCK_NAME, "a+b")
    except OSError as exc:
        raise write_error(Path(out) / LOCK_NAME, exc) from None
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(path: Path, pattern: re.Pattern) -> bool:
    """Only names convcheck makes (they carry the writer's process id, and for a temporary file the name
    of a file convcheck writes) count; the writer must be gone."""
    match = pattern.match(path.name)
    if not match or (pattern is _TEMP_FILE and not _TEMP_TARGETS.match(match.group("name"))):
        return False
    return not _alive(int(match.group("pid")))


def clean_stale_temporaries(folder: Path) -> list:
    """Remove temporary files left in ``folder`` by processes that no longer run; return their names."""
    removed = []
    for path in Path(folder).glob(".*.tmp"):
        if path.is_file() and not path.is_symlink() and _stale(path, _TEMP_FILE):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path.name)
    return removed


def clean_stale_partials(out: Path) -> list:
    """Remove partial or superseded report folders of ``out`` left by processes that no longer run.

    A superseded folder (``.old-``) is put back when ``out`` itself is missing: its process was killed
    between its two renames (systems without an atomic exchange), and the old report is kept.
    """
    out = Path(out)
    removed = []
    if not out.parent.is_dir():
        return removed
    for path in out.parent.glob(f".{glob_escape(out.name)}.*"):
        match = _PARTIAL.match(path.name)
        if match and match.group("name") == out.name and path.is_dir() and not path.is_symlink() \
                and _made_by_convcheck(path) and not _alive(int(match.group("pid"))):
            if match.group("kind") == "old" and not out.exists():
                os.replace(path, out)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _made_by_convcheck(folder: Path) -> bool:
    """A partial or superseded folder is convcheck's only if it carries the marker (written first into
    every staging folder) or is empty (a kill between creating it and writing the marker); a user's
    folder that merely has such a name is never removed or renamed."""
    marker = folder / REPORT_MARKER
    if marker.is_file() and not marker.is_symlink():
        return True
    try:
        return next(folder.iterdir(), None) is None
    except OSError:
        return False


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


# ------------------------------------------------------------------ report folders
def prepare_report_folder(out, inputs=(), force: bool = False, replace_own: bool = False,
                          names=REPORT_NAMES) -> Path:
    """Check that the report may be written to ``out`` (see the module docstring for the rules).

    ``names``: the top-level names such a folder holds (a set, or a predicate on a name); the default
    is a report's, :data:`CHECK_NAMES` a ``convcheck check`` folder's."""
    out = Path(out)
    refuse_overlap(out, inputs)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {quote(out)} exists and is not a folder")
    clean_stale_partials(out)
    present = {p.name for p in out.iterdir()} - {LOCK_NAME} if out.is_dir() else set()
    if present:
        known = names if callable(names) else names.__contains__
        foreign = sorted(name for name in present if not known(name)) or _not_in_manifest(out)
        if foreign:
            shown = ", ".join(quote(n) for n in foreign[:3]) + (" …" if len(foreign) > 3 else "")
            raise OutputExistsError(f"output folder {quote(out)} holds files convcheck did not write ({shown}); "
                                    "it is never replaced: choose another --out")
        if not (force or replace_own):
            raise OutputExistsError(f"output folder {quote(out)} is not empty; pass --force to replace it")
    check_writable(out.parent if not out.exists() else out)
    return out


def _not_in_manifest(out: Path) -> list:
    """Files under a non-empty report folder that its marker's manifest does not list (all of them
    when there is no marker, or a marker without a readable manifest): only a folder whose every file
    convcheck wrote may be replaced, so a user's plot added to figures/ is never deleted."""
    marker = out / REPORT_MARKER
    listed = None
    if marker.is_file() and not marker.is_symlink():
        try:
            content = json.loads(marker.read_text(encoding="utf-8")) if marker.stat().st_size < 2 ** 20 else None
            files = content.get("files") if isinstance(content, dict) else None
            if isinstance(files, list) and all(isinstance(f, str) for f in files):
                listed = set(files)
        except (OSError, ValueError):
            listed = None
    present = [path.relative_to(out).as_posix() for path in sorted(out.rglob("*"))
               if not path.is_dir() or path.is_symlink()]
    present = [name for name in present if name not in (REPORT_MARKER, LOCK_NAME)]
    if listed is None:
        return present or ([REPORT_MARKER] if not marker.is_file() else [])
    return [name for name in present if name not in listed]


def make_staging(out: Path) -> Path:
    """A fresh partial folder next to ``out``, with the user's normal permissions and the marker."""
    out = Path(out)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)    # mkdtemp makes 0700; a report is meant to be shared
        (staging / REPORT_MARKER).write_text("written by convcheck; this folder may be replaced by it\n")
    except OSError as exc:
        raise write_error(out.parent, exc) from None
    return staging


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP if hasattr(errno, "ENOTSUP") else errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_manifest(staging: Path) -> None:
    """The marker of a finished report folder: a note and the list of every file convcheck wrote in
    it, which is what a later run may replace (:func:`_not_in_manifest`)."""
    files = sorted(path.relative_to(staging).as_posix() for path in staging.rglob("*")
                   if path.is_file() and path.name != REPORT_MARKER)
    (staging / REPORT_MARKER).write_text(json.dumps(
        {"note": "written by convcheck (report or check); this folder may be replaced by it, and only "
                 "while it holds nothing but these files", "files": files}, indent=1) + "\n", encoding="utf-8")


def install_folder(staging: Path, out: Path) -> None:
    """Put ``staging`` in place of ``out``: readers see the old folder or the new one, never neither."""
    try:
        write_manifest(staging)
    except OSError as exc:
        raise write_error(out, exc) from None
    kill_point("install")
    try:
        if out.exists() and _exchange(staging, out):
            kill_point("exchanged")
            shutil.rmtree(staging, ignore_errors=True)   # it now holds the old report
            return
        if out.exists():
            trash = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, trash)
            kill_point("moved-old")
            os.replace(staging, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, out)
    except OSError as exc:
        raise write_error(out, exc) from None
