"""The compiled chunk kernel (convcheck.engine_kernels) against the generic NumPy engine and the formulas.

Every comparison is on a non-chaotic configuration: a short prefix (25 steps) at a step t = 0.1/L and
a small radius, where the maps contract or expand by at most a few percent per step, so the engines'
different summation orders (a few ulp) stay far below the tolerance on any CPU; a wrong formula
differs at the first step by many orders of magnitude more.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck import engine_copies, jit, methods, sweep
from convcheck.engine_kernels import choose_kernel
from convcheck.backend import get_backend
from convcheck.jit import CompiledRule
from convcheck.problems import catalogue, from_functions, get, symbolic

pytestmark = pytest.mark.skipif(not jit.available(), reason="Numba is not installed (or switched off)")

METHODS = ["gd", "sam", "sam:eps_guard=0.01", "usam", "extragradient", "rsam:sigma=0.05", "vasso", "vasso:theta=0.3",
           "fsam", "fsam:order=paper,sigma=0.5", "igd", "igd:error=random", "igd:error=example34", "igdr",
           "igdr:error=random"]
NUMPY = get_backend("numpy")


def _step_for(problem):
    L = problem.meta.L or problem.meta.descent_L or 1.0
    return 0.1 / L


def _configs(problem, method, runs=3, iters=25, radius=0.01, step=None):
    rng = np.random.default_rng(3)
    x0s = rng.uniform(0.5, 1.5, (runs, problem.dim)) * np.sign(rng.standard_normal((runs, problem.dim)))
    return [dict(problem=problem, method=method, x0=x0, iters=iters, step=step or _step_for(problem),
                 radius=radius if methods.get(method).uses_radius else None, seed=i) for i, x0 in enumerate(x0s)]


def _both_engines(configs, monkeypatch):
    fast = sweep(configs, on_error="raise")
    with monkeypatch.context() as patch:
        patch.setenv(jit.ENV_SWITCH, "0")
        slow = sweep(configs, on_error="raise")
    return fast, slow


def _assert_same_runs(fast, slow, rtol=1e-9):
    """Same runs up to round-off (see the module doc)."""
    for a, b in zip(fast, slow):
        assert a.metadata["engine"].startswith("compiled:") and b.metadata["engine"] == "numpy"
        assert (a.status, a.status_k) == (b.status, b.status_k)
        np.testing.assert_array_equal(a.k, b.k)
        np.testing.assert_array_equal(a.x_k, b.x_k)
        assert a.tail_start == b.tail_start
        for name in ("f", "grad_norm", "step_norm", "step_size", "radius"):
            values = getattr(b, name)
            scale = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
            assert_allclose(getattr(a, name), values, rtol=rtol, atol=1e-13 * scale, err_msg=name)
        assert_allclose(a.x, b.x, rtol=rtol, atol=1e-13 * max(1.0, float(np.abs(b.x).max())))


COMPILED_PROBLEMS = [name for name in catalogue() if get(name).compiled_form() is not None]


def test_every_catalogue_problem_has_a_compiled_form():
    assert set(catalogue()) == set(COMPILED_PROBLEMS)


@pytest.mark.parametrize("entry", COMPILED_PROBLEMS)
def test_every_pair_runs_compiled_and_agrees_with_the_generic_engine(entry, monkeypatch):
    """All (catalogue problem, method) pairs with compiled forms: same trajectories, records and stops."""
    problem = get(entry)
    for method in METHODS:
        assert choose_kernel(problem, methods.get(method), NUMPY) is not None, method
        fast, slow = _both_engines(_configs(problem, method), monkeypatch)
        _assert_same_runs(fast, slow)


def test_schedules_thinning_and_a_divergence_match_the_generic_engine(monkeypatch):
    """Per-run diminishing steps and radii, thinned records (max_records), and one run sent past ``bound``;
    the step is small (t ≤ 0.05/L), so the iterates contract and the comparison holds over 700 steps."""
    problem = get("logsum:n=4,m=4,seed=2")
    base = dict(problem=problem, method="sam", iters=700, radius="power:c=0.01,p=0.6", max_records=50)
    x0 = problem.x_star + 0.2
    configs = [dict(base, x0=x0, step=f"power:c={0.05 * c / problem.meta.L},p=0.5", seed=i) for i, c in enumerate((1, 0.5))]
    configs += [dict(base, x0=x0, step=1e60, seed=2)]
    fast, slow = _both_engines(configs, monkeypatch)
    assert fast[2].status == "diverged" and fast[0].status == "completed"
    assert fast[0].record_every > 1
    _assert_same_runs(fast, slow)


def test_stops_in_later_chunks_are_found_as_by_the_generic_engine(monkeypatch):
    """The compiled kernel sums per run the steps with an event (a non-finite f, ‖∇f‖ or step length,
    ‖∇f‖ = 0) and the path length, and the engine decides a quiet chunk from those: each event class,
    placed in a later chunk (tail 64: chunks of 16 steps), must stop its run where the generic
    engine stops it. f = ½‖x‖² (A = I up to 2e-16, L = 1); SAM with ρ = 0 is GD."""
    problem = get("quadratic:n=2,cond=1")
    base = dict(problem=problem, method="sam", iters=400, tail=64, radius=0.0, x0=[1.0, -2.0])
    configs = [dict(base, step=1e-3, radius=0.01),                                  # quiet throughout
               dict(base, step=2.5, bound=1e3),                                      # ×1.5 per step: ball left
               dict(base, step=9.0, bound=1e300),                                    # ×8 per step: f overflows
               dict(base, step="expr:0.5*exp(-(k-40)**2)+0.5"),                      # t_40 = 1: ∇f(x^41) = 0
               dict(base, step="expr:1e-3+1e308*floor(exp(-(k-50)**2))", x0=[10.0, 0.0])]  # t_50‖D‖ = inf
    fast, slow = _both_engines(configs, monkeypatch)
    expected = [("completed", None), ("diverged", 16), ("diverged", None), ("stationary", 41), ("diverged", 51)]
    for trace, (status, k) in zip(fast, expected):
        assert trace.status == status and (k is None or trace.status_k == k), (trace.status, trace.status_k)
    assert fast[2].status_k > 100 and "not finite" in fast[2].status_reason
    assert "infinite" in fast[4].status_reason
    _assert_same_runs(fast, slow)


def test_the_mexican_hat_spiral_runs_compiled_as_on_numpy(monkeypatch):
    """Inside the disk, on the valley floor (the random starts of the pair test are mostly outside,
    where f = 0): GD and SAM from Mexican hat spiral starts, 500 steps at the start's stable step;
    the valley contracts across and is neutral along, so round-off stays at round-off."""
    problem = get("mexican_hat")
    configs = []
    for turn in (0, 1):
        start = problem.spiral_start(turn)
        configs += [dict(problem=problem, method=method, x0=start["x1"], iters=500, step=start["step"],
                         radius=1e-3 if method == "sam" else None) for method in ("gd", "sam")]
    fast, slow = _both_engines(configs, monkeypatch)
    assert all(t.status == "completed" and np.all(np.hypot(*t.x.T) < 1.0) for t in fast)
    _assert_same_runs(fast, slow)


def test_the_mexican_hat_is_exactly_zero_far_outside_its_disk_in_both_forms():
    """f = 0 and ∇f = 0 for ρ ≥ 1, also where ρ = x² + y² overflows (|x| ≳ 1e154) or where 4ρ² alone
    would (|x| ≳ 1e77): the NumPy reference and the compiled form give exact zeros, not NaN."""
    from convcheck.engine_kernels import _compiled
    from convcheck.problems.mexican_hat import _mexican_hat_value_and_grad

    problem = get("mexican_hat")
    X = np.array([[1.0, 0.0], [0.0, -1.0], [3.0, 4.0], [1e77, 0.0], [-1e76, 1e76], [1e154, 1e154],
                  [1e200, -3.0], [-1.7e308, 1.7e308]])
    F, G = np.full(len(X), np.nan), np.full(X.shape, np.nan)
    _compiled(_mexican_hat_value_and_grad, "value_and_grad")(X, np.zeros(0), np.zeros(0, np.int64), F, G, True)
    with np.errstate(over="ignore", invalid="raise", divide="raise"):  # ρ may overflow to inf; no NaN arises
        f_ref, g_ref = problem._value_and_grad(X)
    for f, g in ((F, G), (f_ref, g_ref)):
        np.testing.assert_array_equal(f, 0.0)
        np.testing.assert_array_equal(g, 0.0)


def test_no_recording_matches_the_generic_engine(monkeypatch):
    problem = get("logsum:n=5")
    configs = [dict(c, record=False) for c in _configs(problem, "sam", runs=3, iters=30)]
    fast, slow = _both_engines(configs, monkeypatch)
    _assert_same_runs(fast, slow)


def test_grouped_log_sum_is_accurate_across_magnitudes():
    """f = Σ log1p(r²) by grouped products against NumPy's per-term log1p (≈ 1e-14 relative), for residuals
    from 1e-12 to 1e12 (a group with a term above U_SPLIT is summed term by term), terms just below U_SPLIT
    (e near 1e286, no overflow) and a NaN."""
    from convcheck.problems.catalogue_nonconvex import _grouped_log_sum

    rng = np.random.default_rng(0)
    rows = np.sign(rng.standard_normal((6, 40))) * 10.0 ** rng.uniform(-12, 12, size=(6, 40))
    rows[1] = 1e-9 * rng.standard_normal(40)
    rows[3] = 2.9e4 * np.sign(rng.standard_normal(40))
    rows[4, :32] = np.linspace(0.5, 3.0, 32)
    for r in rows:
        assert_allclose(_grouped_log_sum(r * r), np.log1p(r * r).sum(), rtol=1e-13)
    rows[2, 0] = np.nan
    assert np.isnan(_grouped_log_sum(rows[2] * rows[2]))


def test_one_step_of_sam_is_the_formula():
    """x² = x¹ − t∇f(x¹ + ρ∇f(x¹)/‖∇f(x¹)‖) with ∇f = Aᵀ[2r/(1 + r²)], written out for two points."""
    problem = get("logsum:n=3,m=4,seed=1")
    A, b = problem.A, problem.b

    def grad(x):
        r = A @ x - b
        return A.T @ (2 * r / (1 + r * r))

    X = np.array([[0.3, -1.0, 2.0], [1.5, 0.2, -0.7]])
    traces = sweep([dict(problem=problem, method="sam", x0=x, iters=1, step=t, radius=rho)
                    for x, t, rho in zip(X, (0.01, 0.02), (0.1, 0.05))])
    for x, t, rho, trace in zip(X, (0.01, 0.02), (0.1, 0.05), traces):
        assert trace.metadata["engine"] == "compiled:logsum/sam"
        assert_allclose(trace.x[1], x - t * grad(x + rho * grad(x) / np.linalg.norm(grad(x))), rtol=1e-14)
        assert_allclose(trace.grad_norm[0], np.linalg.norm(grad(x)), rtol=1e-14)


def _toy_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """Y = x − ρ∇f(x)/(‖∇f(x)‖ + 1), then D = ½(∇f(x) + ∇f(Y))."""
    if stage == 0:
        for i in range(X.shape[0]):
            for l in range(X.shape[1]):
                Y[i, l] = X[i, l] - rho[i] / (gnorm[i] + 1.0) * G[i, l]
        return 1
    for i in range(X.shape[0]):
        for l in range(X.shape[1]):
            D[i, l] = 0.5 * (G[i, l] + GY[i, l])
    return 0


class ToyMethod(methods.Method):
    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return 0.5 * (G + problem.grad(X - rho / (gnorm + 1.0) * G)), state

    def compiled_rule(self):
        return CompiledRule("toy", _toy_rule)


def test_a_toy_method_defined_here_runs_compiled(monkeypatch):
    toy = ToyMethod(name="toy", uses_radius=True)
    fast, slow = _both_engines(_configs(get("quadratic:n=5"), toy, runs=2), monkeypatch)
    assert fast[0].metadata["engine"] == "compiled:quadratic/toy"
    _assert_same_runs(fast, slow)


def test_what_has_no_compiled_form_runs_on_the_generic_engine(monkeypatch):
    class ScaledGD(methods.GD):  # overrides the formula without a compiled rule: must not inherit GD's
        def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
            return 2.0 * G, state

    ring = get("ring:n=3")

    class ShiftedRing(type(ring)):  # a catalogue problem's subclass with its own formula: no inherited form
        def _value_and_grad(self, X):
            return super()._value_and_grad(X - 0.1)

    quadratic = get("quadratic:n=3")
    user = from_functions(lambda X: (X * X).sum(-1), lambda X: 2 * X, dim=3, name="mine", L=2.0)
    shifted = ShiftedRing("shifted_ring", ring.meta)
    cases = [(quadratic, ScaledGD(name="gd")), (user, methods.sam()), (shifted, methods.gd()),
             (quadratic, methods.igd(error=lambda X, G, eps, k, noise: 0 * G))]
    for problem, method in cases:
        assert choose_kernel(problem, method, NUMPY) is None
        trace = sweep([dict(problem=problem, method=method, x0=[0.5] * problem.dim, iters=5, step=0.01,
                            radius=0.01 if method.uses_radius else None)], on_error="raise")[0]
        assert trace.metadata["engine"] == "numpy"
    monkeypatch.setenv(jit.ENV_SWITCH, "off")
    assert not jit.available() and choose_kernel(quadratic, methods.sam(), NUMPY) is None


def test_threaded_shards_are_deterministic_and_match_single_runs():
    problem = get("logsum:n=8")
    configs = _configs(problem, "sam", runs=80, iters=200)  # a contracting regime
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
    np.testing.assert_array_equal(engine_copies.transposed(matrix), matrix.T)
    ring = rng.standard_normal((40, 70, 3))
    slots, cols = (np.arange(40) + 17) % 40, np.array([0, 5, 69, 3])
    out = np.full((4, 45, 3), np.nan)
    engine_copies.gather_transposed(ring, slots, cols, out, 5)
    np.testing.assert_array_equal(out[:, 5:], ring[slots][:, cols].transpose(1, 0, 2))
    assert np.isnan(out[:, :5]).all()


def test_memory_budgets_are_per_group_not_per_shard():
    """A group split into shards keeps the group's ring length and record thinning (budgets per group)."""
    from convcheck.engine_plan import COMPILED_SHARD_FLOATS, tail_length

    problem = get("logsum:n=100")
    runs = 3 * COMPILED_SHARD_FLOATS // problem.dim  # several shards
    traces = sweep(_configs(problem, "gd", runs=runs, iters=3000))
    assert {t.metadata["tail"] for t in traces} == {tail_length(runs, problem.dim, None, 3000)}
    assert tail_length(runs, problem.dim, None, 3000) < tail_length(runs // 3, problem.dim, None, 3000)
    assert len({t.record_every for t in traces}) == 1


@pytest.mark.skipif(jit.numba is None, reason="needs Numba")
def test_a_disk_cache_that_cannot_be_written_leaves_the_compile_usable():
    """A full disk, a file-size limit or a read-only folder makes Numba's cache save raise OSError; the
    compiled function must still run (in memory), lazily compiled or compiled for a signature."""
    import errno

    import numba

    def twice(x):
        return 2.0 * x

    def refuse(signature, data):
        raise OSError(errno.EFBIG, "File too large")

    lazy = numba.njit(**jit.JIT_OPTIONS)(twice)
    lazy._cache.save_overload = refuse  # the write fails as on a full disk
    jit.tolerate_cache_write_errors(lazy)
    assert lazy(1.5) == 3.0 and lazy(2.5) == 5.0
    eager = numba.njit(**jit.JIT_OPTIONS)(twice)
    eager._cache.save_overload = refuse
    jit.tolerate_cache_write_errors(eager).compile("float64(float64)")
    assert eager(4.0) == 8.0
    unguarded = numba.njit(**jit.JIT_OPTIONS)(twice)
    unguarded._cache.save_overload = refuse
    with pytest.raises(OSError):  # what the guard is for: Numba itself lets the error through
        unguarded(1.0)


# ------------------------------------------------------------------ symbolic problems: generated code
SYMBOLIC_CASES = [  # (expression, variables): the parser's functions, rationals, constants, kinks
    ("log(1+(x-1)^2) + log(1+(y+2)^2) + 0.3*cos(x+2*y)", None),
    ("x^4/12 - 2*x*y/3 + y^2 + z^2*exp(-x/7) + sqrt(1 + z^2)", None),
    ("abs(x) + max(x, 2*y) + min(y, 0)^2 + tanh(x*y) + atan(y) + pi*sinh(x/5) + E*cosh(y/5)", None),
    ("log1p(x0^2) + tan(x1/3) + ln(1 + x2^2)/(2 + x0) + (1 + x3^2)^(3/2)", None),
    ("X^2 + F*G + math^2 + data", ["X", "F", "G", "math", "data"]),  # names the generated code uses itself
]


@pytest.mark.skipif(not jit.available(), reason="needs Numba (and CONVCHECK_COMPILED not 0)")
@pytest.mark.parametrize("expression,variables", SYMBOLIC_CASES)
def test_symbolic_problems_get_a_generated_compiled_form_that_is_the_formula(expression, variables):
    """f and ∇f of the generated code against the lambdified NumPy functions at seeded points (in [0.2, 1.7]):
    equal to round-off (common subexpressions, libm's last ulp)."""
    from convcheck.engine_kernels import _compiled
    from convcheck.problems import symbolic_codegen

    problem = symbolic(expression, variables=variables)
    form = problem.compiled_form()
    assert form is not None and form.generated and form.min_steps == symbolic_codegen.MIN_STEPS
    X = np.random.default_rng(0).uniform(0.2, 1.7, size=(64, problem.dim))
    F, G = np.empty(64), np.empty((64, problem.dim))
    _compiled(form.value_and_grad, "value_and_grad")(X, form.data, form.dims, F, G, True)
    F_ref, G_ref = problem.value_and_grad(X)
    assert_allclose(F, F_ref, rtol=1e-13, atol=1e-14)
    assert_allclose(G, G_ref, rtol=1e-12, atol=1e-13)


@pytest.mark.skipif(not jit.available(), reason="needs Numba (and CONVCHECK_COMPILED not 0)")
def test_a_long_symbolic_run_runs_compiled_and_agrees_a_short_one_stays_on_numpy(monkeypatch):
    """GD on a strongly convex symbolic f (a contraction: no amplification of round-off) for MIN_STEPS
    steps, compiled, against the generic engine; a run one step shorter does not compile."""
    from convcheck.problems import symbolic_codegen

    problem = symbolic("x^2 + 2*y^2 + log(1 + (x - y)^2)/4 + x/3")
    steps = symbolic_codegen.MIN_STEPS
    config = dict(problem=problem, method="gd", x0=[1.5, -0.7], step="constant:0.1")
    from convcheck.engine_kernels import _compiled

    compiled_before = _compiled.cache_info().currsize
    assert sweep([dict(config, iters=steps - 1)])[0].metadata["engine"] == "numpy"
    assert _compiled.cache_info().currsize == compiled_before  # a short run compiles nothing
    compiled = sweep([dict(config, iters=steps)])[0]
    assert compiled.metadata["engine"].startswith("compiled:symbolic")
    monkeypatch.setenv(jit.ENV_SWITCH, "0")
    generic = sweep([dict(config, iters=steps)])[0]
    assert generic.metadata["engine"] == "numpy"
    assert_allclose(compiled.grad_norm[:60], generic.grad_norm[:60], rtol=1e-10)
    assert_allclose(compiled.f[:60], generic.f[:60], rtol=1e-12)
    assert_allclose(compiled.x[-1], generic.x[-1], rtol=1e-9, atol=1e-12)


def _untypable(X, data, dims, F, G, with_value):
    G[0, 0] = float(object().__hash__())  # a Python object: not in Numba's nopython subset


def test_generated_code_numba_cannot_type_runs_on_the_generic_engine(monkeypatch):
    """Every function the expression parser accepts prints in Python, so the fallback is for code Numba
    does not type (here put in by hand): no kernel, the run goes on the generic engine."""
    from convcheck.problems import symbolic_codegen

    monkeypatch.setattr(symbolic_codegen, "compiled_value_and_grad", lambda *args: _untypable)
    problem = symbolic("x^2 + 3*y^2 + x*y/2")
    assert problem.compiled_form().generated
    assert choose_kernel(problem, methods.gd(), NUMPY, steps=symbolic_codegen.MIN_STEPS) is None
    trace = sweep([dict(problem=problem, method="gd", x0=[0.5, 0.5], step="constant:0.1",
                        iters=symbolic_codegen.MIN_STEPS)])[0]
    assert trace.metadata["engine"] == "numpy" and trace.status != "failed" and trace.grad_norm[-1] < 1e-3


def test_a_catalogue_form_that_does_not_compile_is_an_error_not_a_fallback(monkeypatch):
    """Only generated forms fall back: a hand-written form that does not type is a bug and raises."""
    quadratic = get("quadratic:n=2,seed=0")
    form = quadratic.compiled_form()
    monkeypatch.setattr(type(quadratic), "compiled_form", lambda self: type(form)(
        form.name + "-untypable", _untypable, form.data, form.dims))
    with pytest.raises(Exception):
        choose_kernel(quadratic, methods.gd(), NUMPY)
