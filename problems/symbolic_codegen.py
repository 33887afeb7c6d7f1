"""A symbolic problem's compiled value-and-gradient, generated from its SymPy expressions.

The NumPy functions of :func:`convcheck.problems.symbolic` are lambdified from f and its gradient
∂f/∂x_j; here the same expressions are printed as one Python function in Numba's nopython subset, of
the fixed signature of :class:`convcheck.jit.CompiledProblem`::

    def value_and_grad(X, data, dims, F, G, with_value):
        for i in range(X.shape[0]):
            x = X[i, 0]; y = X[i, 1]
            c0 = ...                  # common subexpressions of f and ∇f (sympy.cse), once per row
            if with_value:
                F[i] = <f>
            G[i, 0] = <∂f/∂x>; G[i, 1] = <∂f/∂y>

printed with SymPy's ``PythonCodePrinter`` onto the ``math`` module (exp, log, sqrt, trigonometric and
hyperbolic functions, erf, atan2, abs, sign, min/max, Piecewise as conditional expressions). Numba
evaluates them with NumPy's floating-point semantics (``error_model="numpy"``: log of a negative
number or 0/0 give NaN, never an exception), so a run meets the same non-finite values as the NumPy
path. Values agree with the NumPy functions to round-off, not bit for bit: common subexpressions are
evaluated once, and libm's functions may differ from NumPy's in the last ulp.

An expression with a function SymPy cannot print in Python (DiracDelta, special functions outside
``math``) gives None, and the generic NumPy engine runs the problem, as it does for any problem
without a compiled form; so does generated code that Numba does not type (the form is marked
``generated``, and :func:`convcheck.engine_kernels.choose_kernel` falls back instead of raising).

Compilation is not free (a fraction of a second to seconds for a long sum, and the code has no file,
so Numba's disk cache cannot keep it): the function is generated once per expression and process
(:func:`value_and_grad_source` is cached by expression; generating it takes milliseconds), and the
engine compiles it only for runs of at least :data:`MIN_STEPS` steps (:attr:`convcheck.jit.CompiledProblem.min_steps`), where the compiled
steps pay it back; shorter runs stay on the NumPy engine.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable, Optional, Sequence

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

MIN_STEPS = 5000  # runs shorter than this stay on the NumPy engine (compiling costs about as much)
FUNCTION_NAME = "value_and_grad"


def value_and_grad_source(expression: sp.Expr, gradient: Sequence[sp.Expr], symbols: Sequence[sp.Symbol]) -> Optional[str]:
    """The Python source of the compiled form (see the module doc), or None where SymPy cannot print
    an expression in Python."""
    return _source(expression, tuple(gradient), tuple(symbols))


@lru_cache(maxsize=256)
def _source(expression, gradient: tuple, symbols: tuple) -> Optional[str]:
    printer = PythonCodePrinter({"fully_qualified_modules": True, "standard": "python3", "strict": True})
    names = {symbol: sp.Symbol(f"v{j}") for j, symbol in enumerate(symbols)}  # user names may clash with ours
    exprs = [e.xreplace(names) for e in (expression, *gradient)]
    temporaries, (value, *partials) = sp.cse(exprs, symbols=sp.numbered_symbols("c"), optimizations=None)
    try:
        lines = [f"def {FUNCTION_NAME}(X, data, dims, F, G, with_value):",
                 "    for i in range(X.shape[0]):"]
        lines += [f"        v{j} = X[i, {j}]" for j in range(len(symbols))]
        lines += [f"        {name} = {_float(printer, e)}" for name, e in temporaries]
        lines += ["        if with_value:", f"            F[i] = {_float(printer, value)}"]
        lines += [f"        G[i, {j}] = {_float(printer, p)}" for j, p in enumerate(partials)]
    except Exception:  # noqa: BLE001 - any printer failure (PrintMethodNotImplementedError and its kin)
        return None
    return "\n".join(lines) + "\n"


def _float(printer: PythonCodePrinter, expression) -> str:
    """``expression`` printed as a float-valued Python expression (rationals print as true divisions,
    ``3/10``; a branch of a Piecewise may print as an integer, which ``float`` unifies)."""
    return f"float({printer.doprint(expression)})"


def compiled_value_and_grad(expression, gradient, symbols) -> Optional[Callable]:
    """The generated function (a plain Python function, compiled later by the engine), or None."""
    source = value_and_grad_source(expression, gradient, symbols)
    if source is None:
        return None
    return _function(source)


@lru_cache(maxsize=256)
def _function(source: str) -> Callable:
    namespace = {"math": math}
    exec(compile(source, f"<convcheck symbolic {abs(hash(source)):x}>", "exec"), namespace)  # noqa: S102 - our own printer's code
    return namespace[FUNCTION_NAME]
