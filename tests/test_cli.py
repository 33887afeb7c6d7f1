"""The command line: run/list/certify, atomic result folders, --force, --resume after a kill."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from convcheck.cli import main
from convcheck.trace import Trace

SWEEP = ["run", "--problem", "logsum:n=4,seed=1", "--method", "sam", "--step", "power:c=0.1,p=1",
         "--step", "constant:0.05", "--radius", "constant:0.01", "--radius", "power:c=0.05,p=0.5",
         "--seed", "0", "--seed", "1", "--iters", "3000", "--quiet"]


def load_all(folder: Path) -> dict:
    return {p.name: Trace.load(p) for p in sorted(folder.glob("*.npz"))}


def test_run_writes_one_file_per_configuration_and_an_index(tmp_path):
    out = tmp_path / "runs"
    assert main([*SWEEP, "--out", str(out)]) == 0
    traces = load_all(out)
    assert len(traces) == 8
    index = json.loads((out / "index.json").read_text())
    assert index["format_version"] == 1 and len(index["runs"]) == 8
    assert {r["file"] for r in index["runs"]} == set(traces)
    assert all(t.status == "completed" for t in traces.values())
    steps = {t.metadata["step"]["spec"] for t in traces.values()}
    assert len(steps) == 2
    assert not list(out.glob(".*.tmp"))


def test_force_replaces_and_resume_completes(tmp_path):
    out = tmp_path / "runs"
    assert main([*SWEEP, "--out", str(out)]) == 0
    first = load_all(out)
    victim = sorted(out.glob("*.npz"))[0]
    victim.unlink()
    assert main([*SWEEP, "--out", str(out), "--resume"]) == 0
    resumed = load_all(out)
    assert set(resumed) == set(first)
    for name in first:  # the re-run ran alone, not in its batch of 4: equal up to BLAS round-off
        np.testing.assert_allclose(resumed[name].x, first[name].x, rtol=1e-12, atol=1e-14)
    assert main([*SWEEP[:-3], "--iters", "100", "--quiet", "--out", str(out), "--force"]) == 0
    replaced = load_all(out)
    assert len(replaced) == 8 and all(t.last_k == 101 for t in replaced.values())


def test_resume_after_kill_gives_the_uninterrupted_results(tmp_path):
    """Kill a sweep mid-way (SIGKILL), resume it, and compare with an uninterrupted run."""
    args = ["run", "--problem", "logsum:n=30,seed=2", "--method", "sam", "--step", "power:c=0.01,p=1",
            "--radius", "constant:0.01", "--seed", "0", "--seed", "1", "--seed", "2", "--method", "rsam",
            "--iters", "30000", "--batch", "1", "--quiet"]
    reference = tmp_path / "reference"
    interrupted = tmp_path / "interrupted"
    command = [sys.executable, "-c", "import sys; from convcheck.cli import main; sys.exit(main(sys.argv[1:]))"]
    # cwd outside the checkout: "python -c" puts the cwd first on sys.path, where the source folder
    # convcheck/ would shadow the installed package
    process = subprocess.Popen([*command, *args, "--out", str(interrupted)], stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(interrupted.glob("*.npz"))) < 2:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = list(interrupted.glob("*.npz"))
    assert 2 <= len(partial) < 6, "the kill should land mid-sweep"
    for path in partial:  # only complete files are left behind
        Trace.load(path)
    assert main([*args, "--out", str(interrupted), "--resume"]) == 0
    assert main([*args, "--out", str(reference)]) == 0
    expected, got = load_all(reference), load_all(interrupted)
    assert set(got) == set(expected) and len(got) == 6
    for name, trace in expected.items():
        for field in ("k", "f", "grad_norm", "x_k", "x"):
            assert np.array_equal(getattr(got[name], field), getattr(trace, field)), (name, field)


def test_list_commands(capsys):
    assert main(["list", "methods"]) == 0
    out = capsys.readouterr().out
    for name in ("gd", "sam", "usam", "extragradient", "igd", "igdr", "rsam", "vasso", "fsam"):
        assert name in out
    assert main(["list", "schedules"]) == 0
    out = capsys.readouterr().out
    for name in ("constant", "power", "diminish1", "diminish2", "diminish3", "almost_constant",
                 "perfect_squares", "expr"):
        assert name in out
    assert main(["list", "problems"]) == 0
    out = capsys.readouterr().out
    for name in ("quadratic", "logsum", "mexican_hat", "x2"):
        assert name in out


def test_certify_prints_table_and_json(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["run", "--problem", "quadratic:n=3,seed=0", "--method", "gd", "--step", "constant:0.1",
                 "--iters", "3000", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["certify", str(out)]) == 0
    text = capsys.readouterr().out
    for key in ("P1", "P2", "P3", "P4", "P5"):
        assert key in text
    assert main(["certify", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1 and data[0]["summary"]["P5"] == "holds"


def test_symbolic_problem_runs_and_is_certified_from_its_file(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["run", "--problem", "symbolic:(x0**2 + x1**2 - 1)**2", "--method", "gd", "--step",
                 "constant:0.05", "--x0", "0.3,0.4", "--iters", "2000", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["certify", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["summary"]["P5"] == "holds"
