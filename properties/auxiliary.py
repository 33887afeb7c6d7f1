"""Checks of the paper's auxiliary results (Appendices B and G), registered in :data:`.registry.AUXILIARY`.

These results are statements about sequences, not about a (problem, method, schedule) setting, so
they are checked the only ways a finite computation can check them:

- **Lemma B.1** (three sequences): α_k, β_k, γ_k ≥ 0 with (a) α_{k+1} − α_k ≤ β_kα_k + γ_k for large k
  and (b) {β_k} bounded, Σβ_k = ∞, Σγ_k < ∞, Σβ_kα_k² < ∞ give α_k → 0. :func:`lemma_b1_sequences`
  builds sequences in closed form whose infinite sums are known (so (b) is decided by construction,
  not from a prefix) — one family meeting every hypothesis and one violating each hypothesis of (b)
  alone; :func:`lemma_b1_recursion` checks (a) on a prefix. On runs, the proof of Theorem 3.3 applies
  the lemma with α_k = ‖∇f(x^k)‖, β_k = Lt_k, γ_k = Lt_kε_k; (a) then holds at every step because
  ‖∇f(x^{k+1}) − ∇f(x^k)‖ ≤ Lt_k‖g^k‖ ≤ Lt_k(α_k + ε_k): :func:`lemma_b1_on_run`.
- **Proposition B.3** ((H1), (H2) ⇒ x^k → x̄ under KL) and **B.4** (rates): their hypotheses are
  inequalities between consecutive iterates, checked at every recorded step of a run by
  :func:`descent_inequalities` with the constants of Theorem 4.1's proof (GD: σ = (2 − Lt)/2 in (H1),
  β = 1 − Lt/2 in B.4 for d^k = −∇f(x^k), τ_k = t); their conclusions are Theorem 4.1(iv),(v)'s, which
  the study compares.
- **Proposition B.5**: the proof's 0 ≤ f(x^k) − f(x̄) ≤ (L/2)‖x^k − x̄‖² (L-descent, ∇f(x̄) = 0) and
  ‖∇f(x^k)‖ ≤ L‖x^k − x̄‖ give |f − f(x̄)| = O(m(k)²), ‖∇f‖ = O(m(k)) from ‖x^k − x̄‖ = O(m(k)):
  :func:`rate_transfer` checks both ratios at every kept iterate.
- **Remark G.1**: Assumption 2.3 with C = 1 for φ(s) = M s^{1−q}, i.e. (x + y)^q ≤ x^q + y^q:
  :func:`assumption_2_3_ratio` (its minimum over a grid must be ≥ 1).
- **Remark G.3**: t_k = 1/k, ε_k = 1/k^p (p > 0) satisfy (9) for every q ∈ (0, 1); the proof's tail bound
  Σ_{i≥k} t_iε_i ≤ 1/(p(k − 1)^p): :func:`remark_g3_tail_bound`.
"""
from __future__ import annotations

import math

import numpy as np

EPS = float(np.finfo(float).eps)


def _squares_mask(k: np.ndarray) -> np.ndarray:
    root = np.round(np.sqrt(k))
    return root * root == k


def lemma_b1_sequences(K: int) -> dict:
    """Closed-form (α, β, γ) on k = 1..K, keyed by name, each with the hypothesis of (b) it violates.

    - "meets": β_k = 1/k, γ_k = 1/k², α rises by exactly β_kα_k + γ_k inside each dyadic block
      (2^j, 2^{j+1}] (so (a) is tight) and is divided by 4 at k = 2^j: α_k ≍ 1/k, every sum of (b)
      finite or divergent as required. α_k → 0.
    - "sum_beta_alpha2": the same but divided by 2 only: α stays of order 1, Σβ_kα_k² = ∞.
    - "sum_gamma": α_k = 1 on the perfect squares, 0 elsewhere; β_k = 1/k, γ_k = 1 before a square
      (Σγ_k = ∞; Σβ_kα_k² = Σ 1/j² < ∞).
    - "sum_beta": α_k = 1, β_k = 1/k² (Σβ_k < ∞), γ_k = 0.
    - "beta_bounded": α_k = 1 on the squares and 1/k² elsewhere, β_k = (1 − α_k)/α_k before a square
      (unbounded), 1/k elsewhere, γ_k = 0 (Σβ_kα_k² ≤ Σ 1/k² + Σ 1/j² < ∞).
    Every family except "meets" has α_k ↛ 0 (limsup α_k ≥ ½).
    """
    k = np.arange(1, K + 1, dtype=float)
    beta, gamma = 1.0 / k, 1.0 / k ** 2
    out = {}
    for name, divisor in (("meets", 4.0), ("sum_beta_alpha2", 2.0)):
        alpha = np.empty(K)
        alpha[0] = 1.0
        for i in range(1, K):   # alpha[i] is α_{i+1}
            grown = alpha[i - 1] * (1 + beta[i - 1]) + gamma[i - 1]
            power_of_two = (i + 1) & i == 0
            alpha[i] = grown / divisor if power_of_two else grown
        out[name] = (alpha, beta, gamma, None if name == "meets" else name)
    square = _squares_mask(k)
    before_square = np.append(square[1:], False)
    out["sum_gamma"] = (square.astype(float), beta, before_square.astype(float), "sum_gamma")
    out["sum_beta"] = (np.ones(K), 1.0 / k ** 2, np.zeros(K), "sum_beta")
    alpha = np.where(square, 1.0, 1.0 / k ** 2)
    out["beta_bounded"] = (alpha, np.where(before_square, (1 - alpha) / alpha, 1.0 / k), np.zeros(K), "beta_bounded")
    return out


def lemma_b1_recursion(alpha, beta, gamma, rtol: float = 1e-12) -> dict:
    """Hypothesis (a) of Lemma B.1 on a prefix: α_{k+1} − α_k ≤ β_kα_k + γ_k at every k (to round-off)."""
    alpha, beta, gamma = (np.asarray(a, dtype=float) for a in (alpha, beta, gamma))
    lhs = alpha[1:] - alpha[:-1]
    rhs = beta[:-1] * alpha[:-1] + gamma[:-1]
    slack = rtol * (np.abs(alpha[1:]) + np.abs(alpha[:-1]) + np.abs(rhs)) + 1e-300
    bad = lhs > rhs + slack
    half = len(alpha) // 2
    return {"holds": not bool(bad.any()), "violations": int(bad.sum()),
            "first_violation_k": int(np.argmax(bad)) + 1 if bad.any() else None,
            "alpha_max_second_half": float(np.max(alpha[half:])), "alpha_max_last_quarter":
            float(np.max(alpha[3 * len(alpha) // 4:]))}


def _every_step(trace) -> np.ndarray:
    k = np.asarray(trace.k)
    if not np.array_equal(k, np.arange(1, len(k) + 1)):
        raise ValueError("this check needs every step recorded (k = 1, 2, ..., K)")
    return k


def lemma_b1_on_run(trace, step, lipschitz: float, error_levels) -> dict:
    """(a) with α_k = ‖∇f(x^k)‖, β_k = Lt_k, γ_k = Lt_kε_k on a run recorded at every step (Theorem 3.3's
    proof). ``step``: the step Schedule; ``error_levels``: ε_k at the recorded k (Lρ_k for Algorithm 1a)."""
    t = np.asarray(step.values(_every_step(trace)), dtype=float)
    return lemma_b1_recursion(trace.grad_norm, lipschitz * t, lipschitz * t * np.asarray(error_levels))


def descent_inequalities(trace, step, sigma: float, beta: float, start: int = 1, resolution: float = 1e3) -> dict:
    """(H1) of Proposition B.3, f_k − f_{k+1} ≥ σ‖∇f(x^k)‖‖x^{k+1} − x^k‖, and B.4's f_k − f_{k+1} ≥
    β‖x^{k+1} − x^k‖²/τ_k for GD (d^k = −∇f, τ_k‖d^k‖ = ‖x^{k+1} − x^k‖, so βτ_k‖d^k‖² = β‖Δx‖²/τ_k),
    at every recorded step from ``start`` whose decrease is above ``resolution``·ε·max_k |f(x^k)| (below
    it the difference of two computed f values is round-off). Returns the worst observed ratios."""
    f, g, dx = (np.asarray(a, dtype=float) for a in (trace.f, trace.grad_norm, trace.step_norm))
    k = _every_step(trace)
    t = np.asarray(step.values(k), dtype=float)
    drop = f[:-1] - f[1:]
    floor = resolution * EPS * float(np.max(np.abs(f)))
    resolved = (k[:-1] >= start) & (drop > floor) & (g[:-1] > 0)
    h1 = drop[resolved] / (g[:-1][resolved] * dx[:-1][resolved])
    b4 = drop[resolved] * t[:-1][resolved] / dx[:-1][resolved] ** 2
    # (H2): equal values only at a standstill
    equal = (drop == 0) & (dx[:-1] > 1e6 * EPS * (1 + float(np.abs(trace.x).max())))
    return {"steps": int(resolved.sum()), "h1_min_ratio": float(h1.min()), "h1_sigma": sigma,
            "h1_holds": bool(h1.min() >= sigma * (1 - 1e-9)), "b4_min_ratio": float(b4.min()), "b4_beta": beta,
            "b4_holds": bool(b4.min() >= beta * (1 - 1e-9)), "h2_suspect_steps": int(equal.sum())}


def rate_transfer(problem, iterates: np.ndarray, limit: np.ndarray, lipschitz: float) -> dict:
    """Proposition B.5's two inequalities at the given iterates: (f(x) − f(x̄))/‖x − x̄‖² ∈ [0, L/2] and
    ‖∇f(x)‖/‖x − x̄‖ ≤ L (points within round-off of x̄ skipped)."""
    X = np.asarray(iterates, dtype=float)
    dist = np.linalg.norm(X - limit, axis=1)
    keep = dist > 1e-6 * (1 + np.linalg.norm(limit))
    f_bar = float(np.asarray(problem.f(problem.xp.asarray(limit[None, :])))[0])
    fx = np.asarray(problem.f(problem.xp.asarray(X[keep])), dtype=float) - f_bar
    gx = np.linalg.norm(np.asarray(problem.grad(problem.xp.asarray(X[keep])), dtype=float), axis=1)
    f_ratio, g_ratio = fx / dist[keep] ** 2, gx / dist[keep]
    tol = 1e-9
    return {"points": int(keep.sum()), "f_ratio_min": float(f_ratio.min()), "f_ratio_max": float(f_ratio.max()),
            "g_ratio_max": float(g_ratio.max()), "bound_f": lipschitz / 2, "bound_g": lipschitz,
            "holds": bool(f_ratio.min() >= -tol and f_ratio.max() <= lipschitz / 2 * (1 + tol)
                          and g_ratio.max() <= lipschitz * (1 + tol))}


def assumption_2_3_ratio(q: float, points: int = 200) -> float:
    """min over a log grid of x, y ∈ (0, 1) of ([φ'(x)]^{-1} + [φ'(y)]^{-1}) / [φ'(x + y)]^{-1}
    = (x^q + y^q)/(x + y)^q for φ(s) = M s^{1−q}: Assumption 2.3 holds with C = 1 iff it is ≥ 1."""
    s = np.logspace(-12, math.log10(0.49), points)
    x, y = np.meshgrid(s, s)
    return float(np.min((x ** q + y ** q) / (x + y) ** q))


def remark_g3_tail_bound(p: float, k: np.ndarray, terms: int = 2_000_000) -> dict:
    """Remark G.3's Σ_{i≥k} (1/i)(1/i^p) ≤ 1/(p(k − 1)^p) (integral test), k ≥ 2; the sum is truncated at
    ``terms`` and its remainder bounded by the same integral."""
    k = np.asarray(k, dtype=int)
    i = np.arange(1, terms + 1, dtype=float)
    series = i ** (-1.0 - p)
    cumulative = np.concatenate([[0.0], np.cumsum(series[::-1])])[::-1]   # cumulative[j] = Σ_{i>j} series
    tail = cumulative[k - 1] + 1.0 / (p * terms ** p)                      # + bound on Σ_{i>terms}
    bound = 1.0 / (p * (k - 1.0) ** p)
    return {"k": k.tolist(), "tail": tail.tolist(), "bound": bound.tolist(), "holds": bool(np.all(tail <= bound))}


__all__ = ["lemma_b1_sequences", "lemma_b1_recursion", "lemma_b1_on_run", "descent_inequalities", "rate_transfer",
           "assumption_2_3_ratio", "remark_g3_tail_bound"]
