"""certify() on the eight failure classes of sequences written outside the project (issue 12).

Each class is tried over several variants (exponents, lengths 2·10³–2·10⁵, scales of f 1e-12/1/1e12,
dimensions). A verdict must be correct or "inconclusive", never decisively wrong; sequences whose truth
a run of that length shows plainly (geometric or k^-1 decay to a stationary point, a clean 2-cycle,
divergence) must stay decisive. The truth of every case is derived by hand in its comment.
"""
import numpy as np
import pytest

from convcheck import methods, run
from convcheck.properties import certify

from labelled_sequences import ALL, NONE, double_well, problem, quadratic, rosenbrock, scaled

KEYS = ("P1", "P2", "P3", "P4", "P5")


def half(n=1):
    """½‖x‖²: the only stationary point is 0."""
    return quadratic(n, diag=np.ones(n))


def cubic():
    """x³ − 3x: stationary at ±1; f(1) = f(−2) = −2, ∇f(−2) = 9."""
    return problem("cubic", 1, lambda X: X[..., 0] ** 3 - 3 * X[..., 0], lambda X: 3 * X * X - 3)


def cubic2():
    """x³ − 3x + y²: stationary at (±1, 0)."""
    return problem("cubic2", 2, lambda X: X[..., 0] ** 3 - 3 * X[..., 0] + X[..., 1] ** 2,
                   lambda X: np.stack([3 * X[..., 0] ** 2 - 3, 2 * X[..., 1]], -1))


def _k(K):
    return np.arange(1, K + 1, dtype=float)[:, None]


def _unit(n, seed=0):
    v = np.random.default_rng(seed).standard_normal(n)
    return v / np.linalg.norm(v)


def _gd(p, x0, t, K):
    X = np.empty((K, len(x0)))
    x = np.asarray(x0, float)
    for i in range(K):
        X[i] = x
        x = x - t * p.grad(x[None, :])[0]
    return X


def _saddle_escape():
    """½x² + (y² − 1)²/4 from y = 1e-40·2^…: GD at t = 0.01 sits near the saddle (0, 0) and leaves it late.
    Truth: GD converges to the minimizer (0, 1): all hold."""
    p = problem("saddle_escape", 2, lambda X: 0.5 * X[..., 0] ** 2 + 0.25 * (X[..., 1] ** 2 - 1) ** 2,
                lambda X: np.stack([X[..., 0], (X[..., 1] ** 2 - 1) * X[..., 1]], -1))
    return p, _gd(p, [1.0, 1e-40], 0.01, 20_000)


def _jumps(K, n, marks):
    """−1 + 1/k in every coordinate, except x = +1 at the marks: accumulation points −1 and +1, both
    stationary minima of Σ(x_i² − 1)², f → 0: P1–P4 hold, P5 fails."""
    k = _k(K)
    X = np.repeat(-1.0 + 1.0 / k, n, axis=1)
    X[np.asarray(marks, dtype=np.int64) - 1] = 1.0
    return X


def _rotation3(K, p):
    k = _k(K)[:, 0]
    ang = 2 * np.pi * np.arange(K) / 3
    return (k ** -p)[:, None] * np.stack([np.cos(ang), np.sin(ang)], -1)


def _sam_x2(K):
    """SAM on x² from x¹ = 1, t_k = 0.5/k^0.2, ρ = 1: |x^k| ≤ 2t_{k−1}ρ → 0, the minimizer: all hold."""
    tr = run("x2", methods.sam(), np.array([1.0]), iters=K, step="power:c=0.5,p=0.2", radius=1.0)
    return tr


P1_ONLY = dict(NONE, P1=True)
P5_FAILS = dict(ALL, P5=False)
CUBIC_TRUTH = dict(P1=True, P2=False, P3=False, P4=True, P5=False)
DIV = dict(NONE, P2=True)


def variants():
    out = []
    add = lambda cls, name, p, X, truth, scale=1.0: out.append(  # noqa: E731
        pytest.param(cls, p if scale == 1.0 else scaled(p, scale), X, truth, id=f"{cls}:{name}@{scale:g}"))
    # 1. slowly shrinking oscillations (truth: converge to the minimizer 0 of ½x²: all hold)
    k = _k(20_000)
    add(1, "(-1)^k k^-0.2", half(), (-1) ** k * k ** -0.2, ALL)
    add(1, "(-1)^k/log k", half(), (-1) ** k / np.log(k + 1.0), ALL, 1e12)
    add(1, "3-rotation k^-0.3 K=2e5", half(2), _rotation3(200_000, 0.3), ALL)
    k = _k(2000)
    add(1, "(-1)^k k^-0.1 n=5", half(5), (-1) ** k * k ** -0.1 * _unit(5, 1), ALL, 1e-12)
    add(1, "(-1)^k k^-0.4 n=2", half(2), (-1) ** _k(50_000) * _k(50_000) ** -0.4 * _unit(2, 2), ALL)
    # 2. a gradient levelling off at a positive floor (truth: the limit is non-stationary: all fail)
    k = _k(20_000)
    add(2, "0.01 + k^-1/2", half(), 0.01 + k ** -0.5, NONE)
    k = _k(2000)
    add(2, "1e-3 + 1/k", half(), 1e-3 + 1.0 / k, NONE)
    k = _k(20_000)
    add(2, "(1/k, 3/K)", half(2), np.hstack([1.0 / k, np.full_like(k, 3.0 / 20_000)]), NONE)
    k = _k(50_000)
    add(2, "0.05 + k^-0.3 n=4", half(4), (0.05 + k ** -0.3) * _unit(4, 3), NONE, 1e-12)
    k = _k(5000)
    add(2, "0.2 + k^-0.7", half(), 0.2 + k ** -0.7, NONE, 1e12)
    # 3. a late event dominating the newest window (truth: converge to a minimizer: all hold)
    p, X = _saddle_escape()
    add(3, "GD leaves a saddle late", p, X, ALL)
    K = 4000
    k = _k(K)
    add(3, "stuck at 1 until K/2, then 0.9^k", half(), np.where(k <= K // 2, 1.0, 0.9 ** (k - K // 2)), ALL)
    K = 20_000
    k = _k(K)
    add(3, "stuck until 0.6K, then 1/k n=3", half(3),
        np.where(k <= 0.6 * K, 1.0, 1.0 / np.maximum(k - 0.6 * K, 1.0)) * _unit(3, 4), ALL, 1e12)
    rb = rosenbrock()
    add(3, "GD on Rosenbrock t=1e-3 K=2000", rb, _gd(rb, [-1.2, 1.0], 1e-3, 2000), ALL)
    # 4. window minima far below the round-off floor (truth: geometric decay to 0: all hold)
    k = _k(2000)
    add(4, "0.7^k", half(2), 0.7 ** k * np.array([1.0, -2.0]), ALL)
    add(4, "0.5^k underflows to 0", half(), 0.5 ** k, ALL)
    add(4, "c + 0.9^k", quadratic(3, center=[1.0, 2.0, -3.0]), np.array([1.0, 2.0, -3.0]) + 0.9 ** k, ALL, 1e-12)
    k = _k(5000)
    add(4, "0.85^k n=10", half(10), 0.85 ** k * _unit(10, 5), ALL, 1e12)
    # 5. jumps between checkpoints (truth: two stationary accumulation points: P1–P4 hold, P5 fails)
    add(5, "jumps at 2^j+1 K=2e4", double_well(1), _jumps(20_000, 1, 2 ** np.arange(1, 15) + 1), P5_FAILS)
    add(5, "jumps at 3^j K=2e5", double_well(1), _jumps(200_000, 1, 3 ** np.arange(1, 12)), P5_FAILS)
    add(5, "jumps at 2^j+1 n=3", double_well(3), _jumps(20_000, 3, 2 ** np.arange(1, 15) + 1), P5_FAILS, 1e12)
    add(5, "jumps at 1.5^j", double_well(2), _jumps(50_000, 2, np.unique(np.round(1.5 ** np.arange(2, 27)))),
        P5_FAILS, 1e-12)
    # 6. a slow convergence along a fixed ray (truth: converges to 0: all hold)
    for K in (5000, 50_000, 200_000):
        add(6, f"k^-0.1 K={K}", half(), _k(K) ** -0.1, ALL)
    add(6, "k^-0.15 n=3", half(3), _k(20_000) ** -0.15 * _unit(3, 6), ALL, 1e-12)
    # 7. a 2-cycle between a stationary and a non-stationary point at equal f
    for K in (2000, 20_000):
        k = _k(K)
        add(7, f"cubic 2-cycle K={K}", cubic(), np.where(k % 2 == 0, 1 + 1 / k, -2 - 1 / k), CUBIC_TRUTH)
    k = _k(20_000)
    add(7, "cubic 2-cycle 1/k^2", cubic(), np.where(k % 2 == 0, 1 + 1 / k ** 2, -2 - 1 / k ** 2), CUBIC_TRUTH, 1e12)
    add(7, "cubic2 2-cycle", cubic2(), np.hstack([np.where(k % 2 == 0, 1 + 1 / k, -2 - 1 / k), 1 / k]),
        CUBIC_TRUTH, 1e-12)
    # 8. decisions from one or two points (truth: converges to a non-stationary point: all fail)
    K = 5000
    k = _k(K)
    X = 1.0 + 1.0 / k
    X[K - 101] = 0.0
    add(8, "one zero at K-100", half(), X, NONE)
    X = (1.0 + 1.0 / k) * _unit(3, 7)
    X[[K - 101, K - 51]] = 0.0
    add(8, "two zeros n=3", half(3), X, NONE, 1e12)
    X = 0.5 * (-1.0) ** k
    X[K // 2] = 0.0
    add(8, "2-cycle with one zero", half(), X, NONE, 1e-12)
    K = 20_000
    X = np.full((K, 2), 2.0)
    X[K - 3] = 0.0
    add(8, "constant with one zero", half(2), X, NONE)
    return out


def _assert_never_wrong(cert, truth):
    wrong = [f"{key}: {cert[key].status} ({cert[key].reason})" for key in KEYS
             if cert[key].status != "inconclusive" and (cert[key].status == "holds") != truth[key]]
    assert wrong == []
    assert cert.consistency["ok"]


@pytest.mark.parametrize("cls,p,X,truth", variants())
def test_failure_class_correct_or_inconclusive(cls, p, X, truth):
    _assert_never_wrong(certify(X, p), truth)


def more_variants():
    """Further variants of the classes, written after the rules (not tuned on): slower and faster
    exponents, the lengths 2·10³ and 2·10⁵, floors well below the newest value, departures from a level
    in the run's last few percent, zeros near the very end."""
    out = []
    add = lambda cls, name, p, X, truth, scale=1.0: out.append(  # noqa: E731
        pytest.param(cls, p if scale == 1.0 else scaled(p, scale), X, truth, id=f"{cls}:{name}@{scale:g}"))
    for K in (2000, 200_000):
        k = _k(K)
        add(1, f"(-1)^k k^-0.05 K={K}", half(), (-1) ** k * k ** -0.05, ALL)
        add(1, f"(-1)^k/log log k K={K}", half(), (-1) ** k / np.log(np.log(k + 3.0)), ALL)
        add(1, f"4-rotation k^-0.25 K={K}", half(3), k ** -0.25 * np.stack(
            [np.cos(np.pi * k[:, 0] / 2), np.sin(np.pi * k[:, 0] / 2), 0 * k[:, 0]], -1), ALL, 1e12)
        add(2, f"0.3 + 1/log k K={K}", half(), 0.3 + 1 / np.log(k + 2.0), NONE)
        add(2, f"0.1 + k^-0.2 K={K}", half(), 0.1 + k ** -0.2, NONE, 1e-12)
        for frac in (0.75, 0.9, 0.97):
            add(3, f"stuck until {frac}K, then 0.9^k K={K}", half(2),
                np.where(k <= frac * K, 1.0, 0.9 ** np.clip(k - frac * K, 0.0, 700.0)) * np.array([1.0, 0.5]), ALL)
        add(6, f"1/log k K={K}", half(), 1 / np.log(k + 2.0), ALL)
        for where in (10, 1):
            X = 1.0 + 1.0 / k
            X[K - 1 - where] = 0.0
            add(8, f"one zero at K-{where} K={K}", half(), X, NONE)
        X = np.full((K, 1), 1.5)
        X[[K // 3, 2 * K // 3, K - 5]] = 0.0
        add(8, f"three zeros K={K}", half(), X, NONE, 1e12)
        add(7, f"cubic 2-cycle k^-1/2 K={K}", cubic(), np.where(k % 2 == 0, 1 + k ** -0.5, -2 - k ** -0.5),
            CUBIC_TRUTH)
    for K in (2000, 20_000, 200_000):
        k = _k(K)
        for c in (1.0, 2.0):
            add(2, f"(1/k, {c:g}/K) K={K}", half(2), np.hstack([1.0 / k, np.full_like(k, c / K)]), NONE)
        add(2, f"0.01 + k^-1/2 K={K}", half(), 0.01 + k ** -0.5, NONE, 1e12)
    k = _k(200_000)
    add(2, "1e-4 + 1/k K=2e5", half(), 1e-4 + 1 / k, NONE, 1e12)
    # a constant component in quadrature: ‖(1/k, c/K)‖ approaches c/K quadratically
    for K in (2000, 200_000):
        k = _k(K)
        add(2, f"(1/k, 0.5/K) K={K}", half(2), np.hstack([1.0 / k, np.full_like(k, 0.5 / K)]), NONE)
        add(2, f"(1/k, 1/K, -1/K) K={K}", half(3), np.hstack([1.0 / k, np.full_like(k, 1 / K), np.full_like(k, -1 / K)]),
            NONE, 1e-12)
    add(2, "1e-4 + 1/k K=2000", half(), 1e-4 + 1 / _k(2000), NONE)
    return out


@pytest.mark.parametrize("K", [2000, 20_000])
@pytest.mark.parametrize("tail", ["nan", "inf"])
def test_a_run_that_converges_then_diverges_has_no_limit(K, tail):
    """x_k = 1/k on ½x² until the last 10 iterates, which are non-finite: the run diverged, so it has
    no limit behaviour; what the finite part shows (‖∇f‖ → 0) is not certified as P1–P3 holding."""
    X = 1.0 / _k(K)
    X[-10:] = np.nan if tail == "nan" else np.inf
    cert = certify(X, half())
    assert cert.evidence["run"]["status"] == "diverged"
    assert cert["P4"].status == "fails" and cert["P5"].status == "fails"
    for key in ("P1", "P2", "P3"):
        assert cert[key].status != "holds", (key, cert[key].reason)
    assert "diverged" in cert["P3"].reason


@pytest.mark.parametrize("cls,p,X,truth", more_variants())
def test_more_variants_correct_or_inconclusive(cls, p, X, truth):
    _assert_never_wrong(certify(X, p), truth)


@pytest.mark.parametrize("K", [20_000, 50_000])
def test_sam_on_x2_with_a_shrinking_oscillation(K):
    tr = _sam_x2(K)
    cert = certify(tr, "x2")
    assert [key for key in KEYS if cert[key].status == "fails"] == []


def plain():
    out = []
    for scale in (1.0, 1e-12, 1e12):
        k = _k(3000)
        out.append(pytest.param(half(3), 0.99 ** k * np.array([1.0, -2.0, 0.5]), ALL, scale, id=f"geometric@{scale:g}"))
        k = _k(20_000)
        out.append(pytest.param(quadratic(2, center=[1.0, -1.0]), np.array([1.0, -1.0]) + _unit(2, 8) / k, ALL, scale,
                                id=f"1/k@{scale:g}"))
        out.append(pytest.param(half(), 0.5 * (-1.0) ** k, NONE, scale, id=f"2-cycle@{scale:g}"))
        k = _k(3000)
        out.append(pytest.param(half(2), 1.01 ** k * np.array([1.0, 2.0]), DIV, scale, id=f"divergence@{scale:g}"))
    return out


@pytest.mark.parametrize("p,X,truth,scale", plain())
def test_plain_truth_stays_decisive(p, X, truth, scale):
    cert = certify(X, scaled(p, scale) if scale != 1.0 else p)
    assert cert.summary == {key: "holds" if truth[key] else "fails" for key in KEYS}


def test_contradictions_are_downgraded_never_raised():
    """A certificate whose direct verdicts contradict an implication is downgraded (counted), not raised."""
    from convcheck.properties.decide import finish
    from convcheck.properties.verdict import Verdict
    direct = {key: Verdict("holds", "x") for key in KEYS}
    direct["P3"] = Verdict("fails", "y")
    cert = finish(direct, {}, {"on_inconsistency": "downgrade"}, bounded=True)
    assert cert.consistency["ok"] and cert.consistency["downgraded"] == ["P5 holds but P3 fails"]
    assert cert["P3"].status == "inconclusive" and "contradictory evidence" in cert["P3"].reason
    assert cert["P5"].status == "inconclusive" and cert["P1"].status == "holds"


def test_length_stability_is_recorded_and_applied():
    """Stuck at the non-stationary x = 1 until K/2, then at 0: the prefix K/2 says "fails", K says "holds"."""
    K = 4000
    k = _k(K)
    cert = certify(np.where(k <= K // 2, 1.0, 0.0), half())
    stability = cert.evidence["length_stability"]
    assert set(stability["prefixes"]) == {"K/4", "K/2"}
    for key in stability["unstable"]:
        assert cert[key].status == "inconclusive" and "not stable in the run length" in cert[key].reason
    assert [key for key in KEYS if cert[key].status == "fails"] == []


USER_EXPR = "log(1+(x-1)^2) + log(1+(y+2)^2) + 0.3*cos(x+2*y)"


@pytest.mark.parametrize("K", [20_000, 100_000])
def test_user_function_sam_never_fails(K):
    """SAM with t_k = 0.1/k^0.6, ρ_k = 0.1/k^0.7 on the issue's function from 12 starts (one batched
    sweep): Corollary 3.5 gives ∇f(x^k) → 0, so no property may be certified "fails"."""
    from convcheck import sweep
    from convcheck.problems import symbolic
    p = symbolic(USER_EXPR)
    rng = np.random.default_rng(12)
    starts = [np.array([3.0, 1.0])] + [rng.uniform(-5, 5, 2) for _ in range(11)]
    traces = sweep([dict(problem=p, method="sam", x0=s, iters=K, step="power:c=0.1,p=0.6",
                         radius="power:c=0.1,p=0.7") for s in starts])
    fails = []
    for x0, tr in zip(starts, traces):
        cert = certify(tr, p)
        fails += [f"{x0}: {key} {cert[key].reason}" for key in KEYS if cert[key].status == "fails"]
    assert fails == []
