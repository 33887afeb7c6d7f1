"""The data behind the paper's figures, computed with convcheck's own runner (no plotting here).

Khanh, Luong, Mordukhovich, Tran, "Fundamental Convergence Analysis of Sharpness-Aware Minimization"
(NeurIPS 2024). ``figure_data(name)`` returns a dict that :func:`convcheck.reports.figures.draw_figure`
draws and that is written, as JSON, beside each figure::

    {"name", "title", "caption", "parameters": {...every choice...}, "summary": {...},
     "layout": {"ncols", "nrows", "width"},
     "panels": [{"title", "xlabel", "ylabel", "xscale", "yscale",
                 "curves": [{"key", "label", "x", "y", ...run parameters}],
                 "hlines": [{"y", "label"}], "path": {...} (2-D iterate paths only)}]}

Arrays are NumPy here and lists in the sidecar. Curves longer than 2·:data:`MAX_BUCKETS` points are
min-max decimated (:func:`thin`): every bucket keeps its extreme values, so oscillations stay visible.

Choices the paper leaves open, all seeded with :data:`SEED`:

- **Figure 1** (Example 3.1): the catalogue's ``example31`` generator with n = 2, eigenvalues of A
  λmin = 1 and λmax = 1.5 (in a seeded orthogonal basis; b ~ N(0, I); seed 0), t = 0.7, ρ = 0.1 and
  the generator's x¹ = x* + 0.5·(tρλmin/(1 − tλmin))·u (u a seeded unit vector), 100 iterations (GD
  reaches round-off by k ≈ 13; SAM is on its 2-cycle by k ≈ 10). Conditions (13): t ∈ (1/λmin − 1/(λmax+λmin), 1/λmin) = (0.6, 1) and
  0 < ‖x¹ − x*‖ ≈ 0.117 < tρλmin/(1 − tλmin) ≈ 0.233; the proof's caveat t ≤ 2/(λmin+λmax) = 0.8
  (λmax < 2λmin) holds too; all re-checked in :func:`example31_setup`. f* = −½ bᵀx* is
  exact; values of f − f* at or below the round-off level
  ε·max(1, |f*|) are drawn at that level (said in the caption).
- **Figure 3** (Appendix E): C = 0.1 (the constant run's ρ [inferred]); the catalogue's
  ``logsum`` with m = n, A iid N(0, 1), x^∞ ~ N(0, I), b = A x^∞, seed 0. f* = 0; f is drawn as is.
- **Example 3.4**: ρ = 0.3, x¹ = 1, t_k = 0.5/(k+1), 20 000 iterations (ten times fewer than the theorem study's run;
  here x^k − ρ = (x¹ − ρ)/k = 0.7/k exactly, so 2·10⁴ steps already give x − ρ ≈ 3.5·10⁻⁵).
- **Figure 2, deterministic counterpart**: see :mod:`convcheck.reports.figure_data_nonconvex`.
- **Mexican hat**: see :mod:`convcheck.reports.figure_data_nonconvex`.
"""
from __future__ import annotations

import numpy as np

from convcheck import methods, schedules
from convcheck.errors import ConvcheckError, unknown_name

from . import figure_data_nonconvex
from .figure_parts import (ENVELOPE_BUCKETS, MAX_BUCKETS, SEED, curve, envelope_curve, iterates_by_k, panel,
                           problem_description, run_all, run_description, thin)

EPS = float(np.finfo(np.float64).eps)

FIGURE1 = {"problem": {"n": 2, "lam_min": 1.0, "lam_max": 1.5, "rho": 0.1, "t": 0.7, "offset": 0.5, "seed": SEED},
           "iters": 100}
FIGURE3 = {"dims": [2, 20, 50, 100], "C": 0.1, "powers": [1.0, 0.1, 0.001], "step_numerator": 0.1,
           "iters_per_dim": 100}
EXAMPLE34 = {"rho": 0.3, "x1": 1.0, "step": "0.5/(k+1)", "iters": 20_000}


# ----------------------------------------------------------------------------- Figure 1
def example31_setup() -> dict:
    """Figure 1's instance from the catalogue's Example 3.1 generator, with (13) and the caveat re-checked."""
    from convcheck.problems import get

    problem = get("example31", **FIGURE1["problem"])
    admissible = problem.example31_parameters()
    A = np.asarray(problem.backend.to_host(problem.A), dtype=np.float64)
    lam = np.linalg.eigvalsh(A)
    t, rho = float(admissible["t"]), float(admissible["rho"])
    x1, x_star = np.asarray(admissible["x1"], dtype=np.float64), np.asarray(admissible["x_star"], dtype=np.float64)
    conditions = {"t_interval_13": [1 / lam[0] - 1 / (lam[-1] + lam[0]), 1 / lam[0]],
                  "distance_bound_15": t * rho * lam[0] / (1 - t * lam[0]),
                  "start_distance": float(np.linalg.norm(x1 - x_star)),
                  "caveat_t_max": 2 / (lam[0] + lam[-1])}
    ok = (conditions["t_interval_13"][0] < t < conditions["t_interval_13"][1] and rho > 0
          and 0 < conditions["start_distance"] < conditions["distance_bound_15"] and t <= conditions["caveat_t_max"])
    if not ok:
        raise ConvcheckError(f"Figure 1's parameters violate Example 3.1's conditions (13): {conditions}")
    return {"problem": problem, "t": t, "rho": rho, "x1": x1, "x_star": x_star.tolist(), "A": A.tolist(),
            "b": np.asarray(problem.backend.to_host(problem.b)).tolist(), "eigenvalues": lam.tolist(),
            "conditions": conditions}


def figure1() -> dict:
    """Example 3.1 / Figure 1: GD converges, SAM with the same constant t and ρ does not.

    f(x) = ½⟨Ax, x⟩ − ⟨b, x⟩, SAM (14): x^{k+1} = x^k − t[A(x^k + ρ(Ax^k − b)/‖Ax^k − b‖) − b].
    Under (13) every SAM iterate satisfies 0 < ‖x^k − x*‖ < tρλmin/(1 − tλmin) (claim (15)), so
    f(x^k) − f* stays bounded away from 0, while GD with the same t converges linearly. Panels:
    (a) f(x^k) − f*, (b) ‖x^k − x*‖ with the bound of (15), (c) SAM's iterates in the plane.
    """
    setup = example31_setup()
    problem, t, rho, x1 = setup["problem"], setup["t"], setup["rho"], setup["x1"]
    x_star = np.asarray(setup["x_star"], dtype=np.float64)
    iters = FIGURE1["iters"]
    configs = [dict(problem=problem, method=methods.gd(), x0=x1, iters=iters, step=t, tail=iters + 1, label="GD"),
               dict(problem=problem, method=methods.sam(), x0=x1, iters=iters, step=t, radius=rho, tail=iters + 1,
                    label="SAM")]
    traces = run_all(configs)
    f_star = float(problem.meta.f_star)
    floor = EPS * max(1.0, abs(f_star))
    lam = setup["eigenvalues"]
    sam_ball = t * rho * lam[0] / (1 - t * lam[0])
    gap_curves, distance_curves, summary = [], [], {}
    for key, label, trace in (("gd", "GD", traces[0]), ("sam", "SAM", traces[1])):
        gap = np.asarray(trace.f) - f_star
        ks, xs = iterates_by_k(trace)
        distance = np.linalg.norm(xs - x_star, axis=1)
        summary[key] = {"final_gap": float(gap[-1]), "min_gap_second_half": float(gap[len(gap) // 2:].min()),
                        "values_at_round_off": int(np.sum(gap <= floor)),
                        "final_distance": float(distance[-1]), "max_distance": float(distance.max())}
        text = f"{label} ($t$ = {t:g}" + (f", $\\rho$ = {rho:g})" if key == "sam" else ")")
        gap_curves.append(curve(key, text, trace.k, np.maximum(gap, floor), **run_description(trace)))
        distance_curves.append(curve(key, text, ks, np.maximum(distance, EPS * max(1.0, float(np.abs(x_star).max())))))
    ks, sam_x = iterates_by_k(traces[1])
    cycle = sam_x[-2:] - x_star
    summary["sam"]["two_cycle"] = {"offset": cycle[-1].tolist(), "sum_of_last_two_offsets": (cycle[0] + cycle[1]).tolist()}
    half = 1.35 * max(sam_ball, float(np.linalg.norm(x1 - x_star)))
    grid_x = np.linspace(x_star[0] - half, x_star[0] + half, 121)
    grid_y = np.linspace(x_star[1] - half, x_star[1] + half, 121)
    z = np.asarray(problem.on("numpy").f(np.stack(np.meshgrid(grid_x, grid_y), axis=-1)) if hasattr(problem, "on")
                   else problem.f(np.stack(np.meshgrid(grid_x, grid_y), axis=-1)), dtype=np.float64)
    cycle_norm = float(np.linalg.norm(cycle[-1]))
    caption = (f"Example 3.1: GD and SAM with the same constant stepsize t = {t:g} (SAM radius ρ = {rho:g}) on "
               f"f(x) = ½xᵀAx − bᵀx, the eigenvalues of A being {lam[0]:g} and {lam[-1]:g} (seeded basis and b, "
               f"seed {SEED}), from x¹ at distance {setup['conditions']['start_distance']:.3g} from x*, "
               f"{iters} iterations. Conditions (13) hold, and t ≤ 2/(λmin + λmax). (a) GD converges linearly "
               f"while SAM's gap stalls at {summary['sam']['final_gap']:.2g}. (b) Every SAM iterate stays at a "
               f"positive distance from x*, below the bound tρλmin/(1 − tλmin) = {sam_ball:.3g} of claim (15). "
               f"(c) SAM's iterates settle on a 2-cycle x* ± v, ‖v‖ = {cycle_norm:.3g}: each step jumps across "
               "x* to the opposite point. Values of f − f* at or below the round-off level "
               f"ε·max(1, |f*|) = {floor:.1e} are drawn at that level.")
    return {"name": "figure1", "title": "Figure 1: SAM with a constant stepsize does not converge",
            "caption": caption,
            "choices": [f"n = 2 with eigenvalues {lam[0]:g} and {lam[-1]:g} of A in a seeded orthogonal basis, "
                        f"b ~ N(0, I), seed {SEED} (the paper fixes none of these)",
                        f"t = {t:g}, ρ = {rho:g} and x¹ = x* + {FIGURE1['problem']['offset']:g}·(tρλmin/(1 − tλmin))·u, "
                        "u a seeded unit vector (any values meeting (13))",
                        f"{iters} iterations; log scale for f − f* and ‖x − x*‖, linear k axis",
                        "panels (b) and (c) are added: the paper's figure shows the function values only",
                        "values at round-off are drawn at the round-off level ε·max(1, |f*|)"],
            "parameters": {"problem": problem_description(problem), "A": setup["A"], "A_eigenvalues": list(lam),
                           "b": setup["b"],
                           "x_star": setup["x_star"], "t": t, "rho": rho, "x1": list(map(float, x1)),
                           "iters": iters, "seed": SEED, "conditions_13": setup["conditions"],
                           "round_off_floor": floor, "distance_bound_15": sam_ball},
            "summary": summary, "layout": {"ncols": 3, "nrows": 1, "width": "full", "height": 2.7},
            "panels": [panel("(a) function gap", "iteration $k$", "$f(x^k) - f^*$", gap_curves, xscale="linear",
                             yscale="log",
                             hlines=[{"y": floor, "label": r"round-off $\varepsilon\max(1, |f^*|)$"}]),
                       panel("(b) distance to the minimizer", "iteration $k$", "$\\|x^k - x^*\\|$", distance_curves,
                             xscale="linear", yscale="log", legend_loc="center right",
                             hlines=[{"y": sam_ball, "label": "bound (15)"}]),
                       {"title": "(c) SAM's iterates: a 2-cycle", "xlabel": "$x_1$", "ylabel": "$x_2$",
                        "xscale": "linear", "yscale": "linear", "curves": [],
                        "path": {"xy": sam_x, "k": ks, "label": "SAM iterates", "markers": True},
                        "circle": {"centre": x_star.tolist(), "radius": sam_ball, "label": "bound (15) around $x^*$"},
                        "point": {"xy": x_star.tolist(), "label": "$x^*$"},
                        "contour": {"x": grid_x, "y": grid_y, "z": z, "levels": None}}]}


# ----------------------------------------------------------------------------- Figure 3
def figure3() -> dict:
    """Appendix E / Figure 3: constant ρ = C and almost-constant ρ_k = C/k^0.001 behave alike.

    f(x) = Σ log(1 + (Ax − b)_i²), t_k = (0.1/n)/k, x¹ = x^∞ + (0.1/n²)·1, 100n iterations; GD, SAM
    with ρ = C and SAM with ρ_k = C/k^p, p ∈ {1, 0.1, 0.001} (Remark 3.6: p = 0.001 satisfies (11)).
    """
    from convcheck.problems import get

    C, panels, summary, instances = FIGURE3["C"], [], {}, {}
    for n in FIGURE3["dims"]:
        problem = get("logsum", n=n, m=n, seed=SEED)
        x_inf = np.asarray(problem.x_star, dtype=np.float64)
        x1 = np.asarray(problem.appendix_e_start(), dtype=np.float64)   # x^∞ + (0.1/n²)·1ₙ
        iters = FIGURE3["iters_per_dim"] * n
        step = schedules.power(FIGURE3["step_numerator"] / n, 1.0)
        runs = [("gd", "GD", methods.gd(), None)]
        runs.append(("sam_constant", r"SAM, $\rho = C$", methods.sam(), schedules.constant(C)))
        for p in FIGURE3["powers"]:
            runs.append((f"sam_p{p:g}", f"SAM, $\\rho_k = C/k^{{{p:g}}}$", methods.sam(), schedules.power(C, p)))
        configs = [dict(problem=problem, method=method, x0=x1, iters=iters, step=step, radius=radius, label=label)
                   for _, label, method, radius in runs]
        traces = run_all(configs)
        # ρ = C is drawn above the almost-constant curve it should coincide with, so both stay visible
        curves = [envelope_curve(key, label, tr.k, tr.f,
                                 zorder=4.0 if key == "sam_constant" else 3.0 + 0.1 * index, **run_description(tr))
                  for index, ((key, label, _, _), tr) in enumerate(zip(runs, traces))]
        summary[f"n={n}"] = {key: {"f_first": float(tr.f[0]), "f_last": float(tr.f[-1]), "status": tr.status}
                             for (key, *_), tr in zip(runs, traces)}
        instances[f"n={n}"] = {"problem": problem_description(problem), "x_inf": x_inf.tolist(),
                               "x1": x1.tolist(), "iters": iters, "step": step.spec}
        panels.append(panel(f"$n$ = {n}", "iteration $k$", "$f(x^k)$ ($f^* = 0$)", curves, xscale="log",
                            yscale="log"))
    caption = ("Appendix E: f(x) = Σᵢ log(1 + (Ax − b)ᵢ²) with A ∈ ℝⁿˣⁿ iid N(0, 1), x^∞ ~ N(0, I), "
               "b = Ax^∞ "
               f"(seed {SEED}), so f* = 0 at x^∞. t_k = (0.1/n)/k, x¹ = x^∞ + (0.1/n²)·1, 100n iterations; "
               f"C = {C:g}. SAM with the almost-constant radius ρ_k = C/k^0.001 follows SAM with ρ = C. "
               "Every SAM curve first jumps up: x¹ lies only ‖x¹ − x^∞‖ = 0.1/n^1.5 from the minimizer, "
               f"while SAM's first gradient is taken at distance ρ₁ = C = {C:g} ≫ 0.1/n^1.5, so the first "
               "step moves x away from x^∞ before the stepsizes t_k shrink and f decreases again. "
               "Lines are medians over log-spaced ranges of k; the shaded bands span each range's least to "
               "greatest f (the step-to-step oscillation of the constant-radius runs).")
    return {"name": "figure3", "title": "Figure 3: constant and almost-constant perturbation radius",
            "caption": caption,
            "choices": [f"C = {C:g} (the paper's value of the constant radius is inferred)",
                        "n ∈ {2, 20, 50, 100} with m = n; A, x^∞ and b from seed 0",
                        "log–log axes (the paper does not state its axis scales)",
                        f"curves drawn as median and min–max band over {ENVELOPE_BUCKETS} log-spaced ranges of k "
                        "(envelope), not every iterate",
                        "colour-blind-safe Okabe–Ito colours, each with its own line style and marker",
                        "f is plotted as is (f* = 0), not f − f* at a round-off floor"],
            "parameters": {"C": C, "powers": FIGURE3["powers"], "dims": FIGURE3["dims"], "seed": SEED,
                           "step": "t_k = (0.1/n)/k", "x1": "x^inf + (0.1/n^2) * ones(n)", "iters": "100 n",
                           "distribution": "A iid N(0,1) (n x n), x_inf ~ N(0, I), b = A x_inf",
                           "instances": instances},
            "summary": summary,
            "layout": {"ncols": 2, "nrows": 2, "width": "full", "height": 5.4, "shared_legend": True},
            "panels": panels}


# ----------------------------------------------------------------------------- Example 3.4
def example34() -> dict:
    """Example 3.4: IGD with a constant absolute error 2ρ converges to the non-stationary point ρ.

    f(x) = x², g^k = f′(x^k − ρ f′(x^k)/|f′(x^k)|), so x^{k+1} − ρ = (1 − 2t_k)(x^k − ρ) → 0 for
    t_k ↓ 0, Σ t_k = ∞ (eq. (10)); f′(ρ) = 2ρ ≠ 0. GD with the same t_k converges to the minimizer 0.
    """
    from convcheck.problems import get

    problem = get("x2")
    rho, iters = EXAMPLE34["rho"], EXAMPLE34["iters"]
    step = schedules.from_expr(EXAMPLE34["step"])
    x1 = np.array([EXAMPLE34["x1"]])
    configs = [dict(problem=problem, method=methods.gd(), x0=x1, iters=iters, step=step, label="GD"),
               dict(problem=problem, method=methods.igd(error="example34"), x0=x1, iters=iters, step=step,
                    radius=rho, label="IGD")]
    traces = run_all(configs)
    labels = {"gd": "GD", "igd": r"inexact GD, constant error $2\rho$"}
    x_curves, g_curves, summary = [], [], {}
    for key, trace in zip(("gd", "igd"), traces):
        ks, xs = iterates_by_k(trace)
        x_curves.append(curve(key, labels[key], ks, xs[:, 0], **run_description(trace)))
        g_curves.append(curve(key, labels[key], trace.k, trace.grad_norm, **run_description(trace)))
        summary[key] = {"x_last": float(xs[-1, 0]), "grad_last": float(trace.grad_norm[-1]), "status": trace.status}
    caption = (f"Example 3.4: f(x) = x², ρ = {rho:g}, x¹ = {EXAMPLE34['x1']:g}, t_k = {EXAMPLE34['step']}, "
               f"{iters} iterations. Inexact GD with g^k = f′(x^k − ρ f′(x^k)/|f′(x^k)|), whose error is the "
               f"constant 2ρ, converges to x = ρ where |f′| = 2ρ = {2 * rho:g} ≠ 0; GD with the same stepsizes "
               "converges to the minimizer 0.")
    return {"name": "example34", "title": "Example 3.4: inexact GD with a constant error",
            "caption": caption,
            "choices": ["not a figure of the paper: Example 3.4 drawn from its closed form",
                        f"ρ = {rho:g}, x¹ = {EXAMPLE34['x1']:g}, t_k = {EXAMPLE34['step']}, {iters} iterations",
                        "log axes for k and for the distances"],
            "parameters": {"problem": problem_description(problem), "rho": rho, "x1": [EXAMPLE34["x1"]],
                           "step": EXAMPLE34["step"], "iters": iters, "method_gd": "gd",
                           "method_igd": "igd:error=example34 (radius slot = rho)", "seed": SEED},
            "summary": summary, "layout": {"ncols": 2, "nrows": 1, "width": "full"},
            "panels": [panel("(a) iterates", "iteration $k$", "$x^k$", x_curves,
                             hlines=[{"y": rho, "label": f"$\\rho$ = {rho:g} (non-stationary)"}]),
                       panel("(b) derivative", "iteration $k$", "$|f'(x^k)|$", g_curves,
                             hlines=[{"y": 2 * rho, "label": f"$2\\rho$ = {2 * rho:g}"}])]}


# ----------------------------------------------------------------------------- registry
BUILDERS = {"figure1": figure1, "figure3": figure3, "example34": example34,
            "figure2_deterministic": figure_data_nonconvex.figure2_deterministic,
            "mexican_hat": figure_data_nonconvex.mexican_hat}
FIGURES = list(BUILDERS)

__all__ = ["FIGURES", "BUILDERS", "figure_data", "figure1", "figure3", "example34", "example31_setup",
           "SEED", "MAX_BUCKETS", "thin"]  # thin and MAX_BUCKETS (from figure_parts) are named in the module doc


def figure_data(name: str) -> dict:
    """Compute the data of figure ``name`` (one of :data:`FIGURES`); deterministic, no plotting."""
    if name not in BUILDERS:
        raise unknown_name("figure", name, FIGURES)
    return BUILDERS[name]()
