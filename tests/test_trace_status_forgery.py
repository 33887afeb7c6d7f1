"""A trace's status must be what its arrays show, and its numbers must be float64-sized.

A forged "stationary" status once turned every verdict of a non-converging run into "holds" (finite
termination), and a forged "diverged" made P4/P5 fail on a run whose values stay finite; an integer
of 400 digits in the metadata raised OverflowError from the reader. Honest stopped runs of every kind
(compiled and generic engines, thinned records, each stop reason) must still load.
"""
import json

import numpy as np
import pytest

from convcheck import sweep
from convcheck.cli import main
from convcheck.trace import Trace

from trace_forgery import good_trace_file, read_raw, write_raw

HONEST_STOPS = {
    "stationary": dict(problem="x2", method="sam", x0=[0.0], iters=30, step=0.1, radius=0.1),
    "stationary_later": dict(problem="x2", method="vasso:theta=0.5", x0=[1.0], iters=3000, step=0.5, radius=0.0,
                             max_records=50),
    "diverged_bound": dict(problem="x2", method="gd", x0=[1.0], iters=5000, step=3.0, max_records=40),
    "diverged_compiled": dict(problem="logsum:n=4,m=4,seed=2", method="sam", x0=[0.2] * 4, iters=700, step=1e60,
                              radius=0.1),
    "undefined_step": dict(problem="x2", method="vasso:theta=0.5", x0=[1.0], iters=40, step=0.25, radius=3.0),
    "completed_thinned": dict(problem="quadratic:n=3,seed=0", method="sam", iters=3000, step=0.05, radius=0.01,
                              max_records=64),
}


@pytest.mark.parametrize("name", sorted(HONEST_STOPS))
def test_honest_stopped_runs_load_and_certify(name, tmp_path, capsys):
    trace = sweep([HONEST_STOPS[name]], on_error="raise")[0]
    expected = {"stationary_later": "stationary", "diverged_bound": "diverged", "diverged_compiled": "diverged",
                "completed_thinned": "completed"}.get(name, name)
    assert trace.status == expected, (name, trace.status_reason)
    path = trace.save(tmp_path / "t.npz")
    assert Trace.load(path).status == trace.status
    assert main(["certify", str(path)]) in (0, 1)
    assert "error" not in capsys.readouterr().err


def _stopped(meta, status, status_k):
    return dict(meta, status=status, status_k=status_k, status_reason="forged")


# a "diverged" or "undefined_step" stop at last + 1 is what an honest stop leaves (x^{status_k − 1}
# last): a file truncated and labelled so cannot be told from one by its arrays (README: limits)
FORGED_STOPS = [(status, where) for status in ("stationary", "diverged", "undefined_step")
                for where in ("first", "middle", "last", "after") if status == "stationary" or where != "after"]


@pytest.mark.parametrize("status,where", FORGED_STOPS)
def test_a_status_the_arrays_do_not_show_is_refused(tmp_path, capsys, status, where):
    arrays, meta = read_raw(good_trace_file(tmp_path, method="sam", radius=0.01))
    last = int(arrays["x_k"][-1])
    status_k = {"first": 1, "middle": last // 2, "last": last, "after": last + 1}[where]
    forged = write_raw(tmp_path / "forged.npz", arrays, _stopped(meta, status, status_k))
    assert main(["certify", str(forged)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "corrupt or forged" in err, err


def test_a_forged_zero_gradient_at_the_end_is_caught_by_the_recomputation(tmp_path, capsys):
    """The schema's checks pass (last record ‖∇f‖ = 0 at status_k); the recomputed gradient is not 0."""
    arrays, meta = read_raw(good_trace_file(tmp_path, method="sam", radius=0.01))
    arrays["grad_norm"] = np.asarray(arrays["grad_norm"]).copy()
    arrays["grad_norm"][-1] = 0.0
    forged = write_raw(tmp_path / "forged.npz", arrays, _stopped(meta, "stationary", int(arrays["x_k"][-1])))
    assert main(["certify", str(forged)]) == 2
    assert "do not belong" in capsys.readouterr().err


def test_completed_with_a_stop_iteration_is_refused(tmp_path, capsys):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    write_raw(tmp_path / "forged.npz", arrays, dict(meta, status_k=3))
    assert main(["certify", str(tmp_path / "forged.npz")]) == 2
    assert "corrupt or forged" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["x0", "seed", "param", "nested_param"])
@pytest.mark.parametrize("digits", [25, 400, 4400])
def test_huge_integers_in_metadata_are_one_line(tmp_path, capsys, where, digits):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    huge = int("9" * digits) if digits <= 4000 else None
    if where == "x0":
        meta["x0"] = [huge if huge is not None else 1] + meta["x0"][1:]
    elif where == "seed":
        meta["seed"] = huge if huge is not None else 1
    elif where == "param":
        meta["problem"]["params"]["n"] = huge if huge is not None else 1
    else:
        meta["problem"]["params"]["extra"] = {"deep": [huge if huge is not None else 1]}
    raw = json.dumps(meta)
    if huge is None:  # beyond Python's 4300-digit int-parsing limit: written as raw JSON text
        raw = raw.replace('"x0": [1', '"x0": [' + "9" * digits, 1) if where == "x0" else \
            raw.replace('"seed": 1', '"seed": ' + "9" * digits, 1) if where == "seed" else \
            raw.replace('"n": 1', '"n": ' + "9" * digits, 1) if where == "param" else \
            raw.replace('"deep": [1', '"deep": [' + "9" * digits, 1)
    write_raw(tmp_path / "huge.npz", arrays, meta, raw_json=raw)
    assert main(["certify", str(tmp_path / "huge.npz")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
