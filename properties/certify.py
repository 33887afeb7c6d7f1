"""Certify the five convergence properties P1–P5 (paper, Table 1) from one finite run.

``certify(trace_or_iterates, problem, **options) -> Certificate``

Method (quoted in the README)
-----------------------------
1. **Data.** A :class:`~convcheck.trace.Trace` gives per-step f(x^k), ‖∇f(x^k)‖, ‖x^{k+1} − x^k‖
   and the kept iterates (log-spaced checkpoints plus a contiguous tail window). A plain (K, n) array
   is reduced to the same layout (f and ∇f evaluated through ``problem``; ``checkpoints`` log-spaced
   iterates plus the last ``tail_window``), so a sequence gives the same verdicts either way.
2. **Scales.** X = the largest distance of a kept iterate from the first;
   F = max f − min f. Round-off floors: for ‖∇f‖ at a point c, ``round_off_factor``·(the change of the
   exact gradient when c moves by √n·ε·max(‖c‖, X)); for x, ``round_off_factor``·ε·√n·
   (‖x^K‖ + X); for f, ``round_off_factor``·ε·(max|f| on the tail + F). A value at its floor counts as
   zero. Every threshold is a ratio or a log slope, so the verdicts are unchanged by f -> c·f (c > 0)
   and by x -> s·x + a applied to iterates and problem alike.
3. **Tail trends** (:mod:`.rates`): per geometric window W_j = (K/2^j, K/2^(j−1)] the max, the min and
   the 3rd-smallest value of ‖∇f‖, the oscillation of f, the path length, the median step and the
   Cauchy radius. Values at or below the round-off floor are clipped to it (a floor is a level, never
   a stage of growth), unless the quantity at x^K is itself far above its floor (a divergence).
   A trend is read from the newest ``tail_windows`` windows (power law, faster than any power, level,
   growth) and then checked by a **model comparison over all windows** (the longest of the newest
   2·``tail_windows``, ``tail_windows`` + 1, ``tail_windows`` windows after the peak that the shapes fit): relative least squares of v_j ≈ c + a·φ(k_j), φ a power k^β (−4 ≤ β ≤ −0.05) or an
   exponential e^{−λk/K}, (c, a) ≥ 0, against the same fit with c = 0 and with c held at half the
   newest value (:func:`.rates.floor_model`).
   - "tends to 0" needs the floor c = v_newest/2 **rejected**: the fitted floor is at most 0.35× the
     newest value and holding it at half raises the rms by 25% (and above ``floor_tol``), or the
     quantity falls faster than k^−4 over the newest two windows. No finite run rejects a floor far
     below its newest value; this is the stated resolution of every "holds". Nor does it claim 0
     when the free fit finds a floor of at least ``floor_seen`` (5%) of the newest value that fits
     the windows 25% better than every floorless decay (hypot(1/k, c) and 1/k + ε/√k look alike).
   - "levels off at c > 0" needs the floor **accepted**: fitted c ≥ half the newest value, the floor
     model fits (rms ≤ 10·``floor_tol``) and the no-floor fit is 50% worse; on a trace with step sizes
     also L·Σ t_k ≥ ``motion_min`` over the deciding windows (L stated, or the largest ‖Δ∇f‖/‖Δx‖ on
     the tail): a method that moved too little cannot show a level of ‖∇f‖.
   - "grows" needs the growth to last to the end (the newest eighth of the run at least the previous
     window's value) and, for ‖∇f‖ and f, iterates that escape or a diverged run; otherwise it is a
     transit between regions.
   - a level or growth is withdrawn when the newest quarter of the run, or any shorter trailing
     segment down to its last 1/256 (at least 16 values), is below ``zero_drop`` × the newest window
     (a late event dominates that window, however late it comes); a newest quarter at the round-off
     floor (at least 8 values) counts as zero.
4. **Iterates** (:mod:`.accumulation`): escape/boundedness, convergence (remaining path length or
   Cauchy radii), cycles of period p ≥ 2; the accumulation-point candidates are the limit
   (converging run), the p cycle points, or a farthest-point sample of the tail (continua), and the
   exact gradient is evaluated at each, with its own floor. Every recorded step feeds the radii: a
   step of length s in a window makes its radius at least s/2 (jumps between kept checkpoints are
   seen). "Does not converge" from the radii needs the path length per window to level off too (a
   radius that levels while the path shrinks is a sampling artefact). A cycle found in the newest
   iterates is accepted only when the median step per window levels off at a positive value across
   windows (an oscillation that shrinks, however slowly, converges) and its points are non-stationary
   beyond round-off. With a stated L (``meta.L``) the gradient change within a candidate's radius r is
   bounded by L·r, so ‖∇f(x̄)‖ ≥ ‖∇f(c)‖ − L·r; otherwise by a probed estimate.
5. **Verdicts.**
   P1: holds when the 3rd-smallest ‖∇f‖ per window tends to 0 (one or two small values decide
   nothing); fails when the plain window minimum levels off or grows; otherwise inconclusive.
   P3: the same for the window maxima.
   P2: no accumulation point because the run escapes (holds vacuously; escape is read from the trend
   of ‖x^k − x¹‖, which no finite run proves); all candidates stationary — at their floor, or the
   gradient trend tends to 0 on a bounded run (holds); a candidate provably non-stationary (its
   gradient exceeds the floor by more than the gradient change within its uncertainty radius; for a
   limit also the run's ‖∇f‖ must level off at a positive floor) or limsup ‖∇f‖ > 0 on a bounded run
   (fails).
   P4: f(x^k) converges (window oscillation of f summable) and a stationary accumulation point exists
   — a stationary candidate, or by compactness a bounded run with P1 holding — (holds); f keeps
   oscillating, the run escapes (no accumulation point), or no accumulation point is stationary (fails).
   P5: the iterates converge and their limit is stationary (holds); they do not converge, or converge
   to a non-stationary point (fails).
   A "stationary" trace (exact zero gradient, finite termination) satisfies all five trivially. A
   "diverged" trace has no limit: P4 and P5 fail, and P1–P3 never hold (a "holds" read from the
   finite part is inconclusive, except P2 holding vacuously for iterates that escape). An
   "undefined_step" trace (the method's step is NaN at finite f and ∇f, e.g. d^k = 0 with ∇f ≠ 0 in
   Algorithm 1a) is inconclusive on all five: the method cannot be continued, so nothing is known of
   its limit.
6. **Implications and contradictions.** P5 ⇒ P3 ⇒ P2, P5 ⇒ P4, P3 ⇒ P1, P2 ⇒ P1 (bounded) are
   propagated (:func:`.verdict.enforce_implications`). A contradiction (A holds, B fails, A ⇒ B) is
   never raised at the user: both direct verdicts become inconclusive with the reason, and the
   contradiction is counted in ``cert.consistency["downgraded"]`` (``on_inconsistency="record"`` keeps
   it flagged, ``"raise"`` is for developers).
7. **Length stability.** The prefixes K/4 and K/2 are certified by the same rules; a property that
   holds at one of the three lengths and fails at another is inconclusive at K, with the verdicts of
   each length in the reason (``cert.evidence["length_stability"]``). A decisive verdict is therefore
   the same at K/4, K/2 and K wherever those are decisive.
8. **Rates.** For each property that holds: linear factor or power exponent with R² (:func:`.rates.fit_rate`)
   of ‖∇f‖ (P2, P3), its window minima (P1), |f(x^k) − f(x^K)| (P4) and ‖x^k − x^K‖ (P5), the last
   two fitted only for k ≤ K/8 so that using the last iterate as the limit biases them little.

Every inconclusive verdict says how much longer a run would decide it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from convcheck.errors import InputError

from . import decide
from .accumulation import Iterates
from .certify_options import resolved_problem, validated_options
from .rates import EPS, longer_run
from .verdict import Certificate, Verdict

DEFAULT_OPTIONS: dict[str, Any] = {
    "min_iterates": 16,       # shorter runs are inconclusive on every property
    "escape_growth": 3.0,     # escape/unbounded: ‖x^k − x¹‖ grows at least this much over the decisive windows
    "tail_windows": 5,        # newest geometric windows that decide (k from K/32 to K)
    "max_windows": 16,        # windows scanned at all
    "r2_min": 0.9,            # power-law fit quality needed to call a decrease "to zero"
    "beta_min": 0.05,         # smallest power-law decay exponent read as "to zero"
    "aitken_fraction": 0.5,   # a shallow decay whose Aitken-extrapolated limit exceeds this × the newest
    "aitken_shallow": 0.5,    #   value, with local exponent above −aitken_shallow, is not read as "to zero"
    "zero_drop": 0.05,        # "to zero" needs the newest window at most this × the peak over all windows
    "linear_drop": 1e-2,      # a linear-rate "to zero" must have fallen by this factor over the decisive windows
    "beta_sum": 0.25,         # decay exponent needed to call a window sum (remaining length) finite
    "beta_flat": 0.03,        # |local exponent| below which a quantity has levelled off
    "significance": 10.0,     # a value above significance × floor is not round-off
    "round_off_factor": 100.0,  # floors are this many times the estimated round-off
    "period_tol": 1e-3,       # cycle: max ‖x^{k+p} − x^k‖ ≤ period_tol × tail diameter
    "period_points": 512,     # newest tail iterates scanned for a cycle
    "max_period": 128,        # longest period searched
    "tail_consistency": 10.0,  # converging: tail diameter ≤ this × (last Cauchy radius + remaining)
    "candidates": 64,         # tail samples standing for a continuum of accumulation points
    "tail_window": 2048,      # plain arrays: contiguous tail kept
    "checkpoints": 128,       # plain arrays: log-spaced iterates kept before the tail
    "floor_windows": 4,       # the floor-model comparison needs this many windows after the peak
    "floor_tol": 0.01,        # a model is rejected when its relative rms exceeds max(2 × the free fit's, this)
    "floor_seen": 0.05,       # "to zero" also needs the free fit's floor below this × the newest value, unless
                              # a floorless decay fits the windows as well (relative rms within 1.25×)
    "order_statistic": 3,     # P1 "holds" reads the 3rd-smallest ‖∇f‖ per window (no decision from 1–2 points)
    "motion_min": 20.0,       # a level (positive floor) of a trace needs L·Σt_k ≥ this over the deciding windows
    "stability": True,        # compare with the prefixes K/4 and K/2 (length stability)
    "on_inconsistency": "downgrade",  # or "record" (keep, flagged) or "raise" (developers)
}


def certify(trace_or_iterates, problem, **options) -> Certificate:
    """Certify P1–P5 for a run.

    Parameters
    ----------
    trace_or_iterates : :class:`~convcheck.trace.Trace`, or an array of shape (K, n) holding the
        consecutive iterates x¹, …, x^K of any sequence.
    problem : the :class:`~convcheck.problems.base.Problem`, or a catalogue spec string (f and ∇f are
        evaluated through it; its metadata is not used to decide).
    **options : thresholds, see :data:`DEFAULT_OPTIONS` (documented in the module docstring); each is
        checked against its default's kind (:mod:`.certify_options`).

    Returns
    -------
    Certificate
        ``cert["P3"].status`` in {"holds", "fails", "inconclusive"}, ``.reason``, ``.evidence``, ``.rate``.
    """
    opts = validated_options(DEFAULT_OPTIONS, options)
    problem = resolved_problem(problem)
    arrays = (trace_or_iterates.x, trace_or_iterates.f, trace_or_iterates.grad_norm) \
        if _is_trace(trace_or_iterates) else (trace_or_iterates,)
    if any(np.iscomplexobj(values) for values in arrays):  # float conversion would drop the imaginary part
        raise InputError("certify: complex iterates or values are refused; a run of a real method is real")
    run = _from_trace(trace_or_iterates, problem) if _is_trace(trace_or_iterates) \
        else _from_array(trace_or_iterates, problem, opts)
    cert = decide.decide(run, problem, opts)
    if run["status"] == "undefined_step":
        return _undefined_step(cert, run)
    if run["status"] == "diverged":
        cert = _diverged(cert, run)
    if not opts["stability"] or run["status"] == "stationary" or not hasattr(cert, "direct"):
        return cert
    return _length_stable(cert, run, problem, opts)


def _length_stable(cert, run, problem, opts):
    """Compare with the prefixes K/4 and K/2; a property decided "holds" at one length and "fails" at
    another is inconclusive at K with that reason (step 6 of the method)."""
    k_last = int(cert.evidence["run"]["k_last"])
    if k_last < 4 * int(opts["min_iterates"]):
        return cert
    prefixes = {}
    for frac in (4, 2):
        sub = _prefix(run, k_last // frac)
        if sub is not None:
            prefixes[f"K/{frac}"] = decide.decide(sub, problem, opts).summary
    direct = {key: v for key, v in cert.direct.items()}
    unstable = []
    for key, verdict in cert.verdicts.items():
        seen = {name: summary[key] for name, summary in prefixes.items()
                if {summary[key], verdict.status} == {"holds", "fails"}}
        if seen:
            unstable.append(key)
            detail = ", ".join(f"{name}: {status}" for name, status in seen.items())
            direct[key] = decide.Verdict(
                "inconclusive", f"not stable in the run length: {verdict.status} at K = {k_last} but {detail} "
                f"(at K: {verdict.reason}); " + longer_run(k_last, 4.0), verdict.evidence)
            for other in cert.verdicts:        # what K's verdict implied is withdrawn with it
                if cert.verdicts[other].implied_by == key and other not in unstable:
                    direct[other] = cert.direct[other]
    cert.evidence["length_stability"] = {"prefixes": prefixes, "unstable": unstable}
    if not unstable:
        return cert
    return decide.finish(direct, cert.evidence, opts, cert.bounded, cert.consistency.get("downgraded"))


def _prefix(run: dict, k_cut: int):
    """The run cut at k ≤ k_cut (scalars and kept iterates), or None when too little is left."""
    it = run["iterates"]
    n_scalar = int(np.searchsorted(run["k"], k_cut, side="right"))
    n_kept = int(np.searchsorted(it.k, k_cut, side="right"))
    if n_scalar < 2 or n_kept < 2:
        return None
    if run["source"] == "array" and "X" in run:
        X = run["X"][:k_cut]
        W = min(len(X), int(run["tail_window"]))
        marks = np.unique(np.round(np.geomspace(1, len(X), int(run["checkpoints"]))).astype(np.int64)) - 1
        marks = marks[marks < len(X) - W]
        keep = np.concatenate([marks, np.arange(len(X) - W, len(X))])
        iterates = Iterates(keep + 1, X[keep], len(marks))
    else:
        # a trace keeps a contiguous tail only at its end: the prefix's newest iterates are checkpoints
        tail_start = min(it.tail_start, n_kept)
        consecutive = tail_start < n_kept and it.tail_start <= n_kept
        if not consecutive:
            tail_start = max(n_kept - max(n_kept // 4, 2), 0)
        iterates = Iterates(it.k[:n_kept], it.x[:n_kept], tail_start, consecutive=consecutive)
    status = run["status"] if run["status_k"] is not None and run["status_k"] <= k_cut else "completed"
    return {**run, "k": run["k"][:n_scalar], "f": run["f"][:n_scalar], "g": run["g"][:n_scalar],
            "t": None if run.get("t") is None else run["t"][:n_scalar],
            "step": run["step"][:n_scalar], "iterates": iterates, "status": status,
            "status_k": run["status_k"] if status != "completed" else None}


def _diverged(certificate: Certificate, run: dict) -> Certificate:
    """A run that diverged (non-finite values, or iterates beyond the bound) has no continuation: what
    its finite part shows of ‖∇f‖ tending to zero is not a property of a limit. A "holds" of P1 or P3 is
    therefore inconclusive, and one of P2 too unless it holds vacuously (no accumulation point: the
    iterates escape); the finite part's verdict stays in the evidence (``"before_the_stop"``)."""
    where = f" at k = {run['status_k']}" if run.get("status_k") else ""
    verdicts = dict(certificate.verdicts)
    for key in ("P1", "P2", "P3"):
        verdict = verdicts[key]
        if verdict.status != "holds" or (key == "P2" and "vacuously" in verdict.reason):
            continue
        verdicts[key] = Verdict("inconclusive", f"the run diverged{where}, so it has no limit behaviour; its "
                                f"finite part showed: {verdict.reason}",
                                {**verdict.evidence, "before_the_stop": {"status": verdict.status,
                                                                         "reason": verdict.reason}})
    return replace(certificate, verdicts=verdicts)


def _undefined_step(certificate: Certificate, run: dict) -> Certificate:
    """A run that stopped because its method's step is undefined (status "undefined_step": a NaN step
    at finite f and ∇f, e.g. d^k = 0 with ∇f(x^k) ≠ 0 in Algorithm 1a) says nothing about the limit
    behaviour of the method: every property is inconclusive, with that reason; what the finite part
    showed stays in each verdict's evidence (``"before_the_stop"``)."""
    where = f"from x^{run['status_k'] - 1} " if run.get("status_k") else ""
    reason = (f"the method's step {where}is undefined (status undefined_step, e.g. d^k = 0 while ∇f ≠ 0), "
              "so the run has no continuation on which a limit property could be decided")
    verdicts = {key: Verdict("inconclusive", reason,
                             {**verdict.evidence, "before_the_stop": {"status": verdict.status,
                                                                      "reason": verdict.reason}})
                for key, verdict in certificate.verdicts.items()}
    return replace(certificate, verdicts=verdicts)


def _is_trace(obj) -> bool:
    return all(hasattr(obj, name) for name in ("grad_norm", "x_k", "tail_start", "status"))


def _from_trace(trace, problem) -> dict:
    x = np.asarray(trace.x, dtype=float)
    if x.ndim != 2 or x.shape[1] != problem.dim:
        raise InputError(f"trace iterates have shape {x.shape}; problem {problem.name!r} needs (m, {problem.dim})")
    if len(trace.k) == 0 or len(x) == 0:
        raise InputError("the trace holds no iterates; certify needs at least one recorded step")
    order = np.argsort(trace.x_k, kind="stable")
    if not np.all(order == np.arange(len(order))):
        raise InputError("trace iterates are not sorted by iteration number (corrupt trace)")
    return {"k": np.asarray(trace.k, dtype=np.int64), "f": np.asarray(trace.f, float),
            "g": np.asarray(trace.grad_norm, float), "step": np.asarray(trace.step_norm, float),
            "t": np.asarray(trace.step_size, float) if getattr(trace, "step_size", None) is not None
            and np.shape(trace.step_size) == np.shape(trace.k) else None,
            "record_every": int(trace.record_every or 1),
            "iterates": Iterates(np.asarray(trace.x_k, np.int64), x, int(trace.tail_start)),
            "status": trace.status, "status_k": trace.status_k, "source": "trace"}


def _from_array(X, problem, opts) -> dict:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != problem.dim or X.shape[0] < 1:
        raise InputError(f"iterates must have shape (K, {problem.dim}) with K ≥ 1 for problem "
                         f"{problem.name!r}; got {X.shape}")
    status, status_k = "completed", None
    finite_rows = np.all(np.isfinite(X), axis=1)
    if not finite_rows.all():
        first_bad = int(np.argmin(finite_rows))
        if first_bad == 0:
            raise InputError("the first iterate is not finite; nothing to certify")
        X, status, status_k = X[:first_bad], "diverged", first_bad + 1
    K = len(X)
    f = np.empty(K)
    g = np.empty(K)
    chunk = 65536
    for a in range(0, K, chunk):
        fv, gv = problem.value_and_grad(problem.xp.asarray(X[a:a + chunk]))
        f[a:a + chunk] = problem.backend.to_host(fv)
        g[a:a + chunk] = np.linalg.norm(problem.backend.to_host(gv), axis=-1)
    step = np.full(K, np.nan)
    step[:-1] = np.linalg.norm(np.diff(X, axis=0), axis=-1)
    if status == "completed" and not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
        status, status_k = "diverged", int(np.argmin(np.isfinite(f) & np.isfinite(g))) + 1
    W = min(K, int(opts["tail_window"]))
    marks = np.unique(np.round(np.geomspace(1, K, int(opts["checkpoints"]))).astype(np.int64)) - 1
    marks = marks[marks < K - W]
    keep = np.concatenate([marks, np.arange(K - W, K)])
    return {"k": np.arange(1, K + 1, dtype=np.int64), "f": f, "g": g, "step": step, "record_every": 1,
            "iterates": Iterates(keep + 1, X[keep], len(marks)), "status": status, "status_k": status_k,
            "source": "array", "X": X, "tail_window": int(opts["tail_window"]), "checkpoints": int(opts["checkpoints"])}


__all__ = ["certify", "DEFAULT_OPTIONS", "EPS"]
