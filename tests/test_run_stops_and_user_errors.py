"""How runs end when the method or the user's code cannot go on.

- d^k = 0 while ∇f(x^k) ≠ 0 in a normalized method (Algorithm 1a needs d^k ≠ 0): status
  "undefined_step", never "diverged"; the certificate is inconclusive on all five properties.
- The user's own f, gradient or method raising: a one-line error for a single run, a "failed" trace in
  a sweep with every other configuration's result kept (group-mates rerun alone).

The cancelling configurations below are built from dyadic numbers, so d² = 0 exactly on every CPU.
"""
from __future__ import annotations

import numpy as np
import pytest

from convcheck import run, sweep
from convcheck.errors import ConvcheckError, RunFailedError
from convcheck.problems import from_functions, get
from convcheck.properties import certify
from convcheck.trace import Trace


def vasso_cancelling(a: float, t: float):
    """VaSSO, θ = ½, on x² from x¹ = a: x² = a − 2t(a + ρ·sign a) = −a when ρ = |a|(1 − t)/t, so
    d² = ½d¹ + ½∇f(x²) = ½(2a) + ½(−2a) = 0 while ∇f(x²) = −2a ≠ 0."""
    return dict(problem="x2", method="vasso:theta=0.5", x0=[a], iters=40, step=t, radius=abs(a) * (1 - t) / t)


def fsam_cancelling(a: float, t: float, sigma: float):
    """F-SAM (code order), on x² from x¹ = a > 0: d² = ∇f(x²) − σ m¹ = 2x² − 2σa vanishes when
    x² = a(1 − 2t) − 2tρ = σa, i.e. ρ = a(1 − 2t − σ)/(2t)."""
    rho = a * (1 - 2 * t - sigma) / (2 * t)
    assert rho > 0
    return dict(problem="x2", method=f"fsam:sigma={sigma},lam=0.5", x0=[a], iters=40, step=t, radius=rho)


CANCELLING = [vasso_cancelling(1.0, 0.25), vasso_cancelling(-2.0, 0.5), vasso_cancelling(2.0 ** -30, 0.125),
              vasso_cancelling(2.0 ** 30, 0.25), fsam_cancelling(1.0, 0.125, 0.5),
              fsam_cancelling(2.0 ** -20, 0.0625, 0.5), fsam_cancelling(2.0 ** 20, 0.125, 0.25)]


@pytest.mark.parametrize("config", CANCELLING, ids=lambda c: f"{c['method']}:x0={c['x0'][0]:g}")
def test_zero_direction_is_an_undefined_step_not_a_divergence(config, tmp_path):
    trace = run(**config)
    assert trace.status == "undefined_step", trace.status_reason
    assert trace.status_k == 3 and trace.last_k == 2  # the step from x² is the undefined one
    assert "x^2" in trace.status_reason and "d^k" in trace.status_reason
    assert np.all(np.isfinite(trace.x)) and np.all(np.isfinite(trace.f)) and np.all(np.isfinite(trace.grad_norm))
    assert trace.grad_norm[-1] > 0  # the gradient did not vanish: not a finite termination
    path = tmp_path / "t.npz"
    trace.save(path)
    assert Trace.load(path).status == "undefined_step"  # the file format knows the status
    certificate = certify(trace, get("x2"))
    for key, verdict in certificate.items():
        assert verdict.status == "inconclusive", (key, verdict.reason)
        assert "undefined" in verdict.reason


def test_an_undefined_step_stops_only_its_own_run():
    good = dict(vasso_cancelling(1.0, 0.25), radius=0.01)
    traces = sweep([good, vasso_cancelling(1.0, 0.25), dict(good, x0=[0.5])])
    assert [t.status for t in traces] == ["completed", "undefined_step", "completed"]
    alone = run(**good)
    np.testing.assert_array_equal(traces[0].x, alone.x)


def test_an_exact_zero_gradient_is_still_finite_termination():
    trace = run("x2", "vasso:theta=0.5", x0=[0.0], iters=10, step=0.1, radius=0.1)
    assert trace.status == "stationary" and "finite termination" in trace.status_reason


def test_an_infinite_step_is_a_divergence():
    """A gradient that overflows at the perturbed point only: f and ∇f are finite at x^k, the step is ∞."""
    def f(X):
        return 0.5 * np.sum(X ** 2, axis=-1)

    def grad(X):
        with np.errstate(over="ignore"):
            return np.where(np.abs(X) > 10, np.float64(1e308) * 10, X)

    problem = from_functions(f, grad, 1, name="overflowing", probe_points=np.array([[0.5], [-1.0], [2.0]]))
    trace = run(problem, "sam", x0=[1.0], iters=10, step=0.1, radius=20.0)
    assert trace.status == "diverged" and "infinite" in trace.status_reason


# ---------------------------------------------------------------------- the user's code raising
def _problem_raising_after(calls_before_raising: int, exc: Exception):
    """½‖x‖² in 2-D whose gradient raises ``exc`` from its (calls_before_raising + 1)-th batched call
    after construction (the build-time probes are not counted)."""
    state = {"armed": False, "calls": 0}

    def f(X):
        return 0.5 * np.sum(X ** 2, axis=-1)

    def grad(X):
        if state["armed"]:
            state["calls"] += 1
            if state["calls"] > calls_before_raising:
                raise exc
        return np.array(X, dtype=float)

    problem = from_functions(f, grad, 2, name="raising")
    state["armed"] = True
    return problem


@pytest.mark.parametrize("exc", [IndexError("index 2 is out of bounds for axis 0 with size 2"),
                                 ZeroDivisionError("float division by zero"), KeyError("x"),
                                 RuntimeError("line one\nline two")])
def test_a_single_run_whose_user_code_raises_gives_one_line(exc):
    problem = _problem_raising_after(3, exc)
    with pytest.raises(RunFailedError) as info:
        run(problem, "gd", x0=[1.0, 2.0], iters=100, step=0.1)
    message = str(info.value)
    assert "\n" not in message and type(exc).__name__ in message
    assert isinstance(info.value, ConvcheckError) and info.value.__cause__ is exc


def test_a_sweep_keeps_every_result_but_the_culprits():
    """One user problem that raises, batched with nothing else; catalogue runs around it are kept."""
    bad = _problem_raising_after(5, ValueError("boom"))
    configs = [dict(problem="x2", method="gd", x0=[1.0], iters=50, step=0.1),
               dict(problem=bad, method="gd", x0=[1.0, 1.0], iters=50, step=0.1),
               dict(problem="x2", method="sam", x0=[0.5], iters=50, step=0.1, radius=0.01)]
    traces = sweep(configs)
    assert [t.status for t in traces] == ["completed", "failed", "completed"]
    assert "ValueError: boom" in traces[1].status_reason
    for i in (0, 2):
        np.testing.assert_array_equal(traces[i].x, run(**configs[i]).x)


def test_group_mates_of_a_raising_run_are_rerun_alone():
    """A user problem whose gradient raises only on rows past x = 5: the batch of three raises as a
    whole, the two healthy runs are rerun alone and kept, the culprit alone is recorded as failed."""
    def f(X):
        return 0.5 * np.sum(X ** 2, axis=-1)

    def grad(X):
        if np.any(np.abs(X) > 5) and np.ndim(X) == 2 and len(X) < 100:
            raise OverflowError("x left the region the user's code handles")
        return np.array(X, dtype=float)

    problem = from_functions(f, grad, 1, name="region", probe_points=np.array([[0.5], [-1.0], [2.0]]))
    configs = [dict(problem=problem, method="gd", x0=[x0], iters=30, step=0.1) for x0 in (1.0, 8.0, -2.0)]
    traces = sweep(configs)
    assert [t.status for t in traces] == ["completed", "failed", "completed"]
    assert "OverflowError" in traces[1].status_reason
    np.testing.assert_array_equal(traces[0].x, run(**configs[0]).x)


def test_the_command_line_keeps_the_other_results_and_exits_1(tmp_path, monkeypatch, capsys):
    """``convcheck run`` with a ``py:`` problem whose gradient raises: one line naming the exception,
    the catalogue configuration next to it completed and saved, exit status 1 (not a traceback, not 0)."""
    from convcheck.cli import main
    from convcheck.store import read_index

    module = tmp_path / "raising_problem_module.py"
    module.write_text("import numpy as np\n"
                      "from convcheck.problems import from_functions\n"
                      "def make():\n"
                      "    state = {'calls': 0}\n"
                      "    def grad(X):\n"
                      "        state['calls'] += 1\n"
                      "        if state['calls'] > 20:\n"
                      "            raise IndexError('tuple index out of range')\n"
                      "        return np.array(X, float)\n"
                      "    return from_functions(lambda X: 0.5 * np.sum(X ** 2, axis=-1), grad, 2, name='raising')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    code = main(["run", "--problem", "py:raising_problem_module:make", "--problem", "x2", "--method", "gd",
                 "--step", "0.1", "--iters", "100", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "IndexError: tuple index out of range" in err and "Traceback" not in err
    statuses = sorted(entry["status"] for entry in read_index(out))
    assert statuses == ["completed", "failed"] and len(list(out.glob("*.npz"))) == 2


# ---------------------------------------------------------------------- py: factories that raise
FACTORIES = '''
import numpy as np
from convcheck.problems import from_functions


def make_raise():
    raise RuntimeError("factory boom\\nforged line: P1 holds")


def make_key():
    return {}["missing"]


def make(n=2):
    return from_functions(lambda X: 0.5 * np.sum(X ** 2, -1), lambda X: np.array(X, float), int(n))
'''


@pytest.mark.parametrize("spec,fragment", [
    ("py:raising_factories:make_raise", "RuntimeError: factory boom forged line"),
    ("py:raising_factories:make_key", "KeyError"),
    ("py:raising_factories:make:n=2:extra", "ValueError: invalid literal"),
    ("py:raising_factories:make:n=1e9", "dim must be"),
    ("py:broken_module:make", "SyntaxError"),
])
@pytest.mark.parametrize("command", ["run", "check"])
def test_a_py_factory_that_raises_is_one_line(spec, fragment, command, tmp_path, monkeypatch, capsys):
    from convcheck.cli import main

    (tmp_path / "raising_factories.py").write_text(FACTORIES)
    (tmp_path / "broken_module.py").write_text("def make(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    args = [command, "--problem", spec, "--method", "gd", "--step", "0.1", "--iters", "10"]
    args += ["--out", str(tmp_path / "out")] if command == "run" else ["--x0", "1,1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


# ---------------------------------------------------------------------- user callables checked at every call
def _changes_beyond(threshold, how):
    """(x − 1)² + (y + 2)² whose gradient is right inside the build-time probe box and wrong in shape or
    type once x > threshold (where the run goes later)."""
    def f(X):
        return (X[..., 0] - 1.0) ** 2 + (X[..., 1] + 2.0) ** 2

    def grad(X):
        G = np.stack([2 * (X[..., 0] - 1.0), 2 * (X[..., 1] + 2.0)], axis=-1)
        if np.any(X[..., 0] > threshold):
            return {"column": G[..., :1], "flat": G.reshape(-1), "complex": G + 1j,
                    "transposed": G.T, "text": np.full(G.shape, "abc")}[how]
        return G

    return from_functions(f, grad, 2, name=f"late_{how}")


@pytest.mark.parametrize("how", ["column", "flat", "complex", "transposed", "text"])
def test_a_user_gradient_that_goes_wrong_during_the_run_fails_the_run(how):
    """A (B, 1) gradient outside the probe box was broadcast silently: GD 'completed' at (1, 1) with
    ‖∇f‖ = 9e-16 recorded and P1–P5 certified. Every call is now checked."""
    problem = _changes_beyond(0.6, how)
    traces = sweep([dict(problem=problem, method="gd", x0=[3.0, 3.0], iters=300, step=0.1),
                    dict(problem="x2", method="gd", x0=[1.0], iters=30, step=0.1)])
    assert traces[0].status == "failed", traces[0].status_reason
    assert "during the run" in traces[0].status_reason and "\n" not in traces[0].status_reason
    assert traces[1].status == "completed"
