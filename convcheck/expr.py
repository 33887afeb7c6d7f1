"""A restricted expression parser: user text to a SymPy expression, never evaluating Python.

SymPy's ``sympify``/``parse_expr`` call ``eval`` and will happily run ``__import__('os').system(...)``.
This parser instead reads the text with :func:`ast.parse` (which only parses) and builds the SymPy
expression itself from a whitelist of node types:

- numbers (int, float), names from the caller's whitelist of symbols, and the constants ``pi`` and ``E``;
- ``+ - * / **`` (``^`` is read as ``**``, with its precedence), unary ``+``/``-``;
- calls of whitelisted functions by plain name, positional arguments only.

Everything else (attribute access, subscripts, lambdas, comprehensions, strings, keywords, dunder names,
calls of anything but a whitelisted name) is refused with an :class:`ExpressionError`. Input length and
nesting depth are limited, and so is the size of every integer the expression builds (left
operands of a power included: ``((9**999)**999)**999`` is refused before it is computed); integers
beyond 2^53 become floats and numbers beyond float64's range are refused, so NumPy never receives a
Python integer it cannot hold. :func:`check_expression_size` bounds the tree a symbolic problem
differentiates.
"""
from __future__ import annotations

import ast
import math
import warnings
from typing import Mapping

import sympy as sp

from .errors import ExpressionError
from .limits import EXACT_FLOAT_INTEGER, MAX_EXPRESSION_NODES, MAX_INTEGER_DIGITS

MAX_EXPRESSION_LENGTH = 1000
#: a recorded (SymPy-printed) expression may be longer than what was typed ("^" becomes "**"); the
#: rebuild from a trace file accepts up to this length, and ``symbolic`` refuses, at build, an
#: expression whose printed form is longer or does not parse back
MAX_RECORDED_EXPRESSION_LENGTH = 4 * MAX_EXPRESSION_LENGTH
MAX_DEPTH = 60

FUNCTIONS: Mapping[str, object] = {
    "sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "ln": sp.log, "sin": sp.sin, "cos": sp.cos,
    "tan": sp.tan, "atan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "abs": sp.Abs, "Abs": sp.Abs, "floor": sp.floor, "ceiling": sp.ceiling, "ceil": sp.ceiling,
    "min": sp.Min, "Min": sp.Min, "max": sp.Max, "Max": sp.Max, "log1p": lambda x: sp.log(1 + x),
}
CONSTANTS: Mapping[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

#: operators whose left-nested chains count as one nesting level (sums, products)
_CHAINED = {ast.Add: "additive", ast.Sub: "additive", ast.Mult: "multiplicative", ast.Div: "multiplicative"}
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
}


def parse_expression(text: str, symbols: Mapping[str, sp.Symbol], max_length: int = MAX_EXPRESSION_LENGTH) -> sp.Expr:
    """Parse ``text`` into a SymPy expression over the whitelisted ``symbols``.

    Parameters
    ----------
    text : the user's expression, e.g. ``"0.1/k**0.5"`` or ``"(x0**2 + x1**2 - 1)**2"``.
    symbols : name -> SymPy symbol; the only free names accepted (besides ``pi``, ``E`` and the
        functions in :data:`FUNCTIONS`).

    Raises
    ------
    ExpressionError : with a one-line message naming what was refused and what is accepted.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be text, got {type(text).__name__}")
    source = text.strip()
    if not source:
        raise ExpressionError("empty expression")
    if len(source) > max_length:
        raise ExpressionError(
            f"expression is {len(source)} characters long; at most {max_length} accepted")
    # "^" means power in mathematical notation; rewriting it before parsing also gives it the
    # precedence of ** (Python's ^ is XOR and binds looser than +, so x^2 + y would read x^(2 + y))
    source = source.replace("^", "**")
    if "__" in source:
        raise ExpressionError(f"expression {source!r} contains a dunder name ('__'), which is refused")
    try:
        with warnings.catch_warnings():  # ast warns on odd literals such as "1e"; we refuse them anyway
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise ExpressionError(f"cannot parse expression {source!r}: {getattr(exc, 'msg', exc)}") from None
    builder = _Builder(source, symbols)
    try:
        expr = builder.build(tree.body, 0)
    except ExpressionError:
        raise
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, RecursionError, AttributeError) as exc:
        raise ExpressionError(f"cannot evaluate expression {source!r} symbolically: {exc}") from None
    if not isinstance(expr, sp.Expr):
        raise ExpressionError(f"expression {source!r} is not a number-valued expression")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(f"expression {source!r} is undefined or infinite (for example a division by zero)")
    return _floats_for_huge_integers(expr, source)


def _digits(value: sp.Expr) -> int:
    """Decimal digits of the largest integer inside a SymPy number (0 for non-rational numbers)."""
    if isinstance(value, sp.Rational):
        return max(len(str(abs(int(part)))) if abs(int(part)).bit_length() < 14000 else 10 ** 9
                   for part in (value.p, value.q))
    return 0


def _power_digits(base: sp.Expr, exponent: sp.Expr) -> float:
    """Digits of base**exponent estimated from logarithms, before it is computed."""
    if not (isinstance(base, sp.Rational) and isinstance(exponent, sp.Integer)):
        return 0.0
    size = max(abs(int(base.p)).bit_length(), abs(int(base.q)).bit_length()) * math.log10(2)
    return size * abs(int(exponent))


def _floats_for_huge_integers(expr: sp.Expr, source: str) -> sp.Expr:
    """Integers beyond 2^53 become floats; numbers beyond float64's range are refused."""
    replace = {}
    for number in expr.atoms(sp.Number):
        if number.is_infinite:
            continue
        magnitude = abs(number)
        if magnitude > sp.Float(1.7e308):
            raise ExpressionError(f"the number {sp.N(number, 5)} in {source!r} is beyond float64's range (about 1.8e308)")
        if isinstance(number, sp.Integer) and magnitude > EXACT_FLOAT_INTEGER:
            replace[number] = sp.Float(number, 17)
    return expr.xreplace(replace) if replace else expr


def check_expression_size(expr: sp.Expr, what: str = "expression") -> None:
    """Refuse an expression tree of more than MAX_EXPRESSION_NODES nodes (counted with early exit).

    Differentiating and compiling a tree costs time growing with its size (``expand((x + y + 1)**200)``,
    about 1.6·10^5 nodes, takes minutes), so the size is checked before any of that work.
    """
    for count, _ in enumerate(sp.preorder_traversal(expr), start=1):
        if count > MAX_EXPRESSION_NODES:
            raise ExpressionError(f"{what} has more than {MAX_EXPRESSION_NODES} nodes in its expression tree; "
                                  "write it in factored form (for example (x + y + 1)**200, not its expansion)")


def _symbol_summary(symbols) -> str:
    """The accepted symbols for a message: indexed families x0, x1, ... shortened to their range."""
    import re

    names = sorted(symbols, key=lambda name: (re.sub(r"\d+$", "", name), int(re.sub(r"^\D+", "", name) or -1)))
    plain = [name for name in names if not re.search(r"\d$", name)]
    indexed: dict[str, list[int]] = {}
    for name in names:
        match = re.fullmatch(r"(\D+)(\d+)", name)
        if match:
            indexed.setdefault(match.group(1), []).append(int(match.group(2)))
    families = [f"{stem}{min(ix)} … {stem}{max(ix)}" if len(ix) > 2 else ", ".join(f"{stem}{i}" for i in ix)
                for stem, ix in indexed.items()]
    return ", ".join(plain + families) or "none"


class _Builder:
    def __init__(self, source: str, symbols: Mapping[str, sp.Symbol]):
        self.source = source
        self.symbols = dict(symbols)

    def refuse(self, what: str) -> ExpressionError:
        allowed = _symbol_summary(self.symbols)
        return ExpressionError(
            f"{what} is not allowed in expression {self.source!r}; accepted: numbers, the symbols "
            f"{allowed}, + - * / ** ^, and the functions {', '.join(sorted(FUNCTIONS))}")

    def too_big(self) -> ExpressionError:
        return ExpressionError(f"expression {self.source!r} builds an integer of more than {MAX_INTEGER_DIGITS} "
                               "digits; write large numbers as floats (for example 1e300)")

    def build_chain(self, node: ast.BinOp, depth: int) -> sp.Expr:
        """A left-nested chain a ± b ± c … (or a */÷ b */÷ c …) as one level: a flat sum of 64 terms
        is not 64 levels of nesting, and is built without recursing along the chain."""
        kind = _CHAINED[type(node.op)]
        spine = []
        while isinstance(node, ast.BinOp) and _CHAINED.get(type(node.op)) == kind:
            spine.append((type(node.op), node.right))
            node = node.left
        result = self.build(node, depth + 1)
        for op, right in reversed(spine):
            result = _BINARY[op](result, self.build(right, depth + 1))
            if _digits(result) > MAX_INTEGER_DIGITS:
                raise self.too_big()
        return result

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression {self.source!r} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.refuse(f"the literal {node.value!r}")
            if isinstance(node.value, int) and node.value.bit_length() > MAX_INTEGER_DIGITS * 3.33:
                raise self.too_big()
            return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return self.symbols[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise self.refuse(f"the name {node.id!r}")
        if isinstance(node, ast.BinOp) and type(node.op) in _CHAINED:
            return self.build_chain(node, depth)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow) and right.is_number and abs(right) > 1000:
                raise ExpressionError(f"exponent {right} in {self.source!r} is too large (at most 1000)")
            if isinstance(node.op, ast.Pow) and _power_digits(left, right) > MAX_INTEGER_DIGITS:
                raise self.too_big()
            result = _BINARY[type(node.op)](left, right)
            if _digits(result) > MAX_INTEGER_DIGITS:
                raise self.too_big()
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.refuse(f"calling a {type(node.func).__name__} (only named functions may be called)")
            if node.func.id not in FUNCTIONS:
                raise self.refuse(f"the call of {node.func.id!r}")
            if node.keywords:
                raise self.refuse("a keyword argument")
            if not node.args or len(node.args) > 8:
                raise self.refuse(f"calling {node.func.id} with {len(node.args)} arguments")
            args = [self.build(a, depth + 1) for a in node.args]
            return FUNCTIONS[node.func.id](*args)
        raise self.refuse(f"the construct {type(node).__name__}")
