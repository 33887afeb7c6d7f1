"""Symbolic problems are real-valued: forms SymPy reads with the imaginary unit are refused in one line,
and a complex value met at run time is an error, never a silently dropped imaginary part."""
import numpy as np
import pytest

from convcheck.cli import main
from convcheck.errors import ConvcheckError, ExpressionError
from convcheck.problems import symbolic


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
