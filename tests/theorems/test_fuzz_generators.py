"""The theorem fuzzer's generators: reproducible draws, correct metadata of the drawn problems, instances that
meet their result's hypotheses, and the judging rule (a decisive opposite of a prediction is a contradiction)."""
import json

import numpy as np

from convcheck.cli import main
from convcheck.properties import fuzz


def _lipschitz_ratio(problem, rng, pairs=64, spread=3.0):
    X = rng.standard_normal((pairs, problem.dim)) * spread
    Y = X + rng.standard_normal((pairs, problem.dim)) * rng.uniform(1e-3, spread, (pairs, 1))
    G = np.asarray(problem.grad(X)) - np.asarray(problem.grad(Y))
    return float(np.max(np.linalg.norm(G, axis=1) / np.linalg.norm(X - Y, axis=1)))


def test_draws_are_a_pure_function_of_seed_and_index():
    a, b = fuzz.draw_instance(7, 11), fuzz.draw_instance(7, 11)
    assert json.dumps(a.describe(), default=str) == json.dumps(b.describe(), default=str)
    assert fuzz.draw_instance(7, 12).describe() != a.describe()
    again = fuzz.rebuild(json.loads(json.dumps(a.recipe)))
    X = np.random.default_rng(0).standard_normal((5, again.dim))
    np.testing.assert_array_equal(np.asarray(again.f(X)), np.asarray(a.problem.f(X)))


def test_every_drawn_instance_meets_its_result():
    """48 draws: the target result applies (all hypotheses decided True) and predicts something; every
    result and every problem family is drawn."""
    instances = [fuzz.draw_instance(1, i) for i in range(48)]
    assert all(i.applicability.applies is True and i.applicability.predicted for i in instances)
    assert {i.result for i in instances} == set(fuzz.TARGETS)
    assert {i.recipe["kind"] for i in instances} == {"quadratic", "catalogue", "transformed", "symbolic"}


def test_transformed_problem_metadata():
    """g(x) = f(Qᵀ(x − a)/s): ∇g vanishes at the mapped minimizer, and its gradient's Lipschitz ratio on random
    pairs stays below the stated L/s² and comes within 40% of it (soft_quartic: L = 2√2 attained at |y| = 1)."""
    rng = np.random.default_rng(3)
    for scale in (0.3, 1.0, 4.0):
        recipe = {"kind": "transformed", "tag": "t", "spec": "soft_quartic:n=3", "scale": scale,
                  "Q": fuzz._rotation(rng, 3).tolist(), "shift": [1.0, -2.0, 0.5]}
        p = fuzz.rebuild(recipe)
        x_bar = p.meta.minimizer.points[0]
        np.testing.assert_allclose(x_bar, [1.0, -2.0, 0.5])
        assert np.linalg.norm(np.asarray(p.grad(x_bar[None, :]))) == 0.0
        ratio = _lipschitz_ratio(p, rng, pairs=4000, spread=scale)
        assert 0.6 * p.meta.L <= ratio <= p.meta.L * (1 + 1e-9), (scale, ratio, p.meta.L)


def test_symbolic_sum_constants_are_bounds():
    """The stated L = 2 + |c|(α² + β²) bounds the sampled Hessian norm, and f ≥ −|c| on a sample."""
    p, expr = fuzz.symbolic_sum(1.0, -2.0, 0.3, 1.0, 2.0, "s")
    assert expr == "log(1+(x-(1.0))^2)+log(1+(y-(-2.0))^2)+(0.3)*cos((1.0)*x+(2.0)*y)"
    rng = np.random.default_rng(0)
    assert _lipschitz_ratio(p, rng, pairs=2000) <= p.meta.L == 3.5
    X = rng.uniform(-6, 6, (20000, 2))
    assert float(np.min(np.asarray(p.f(X)))) >= -0.3


class _Verdict:
    def __init__(self, status):
        self.status, self.reason = status, f"certified {status}"


class _Trace:
    status = "completed"


def test_judge_counts_only_decisive_opposites():
    inst = fuzz.draw_instance(0, 0)
    keys = list(inst.applicability.predicted)
    cert = {k: _Verdict(v) for k, v in inst.applicability.predicted.items()}
    assert fuzz.judge(inst, cert, _Trace()).verdict == "consistent"
    cert[keys[0]] = _Verdict("inconclusive")
    assert fuzz.judge(inst, cert, _Trace()).verdict == "inconclusive"
    cert[keys[-1]] = _Verdict(fuzz.OPPOSITE[inst.applicability.predicted[keys[-1]]])
    outcome = fuzz.judge(inst, cert, _Trace())
    assert outcome.verdict == "contradiction" and outcome.contradictions == [keys[-1]]
    assert keys[-1] in fuzz.finding_text(outcome)


def test_cli_fuzz_runs_and_reports(capsys):
    status = main(["theorems", "--fuzz", "4", "--seed", "2", "--quiet", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["instances"] == 4 and out["seed"] == 2
    assert status == (1 if out["contradictions"] + out["errors"] else 0)
    assert main(["theorems", "--fuzz", "0"]) == 2


def test_a_raising_certify_is_reported_not_hidden(monkeypatch):
    inst = fuzz.draw_instance(0, 1)

    def broken(trace, problem):
        raise RuntimeError("inconsistent verdicts")
    monkeypatch.setattr(fuzz, "certify", broken)
    outcome = fuzz.certify_and_judge(inst, _Trace())
    assert outcome.verdict == "error" and "inconsistent verdicts" in fuzz.finding_text(outcome)
    campaign = fuzz.Campaign(0, [outcome], 0.0)
    assert campaign.bugs == [outcome] and "certify raised" in fuzz.campaign_table(campaign)
