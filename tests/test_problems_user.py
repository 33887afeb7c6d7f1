"""get() and its errors, from_functions, symbolic, and the catalogue table."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose

from convcheck.errors import BackendError, ExpressionError, InputError, SpecError, UnknownNameError
from convcheck.problems import (MinimizerSet, catalogue, describe_catalogue, format_catalogue_table,
                                from_functions, get, symbolic)


def test_spec_string_equals_keywords():
    X = np.random.default_rng(0).standard_normal((4, 20))
    assert_allclose(get("logsum:n=20,seed=0").f(X), get("logsum", n=20, seed=0).f(X), rtol=0, atol=0)
    assert get("logsum:n=20,seed=0").key == "logsum:m=20,n=20,seed=0"
    assert get("x2").dim == 1


def test_unknown_name_suggests_close_names():
    with pytest.raises(UnknownNameError, match="did you mean 'logsum'"):
        get("logsun")


@pytest.mark.parametrize("spec, message", [
    ("logsum:k=3", "has no parameter 'k'; accepted: n=2"),
    ("logsum:n=0", "accepted: >= 1"),
    ("logsum:n=2.5", "must be an integer"),
    ("ring:R=-1", "accepted: > 0"),
    ("quadratic:seed=abc", "must be a number"),
    ("logsum:3", "needs key=value parameters"),
    ("logsum_under:n=3,m=3", "needs m < n"),
])
def test_bad_parameters_name_what_is_accepted(spec, message):
    with pytest.raises(SpecError, match=message):
        get(spec)


def test_parameter_given_twice_is_refused():
    with pytest.raises(SpecError, match="both"):
        get("logsum:n=3", n=4)


def test_from_functions_builds_a_problem_with_metadata():
    problem = from_functions(lambda X: np.sum(X ** 2, -1), lambda X: 2 * X, dim=3, name="mine",
                             L=2.0, convex=True, analytic=True, minimizer=np.zeros(3), f_star=0.0)
    assert problem.name == "mine" and problem.dim == 3 and problem.meta.L == 2.0
    assert problem.meta.provenance["L"] == "bound" and problem.meta.descent_L == 2.0
    assert problem.meta.minimizer.kind == "point" and problem.meta.kl is True
    X = np.ones((2, 5, 3))
    assert problem.f(X).shape == (2, 5) and problem.grad(X).shape == (2, 5, 3)
    assert_allclose(problem.hessian(np.array([0.3, -1.0, 2.0])), 2 * np.eye(3), atol=1e-6)
    with pytest.raises(BackendError, match="numpy"):
        problem.on("cupy")


def test_from_functions_rejects_unknown_metadata_and_bad_shapes():
    f, g = (lambda X: np.sum(X ** 2, -1)), (lambda X: 2 * X)
    with pytest.raises(SpecError, match="unknown metadata keyword 'Lipschitz'; accepted: .*L_region"):
        from_functions(f, g, dim=2, Lipschitz=3.0)
    with pytest.raises(InputError, match=r"grad returned shape \(3,\) for a batch of shape \(3, 2\), expected \(3, 2\)"):
        from_functions(f, lambda X: 2 * X[..., 0], dim=2)
    with pytest.raises(InputError, match="f failed"):
        from_functions(lambda x: float(x @ x), g, dim=2)
    with pytest.raises(InputError, match="dim"):
        from_functions(f, g, dim=0)


def test_symbolic_derives_gradient_and_estimates_L_on_the_box():
    problem = symbolic("(x^2 + y^2 - 1)^2", box=2.0)
    ring = get("ring", R=2.0)
    X = np.random.default_rng(1).uniform(-2, 2, (3, 4, 2))
    assert problem.dim == 2 and problem.variables == ["x", "y"]
    assert_allclose(problem.f(X), ring.f(X), rtol=1e-12)
    assert_allclose(problem.grad(X), ring.grad(X), rtol=1e-12, atol=1e-12)
    assert_allclose(problem.hessian(X[0, 0]), ring.hessian(X[0, 0]), rtol=1e-12, atol=1e-12)
    meta = problem.meta
    assert meta.provenance["L"] == "estimate" and meta.L_region == {"box": [-2.0, 2.0]}
    # sampled sup of ‖∇²f‖ on the box [-2, 2]² (corner radius 2√2: 12·8 − 4 = 92) exceeds the ball value 44
    assert 44.0 < meta.L <= 92.0 and meta.convex is False and meta.provenance["convex"] == "estimate"


def test_symbolic_quadratic_is_exact_and_constants_broadcast():
    problem = symbolic("3*x0^2 + x1^2 - x0*x1 + 2")
    H = np.array([[6.0, -1.0], [-1.0, 2.0]])
    eigenvalues = np.linalg.eigvalsh(H)
    assert problem.meta.provenance["L"] == "exact" and problem.meta.convex is True
    assert_allclose([problem.meta.mu, problem.meta.L], eigenvalues, rtol=1e-12)
    assert problem.hessian(np.zeros(2)).shape == (2, 2)
    constant_gradient = symbolic("2*x - 3")
    assert_allclose(constant_gradient.grad(np.zeros((4, 1))), np.full((4, 1), 2.0))
    assert_allclose(symbolic("x", variables=3).grad(np.zeros((2, 3))), [[1, 0, 0], [1, 0, 0]])


def test_symbolic_accepts_sympy_and_metadata_overrides():
    a, b = sp.symbols("a b", real=True)
    problem = symbolic(sp.cosh(a) + b ** 4, L=None, convex=True, f_star=1.0, name="cosh")
    assert problem.variables == ["a", "b"] and problem.name == "cosh" and problem.meta.f_star == 1.0
    assert problem.meta.convex is True
    plain = sp.Symbol("t")  # no assumptions: matched to the variable name all the same
    assert_allclose(symbolic(plain ** 2, variables=["t"]).grad(np.array([[3.0]])), [[6.0]])
    named = symbolic("u^2 + sin(v)", variables=["u", "v"])
    assert_allclose(named.grad(np.array([1.0, 0.0])), [2.0, 1.0])
    through_get = get("symbolic:x0^2+x1^2")
    assert through_get.dim == 2 and through_get.meta.convex is True


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "dunder"),
    ("x + q", "the name 'q'"),
    ("x0 + y", "mixes"),
    ("3 + 4", "no variables"),
])
def test_symbolic_refuses_unsafe_or_unclear_text(text, message):
    with pytest.raises(ExpressionError, match=message):
        symbolic(text)


def test_symbolic_abs_falls_back_to_finite_difference_hessian():
    problem = symbolic("abs(x)^3 + y^2")
    assert_allclose(problem.hessian(np.array([0.5, 1.0])), np.diag([3.0, 2.0]), rtol=1e-6)


def test_describe_and_table_cover_the_catalogue():
    rows = describe_catalogue()
    assert [r["name"] for r in rows] == catalogue()
    logsum = next(r for r in rows if r["name"] == "logsum")
    assert logsum["parameters"] == {"n": 2, "m": None, "seed": 0} and logsum["minimizer"] == "point"
    assert logsum["convex"] is False and logsum["provenance"]["L"] == "exact"
    text = format_catalogue_table()
    for name in catalogue():
        assert f"\n{name} " in text
    assert "≈" in text and "≤" in text and "descent 1" in text


def test_minimizer_set_exterior_distance():
    m = MinimizerSet("exterior", points=np.zeros((1, 2)), radius=1.0)
    assert_allclose(m.distance(np.array([[0.5, 0.0], [2.0, 0.0]])), [0.5, 0.0])
    assert m.bounded is False
