"""The five decisions, from a normalized run (see :mod:`.certify` for the method)."""
from __future__ import annotations

import copy

import numpy as np

from .accumulation import (boundedness, convergence, detect_cycle, farthest_point_sample,
                           gradient_change_bound, gradient_floor, _grad)
from .rates import EPS, LimitTest, fit_rate, geometric_windows, liminf_test, limit_test, longer_run, window_stat
from .verdict import Certificate, InconsistentVerdicts, Verdict, enforce_implications

def trailing_max(k: np.ndarray, values: np.ndarray, k_last: float, min_values: int = 16):
    """The smallest of the maxima of ``values`` over the trailing segments k > K(1 − 2^−j), j = 2 … 8
    (the newest quarter down to the last 1/256 of the run) that hold at least ``min_values`` finite
    values: a level that the run has left by its end shows here, however late it left; None when no
    segment is long enough."""
    ok = np.isfinite(values)
    best = None
    for j in range(2, 9):
        seg = values[ok & (k > k_last * (1.0 - 2.0 ** -j))]
        if seg.size < min_values:
            break
        best = float(seg.max()) if best is None else min(best, float(seg.max()))
    return best


def _longer(k_last) -> str:
    """The advice of an undecided verdict in iterations: a run 16 times as long (4 more windows)."""
    return longer_run(k_last, 16.0)


def decide(run: dict, problem, opts: dict) -> Certificate:
    """Build the certificate of a run normalized by :func:`.certify.certify`."""
    it = run["iterates"]
    k, f, g, step = run["k"], run["f"], run["g"], run["step"]
    n = it.x.shape[1]
    k_last = int(max(k[-1], it.k[-1]))
    x_last = it.x[-1]
    kf = k.astype(float)

    finite_g = g[np.isfinite(g)]
    grad_scale = float(finite_g.max()) if finite_g.size else 0.0
    x_scale = float(np.max(np.linalg.norm(it.x - it.x[0], axis=-1)))
    x_scale = x_scale if x_scale > 0 else max(float(np.linalg.norm(x_last)), 1.0)
    finite_f = f[np.isfinite(f)]
    f_spread = float(np.ptp(finite_f)) if finite_f.size else 0.0
    tail_f = finite_f[-max(len(finite_f) // 2, 1):] if finite_f.size else np.zeros(1)
    floor_x = opts["round_off_factor"] * EPS * np.sqrt(n) * (float(np.linalg.norm(x_last)) + x_scale)
    # f is resolved to ε·|f|, and moving x by its own resolution changes f by about ‖∇f‖·X·ε.
    floor_f = opts["round_off_factor"] * EPS * (float(np.max(np.abs(tail_f))) + f_spread + grad_scale * x_scale)

    windows = geometric_windows(k_last, float(min(k[0], it.k[0])), int(opts["max_windows"]))
    evidence = {"run": {"source": run["source"], "status": run["status"], "status_k": run["status_k"],
                        "k_last": k_last, "dim": n, "scalar_records": int(len(k)),
                        "record_every": run["record_every"], "kept_iterates": int(len(it.k)),
                        "tail_window": [int(it.k[it.tail_start]), int(it.k[-1])] if it.tail_start < len(it.k) else None},
                "scales": {"grad_max": grad_scale, "x_extent": x_scale, "f_spread": f_spread,
                           "floor_x": floor_x, "floor_f": floor_f},
                "windows": [[lo, hi] for lo, hi in windows]}

    if run["status"] == "stationary":
        return _finite_termination(run, problem, evidence, opts, grad_scale, x_scale)
    if k_last < opts["min_iterates"]:
        return _too_short(k_last, evidence, opts)

    bounded = boundedness(it, windows, opts)
    if run["status"] == "diverged" and bounded["status"] not in ("escaping", "unbounded"):
        bounded = {**bounded, "status": "unbounded",
                   "note": f"the run diverged at k = {run['status_k']} (non-finite values or iterates beyond the bound)"}
    cycle = detect_cycle(it.tail, floor_x, opts, consecutive=it.consecutive)
    conv = convergence(it, k, step, run["record_every"], windows, floor_x, bounded, cycle, opts)

    motion = _motion(run, problem, it, windows, floor_x, opts)
    evidence["motion"] = motion
    if conv.status == "does not converge" and not conv.cycle and bounded["status"] not in ("escaping", "unbounded") \
            and run["status"] != "diverged" and not motion["enough"]:
        conv = type(conv)("unknown", f"convergence of the iterates undecided: {conv.note}, but {motion['note']}",
                          evidence=conv.evidence)

    # ------------------------------------------------ accumulation-point candidates
    if conv.status == "converges":
        kind, points, radius = "limit", x_last[None, :], conv.radius
    elif conv.cycle:
        kind, points, radius = "cycle", cycle["points"], max(cycle["return_gap"], floor_x)
    elif bounded["status"] == "escaping":
        kind, points, radius = "none", np.zeros((0, n)), None
    else:
        recent = it.tail[-max(len(it.tail) // 2, 1):]
        kind, points, radius = "tail sample", recent[farthest_point_sample(recent, int(opts["candidates"]))], None
    probe = np.vstack([points, x_last[None, :]])
    probe_grad = _grad(problem, probe)
    probe_gnorm = np.linalg.norm(probe_grad, axis=-1)
    probe_floor = gradient_floor(problem, probe, x_scale, opts)
    floor_g = float(np.max(probe_floor))
    cand_g, cand_floor = probe_gnorm[:-1], probe_floor[:-1]
    L = _stated_L(problem)
    if radius is not None and len(points):
        # with a stated Lipschitz constant L of ∇f the change within the radius is at most L·radius, so
        # ‖∇f(x̄)‖ ≥ ‖∇f(c)‖ − L‖c − x̄‖ is a bound; otherwise a probed estimate
        change = np.full(len(points), L * radius) if L is not None else \
            gradient_change_bound(problem, points, probe_grad[:-1], radius)
    else:
        change = np.zeros(len(points))
    evidence["scales"]["floor_grad"] = floor_g
    candidates = {"kind": kind, "count": int(len(points)), "radius": radius,
                  "grad_norm": cand_g.tolist(), "grad_floor": cand_floor.tolist(),
                  "grad_change_within_radius": change.tolist(), "lipschitz_bound_used": L is not None}
    if len(points) and n <= 10:
        candidates["points"] = points.tolist()
    evidence.update(boundedness=bounded, cycle=_cycle_evidence(cycle), convergence=conv.evidence,
                    candidates=candidates)

    # ------------------------------------------------ gradient trends
    quarter = kf > 0.75 * k_last
    g_recent = g[quarter & np.isfinite(g)]
    spread = float(g_recent.max() / g_recent.min()) if g_recent.size >= 8 and g_recent.min() > 0 else None
    g_end = g[(kf > 0.875 * k_last) & np.isfinite(g)]
    gmax, pos = window_stat(kf, g, windows, np.max)
    gmin, _ = window_stat(kf, g, windows, np.min)
    order = int(opts["order_statistic"])
    glow, _ = window_stat(kf, g, windows, lambda v: np.partition(v, order - 1)[order - 1] if v.size >= 2 * order
                          else np.nan)
    above = bool(probe_gnorm[-1] > opts["significance"] * probe_floor[-1])
    trend_max = limit_test(pos, gmax, floor_g, opts, quadrature=True, quarter_spread=spread, what="max ‖∇f‖ per window",
                           recent=float(g_recent.max()) if g_recent.size >= 8 else None, end_above_floor=above,
                           end=float(g_end.max()) if g_end.size else None, late=trailing_max(kf, g, k_last))
    # "holds" is read from the order-th smallest value per window (one or two small values decide
    # nothing), "fails" from the plain minimum (a level the minimum keeps is a level of every point)
    low_recent = float(np.partition(g_recent, order - 1)[order - 1]) if g_recent.size >= max(8, 2 * order) else None
    trend_low = liminf_test(pos, glow, floor_g, opts, quadrature=True, quarter_spread=spread, what=f"the {_ordinal(order)}-smallest ‖∇f‖ per window",
                            end_above_floor=above, recent=low_recent)
    if trend_low.status != "zero":
        # the window median tends to zero ⇒ so does the lower envelope (half the points lie below it);
        # the median is the smooth statistic where single values are noisy (random directions)
        gmed, _ = window_stat(kf, g, windows, np.median)
        med_recent = float(np.median(g_recent)) if g_recent.size >= 8 else None
        trend_med = liminf_test(pos, gmed, floor_g, opts, quadrature=True, quarter_spread=spread, what="the median ‖∇f‖ per window",
                                end_above_floor=above, recent=med_recent)
        if trend_med.status == "zero":
            trend_low = trend_med
    trend_raw = liminf_test(pos, gmin, floor_g, opts, quadrature=True, quarter_spread=spread, what="min ‖∇f‖ per window",
                            recent=float(g_recent.min()) if g_recent.size >= 8 else None, end_above_floor=above,
                            end=float(g_end.min()) if g_end.size else None)
    # a level of ‖∇f‖ belongs to a limit set only when the iterates settle (radii vanish or level off)
    # or cycle; while the Cauchy radius per window keeps changing the run is in transit
    settled = conv.cycle or conv.evidence["cauchy_radius_test"]["status"] in ("zero", "positive") \
        or conv.status == "converges" or motion.get("L") is None   # (plain arrays: no method, no transit rule)
    # iterates that provably settle at one point (Cauchy) make a level of ‖∇f‖ the gradient at that point,
    # however little the method moved
    motion = dict(motion, enough=(motion["enough"] and settled) or conv.status == "converges",
                  note=motion["note"] if not motion["enough"] else
                  "the iterates have not settled (the Cauchy radius per window neither vanishes nor levels off): "
                  "a level of ‖∇f‖ during a transit is not a limit; a longer run would decide")
    trend_max, trend_raw, trend_low = (_needs_motion(t, motion, bounded, run) for t in (trend_max, trend_raw, trend_low))
    if trend_low.status == "zero" or trend_raw.status == "positive":
        trend_min = trend_low if trend_low.status == "zero" else trend_raw
    elif trend_low.status == "unknown":
        trend_min = trend_low
    else:   # the two statistics disagree (a few small values below a level): neither decides
        trend_min = LimitTest("unknown", f"{trend_low.note}, but {trend_raw.note}; " + _longer(k_last), last=trend_raw.last, floor=floor_g)
    is_bounded = bounded["status"] == "bounded" or conv.status == "converges" or conv.cycle
    grad_rate = fit_rate(kf, g, floor_g)

    verdicts = {}
    verdicts["P1"] = _from_trend(trend_min, "liminf ‖∇f(x^k)‖ = 0", "the gradient norm's lower envelope",
                                 rate=_trend_rate(trend_min, "window minima of ‖∇f‖"))
    verdicts["P3"] = _from_trend(trend_max, "lim ‖∇f(x^k)‖ = 0", "the gradient norm", rate=grad_rate)

    # ------------------------------------------------ P2
    stationary = (cand_g + change <= cand_floor)
    nonstationary = (cand_g - change > opts["significance"] * cand_floor)
    if kind == "limit" and trend_raw.status != "positive":
        # x^k → x̄ with ∇f(x̄) ≠ 0 means ‖∇f(x^k)‖ levels off at ‖∇f(x̄)‖ > 0: without that level in the
        # run's own gradient sequence (a positive floor accepted over all windows), the candidate's
        # gradient is a stage of the approach, not the limit's
        nonstationary = np.zeros_like(nonstationary)
    p2_ev = {"candidates": candidates, "bounded": bounded["status"], "gradient_trend": trend_max.to_dict()}
    if kind == "none" and (trend_max.status == "zero" or run["status"] == "diverged" or bounded.get("steady")):
        p2 = Verdict("holds", "no accumulation point: " + bounded["note"] + "; so P2 holds vacuously "
                     "(escape is inferred from the trend, a finite run cannot prove it)", p2_ev)
    elif kind == "none":
        # growth of ‖x^k − x¹‖ alone is also the start of a long trip to a far (possibly non-stationary)
        # limit; with a gradient that is not seen to vanish, no accumulation point is not established
        p2 = Verdict("inconclusive", "no accumulation point is inferred from the growth of ‖x^k − x¹‖ ("
                     + bounded["note"] + "), but the gradient is not seen to vanish, and a long approach to a "
                     "far limit looks the same; " + _longer(k_last), p2_ev)
    elif kind in ("limit", "cycle") and np.all(stationary | (trend_max.status == "zero")):
        p2 = Verdict("holds", f"every accumulation point ({_kind_text(kind, len(points))}) is stationary: "
                     + (f"‖∇f‖ ≤ {np.max(cand_g):.3g} at the candidates, within their round-off floor"
                        if np.all(stationary) else trend_max.note), p2_ev, rate=grad_rate)
    elif kind in ("limit", "cycle") and np.any(nonstationary) and trend_max.status != "zero":
        worst = int(np.argmax(cand_g - change))
        p2 = Verdict("fails", f"a non-stationary accumulation point ({_kind_text(kind, len(points))}): "
                     f"‖∇f‖ = {cand_g[worst]:.3g} there, {_times(cand_g[worst], cand_floor[worst])} its floor, "
                     "more than the gradient can change within the estimate's radius", p2_ev)
    elif kind == "tail sample" and (np.all(cand_g <= cand_floor) or (trend_max.status == "zero" and is_bounded)):
        p2 = Verdict("holds", "the tail samples standing for the accumulation set all have vanishing "
                     f"gradient ({trend_max.note}) and the run is bounded", p2_ev, rate=grad_rate)
    elif kind == "tail sample" and trend_max.status == "positive" and is_bounded:
        p2 = Verdict("fails", f"the run is bounded and limsup ‖∇f‖ > 0 ({trend_max.note}); the tail sample "
                     f"reaches ‖∇f‖ = {np.max(cand_g):.3g}, so some accumulation point is not stationary", p2_ev)
    else:
        p2 = Verdict("inconclusive", "stationarity of the accumulation points is undecided "
                     f"({_kind_text(kind, len(points))}, {bounded['status']} run; {trend_max.note})", p2_ev)
        if "longer run" not in p2.reason:
            p2.reason += "; " + _longer(k_last)
    verdicts["P2"] = p2

    # ------------------------------------------------ P4
    fosc, fpos = window_stat(kf, f, windows, np.ptp)
    f_recent = f[quarter & np.isfinite(f)]
    f_end = f[(kf > 0.875 * k_last) & np.isfinite(f)]
    f_test = limit_test(fpos, fosc, floor_f, opts, summable=True, what="the oscillation of f per window",
                        recent=float(np.ptp(f_recent)) if f_recent.size >= 8 else None,
                        end=float(np.ptp(f_end)) if f_end.size else None)
    f_test = _needs_motion(f_test, motion, bounded, run)
    f_limit = float(f[np.isfinite(f)][-1]) if np.isfinite(f).any() else float("nan")
    p4_ev = {"f_test": f_test.to_dict(), "f_limit_estimate": f_limit, "candidates_kind": kind}
    # compactness: on a bounded run with liminf ‖∇f‖ = 0, a subsequence with ∇f → 0 has a limit point,
    # stationary by continuity of ∇f; so a stationary accumulation point exists
    compact_stationary = is_bounded and verdicts["P1"].status == "holds"
    has_stationary = p2.status == "holds" and kind != "none" or bool(np.any(stationary)) or compact_stationary
    if kind in ("limit", "cycle") and len(points):
        p4_ev["f_at_candidates"] = _host(problem.f(problem.xp.asarray(points))).tolist()
    no_stationary = (kind in ("limit", "cycle") and bool(np.all(nonstationary)) and trend_max.status != "zero"
                     and verdicts["P1"].status != "holds" and trend_min.status != "zero") \
        or (verdicts["P1"].status == "fails" and is_bounded)
    if run["status"] == "diverged":
        p4 = Verdict("fails", f"the run diverged at k = {run['status_k']}: f(x^k) has no limit at an "
                     "accumulation point", p4_ev)
    elif kind == "none":
        p4 = Verdict("fails", "there is no accumulation point (" + bounded["note"] + "), so f(x^k) cannot "
                     "converge to f at a stationary accumulation point", p4_ev)
    elif f_test.status == "positive":
        p4 = Verdict("fails", f"f(x^k) does not converge: {f_test.note}", p4_ev)
    elif no_stationary:
        p4 = Verdict("fails", "no accumulation point is stationary "
                     f"({_kind_text(kind, len(points))}), so f(x^k) cannot tend to a stationary value", p4_ev)
    elif f_test.status == "zero" and has_stationary:
        rate = fit_rate(kf, np.abs(f - f_limit), floor_f, k_max=k_last / 8)
        why = ("the value at a stationary accumulation point" if not compact_stationary or np.any(stationary)
               or p2.status == "holds" else "the value at every accumulation point, one of which is stationary "
               "(the run is bounded and liminf ‖∇f‖ = 0)")
        p4 = Verdict("holds", f"f(x^k) converges ({f_test.note}) to {f_limit:.6g}, {why}", p4_ev, rate=rate)
    else:
        p4 = Verdict("inconclusive", f"undecided whether f(x^k) tends to a stationary value ({f_test.note}; "
                     f"P2 {p2.status})", p4_ev)
        if "longer run" not in p4.reason:
            p4.reason += "; " + _longer(k_last)
    verdicts["P4"] = p4

    # ------------------------------------------------ P5
    p5_ev = {"convergence": conv.status, "radius": conv.radius, "limit_grad_norm": float(probe_gnorm[-1])}
    if run["status"] == "diverged":
        p5 = Verdict("fails", f"the run diverged at k = {run['status_k']}, so the iterates do not converge", p5_ev)
    elif conv.status == "does not converge":
        p5 = Verdict("fails", conv.note, p5_ev)
    elif conv.status == "converges" and p2.status == "holds":
        dist = np.linalg.norm(it.x - x_last, axis=-1)
        p5 = Verdict("holds", f"{conv.note}, and the limit is stationary (‖∇f‖ = {cand_g[0]:.3g} at x^K)",
                     p5_ev, rate=fit_rate(it.k.astype(float), dist, floor_x, k_max=k_last / 8))
    elif conv.status == "converges" and p2.status == "fails":
        p5 = Verdict("fails", f"{conv.note}, but the limit is not stationary (‖∇f‖ = {cand_g[0]:.3g})", p5_ev)
    else:
        p5 = Verdict("inconclusive", conv.note if conv.status == "unknown" else
                     f"{conv.note}; stationarity of the limit undecided", p5_ev)
        if "longer run" not in p5.reason:
            p5.reason += "; " + _longer(k_last)
    verdicts["P5"] = p5
    verdicts = {key: verdicts[key] for key in ("P1", "P2", "P3", "P4", "P5")}
    return _finish(verdicts, evidence, opts, is_bounded)


def _from_trend(test, statement: str, what: str, rate) -> Verdict:
    ev = {"trend": test.to_dict()}
    if test.status == "zero":
        return Verdict("holds", f"{statement}: {test.note}", ev, rate=rate)
    if test.status == "positive":
        return Verdict("fails", f"{statement} fails: {test.note}", ev)
    return Verdict("inconclusive", f"{what} is undecided: {test.note}", ev)


def _trend_rate(test, of: str):
    """The rate the trend test's reason states (the same fit): power k^β over the tail windows, or
    faster than any power; None when the test did not find the quantity tending to zero by a fit
    (at the round-off floor, or not decided)."""
    if test.status != "zero" or not np.isfinite(test.exponent) or "round-off floor" in test.note:
        return None
    if "faster than any power" in test.note:
        return {"model": "faster than any power", "exponent": float(-test.local_exponent), "r2": float(test.r2),
                "of": of}
    return {"model": "power", "exponent": float(-test.exponent), "r2": float(test.r2), "of": of}


def _motion(run, problem, it, windows, floor_x, opts) -> dict:
    """How far the method could have moved ‖∇f‖ over the deciding windows: L·Σ t_k (t_k the recorded
    step sizes, L the stated Lipschitz constant of ∇f or, without one, the largest ‖Δ∇f‖/‖Δx‖ between
    consecutive tail iterates). A level of ‖∇f‖ read off a run with L·Σ t_k small is the slowness of
    the method, not a property of the sequence. Plain arrays carry no t_k: nothing is required of them."""
    t = run.get("t")
    if t is None or not np.isfinite(t).any():
        return {"enough": True, "note": "no step sizes recorded"}
    lo = windows[max(len(windows) - int(opts["tail_windows"]), 0)][0]
    sel = (run["k"] > lo) & np.isfinite(t)
    total = float(np.sum(np.abs(t[sel]))) * run["record_every"]
    L, how = _stated_L(problem), "stated"
    if L is None:
        tail = it.tail[-257:] if it.consecutive else it.tail[:0]
        L, how = 0.0, "estimated on the tail"
        if len(tail) >= 2:
            dx = np.linalg.norm(np.diff(tail, axis=0), axis=-1)
            dg = np.linalg.norm(np.diff(_grad(problem, tail), axis=0), axis=-1)
            ok = dx > 10 * floor_x
            L = float(np.max(dg[ok] / dx[ok])) if ok.any() else 0.0
    budget = L * total
    enough = bool(budget >= opts["motion_min"]) if L > 0 else True
    note = (f"L·Σt_k = {budget:.3g} over the deciding windows (L = {L:.3g}, {how}) is below {opts['motion_min']:g}: "
            "the method moved too little to tell a level of ‖∇f‖ from a slow approach; a longer run would decide")
    return {"enough": enough, "L": L, "L_from": how, "sum_t": total, "budget": budget, "note": note}


def _needs_motion(test, motion, bounded, run):
    """A level ("levelled off") needs enough motion, and a growth of ‖∇f‖ or of f's oscillation is a
    transit unless the iterates themselves escape or the run diverged."""
    if test.status != "positive":
        return test
    escaping = bounded["status"] in ("escaping", "unbounded") or run["status"] == "diverged"
    if "levelled off" in test.note and not motion["enough"]:
        reason = motion["note"]
    elif " grows" in test.note and not escaping:
        reason = ("it grows on a run whose iterates are not seen to escape: a transit between regions, not a "
                  "limit; " + _longer(float(np.max(run["k"]))))
    else:
        return test
    out = copy.copy(test)
    out.status, out.note = "unknown", f"{test.note}; but {reason}"
    return out


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _stated_L(problem):
    """The problem's stated Lipschitz constant of ∇f (``meta.L``), or None."""
    meta = getattr(problem, "meta", None)
    L = getattr(meta, "L", None)
    try:
        L = float(L)
    except (TypeError, ValueError):
        return None
    return L if np.isfinite(L) and L > 0 else None


def _times(value: float, floor: float) -> str:
    """"N×" for value/floor, or "above" where the floor is exactly 0 (an exactly flat gradient)."""
    return f"{value / floor:.3g}×" if floor > 0 else "above"


def _kind_text(kind: str, count: int) -> str:
    return {"limit": "the limit of the iterates", "cycle": f"a cycle of period {count}",
            "tail sample": f"{count} tail samples of the accumulation set",
            "none": "no accumulation point"}[kind]


def _cycle_evidence(cycle):
    if cycle is None:
        return None
    return {k: v for k, v in cycle.items() if k != "points"}


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a, dtype=float)


def _finite_termination(run, problem, evidence, opts, grad_scale, x_scale) -> Certificate:
    x_last = run["iterates"].x[-1][None, :]
    g_last = float(np.linalg.norm(_grad(problem, x_last)))
    ev = {"status_k": run["status_k"], "grad_norm_at_last": g_last}
    reason = (f"finite termination: the run stopped at k = {run['status_k']} on an exact stationary point "
              f"(‖∇f‖ = {g_last:.3g}), so the sequence is eventually constant and P1–P5 hold trivially")
    verdicts = {key: Verdict("holds", reason, dict(ev)) for key in ("P1", "P2", "P3", "P4", "P5")}
    return _finish(verdicts, evidence, opts, True)


def _too_short(k_last, evidence, opts) -> Certificate:
    """Below ``min_iterates`` the geometric windows are one or two points wide: nothing is decided."""
    reason = (f"only {k_last} iterates, too few for tail windows; a longer run (at least "
              f"{opts['min_iterates']} iterates) would decide")
    verdicts = {key: Verdict("inconclusive", reason, {"k_last": k_last}) for key in ("P1", "P2", "P3", "P4", "P5")}
    return _finish(verdicts, evidence, opts, False)


def _finish(verdicts, evidence, opts, bounded) -> Certificate:
    """Propagate the implications; a contradiction (A holds, B fails, A ⇒ B) downgrades both direct
    verdicts to inconclusive with the reason, and is counted in ``consistency["downgraded"]``."""
    direct = {key: copy.deepcopy(v) for key, v in verdicts.items()}
    return finish(direct, evidence, opts, bounded)


def finish(direct: dict, evidence, opts, bounded, downgraded=None) -> Certificate:
    """The certificate from the direct verdicts (see :func:`_finish`); ``direct`` is kept unchanged."""
    downgraded = list(downgraded or [])
    current = {key: copy.deepcopy(v) for key, v in direct.items()}
    while True:
        verdicts = {key: copy.deepcopy(v) for key, v in current.items()}
        consistency = enforce_implications(verdicts, bounded)
        if consistency["ok"] or opts["on_inconsistency"] != "downgrade":
            break
        for violation in consistency["violations"]:
            a, b = violation.split(" holds but ")[0], violation.split(" fails")[0].split()[-1]
            for key in (a, b):
                if current[key].status != "inconclusive":
                    current[key] = Verdict("inconclusive", f"contradictory evidence ({violation}; the direct "
                                           f"check said: {current[key].reason}); "
                                           + _longer(evidence.get("run", {}).get("k_last", 1)), current[key].evidence)
            downgraded.append(violation)
    if not consistency["ok"] and opts["on_inconsistency"] == "raise":
        raise InconsistentVerdicts("certificate violates " + "; ".join(consistency["violations"])
                                   + " (a bug in convcheck.properties)")
    consistency["downgraded"] = downgraded
    cert = Certificate(verdicts, evidence, consistency, dict(opts))
    cert.direct, cert.bounded = direct, bounded
    return cert
