"""Validated user problems (from_functions probes), stated hypotheses with provenance, symbolic regions,
and rebuilding symbolic and py: problems from trace files (certify / report on such traces)."""
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from convcheck import run, sweep
from convcheck.cli import main
from convcheck.errors import InputError, TraceFileError
from convcheck.problems import bound, estimate, from_functions, problem_from_trace, symbolic
from convcheck.properties import certify_trace_file
from convcheck.properties.hypotheses import Setting, bounded_below, convex, lipschitz_gradient
from convcheck.schedules import constant


def per_point_f(x):
    return (x[0] - 1.0) ** 2 + (x[1] + 2.0) ** 2


def per_point_grad(x):
    return np.array([2.0 * (x[0] - 1.0), 2.0 * (x[1] + 2.0)])


def batched_f(X):
    return (X[..., 0] - 1.0) ** 2 + (X[..., 1] + 2.0) ** 2


def batched_grad(X):
    return np.stack([2.0 * (X[..., 0] - 1.0), 2.0 * (X[..., 1] + 2.0)], axis=-1)


def _setting(problem):
    return Setting(problem, "gd", constant(0.1))


def test_a_per_point_function_is_refused_with_an_example_and_works_with_vectorize():
    with pytest.raises(InputError, match=r"\(B, n\).*e\.g\. f = lambda X.*vectorize=True"):
        from_functions(per_point_f, per_point_grad, dim=2)
    problem = from_functions(per_point_f, per_point_grad, dim=2, vectorize=True)
    X = np.array([[0.0, 0.0], [1.0, -2.0], [3.0, 1.0]])
    np.testing.assert_allclose(problem.f(X), batched_f(X))
    np.testing.assert_allclose(problem.grad(X), batched_grad(X))


def test_the_two_run_sweep_gives_the_right_minimizers_never_a_silent_wrong_answer():
    """A batch of exactly n = 2 points hides per-point code (x[0], x[1] read rows); the probe does not."""
    with pytest.raises(InputError):
        from_functions(per_point_f, per_point_grad, dim=2)
    problem = from_functions(per_point_f, per_point_grad, dim=2, vectorize=True)
    traces = sweep([dict(problem=problem, method="gd", x0=x0, iters=400, step=0.25) for x0 in ([0.0, 0.0], [3.0, 3.0])])
    for trace in traces:  # GD with t = 1/4 on this quadratic halves the distance every step
        np.testing.assert_allclose(trace.x_last, [1.0, -2.0], atol=1e-12)


def test_the_probe_uses_batches_of_one_and_n_plus_one_points():
    shapes = []

    def f(X):
        shapes.append(np.shape(X))
        return batched_f(X)

    from_functions(f, batched_grad, dim=2)
    assert (1, 2) in shapes and (3, 2) in shapes
    assert (2, 2) not in shapes


def test_a_wrong_gradient_is_refused():
    with pytest.raises(InputError, match="grad does not match central differences of f"):
        from_functions(batched_f, lambda X: 2.0 * batched_grad(X), dim=2)


@pytest.mark.parametrize("grad, message", [
    (lambda X: batched_grad(X)[..., :1], r"grad returned shape \(3, 1\) for a batch of shape \(3, 2\), expected \(3, 2\)"),
    (lambda X: batched_grad(X) + 0j, "complex"),
    (lambda X: batched_grad(X) / 0.0, "not finite"),
])
def test_bad_gradients_are_refused_with_what_was_expected(grad, message):
    with pytest.raises(InputError, match=message):
        from_functions(batched_f, grad, dim=2)


def test_stated_hypotheses_carry_their_provenance_and_estimates_decide_nothing():
    stated = from_functions(batched_f, batched_grad, dim=2, L=2.0, lower_bound=0.0, convex=True)
    assert lipschitz_gradient(_setting(stated)).value is True
    assert bounded_below(_setting(stated)).value is True and "bounded below by 0" in bounded_below(_setting(stated)).how
    guessed = from_functions(batched_f, batched_grad, dim=2, L=estimate(2.0), lower_bound=(0.0, "estimate"),
                             convex=estimate(True))
    for decide in (lipschitz_gradient, bounded_below, convex):
        decision = decide(_setting(guessed))
        assert decision.value is None and "estimate" in decision.how
    assert bound(2.0).provenance == "bound"


def test_symbolic_convexity_estimates_are_not_shown_as_exact():
    problem = symbolic("(x^2 - 1)^2 + y^2")
    decision = convex(_setting(problem))
    assert decision.value is None and "(exact)" not in decision.how and "estimate" in decision.how


def test_symbolic_estimates_L_on_the_given_region_and_says_which():
    problem = symbolic("(x - 3)^4 + y^2", box=[(2.0, 4.0), (-1.0, 1.0)])
    assert problem.meta.L_region == {"box": [[2.0, 4.0], [-1.0, 1.0]]}
    assert "[2, 4] × [-1, 1]" in problem.meta.notes
    # on [2, 4] the x-curvature 12 (x - 3)^2 peaks at 12; the y-curvature is 2
    assert 2.0 < problem.meta.L <= 12.0 + 1e-9
    assert "[2.0, 4.0]" in lipschitz_gradient(_setting(problem)).how


def test_a_symbolic_trace_rebuilds_the_same_function_with_its_variable_order(tmp_path):
    problem = symbolic("x + 2*y^2", variables=["y", "x"], L=bound(4.0), lower_bound=-10.0)
    trace = run(problem, "gd", x0=[1.0, 2.0], iters=20, step=0.1)
    path = trace.save(tmp_path / "sym.npz")
    rebuilt = problem_from_trace(path)
    X = np.array([[1.0, 2.0], [-0.5, 0.3]])
    np.testing.assert_array_equal(rebuilt.f(X), problem.f(X))  # coordinate 0 is y: f = x1 + 2 x0^2
    np.testing.assert_allclose(rebuilt.f(X), X[:, 1] + 2 * X[:, 0] ** 2)
    assert rebuilt.meta.L == 4.0 and rebuilt.meta.provenance["L"] == "bound" and rebuilt.meta.lower_bound == -10.0
    assert main(["certify", str(path)]) == 0


FACTORY_MODULE = '''
import numpy as np
from convcheck.problems import from_functions, problem_factory


@problem_factory
def bowl(scale=1.0):
    return from_functions(lambda X: scale * np.sum(X ** 2, -1), lambda X: 2 * scale * X, dim=2,
                          name="bowl", L=2 * scale, lower_bound=0.0, convex=True)


def unmarked(scale=1.0):
    return bowl.__wrapped__(scale)
'''


@pytest.fixture
def factory_module(tmp_path, monkeypatch):
    name = "h13_user_factories"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(FACTORY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_py_problems_rebuild_from_trace_files_for_certify_and_report(tmp_path, factory_module):
    from convcheck import problems

    problem = problems.get(f"py:{factory_module}:bowl:scale=2")
    assert problem.meta.params == {"py": f"{factory_module}:bowl", "scale": 2}
    path = run(problem, "sam", x0=[1.0, -1.0], iters=200, step="power:c=0.1,p=0.6",
               radius="power:c=0.05,p=0.7").save(tmp_path / "py.npz")
    rebuilt = problem_from_trace(path)
    np.testing.assert_array_equal(rebuilt.f(np.array([[1.0, 2.0]])), [10.0])
    assert certify_trace_file(path)["P1"].status in ("holds", "inconclusive")
    assert main(["certify", str(path)]) == 0
    # one report on a py: trace and a symbolic one (a user run: the report says why no result applies)
    symbolic_path = run(symbolic("(x^2 - 1)^2 + y^2"), "sam", x0=[0.5, 1.0], iters=200, step="power:c=0.1,p=0.55",
                        radius="power:c=0.05,p=0.7").save(tmp_path / "sym.npz")
    out = tmp_path / "rep"
    assert main(["report", str(path), str(symbolic_path), "--out", str(out), "--no-figures", "--quiet"]) == 0
    text = (out / "report.md").read_text().replace("\\", "")  # report.md escapes Markdown punctuation
    assert "Theorem 4.2 does not apply: violated: method is USAM or extragradient" in text


def test_a_trace_naming_an_unmarked_factory_is_refused(tmp_path, factory_module, capsys):
    from convcheck import problems

    problem = problems.get(f"py:{factory_module}:unmarked")
    assert problem.meta.params["py"] == f"{factory_module}:unmarked"
    path = run(problem, "gd", x0=[1.0, 1.0], iters=10, step=0.1).save(tmp_path / "u.npz")
    with pytest.raises(TraceFileError, match="not marked @convcheck.problems.problem_factory"):
        problem_from_trace(path)
    assert main(["certify", str(path)]) == 2
    assert "not marked" in capsys.readouterr().err


def test_no_method_name_decides_anything_in_properties():
    """Applicability is decided from declarations: no test of a method's name in properties/."""
    root = Path(__file__).resolve().parents[1] / "properties"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"method\.name\b", text), path.name
        assert not re.search(r"method_in\(", text), path.name


def test_a_trace_naming_standard_library_code_is_refused_without_importing_it(tmp_path):
    problem = from_functions(batched_f, batched_grad, dim=2)
    trace = run(problem, "gd", x0=[1.0, 1.0], iters=5, step=0.1)
    trace.metadata["problem"]["params"] = {"py": "antigravity:fly"}
    path = trace.save(tmp_path / "evil.npz")
    with pytest.raises(TraceFileError, match="not a user's problem factory"):
        problem_from_trace(path)
    assert "antigravity" not in sys.modules


# ------------------------------------------------------------------ the gradient check's own error model
def _quadratic(scale, offset, dim):
    return (lambda X: scale * np.sum(X ** 2, axis=-1) + offset), (lambda X: 2 * scale * X)


WRONG_GRADIENTS = [  # (scale of f, constant added to f, dim, how the gradient is wrong)
    (1.0, 1e6, 2, "shift"), (1.0, 1e9, 3, "shift"), (1e-7, 0.0, 2, "zero"), (1e-7, 0.0, 5, "double"),
    (1e-12, 0.0, 2, "double"), (1e12, 0.0, 2, "double"), (1.0, 1e6, 300, "one_coordinate"),
    (1.0, 0.0, 1000, "double"), (1e-9, 1.0, 4, "zero"),
]


@pytest.mark.parametrize("scale,offset,dim,how", WRONG_GRADIENTS)
def test_a_wrong_gradient_is_refused_whatever_the_scale_or_constant_of_f(scale, offset, dim, how):
    """The allowance once grew with |f| (1e-6·(1 + |f|)): f + 1e6 let a gradient off by 0.5 through and
    GD was then certified at a non-stationary point; a tiny f let a zero or doubled gradient through."""
    f, grad = _quadratic(scale, offset, dim)
    wrong = {"shift": lambda X: grad(X) + 0.5 * np.sqrt(scale),
             "zero": lambda X: 0 * X, "double": lambda X: 2 * grad(X),
             "one_coordinate": lambda X: grad(X) + np.eye(dim)[dim // 2] * 0.1}[how]
    with pytest.raises(InputError, match="central differences"):
        from_functions(f, wrong, dim)


CORRECT_GRADIENTS = {
    "offset 1e12": (lambda X: np.sum(X ** 2, -1) + 1e12, lambda X: 2 * X, 3),
    "tiny": (lambda X: 1e-14 * np.sum(X ** 2, -1), lambda X: 2e-14 * X, 2),
    "huge": (lambda X: 1e12 * np.sum(X ** 4, -1), lambda X: 4e12 * X ** 3, 2),
    "exp": (lambda X: np.exp(8 * X[..., 0]) + X[..., 1] ** 2,
            lambda X: np.stack([8 * np.exp(8 * X[..., 0]), 2 * X[..., 1]], -1), 2),
    "kink": (lambda X: np.maximum(np.linalg.norm(X, axis=-1) - 0.3, 0) ** 2,
             lambda X: 2 * np.maximum(np.linalg.norm(X, axis=-1, keepdims=True) - 0.3, 0) * X
             / np.maximum(np.linalg.norm(X, axis=-1, keepdims=True), 1e-300), 3),
    "rosenbrock": (lambda X: 100 * (X[..., 1] - X[..., 0] ** 2) ** 2 + (1 - X[..., 0]) ** 2,
                   lambda X: np.stack([-400 * X[..., 0] * (X[..., 1] - X[..., 0] ** 2) - 2 * (1 - X[..., 0]),
                                       200 * (X[..., 1] - X[..., 0] ** 2)], -1), 2),
    "wide": (lambda X: np.sum(np.log1p(X ** 2), -1), lambda X: 2 * X / (1 + X ** 2), 2000),
}


@pytest.mark.parametrize("name", sorted(CORRECT_GRADIENTS))
def test_a_correct_gradient_is_accepted_at_every_scale(name):
    f, grad, dim = CORRECT_GRADIENTS[name]
    points = np.random.default_rng(1).uniform(-0.5, 0.5, size=(3, dim)) * (1e3 if name == "offset 1e12" else 1)
    problem = from_functions(f, grad, dim, name=name, probe_points=points if name == "offset 1e12" else None)
    assert problem.dim == dim


def test_the_dimension_is_capped_before_anything_is_allocated():
    with pytest.raises(InputError, match="dim must be"):
        from_functions(lambda X: np.sum(X, -1), lambda X: np.ones_like(X), 200_000_000)


@pytest.mark.parametrize("key,value", [("kl_exponent", 1.5), ("kl_exponent", -1), ("kl_exponent", float("nan")),
                                       ("kl_exponent", 1.0), ("kl_exponent", "0.5"), ("L", 0), ("L", float("inf")),
                                       ("mu", -2.0), ("lower_bound", float("nan")), ("convex", "yes"),
                                       ("bounded_level_sets", 1)])
def test_stated_hypotheses_are_range_checked_when_the_problem_is_built(key, value):
    with pytest.raises(InputError, match=key):
        symbolic("(x^2-1)^2 + y^2", **{key: value})
    with pytest.raises(InputError, match=key):
        from_functions(batched_f, batched_grad, 2, **{key: value})


def test_valid_stated_hypotheses_are_kept():
    problem = symbolic("(x^2-1)^2 + y^2", kl_exponent=0.5, L=bound(50.0), lower_bound=0.0, convex=False)
    assert problem.meta.kl_exponent == 0.5 and problem.meta.convex is False
