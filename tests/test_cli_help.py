"""The command line explains itself: described options, spec examples, aligned tables ≤ 100 columns,
a quiet end on a closed pipe, advice in iterations, and the paper's own numbering only."""
import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convcheck import run
from convcheck.cli import build_parser, main
from convcheck.problems import get
from convcheck.tables import format_table

ROOT = Path(__file__).resolve().parents[1]


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_option_of_every_command_is_described():
    parser = build_parser()
    missing = []
    for name, sub in _subparsers(parser):
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not (action.help or "").strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


@pytest.mark.parametrize("command", [[], ["run"], ["report"], ["certify"], ["theorems"], ["list"], ["figures"]])
def test_help_has_no_rst_markup_and_fits_100_columns(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":mod:" not in text and ":func:" not in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_help_explains_the_spec_syntax_with_examples(capsys):
    for command in ([], ["run"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        text = capsys.readouterr().out
        assert "NAME:key=value" in text
        for example in ("logsum:n=20,seed=0", "vasso:theta=0.9", "power:c=0.1,p=1", "constant:0.1", "expr:"):
            assert example in text, (command, example)


@pytest.mark.parametrize("what", ["methods", "schedules", "problems"])
def test_list_tables_have_a_header_row_aligned_columns_and_fit(what, capsys):
    assert main(["list", what]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "name" and set(lines[1]) <= {"-", " "}
    table = lines[:lines.index("")] if "" in lines else lines
    assert max(len(line) for line in lines) <= 100
    starts = [m.start() for m in re.finditer(r"-+", lines[1])]
    for line in table[2:]:  # every cell starts at its column (continuation lines leave earlier cells blank)
        for start in starts[1:]:
            assert line[start - 2:start] in ("  ", "") or len(line) < start, (line, start)
    assert main(["list", what, "--wide"]) == 0
    wide = capsys.readouterr().out.splitlines()
    assert wide[0].split()[0] == "name"


@pytest.mark.parametrize("width", [40, 60, 100])
def test_format_table_wraps_to_any_width_and_keeps_every_character(width):
    rows = [("quadratic:L=4.0,cond=4.0,mu=1.0,n=10,seed=0", "power:c=0.2,p=0.6 / power:c=0.1,p=0.7", "ok"),
            ("x2", "constant:value=0.1", "consistent")]
    text = format_table(("problem", "step / radius", "verdict"), rows, width, nowrap=(2,))
    assert max(len(line) for line in text.splitlines()) <= width
    body = "\n".join(text.splitlines()[2:])   # every character of every cell, nothing else
    assert sorted(re.sub(r"\s", "", body)) == sorted(re.sub(r"\s", "", "".join("".join(r) for r in rows)))
    assert format_table(("a",), [("x" * 150,)], None).splitlines()[2] == "x" * 150


@pytest.fixture(scope="module")
def trace_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    for seed, n in enumerate((2, 3, 4)):
        run(get("quadratic", n=n, cond=4.0, seed=seed), "gd", np.ones(n), iters=500, step=0.2).save(
            folder / f"q{n}.npz")
    return folder


@pytest.mark.parametrize("args", [["certify", "--json"], ["certify"], ["list", "problems"]])
def test_a_closed_pipe_ends_quietly(args, trace_folder):
    argv = [*args[:1], str(trace_folder), *args[1:]] if args[0] == "certify" else args
    child = subprocess.Popen([sys.executable, "-c", "import sys; from convcheck.cli import main; "
                              "sys.exit(main(sys.argv[1:]))", *argv],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    child.stdout.readline()
    child.stdout.close()     # like `| head -1`
    err = child.stderr.read().decode()
    status = child.wait(120)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert status in (0, 141)


@pytest.mark.parametrize("iters", [60, 90, 150])
def test_inconclusive_advice_is_in_iterations_not_factors(iters):
    from convcheck.properties import certify

    problem = get("logsum", n=2, seed=1)
    trace = run(problem, "gd", np.ones(2), iters=iters, step="power:c=0.05,p=0.99")
    cert = certify(trace, problem)
    reasons = [cert[p].reason for p in ("P1", "P2", "P3", "P4", "P5") if "would decide" in cert[p].reason]
    for reason in reasons:
        assert "× the iterations" not in reason and "16×" not in reason, reason
    undecided = [cert[p].reason for p in ("P1", "P2", "P3", "P4", "P5") if cert[p].status == "inconclusive"]
    assert all("longer run" in r for r in undecided)


@pytest.mark.parametrize("k, text", [(5, "5"), (4321, "4300"), (3.2e5, "3·10⁵"), (9.7e5, "10⁶"), (2.4e10, "2·10¹⁰")])
def test_iteration_counts_read_as_numbers(k, text):
    from convcheck.properties.rates import iterations_text, longer_run

    assert iterations_text(k) == text
    assert longer_run(k / 16, 16) == f"a longer run, to k ≈ {text}, would decide"


@pytest.mark.parametrize("n, p", [(2, 1.0), (3, 0.8), (5, 0.7)])
def test_the_rate_column_is_the_fit_the_reason_states(n, p):
    """P1's reason "… as a power law k^β (R² = r)" and the rate shown beside it come from one fit."""
    from convcheck.properties import certify
    from convcheck.reports.render import rate_text

    problem = get("logsum", n=n, seed=1)
    trace = run(problem, "sam", np.ones(n), iters=20000, step=f"power:c=0.5,p={p}", radius="power:c=0.1,p=0.5")
    cert = certify(trace, problem)
    verdict = cert["P1"]
    match = re.search(r"power law k\^(-?[0-9.e+-]+) \(R² = ([0-9.]+)\)", verdict.reason)
    if match is None:
        assert verdict.rate is None or verdict.rate["model"] != "power" or "power law" in verdict.reason
        return
    beta, r2 = float(match.group(1)), float(match.group(2))
    assert verdict.rate["model"] == "power"
    assert abs(-verdict.rate["exponent"] - beta) <= 0.0051 * max(1.0, abs(beta))
    assert abs(verdict.rate["r2"] - r2) <= 0.0006
    assert f"k^−{verdict.rate['exponent']:.3g}" in rate_text(verdict.rate)


def test_no_reference_to_a_document_users_do_not_have():
    pattern = re.compile(r"spec §|spec\.md|\.\./shared")
    offenders = [str(path.relative_to(ROOT)) for folder in ("convcheck", "problems", "properties", "reports")
                 for path in (ROOT / folder).rglob("*.py") if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
