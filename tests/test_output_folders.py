"""Output folders: nothing convcheck did not write is ever removed; concurrent writers lose nothing;
full, read-only and size-limited folders end in one line with every written result kept; an
interrupted run or report leaves the old or the new folder and no stray files after the next run."""
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convcheck import jit, outdir, store
from convcheck.cli import main
from convcheck.trace import Trace

RUN = ["run", "--problem", "quadratic:n=3,seed=0", "--method", "gd", "--step", "constant:0.05", "--iters", "30",
       "--quiet"]
FORK = multiprocessing.get_context("fork")


def traces_in(folder: Path) -> set:
    return {p.name for p in folder.glob("*.npz")}


def index_files(folder: Path) -> set:
    return {e["file"] for e in json.loads((folder / "index.json").read_text())["runs"]}


def one_line(capsys, fragment):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


# ------------------------------------------------------------------ --force and overlapping inputs
def test_force_removes_only_what_convcheck_wrote(tmp_path):
    out = tmp_path / "runs"
    assert main([*RUN, "--out", str(out)]) == 0
    written = traces_in(out)
    (out / "NOTES.txt").write_text("mine")
    np.savez(out / "mine.npz", a=np.arange(3))
    np.savez(out / "0123456789abcdef.npz", a=np.arange(3))       # hash-like name, not convcheck's
    assert main([*RUN, "--seed", "1", "--out", str(out), "--force"]) == 0
    assert (out / "NOTES.txt").read_text() == "mine"
    assert {"mine.npz", "0123456789abcdef.npz"} <= traces_in(out)
    assert not written & traces_in(out)                            # the earlier result was replaced
    assert index_files(out) == traces_in(out) - {"mine.npz", "0123456789abcdef.npz"}


def test_a_trace_missing_from_the_index_is_still_recognised_as_convcheck_s(tmp_path):
    out = tmp_path / "runs"
    assert main([*RUN, "--out", str(out)]) == 0
    (out / "index.json").unlink()                                  # as after a kill before the index write
    assert {p.name for p in store.owned_run_files(out)} == traces_in(out)


def test_report_refuses_an_output_folder_holding_its_inputs(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main([*RUN, "--out", str(runs)]) == 0
    (runs / "NOTES.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in runs.iterdir()}
    for out in (runs, tmp_path):
        assert main(["report", str(runs), "--out", str(out), "--force", "--no-figures", "--quiet"]) == 2
        one_line(capsys, "is (or contains) the input")
    assert {p.name: p.read_bytes() for p in runs.iterdir()} == before


def test_report_never_replaces_a_folder_with_foreign_files(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main([*RUN, "--out", str(runs)]) == 0
    out = tmp_path / "mine"
    out.mkdir()
    (out / "NOTES.txt").write_text("mine")
    assert main(["report", str(runs), "--out", str(out), "--force", "--no-figures", "--quiet"]) == 2
    one_line(capsys, "did not write")
    assert (out / "NOTES.txt").read_text() == "mine"


def test_the_default_report_folder_can_be_written_twice(tmp_path, monkeypatch, capsys):
    """`convcheck report` without --out replaces a folder carrying convcheck's marker, no other."""
    runs = tmp_path / "runs"
    assert main([*RUN, "--out", str(runs)]) == 0
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["report", str(runs), "--no-figures", "--quiet"]) == 0
    report = tmp_path / outdir.DEFAULT_REPORT_DIR
    assert (report / outdir.REPORT_MARKER).is_file() and (report / "index.html").is_file()
    assert oct(report.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (report / outdir.REPORT_MARKER).unlink()  # without its marker the folder is not known to be convcheck's
    for force in ([], ["--force"]):
        assert main(["report", str(runs), "--no-figures", "--quiet", *force]) == 2
        one_line(capsys, "did not write")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ malformed index files, stale files
@pytest.mark.parametrize("text", ["[]", "null", "{", '{"format_version": 1, "runs": [{"hash": "../../x"}]}',
                                  '{"format_version": 1, "runs": [{"hash": "0123456789abcdef", '
                                  '"file": "/etc/passwd", "status": "completed"}]}', '{"runs": 3}'])
def test_malformed_index_on_resume_and_force_is_one_line(tmp_path, capsys, text):
    out = tmp_path / "runs"
    assert main([*RUN, "--out", str(out)]) == 0
    (out / "index.json").write_text(text)
    for flag in ("--resume", "--force"):
        assert main([*RUN, "--out", str(out), flag]) == 2
        one_line(capsys, "index.json")
    assert len(traces_in(out)) == 1


def test_stale_temporary_files_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "runs"
    assert main([*RUN, "--out", str(out)]) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = out / f".0123456789abcdef.npz.{pid}.k2j3_x1a.tmp"
    stale.write_bytes(b"partial")
    live = out / f".index.json.{os.getpid()}.zzzzzzzz.tmp"
    live.write_bytes(b"in progress")
    mine = out / ".mine.tmp"                                       # not a name convcheck makes
    mine.write_bytes(b"mine")
    os.utime(mine, (0, 0))
    partial = tmp_path / f".report.partial-{pid}-q1"
    partial.mkdir()
    assert main([*RUN, "--seed", "3", "--out", str(out), "--resume"]) == 0
    assert not stale.exists() and live.exists() and mine.read_bytes() == b"mine"
    live.unlink()
    outdir.clean_stale_partials(tmp_path / "report")
    assert not partial.exists()


def test_user_files_named_like_convcheck_temporaries_are_never_removed(tmp_path):
    """Ownership was inferred from the name pattern alone: `.thesis.2023.final.tmp` was deleted by a
    --resume, and a user's `.rep.old-2024/` folder was renamed into the report's place."""
    out = tmp_path / "runs"
    assert main([*RUN, "--out", str(out)]) == 0
    user_files = [out / ".thesis.2023.final.tmp", out / ".notes.txt.12345.abcdefgh.tmp",
                  out / ".index.json.99999999.short.tmp"]
    for path in user_files:
        path.write_text("mine")
    assert main([*RUN, "--seed", "3", "--out", str(out), "--resume"]) == 0
    assert all(path.read_text() == "mine" for path in user_files)
    for name in (".rep.old-2024", ".rep.partial-99999999-x"):
        folder = tmp_path / name / "chapter"
        folder.mkdir(parents=True)
        (folder / "a.tex").write_text("text")
    assert main(["report", str(out), "--out", str(tmp_path / "rep"), "--no-figures", "--quiet"]) == 0
    for name in (".rep.old-2024", ".rep.partial-99999999-x"):
        assert (tmp_path / name / "chapter" / "a.tex").read_text() == "text"


# ------------------------------------------------------------------ unwritable, full, size-limited
def test_an_output_folder_that_cannot_be_created_fails_before_computing(tmp_path, capsys):
    """Tests run as root, where chmod does not make a folder read-only: /proc refuses new files for
    everyone, and a regular file in the way of the folder refuses mkdir."""
    assert main([*RUN, "--out", "/proc/convcheck-test"]) == 2
    one_line(capsys, "cannot write")
    (tmp_path / "file").write_text("x")
    assert main([*RUN, "--out", str(tmp_path / "file" / "runs")]) == 2
    one_line(capsys, "cannot write")


def _fresh_numba_cache(tmp_path):
    """The environment with Numba's disk cache in an empty folder (as on a machine that never ran it)."""
    folder = tmp_path / "numba-cache"
    folder.mkdir()
    return {**os.environ, "NUMBA_CACHE_DIR": str(folder)}


def test_a_file_size_limit_mid_run_keeps_the_results_already_written(tmp_path):
    """RLIMIT_FSIZE (a stand-in for a full disk: writes fail with EFBIG) set so that the small trace fits
    and the large one does not: one line, status 2, the small trace and its index entry kept.

    Numba's disk cache is pointed at an empty folder, as on a fresh install: its writes (larger than
    the limit) fail too, and the run must still go on compiled, in memory (this test once passed only
    on machines whose cache was already written)."""
    out = tmp_path / "runs"
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (60000, 60000))\n"
        "from convcheck.cli import main\n"
        f"sys.exit(main(['run', '--problem', 'quadratic:n=2,seed=0', '--problem', 'quadratic:n=400,seed=0', "
        f"'--method', 'gd', '--step', 'constant:0.001', '--iters', '300', '--batch', '1', '--quiet', "
        f"'--out', {str(out)!r}]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=_fresh_numba_cache(tmp_path))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "File too large" in done.stderr, done.stderr
    kept = traces_in(out)
    assert len(kept) == 1 and index_files(out) == kept
    trace = Trace.load(out / kept.pop())
    assert trace.metadata["engine"].startswith("compiled:") or not jit.available()
    assert not list(out.glob(".*.tmp"))


# ------------------------------------------------------------------ concurrent writers
def _writer(out, seed, barrier):
    barrier.wait()
    os._exit(main([*RUN, "--seed", str(seed), "--seed", str(seed + 100), "--out", str(out), "--resume"]))


def test_four_concurrent_writers_lose_no_result(tmp_path):
    out = tmp_path / "runs"
    barrier = FORK.Barrier(4)
    workers = [FORK.Process(target=_writer, args=(out, seed, barrier)) for seed in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert len(traces_in(out)) == 8 and index_files(out) == traces_in(out)
    assert not list(out.glob(".*.tmp"))


# ------------------------------------------------------------------ kills at chosen points
def _killed(argv, point):
    os.environ["CONVCHECK_TEST_KILL_AT"] = point
    os._exit(main(argv))


def _kill_at(argv, point):
    child = FORK.Process(target=_killed, args=(argv, point))
    child.start()
    child.join(120)
    return child.exitcode


RUN_KILLS = [f"{p}:{n}" for p in ("write", "written") for n in range(1, 7)]
REPORT_KILLS = [f"{p}:{n}" for p in ("write", "written") for n in range(1, 4)] + ["install:1", "exchanged:1"]


def test_kills_at_22_points_of_run_and_report_leave_old_or_new_and_no_strays(tmp_path, monkeypatch):
    """SIGKILL (through the CONVCHECK_TEST_KILL_AT hook) before and after each atomic rename of a sweep
    and of a report, and around the report folder's exchange; the run plots are stubbed (the folder
    logic is under test, and drawing would dominate the time)."""
    from convcheck.reports import run_plots
    monkeypatch.setattr(run_plots, "save_run_plot", lambda *args, **kwargs: b"\x89PNG\r\n\x1a\n")
    runs = tmp_path / "runs"
    sweep = [*RUN, "--seed", "0", "--seed", "1", "--seed", "2", "--batch", "1", "--out", str(runs)]
    assert len(RUN_KILLS) + len(REPORT_KILLS) >= 20
    for point in RUN_KILLS:
        status = _kill_at([*sweep, "--force"], point)
        assert status in (-9, 0), (point, status)
        for path in runs.glob("*.npz"):
            Trace.load(path)                        # every file is complete
        assert main([*sweep, "--resume"]) == 0
        assert len(traces_in(runs)) == 3 and index_files(runs) == traces_in(runs), point
        assert not list(runs.glob(".*")) or [p.name for p in runs.glob(".*")] == [outdir.LOCK_NAME]
    report = tmp_path / "report"
    argv = ["report", str(next(runs.glob("*.npz"))), "--out", str(report), "--no-figures", "--quiet", "--force"]
    assert main(argv) == 0
    for point in REPORT_KILLS:
        old = (report / "results.json").read_bytes()
        status = _kill_at(argv, point)
        assert status == -9, (point, status)
        assert (report / "results.json").is_file() and (report / outdir.REPORT_MARKER).is_file(), point
        now = (report / "results.json").read_bytes()
        assert now == old or json.loads(now)["summary"]["runs"] == 1, point    # the old report or a whole new one
        assert main(argv) == 0
        strays = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert strays == [], (point, strays)


def test_force_in_the_current_folder_keeps_everything_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "NOTES.txt").write_text("mine")
    np.savez(tmp_path / "data.npz", a=np.arange(2))
    assert main([*RUN, "--out", ".", "--force"]) == 0
    assert main([*RUN, "--seed", "2", "--out", ".", "--force"]) == 0
    assert (tmp_path / "NOTES.txt").read_text() == "mine" and (tmp_path / "data.npz").is_file()
    assert len(traces_in(tmp_path)) == 2 and len(index_files(tmp_path)) == 1


def test_a_file_size_limit_during_a_report_keeps_the_old_report(tmp_path):
    runs, report = tmp_path / "runs", tmp_path / "report"
    assert main([*RUN, "--out", str(runs)]) == 0
    assert main(["report", str(runs), "--out", str(report), "--no-figures", "--quiet"]) == 0
    old = (report / "results.json").read_bytes()
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "from convcheck.cli import main\n"
        f"sys.exit(main(['report', {str(runs)!r}, '--out', {str(report)!r}, '--no-figures', '--quiet', '--force']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=_fresh_numba_cache(tmp_path))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "File too large" in done.stderr
    assert (report / "results.json").read_bytes() == old
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_kill_between_the_two_renames_of_the_fallback_keeps_the_old_report(tmp_path, monkeypatch):
    """Where no atomic exchange exists, the old folder is moved aside before the new one is renamed in;
    a kill between the two leaves it aside, and the next report puts it back before replacing it."""
    from convcheck.reports import run_plots
    monkeypatch.setattr(run_plots, "save_run_plot", lambda *args, **kwargs: b"\x89PNG\r\n\x1a\n")
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    runs, report = tmp_path / "runs", tmp_path / "report"
    assert main([*RUN, "--out", str(runs)]) == 0
    argv = ["report", str(runs), "--out", str(report), "--no-figures", "--quiet", "--force"]
    assert main(argv) == 0
    old = (report / "results.json").read_bytes()
    assert _kill_at(argv, "moved-old:1") == -9
    aside = [p for p in tmp_path.iterdir() if ".old-" in p.name]
    assert not report.exists() and len(aside) == 1
    outdir.clean_stale_partials(report)
    assert (report / "results.json").read_bytes() == old and not aside[0].exists()
    assert main(argv) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------ only what convcheck wrote is replaced
@pytest.mark.parametrize("user_files", [
    {"figures/my_plot.png": "precious"},                      # a user's file inside a report's own names
    {"report.md": "my notes"},                                # a file named like the report's, no marker
    {"figures/sub/deep.txt": "x", "index.html": "<p>mine"},
])
def test_force_never_replaces_a_folder_that_only_looks_like_a_report(tmp_path, capsys, user_files):
    runs = tmp_path / "runs"
    assert main([*RUN, "--out", str(runs)]) == 0
    out = tmp_path / "rep"
    for name, text in user_files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    assert main(["report", str(runs), "--out", str(out), "--force", "--no-figures", "--quiet"]) == 2
    one_line(capsys, "did not write")
    for name, text in user_files.items():
        assert (out / name).read_text() == text


def test_a_file_added_to_a_convcheck_report_is_kept(tmp_path, capsys):
    """A report folder convcheck wrote may be replaced; once the user adds a plot to its figures/, not."""
    runs = tmp_path / "runs"
    assert main([*RUN, "--out", str(runs)]) == 0
    out = tmp_path / "rep"
    # without the paper's figures (their drawing is tested elsewhere): the run plots fill figures/
    assert main(["report", str(runs), "--out", str(out), "--quiet", "--no-figures"]) == 0
    assert main(["report", str(runs), "--out", str(out), "--force", "--quiet", "--no-figures"]) == 0  # its own files
    assert any((out / "figures").iterdir())
    (out / "figures" / "my_plot.png").write_text("precious")
    assert main(["report", str(runs), "--out", str(out), "--force", "--quiet", "--no-figures"]) == 2
    one_line(capsys, "my_plot.png")
    assert (out / "figures" / "my_plot.png").read_text() == "precious"


# ------------------------------------------------------------------ convcheck check --out
CHECK = ["check", "--problem", "symbolic:x^2 + y^2", "--method", "gd", "--step", "0.1", "--x0", "3,2",
         "--iters", "50"]


@pytest.mark.parametrize("user_files", [{"run1.npz": "important"}, {"check.json": "mine", "check.md": "notes"},
                                        {"notes.txt": "mine"}])
def test_check_never_overwrites_files_it_did_not_write(tmp_path, capsys, user_files):
    out = tmp_path / "userdir"
    out.mkdir()
    for name, text in user_files.items():
        (out / name).write_text(text)
    for force in ([], ["--force"]):
        assert main([*CHECK, "--out", str(out), *force]) == 2
        one_line(capsys, "did not write")
    assert {p.name: p.read_text() for p in out.iterdir()} == user_files


def test_an_earlier_check_folder_is_replaced_only_with_force(tmp_path, capsys):
    out = tmp_path / "checked"
    assert main([*CHECK, "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"check.md", "check.json", "run1.npz", outdir.REPORT_MARKER}
    capsys.readouterr()
    assert main([*CHECK, "--out", str(out)]) == 2
    one_line(capsys, "--force")
    assert main([*CHECK, "--out", str(out), "--force"]) == 0
    (out / "my_notes.txt").write_text("mine")
    assert main([*CHECK, "--out", str(out), "--force"]) == 2
    assert (out / "my_notes.txt").read_text() == "mine"
