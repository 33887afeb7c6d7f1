"""The batched runner: sweeps equal single runs, stops are per run, traces round-trip, memory is bounded."""
import json
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck import run, schedules, sweep
from convcheck.backend import cupy_available
from convcheck.errors import InputError, TraceFileError
from convcheck.trace import Trace


def test_sweep_reproduces_single_runs(logsum):
    configs = [dict(problem=logsum, method=m, x0=logsum.x_star + shift, iters=300, step=step, radius=radius, seed=s)
               for m, shift, step, radius, s in [
                   ("sam", 0.2, 0.1, 0.05, 0), ("sam", -0.3, schedules.power(0.2, 1), 0.1, 1),
                   ("sam", 0.5, 0.05, schedules.power(0.1, 0.5), 2),
                   ("rsam:sigma=0.05", 0.2, 0.1, 0.05, 3), ("rsam:sigma=0.05", 0.2, 0.1, 0.05, 4),
                   ("vasso", 0.1, 0.1, 0.02, 0), ("igd:error=random", 0.3, 0.1, 0.01, 7)]]
    batched = sweep(configs)
    for config, trace in zip(configs, batched):
        single = run(**config)
        assert trace.status == single.status == "completed"
        assert_allclose(trace.x, single.x, rtol=1e-12, atol=1e-14)
        assert_allclose(trace.f, single.f, rtol=1e-12, atol=1e-14)
        assert_allclose(trace.grad_norm, single.grad_norm, rtol=1e-12, atol=1e-14)
        assert_allclose(trace.step_norm[:-1], single.step_norm[:-1], rtol=1e-10, atol=1e-14)
    # runs with different seeds draw different noise
    assert not np.allclose(batched[3].x[-1], batched[4].x[-1])


def test_repeated_runs_are_bitwise_identical(logsum):
    kwargs = dict(problem=logsum, method="rsam", x0=logsum.x_star + 0.2, iters=200, step=0.1, radius=0.05, seed=5)
    a, b = run(**kwargs), run(**kwargs)
    for name in ("k", "f", "grad_norm", "step_norm", "step_size", "radius", "x_k", "x"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_diverging_run_is_flagged_without_disturbing_the_sweep(quadratic):
    x0 = quadratic.x_star + 1.0
    configs = [dict(problem=quadratic, method="gd", x0=x0, iters=3000, step=s) for s in (0.5, 3.0, 1.0)]
    traces = sweep(configs)
    assert [t.status for t in traces] == ["completed", "diverged", "completed"]
    diverged = traces[1]
    assert diverged.status_k is not None and diverged.status_k < 3000
    assert diverged.last_k == diverged.status_k - 1
    assert np.all(np.isfinite(diverged.f)) and np.all(np.isfinite(diverged.x))
    for config, trace in zip([configs[0], configs[2]], [traces[0], traces[2]]):
        assert_allclose(trace.x, run(**config).x, rtol=1e-12, atol=1e-15)


def test_nan_from_the_problem_is_diverged(quadratic):
    """f = log(x): GD with t = 2 jumps from x = 1 to x = −1, where f is NaN; the run stops there."""
    from convcheck.problems.base import FunctionProblem, Meta

    p = FunctionProblem("neglog", Meta(dim=1), lambda X: np.log(X[..., 0]), lambda X: 1.0 / X)
    trace = run(p, "gd", np.array([1.0]), iters=50, step=2.0)
    assert trace.status == "diverged"
    assert "not finite" in trace.status_reason
    assert trace.status_k == 2 and trace.last_k == 1 and trace.k.tolist() == [1]


def test_status_completed_records_every_iterate(quadratic):
    trace = run(quadratic, "gd", quadratic.x_star + 1, iters=100, step=0.5)
    assert trace.k.tolist() == list(range(1, 102))
    assert trace.x_k.tolist() == list(range(1, 102))
    assert np.isnan(trace.step_norm[-1]) and np.isnan(trace.step_size[-1])
    assert np.all(np.isnan(trace.radius))  # GD has no radius


def test_thinning_and_bounded_iterates(quadratic):
    trace = run(quadratic, "sam", quadratic.x_star + 1, iters=20000, step=schedules.power(0.5, 1), radius=0.01,
                max_records=1000, tail=128)
    assert trace.record_every == 21
    assert len(trace.k) <= 1001 and trace.k[-1] == 20001 and trace.k[0] == 1
    assert np.all(np.diff(trace.k[:-1]) == 21)
    assert len(trace.tail_k) == 128 and np.all(np.diff(trace.tail_k) == 1) and trace.tail_k[-1] == 20001
    checkpoints = trace.x_k[:trace.tail_start]
    assert 40 < len(checkpoints) < 100 and checkpoints[0] == 1
    full = run(quadratic, "sam", quadratic.x_star + 1, iters=20000, step=schedules.power(0.5, 1), radius=0.01)
    index = {k: i for i, k in enumerate(full.x_k)}
    assert_allclose(trace.x, full.x[[index[k] for k in trace.x_k]], rtol=1e-15)
    assert_allclose(trace.f, full.f[trace.k - 1], rtol=1e-15)


def test_save_load_round_trip(tmp_path, logsum):
    trace = run(logsum, "vasso:theta=0.5", logsum.x_star + 0.1, iters=500, step=schedules.power(0.1, 1),
                radius=0.05, seed=3)
    path = trace.save(tmp_path / "a.npz")
    loaded = Trace.load(path)
    for name in ("k", "f", "grad_norm", "step_norm", "step_size", "radius", "x_k", "x"):
        assert np.array_equal(getattr(loaded, name), getattr(trace, name), equal_nan=True)
    assert loaded.status == trace.status and loaded.tail_start == trace.tail_start
    meta = loaded.metadata
    assert meta["method"]["name"] == "vasso" and meta["seed"] == 3 and meta["backend"] == "numpy"
    assert meta["step"]["spec"] == trace.metadata["step"]["spec"]
    assert "numpy" in meta["versions"] and meta["x0"] == (logsum.x_star + 0.1).tolist()
    assert not list(tmp_path.glob("*.tmp"))


def test_load_refuses_bad_files(tmp_path, quadratic):
    with pytest.raises(TraceFileError, match="does not exist"):
        Trace.load(tmp_path / "missing.npz")
    good = run(quadratic, "gd", quadratic.x_star + 1, iters=10, step=0.5).save(tmp_path / "good.npz")
    data = good.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(TraceFileError, match="truncated or corrupt"):
        Trace.load(tmp_path / "truncated.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip at all")
    with pytest.raises(TraceFileError, match="truncated or corrupt"):
        Trace.load(tmp_path / "garbage.npz")
    np.savez(tmp_path / "pickled.npz", k=np.array([object()], dtype=object))
    with pytest.raises(TraceFileError):
        Trace.load(tmp_path / "pickled.npz")
    # a future format version
    with np.load(good) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["metadata_json"]))
    meta["format_version"] = 99
    arrays["metadata_json"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(TraceFileError, match="format version 99"):
        Trace.load(tmp_path / "future.npz")
    assert zipfile.is_zipfile(good)


@pytest.mark.parametrize("kwargs,message", [
    (dict(iters=0), "iters must be a positive"),
    (dict(iters=2.5), "iters must be a positive"),
    (dict(x0=[1.0]), r"x0 must have shape \(2,\)"),
    (dict(x0=[np.nan, 1.0]), "x0 must be finite"),
    (dict(step=-0.1), "step must be a finite number >= 0"),
    (dict(step=float("nan")), "step must be a finite number >= 0"),
    (dict(radius=None), "needs a radius schedule"),
    (dict(seed=-1), "seed must be a non-negative"),
    (dict(tail=0), "tail must be a positive"),
    (dict(colour="red"), "unknown run option"),
])
def test_bad_run_input(quadratic, kwargs, message):
    base = dict(problem=quadratic, method="sam", x0=[1.0, 1.0], iters=10, step=0.1, radius=0.1)
    base.update(kwargs)
    with pytest.raises(InputError, match=message):
        run(**base)


def test_sweep_records_bad_configs_and_keeps_the_rest(quadratic):
    traces = sweep([dict(problem=quadratic, method="gd", x0=[1.0, 1.0], iters=10, step=0.1),
                    dict(problem=quadratic, method="gd", x0=[1.0], iters=10, step=0.1),
                    dict(problem=quadratic, method="nope", x0=[1.0, 1.0], iters=10, step=0.1)])
    assert [t.status for t in traces] == ["completed", "failed", "failed"]
    assert "x0 must have shape" in traces[1].status_reason
    assert "unknown method" in traces[2].status_reason


def test_exception_in_one_batched_config_keeps_the_others(quadratic):
    from convcheck import methods

    def bad_error(X, G, eps, k, noise):
        if k > 3:
            return np.full_like(G, 10.0)
        return np.zeros_like(G)

    good = dict(problem=quadratic, method=methods.igd(error=bad_error), x0=[1.0, 1.0], iters=10, step=0.1)
    traces = sweep([dict(good, radius=100.0), dict(good, radius=0.01)])
    assert traces[0].status == "completed"
    assert traces[1].status == "failed" and "longer than" in traces[1].status_reason


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA device")
def test_cupy_backend_agrees_with_numpy(logsum):
    """The same sweep on CuPy and NumPy agrees to 1e-10 relative (needs CuPy and a CUDA device)."""
    configs = [dict(problem=logsum, method=m, x0=logsum.x_star + 0.3, iters=500, step=0.1, radius=0.05, seed=1)
               for m in ("sam", "usam", "vasso", "rsam", "igd:error=random")]
    on_gpu = sweep(configs, backend="cupy", on_error="raise")
    on_cpu = sweep(configs, backend="numpy", on_error="raise")
    for gpu_trace, cpu_trace in zip(on_gpu, on_cpu):
        assert gpu_trace.metadata["backend"] == "cupy"
        assert_allclose(gpu_trace.x, cpu_trace.x, rtol=1e-10, atol=1e-12)
        assert_allclose(gpu_trace.f, cpu_trace.f, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad_from", [257, 300])
def test_thinned_run_stopping_at_a_chunk_boundary_keeps_its_last_record(bad_from):
    """Regression (found in review): with record_every = 10, a run whose first bad iterate is the first
    step of a chunk (k = 257) lost its last good record (k = 256); mid-chunk stops were right."""
    from convcheck.problems.base import FunctionProblem, Meta

    edge = -(bad_from - 1.5)
    p = FunctionProblem("line", Meta(dim=1), lambda X: np.where(X[..., 0] <= edge, np.nan, X[..., 0]),
                        lambda X: np.where(X <= edge, np.nan, np.ones_like(X)))
    trace = run(p, "gd", np.array([0.0]), iters=1000, step=1.0, record_every=10)
    assert trace.status == "diverged" and trace.status_k == bad_from
    assert trace.k[-1] == trace.last_k == bad_from - 1
    assert trace.f[-1] == -(bad_from - 2) and np.isnan(trace.step_norm[-1])
    assert np.all(trace.step_norm[:-1] == 1.0)
