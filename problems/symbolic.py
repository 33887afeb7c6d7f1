"""Problems from a formula: gradient and Hessian derived with SymPy, L estimated on a box.

Text goes through the restricted parser :func:`convcheck.expr.parse_expression` (never ``eval``).
The derivatives are lambdified with ``modules="numpy"`` and evaluated on batches X of shape (..., n)
by unpacking X[..., i]; constant results are broadcast. Symbolic problems run on NumPy only.
"""
from __future__ import annotations

import functools
import re
from typing import Optional, Sequence

import numpy as np
import sympy as sp

from convcheck.errors import ConvcheckError, ExpressionError, InputError, SpecError
from convcheck.expr import (MAX_EXPRESSION_LENGTH, MAX_RECORDED_EXPRESSION_LENGTH, check_expression_size,
                            parse_expression)
from convcheck.limits import MAX_INTEGER_DIGITS

#: samples × n² bounded (the L estimate evaluates n² Hessian entries at every sample): 2048 samples of
#: a 64-variable Hessian is 8.4e6
MAX_SAMPLED_HESSIAN_ENTRIES = 10_000_000
from convcheck.limits import MAX_SYMBOLIC_SAMPLES

from convcheck.jit import CompiledProblem

from . import symbolic_codegen
from .base import FunctionProblem, Meta
from .user import build_meta, metadata_to_json

MAX_DIM = 64
LETTERS = ("x", "y", "z")
_INDEXED = re.compile(r"^x(\d+)$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _real(out, X) -> np.ndarray:
    """One lambdified value as a float array of shape X.shape[:-1]; a complex value (which a float
    conversion would silently cut to its real part) is an ExpressionError."""
    out = np.asarray(out)
    if np.iscomplexobj(out):
        if np.any(out.imag != 0):
            raise ExpressionError("the symbolic function took a complex value; f must be real")
        out = out.real
    return np.broadcast_to(out.astype(np.float64), X.shape[:-1]).copy()


def _batched(fn, n: int):
    """Wrap a lambdified scalar function of n arguments for X of shape (..., n) (see :func:`_real`)."""
    def evaluate(X):
        X = np.asarray(X, dtype=np.float64)
        return _real(fn(*(X[..., i] for i in range(n))), X)
    return evaluate


def _refuse_non_finite(expression) -> None:
    """∞, complex ∞ (zoo) and NaN in a SymPy input: f would not be finite anywhere they act."""
    if expression.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ExpressionError(f"expression {str(expression)[:200]!r} holds an infinite or undefined number (oo, zoo, "
                              "nan); f must be finite")


def _refuse_huge_numbers(expression) -> None:
    """Rationals of more than MAX_INTEGER_DIGITS digits (a SymPy input can hold them; printing one for
    the trace would hit Python's integer-conversion limit)."""
    for number in expression.atoms(sp.Rational):
        if max(abs(int(number.p)).bit_length(), abs(int(number.q)).bit_length()) > MAX_INTEGER_DIGITS * 3.33:
            raise ExpressionError(f"a number in the expression has more than {MAX_INTEGER_DIGITS} digits; write it "
                                  "as a float")


def _check_recordable(expression, symbols) -> None:
    """The trace records str(expression) and rebuilds the problem from it through the restricted parser;
    refuse, at build, an expression whose printed form would not come back."""
    recorded = str(expression)
    table = {s.name: s for s in symbols}
    try:
        parse_expression(recorded, table, MAX_RECORDED_EXPRESSION_LENGTH)
    except ExpressionError as exc:
        raise ExpressionError(f"expression {recorded[:200]!r} could not be rebuilt from a trace file ({exc})") from None


def _refuse_complex(expression) -> None:
    """An expression that SymPy evaluates to a non-real form (sqrt(-4) = 2i, log(-1) = iπ, (−1)^(1/2))
    is refused: the paper's f maps ℝⁿ to ℝ, and NumPy would cut the imaginary part away."""
    if expression.has(sp.I) or expression.is_real is False or any(
            getattr(a, "is_real", True) is False for a in expression.atoms(sp.Number, sp.NumberSymbol)):
        raise ExpressionError(f"expression {str(expression)!r} is not real-valued (SymPy reads it with the imaginary "
                              "unit i); f must map real points to real numbers")


def _batched_array(exprs: list, symbols: list, shape: tuple):
    """The expressions ``exprs`` (in C order of ``shape``) as one function of X (..., n) → (..., *shape):
    a single lambdify of the list (one per expression cost 4096 code generations for a 64×64 Hessian)."""
    fn = sp.lambdify(symbols, list(exprs), modules="numpy")
    n = len(symbols)

    def evaluate(X):
        X = np.asarray(X, dtype=np.float64)
        values = fn(*(X[..., i] for i in range(n)))
        return np.stack([_real(v, X) for v in values], axis=-1).reshape(X.shape[:-1] + shape)
    return evaluate


def _resolve_variables(expr, variables, max_length: int = MAX_EXPRESSION_LENGTH) -> tuple[sp.Expr, list[sp.Symbol]]:
    """Parse text (if needed) and decide the ordered variables."""
    if isinstance(expr, str):
        # "^" means power; Python parses it as XOR, whose precedence is below "+" ("x^2 + y" would
        # read x^(2 + y)), so it is rewritten before the restricted parser sees the text.
        expr = expr.replace("^", "**")
    if isinstance(variables, (int, np.integer)) and not isinstance(variables, bool):
        if not 1 <= variables <= MAX_DIM:
            raise SpecError(f"symbolic: number of variables must be in 1..{MAX_DIM}, got {variables}")
        symbols = [sp.Symbol(f"x{i}", real=True) for i in range(int(variables))]
        table = {s.name: s for s in symbols}
        if variables <= 3:
            table.update({letter: symbols[i] for i, letter in enumerate(LETTERS[:variables])})
        return (parse_expression(expr, table, max_length) if isinstance(expr, str) else expr), symbols
    if variables is not None:
        names = [v.strip() for v in variables.split(",")] if isinstance(variables, str) else list(variables)
        bad = [v for v in names if not isinstance(v, str) or not _IDENTIFIER.match(v)]
        if bad or not names or len(set(names)) != len(names) or len(names) > MAX_DIM:
            raise SpecError(f"symbolic: variables must be 1..{MAX_DIM} distinct identifiers, got {variables!r}")
        own = {} if isinstance(expr, str) else {s.name: s for s in expr.free_symbols}
        symbols = [own.get(v, sp.Symbol(v, real=True)) for v in names]  # SymPy input keeps its own symbols
        table = dict(zip(names, symbols))
        return (parse_expression(expr, table, max_length) if isinstance(expr, str) else expr), symbols
    if not isinstance(expr, str):
        symbols = sorted(expr.free_symbols, key=lambda s: (_INDEXED.match(s.name) is None,
                                                             int(_INDEXED.match(s.name).group(1))
                                                             if _INDEXED.match(s.name) else 0, s.name))
        if not symbols:
            raise ExpressionError(f"expression {expr} has no variables")
        return expr, symbols
    table = {f"x{i}": sp.Symbol(f"x{i}", real=True) for i in range(MAX_DIM)}
    table.update({letter: sp.Symbol(letter, real=True) for letter in LETTERS})
    parsed = parse_expression(expr, table, max_length)
    used = {s.name for s in parsed.free_symbols}
    indexed = sorted(int(_INDEXED.match(u).group(1)) for u in used if _INDEXED.match(u))
    letters = [u for u in used if u in LETTERS]
    if indexed and letters:
        raise ExpressionError(f"expression {expr!r} mixes x0, x1, ... with x, y, z; use one naming")
    if indexed:
        return parsed, [table[f"x{i}"] for i in range(indexed[-1] + 1)]
    if letters:
        n = max(LETTERS.index(u) for u in letters) + 1
        return parsed, [table[letter] for letter in LETTERS[:n]]
    raise ExpressionError(f"expression {expr!r} has no variables (use x, y, z or x0, x1, ...)")


class SymbolicProblem(FunctionProblem):
    """A :class:`FunctionProblem` built from a SymPy expression; keeps ``expr``, ``variables`` and an
    exact ``hessian`` (falls back to finite differences where SymPy's second derivative does not
    evaluate numerically, e.g. DiracDelta from abs)."""

    def __init__(self, name, meta, f, grad, hess, expr, variables, symbols, gradient):
        super().__init__(name, meta, f, grad)
        self._hess = hess
        self.expr = expr
        self.variables = variables
        self._symbols, self._gradient = tuple(symbols), tuple(gradient)  # what f and grad were lambdified from

    def compiled_form(self):
        """The value-and-gradient generated from ``expr`` and its gradient
        (:mod:`convcheck.problems.symbolic_codegen`; not compiled yet), for runs of at least
        ``MIN_STEPS`` steps (the engine compiles it then, and runs the generic engine if Numba does not
        type it)."""
        if self._generated is None:  # SymPy could not print it in Python
            return None
        return CompiledProblem.of(f"symbolic:{self.key}", self._generated, min_steps=symbolic_codegen.MIN_STEPS,
                                  generated=True)

    @functools.cached_property
    def _generated(self):
        """The generated Python function, or None (cached by expression, see symbolic_codegen)."""
        return symbolic_codegen.compiled_value_and_grad(self.expr, self._gradient, self._symbols)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_generated", None)  # generated code is generated again where it is needed
        return state

    def hessian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self._hess is not None:
            H = self._hess(x)
            if np.all(np.isfinite(H)):
                return H
        return super().hessian(x)


def _hessian_function(hessian_exprs, symbols):
    n = len(symbols)
    if any(e.has(sp.DiracDelta) for e in hessian_exprs):
        return None
    try:
        fn = _batched_array(hessian_exprs, symbols, (n, n))
        fn(np.zeros((1, n)))
    except Exception:  # SymPy functions without a NumPy translation: use finite differences instead
        return None
    return fn


def symbolic(expr, variables: "Optional[Sequence[str] | int | str]" = None, name: str = "symbolic",
             box=1.0, samples: int = 2048, seed: int = 0, **metadata) -> SymbolicProblem:
    """A problem from a formula, e.g. ``symbolic("(x**2 + y**2 - 1)**2")``.

    Parameters
    ----------
    expr : text (restricted parser; ``^`` means power) or a SymPy expression.
    variables : None (infer: x, y, z for n ≤ 3 — "x" alone is 1-D, "y" makes it 2-D — or x0..x{n-1}),
        an int n (names x0..x{n-1}, plus x, y, z as aliases when n ≤ 3), or a list of names, in the
        order of the coordinates (``variables=["y", "x"]``: coordinate 0 is y).
    box : the region on which L and convexity are estimated: a number b ([−b, b]^n), a pair (lo, hi)
        ([lo, hi]^n) or one (lo, hi) pair per coordinate. The region used is recorded in
        ``meta.L_region`` and ``meta.notes`` and named wherever the estimate is shown.
    samples, seed : size and seed of the uniform sample of the box.
    **metadata : Meta field names (values or ``exact(v)``/``bound(v)``/``estimate(v)``); they override
        the estimates.

    Estimates (provenance "estimate", L_region {"box": [lo, hi]} for a cube, else {"box": [[lo, hi], ...]}): L = max ‖∇²f‖₂ over the
    sample; convex = False when some sampled Hessian has an eigenvalue below −1e-6·max(1, L), True when
    all are ≥ −1e-12·max(1, L) (convexity then only checked on the box), else None. An estimate decides
    no hypothesis. When the Hessian is constant, L, convexity and μ are exact and global.

    The problem's ``meta.params`` record the expression, the variable order, the box and the stated
    metadata, so a trace rebuilds the same problem.
    """
    return _build(expr, variables, name, box, samples, seed, MAX_EXPRESSION_LENGTH, metadata)


def rebuild_recorded(expr: str, name: str = "symbolic", **params) -> SymbolicProblem:
    """:func:`symbolic` for the expression a trace recorded (SymPy's printed form, which may be longer
    than what was typed: up to MAX_RECORDED_EXPRESSION_LENGTH characters)."""
    known = {key: params.pop(key) for key in ("variables", "box", "samples", "seed") if key in params}
    return _build(expr, known.get("variables"), name, known.get("box", 1.0), known.get("samples", 2048),
                  known.get("seed", 0), MAX_RECORDED_EXPRESSION_LENGTH, params)


#: what SymPy, lambdify or NumPy may raise on an expression given as a SymPy object (the text parser
#: refuses such input itself); each becomes a one-line ExpressionError
_BUILD_ERRORS = (KeyError, NameError, TypeError, ValueError, AttributeError, NotImplementedError, ZeroDivisionError,
                 OverflowError, RecursionError, ArithmeticError)


def _build(expr, variables, name, box, samples, seed, max_length, metadata) -> SymbolicProblem:
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SYMBOLIC_SAMPLES:
        raise SpecError(f"symbolic: samples must be a whole number in [1, {MAX_SYMBOLIC_SAMPLES}], got {samples!r}")
    if not isinstance(expr, (str, sp.Expr)) or isinstance(expr, sp.MatrixBase):
        raise ExpressionError(f"symbolic: the expression must be text or a scalar SymPy expression, got "
                              f"{type(expr).__name__}")
    try:
        return _build_checked(expr, variables, name, box, samples, seed, max_length, metadata)
    except ConvcheckError:
        raise
    except _BUILD_ERRORS as exc:
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        shown = str(expr)[:200] if not isinstance(expr, str) else expr[:200]
        raise ExpressionError(f"expression {shown!r} cannot be made a problem ({type(exc).__name__}: {text})") from None


def _build_checked(expr, variables, name, box, samples, seed, max_length, metadata) -> SymbolicProblem:
    expression, symbols = _resolve_variables(expr, variables, max_length)
    if samples * len(symbols) ** 2 > MAX_SAMPLED_HESSIAN_ENTRIES:  # each limit alone is not enough
        raise SpecError(f"symbolic: {samples} samples of a {len(symbols)}×{len(symbols)} Hessian exceed "
                        f"{MAX_SAMPLED_HESSIAN_ENTRIES:.0e} sampled entries; pass fewer samples")
    check_expression_size(expression, "symbolic problem")
    _refuse_non_finite(expression)
    _refuse_complex(expression)
    _refuse_huge_numbers(expression)
    _check_recordable(expression, symbols)
    n = len(symbols)
    region = _box_region(box, n)
    if not expression.free_symbols <= set(symbols):
        extra = sorted(s.name for s in expression.free_symbols - set(symbols))
        raise ExpressionError(f"expression uses {', '.join(extra)}, not among the variables {[s.name for s in symbols]}")
    gradient_exprs = [sp.diff(expression, v) for v in symbols]
    undifferentiated = sorted({str(d.expr.func) for g in gradient_exprs for d in g.atoms(sp.Derivative)})
    if undifferentiated:
        raise ExpressionError(
            f"expression {str(expression)!r}: SymPy cannot write the derivative of {', '.join(undifferentiated)}; "
            "the paper's methods need a differentiable f (floor and ceiling are piecewise constant)")
    hessian_exprs = [sp.diff(g, v) for g in gradient_exprs for v in symbols]
    try:
        f = _batched(sp.lambdify(symbols, expression, modules="numpy"), n)
        grad = _batched_array(gradient_exprs, symbols, (n,))
    except (NotImplementedError, TypeError, ValueError, NameError, KeyError) as exc:  # NumPy cannot express it
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExpressionError(f"expression {str(expression)!r} cannot be compiled to NumPy code ({first})") from None
    hess = _hessian_function(hessian_exprs, symbols)
    estimates = _estimate_meta(n, f, grad, hess, hessian_exprs, region, samples, seed)
    params = {"expr": str(expression), "variables": [s.name for s in symbols], "box": _box_param(box)}
    if metadata:
        params["stated"] = metadata_to_json(metadata)
    if (samples, seed) != (2048, 0):
        params.update(samples=samples, seed=seed)
    meta = build_meta(n, metadata, params=params, defaults=estimates)
    problem = SymbolicProblem(name, meta, f, grad, hess, expression, [s.name for s in symbols], symbols,
                              gradient_exprs)
    _check_finite_somewhere(problem, n)
    return problem


def _box_region(box, n: int) -> np.ndarray:
    """(n, 2) array of [lo, hi] per coordinate from a number, a pair or n pairs."""
    bad = SpecError(f"symbolic: box must be a positive number b (the box [-b, b]^n), a pair (lo, hi) or {n} "
                    f"pairs, one per coordinate, with lo < hi; got {box!r}")
    if isinstance(box, bool):
        raise bad
    if isinstance(box, (int, float, np.integer, np.floating)):
        if not (np.isfinite(box) and box > 0):
            raise bad
        return np.tile([-float(box), float(box)], (n, 1))
    try:
        region = np.asarray(box, dtype=float)
    except (TypeError, ValueError):
        raise bad from None
    if region.shape == (2,):
        region = np.tile(region, (n, 1))
    if region.shape != (n, 2) or not np.all(np.isfinite(region)) or not np.all(region[:, 0] < region[:, 1]):
        raise bad
    return region


def _box_param(box):
    if isinstance(box, (int, float, np.integer, np.floating)) and not isinstance(box, bool):
        return float(box)
    return np.asarray(box, dtype=float).tolist()


def _region_text(region: np.ndarray) -> str:
    if np.all(region == region[0]):
        return f"[{region[0, 0]:g}, {region[0, 1]:g}]^{len(region)}"
    return " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in region)


def _estimate_meta(n, f, grad, hess, hessian_exprs, region, samples, seed) -> Meta:
    if all(not e.free_symbols for e in hessian_exprs):
        H = np.array([float(e) for e in hessian_exprs]).reshape(n, n)
        eigenvalues = np.linalg.eigvalsh(H)
        convex = bool(eigenvalues[0] >= -1e-12 * max(1.0, abs(eigenvalues[-1])))
        return Meta(dim=n, convex=convex, L=float(np.max(np.abs(eigenvalues))),
                    mu=float(max(eigenvalues[0], 0.0)) if convex else None,
                    provenance={"L": "exact", "convex": "exact", **({"mu": "exact"} if convex else {})},
                    notes="constant Hessian: L, convexity and mu are exact")
    points = np.random.default_rng(seed).uniform(region[:, 0], region[:, 1], size=(samples, n))
    if hess is not None:
        H = hess(points)
    else:
        problem = FunctionProblem("symbolic", Meta(dim=n), f, grad)
        H = np.stack([problem.hessian(p) for p in points[:256]])
    H = H[np.all(np.isfinite(H), axis=(-2, -1))]
    if len(H) == 0:
        return Meta(dim=n, notes=f"Hessian not finite on the sampled box {_region_text(region)}: no estimates")
    eigenvalues = np.linalg.eigvalsh(0.5 * (H + np.swapaxes(H, -1, -2)))
    L = float(np.max(np.abs(eigenvalues)))
    lowest = float(eigenvalues[:, 0].min())
    convex = False if lowest < -1e-6 * max(1.0, L) else (True if lowest >= -1e-12 * max(1.0, L) else None)
    provenance = {"L": "estimate"}
    if convex is not None:
        provenance["convex"] = "estimate"
    return Meta(dim=n, convex=convex, L=L, L_region={"box": region[0].tolist() if np.all(region == region[0]) else region.tolist()}, provenance=provenance,
                notes=f"L and convexity estimated from {len(H)} sampled Hessians on {_region_text(region)}")


def _check_finite_somewhere(problem: SymbolicProblem, n: int) -> None:
    test = np.random.default_rng(1).uniform(-0.5, 0.5, size=(4, n))
    with np.errstate(all="ignore"):
        values = problem.f(test)
    if not np.any(np.isfinite(values)):
        raise InputError(f"symbolic problem {problem.name!r} is not finite at any test point in [-0.5, 0.5]^{n}")
