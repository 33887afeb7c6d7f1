"""Symbolic problems are real-valued: forms SymPy reads with the imaginary unit are refused in one line,
and a complex value met at run time is an error, never a silently dropped imaginary part."""
import numpy as np
import pytest

from convcheck.cli import main
from convcheck.errors import ConvcheckError, ExpressionError
from convcheck.problems import bound, symbolic


@pytest.mark.parametrize("text", ["(x-1)^2 + sqrt(-4)*y^2", "x^2 + (-1)^(1/2)*y", "x^2 + log(-1)",
                                  "x^2 + sqrt(-1)*y", "x^2 + y^2 + (-8)^(1/3)", "exp(log(-2)*x) + y^2"])
def test_non_real_expressions_are_refused(text):
    with pytest.raises(ExpressionError, match="not real-valued"):
        symbolic(text)


@pytest.mark.parametrize("command", ["check", "run"])
def test_the_command_line_refuses_them_in_one_line(command, tmp_path, capsys):
    args = [command, "--problem", "symbolic:(x-1)^2+sqrt(-4)*y^2", "--method", "gd", "--step", "constant:0.1",
            "--iters", "20"] + (["--x0", "3,2"] if command == "check" else ["--out", str(tmp_path / "o")])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not real-valued" in err


def test_real_expressions_with_negative_constants_still_work():
    problem = symbolic("x^2 + (-2)^2*y^2 - 3")
    assert np.allclose(problem.f(np.array([[1.0, 1.0]])), [2.0])


def test_a_complex_value_at_run_time_is_an_error_not_a_cut():
    """The batched wrapper of a lambdified function: a complex result with a non-zero imaginary part
    (a principal root of a negative number, say) raises instead of being cut to its real part."""
    from convcheck.problems.symbolic import _batched

    def principal_square_root(x):
        return np.sqrt(x.astype(complex))

    wrapped = _batched(principal_square_root, 1)
    assert np.allclose(wrapped(np.array([[4.0]])), [2.0])  # complex dtype, zero imaginary part: fine
    with pytest.raises(ConvcheckError, match="complex value"):
        wrapped(np.array([[-4.0]]))


# ------------------------------------------------------------------ SymPy objects and round trips
import sympy as sp  # noqa: E402

X, Y = sp.symbols("x y", real=True)


@pytest.mark.parametrize("expr", [X ** 2 + sp.zoo, X ** 2 * sp.oo, X ** 2 + sp.nan, sp.Heaviside(X) * X ** 2,
                                  sp.Rational(10 ** 5000, 3) * X ** 2, sp.gamma(X) + Y ** 2, sp.Matrix([X, Y]),
                                  "not an expression object" and 3.5, sp.Symbol("x", positive=True) ** 2 + sp.I])
def test_sympy_objects_that_cannot_be_problems_are_one_line(expr):
    with pytest.raises(ExpressionError) as info:
        symbolic(expr)
    assert "\n" not in str(info.value) and "set_int_max_str_digits" not in str(info.value)


@pytest.mark.parametrize("terms", [8, 64])
@pytest.mark.parametrize("grouped", [False, True])
def test_long_flat_sums_are_accepted_and_their_traces_rebuild(terms, grouped, tmp_path):
    """A 64-term sum was "nested more than 60 levels deep"; written grouped it was accepted, but the
    trace recorded SymPy's flat form, which certify then refused."""
    from convcheck import run
    from convcheck.properties import certify_trace_file

    parts = [f"x{i}^2" for i in range(terms)]
    text = " + ".join("(" + " + ".join(parts[j:j + 8]) + ")" for j in range(0, terms, 8)) if grouped \
        else " + ".join(parts)
    problem = symbolic(text, L=bound(2.0), lower_bound=0.0)
    trace = run(problem, "gd", x0=np.full(terms, 0.5), iters=50, step=0.25)
    path = trace.save(tmp_path / "t.npz")
    certificate = certify_trace_file(path)
    assert certificate["P3"].status in ("holds", "inconclusive")


def test_what_symbolic_records_always_rebuilds():
    """An accepted expression whose printed form grows past the typed length ("^" → "**") rebuilds."""
    from convcheck.problems.symbolic import rebuild_recorded

    text = " + ".join(f"x{i}^2" for i in range(60)) + " + " + " + ".join(f"x{i}^4" for i in range(30))
    assert len(text) <= 1000
    problem = symbolic(text)
    recorded = problem.meta.params["expr"]
    again = rebuild_recorded(recorded, variables=problem.meta.params["variables"])
    point = np.linspace(-0.5, 0.5, 60)[None, :]
    np.testing.assert_allclose(again.f(point), problem.f(point), rtol=1e-14)


def test_samples_times_hessian_size_is_bounded_before_any_work():
    """Each limit alone held (40 variables, 65 536 samples), their product took 1.9 GB and 19 s."""
    from convcheck.errors import SpecError

    with pytest.raises(SpecError, match="sampled entries"):
        symbolic(" + ".join(f"x{i}^2" for i in range(40)), samples=65536)
