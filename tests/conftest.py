"""Shared fixtures: small analytic problems built locally so engine tests do not depend on the catalogue."""
import numpy as np
import pytest

from convcheck.problems.base import Meta, MinimizerSet, Problem


class LocalQuadratic(Problem):
    """½xᵀAx − bᵀx with exact gradient Ax − b (A symmetric positive definite)."""

    _data_fields = ("A", "b")

    def __init__(self, A, b):
        A = np.asarray(A, float)
        b = np.asarray(b, float)
        eig = np.linalg.eigvalsh(A)
        x_star = np.linalg.solve(A, b)
        super().__init__("local_quadratic", Meta(dim=len(b), params={"n": len(b)}, convex=True, mu=eig[0],
                                                 L=eig[-1], f_star=float(-0.5 * b @ x_star),
                                                 minimizer=MinimizerSet("point", x_star[None])))
        self.A, self.b, self.x_star = A, b, x_star

    def _value_and_grad(self, X):
        AX = X @ self.A
        return 0.5 * (X * AX).sum(-1) - X @ self.b, AX - self.b


class LocalLogsum(Problem):
    """Σ log(1 + (Ax − b)_i²), gradient 2Aᵀ[r/(1 + r²)]."""

    _data_fields = ("A", "b")

    def __init__(self, n=5, m=5, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((m, n))
        self.x_star = rng.standard_normal(n)
        self.b = self.A @ self.x_star
        super().__init__("local_logsum", Meta(dim=n, params={"n": n, "m": m, "seed": seed},
                                              L=2 * np.linalg.norm(self.A, 2) ** 2, f_star=0.0))

    def _value_and_grad(self, X):
        xp = self.xp
        R = X @ self.A.T - self.b
        return xp.log1p(R * R).sum(-1), (2 * R / (1 + R * R)) @ self.A


@pytest.fixture
def quadratic():
    return LocalQuadratic(np.diag([1.0, 1.5]), np.array([1.0, -2.0]))


@pytest.fixture
def logsum():
    return LocalLogsum()

