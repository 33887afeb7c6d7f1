"""The iterates' tail: boundedness or escape, convergence (Cauchy), cycles, accumulation-point candidates.

Inputs are the iterates the run kept: log-spaced checkpoints and a contiguous tail window of the last
W iterates (or the same layout cut from a plain (K, n) array). All distances are measured in the run's
own length scale, so nothing depends on where x lives or in which units.

- Escape / boundedness: d_k = ‖x^k − x^{k₀}‖ from the first kept iterate. The run *escapes* (every
  subsequence leaves every ball) when 1/min_{W_j} d tends to zero on geometric windows
  (:func:`~convcheck.properties.rates.limit_test`); it is *unbounded* when 1/max_{W_j} d does; it is
  *bounded* when the running maximum of d has levelled off (1/max d flat, or a rise of at most 10%
  over the newest three windows that either skipped a window or slowed down by half). A finite run cannot prove escape: these are the window
  trends, recorded as evidence.
- Convergence (Cauchy): two independent tests, either suffices.
  (a) remaining path length: the per-window path length Σ_{k∈W_j}‖x^{k+1} − x^k‖ decays summably, so
      Σ_{k>K}‖x^{k+1} − x^k‖ is finite (the estimate is the geometric tail of the window sums);
  (b) Cauchy radii: the radius R_j = max ‖x − y_j‖ over the kept iterates x of window j and the last
      kept iterate of the window before (y_j the last kept iterate of window j) decays summably; the
      newest window includes the whole contiguous tail, so a cycle whose checkpoints happen to share
      a phase still shows its full diameter there.
  The sequence does *not* converge when it escapes, when the tail is a cycle of period p ≥ 2 whose
  steps do not vanish, or when R_j has levelled off at a positive value (or grows).
- Cycles: the smallest p ≥ 2 with max_k ‖x^{k+p} − x^k‖ ≤ ``period_tol``·diam(tail) over the newest
  tail iterates, while consecutive iterates stay far apart (no slow drift) -> p candidate points.
- Continua and everything else: a farthest-point sample of the newest tail iterates stands for the
  accumulation set (each tail point lies near it), and stationarity is judged from the exact
  gradient at every sample together with the gradient trend.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .rates import EPS, limit_test, window_stat


@dataclass
class Iterates:
    """The kept iterates: ``k`` sorted (m,), ``x`` (m, n); ``x[tail_start:]`` consecutive."""

    k: np.ndarray
    x: np.ndarray
    tail_start: int
    consecutive: bool = True          # False for a prefix of a trace: its "tail" is sparse checkpoints

    @property
    def tail(self) -> np.ndarray:
        return self.x[self.tail_start:]


def boundedness(it: Iterates, windows, options: dict) -> dict:
    """Escape / unbounded / bounded from the window trends of the distance to the first kept iterate."""
    dist = np.linalg.norm(it.x - it.x[0], axis=-1)
    scale = float(np.max(dist)) if dist.size else 0.0
    if scale == 0.0:
        return {"status": "bounded", "note": "the kept iterates do not move", "max_distance": 0.0}
    tiny = scale * 1e-300 + 1e-300
    d_min, pos = window_stat(it.k.astype(float), dist, windows, np.min)
    d_max, _ = window_stat(it.k.astype(float), dist, windows, np.max)
    # Cumulative maximum over the decisive windows: bounded runs level off even while circling.
    first = max(len(d_max) - int(options["tail_windows"]), 0)
    d_max = np.concatenate([d_max[:first], np.fmax.accumulate(d_max[first:])]) if d_max.size else d_max
    inv_min = limit_test(pos, 1.0 / np.maximum(d_min, tiny), 0.0, options, what="1/min‖x − x¹‖")
    inv_max = limit_test(pos, 1.0 / np.maximum(d_max, tiny), 0.0, options, what="1/max‖x − x¹‖")
    valid = d_min[np.isfinite(d_min)][-int(options["tail_windows"]):]
    growing = valid.size >= 3 and bool(np.all(np.diff(valid) > 0))
    # Growth alone is weak evidence: a bounded orbit (a slow spiral toward a circle) also moves away
    # from x¹ on every window for a long while. Escape needs the distance to grow by a clear factor.
    grows_a_lot = valid.size >= 3 and valid[-1] >= options["escape_growth"] * valid[0]
    max_valid = d_max[np.isfinite(d_max)][-int(options["tail_windows"]):]
    max_grows_a_lot = max_valid.size >= 3 and max_valid[-1] >= options["escape_growth"] * max_valid[0]
    ratios = valid[1:] / np.maximum(valid[:-1], tiny) if valid.size >= 3 else np.zeros(0)
    # steady: the newest window grew at least 0.9× as fast as any earlier one (x = k, exponential
    # growth); a decelerating growth is also how a long approach to a far limit looks
    steady = bool(ratios.size >= 2 and ratios[-1] >= 0.9 * np.max(ratios[:-1]))
    if inv_min.status == "zero" and growing and grows_a_lot:
        status = "escaping"
        note = (f"‖x^k − x¹‖ grows without levelling off on every geometric window (minimum over the newest "
                f"window {valid[-1]:.3g}, {valid[-1] / valid[0]:.3g}× that {len(valid) - 1} windows earlier)")
    elif inv_max.status == "zero" and max_grows_a_lot:
        status, note = "unbounded", "max‖x^k − x¹‖ over the windows grows without levelling off"
    elif inv_max.status == "positive" or _levelled(d_max[-3:]):
        status, note = "bounded", f"max ‖x^k − x¹‖ has levelled off (at most {np.nanmax(d_max):.3g})"
    else:
        status, note = "unknown", inv_max.note
    return {"status": status, "note": note, "max_distance": scale, "steady": steady and status == "escaping",
            "window_min_distance": d_min.tolist(), "window_max_distance": d_max.tolist(),
            "escape_test": inv_min.to_dict(), "unbounded_test": inv_max.to_dict()}


def _levelled(running_max: np.ndarray) -> bool:
    """A running maximum that rose by at most 10% over the newest windows, either not in every one of
    them or with rises that at least halved (steady growth, even as slow as log k, is not levelling off)."""
    vals = running_max[np.isfinite(running_max)]
    if vals.size < 3 or vals[0] <= 0:
        return False
    rises = np.diff(vals)
    return bool(vals[-1] <= 1.1 * vals[0] and (not np.all(rises > 0) or rises[-1] <= 0.5 * rises[0]))


def detect_cycle(tail: np.ndarray, floor_x: float, options: dict, consecutive: bool = True) -> Optional[dict]:
    """Smallest period p ≥ 2 of the newest tail iterates, or None (see the module docstring)."""
    recent = tail[-int(options["period_points"]):]
    m = len(recent)
    if not consecutive:
        return None
    if m < 6:
        return None
    diameter = 2.0 * float(np.max(np.linalg.norm(recent - recent.mean(axis=0), axis=-1)))
    if diameter <= floor_x:
        return None
    step1 = float(np.max(np.linalg.norm(recent[1:] - recent[:-1], axis=-1)))
    if step1 < 0.1 * diameter:          # slow drift, not a cycle
        return None
    for p in range(2, min(int(options["max_period"]), m // 3) + 1):
        gap = float(np.max(np.linalg.norm(recent[p:] - recent[:-p], axis=-1)))
        if gap <= options["period_tol"] * diameter:
            phases = recent[-p:]
            pair = np.linalg.norm(phases[:, None, :] - phases[None, :, :], axis=-1)
            separation = float(np.min(pair[~np.eye(p, dtype=bool)]))
            if separation <= 10.0 * max(gap, floor_x):
                return None
            return {"period": p, "points": phases, "return_gap": gap, "separation": separation,
                    "tail_diameter": diameter}
    return None


@dataclass
class Convergence:
    status: str                      # "converges" | "does not converge" | "unknown"
    note: str
    radius: float = float("inf")     # estimated distance from the last iterate to the limit
    evidence: dict = field(default_factory=dict)
    cycle: bool = False              # the tail cycle was accepted (steps do not vanish)


def convergence(it: Iterates, k_scalar: np.ndarray, step: np.ndarray, record_every: int, windows,
                floor_x: float, bounded: dict, cycle: Optional[dict], options: dict) -> Convergence:
    """Cauchy / finite-length test of the iterates (module docstring, tests (a) and (b)).

    The Cauchy radius of window j is the largest distance from its last kept iterate y_j to the other
    kept iterates of the window and to y_{j+1} (the window's start); it bounds how far the sequence
    moves across the window, and their sum over future windows bounds the distance to the limit.
    A cycle found in the tail is kept only while the median step per window levels off at a positive
    value (a dying oscillation such as (−1)^k k^−0.2 converges, however slowly).
    """
    kf = k_scalar.astype(float)
    k_last = float(max(kf[-1], it.k[-1]))
    quarter = kf > 0.75 * k_last
    path, pos = window_stat(kf, step, windows, np.sum)
    path = path * record_every
    recent_path = 2.0 * record_every * float(np.nansum(step[quarter])) if np.count_nonzero(quarter) >= 8 else None
    eighth = kf > 0.875 * k_last
    end_path = 2.0 * record_every * float(np.nansum(step[eighth])) if eighth.any() else None
    path_test = limit_test(pos, path, floor_x, options, summable=True, what="the path length per window",
                           recent=recent_path, end=end_path)
    step_max, _ = window_stat(kf, step, windows, np.max)
    # a cycle keeps its step size: the median step per window must level off at a positive value
    step_mid, _ = window_stat(kf, step, windows, np.median)
    recent_mid = float(np.nanmedian(step[quarter])) if np.count_nonzero(np.isfinite(step[quarter])) >= 8 else None
    step_test = limit_test(pos, step_mid, floor_x, options, what="the median step per window", recent=recent_mid)

    # Cauchy radii from the kept iterates; every recorded step bounds them from below (a step of
    # length s inside the window moves the sequence by s, so the window's radius is at least s/2)
    radii, radii_k, previous = [], [], None
    for (lo, hi), smax in zip(windows, step_max):
        a, b = np.searchsorted(it.k, lo, side="right"), np.searchsorted(it.k, hi, side="right")
        if b > a:
            pts = it.x[a:b] if previous is None else np.vstack([previous[None, :], it.x[a:b]])
            r = float(np.max(np.linalg.norm(pts - it.x[b - 1], axis=-1)))
            radii.append(max(r, 0.5 * smax) if np.isfinite(smax) else r)
            radii_k.append(float(it.k[b - 1]))
            previous = it.x[b - 1]
    radii = np.asarray(radii)
    late = it.k > 0.75 * k_last
    recent_radius = float(np.max(np.linalg.norm(it.x[late] - it.x[-1], axis=-1))) if np.count_nonzero(late) >= 8 \
        else None
    if recent_radius is not None and quarter.any() and np.isfinite(step[quarter]).any():
        recent_radius = max(recent_radius, 0.5 * float(np.nanmax(step[quarter])))
    last8 = it.k > 0.875 * k_last
    end_radius = 2.0 * float(np.max(np.linalg.norm(it.x[last8] - it.x[-1], axis=-1))) if np.count_nonzero(last8) > 1 \
        else None
    radius_test = limit_test(np.asarray(radii_k), radii, floor_x, options, summable=True,
                             what="the Cauchy radius per window", recent=recent_radius, end=end_radius)
    cycle_valid = cycle is not None and step_test.status == "positive"
    evidence = {"path_length_test": path_test.to_dict(), "cauchy_radius_test": radius_test.to_dict(),
                "cauchy_radii": radii.tolist(), "median_step_test": step_test.to_dict(),
                "cycle_accepted": bool(cycle_valid), "floor_x": floor_x}

    remaining = [t.remaining for t in (path_test, radius_test) if t.status == "zero"]
    if remaining:
        radius = max(min(remaining), floor_x)
        which = "remaining path length" if path_test.status == "zero" else "Cauchy radii"
        note = (f"the iterates are Cauchy in the tail ({which} summable; "
                f"estimated distance to the limit {radius:.3g})")
        return Convergence("converges", note, radius, evidence, False)
    if bounded["status"] in ("escaping", "unbounded"):
        return Convergence("does not converge", f"the iterates do not stay bounded: {bounded['note']}",
                           evidence=evidence)
    if cycle_valid:
        return Convergence("does not converge", f"the tail cycles with period {cycle['period']} "
                           f"(separation {cycle['separation']:.3g}, return gap {cycle['return_gap']:.3g})",
                           evidence=evidence, cycle=True)
    # a straight drift (path per window ≈ radius) on a run not seen bounded is a slow trip (log k),
    # not a recurrence: non-convergence needs a bounded run or a path at least twice the radius
    recurrent = bounded["status"] == "bounded" or (radii.size > 0 and np.isfinite(path[-1]) and path[-1] >= 2.0 * radii[-1])
    if radius_test.status == "positive" and path_test.status == "positive" and recurrent:
        # both: a radius that levels off while the path length per window keeps shrinking is a
        # sampling artefact of the kept iterates, not a sequence that keeps moving
        return Convergence("does not converge", "the iterates keep moving by a non-vanishing amount "
                           f"within geometric windows ({radius_test.note}; {path_test.note})", evidence=evidence)
    note = f"convergence of the iterates undecided ({radius_test.note}; {path_test.note})"
    return Convergence("unknown", note, evidence=evidence)


def farthest_point_sample(points: np.ndarray, count: int) -> np.ndarray:
    """Indices of ``count`` points spread over the set (greedy farthest-point traversal)."""
    m = len(points)
    if m <= count:
        return np.arange(m)
    chosen = [m - 1]
    dist = np.linalg.norm(points - points[-1], axis=-1)
    for _ in range(count - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(points - points[nxt], axis=-1))
    return np.asarray(sorted(chosen))


def gradient_floor(problem, points: np.ndarray, x_scale: float, options: dict, seed: int = 0) -> np.ndarray:
    """Round-off floor of ‖∇f‖ at each point.

    floor(c) = C·‖∇f(c + δu) − ∇f(c − δu)‖/2 with δ = √n·ε·max(‖c‖, X), u a random unit vector and
    C = ``round_off_factor``: the change of the exact gradient when c moves by its own round-off (local
    curvature times position resolution), which is what separates a computed gradient from zero.
    """
    n = points.shape[-1]
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(points.shape)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    delta = np.sqrt(n) * EPS * np.maximum(np.linalg.norm(points, axis=-1), x_scale)[:, None]
    g_plus = _grad(problem, points + delta * u)
    g_minus = _grad(problem, points - delta * u)
    change = 0.5 * np.linalg.norm(g_plus - g_minus, axis=-1)
    change = np.where(np.isfinite(change), change, 0.0)
    return options["round_off_factor"] * change


def gradient_change_bound(problem, points: np.ndarray, grads: np.ndarray, radius: float,
                          seed: int = 1) -> np.ndarray:
    """Estimated sup of ‖∇f(z) − ∇f(c)‖ over ‖z − c‖ ≤ radius, from four probes (an estimate, ×2)."""
    if not np.isfinite(radius) or radius <= 0:
        return np.zeros(len(points)) if radius == 0 else np.full(len(points), np.inf)
    rng = np.random.default_rng(seed)
    worst = np.zeros(len(points))
    for _ in range(4):
        u = rng.standard_normal(points.shape)
        u *= radius / np.linalg.norm(u, axis=-1, keepdims=True)
        worst = np.maximum(worst, np.linalg.norm(_grad(problem, points + u) - grads, axis=-1))
    return 2.0 * worst


def _grad(problem, points: np.ndarray) -> np.ndarray:
    xp = problem.xp
    out = problem.grad(xp.asarray(points, dtype=xp.float64))
    return np.asarray(problem.backend.to_host(out), dtype=float)
