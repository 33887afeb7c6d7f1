"""Remark G.2: (11) does not force ρ_k → 0. With t_k = 1/k, C < 2/L and p > 0, the radius ρ_k = C on
perfect squares and C/k^p elsewhere has limsup ρ_k = C > 0, yet Σ t_k ρ_k ≤ Σ C/j² + Σ C/k^{1+p} < ∞,
so Corollary 3.5 applies.
"""
import numpy as np

from convcheck import schedules
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases


def test_radius_has_positive_limsup_and_summable_product():
    """ρ equals C on every perfect square (so limsup = C), and the schedule facts decide Σ t_k ρ_k < ∞."""
    rho = schedules.perfect_squares(0.1, 0.5)
    squares = np.arange(1, 1000) ** 2
    np.testing.assert_allclose(rho.values(squares), 0.1)
    assert rho.limsup().value == 0.1
    assert schedules.sum_product_converges("power:c=1,p=1", rho).value is True


def test_predictions_certified():
    """SAM and VaSSO with t_k = c/k and the perfect-squares radius on logsum (nonconvex), logsum_under and
    a quadratic: every predicted property certified "holds" (P5 on the convex quadratic)."""
    rows = run_cases("remark-G.2")
    assert len({r[1]["problem"].key for r in rows}) >= 3
    assert_predictions_observed(rows)
    assert any(r[2].predicted.get("P5") == "holds" for r in rows)


def test_control_p_zero_is_constant_radius():
    """Control: p = 0 makes ρ constant; Σ t_k ρ_k = ∞ and the remark does not apply."""
    (app,) = applicable("logsum:n=2,seed=1", "sam", "power:c=1,p=1", "perfect_squares:C=0.1,p=0", include_all=True,
                        results=["remark-G.2"])
    assert app.applies is False
