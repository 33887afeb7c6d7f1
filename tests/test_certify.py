"""certify(): the labelled set (truth known analytically), Trace/array agreement, invariances, output.

The labelled sequences are in ``labelled_sequences.py``; the truth of P1–P5 for each is derived by
hand there. A decisive error is "holds" where the property fails or "fails" where it holds.
"""
import json
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck.errors import InputError, UnknownNameError
from convcheck.properties import Certificate, certify
from convcheck.properties.verdict import Verdict, enforce_implications
from convcheck.trace import Trace

from labelled_sequences import Case, all_cases, moved, quadratic, scaled

KEYS = ("P1", "P2", "P3", "P4", "P5")
BASE = all_cases()


def test_labelled_set_is_large_and_distinct():
    names = [c.name for c in BASE]
    assert len(set(names)) == len(names) >= 120
    assert sum(name.startswith("scipy ") for name in names) >= 20
    assert {m for m in ("BFGS", "CG", "L-BFGS-B", "Nelder-Mead") if any(f"scipy {m} " in n for n in names)} == \
        {"BFGS", "CG", "L-BFGS-B", "Nelder-Mead"}
    assert any("heavy ball" in n for n in names) and any("Nesterov" in n for n in names)
    for c in BASE:
        assert set(c.truth) == set(KEYS)
        assert np.all(np.isfinite(c.iterates)), c.name


@pytest.mark.parametrize("factor", [1.0, 1e-12, 1e12])
def test_labelled_set_zero_decisive_errors(factor):
    """Zero decisive errors, no contradiction downgraded, every inconclusive reason says what would decide.

    The inconclusive share is printed (before the rules of issue 12: 4.3% of 37 sequences; the grown set
    holds short scipy trajectories and slow momentum runs that a careful reading leaves open); it is
    bounded at 30% so that the rules cannot drift to "inconclusive everywhere"."""
    data = BASE if factor == 1.0 else [Case(f"{c.name} [f×{factor:g}]", scaled(c.problem, factor), c.iterates, c.truth)
                                       for c in BASE]
    errors, inconclusive, total, downgraded = [], 0, 0, 0
    for case in data:
        cert = certify(case.iterates, case.problem)
        assert cert.consistency["ok"], (case.name, cert.consistency)
        downgraded += len(cert.consistency["downgraded"])
        for key in KEYS:
            verdict = cert[key]
            total += 1
            if verdict.status == "inconclusive":
                inconclusive += 1
                assert "longer run" in verdict.reason, (case.name, key, verdict.reason)
            elif (verdict.status == "holds") != case.truth[key]:
                errors.append(f"{case.name} {key}: {verdict.status} ({verdict.reason})")
    print(f"f×{factor:g}: {len(data)} sequences, inconclusive {inconclusive}/{total} = {inconclusive / total:.1%}")
    assert errors == []
    assert downgraded == 0
    assert inconclusive <= 0.30 * total


@pytest.mark.parametrize("name", ["sublinear 1/k, shifted minimizer", "2-cycle ±0.5 on x^2",
                                  "ring: continuum, angle log k", "escape: exp valley, x = log k",
                                  "oscillation sin(sqrt k)"])
def test_invariant_to_scaling_and_translating_x(name):
    """z = s·x + a on z ↦ f((z − a)/s) gives the verdicts of x on f."""
    case = next(c for c in BASE if c.name == name)
    base = certify(case.iterates, case.problem).summary
    for s in (1e-6, 1e5):
        a = np.linspace(-3.0, 7.0, case.problem.dim) * s
        assert certify(s * case.iterates + a, moved(case.problem, s, a)).summary == base


def test_invariant_to_scaling_f_evidence_scales():
    case = next(c for c in BASE if c.name.startswith("sublinear 1/sqrt"))
    ref = certify(case.iterates, case.problem)
    big = certify(case.iterates, scaled(case.problem, 1e12))
    assert big.summary == ref.summary
    assert_allclose(big.evidence["scales"]["grad_max"], 1e12 * ref.evidence["scales"]["grad_max"], rtol=1e-12)
    assert_allclose(big["P3"].rate["exponent"], ref["P3"].rate["exponent"], rtol=1e-9)


def _trace_from(X, problem, checkpoints, tail, status="completed", status_k=None):
    """A runner-like Trace of the consecutive iterates X (x¹..x^K): every scalar, sparse iterates."""
    K = len(X)
    f = np.asarray(problem.f(X), float)
    g = np.linalg.norm(problem.grad(X), axis=-1)
    step = np.append(np.linalg.norm(np.diff(X, axis=0), axis=-1), np.nan)
    marks = np.unique(np.asarray(checkpoints, int))
    marks = marks[(marks >= 1) & (marks <= K - tail)]
    keep = np.concatenate([marks - 1, np.arange(K - tail, K)])
    nan = np.full(K, np.nan)
    return Trace(k=np.arange(1, K + 1), f=f, grad_norm=g, step_norm=step, step_size=nan, radius=nan,
                 x_k=keep + 1, x=X[keep], tail_start=len(marks), status=status, status_k=status_k)


@pytest.mark.parametrize("name", ["linear 0.99^k, quadratic n=3", "noisy 1/k (relative noise 0.5)",
                                  "2-cycle between minima ±1", "ring: continuum, angle sqrt k",
                                  "spikes at perfect squares", "escape: log(1+x^2), x = sqrt k",
                                  "converges to rho=1 on x^2 (1/k)", "divergence x = k on quadratic"])
def test_trace_and_array_give_the_same_verdicts(name):
    case = next(c for c in BASE if c.name == name)
    K = len(case.iterates)
    checkpoints = np.round(np.geomspace(1, K, 60))          # a different layout from the array path
    trace = _trace_from(case.iterates, case.problem, checkpoints, tail=min(K, 1000))
    from_trace = certify(trace, case.problem)
    from_array = certify(case.iterates, case.problem)
    # never opposite verdicts; on a noisy sequence the sparser layout (60 checkpoints) may leave one open
    assert not any({from_trace[key].status, from_array[key].status} == {"holds", "fails"} for key in KEYS)
    if "noisy" not in name:
        assert from_trace.summary == from_array.summary
    assert from_trace.evidence["run"]["source"] == "trace"


def test_stationary_trace_holds_trivially():
    p = quadratic(2)
    X = np.vstack([0.5 ** np.arange(1, 41)[:, None] * np.ones(2), np.zeros((1, 2))])
    trace = _trace_from(X, p, [1, 2, 4, 8, 16], tail=10, status="stationary", status_k=len(X))
    cert = certify(trace, p)
    assert cert.summary == dict.fromkeys(KEYS, "holds")
    assert "finite termination" in cert["P5"].reason


def test_diverged_trace_has_no_limit():
    p = quadratic(2)
    X = 1.5 ** np.arange(1, 301)[:, None] * np.array([1.0, -1.0])
    trace = _trace_from(X, p, 2 ** np.arange(9), tail=50, status="diverged", status_k=300)
    cert = certify(trace, p)
    assert cert["P5"].status == "fails" and cert["P4"].status == "fails"
    assert cert["P1"].status == "fails" and cert["P3"].status == "fails"
    assert cert.consistency["ok"]


def test_certificate_output_is_json_ready_and_readable():
    case = next(c for c in BASE if c.name.startswith("3-cycle between minima"))
    cert = certify(case.iterates, case.problem)
    assert isinstance(cert, Certificate)
    payload = json.loads(json.dumps(cert.to_dict(), allow_nan=False))
    assert payload["summary"] == cert.summary
    assert payload["evidence"]["cycle"]["period"] == 3
    assert payload["options"]["tail_windows"] == cert.options["tail_windows"]
    text = str(cert)
    for key in KEYS:
        assert key in text and cert[key].status in text
    assert dict(cert.items()).keys() == set(KEYS)
    assert cert["P5"].status == "fails" and "period 3" in cert["P5"].reason


def test_rates_of_linear_and_power_law_convergence():
    p = quadratic(3, diag=[1.0, 1.0, 1.0])
    k = np.arange(1, 2001, dtype=float)[:, None]
    linear = certify(0.98 ** k * np.ones(3), p)
    assert linear["P3"].rate["model"] == "linear"
    assert_allclose(linear["P3"].rate["factor"], 0.98, rtol=1e-6)
    power = certify(np.ones(3) / k ** 1.5, p)
    assert power["P3"].rate["model"] == "power"
    assert_allclose(power["P3"].rate["exponent"], 1.5, rtol=1e-3)
    assert_allclose(power["P5"].rate["exponent"], 1.5, rtol=0.05)


def test_implications_are_propagated_and_contradictions_reported():
    v = {key: Verdict("inconclusive", "x") for key in KEYS}
    v["P5"] = Verdict("holds", "x")
    record = enforce_implications(v, bounded=True)
    assert record["ok"] and all(v[key].status == "holds" for key in KEYS)
    assert v["P2"].implied_by == "P3" and v["P3"].implied_by == "P5"
    w = {key: Verdict("inconclusive", "x") for key in KEYS}
    w["P1"] = Verdict("fails", "x")
    enforce_implications(w, bounded=False)
    assert w["P3"].status == "fails" and w["P5"].status == "fails" and w["P2"].status == "inconclusive"
    bad = {key: Verdict("holds", "x") for key in KEYS}
    bad["P3"] = Verdict("fails", "x")
    record = enforce_implications(bad, bounded=True)
    assert not record["ok"] and "P5 holds but P3 fails" in record["violations"]


def test_bad_input_and_options_are_user_errors():
    p = quadratic(2)
    with pytest.raises(InputError):
        certify(np.zeros((10, 3)), p)
    with pytest.raises(UnknownNameError, match="tail_windows"):
        certify(np.zeros((10, 2)), p, tail_windowz=5)
    short = certify(np.ones((2, 2)), p)
    assert all(v.status == "inconclusive" and "longer run" in v.reason for _, v in short.items())


def test_million_step_trace_is_certified_quickly():
    """A 10⁶-step synthetic trace (scalars only plus a 4096-iterate tail): certified in seconds."""
    p = quadratic(4, diag=[1.0, 2.0, 3.0, 4.0])
    K, tail = 1_000_000, 4096
    k = np.arange(1, K + 1, dtype=float)
    direction = np.array([1.0, -1.0, 0.5, 2.0])
    marks = np.unique(np.round(np.geomspace(1, K - tail, 200)))
    x_k = np.concatenate([marks, np.arange(K - tail + 1, K + 1)]).astype(int)
    x = direction / x_k[:, None].astype(float)
    g = np.linalg.norm(direction * np.array([1.0, 2.0, 3.0, 4.0])) / k
    f = 0.5 * np.sum(np.array([1.0, 2.0, 3.0, 4.0]) * direction ** 2) / k ** 2
    step = np.linalg.norm(direction) * (1 / k - 1 / (k + 1))
    trace = Trace(k=k.astype(int), f=f, grad_norm=g, step_norm=step, step_size=np.full(K, 0.1),
                  radius=np.full(K, np.nan), x_k=x_k, x=x, tail_start=len(marks))
    start = time.perf_counter()
    cert = certify(trace, p)
    elapsed = time.perf_counter() - start
    print(f"10^6-step trace certified in {elapsed:.2f} s")
    assert cert.summary == dict.fromkeys(KEYS, "holds")
    assert_allclose(cert["P3"].rate["exponent"], 1.0, rtol=1e-3)
