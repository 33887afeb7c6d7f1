"""Remark 3.6: the almost constant radius ρ_k = C/k^p (p = 0.001 in the paper) satisfies (11) with
t_k ~ 1/k for every C > 0 (ρ_k → 0, so limsup ρ_k = 0 < 2/L; the condition C < 2/L is Remark G.2's),
so Corollary 3.5 applies although ρ_k hardly decreases.

[derived] ρ_{10⁶} = C·10^{−0.006} ≈ 0.9863C, and ρ_k > 0.99C only for k ≲ 23,000.
"""
import numpy as np

from convcheck import schedules
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases


def test_radius_arithmetic():
    """The radius stays within 1.4% of C for a million iterations; the 0.99C threshold is crossed near k = 23,000."""
    rho = schedules.almost_constant(0.1)
    np.testing.assert_allclose(rho.values(np.array([10 ** 6]))[0] / 0.1, 10 ** -0.006, rtol=1e-12)
    crossing = 0.99 ** -1000
    assert rho.values(np.array([int(crossing) - 1]))[0] > 0.099 > rho.values(np.array([int(crossing) + 2]))[0]
    assert 23_000 < crossing < 23_300


def test_predictions_certified():
    """SAM and VaSSO with t_k = c/k, ρ_k = 0.1/k^0.001 on logsum (nonconvex), logsum_under and flat_ball:
    the predicted properties of Corollary 3.5 are all certified "holds"."""
    rows = run_cases("remark-3.6")
    assert len({r[1]["problem"].key for r in rows}) >= 3
    assert_predictions_observed(rows)


def test_control_constant_radius_or_slower_step_is_not_admissible():
    """Controls: ρ = C constant with t_k = 1/k gives Σ t_k ρ_k = ∞, and ρ_k = C/k^0.001 with t_k = 1/k^0.9
    too: neither the remark nor Corollary 3.5 applies (no prediction)."""
    for step, radius in (("power:c=1,p=1", "constant:0.1"), ("power:c=1,p=0.9", "almost_constant:C=0.1")):
        apps = applicable("logsum:n=2,seed=1", "sam", step, radius, include_all=True,
                          results=["remark-3.6", "corollary-3.5"])
        assert [a.applies for a in apps] == [False, False], (step, radius)
        assert all("Σ t_k ρ_k < ∞" in a.reason for a in apps)
