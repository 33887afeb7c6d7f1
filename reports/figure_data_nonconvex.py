"""Data of the nonconvex figures: a deterministic Figure 2 and GD on the Mexican hat.

Choices (the paper's Figure 2 is a deep-learning experiment; the Mexican hat is not in the paper):

- **Figure 2, deterministic counterpart.** Problem: the catalogue's ``logsum`` with n = m = 20 and
  seed 0 (Appendix E's nonconvex toy; A iid N(0, 1), b = A x^∞), started away from the solution at
  x¹ = x^∞ + z, z ~ N(0, I) from ``default_rng(0)``, so the run crosses the nonconvex region
  |(Ax − b)_i| > 1. SAM with the paper's constant radius ρ = 0.05. η₁ = 1/L with the exact
  L = 2‖A‖² (a step GD is stable with). One "epoch" is 10 full-gradient steps (the paper changes the
  rate once per epoch; a deterministic run has no mini-batches), 200 epochs as in the paper. The
  schedules are the paper's formulas (``diminish1/2/3`` with block = 10). "Constant" is, as in the
  paper, the best of the grid {η₁, η₁/10, η₁/100}, judged here by the final training loss f(x^K)
  (there is no test set); every grid run is in the sidecar's summary.
- **Mexican hat** (Absil, Mahony, Andrews 2005): the catalogue's documented spiralling start
  ``spiral_start(turn=0, s0=1.15)`` (valley floor at s = 1/(1 − r²) = 1.15, r ≈ 0.36, θ − s = π/2, near
  the origin where the spiral turns fastest) with its locally stable constant step, 60 000 iterations,
  every iterate kept. GD advances along the spiral valley ever more
  slowly (about 1/(16 s⁸) rad per step, see :mod:`convcheck.problems.mexican_hat`), so a finite run
  covers part of a turn; the figure shows that the phase θ − s stays on the valley floor while s grows,
  i.e. θ → ∞ as r → 1: the path winds forever and its limit set is the whole unit circle.
"""
from __future__ import annotations

import math

import numpy as np

from convcheck import methods, schedules

from .figure_parts import SEED, curve, iterates_by_k, panel, problem_description, run_all, run_description

FIGURE2 = {"problem": {"name": "logsum", "n": 20, "m": 20, "seed": SEED}, "rho": 0.05, "epochs": 200,
           "block": 10, "eta1_times_L": 1.0, "constant_grid": [1.0, 0.1, 0.01], "start_seed": SEED}
MEXICAN_HAT = {"turn": 0, "s0": 1.15, "iters": 60_000, "contour_grid": 161, "valley_turns": 2}


# ----------------------------------------------------------------------------- Figure 2 counterpart
def figure2_deterministic() -> dict:
    """SAM (ρ = 0.05) under Constant, Diminish 1, 2 and 3 (Section 5, Figure 2) on a nonconvex problem.

    Diminish 1: η₁/n; Diminish 2: η₁/n^0.5001; Diminish 3: η₁/(m ln m), m = ⌊n/5⌋ + 2, n the epoch.
    """
    from convcheck.problems import get

    spec = FIGURE2["problem"]
    problem = get(spec["name"], n=spec["n"], m=spec["m"], seed=spec["seed"])
    x_inf = np.asarray(problem.x_star, dtype=np.float64)
    x1 = x_inf + np.random.default_rng(FIGURE2["start_seed"]).standard_normal(problem.dim)
    eta1 = FIGURE2["eta1_times_L"] / float(problem.meta.L)
    block, iters, rho = FIGURE2["block"], FIGURE2["epochs"] * FIGURE2["block"], FIGURE2["rho"]
    grid = [(f"constant_{factor:g}", schedules.constant(eta1 * factor)) for factor in FIGURE2["constant_grid"]]
    diminish = [("diminish1", "Diminish 1", schedules.diminish1(eta1, block)),
                ("diminish2", "Diminish 2", schedules.diminish2(eta1, block)),
                ("diminish3", "Diminish 3", schedules.diminish3(eta1, block))]
    steps = grid + [(key, step) for key, _, step in diminish]
    configs = [dict(problem=problem, method=methods.sam(), x0=x1, iters=iters, step=step, radius=rho, label=key)
               for key, step in steps]
    traces = dict(zip([key for key, _ in steps], run_all(configs)))
    final = {key: float(trace.f[-1]) for key, trace in traces.items()}
    best_key = min((key for key, _ in grid), key=lambda key: final[key] if math.isfinite(final[key]) else math.inf)
    best_factor = FIGURE2["constant_grid"][[key for key, _ in grid].index(best_key)]
    chosen = [("constant", f"Constant ($\\eta_1$/{1 / best_factor:g}, best of grid)" if best_factor != 1
               else "Constant ($\\eta_1$, best of grid)", traces[best_key])]
    chosen += [(key, label, traces[key]) for key, label, _ in diminish]
    loss_curves, step_curves = [], []
    for index, (key, label, trace) in enumerate(chosen):
        epoch = (np.asarray(trace.k, dtype=np.float64) - 1) / block + 1   # fractional epoch of step k
        loss_curves.append(curve(key, label, epoch, trace.f, style=index, **run_description(trace)))
        step_curves.append(curve(key, label, epoch, trace.step_size, style=index))
    summary = {"final_f": final, "constant_choice": best_key,
               "status": {key: trace.status for key, trace in traces.items()},
               "final_grad_norm": {key: float(trace.grad_norm[-1]) for key, trace in traces.items()}}
    if best_factor == 1:
        chosen_text = "η₁ itself"
    else:
        chosen_text = f"η₁/{1 / best_factor:g}"
    caption = ("Deterministic counterpart of the paper's Figure 2. The paper's Figure 2 trains ResNet-18 on "
               "CIFAR-10, CIFAR-100 and Tiny-ImageNet with stochastic SAM; those runs are not reproduced here. "
               "Instead: full-gradient SAM with constant radius "
               f"ρ = {rho:g} on f(x) = Σᵢ log(1 + (Ax − b)ᵢ²), n = m = {spec['n']} (A iid N(0, 1), b = Ax^∞, "
               f"seed {spec['seed']}), x¹ = x^∞ + z with z ~ N(0, I) (seed {FIGURE2['start_seed']}), "
               f"η₁ = 1/L = {eta1:.4g}, one epoch = {block} steps, {FIGURE2['epochs']} epochs. The constant "
               f"stepsize is the best of η₁, η₁/10 and η₁/100 by the final f: here {chosen_text}. All four runs "
               "start from the same x¹ at epoch 1.")
    return {"name": "figure2_deterministic", "title": "Figure 2 (deterministic): SAM under the paper's schedules",
            "caption": caption,
            "choices": ["the paper's CIFAR-10/100 and Tiny-ImageNet training is not reproduced: a deterministic "
                        f"nonconvex least-log problem (logsum, n = m = {spec['n']}) stands in for it",
                        "full gradients instead of mini-batches; one epoch = 10 steps",
                        f"ρ = {rho:g}, η₁ = 1/L, x¹ = x^∞ + z with z ~ N(0, I)",
                        "Constant chosen by the final training loss (there is no test set)",
                        "log–log axes"],
            "parameters": {"problem": problem_description(problem), "x_inf": x_inf.tolist(), "x1": x1.tolist(),
                           "start": "x_inf + z, z ~ N(0, I) from default_rng(start_seed)",
                           "start_seed": FIGURE2["start_seed"], "method": "sam", "rho": rho, "eta1": eta1,
                           "eta1_rule": "1 / L, L = 2 ||A||_2^2 (exact)", "block": block,
                           "epochs": FIGURE2["epochs"], "iters": iters,
                           "schedules": {key: step.spec for key, step in steps},
                           "constant_grid": [eta1 * factor for factor in FIGURE2["constant_grid"]],
                           "constant_rule": "best final f(x^K) over the grid", "seed": SEED},
            "summary": summary, "layout": {"ncols": 2, "nrows": 1, "width": "full", "height": 2.6},
            "panels": [panel("(a) training loss", "epoch (10 steps each)", "$f(x^k)$ ($f^* = 0$)", loss_curves,
                             xscale="log", yscale="log"),
                       panel("(b) stepsize", "epoch (10 steps each)", "$t_k$", step_curves,
                             xscale="log", yscale="log")]}


# ----------------------------------------------------------------------------- Mexican hat
def _polar(xy: np.ndarray) -> tuple:
    radius = np.hypot(xy[:, 0], xy[:, 1])
    angle = np.unwrap(np.arctan2(xy[:, 1], xy[:, 0]))
    return radius, angle


def mexican_hat() -> dict:
    """GD on the Absil–Mahony–Andrews Mexican hat: bounded, descending, and never converging.

    In polar coordinates f = e^{−s}[1 − a(r) sin(θ − s)], s = 1/(1 − r²); GD started on the valley floor
    θ − s = π/2 stays there while s → ∞, so θ = s + π/2 → ∞ and r → 1 (the whole circle is the limit
    set).
    """
    from convcheck.problems import get

    problem = get("mexican_hat")
    start = problem.spiral_start(turn=MEXICAN_HAT["turn"], s0=MEXICAN_HAT["s0"])
    iters = MEXICAN_HAT["iters"]
    (trace,) = run_all([dict(problem=problem, method=methods.gd(), x0=start["x1"], iters=iters,
                             step=start["step"], tail=iters + 1, label="GD")])
    ks, xy = iterates_by_k(trace)
    radius, angle = _polar(xy)
    s_values = 1.0 / (1.0 - radius ** 2)
    phase = angle - s_values          # unwrapped θ − s; the valley floor is π/2 (mod 2π)
    half = len(ks) // 2
    valley_miss = np.abs(np.mod(phase - math.pi / 2 + math.pi, 2 * math.pi) - math.pi)
    summary = {"angle_change_total": float(angle[-1] - angle[0]),
               "angle_change_second_half": float(angle[-1] - angle[half]),
               "radius_first": float(radius[0]), "radius_last": float(radius[-1]),
               "s_first": float(s_values[0]), "s_last": float(s_values[-1]),
               "valley_deviation_max": float(valley_miss.max()),
               "valley_deviation_max_second_half": float(valley_miss[half:].max()),
               "f_first": float(trace.f[0]), "f_last": float(trace.f[-1]), "status": trace.status}
    # the valley floor θ = s + π/2 for s from 1 (the origin) through several turns beyond the run
    s_floor = np.linspace(1.0, start["s"] + 2 * math.pi * MEXICAN_HAT["valley_turns"], 3000)
    r_floor = np.sqrt(1.0 - 1.0 / s_floor)
    valley = np.stack([r_floor * np.cos(s_floor + math.pi / 2), r_floor * np.sin(s_floor + math.pi / 2)], axis=1)
    grid = np.linspace(-1.1, 1.1, MEXICAN_HAT["contour_grid"])
    z = np.asarray(problem.f(np.stack(np.meshgrid(grid, grid), axis=-1)), dtype=np.float64)
    positive = z[z > 0]
    levels = np.geomspace(max(float(positive.min()), 1e-12), float(positive.max()), 18)
    keep = np.unique(np.concatenate([np.round(np.linspace(0, len(ks) - 1, 1500)).astype(np.int64),
                                     np.round(np.geomspace(1, len(ks), 500)).astype(np.int64) - 1]))
    described = run_description(trace)
    caption = ("GD on the Mexican hat of Absil, Mahony and Andrews (2005), f = e^{−s}[1 − a(r) sin(θ − s)], "
               f"s = 1/(1 − r²), from the valley floor θ − s = π/2 at s = {start['s']:g} "
               f"(r = {start['radius']:.4f}) "
               f"with the locally stable constant step t = {start['step']:.4g}, {iters} iterations. The iterates "
               "stay on the spiral valley floor (dashed line) while s grows, so the angle θ = s + π/2 grows without "
               "bound as r → 1: the path winds around the unit circle forever, ever more slowly (about 1/(16 s⁸) "
               "rad per step), and has the whole circle as its limit set. Contour levels are log-spaced; f = 0 "
               "for r ≥ 1 (outside the solid unit circle).")
    return {"name": "mexican_hat", "title": "GD on the Mexican hat: an iterate path that never converges",
            "caption": caption,
            "choices": ["not a figure of the paper: an illustration of a bounded, descending GD sequence without "
                        "a limit (Absil, Mahony and Andrews 2005), for the role of the KL property",
                        f"start on the valley floor at s = {MEXICAN_HAT['s0']:g} (near the origin, where the spiral "
                        f"turns fastest), constant step 0.5/‖∇²f(x¹)‖, {iters} iterations",
                        "log-spaced contour levels; log k axes in (b) and (c)"],
            "parameters": {"problem": problem_description(problem), "start": f"spiral_start(turn=0, s0={MEXICAN_HAT['s0']:g})",
                           "x1": np.asarray(start["x1"]).tolist(), "s1": start["s"], "step": start["step"],
                           "method": "gd", "iters": iters, "seed": SEED, "plotted_iterates": int(len(keep))},
            "summary": summary, "layout": {"ncols": 3, "nrows": 1, "width": "full", "height": 3.0},
            "panels": [
                {"title": "(a) iterate path", "xlabel": "$x_1$", "ylabel": "$x_2$", "xscale": "linear",
                 "yscale": "linear", "curves": [], "legend_loc": "lower left",
                 "path": {"xy": xy[keep], "k": ks[keep], "label": "GD iterates", **described},
                 "guide": {"xy": valley, "label": r"valley floor $\theta - s = \pi/2$"},
                 "circle": {"centre": [0.0, 0.0], "radius": 1.0, "label": "unit circle"},
                 "contour": {"x": grid, "y": grid, "z": z, "levels": levels}},
                panel("(b) winding", "iteration $k$", "change since $k = 1$ (rad)",
                      [curve("angle", r"angle $\theta^k - \theta^1$", ks[keep], (angle - angle[0])[keep]),
                       curve("valley_coordinate", r"$s^k - s^1$, $s = 1/(1 - r^2)$", ks[keep],
                             (s_values - s_values[0])[keep])],
                      xscale="log", yscale="linear", legend_loc="upper left"),
                panel("(c) distance to the circle", "iteration $k$", "$1 - \\|x^k\\|$",
                      [curve("one_minus_r", "$1 - \\|x^k\\|$", ks[keep], (1.0 - radius)[keep])],
                      xscale="log", yscale="log")]}
