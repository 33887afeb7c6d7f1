"""Property-based tests: the spec and expression parsers raise only convcheck's own errors on any text."""
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcheck import methods, schedules
from convcheck.errors import ConvcheckError
from convcheck.expr import parse_expression
from convcheck.specs import parse_spec

K = sp.Symbol("k", positive=True, integer=True)
EXPRESSION_ALPHABET = "k0123456789.+-*/^() ,_abcdefghijlmnopqrstuvwxyzEe[]{}'\"=<>!&|%@#:;\\"
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=80))
def test_spec_parser_raises_only_own_errors(text):
    try:
        name, params = parse_spec(text)
    except ConvcheckError:
        return
    assert isinstance(name, str) and isinstance(params, dict)


@FUZZ
@given(st.text(alphabet=EXPRESSION_ALPHABET, max_size=60))
def test_expression_parser_raises_only_own_errors(text):
    try:
        expr = parse_expression(text, {"k": K})
    except ConvcheckError:
        return
    assert isinstance(expr, sp.Expr)
    assert expr.free_symbols <= {K}


@FUZZ
@given(st.text(max_size=60))
def test_expression_parser_on_arbitrary_unicode(text):
    try:
        parse_expression(text, {"k": K})
    except ConvcheckError:
        pass


@FUZZ
@given(st.text(alphabet=EXPRESSION_ALPHABET, max_size=40))
def test_schedule_specs_raise_only_own_errors(text):
    for prefix in ("expr:", "power:", "constant:", "diminish3:", ""):
        try:
            schedule = schedules.from_spec(prefix + text)
        except ConvcheckError:
            continue
        assert hasattr(schedule, "values")


@FUZZ
@given(st.text(max_size=40))
def test_method_specs_raise_only_own_errors(text):
    try:
        method = methods.get(text)
    except ConvcheckError:
        return
    assert method.name in methods.REGISTRY


def test_known_attacks_are_refused():
    attacks = ["__import__('os').system('id')", "().__class__", "().__class__.__bases__[0].__subclasses__()",
               "k.__class__", "exec('1')", "eval('1')", "open('/etc/passwd')", "getattr(k, 'x')",
               "lambda: 1", "[c for c in ()]", "k if 1 else 2", "globals()", "Symbol('x')", "sympify('1')",
               "S(1)", "Integer(1)", "1" * 2000]
    for text in attacks:
        try:
            parse_expression(text, {"k": K})
        except ConvcheckError as exc:
            assert "\n" not in str(exc)
            continue
        raise AssertionError(f"accepted {text!r}")
