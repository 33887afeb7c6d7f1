"""``convcheck.check`` (run, certify, compare, extend) and declared methods: a user's SAM variant gets
Corollary 3.5's predictions from its declaration and passes the theorem study; declared wrongly, the
study catches it."""
import json
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest

from convcheck import methods, run
from convcheck.check import check, join, resumable
from convcheck.cli import main
from convcheck.declarations import PerturbedGradient, declaration_of, declare
from convcheck.methods import Method
from convcheck.problems import bound, symbolic
from convcheck.properties import applicable, certify
from convcheck.properties.study import Case, run_study

QUARTIC = "(x^2 - 1)^2 + y^2"
STEP, RADIUS = "power:c=0.1,p=0.55", "power:c=0.05,p=0.7"


@dataclass(frozen=True)
class ScaledSAM(Method):
    """SAM with a fixed extra scaling c of the perturbation: x^{k+1} = x^k − t_k ∇f(x^k + c ρ_k d^k/‖d^k‖),
    d^k = ∇f(x^k). A member of Algorithm 1a with perturbation scale c: ‖g^k − ∇f(x^k)‖ ≤ c L ρ_k."""

    name: str = "scaled_sam"
    normalized: bool = True
    uses_radius: bool = True

    @property
    def declaration(self):
        return PerturbedGradient(direction="∇f(x^k)", scale=self.params["c"])

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return problem.grad(X + self.params["c"] * rho / gnorm * G), state


def test_check_extends_inconclusive_runs_by_resuming_and_stops_by_its_rule():
    """(x² − 1)² + y² with SAM: a 20-step run decides little; check doubles it (resuming from the last
    iterate) until P1–P5 are decided or the next doubling would pass max_iters."""
    problem = symbolic(QUARTIC, box=2.0)
    short = certify(run(problem, "sam", x0=[0.5, 1.0], iters=20, step=STEP, radius=RADIUS), problem)
    assert any(short[p].status == "inconclusive" for p in ("P1", "P2", "P3", "P4", "P5"))
    result = check(problem, "sam", x0=[0.5, 1.0], step=STEP, radius=RADIUS, iters=20, max_iters=20 * 2 ** 9)
    (checked,) = result.runs
    assert checked.iterations > 20 and checked.extensions[0] == "resumed at k = 21"
    undecided = checked.inconclusive
    assert (not undecided) or checked.iterations * 2 > result.max_iters
    for key in ("P1", "P2", "P3"):  # the run converges geometrically to a minimizer: plainly decided
        assert checked.certificate[key].status == "holds", (key, checked.certificate[key].reason)
    # the joined trace is the trace of one run of the same length (resuming is exact for SAM)
    whole = run(problem, "sam", x0=[0.5, 1.0], iters=checked.iterations, step=STEP, radius=RADIUS)
    np.testing.assert_allclose(checked.trace.f, whole.f, rtol=1e-12, atol=1e-15)
    common, mine, theirs = np.intersect1d(checked.trace.x_k, whole.x_k, return_indices=True)
    assert len(common) >= len(checked.trace.tail_k)
    np.testing.assert_allclose(checked.trace.x[mine], whole.x[theirs], rtol=1e-12, atol=1e-15)
    assert checked.trace.x_k[checked.trace.tail_start - 1] < checked.trace.tail_k[0]
    # why Theorem 4.2 does not apply to SAM: its method hypothesis, from SAM's declaration
    (theorem_42,) = [a for a in result.results if a.result == "theorem-4.2"]
    assert theorem_42.applies is False
    text = str(result)
    assert "Theorem 4.2 (USAM and the extragradient method): does not apply: violated: method is USAM or " \
           "extragradient (unnormalized perturbation): sam:eps_guard=0.0 is declared a member of Algorithm 1a" in text
    assert "property  verdict" in text


def test_methods_with_state_are_restarted_and_the_result_says_so():
    assert resumable(methods.get("sam")) == (True, "")
    can, why = resumable(methods.get("vasso:theta=0.5"))
    assert not can and "state" in why
    problem = symbolic(QUARTIC, box=2.0)
    result = check(problem, "vasso:theta=0.5", x0=[0.5, 1.0], step=STEP, radius=RADIUS, iters=20, max_iters=80)
    assert any("restarted, not resumed" in note for note in result.notes)
    (checked,) = result.runs
    # 20 steps decide nothing here (as for SAM above), so the run is extended: by restarting
    assert checked.iterations > 20
    assert checked.extensions[0] == "restarted with 40 steps" and checked.trace.last_k == checked.iterations + 1
    assert "extended" not in checked.trace.metadata


def test_join_refuses_a_trace_that_stopped():
    problem = symbolic("x^2")
    stopped = run(problem, "sam", x0=[0.0], iters=5, step=0.1, radius=0.1)
    assert stopped.status == "stationary"
    with pytest.raises(Exception, match="completed"):
        join(stopped, stopped)


def test_check_under_corollary_35_predicts_and_compares():
    problem = symbolic("log(1 + (x-1)^2) + log(1 + y^2)", L=bound(2.0), lower_bound=0.0)
    result = check(problem, "sam", starts=[[3.0, 2.0], [-1.0, 0.5]], step="power:c=0.5,p=0.6",
                   radius="power:c=0.1,p=0.7", iters=2000, max_iters=2000)
    assert [a.number for a in result.applying] == ["Corollary 3.5"]
    assert {k: v[0] for k, v in result.predictions().items()} == {"P1": "holds", "P2": "holds", "P3": "holds"}
    assert len(result.runs) == 2
    for checked in result.runs:
        assert [verdict for _, verdict, _ in checked.comparisons] != ["contradiction"]
    data = result.to_dict()
    assert json.dumps(data) and data["results"][2]["applies"] is True


def test_cli_check_prints_the_table_and_writes_a_report(tmp_path, capsys):
    out = tmp_path / "chk"
    code = main(["check", "--problem", "symbolic:log(1 + (x-1)^2) + log(1 + y^2)", "--assume", "L=2,lower_bound=0",
                 "--method", "sam", "--step", "power:c=0.5,p=0.6", "--radius", "power:c=0.1,p=0.7",
                 "--x0", "3,2", "--iters", "500", "--max-iters", "500", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "Corollary 3.5 (SAM and its normalized variants (Algorithm 1a), nonconvex): applies" in printed
    assert (out / "check.md").read_text().startswith("```\ncheck: sam")
    assert json.loads((out / "check.json").read_text())["runs"][0]["iterations"] == 500
    assert main(["certify", str(out / "run1.npz")]) == 0
    assert main(["check", "--problem", "logsum:n=2", "--assume", "L=2", "--method", "sam", "--step", "0.1",
                 "--radius", "0.1"]) == 2


CASE_GRID = (("x2", "power:c=0.2,p=0.6", "power:c=0.1,p=0.7"),
             ("logsum:n=2,seed=1", "power:c=0.4,p=0.55", "power:c=0.3,p=0.7"))


def test_a_declared_variant_gets_corollary_35_and_passes_the_theorem_study():
    variant = ScaledSAM(params={"c": 3.0})
    found = applicable("x2", variant, CASE_GRID[0][1], CASE_GRID[0][2], include_all=True)
    applying = [a.result for a in found if a.applies]
    assert applying == ["corollary-3.5"]  # not Theorem 3.2 / Example 3.1: it is not SAM itself
    assert {"P1", "P2", "P3"} <= set(found[2].predicted)
    study = run_study(cases=[Case("corollary-3.5", p, variant, s, r, 20000, 10000) for p, s, r in CASE_GRID],
                      quick=True)
    assert [row.verdict for row in study.rows] != ["contradiction"] * 2
    assert all(row.verdict != "contradiction" for row in study.rows), [row.details for row in study.rows]


def test_the_same_variant_declared_wrongly_is_caught_by_the_study():
    """Declared with perturbation ρ_k d^k/‖d^k‖ (scale 1) while it steps 3ρ_k: on f = x², whose gradient
    moves by exactly L‖p‖, the step's error 3Lρ_k breaks the declared bound Lρ_k at every iterate."""
    wrong = declare(ScaledSAM(params={"c": 3.0}), PerturbedGradient(direction="∇f(x^k)", scale=1.0))
    assert declaration_of(wrong).scale == 1.0 and declaration_of(ScaledSAM(params={"c": 3.0})).scale == 3.0
    study = run_study(cases=[Case("corollary-3.5", CASE_GRID[0][0], wrong, *CASE_GRID[0][1:], 20000, 10000)], quick=True)
    (row,) = study.rows
    assert row.verdict == "contradiction"
    assert "breaks its declared error bound" in " ".join(row.details)


METHOD_MODULE = '''
from dataclasses import dataclass
from convcheck.declarations import PerturbedGradient
from convcheck.methods import Method


@dataclass(frozen=True)
class Scaled(Method):
    name: str = "scaled_sam"
    normalized: bool = True
    uses_radius: bool = True
    declaration = PerturbedGradient(direction="∇f(x^k)", scale=2.0)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return problem.grad(X + 2.0 * rho / gnorm * G), state
'''


def test_a_method_loaded_with_py_on_the_command_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "h13_user_methods.py").write_text(textwrap.dedent(METHOD_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        code = main(["check", "--problem", "logsum:n=2,seed=1", "--method", "py:h13_user_methods:Scaled",
                     "--step", "power:c=0.4,p=0.55", "--radius", "power:c=0.3,p=0.7", "--x0", "0.5,0.5",
                     "--iters", "400", "--max-iters", "400", "--out", str(tmp_path / "o")])
        printed = capsys.readouterr().out
        assert code == 0 and "Corollary 3.5 (SAM and its normalized variants (Algorithm 1a), nonconvex): applies" in printed
        assert "perturbation 2·ρ_k" in printed
        # the trace records the declaration, so a report decides the hypotheses without importing the code
        sys.modules.pop("h13_user_methods")
        from convcheck.reports.report import runs_from_traces
        records = runs_from_traces([tmp_path / "o" / "run1.npz"])
        assert [r["result"] for r, *_ in records] == ["Corollary 3.5"]
    finally:
        sys.modules.pop("h13_user_methods", None)
    assert main(["check", "--problem", "x2", "--method", "py:h13_no_such_module:X", "--step", "0.1"]) == 2


def test_check_says_when_the_run_leaves_the_region_of_the_L_estimate():
    import convcheck

    problem = symbolic(QUARTIC)  # L estimated on [-1, 1]^2; x1 = (2, 1) starts outside
    result = convcheck.check(problem, "gd", x0=[2.0, 1.0], step=0.01, iters=50, max_iters=50)
    assert any("leave the box [[-1.0, 1.0], [-1.0, 1.0]]" in note for note in result.notes)
    inside = convcheck.check(symbolic(QUARTIC, box=3.0), "gd", x0=[2.0, 1.0], step=0.01, iters=50, max_iters=50)
    assert not any("leave the box" in note for note in inside.notes)


def test_a_sweep_never_batches_two_method_classes_that_share_a_name():
    @dataclass(frozen=True)
    class Twice(ScaledSAM):
        def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
            return 2.0 * G, state

    from convcheck import sweep

    one, two = ScaledSAM(params={"c": 1.0}), Twice(params={"c": 1.0})
    assert one.spec == two.spec
    a, b = sweep([dict(problem="x2", method=m, x0=[1.0], iters=3, step=0.1, radius=0.1) for m in (one, two)])
    np.testing.assert_allclose(b.x[1], [1.0 - 0.1 * 2.0 * 2.0])  # Twice: x − t·2∇f(x) = 1 − 0.4
    assert not np.allclose(a.x[1], b.x[1])


def test_an_undeclared_method_gets_no_prediction_and_is_told_why():
    @dataclass(frozen=True)
    class Mystery(Method):
        name: str = "mystery"
        normalized: bool = True
        uses_radius: bool = True

        def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
            return G, state

    found = applicable("logsum:n=2,seed=1", Mystery(), "power:c=0.4,p=0.55", "power:c=0.3,p=0.7", include_all=True)
    (corollary,) = [a for a in found if a.result == "corollary-3.5"]
    assert corollary.applies is None and not corollary.predicted
    assert "declares nothing the theory can use" in corollary.reason


def test_declarations_round_trip_as_plain_data():
    from convcheck import declarations as d

    for declared in (d.PerturbedGradient(direction="∇f(x^k) − σ m^{k−1}", scale=2.0), d.AbsoluteError(times_L=True,
                     reverse_sam=True, stays_at_stationary=True), d.RelativeError(nu=0.5), d.UnnormalizedPerturbation(sign=-1)):
        assert d.from_dict(json.loads(json.dumps(declared.to_dict()))) == declared
    assert d.from_dict({"family": "algorithm_9"}) is d.UNDECLARED
    assert isinstance(declaration_of(methods.get("igd:error=example34")), d.AbsoluteError)
    assert declaration_of(methods.get("igd:error=example34")).reverse_sam
    assert declaration_of(methods.get("igdr:nu=0.3")).nu == 0.3


@dataclass(frozen=True)
class StepNumberScaledGD(Method):
    """A stateless method whose direction depends on the step number: D^k = (1 + 10/k)∇f(x^k) (a
    relative error ν_k = 10/k, declared as the exact-gradient family only for this test)."""

    name: str = "step_number_scaled_gd"

    @property
    def declaration(self):
        from convcheck.declarations import RelativeError
        return RelativeError(nu=0.0)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return (1.0 + 10.0 / k) * G, state


@pytest.mark.parametrize("iters,x0", [(100, [0.3, 0.5]), (37, [1.7, -0.4]), (250, [-0.2, 2.0])])
def test_a_resumed_run_continues_the_step_number_a_method_sees(iters, x0):
    """check() once resumed with k restarted at 1: the joined trace of a k-dependent method was not a
    run the method can produce (x^150 off by 4e-3). Now the continuation sees k + K."""
    problem = symbolic(QUARTIC, box=2.0)
    method = StepNumberScaledGD()
    result = check(problem, method, x0=x0, step="constant:0.01", iters=iters, max_iters=iters * 8)
    (checked,) = result.runs
    assert checked.extensions and checked.extensions[0] == f"resumed at k = {iters + 1}"
    whole = run(problem, method, x0=x0, iters=checked.iterations, step="constant:0.01")
    common, mine, theirs = np.intersect1d(checked.trace.x_k, whole.x_k, return_indices=True)
    assert len(common) >= len(checked.trace.tail_k)
    np.testing.assert_allclose(checked.trace.x[mine], whole.x[theirs], rtol=1e-12, atol=1e-15)


@dataclass(frozen=True)
class GradientDescentDeclaredAsSAM(Method):
    """Plain GD (D = ∇f(x^k)) declared as SAM itself: it meets SAM's error bound ‖D − ∇f‖ ≤ Lρ_k
    trivially, so only an exact check of the declared step catches it."""

    name: str = "gd_declared_as_sam"
    normalized: bool = True
    uses_radius: bool = True
    declaration = PerturbedGradient(direction="gradient", scale=1.0)

    def direction_step(self, problem, X, G, gnorm, t, rho, state, noise, k):
        return G, state


#: SAM at half the radius, declared as SAM itself: within SAM's error bound, not SAM's step
HALF_RADIUS_SAM = declare(ScaledSAM(params={"c": 0.5}), PerturbedGradient(direction="gradient", scale=1.0))


@pytest.mark.parametrize("impostor", [GradientDescentDeclaredAsSAM(), HALF_RADIUS_SAM], ids=["gd", "half_radius"])
def test_a_method_falsely_declared_as_sam_is_blamed_not_the_paper(impostor):
    """Example 3.1 applies on a SAM declaration; a method that is not SAM then 'contradicts' it. The
    audit checks the declared step exactly, so the contradiction names the declaration."""
    from convcheck.declarations import audit
    from convcheck.problems import get

    problem = get("example31")
    params = problem.example31_parameters()
    result = check(problem, impostor, x0=params["x1"], step=f"constant:{params['t']!r}",
                   radius=f"constant:{params['rho']!r}", iters=2000, max_iters=2000)
    (checked,) = result.runs
    outcome = audit(impostor, problem, checked.trace, problem.meta.L)
    assert outcome["holds"] is False and "differs" in outcome["note"]
    text = str(result)
    assert "differs from it" in text, text
    # the real SAM passes the same audit on the same configuration
    real = run(problem, "sam", x0=params["x1"], iters=2000, step=params["t"], radius=params["rho"])
    assert audit(methods.get("sam"), problem, real, problem.meta.L)["holds"] is True
