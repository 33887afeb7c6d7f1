"""The inexact-gradient methods of the paper (Algorithms 1 and 2): x^{k+1} = x^k − t_k g^k with an error
model for g^k − ∇f(x^k), each with its compiled rule beside its NumPy formula (see
:mod:`convcheck.method_family` for the conventions; the error callables run on the generic engine).
"""
from __future__ import annotations

from . import declarations as declared
from .errors import InputError
from .jit import jit_inline
from .method_family import Method, _perturb_row, _row_norm, _rule, _take_gradient, row_norms


def _unit_rows(xp, V):
    norms = row_norms(xp, V)
    return V / xp.where(norms > 0, norms, 1.0)


class IGD(Method):
    """Inexact GD with absolute errors (Algorithm 1): x^{k+1} = x^k − t_k g^k, ‖g^k − ∇f(x^k)‖ ≤ ε_k.

    ε_k is the runner's ``radius`` schedule. Error models (``error``):
    - "opposite": g = ∇f − ε_k ∇f/‖∇f‖ (worst case, against the gradient; 0 error at ∇f = 0);
    - "random": g = ∇f + ε_k u, u uniform on the unit sphere (seeded per run);
    - "example34": g = ∇f(x − ρ_k ∇f/‖∇f‖), the reverse-SAM construction of Example 3.4 (eq. (10)); on
      f = x² its error is exactly 2ρ_k, in general ≤ Lρ_k (here the radius slot is ρ_k, not ε_k);
    - a callable ``error(X, G, eps, k, rng_noise) -> E`` (B, n) with ‖E_b‖ ≤ eps_b, checked each step.
    """

    registry_name = "igd"
    ERROR_CODES = {"opposite": 0, "random": 1, "example34": 2}

    @property
    def declaration(self):
        return declared.igd_declaration(self.params)

    def compiled_rule(self):
        code = self.ERROR_CODES.get(self.params["error"]) if isinstance(self.params["error"], str) else None
        return None if code is None else _rule(self, _igd_rule, code, self.params.get("eps_guard", 0.0))

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        xp = problem.xp
        model = self.params["error"]
        if model == "opposite":
            return G - rho * _unit_rows(xp, G), state
        if model == "random":
            return G + rho * _unit_rows(xp, noise[0]), state
        if model == "example34":
            scale = rho / (gnorm + self.params.get("eps_guard", 0.0))
            return problem.grad(X - scale * G), state
        E = model(X, G, rho[:, 0], k, noise[0] if noise else None)
        _check_error_bound(xp, E, rho, X.shape, "absolute error eps_k")
        return G + E, state


class IGDR(Method):
    """Inexact GD with relative error (Algorithm 2): ‖g^k − ∇f(x^k)‖ ≤ ν‖∇f(x^k)‖, ν ∈ [0, 1).

    Error models: "opposite" g = (1 − ν)∇f; "random" g = ∇f + ν‖∇f‖u (u uniform on the sphere);
    a callable ``error(X, G, nu_norm, k, rng_noise) -> E`` with ‖E_b‖ ≤ ν‖∇f(x_b)‖, checked.
    """

    registry_name = "igdr"
    ERROR_CODES = {"opposite": 0, "random": 1}

    @property
    def declaration(self):
        return declared.RelativeError(nu=float(self.params["nu"]))

    def compiled_rule(self):
        code = self.ERROR_CODES.get(self.params["error"]) if isinstance(self.params["error"], str) else None
        return None if code is None else _rule(self, _igdr_rule, self.params["nu"], code)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        xp = problem.xp
        nu, model = self.params["nu"], self.params["error"]
        if model == "opposite":
            return (1.0 - nu) * G, state
        if model == "random":
            return G + (nu * gnorm) * _unit_rows(xp, noise[0]), state
        E = model(X, G, nu * gnorm[:, 0], k, noise[0] if noise else None)
        _check_error_bound(xp, E, nu * gnorm, X.shape, "relative error nu*|grad f|")
        return G + E, state


@jit_inline
def _add_unit_row(D, G, V, i, scale, norm):
    """D_i = g_i + scale·(v_i/norm) with norm replaced by 1 where it is 0 (``_unit_rows``)."""
    safe = norm if norm > 0 else 1.0
    for l in range(G.shape[1]):
        D[i, l] = G[i, l] + scale * (V[i, l] / safe)


def _igd_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """Algorithm 1's g^k with ε_k = ρ: "opposite" (code 0) g − ε g/‖g‖; "random" (1) g + ε u;
    "example34" (2) Y = x − ρ g/(‖g‖ + eps), D = ∇f(Y) (eq. (10))."""
    code = params[0]
    if code == 2.0:
        if stage == 0:
            for i in range(X.shape[0]):
                _perturb_row(Y, X, G, i, -(rho[i] / (gnorm[i] + params[1])))
            return 1
        return _take_gradient(D, GY)
    for i in range(X.shape[0]):
        if code == 0.0:
            _add_unit_row(D, G, G, i, -rho[i], gnorm[i])
        else:
            _add_unit_row(D, G, noise[0], i, rho[i], _row_norm(noise[0], i))
    return 0


def _igdr_rule(stage, X, G, gnorm, Y, GY, D, t, rho, noise, state, params, k, local_k):
    """Algorithm 2's g^k: "opposite" (code 0) (1 − ν)g; "random" (1) g + ν‖g‖u."""
    nu, code = params[0], params[1]
    for i in range(X.shape[0]):
        if code == 0.0:
            for l in range(X.shape[1]):
                D[i, l] = (1.0 - nu) * G[i, l]
        else:
            _add_unit_row(D, G, noise[0], i, nu * gnorm[i], _row_norm(noise[0], i))
    return 0


def _check_error_bound(xp, E, bound, shape, what):
    if getattr(E, "shape", None) != shape:
        raise InputError(f"error callable returned shape {getattr(E, 'shape', None)}, expected {shape}")
    excess = row_norms(xp, E) - bound * (1 + 1e-12)
    if bool(xp.any(excess > 1e-300)):
        raise InputError(f"error callable returned a vector longer than the {what}")
