"""The compiled chunk kernels (convcheck.compiled) against the generic NumPy engine and exact formulas."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck import compiled, sweep
from convcheck.problems import get

pytestmark = pytest.mark.skipif(not compiled.available(), reason="Numba is not installed (or switched off)")

METHODS = ["gd", "sam", "usam", "extragradient", "sam:eps_guard=0.01"]


def _configs(problem, method, runs=5, iters=600, step=None, radius=0.05):
    rng = np.random.default_rng(3)
    step = step if step is not None else 0.5 / problem.meta.L
    return [dict(problem=problem, method=method, x0=problem.x_star + 0.3 * rng.standard_normal(problem.dim),
                 iters=iters, step=step, radius=radius if method != "gd" else None, seed=i) for i in range(runs)]


def _both_engines(configs, monkeypatch):
    fast = sweep(configs, on_error="raise")
    with monkeypatch.context() as patch:
        patch.setenv(compiled.ENV_SWITCH, "0")
        slow = sweep(configs, on_error="raise")
    return fast, slow


def _assert_same_runs(fast, slow, rtol=1e-8):
    """Same runs up to round-off: the engines sum ‖∇f‖² and f in different orders, and the dynamics
    amplify those ulps at sensitive steps (seen: up to 1.1e-9 relative on SAM with eps_guard, where
    the iterates oscillate). A wrong formula differs by many orders of magnitude more."""
    for a, b in zip(fast, slow):
        assert a.metadata["engine"].startswith("compiled:") and b.metadata["engine"] == "numpy"
        assert (a.status, a.status_k) == (b.status, b.status_k)
        np.testing.assert_array_equal(a.k, b.k)
        np.testing.assert_array_equal(a.x_k, b.x_k)
        assert a.tail_start == b.tail_start
        for name in ("f", "grad_norm", "step_norm", "step_size", "radius"):
            assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=1e-300, err_msg=name)
        assert_allclose(a.x, b.x, rtol=rtol, atol=1e-12 * max(1.0, float(np.abs(b.x).max())))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("entry", ["logsum:n=6", "logsum_under:n=6,m=3"])
def test_compiled_kernel_matches_the_generic_engine(entry, method, monkeypatch):
    """Full runs for the smooth maps (GD, USAM, extragradient contract here); a 30-step prefix for
    normalized SAM. With a constant radius SAM ends oscillating at amplitude about tρL around the
    minimizer, where the map's derivative tρL²/‖∇f‖ is about 1: the two engines' different summation
    orders (one ulp) are then amplified at a rate that depends on the CPU's rounding (seen: 2.9e-8 at
    k = 45 on one AMD EPYC, under 1e-9 on another CPU). Over 30 steps even a growth of 1.8x per step keeps
    ulps below the tolerance; a wrong formula differs at the first step."""
    problem = get(entry)
    iters = 30 if method.startswith("sam") else 600
    fast, slow = _both_engines(_configs(problem, method, iters=iters), monkeypatch)
    _assert_same_runs(fast, slow)


def test_schedules_thinning_and_a_divergence_match_the_generic_engine(monkeypatch):
    """Diminishing step and radius, thinned records (max_records), and one run sent past ``bound``."""
    problem = get("logsum:n=4,m=4,seed=2")
    base = dict(problem=problem, method="sam", iters=700, step="expr:0.5/(k+10)", radius="power:c=0.1,p=0.6", max_records=50)
    x0 = problem.x_star + 0.2
    configs = [dict(base, x0=x0, seed=0), dict(base, x0=-x0, seed=1), dict(base, x0=x0, step=1e60, seed=2)]
    fast, slow = _both_engines(configs, monkeypatch)
    assert fast[2].status == "diverged" and fast[0].status == "completed"
    assert fast[0].record_every > 1
    _assert_same_runs(fast, slow)


def test_no_recording_matches_the_generic_engine(monkeypatch):
    """SAM at a constant radius ends oscillating where round-off is amplified at a CPU-dependent rate
    (see above): compare a 30-step prefix (2 log-spaced checkpoints and the ring), as for recorded runs."""
    problem = get("logsum:n=5")
    configs = [dict(c, record=False) for c in _configs(problem, "sam", runs=3, iters=30)]
    fast, slow = _both_engines(configs, monkeypatch)
    _assert_same_runs(fast, slow)


def test_grouped_log_sum_is_accurate_across_magnitudes():
    """f = Σ log1p(r²) by grouped products, against NumPy's per-term log1p (module doc: ≈ 1e-14 relative),
    for residuals from 1e-12 to 1e12 (a group with a term above U_SPLIT is summed term by term), a row
    of terms just below U_SPLIT, and a NaN residual."""
    rng = np.random.default_rng(0)
    m = n = 40  # A = I, b = 0: the residuals are exactly X (one group of 32 terms and 8 more per row)
    A, b = np.eye(n), np.zeros(n)
    exponents = rng.uniform(-12, 12, size=(6, m))
    X = np.sign(rng.standard_normal((6, m))) * 10.0 ** exponents
    X[1] = 1e-9 * rng.standard_normal(m)  # f ≈ Σ r², far below 1: no cancellation allowed
    X[3] = 2.9e4 * np.sign(rng.standard_normal(m))  # u just below U_SPLIT: e near 1e286, no overflow
    X[4, :32] = np.linspace(0.5, 3.0, 32)  # the first group's terms all below U_SPLIT, the rest mixed
    expected = np.log1p(X * X).sum(axis=1)
    ring = np.empty((4, 6, n))
    rec = [np.empty((1, 6)) for _ in range(3)]
    compiled.logsum_chunk(X.copy(), A, np.ascontiguousarray(A.T), b, np.zeros((1, 6)), np.zeros((1, 6)), 0, 0.0, ring,
                          0, True, *rec)
    assert_allclose(rec[0][0], expected, rtol=1e-13)
    X[2, 0] = np.nan
    compiled.logsum_chunk(X.copy(), A, np.ascontiguousarray(A.T), b, np.zeros((1, 6)), np.zeros((1, 6)), 0, 0.0, ring,
                          0, True, *rec)
    assert np.isnan(rec[0][0, 2]) and np.isfinite(rec[0][0, [0, 1, 3, 4, 5]]).all()


def test_one_step_of_sam_is_the_formula():
    """x⁺ = x − t∇f(x + ρ∇f(x)/‖∇f(x)‖) with ∇f = Aᵀ[2r/(1 + r²)], written out for two points."""
    problem = get("logsum:n=3,m=4,seed=1")
    A, b = problem.A, problem.b
    X = np.array([[0.3, -1.0, 2.0], [1.5, 0.2, -0.7]])

    def grad(x):
        r = A @ x - b
        return A.T @ (2 * r / (1 + r * r))

    t, rho = np.array([[0.01, 0.02]]), np.array([[0.1, 0.05]])
    expected = [x - t[0, i] * grad(x + rho[0, i] * grad(x) / np.linalg.norm(grad(x))) for i, x in enumerate(X)]
    ring, rec = np.empty((4, 2, 3)), [np.empty((1, 2)) for _ in range(3)]
    Y = X.copy()
    compiled.logsum_chunk(Y, A, np.ascontiguousarray(A.T), b, t, rho, compiled.METHOD_CODES["sam"], 0.0, ring, 0,
                          True, *rec)
    assert_allclose(Y, expected, rtol=1e-14)
    assert_allclose(ring[0], X)
    assert_allclose(rec[1][0], [np.linalg.norm(grad(x)) for x in X], rtol=1e-14)


def test_threaded_shards_are_deterministic_and_match_single_runs():
    problem = get("logsum:n=8")
    configs = _configs(problem, "sam", runs=80, iters=200, step=0.1 / problem.meta.L)  # a contracting regime
    first, second = sweep(configs), sweep(configs)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.f, b.f)
    for index in (0, 41, 79):
        alone = sweep([configs[index]])[0]
        assert_allclose(first[index].x, alone.x, rtol=1e-12, atol=1e-13 * np.abs(alone.x).max())
        assert_allclose(first[index].f, alone.f, rtol=1e-12)


def test_tiled_transposes_match_numpy():
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((130, 77))
    np.testing.assert_array_equal(compiled.transposed(matrix), matrix.T)
    ring = rng.standard_normal((40, 70, 3))
    slots, cols = (np.arange(40) + 17) % 40, np.array([0, 5, 69, 3])
    out = np.full((4, 45, 3), np.nan)
    compiled.gather_transposed(ring, slots, cols, out, 5)
    np.testing.assert_array_equal(out[:, 5:], ring[slots][:, cols].transpose(1, 0, 2))
    assert np.isnan(out[:, :5]).all()


def test_switch_and_unsupported_pairs_use_the_generic_engine(monkeypatch):
    problem = get("logsum:n=4")
    assert sweep(_configs(problem, "vasso", runs=1, iters=5))[0].metadata["engine"] == "numpy"
    quadratic = dict(problem="quadratic:n=3", method="sam", x0=[1.0, 2.0, 3.0], iters=5, step=0.1, radius=0.05)
    assert sweep([quadratic])[0].metadata["engine"] == "numpy"
    monkeypatch.setenv(compiled.ENV_SWITCH, "off")
    assert not compiled.available()
    assert sweep(_configs(problem, "sam", runs=1, iters=5))[0].metadata["engine"] == "numpy"


def test_memory_budgets_are_per_group_not_per_shard():
    """A group split into shards keeps the group's ring length and record thinning (budgets per group)."""
    from convcheck.runner import COMPILED_SHARD_FLOATS, tail_length

    problem = get("logsum:n=100")
    runs = 3 * COMPILED_SHARD_FLOATS // problem.dim  # several shards
    traces = sweep(_configs(problem, "gd", runs=runs, iters=3000))
    assert {t.metadata["tail"] for t in traces} == {tail_length(runs, problem.dim, None, 3000)}
    assert tail_length(runs, problem.dim, None, 3000) < tail_length(runs // 3, problem.dim, None, 3000)
    assert len({t.record_every for t in traces}) == 1
