"""Tail analysis on geometric windows: does a positive quantity tend to zero, and how fast.

Every verdict of :mod:`convcheck.properties` is decided from the tail of the run, seen through
geometric windows of the iteration counter: with K the last iteration,

    W_j = (K / 2^j, K / 2^(j-1)],   j = 1 (the newest window), 2, 3, ...

A statistic of a per-step quantity (its maximum, minimum, sum, ...) is taken on each window. A long
transient only affects the old windows, which are ignored beyond the last ``tail_windows`` of them.

:func:`limit_test` reads such a window sequence s_j (oldest first) and answers one of

- ``"zero"``: s_j tends to 0. Either the newest window is at the round-off ``floor`` (a value there
  counts as zero), or log s_j fits a decreasing straight line in log k (a power law k^β, R² at least
  ``r2_min``, β at most ``-beta_min``) that does not flatten on the newest windows (a local slope of
  at most half the fitted one would reveal s → c > 0). With ``summable=True`` the exponent must also be
  at most ``-beta_sum``, so that the sum of the future window values (the remaining length
  s_1·2^β/(1 − 2^β)) is finite with a margin; a linear rate q^k decays faster than any power and passes.
- ``"positive"``: s_j stays well above the floor (``significance``×floor) and either has levelled off
  (the local power-law slope on the newest three windows is within ±``beta_flat`` of 0, so at the
  present pace it would take more than a 2^(1/beta_flat)-fold longer run to halve it) or grows.
- ``"unknown"``: anything else (still decreasing too slowly, irregular, too few windows); the note
  says how much longer a run would have to be to decide.

The rates reported for properties that hold come from :func:`fit_rate`: least squares of log v
against k (linear rate, factor q = e^slope) and against log k (power law, exponent −slope) on the
last geometric stretch of samples above the floor; the better R² wins.

Everything here is invariant under v -> c·v and k-independent rescalings of v (only ratios and log
slopes are used), which is what makes the certificates invariant to scaling f and x.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

EPS = float(np.finfo(np.float64).eps)
FLOOR_MARGIN = 1.25   # a model is worse than another when its relative rms is larger by this factor
FLOOR_ACCEPT_MARGIN = 1.5   # ... and a level is accepted only when the floorless fit is worse by this one


def geometric_windows(k_last: float, k_first: float, count: int) -> list[tuple[float, float]]:
    """Windows (K/2^j, K/2^(j-1)] for j = count..1, oldest first, dropping those before ``k_first``."""
    windows = []
    for j in range(count, 0, -1):
        lo, hi = k_last / 2.0 ** j, k_last / 2.0 ** (j - 1)
        if hi >= k_first:
            windows.append((lo, hi))
    return windows


def window_stat(k: np.ndarray, values: np.ndarray, windows, reducer: Callable) -> tuple[np.ndarray, np.ndarray]:
    """``reducer`` of the finite ``values`` whose ``k`` lies in each window.

    Returns (stats, positions): NaN where a window holds no finite value; positions are the geometric
    window centres √(lo·hi). ``k`` must be sorted (binary search keeps this O(windows·log m)).
    """
    stats = np.full(len(windows), np.nan)
    positions = np.array([np.sqrt(max(lo, 0.5) * hi) for lo, hi in windows])
    for i, (lo, hi) in enumerate(windows):
        a, b = np.searchsorted(k, lo, side="right"), np.searchsorted(k, hi, side="right")
        chunk = values[a:b]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            stats[i] = reducer(chunk)
    return stats, positions


@dataclass
class LimitTest:
    """Outcome of :func:`limit_test` (see the module docstring)."""

    status: str
    note: str
    last: float = float("nan")
    floor: float = 0.0
    exponent: float = float("nan")
    local_exponent: float = float("nan")
    r2: float = float("nan")
    remaining: float = float("inf")
    longer_factor: Optional[float] = None
    extrapolated_limit: Optional[float] = None
    newest_exponent: Optional[float] = None
    values: list = field(default_factory=list)
    positions: list = field(default_factory=list)
    floor_fit: Optional[dict] = None

    def to_dict(self) -> dict:
        return {"status": self.status, "note": self.note, "last": self.last, "floor": self.floor,
                "power_exponent": self.exponent, "local_exponent": self.local_exponent, "r2": self.r2,
                "remaining_sum": self.remaining, "extrapolated_limit": self.extrapolated_limit,
                "newest_exponent": self.newest_exponent,
                "windows_k": self.positions, "window_values": self.values, "floor_model": self.floor_fit}


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least squares y ≈ a + b x; returns (a, b, R²) with R² = 1 when y is exactly constant."""
    b, a = np.polyfit(x, y, 1)
    total = float(np.sum((y - y.mean()) ** 2))
    resid = float(np.sum((y - (a + b * x)) ** 2))
    r2 = 1.0 if total <= 1e-300 else 1.0 - resid / total
    return float(a), float(b), r2


def iterations_text(k: float) -> str:
    """An iteration count for advice, to one significant digit: 8000, "3·10⁵", "2·10¹⁰"."""
    k = max(float(k), 1.0)
    if k < 1e4:
        return f"{int(round(k, -int(np.floor(np.log10(k))) + 1)) if k >= 100 else int(round(k))}"
    exponent = int(np.floor(np.log10(k)))
    mantissa = int(round(k / 10.0 ** exponent))
    if mantissa == 10:
        mantissa, exponent = 1, exponent + 1
    power = "10" + str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return power if mantissa == 1 else f"{mantissa}·{power}"


def longer_run(k_last: float, factor: float) -> str:
    """The advice of an inconclusive verdict, in iterations: "a longer run, to k ≈ 3·10⁵, would decide"."""
    return f"a longer run, to k ≈ {iterations_text(k_last * factor)}, would decide"


def _times(value: float, floor: float) -> str:
    if floor > 0 and value > 0 and np.log10(value) - np.log10(floor) < 300:
        return f"{value / floor:.3g}×"
    return "far above"


def aitken_limit(values: np.ndarray):
    """Aitken Δ² extrapolation of a decreasing sequence of window values, or None when the
    differences are not all positive or do not shrink (then nothing is extrapolated)."""
    drops = -np.diff(np.asarray(values, float))
    if drops.size < 2 or not np.all(drops > 0):
        return None
    ratio = float(np.exp(np.mean(np.log(drops[1:] / drops[:-1]))))
    if not ratio < 1.0:
        return None
    return float(values[-1] - drops[-1] * ratio / (1.0 - ratio))


def _fit_floor(P: np.ndarray, Q: np.ndarray, c_test: float) -> tuple:
    """For decay shapes φ in the columns of P = φ/v (m, S), with Q = 1/v (m,) and the residual
    (c + a·φ − v)/v: the rss with (c, a) ≥ 0 free, with c = 0, with c = ``c_test`` (each (S,)), and the
    free fit's c."""
    with np.errstate(all="ignore"):
        spp, spq, sp = np.sum(P * P, 0), Q @ P, np.sum(P, 0)
        sqq, sq = Q @ Q, Q.sum()
        det = spp * sqq - spq ** 2
        a0 = np.where(spp > 0, sp / spp, 0.0)
        rss_zero = np.sum((a0 * P - 1.0) ** 2, 0)
        c0 = sq / sqq
        rss_const = float(np.sum((c0 * Q - 1.0) ** 2))
        c = np.where(det > 0, (spp * sq - spq * sp) / det, -1.0)
        a = np.where(det > 0, (sqq * sp - spq * sq) / det, -1.0)
        pair = (c >= 0) & (a >= 0)
        rss_pair = np.sum((c * Q[:, None] + a * P - 1.0) ** 2, 0)
        rss_free = np.where(pair, rss_pair, np.minimum(rss_zero, rss_const))
        c_free = np.where(pair, c, np.where(rss_zero <= rss_const, 0.0, c0))
        target = (1.0 - c_test * Q)[:, None]
        a_t = np.maximum(np.where(spp > 0, np.sum(P * target, 0) / spp, 0.0), 0.0)
        rss_test = np.sum((a_t * P - target) ** 2, 0)
    clean = lambda r: np.where(np.isfinite(r), r, np.inf)  # noqa: E731
    return clean(rss_free), clean(rss_zero), clean(rss_test), c_free


def _two_power_rss(logk1, logv, Q, c_rel, beta1, beta2, which):
    """Relative rss of c + a₁k^β₁ + a₂k^β₂ per exponent pair (``which`` = 0: c ≥ 0 free, 1: c = 0,
    2: c = ``c_rel``), with the coefficients; inf where a coefficient would be negative."""
    P1 = np.exp(np.clip(beta1[None, :] * logk1 - logv, -700.0, 700.0))
    P2 = np.exp(np.clip(beta2[None, :] * logk1 - logv, -700.0, 700.0))
    with np.errstate(all="ignore"):
        if which == 0:
            cols, target = (Q[:, None] * np.ones_like(P1), P1, P2), np.ones_like(P1)
        elif which == 1:
            cols, target = (P1, P2), np.ones_like(P1)
        else:
            cols, target = (P1, P2), (1.0 - c_rel * Q)[:, None] * np.ones_like(P1)
        A = np.stack(cols, axis=-1)                           # (m, S, p)
        G = np.einsum("msp,msq->spq", A, A)
        b = np.einsum("msp,ms->sp", A, target)
        ok = np.abs(np.linalg.det(G)) > 1e-300
        coef = np.zeros_like(b)
        coef[ok] = np.linalg.solve(G[ok], b[ok][..., None])[..., 0]
        rss = np.sum((np.einsum("msp,sp->ms", A, coef) - target) ** 2, 0)
        rss = np.where(ok & np.all(coef >= 0, -1) & np.isfinite(rss), rss, np.inf)
    return rss, coef


def floor_model(positions: np.ndarray, values: np.ndarray, c_test: float) -> dict:
    """Compare v ≈ c + a·φ(k) (a floor c ≥ 0) with v ≈ a·φ(k) (no floor) over window statistics.

    Decay shapes φ: power laws k^β (−4 ≤ β ≤ −0.05, the slowest decay read as one), exponentials
    e^{−λk/K} (0.05 ≤ λ ≤ 700, K the newest position), and sums of two power laws a₁k^β₁ + a₂k^β₂
    (a decay that flattens toward its slower term is not a floor). Relative least squares: the residual
    of window j is (model_j − v_j)/v_j, so every window counts alike whatever the scale; for each shape (c, a) ≥ 0 solve a 2×2 linear problem, and the
    shape parameter is minimized over a log-spaced grid, then a finer grid around the best point.
    Returns ``c`` (fitted floor), ``rms_free`` (floor free), ``rms_zero`` (floor 0) and ``rms_test``
    (floor held at ``c_test``).
    """
    k = np.asarray(positions, float)
    v = np.asarray(values, float)
    scale = v[-1]
    v = v / scale
    c_rel = c_test / scale
    Q = 1.0 / v
    logv = np.log(v)[:, None]
    logk = np.log(k)[:, None]
    rel = (k / k[-1] - 1.0)[:, None]
    # u = log |shape parameter|; power: φ = k^(−e^u), exponential: φ = e^(−e^u (k/K − 1))
    families = ((lambda u: -np.exp(u)[None, :] * logk, np.log(0.05), np.log(4.0)),
                (lambda u: -np.exp(u)[None, :] * rel, np.log(0.05), np.log(700.0)))
    best = [np.inf, np.inf, np.inf]
    c_best = 0.0
    for logphi_of, lo, hi in families:
        def evaluate(u):
            P = np.exp(np.clip(logphi_of(u) - logv, -700.0, 700.0))
            return _fit_floor(P, Q, c_rel)
        grid = np.linspace(lo, hi, 160)
        coarse = evaluate(grid)
        h = grid[1] - grid[0]
        for which in range(3):
            i = int(np.argmin(coarse[which]))
            fine_u = np.linspace(grid[i] - h, grid[i] + h, 41)
            fine = evaluate(fine_u)
            j = int(np.argmin(fine[which]))
            r = min(float(fine[which][j]), float(coarse[which][i]))
            if r < best[which]:
                best[which] = r
                if which == 0:
                    c_best = float(fine[3][j]) if fine[which][j] <= coarse[which][i] else float(coarse[3][i])
    # sums of two power laws a₁k^β₁ + a₂k^β₂ (a decay that flattens toward its slower term is not a floor):
    # a 24-point grid of exponents, then a 9 × 9 grid around each model's best pair, so that the floorless
    # model is fitted as finely as the single shapes above (a coarse grid would favour the floor)
    betas = -np.geomspace(0.05, 4.0, 24)
    i, j = np.triu_indices(len(betas), 1)
    logk1 = np.log(k)[:, None]
    ratio = betas[1] / betas[0]
    for which in range(3):
        rss, coef = _two_power_rss(logk1, logv, Q, c_rel, betas[i], betas[j], which)
        s_best = int(np.argmin(rss))
        if np.isfinite(rss[s_best]):
            f1 = betas[i][s_best] * np.geomspace(1 / ratio, ratio, 9)
            f2 = betas[j][s_best] * np.geomspace(1 / ratio, ratio, 9)
            b1, b2 = (g.ravel() for g in np.meshgrid(f1, f2))
            rss_f, coef_f = _two_power_rss(logk1, logv, Q, c_rel, b1, b2, which)
            if np.min(rss_f) < rss[s_best]:
                rss, coef = rss_f, coef_f
                s_best = int(np.argmin(rss))
        if rss[s_best] < best[which]:
            best[which] = float(rss[s_best])
            if which == 0:
                c_best = float(coef[s_best, 0])
    if best[1] <= best[0]:          # c = 0 is a member of the free model
        best[0], c_best = best[1], 0.0
    m = len(v)
    return {"c": float(c_best * scale), "rms_free": float(np.sqrt(best[0] / m)),
            "rms_zero": float(np.sqrt(best[1] / m)), "rms_test": float(np.sqrt(best[2] / m)),
            "c_test": float(c_test), "windows": m}


def _floor_evidence_of(pos: np.ndarray, val: np.ndarray, options: dict, power: int = 1) -> Optional[dict]:
    """The floor-model comparison (:func:`floor_model`) over the windows after the peak: the longest of
    the newest 2·``tail_windows``, ``tail_windows`` + 1 or ``tail_windows`` windows that the decay shapes
    fit within 5·``floor_tol`` (a transient in the older windows fits none); None with fewer than
    ``floor_windows`` positive windows. ``power`` = 2: ``val`` are squares of the statistic (see
    :func:`_floor_evidence`), and every floor level below is the square of its linear one.

    A floor of half the newest value is *rejected* when the fitted floor is at most 0.35× the
    newest value and holding the floor there raises the rms by a quarter (and above ``floor_tol``), or
    when the quantity falls steeper than k^-4 over the newest two windows; a positive floor is
    *accepted* when the fitted floor is at least half the newest value, the floor model fits (rms at
    most 10·``floor_tol``) and the no-floor fit is worse by 1.5× (``FLOOR_ACCEPT_MARGIN``).
    """
    pos, val = pos[-2 * int(options["tail_windows"]):], val[-2 * int(options["tail_windows"]):]
    # a window (K/2^j, K/2^(j−1)] with few whole k in it is a distorted sample of the shape (its
    # statistic sits at a whole k, not at the centre): only windows whose centre is at least 16 are fitted
    coarse = pos < 16.0
    if np.count_nonzero(~coarse) >= int(options["floor_windows"]):
        pos, val = pos[~coarse], val[~coarse]
    if val.size == 0:
        return None
    start = int(np.argmax(val >= 0.5 * np.max(val)))     # skip a rise to the peak (a transient)
    pos, val = pos[start:], val[start:]
    keep = val > 0
    if np.count_nonzero(keep) < int(options["floor_windows"]) or not keep[-1]:
        return None
    pos, val = pos[keep], val[keep]
    # the longest run of newest windows that the shapes fit (a transient in older windows fits none):
    # 2·tail_windows, tail_windows + 1 or tail_windows windows
    tw = int(options["tail_windows"])
    fits = []
    for m in sorted({len(val), min(len(val), tw + 1), min(len(val), max(tw, int(options["floor_windows"])))},
                    reverse=True):
        fits.append((floor_model(pos[-m:], val[-m:], 0.5 ** power * val[-1]), m))
        if fits[-1][0]["rms_free"] <= 5 * options["floor_tol"]:
            break
    fit, m = min(fits, key=lambda item: (item[0]["rms_free"] > 5 * options["floor_tol"], -item[1])) \
        if any(f["rms_free"] <= 5 * options["floor_tol"] for f, _ in fits) else min(fits, key=lambda item: item[0]["rms_free"])
    pos, val = pos[-m:], val[-m:]
    margin = FLOOR_MARGIN
    fit["floor_ratio"] = fit["c"] / val[-1]
    steep = len(val) >= 3 and bool(np.log(val[-3] / val[-1]) / np.log(pos[-1] / pos[-3]) >= 4.0)
    fit["steep_decay"] = steep
    # ... and a floor of a quarter of the newest value too, by half the tolerance: a "tends to zero"
    # then excludes every floor above v_newest/4 that the shapes could hide
    # (on clean windows only: where the free fit's rms exceeds floor_tol, the scatter hides such a floor
    # anyway and the half-value test is the resolution)
    fit["rms_quarter"] = floor_model(pos, val, 0.25 ** power * val[-1])["rms_test"]
    # (for the squares, power = 2, half the newest value only: a component of a quarter of the norm
    # moves it by 3%, below what the windows resolve)
    quarter_rejected = power == 2 or fit["rms_free"] > options["floor_tol"] or \
        fit["rms_quarter"] > max(margin * fit["rms_free"], 0.5 * options["floor_tol"])
    fit["floor_rejected"] = bool(steep or (fit["floor_ratio"] <= 0.35 ** power and quarter_rejected and
                                           fit["rms_test"] > max(margin * fit["rms_free"], options["floor_tol"])))
    # accepting a level also needs the level model itself to fit (a noisy plateau decides nothing)
    # and the floorless decay must fit clearly worse (by 1.5×, not the 1.25× of a rejection): GD on a
    # function whose curvature regime changes (√(1 + x⁴) − 1, quadratic far out, quartic near 0) bends
    # its Cauchy radius into a shape that a floor fits 1.27× better than a decay (a fuzzer finding)
    fit["floor_accepted"] = bool(not steep and fit["floor_ratio"] >= 0.5 ** power and fit["rms_free"] <= 10 * options["floor_tol"]
                                 and fit["rms_zero"] > max(FLOOR_ACCEPT_MARGIN * fit["rms_free"], options["floor_tol"]))
    fit["k_range"] = [float(pos[0]), float(pos[-1])]
    fit["power"] = power
    return fit


def _floor_evidence(pos: np.ndarray, val: np.ndarray, options: dict, quadrature: bool = False) -> Optional[dict]:
    """:func:`_floor_evidence_of` on the window statistics and, for a norm (``quadrature``: ‖∇f‖), on
    their squares. A norm hides a constant
    component in quadrature: ‖(1/k, c)‖ = √(c² + k⁻²) approaches c quadratically, a shape c + a·φ(k)
    misses, while its square c² + k⁻² is exactly of that form. So a floor counts as *rejected* only
    when both comparisons reject it (at half and a quarter of the newest value; for the squares at
    half of it, squared), and the squares' comparison is kept in ``fit["squared"]`` for :func:`floor_seen`."""
    fit = _floor_evidence_of(pos, val, options)
    if fit is None or not quadrature:
        return fit
    top = float(np.max(val[np.isfinite(val)])) if np.isfinite(val).any() else 0.0
    squared = _floor_evidence_of(pos, (np.asarray(val, float) / top) ** 2, options, power=2) if top > 0 else None
    fit["squared"] = squared
    if squared is not None:
        fit["floor_rejected"] = bool(fit["floor_rejected"] and squared["floor_rejected"])
    return fit


def floor_seen(fit: Optional[dict], options: dict, pos=None, val=None) -> bool:
    """Whether the free fit of :func:`floor_model` finds a floor of at least ``floor_seen`` × the newest
    value (for the squares, (2·``floor_seen``)² × the newest square: a component of a tenth of the norm)
    that explains the windows better (relative rms larger by ``FLOOR_MARGIN``) than every floorless
    decay: then "tends to zero" is not established, however the newest slope looks. Only a floor model
    that fits (relative rms at most 5·``floor_tol``) shows a floor, and never against a decay steeper
    than k^-4 over the newest windows (which no shape fits, and which is no level). With the windows
    ``pos``, ``val`` given, the floor must also show over the newest ``tail_windows`` windows alone: a
    transient in the older windows bends the long fit too (a k^-1 decay after a steeper start fits
    c + a·k^β with c > 0 over ten windows, not over the newest five)."""
    def shows(f, power):
        if f is None or f.get("steep_decay", False) or f["rms_free"] > 5 * options["floor_tol"]:
            return False
        threshold = options["floor_seen"] if power == 1 else (2 * options["floor_seen"]) ** 2
        return bool(f["floor_ratio"] >= threshold and f["rms_zero"] > FLOOR_MARGIN * f["rms_free"])

    def recent_shows(power):
        m = int(options["tail_windows"])
        p, v = np.asarray(pos, float)[-m:], np.asarray(val, float)[-m:]
        if v.size < int(options["floor_windows"]) or not np.all(v > 0):
            return True
        v = (v / np.max(v)) ** power
        recent = floor_model(p, v, 0.5 ** power * v[-1])
        return shows({**recent, "floor_ratio": recent["c"] / v[-1]}, power)

    if fit is None:
        return False
    for power, f in ((1, fit), (2, fit.get("squared"))):
        if shows(f, power) and (pos is None or val is None or recent_shows(power)):
            return True
    return False


def _settling(pos: np.ndarray, val: np.ndarray, limit, options: dict) -> tuple[bool, float]:
    """(settling on a positive level?, exponent between the newest two windows).

    Settling: Aitken's extrapolated limit exceeds ``aitken_fraction`` × the newest value while the
    newest window fell only a little (exponent above −``aitken_shallow``). A steep newest drop means
    the quantity is still falling, where a three-point extrapolation is unreliable.
    """
    if val.size < 2 or not (val[-2] > 0 and val[-1] > 0):
        return False, -np.inf
    newest = float(np.log(val[-1] / val[-2]) / np.log(pos[-1] / pos[-2]))
    return bool(limit is not None and limit > options["aitken_fraction"] * val[-1]
                and newest > -options["aitken_shallow"]), newest


def limit_test(positions: np.ndarray, values: np.ndarray, floor: float, options: dict,
               summable: bool = False, what: str = "the quantity", recent: Optional[float] = None,
               end_above_floor: bool = False, end: Optional[float] = None,
               late: Optional[float] = None, quadrature: bool = False,
               quarter_spread: Optional[float] = None) -> LimitTest:
    """See :func:`_limit_test`; afterwards a "zero" needs the floor model to reject a floor of half the
    newest value, a "levelled off" needs it to accept a positive floor (:func:`floor_model`), and any
    "positive" is withdrawn when ``recent`` (the statistic over the newest quarter of the run) is below
    ``zero_drop`` × the newest window's: an event early in the newest window then dominates it. A
    "grows" needs the growth to last to the end: ``end`` (the statistic over the newest eighth of the run,
    scaled to a window) must be at least the previous window's value, else the rise is a transit.
    ``late`` (the smallest statistic over the trailing segments of the run, down to its last 1/256) also
    withdraws a "positive" when below ``zero_drop`` × the newest window's: a level that the run has
    left by its end is not a limit, however late the departure. ``quadrature``: the quantity is
    ‖∇f‖, whose floors are also looked for in its squares (:func:`_floor_evidence`), and a floor that
    the fits see (:func:`floor_seen`) blocks "tends to zero" (the question of P1–P3: is the limit
    stationary?). For the other quantities (f's oscillation, steps, radii) the rejection of a floor of
    half and a quarter of the newest value is the test. ``quarter_spread`` (max/min of the values over
    the newest quarter of the run) lets a level that the floor model accepts count as arrived at when
    the values no longer move (agree to 1e-4)."""
    ok = np.isfinite(values)
    # the newest window is (K/2, K] with centre K/√2: K, for advice in iterations
    k_now = float(np.asarray(positions, float)[-1]) * np.sqrt(2.0) if len(positions) else 1.0
    pos, val = np.asarray(positions, float)[ok], np.asarray(values, float)[ok]
    raw = val
    val = np.maximum(val, floor)               # below the round-off floor a value is zero, and all alike
    # ... unless the quantity at the last iterate is itself far above the floor (the floor is taken
    # there): then a steady growth of the raw values is growth (a divergence seen on its finite part)
    if end_above_floor and raw.size >= 3 and bool(np.all(np.diff(raw[-3:]) > 0) and raw[-1] >= 10.0 * raw[-3]):
        val = raw
    out = _limit_test(pos, val, floor, options, summable, what, k_now)
    if recent is not None and np.isfinite(recent) and recent <= floor and out.status != "zero" and not end_above_floor:
        out.status, out.remaining = "zero", float(floor)
        out.note = (f"{what} is at the round-off floor over the newest quarter of the run ({recent:.3g} ≤ "
                    f"{floor:.3g})")
        return out
    if out.note.startswith(what + " is at the round-off floor"):
        return out
    fit = _floor_evidence(pos, val, options, quadrature)
    out.floor_fit = fit
    finite = [v for v in (recent, late) if v is not None and np.isfinite(v)]
    newest_low = min(finite) if finite else None     # the lowest statistic over the run's trailing segments
    if out.status == "unknown":
        # arrived at a level: the floor model accepts c ≥ 0.9× the newest value with a clean fit (relative
        # rms ≤ 2·floor_tol), far above round-off, AND the quantity itself no longer moves: over the
        # newest quarter of the run its values agree to 1e-4 (``quarter_spread`` = max/min there; SAM
        # creeping on a quartic under Remark G.2 spans 0.8% there at 3000 steps and 0.1% at 3·10⁵).
        # The floor model alone is not enough: a plateau between the jumps of a radius schedule, or a
        # random method's scatter, fits it too (the theorem fuzzer found both contradicting Remark G.2
        # and Theorem 3.3); a fast approach to a non-stationary limit is flat to round-off.
        if fit is not None and fit["floor_accepted"] and fit["floor_ratio"] >= 0.9 and \
                fit["rms_free"] <= 2 * options["floor_tol"] and \
                quarter_spread is not None and quarter_spread <= 1.0 + 1e-4 and \
                out.last > options["significance"] * floor and \
                not (newest_low is not None and newest_low <= options["zero_drop"] * out.last):
            out.status = "positive"
            out.note = (f"{what} has levelled off at about {fit['c']:.3g} (arrived: its values over the newest "
                        f"quarter agree to {quarter_spread - 1:.1g}; " + _fit_text(fit) + ")")
        return out
    if out.status == "zero" and (fit is None or not fit["floor_rejected"]):
        out.status = "unknown"
        out.note = (f"{what} decreases, but a positive floor is not rejected by the model comparison "
                    + _fit_text(fit) + "; " + longer_run(k_now, 16.0))
        out.longer_factor = 16.0
    elif out.status == "zero" and quadrature and floor_seen(fit, options, pos, val):
        # a floor well below the newest value that the free fit finds and that explains the windows
        # measurably better than any floorless decay: the data are those of c + decay with c > 0 as much
        # as of a decay to zero (hypot(1/k, c) and 1/k + ε/√k look alike here)
        out.status = "unknown"
        out.note = (f"{what} decreases, but the windows fit a positive floor better than a decay to zero "
                    + _fit_text(fit) + "; " + longer_run(k_now, 16.0))
        out.longer_factor = 16.0
    elif out.status == "positive" and newest_low is not None and \
            newest_low <= max(options["zero_drop"] * out.last, floor):
        out.status = "unknown"
        where = "newest quarter" if recent is not None and newest_low == recent else "last part"
        out.note = (f"{what} over the {where} of the run ({newest_low:.3g}) is far below its newest-window "
                    f"value ({out.last:.3g}): a late event dominates the newest window; " + longer_run(k_now, 4.0))
        out.longer_factor = 4.0
    elif out.status == "positive" and " grows" in out.note and end is not None and np.isfinite(end) \
            and len(out.values) >= 2 and end < out.values[-2]:
        out.status = "unknown"
        out.note = (f"{what} rose over the newest windows but has fallen back by the end of the run ({end:.3g} over "
                    f"the newest eighth, against {out.values[-2]:.3g} in the window before): a transit, not a growth; "
                    + longer_run(k_now, 4.0))
        out.longer_factor = 4.0
    elif out.status == "positive" and "levelled off" in out.note and (fit is None or not fit["floor_accepted"]):
        out.status = "unknown"
        out.note = (f"{what} decreases slowly, and a positive floor is not established by the model comparison "
                    + _fit_text(fit) + "; " + longer_run(k_now, 16.0))
        out.longer_factor = 16.0
    elif fit is not None:
        out.note += " (" + _fit_text(fit) + ")"
    return out


def _fit_text(fit: Optional[dict]) -> str:
    if fit is None:
        return "(too few windows after the peak for it)"
    return (f"c + a·k^β over {fit['windows']} windows: fitted floor c = {fit['floor_ratio']:.2g}× the newest "
            f"value, rms {fit['rms_free']:.2g} with the floor free, {fit['rms_zero']:.2g} without a floor, "
            f"{fit['rms_test']:.2g} with c at half the newest value")


def _limit_test(pos: np.ndarray, val: np.ndarray, floor: float, options: dict,
                summable: bool = False, what: str = "the quantity", k_now: float = 1.0) -> LimitTest:
    """Decide whether the window statistics ``values`` (oldest first) tend to zero.

    Parameters
    ----------
    positions : window centres in k.
    values : non-negative window statistics (NaN windows are skipped).
    floor : round-off floor; a newest value at or below it counts as zero.
    options : thresholds ``tail_windows``, ``r2_min``, ``beta_min``, ``beta_sum``, ``beta_flat``.
    summable : also require a summable decay (power exponent at most ``-beta_sum``).
    what : the quantity's name for the note.
    k_now : the run's newest iteration, for advice in iterations.
    """
    peak = float(np.max(val)) if val.size else 0.0
    m = int(options["tail_windows"])
    pos, val = pos[-m:], val[-m:]
    out = LimitTest("unknown", "", floor=float(floor), values=val.tolist(), positions=pos.tolist())
    if val.size == 0:
        out.note = f"no finite value of {what} in the tail; a longer run with finite values would decide"
        return out
    out.last = float(val[-1])
    if val.size < 3:
        out.longer_factor = 2.0 ** (3 - val.size + 2)
        out.note = f"only {val.size} geometric window(s) of {what}; " + longer_run(k_now, out.longer_factor)
        return out
    growing = bool(np.all(np.diff(val[-3:]) > 0) and val[-1] >= 10.0 * val[-3])
    if val[-1] <= floor and not growing:   # a floor is a level, not a stage of steady growth
        out.status, out.remaining = "zero", float(floor)
        out.note = f"{what} is at the round-off floor ({val[-1]:.3g} ≤ {floor:.3g}) over the newest window"
        return out
    tiny = max(float(floor), float(np.max(val)) * 1e-300, 1e-300)
    logv, logk = np.log(np.maximum(val, tiny)), np.log(pos)
    _, beta, r2 = _line_fit(logk, logv)
    _, beta_local, _ = _line_fit(logk[-3:], logv[-3:])
    out.exponent, out.local_exponent, out.r2 = beta, beta_local, r2
    # "To zero" needs the quantity to have fallen far below its own peak over the run: a decrease
    # that has covered less than that is equally the first part of an approach to a positive level.
    far_below_peak = val[-1] <= options["zero_drop"] * peak
    decreasing = beta <= -options["beta_min"] and beta_local <= -options["beta_min"] and far_below_peak
    # A slow drift toward a positive level also looks like a shallow power law over a few windows.
    # A power law a·k^β has window differences shrinking by the constant ratio 2^β, and Aitken's Δ²
    # extrapolation of such a sequence is exactly 0; a drift toward c > 0 extrapolates to about c.
    limit = aitken_limit(val[-3:])
    out.extrapolated_limit = limit
    drifting, newest = _settling(pos, val, limit, options)
    out.newest_exponent = newest
    not_flattening = beta_local <= 0.5 * beta and not drifting
    rate_ok = (not summable) or (beta <= -options["beta_sum"] and beta_local <= -options["beta_sum"])
    if decreasing and not_flattening and r2 >= options["r2_min"] and rate_ok:
        ratio = 2.0 ** max(beta, beta_local)
        out.status, out.remaining = "zero", float(val[-1] * ratio / (1.0 - ratio))
        out.note = (f"{what} decreases as a power law k^{beta:.3g} (R² = {r2:.3f}) over the last "
                    f"{val.size} geometric windows without levelling off")
        return out
    # Faster than any power: log v linear in k (a linear rate), or a log-log slope that steepens.
    _, slope_k, r2_lin = _line_fit(pos / pos[-1], logv)
    monotone = bool(np.all(np.diff(logv) < 0))
    accelerating = beta <= -options["beta_sum"] and beta_local <= beta
    # a linear rate read off a few windows must also have fallen a long way: an approach to c > 0
    # looks linear while the distance to c still dominates
    fell = val[-1] <= options["linear_drop"] * val[0]
    if monotone and decreasing and fell and not drifting and \
            (accelerating or (slope_k < 0 and r2_lin >= options["r2_min"])):
        ratio = 2.0 ** beta_local
        out.status, out.remaining, out.r2 = "zero", float(val[-1] * ratio / (1.0 - ratio)), max(r2, r2_lin)
        out.note = (f"{what} decreases faster than any power of k over the last {val.size} geometric windows "
                    f"(log-log slope steepening from {beta:.3g} to {beta_local:.3g}; linear-rate fit R² = "
                    f"{r2_lin:.3f})")
        return out
    if growing:
        out.status = "positive"
        out.note = f"{what} grows steadily (newest value {val[-1]:.3g}), so it does not tend to zero"
        return out
    if val[-1] > options["significance"] * floor:
        if abs(beta_local) <= options["beta_flat"]:
            out.status = "positive"
            out.note = (f"{what} has levelled off at {val[-1]:.3g} (local exponent {beta_local:.2g} over "
                        f"the newest windows), {_times(val[-1], floor)} the round-off floor")
            return out
        # growth must be a clean trend: a noisy rise (a slowly drifting tail's diameter) decides nothing
        if beta_local >= options["beta_flat"] and beta >= options["beta_flat"] and val[-1] >= val[0] \
                and r2 >= options["r2_min"]:
            out.status = "positive"
            out.note = (f"{what} grows (power-law exponent {beta:.2g}, newest value {val[-1]:.3g}), "
                        "so it does not tend to zero")
            return out
    if beta_local < 0:
        log_factor = np.log(val[-1] / max(floor, tiny)) / -beta_local
        out.longer_factor = float(np.exp(min(max(log_factor, np.log(4.0)), np.log(1e6))))
        out.note = (f"{what} is still decreasing (local exponent {beta_local:.2g}, fitted {beta:.2g}, "
                    f"R² = {r2:.2f}) but not clearly to zero; " + longer_run(k_now, out.longer_factor))
    else:
        out.longer_factor = 16.0
        out.note = (f"{what} neither decreases nor has levelled off (local exponent {beta_local:.2g}); "
                    + longer_run(k_now, out.longer_factor))
    return out


def liminf_test(positions: np.ndarray, minima: np.ndarray, floor: float, options: dict,
                what: str = "min ‖∇f‖ per window", recent: Optional[float] = None,
                end_above_floor: bool = False, end: Optional[float] = None,
                late: Optional[float] = None, quadrature: bool = False,
                quarter_spread: Optional[float] = None) -> LimitTest:
    """Decide whether liminf of a quantity is zero from its window minima (oldest first).

    The minima of an oscillating quantity are irregular (each is a rare near-miss), so besides
    :func:`limit_test` on the newest windows this also reads the running minimum over twice as many
    windows: "zero" when it falls by at least a factor 10, at a power-law pace (end-to-end slope at most
    ``-beta_min``) that does not slow down on the newer half (slope there at most half the overall one,
    which rejects a minimum levelling off at c > 0), and the newest window comes within a factor 10
    of it (near-records keep occurring). "positive" only when the raw window minima level off or grow (never from a plateau of
    the running minimum, which only means that no new record happened yet).
    """
    direct = limit_test(positions, minima, floor, options, what=what, recent=recent, end_above_floor=end_above_floor,
                        end=end, late=late, quadrature=quadrature, quarter_spread=quarter_spread)
    if direct.status != "unknown":
        return direct
    ok = np.isfinite(minima)
    pos, val = np.asarray(positions, float)[ok], np.asarray(minima, float)[ok]
    m = 2 * int(options["tail_windows"])
    pos, val = pos[-m:], val[-m:]
    if val.size < 4 or val[-1] <= 0:
        return direct
    running = np.minimum.accumulate(val)
    tiny = max(float(floor), 1e-300)
    logr, logk = np.log(np.maximum(running, tiny)), np.log(pos)
    _, slope, r2 = _line_fit(logk, logr)
    mid = val.size // 2
    slope_all = (logr[-1] - logr[0]) / (logk[-1] - logk[0])
    slope_half = (logr[-1] - logr[mid]) / (logk[-1] - logk[mid])
    drop = running[0] / max(running[-1], tiny)
    fit = _floor_evidence(pos, np.maximum(running, tiny), options, quadrature)
    if (slope_all <= -options["beta_min"] and slope_half <= 0.5 * slope_all and drop >= 10.0
            and val[-1] <= 10.0 * running[-1] and fit is not None and fit["floor_rejected"]
            and not (quadrature and (floor_seen(fit, options, pos, np.maximum(running, tiny))
                                     or floor_seen(direct.floor_fit, options, pos, val)))):
        return LimitTest("zero", f"the running minimum of {what} fell {drop:.3g}-fold (as k^{slope_all:.3g}, "
                         f"k^{slope_half:.3g} over the newer half) across the last {val.size} geometric windows, "
                         "and the newest window comes within a factor 10 of it", last=float(val[-1]),
                         floor=float(floor), exponent=slope_all, local_exponent=slope_half, r2=r2,
                         values=running.tolist(), positions=pos.tolist())
    return direct


def fit_rate(k: np.ndarray, values: np.ndarray, floor: float, k_max: Optional[float] = None,
             max_points: int = 4096) -> Optional[dict]:
    """Observed rate of a quantity tending to zero, fitted on its last geometric stretch above the floor.

    Models: linear rate v ≈ C q^k (fit of log v against k) and power law v ≈ C k^(−p) (fit of log v
    against log k). Uses the samples above 10·floor with k in [k_a/16, k_a], k_a the last such k (at
    most ``k_max``), thinned to ``max_points``. Returns None with fewer than 5 usable samples.
    """
    k = np.asarray(k, float)
    values = np.asarray(values, float)
    keep = np.isfinite(values) & (values > 10.0 * floor) & (values > 0)
    if k_max is not None:
        keep &= k <= k_max
    if np.count_nonzero(keep) < 5:
        return None
    k_a = float(k[keep].max())
    keep &= k >= k_a / 16.0
    idx = np.flatnonzero(keep)
    if idx.size < 5:
        return None
    if idx.size > max_points:
        idx = idx[np.linspace(0, idx.size - 1, max_points).astype(int)]
    kk, lv = k[idx], np.log(values[idx])
    _, slope_lin, r2_lin = _line_fit(kk, lv)
    _, slope_pow, r2_pow = _line_fit(np.log(kk), lv)
    linear = {"model": "linear", "factor": float(np.exp(slope_lin)), "r2": r2_lin}
    power = {"model": "power", "exponent": float(-slope_pow), "r2": r2_pow}
    best = linear if r2_lin > r2_pow else power
    return {**best, "k_range": [float(kk[0]), float(kk[-1])], "points": int(idx.size),
            "alternative": power if best is linear else linear}
