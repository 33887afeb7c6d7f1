"""The paper's results as data: number, statement in our words, hypotheses, and what they predict.

Khanh, Luong, Mordukhovich, Tran, "Fundamental Convergence Analysis of Sharpness-Aware Minimization"
(NeurIPS 2024), Sections 3–4 and Appendices B–G. Each :class:`Result` names its hypotheses (keys of
:data:`HYPOTHESES`, predicates in :mod:`.hypotheses` / :mod:`.counterexamples`) and its :class:`Part` s;
a part adds hypotheses of its own and says which of P1–P5 must hold (or, for a counterexample, must
fail), and which rate or bound is stated. The auxiliary results of Appendices B and G (Lemma B.1,
Propositions B.3–B.5, Remarks G.1, G.3) and the Si & Yun 2023 bounds are statements about sequences,
not about a (problem, method, schedule) setting: they are registered in :data:`AUXILIARY` and checked
by :mod:`.auxiliary`.

Choices where the paper leaves room (each also in the statement text):

- P4 ("f(x^k) → f(x̄) for a stationary accumulation point") and P5 need an accumulation point to
  exist: Theorems 3.3(ii),(iii) and 4.1(ii),(iv),(v) are stated "if x̄ is an accumulation point". Their
  proofs keep {x^k} in a sublevel set of f: Theorem 3.3 shows f(x^k) + u_k nonincreasing for k ≥ K
  (u_k = c₂Σ_{i≥k} t_iε_i → 0), so f(x^k) ≤ f(x^K) + u_K; Theorem 4.1's (40) makes f(x^k)
  nonincreasing from some K on. With bounded level sets that sublevel set is compact, so an
  accumulation point exists and the conclusion is unconditional. That is why those parts carry
  "bounded_level_sets": it is the hypothesis under which the proofs themselves supply the accumulation
  point. (A finite run shows an accumulation point only asymptotically, so no run-time substitute.)
- Theorem 3.3(iii) / Corollary 3.5(iii) assume f(x^k) > f(x̄) for all large k, a run-time condition.
  We predict P5 only when (a) every stationary point is a global minimizer (so x̄, stationary by
  part (i), is one and f(x^k) ≥ f(x̄)) and (b) the method stays put at a stationary point
  (normalized methods terminate at ∇f = 0, IGD's "opposite" error vanishes there): then either
  f(x^k) > f(x̄) for all k, or the run stops at a minimizer — the theorem's "either finite
  termination or convergence" clause. Otherwise P5 is left unpredicted, with the reason.
- Theorem 3.2(ii), and Theorem 4.1 with bounded level sets but no Lipschitz gradient: a bounded
  sequence whose accumulation points are all stationary has ∇f(x^k) → 0 (continuity of ∇f on a
  compact set), so P1 and P3 are predicted alongside P2 [derived].
- Theorem 4.2 is stated for L-descent functions but its proof bounds ‖∇f(x + ρ∇f(x)) − ∇f(x)‖ by
  Lρ‖∇f(x)‖, i.e. uses C^{1,L}: we require C^{1,L}, with ν = L·sup ρ_k.
- Example 3.1 predicts failure of P2, P3, P4, P5 [derived]. Bound (16) gives d_{k+1} + (1 − tλ_min)d_k
  ≥ tρλ_min for d_k = ‖x^k − x*‖, so d_k and d_{k+1} are never both small: x^k does not converge and
  limsup ‖∇f‖ > 0. It shows that *not every* accumulation point is stationary (x*, the only
  stationary point, cannot be the only accumulation point), not that none is; P2 fails either way,
  and P4 would force x^k → x* (bounded run, strong convexity). P1 is not decided by the example.
- Example 3.4: x^k → ±ρ with f′(±ρ) = ±2ρ ≠ 0, so P1–P5 all fail (f(x^k) → ρ² ≠ 0 = f at the only
  stationary point).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from . import counterexamples as ex
from . import hypotheses as hy
from .hypotheses import Decision, Setting


@dataclass(frozen=True)
class Hypothesis:
    """A named, checkable hypothesis: ``check(setting) -> Decision``."""

    key: str
    statement: str
    check: Callable[[Setting], Decision]


@dataclass(frozen=True)
class Part:
    """One conclusion of a result: extra hypotheses, properties that must hold / fail, a rate or bound."""

    label: str
    statement: str
    hypotheses: tuple = ()
    holds: tuple = ()
    fails: tuple = ()
    rate: Optional[str] = None       # "kl" for Theorem 4.1(v)
    bound: Optional[str] = None      # "dai2023"
    checks: tuple = ()               # run-time checks on the trace, e.g. "f_eventually_nonincreasing"


@dataclass(frozen=True)
class Result:
    """A result of the paper (or the earlier bound it cites), as data."""

    key: str
    number: str
    title: str
    statement: str
    kind: str                        # "theorem" | "counterexample" | "remark" | "bound"
    hypotheses: tuple
    parts: tuple
    notes: str = ""
    methods: tuple = field(default=())

    def to_dict(self) -> dict:
        return {"key": self.key, "number": self.number, "title": self.title, "statement": self.statement,
                "kind": self.kind, "methods": list(self.methods), "notes": self.notes,
                "hypotheses": [{"key": h, "statement": HYPOTHESES[h].statement} for h in self.hypotheses],
                "parts": [{"label": p.label, "statement": p.statement, "hypotheses": list(p.hypotheses),
                           "holds": list(p.holds), "fails": list(p.fails), "rate": p.rate, "bound": p.bound,
                           "checks": list(p.checks)} for p in self.parts]}


def _h(key, statement, check):
    return key, Hypothesis(key, statement, check)


HYPOTHESES: dict[str, Hypothesis] = dict([
    _h("convex", "f is convex", hy.convex),
    _h("strongly_convex", "f is strongly convex (μ > 0)", hy.strongly_convex),
    _h("lipschitz_gradient", "f ∈ C^{1,L}: ∇f globally L-Lipschitz (3)", hy.lipschitz_gradient),
    _h("l_descent", "f satisfies the L-descent condition (4)", hy.l_descent),
    _h("bounded_below", "inf_k f(x^k) > −∞ (f bounded below)", hy.bounded_below),
    _h("bounded_level_sets", "f has bounded level sets", hy.bounded_level_sets),
    _h("unique_minimizer", "f has a unique minimizer", hy.unique_minimizer),
    _h("kl", "f has the KL property at the accumulation points (Assumption 2.3 for its φ)",
       hy.kl_at_accumulation_points),
    _h("lojasiewicz_q", "KL with φ(t) = M t^{1−q}, q ∈ (0, 1) known", hy.lojasiewicz_exponent_in_open_unit),
    _h("condition_9", "condition (9): Σ_k t_k [φ'(Σ_{i≥k} t_i ε_i)]^{-1} < ∞", hy.condition_9),
    _h("above_limit_or_stop", "f(x^k) > f(x̄) for large k, or the run stops at x̄ (see module docstring)",
       lambda s: _above_limit_or_stop(s)),
    _h("sum_t_infinite", "Σ t_k = ∞", hy.step_sum_diverges),
    _h("sum_t2_finite", "Σ t_k² < ∞", hy.step_squares_summable),
    _h("t_decreasing", "t_k ↓ 0", hy.step_decreasing_to_zero),
    _h("t_bounded_below", "t_k ≥ t̄ > 0 for large k", hy.step_bounded_below),
    _h("sup_rho_finite", "sup_k ρ_k < ∞", hy.radius_bounded),
    _h("sum_t_rho_finite", "Σ t_k ρ_k < ∞ (Σ t_k ε_k < ∞)", hy.product_summable),
    _h("limsup_error", "limsup ε_k < 2, i.e. limsup ρ_k < 2/L for ε_k = Lρ_k", hy.error_limsup_below_two),
    _h("rho_nu_over_L", "ρ_k ≤ ν/L with ν = L·sup ρ_k < 1", hy.radius_below_nu_over_L),
    _h("rule_12", "(12): Σ t_k = ∞, t_k ≤ (2 − 2ν − δ)/(L(1+ν)²) for large k, δ > 0 (descent L)",
       hy.step_rule_12),
    _h("rule_12_lipschitz", "(12) with L the Lipschitz constant of ∇f", hy.step_rule_12_lipschitz),
    _h("method_sam", "the method is SAM (6)", hy.method_is_sam),
    _h("method_igd", "the method is Algorithm 1 (IGD with absolute errors)", hy.method_absolute_error),
    _h("method_1a", "the method is a member of Algorithm 1a (SAM, RSAM, VaSSO, F-SAM)", hy.method_in_algorithm_1a),
    _h("method_igdr", "the method is Algorithm 2 (IGDr, relative error ν < 1; GD is ν = 0)", hy.method_is_igdr_like),
    _h("method_unnormalized", "the method is USAM (2a) or extragradient (2b)",
       hy.method_unnormalized),
    _h("quadratic", "f = ½⟨Ax,x⟩ − ⟨b,x⟩ with A ≻ 0", ex.is_quadratic),
    _h("eigen_ratio", "λ_max < 2λ_min [derived caveat]", ex.eigen_ratio_below_two),
    _h("step_13", "constant t in (13), t ≤ 2/(λ_min + λ_max)", ex.step_in_interval_13),
    _h("rho_constant", "constant ρ > 0", ex.radius_constant_positive),
    _h("x1_ball_15", "0 < ‖x¹ − x*‖ < tρλ_min/(1 − tλ_min)", ex.start_in_ball_15),
    _h("x_squared", "f(x) = x² on R", ex.is_x_squared),
    _h("reverse_sam", "IGD with the reverse-SAM error (10)", ex.reverse_sam),
    _h("t_below_half", "t_k ∈ [0, ½) for all k", ex.step_below_half),
    _h("x1_beyond_rho", "|x¹| > ρ", ex.start_beyond_radius),
    _h("dai_step", "constant t ≤ 1/L", ex.step_for_dai_bound),
    _h("radius_almost_constant", "ρ_k = C/k^p with 0 < p ≤ 0.01 (almost constant)",
       lambda s: _radius_family(s, "almost")),
    _h("radius_perfect_squares", "ρ_k = C on perfect squares, C/k^p otherwise, p > 0 (limsup ρ = C > 0)",
       lambda s: _radius_family(s, "squares")),
])


def _above_limit_or_stop(s: Setting) -> Decision:
    where = hy.stationary_points_are_minimizers(s)
    if where.value is not True:
        return Decision(None, "f(x^k) > f(x̄) for large k: a run-time condition, not decided because " + where.how)
    if hy.stays_at_stationary(s) is not True:
        return Decision(None, f"f(x^k) > f(x̄) for large k: {s.method.spec} can leave a minimizer it reaches "
                              "(random error), so finite termination is not guaranteed")
    return Decision(True, f"f(x^k) > f(x̄) for large k, or the run stops at x̄: {where.how}, and "
                          f"{s.method.spec} stays at a point where ∇f = 0")


def _radius_family(s: Setting, which: str) -> Decision:
    r = s.radius
    if r is None:
        return Decision(False, "the method has no radius")
    if which == "almost":
        ok = r.name in ("almost_constant", "power") and 0 < r.params["p"] <= 0.01 and list(r.params.values())[0] > 0
        return Decision(ok, f"ρ_k almost constant (C/k^p, 0 < p ≤ 0.01): radius {r.spec}")
    ok = r.name == "perfect_squares" and r.params["p"] > 0 and r.params["C"] > 0
    return Decision(ok, f"ρ_k of Remark G.2 (C on perfect squares, C/k^p else, p > 0): radius {r.spec}")


# ----------------------------------------------------------------------------- the parts shared by 3.3 / 3.5
def _absolute_error_parts(eps: str) -> tuple:
    return (
        Part("(i)", f"∇f(x^k) → 0, so every accumulation point is stationary ({eps})", (), ("P1", "P2", "P3")),
        Part("(ii)", "f(x^k) → f(x̄) for an accumulation point x̄ (one exists: with bounded level sets the "
             "proof's bound f(x^k) ≤ f(x^K) + u_K keeps x^k in a compact sublevel set)",
             ("bounded_level_sets",), ("P4",)),
        Part("(iii)", "x^k → x̄ under KL with Assumption 2.3, condition (9) and f(x^k) > f(x̄) eventually",
             ("bounded_level_sets", "kl", "condition_9", "above_limit_or_stop"), ("P5",)),
    )


def _relative_error_parts(lipschitz_given: bool) -> tuple:
    bounded_gives_p3 = () if lipschitz_given else (
        Part("(i)+", "bounded level sets: f(x^k) nonincreasing from some K on ((40)) keeps x^k in a compact "
             "sublevel set, whose accumulation points are all stationary by (i), so ∇f(x^k) → 0 by continuity of "
             "∇f, as in Theorem 3.2(ii) [derived; needs no Lipschitz gradient]", ("bounded_level_sets",),
             ("P1", "P3")),)
    return (
        Part("(i)", "every accumulation point is stationary", (), ("P2",)),) + bounded_gives_p3 + (
        Part("(ii)", "f(x^k) ↓ f(x̄), monotonically from some index on (an accumulation point exists: "
             "bounded level sets and (40))", ("bounded_level_sets",), ("P4",), checks=("f_eventually_nonincreasing",)),
        Part("(iii)", "∇f(x^k) → 0 when f ∈ C^{1,L}", () if lipschitz_given else ("lipschitz_gradient",), ("P1", "P3")),
        Part("(iv)", "x^k → x̄ under KL at the accumulation point x̄", ("bounded_level_sets", "kl"), ("P5",)),
        Part("(v)", "rates under KL with φ = M t^{1−q}, t_k ≥ t̄ > 0: ‖x^k − x̄‖, ‖∇f(x^k)‖ and f(x^k) − f(x̄) "
             "linear for q ≤ ½; ‖x^k − x̄‖, ‖∇f(x^k)‖ = O(k^{−(1−q)/(2q−1)}) and f(x^k) − f(x̄) = "
             "O(k^{−2(1−q)/(2q−1)}) for q ∈ (½, 1) (all three compared)",
             ("bounded_level_sets", "kl", "lojasiewicz_q", "t_bounded_below"), ("P5",), rate="kl"),
    )


_COR35 = ("method_1a", "lipschitz_gradient", "sum_t_infinite", "t_decreasing", "sum_t_rho_finite",
          "limsup_error", "bounded_below")

RESULTS: tuple = (
    Result("theorem-3.2", "Theorem 3.2", "SAM on convex functions",
           "SAM (6) on a convex f with L-Lipschitz gradient, with Σ t_k = ∞, Σ t_k² < ∞ and sup ρ_k < ∞ (ρ may "
           "stay constant): liminf ‖∇f(x^k)‖ = 0; with bounded level sets the iterates are bounded, every "
           "accumulation point is a minimizer and f(x^k) → f*; with a unique minimizer x^k converges to it. "
           "(∇f(x^k) ≠ 0 is assumed; otherwise SAM stops at a minimizer.)",
           "theorem", ("method_sam", "convex", "lipschitz_gradient", "sum_t_infinite", "sum_t2_finite",
                       "sup_rho_finite", "bounded_below"),
           (Part("(i)", "liminf ‖∇f(x^k)‖ = 0 (general setting)", (), ("P1",)),
            Part("(ii)", "bounded level sets: bounded iterates, stationary accumulation points, f(x^k) → f*; "
                 "P3 follows from boundedness [derived]", ("bounded_level_sets",), ("P2", "P3", "P4")),
            Part("(iii)", "unique minimizer: x^k converges to it", ("bounded_level_sets", "unique_minimizer"),
                 ("P5",))),
           methods=("sam",)),
    Result("theorem-3.3", "Theorem 3.3", "IGD with absolute errors (Algorithm 1), nonconvex",
           "Algorithm 1 on f ∈ C^{1,L} with (8): Σ t_k = ∞, t_k ↓ 0, Σ t_k ε_k < ∞, limsup ε_k < 2, and "
           "inf f(x^k) > −∞: (i) ∇f(x^k) → 0; (ii) f(x^k) → f(x̄) at accumulation points; (iii) with KL, "
           "Assumption 2.3, (9) and f(x^k) > f(x̄) eventually, x^k → x̄.",
           "theorem", ("method_igd", "lipschitz_gradient", "sum_t_infinite", "t_decreasing", "sum_t_rho_finite",
                       "limsup_error", "bounded_below"),
           _absolute_error_parts("ε_k absolute errors"), methods=("igd",)),
    Result("corollary-3.5", "Corollary 3.5", "SAM and its normalized variants (Algorithm 1a), nonconvex",
           "Algorithm 1a (SAM, RSAM, VaSSO, F-SAM) on f ∈ C^{1,L} with (11): Σ t_k = ∞, t_k ↓ 0, Σ t_k ρ_k < ∞, "
           "limsup ρ_k < 2/L, and inf f(x^k) > −∞: every conclusion of Theorem 3.3 with ε_k = Lρ_k.",
           "theorem", _COR35, _absolute_error_parts("ε_k = Lρ_k"), methods=hy.ALGORITHM_1A,
           notes="Algorithm 1a needs d^k ≠ 0 (F-SAM's d^k = g^k − σm^{k−1} could vanish); what a run does when "
                 "d^k = 0 or ∇f(x^k) = 0 is convcheck's documented choice (see convcheck.methods), with its own "
                 "trace status."),
    Result("theorem-4.1", "Theorem 4.1", "IGD with relative errors (Algorithm 2), L-descent functions",
           "Algorithm 2 (‖g^k − ∇f(x^k)‖ ≤ ν‖∇f(x^k)‖, ν < 1; GD is ν = 0) on an L-descent f with (12): either "
           "f(x^k) → −∞ (excluded when f is bounded below) or (i) accumulation points are stationary, (ii) "
           "f(x^k) ↓ f(x̄), (iii) ∇f(x^k) → 0 for f ∈ C^{1,L}, (iv) x^k → x̄ under KL, (v) rates under KL "
           "with exponent q and t_k ≥ t̄ > 0.",
           "theorem", ("method_igdr", "l_descent", "rule_12", "bounded_below"), _relative_error_parts(False),
           methods=("igdr", "gd")),
    Result("theorem-4.2", "Theorem 4.2", "USAM and the extragradient method",
           "USAM (2a) or extragradient (2b) with ρ_k ≤ ν/L, ν < 1, and (12): every conclusion of Theorem 4.1. "
           "The proof uses C^{1,L} (the Lipschitz bound on ∇f(x + ρ∇f(x)) − ∇f(x)), which we require.",
           "theorem", ("method_unnormalized", "lipschitz_gradient", "rho_nu_over_L", "rule_12_lipschitz",
                       "bounded_below"), _relative_error_parts(True), methods=("usam", "extragradient")),
    Result("example-3.1", "Example 3.1", "SAM with constant t and ρ does not converge (counterexample)",
           "SAM with constant t in (13) and constant ρ > 0 on a strongly convex quadratic, started with 0 < "
           "‖x¹ − x*‖ < tρλ_min/(1 − tλ_min), stays in that ball without ever reaching x*: the iterates do not "
           "converge, limsup ‖∇f‖ > 0, not every accumulation point is stationary (bound (16)), f(x^k) does not "
           "tend to f*.",
           "counterexample", ("method_sam", "quadratic", "eigen_ratio", "step_13", "rho_constant", "x1_ball_15"),
           (Part("", "P2, P3, P4 and P5 fail", (), fails=("P2", "P3", "P4", "P5")),), methods=("sam",)),
    Result("example-3.4", "Example 3.4", "IGD with a constant error converges to a non-stationary point",
           "Reverse-SAM IGD (10) on f(x) = x² with constant ρ > 0, |x¹| > ρ, t_k ∈ [0, ½), t_k ↓ 0, Σ t_k = ∞: "
           "x^k → ±ρ, where f′ = ±2ρ ≠ 0 (the error 2ρ is constant, so Σ t_k ε_k = ∞).",
           "counterexample", ("reverse_sam", "x_squared", "rho_constant", "t_below_half", "t_decreasing",
                              "sum_t_infinite", "x1_beyond_rho"),
           (Part("", "P1, P2, P3, P4 and P5 all fail", (), fails=("P1", "P2", "P3", "P4", "P5")),),
           methods=("igd",)),
    Result("remark-3.6", "Remark 3.6", "the almost constant radius ρ_k = C/k^p, small p, is admissible",
           "ρ_k = C/k^p with small p > 0 (C/k^0.001 in the paper, ≈ 0.986C at k = 10⁶) with t_k ~ 1/k satisfies "
           "(11) for every C > 0 (ρ_k → 0, so limsup ρ_k = 0 < 2/L; the condition C < 2/L belongs to Remark G.2), "
           "so Corollary 3.5 applies although ρ_k barely decreases.",
           "remark", ("radius_almost_constant",) + _COR35, _absolute_error_parts("ε_k = Lρ_k"),
           methods=hy.ALGORITHM_1A),
    Result("remark-G.2", "Remark G.2", "(11) does not force ρ_k → 0",
           "ρ_k = C on the perfect squares and C/k^p elsewhere (p > 0, C < 2/L) with t_k = 1/k: limsup ρ_k = C > 0, "
           "yet Σ t_k ρ_k < ∞, so Corollary 3.5 applies.",
           "remark", ("radius_perfect_squares",) + _COR35, _absolute_error_parts("ε_k = Lρ_k"),
           methods=hy.ALGORITHM_1A),
    Result("dai-2023", "Dai et al. 2023, Thm 1", "earlier bound for SAM on strongly convex functions",
           "SAM with constant t ≤ 1/L and ρ on a μ-strongly convex f with L-Lipschitz gradient: "
           "f(x^k) − f* ≤ (1 − tμ(2 − Lt))^{k−1}(f(x¹) − f*) + tL³ρ²/(2μ(2 − Lt)) at every k. It implies none "
           "of P1–P5 (the paper's Section 1.1 remark on earlier rates).",
           "bound", ("method_sam", "strongly_convex", "lipschitz_gradient", "dai_step", "rho_constant"),
           (Part("", "the bound holds at every iterate", (), bound="dai2023"),), methods=("sam",)),
)

RESULTS_BY_KEY = {r.key: r for r in RESULTS}


@dataclass(frozen=True)
class Auxiliary:
    """A result about sequences (Appendices B, G) or an earlier bound, with how it is checked.

    ``checked_by`` names the function of :mod:`.auxiliary` that checks it (None: not checkable, with
    the reason in ``note``); ``tests`` the test module that exercises it.
    """

    key: str
    number: str
    statement: str
    hypotheses: tuple
    conclusion: str
    checked_by: Optional[str]
    note: str
    tests: str = "tests/theorems/test_appendix_b_g.py"

    def to_dict(self) -> dict:
        return {"key": self.key, "number": self.number, "statement": self.statement,
                "hypotheses": list(self.hypotheses), "conclusion": self.conclusion,
                "checked_by": self.checked_by, "note": self.note, "tests": self.tests}


AUXILIARY: tuple = (
    Auxiliary("lemma-B.1", "Lemma B.1", "three sequences α_k, β_k, γ_k ≥ 0",
              ("(a) α_{k+1} − α_k ≤ β_kα_k + γ_k for large k", "(b) {β_k} bounded", "Σ β_k = ∞", "Σ γ_k < ∞",
               "Σ β_kα_k² < ∞"), "α_k → 0", "lemma_b1_sequences, lemma_b1_recursion, lemma_b1_on_run",
              "infinite sums are undecidable from a prefix, so the sequences are built in closed form: one family "
              "meets every hypothesis (α_k → 0), four each violate one hypothesis of (b) (α_k ↛ 0); (a) is checked "
              "on the prefix, and on SAM runs with α_k = ‖∇f(x^k)‖, β_k = Lt_k, γ_k = L²t_kρ_k (Theorem 3.3's proof)"),
    Auxiliary("proposition-B.3", "Proposition B.3", "KL and two descent conditions give convergence",
              ("(H1) f(x^k) − f(x^{k+1}) ≥ σ‖∇f(x^k)‖‖x^{k+1} − x^k‖ for large k",
               "(H2) f(x^{k+1}) = f(x^k) ⇒ x^{k+1} = x^k", "x̄ an accumulation point, f KL at x̄"), "x^k → x̄",
              "descent_inequalities",
              "(H1), (H2) are checked at every recorded step of GD runs with Theorem 4.1's σ = (2 − Lt)/2; the "
              "conclusion is Theorem 4.1(iv)'s P5, compared by the study"),
    Auxiliary("proposition-B.4", "Proposition B.4", "rates under KL with φ = M t^{1−q}",
              ("x^{k+1} = x^k + τ_kd^k, x^{k+1} ≠ x^k", "f(x^k) − f(x^{k+1}) ≥ βτ_k‖d^k‖²", "‖∇f(x^k)‖ ≤ α‖d^k‖",
               "τ_k ≥ τ̄ > 0", "KL at x̄ with ψ = M t^{1−q}"),
              "linear for q ∈ (0, ½]; ‖x^k − x̄‖ = O(k^{−(1−q)/(2q−1)}) for q ∈ (½, 1)", "descent_inequalities",
              "the decrease hypothesis is checked on GD runs (d^k = −∇f, τ_k = t, α = 1, β = 1 − Lt/2); the rates "
              "are Theorem 4.1(v)'s, compared by the study (soft_quartic: q = ¾; log-sum, quadratics: q = ½)"),
    Auxiliary("proposition-B.5", "Proposition B.5", "rates of x^k transfer to f and ∇f",
              ("L-descent", "x^k → x̄", "α‖∇f(x^k)‖² ≤ f(x^k) − f(x^{k+1}) for large k"),
              "linear x^k ⇒ linear f, ∇f; ‖x^k − x̄‖ = O(m(k)) ⇒ |f(x^k) − f(x̄)| = O(m(k)²), ‖∇f(x^k)‖ = O(m(k))",
              "rate_transfer",
              "the proof's inequalities 0 ≤ f − f(x̄) ≤ (L/2)‖x − x̄‖² and ‖∇f(x)‖ ≤ L‖x − x̄‖ are checked at every "
              "kept iterate; the three rates themselves are compared by the study (Theorem 4.1(v), 4.2(v))"),
    Auxiliary("remark-G.1", "Remark G.1", "Assumption 2.3 for Łojasiewicz functions",
              ("φ(s) = M s^{1−q}, M > 0, q ∈ [0, 1)",), "Assumption 2.3 holds with C = 1: (x + y)^q ≤ x^q + y^q",
              "assumption_2_3_ratio", "checked on a log grid of (0, ½)² for q ∈ [0, 1); control q > 1 fails"),
    Auxiliary("remark-G.3", "Remark G.3", "a sufficient case of condition (9)",
              ("φ(s) = M s^{1−q}, q ∈ (0, 1)", "t_k = 1/k", "ε_k = 1/k^p, p > 0"),
              "Σ_{i≥k} t_iε_i ≤ 1/(p(k−1)^p), and (9) holds", "remark_g3_tail_bound",
              "the tail bound is checked numerically; (9) itself is decided in closed form by "
              "convcheck.schedules.kl_condition_9 for each (p, q) of a grid"),
    Auxiliary("si-yun-2023", "Si & Yun 2023, Thms 3.3/3.4", "earlier averaged-gradient bounds for SAM",
              ("as in Si & Yun 2023 (not restated by the paper)",),
              "(1/k)Σ_{i≤k}‖∇f(x^i)‖² = O(1/k + 1/√k); = O(1/k) + L²ρ² in another setting", None,
              "not checkable: the paper quotes only the orders, without the constants or the step-size and "
              "smoothness hypotheses of Si & Yun's theorems; an O(·) without constants cannot be refuted by a "
              "finite run, and registering guessed hypotheses would claim more than the paper states. (Like "
              "Dai et al.'s, these bounds imply none of P1–P5.)", tests=""),
)

AUXILIARY_BY_KEY = {a.key: a for a in AUXILIARY}
