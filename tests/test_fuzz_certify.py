"""Property-based tests of the certifier on random sequences: no crash, consistent implications,
the same verdicts when f is scaled by a positive constant."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcheck.problems.base import FunctionProblem, Meta
from convcheck.properties import certify

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def problem(kind: str, dim: int, scale: float = 1.0) -> FunctionProblem:
    if kind == "quadratic":
        weights = np.linspace(1.0, 3.0, dim)
        return FunctionProblem("fuzz_quadratic", Meta(dim=dim), lambda X: scale * 0.5 * (weights * X * X).sum(-1),
                               lambda X: scale * weights * X)
    return FunctionProblem("fuzz_ring", Meta(dim=dim), lambda X: scale * ((X * X).sum(-1) - 1.0) ** 2,
                           lambda X: scale * 4.0 * ((X * X).sum(-1, keepdims=True) - 1.0) * X)


@st.composite
def sequences(draw):
    dim = draw(st.integers(1, 3))
    length = draw(st.integers(2, 600))
    kind = draw(st.sampled_from(["geometric", "power", "walk", "cycle", "noisy", "constant", "growing"]))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    k = np.arange(1, length + 1, dtype=float)[:, None]
    start = rng.standard_normal(dim)
    if kind == "geometric":
        X = start * draw(st.floats(0.05, 0.999)) ** k
    elif kind == "power":
        X = start / k ** draw(st.floats(0.05, 3.0))
    elif kind == "walk":
        X = start + np.cumsum(rng.standard_normal((length, dim)), axis=0) * draw(st.floats(1e-6, 1.0))
    elif kind == "cycle":
        period = draw(st.integers(2, 5))
        X = rng.standard_normal((period, dim))[np.arange(length) % period]
    elif kind == "noisy":
        X = start / k + draw(st.floats(1e-12, 1e-2)) * rng.standard_normal((length, dim))
    elif kind == "constant":
        X = np.repeat(start[None], length, axis=0)
    else:
        X = start * k ** draw(st.floats(0.1, 2.0))
    return X, draw(st.sampled_from(["quadratic", "ring"]))


@FUZZ
@given(sequences(), st.sampled_from([1e-9, 1e-3, 7.0, 1e8]))
def test_certifier_is_total_consistent_and_scale_invariant(case, scale):
    X, kind = case
    base = certify(X, problem(kind, X.shape[1]))
    scaled = certify(X, problem(kind, X.shape[1], scale))
    assert base.consistency["ok"], base.consistency
    statuses = base.summary
    assert set(statuses) == {"P1", "P2", "P3", "P4", "P5"}
    assert set(statuses.values()) <= {"holds", "fails", "inconclusive"}
    # the implication chain, read off the verdicts
    if statuses["P5"] == "holds":
        assert statuses["P3"] == "holds" and statuses["P4"] == "holds"
    if statuses["P3"] == "holds":
        assert statuses["P2"] != "fails" and statuses["P1"] != "fails"
    assert scaled.summary == statuses
