"""Dai et al. 2023, Theorem 1 (cited by the paper next to its own results): SAM with constant t ≤ 1/L and
ρ on a μ-strongly convex f with L-Lipschitz gradient satisfies, at every iterate,
f(x^k) − f* ≤ (1 − tμ(2 − Lt))^{k−1}(f(x¹) − f*) + tL³ρ²/(2μ(2 − Lt)).
The bound implies none of P1–P5: SAM with constant ρ can stall above f* within the floor term.
"""
import itertools

import numpy as np

from convcheck import problems, sweep
from convcheck.properties.counterexamples import check_dai_bound, dai_floor
from convcheck.properties.theorems import applicable
from theorem_helpers import assert_predictions_observed, run_cases

# 4 problems × 5 values of tL (up to 1) × 3 radii = 60 admissible configurations
GRID_PROBLEMS = ("x2", "quadratic_1d:lam=0.5,b=1", "quadratic:n=3,cond=2,seed=1", "quadratic:n=6,cond=4,seed=2")
GRID_TL = (0.2, 0.5, 0.8, 0.9, 1.0)
GRID_RHO = (0.01, 0.1, 0.5)


def _grid_runs():
    configs, apps = [], []
    for spec, tl, rho in itertools.product(GRID_PROBLEMS, GRID_TL, GRID_RHO):
        p = problems.get(spec)
        t = tl / p.meta.L
        x0 = p.meta.minimizer.points[0] + np.linspace(1.0, -0.5, p.dim)
        (app,) = applicable(p, "sam", f"constant:{t!r}", f"constant:{rho!r}", results=["dai-2023"])
        assert app.applies is True, (spec, tl, rho, app.reason)
        apps.append(app)
        configs.append(dict(problem=p, method="sam", x0=x0, iters=1500, step=f"constant:{t!r}",
                            radius=f"constant:{rho!r}"))
    return apps, sweep(configs, on_error="raise")


def test_l_cubed_bound_holds_on_sixty_admissible_configurations_including_tl_near_one():
    """The L³ bound holds at every recorded iterate of all 60 runs (tL from 0.2 to 1, so tL ≥ 0.9 too);
    the control with the L² floor tL²ρ²/(2μ(2 − Lt)) is broken by at least one run (SAM on x² at t = 1/L,
    ρ = 0.1 settles at f = 0.01 = the L³ floor, twice the L² one)."""
    apps, traces = _grid_runs()
    assert len(apps) >= 50 and sum(a.bound["t"] * a.bound["L"] >= 0.9 for a in apps) >= 20
    broken_l2 = 0
    for app, trace in zip(apps, traces):
        outcome = check_dai_bound(app.bound, trace)
        assert outcome["holds"] and outcome["checked_iterates"] == trace.last_k, (app.bound, outcome)
        b = app.bound
        wrong = {**b, "floor": dai_floor(b["t"], b["rho"], b["L"], b["mu"], power_of_L=2)}
        broken_l2 += not check_dai_bound(wrong, trace)["holds"]
    assert broken_l2 >= 1


def test_x_squared_settles_on_the_l_cubed_floor():
    """SAM on x² (L = μ = 2), t = 1/L, ρ = 0.1: x^{k+1} = −ρ sign(x^k), so |x^k| = 0.1 and f = 0.01, which is
    tL³ρ²/(2μ(2 − Lt)) = 0.5·8·0.01/4 exactly; the L² form gives 0.005."""
    p = problems.get("x2")
    trace = sweep([dict(problem=p, method="sam", x0=np.array([1.0]), iters=200, step="constant:0.5",
                        radius="constant:0.1")], on_error="raise")[0]
    np.testing.assert_allclose(np.asarray(trace.f)[-1], dai_floor(0.5, 0.1, 2.0, 2.0), rtol=1e-9)
    np.testing.assert_allclose(dai_floor(0.5, 0.1, 2.0, 2.0, power_of_L=2), 0.005)


def test_study_rows_hold_and_the_bound_implies_no_convergence():
    """The study's rows: the bound holds; dropping the floor (claiming f(x^k) → f*) is violated on the same
    runs, and P5 fails there: the bound says nothing about P1–P5."""
    rows = run_cases("dai-2023")
    assert len(rows) >= 3
    assert_predictions_observed(rows)
    for case, config, app, cert, trace, verdict, details in rows:
        assert check_dai_bound(app.bound, trace)["holds"]
        assert not check_dai_bound({**app.bound, "floor": 0.0}, trace)["holds"]
        assert cert["P5"].status == "fails"
        gap = np.asarray(trace.f)[-1] - app.bound["f_star"]
        assert 0 < gap <= app.bound["floor"]
