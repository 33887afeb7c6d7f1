"""Malformed input through the command line: a one-line message, exit status 2, no traceback, nothing written.

Each case names the input and a fragment of the message that says what was wrong and what is accepted.
"""
import json

import numpy as np
import pytest

from convcheck.backend import cupy_available
from convcheck.cli import main

GOOD = ["--problem", "logsum:n=3,seed=0", "--method", "sam", "--step", "constant:0.1", "--radius",
        "constant:0.05", "--iters", "20"]


def with_option(name, value):
    """GOOD with option ``name`` replaced by ``value`` (None removes it)."""
    args = list(GOOD)
    i = args.index(name)
    del args[i:i + 2]
    return args if value is None else args + [name, value]


RUN_CASES = [
    ("unknown problem", with_option("--problem", "logsun:n=3"), "did you mean 'logsum'"),
    ("problem parameter not a number", with_option("--problem", "logsum:n=abc"), "n"),
    ("empty item in a spec", with_option("--problem", "logsum:n=3,,seed=0"), "expected key=value"),
    ("repeated key", with_option("--problem", "logsum:n=3,n=4"), "given twice"),
    ("bad spec name", with_option("--problem", "log sum:n=3"), "bad problem name"),
    ("a piecewise-constant symbolic f", with_option("--problem", "symbolic:floor(x)+y^2"), "differentiable"),
    ("ceiling in a symbolic f", with_option("--problem", "symbolic:ceiling(x)*y"), "derivative of ceiling"),
    ("a function the parser does not know", with_option("--problem", "symbolic:sign(x)+y^2"), "x0 … x63"),
    ("unknown method", with_option("--method", "samm"), "did you mean 'sam'"),
    ("theta outside [0, 1]", with_option("--method", "vasso:theta=2"), "theta must lie in [0, 1]"),
    ("nu outside [0, 1)", with_option("--method", "igdr:nu=1.5"), "nu must lie in [0, 1)"),
    ("unknown method option", with_option("--method", "sam:rho=0.1"), "has no parameter rho"),
    ("bad F-SAM order", with_option("--method", "fsam:order=up"), "order must be one of code, paper"),
    ("negative step", with_option("--step", "constant:-0.1"), "≥ 0"),
    ("NaN step", with_option("--step", "constant:nan"), "NaN"),
    ("non-numeric power", with_option("--step", "power:c=0.1,p=abc"), "must be a number"),
    ("unknown schedule", with_option("--step", "powr:c=0.1,p=1"), "did you mean 'power'"),
    ("unknown schedule key", with_option("--step", "power:c=0.1,q=1"), "q"),
    ("code in an expression", with_option("--step", "expr:__import__('os').system('id')"), "dunder"),
    ("attribute access", with_option("--step", "expr:().__class__"), "dunder"),
    ("lambda in an expression", with_option("--step", "expr:(lambda: 1)()"), "not allowed"),
    ("unknown function", with_option("--step", "expr:foo(k)"), "'foo'"),
    ("unknown symbol", with_option("--step", "expr:0.1*x"), "'x'"),
    ("unparsable expression", with_option("--step", "expr:0.1/(k"), "cannot parse"),
    ("expression infinite at k=1", with_option("--step", "expr:1/(k-1)"), "k=1"),
    ("expression negative later", with_option("--step", "expr:0.15-0.01*k"), "k=16"),
    ("missing radius", with_option("--radius", None), "needs a radius schedule"),
    ("zero iterations", with_option("--iters", "0"), "positive whole number"),
    ("non-integer iterations", with_option("--iters", "2.5"), "positive whole number"),
    ("non-finite x0", GOOD + ["--x0", "1,2,nan"], "finite"),
    ("x0 of the wrong length", GOOD + ["--x0", "1,2"], "shape (3,)"),
    ("x0 not numbers", GOOD + ["--x0", "a,b,c"], "comma-separated numbers"),
    ("negative seed", GOOD + ["--seed", "-1"], "non-negative whole number"),
    ("unknown backend", GOOD + ["--backend", "tpu"], "invalid choice"),
    ("unknown option", GOOD + ["--colour", "red"], "unrecognized arguments"),
]


@pytest.mark.parametrize("label,args,fragment", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_bad_run_input(tmp_path, capsys, label, args, fragment):
    out = tmp_path / "runs"
    status = main(["run", *args, "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 2, label
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("convcheck: error:")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err
    assert not out.exists(), "nothing may be written on bad input"


@pytest.mark.skipif(cupy_available(), reason="this case checks the message where CuPy or a GPU is missing")
def test_cupy_missing_names_the_extra(tmp_path, capsys):
    status = main(["run", *GOOD, "--backend", "cupy", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 2 and "convcheck[cuda]" in err and len(err.strip().splitlines()) == 1


def test_existing_results_are_not_overwritten(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["run", *GOOD, "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    status = main(["run", *with_option("--iters", "30"), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and "--force" in err and "--resume" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _trace_file(tmp_path):
    out = tmp_path / "good"
    assert main(["run", *GOOD, "--out", str(out), "--quiet"]) == 0
    return next(out.glob("*.npz"))


def test_bad_trace_files(tmp_path, capsys):
    good = _trace_file(tmp_path)
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[:200])
    (tmp_path / "text.npz").write_text("hello")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with np.load(good) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["metadata_json"]))
    meta["format_version"] = 0
    arrays["metadata_json"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    (tmp_path / "empty").mkdir()
    cases = [("missing.npz", "no such trace file"), ("truncated.npz", "truncated or corrupt"),
             ("text.npz", "truncated or corrupt"), ("other.npz", "not a convcheck trace"),
             ("old.npz", "format version 0"), ("empty", "holds no trace files")]
    for name, fragment in cases:
        status = main(["certify", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert status == 2, name
        assert len(err.strip().splitlines()) == 1 and fragment in err, (name, err)


def test_bad_subcommands(capsys):
    for args, fragment in ((["list", "everything"], "invalid choice"), (["frobnicate"], "invalid choice"),
                           ([], "required")):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and fragment in err, err
