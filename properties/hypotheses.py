"""The hypotheses of the paper's results as checkable predicates, each returning a :class:`Decision`.

Khanh, Luong, Mordukhovich, Tran, "Fundamental Convergence Analysis of Sharpness-Aware Minimization"
(NeurIPS 2024); numbers and wording are the paper's own (Sections 3 and 4).

A predicate reads a :class:`Setting` (the problem's metadata, the method and its parameters, the step
and radius schedules, and optionally the initial point x¹) and answers True, False or None
("undecided"), always saying how: ``"f convex: meta.convex = True (exact)"``,
``"Σ t_k ρ_k < ∞: p-series with terms ~ 0.1·k^-1.5: p = 1.5 > 1"``. Rules of evidence:

- A constant counts when its provenance is "exact" or "bound" (a proven upper bound on a Lipschitz
  or descent constant is itself a valid constant). An "estimate", or an L valid only on a region
  (``meta.L_region``), decides nothing that needs a global constant: the hypothesis is undecided.
- Schedule facts come from :mod:`convcheck.schedules` (decided in closed form or by SymPy, else None).
- Method hypotheses read what the method declares (:mod:`convcheck.declarations`: Algorithm 1a with a
  direction rule, absolute or relative errors, unnormalized perturbation), never its name; a method
  that declares nothing leaves them undecided.
- A property stated as an "estimate" (convexity, level sets, a lower bound, an exponent) decides nothing.
- KL at accumulation points: ``meta.kl`` or real-analyticity (Remark 2.2). The desingularizing
  function is of Łojasiewicz form φ(s) = M s^{1−q} when f is real-analytic (some q ∈ [0, 1)) or when
  ``meta.kl_exponent`` gives q; Assumption 2.3 then holds with C = 1 (Remark G.1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from convcheck import declarations
from convcheck import schedules as schedules_module
from convcheck.schedule_facts import Fact

# Display only (Result.methods lists the paper's members of Algorithm 1a); membership itself is
# decided from the method's declaration (convcheck.declarations), never from its name.
ALGORITHM_1A = ("sam", "rsam", "vasso", "fsam")
# KL with exponent q implies KL with any larger exponent q' < 1 near x̄ (s^q' ≤ s^q for s < 1), and
# condition (9) only gets easier as q grows; so "(9) for some admissible q" is tested at this q.
LARGEST_TESTED_EXPONENT = 0.999


@dataclass(frozen=True)
class Decision(Fact):
    """A decided (True/False) or undecided (None) hypothesis, with how it was decided.

    The same tri-state as a schedule :class:`~convcheck.schedule_facts.Fact`; truth testing raises,
    so an undecided hypothesis never reads as False. Test ``.value``.
    """

    def __bool__(self) -> bool:
        raise TypeError("a Decision may be undecided; test decision.value (True, False or None)")


@dataclass(frozen=True)
class Setting:
    """What the hypotheses are decided on. ``radius`` is None for methods without one."""

    problem: Any
    method: Any
    step: Any
    radius: Any = None
    x0: Optional[np.ndarray] = None

    @property
    def meta(self):
        return self.problem.meta


def _fact(fact, statement: str) -> Decision:
    return Decision(fact.value, f"{statement}: {fact.how}")


def _provenance(meta, field: str) -> str:
    return meta.provenance.get(field, "exact")


# ----------------------------------------------------------------------------- constants of f
def lipschitz_constant(meta) -> tuple[Optional[float], str]:
    """Global Lipschitz constant of ∇f usable by a hypothesis, or (None, why not)."""
    if meta.descent_only:
        return None, "∇f is not globally Lipschitz (meta.descent_only = True)"
    if meta.L is None:
        return None, "no Lipschitz constant of ∇f is known (meta.L = None)"
    prov = _provenance(meta, "L")
    if meta.L_region is not None:
        return None, f"L = {meta.L:g} holds only on {meta.L_region} ({prov}), not on all of R^n"
    if prov == "estimate":
        return None, f"L = {meta.L:g} is only an estimate"
    return float(meta.L), f"L = {meta.L:g} ({prov})"


def descent_constant(meta) -> tuple[Optional[float], str]:
    """Constant of the L-descent condition (4) usable by a hypothesis, or (None, why not)."""
    if meta.descent_L is not None:
        prov = _provenance(meta, "descent_L")
        if prov == "estimate" or (meta.L_region is not None and not meta.descent_only):
            return None, f"descent constant {meta.descent_L:g} is only an estimate or local"
        return float(meta.descent_L), f"descent L = {meta.descent_L:g} ({prov})"
    L, how = lipschitz_constant(meta)
    return L, (how + "; (3) implies (4)") if L is not None else how


def lipschitz_gradient(s: Setting) -> Decision:
    """f ∈ C^{1,L}, eq. (3): ∇f globally L-Lipschitz."""
    L, how = lipschitz_constant(s.meta)
    if s.meta.descent_only:
        return Decision(False, "f ∈ C^{1,L}: " + how)
    return Decision(True if L is not None else None, "f ∈ C^{1,L}: " + how)


def l_descent(s: Setting) -> Decision:
    """The L-descent condition (4): f(y) ≤ f(x) + ⟨∇f(x), y − x⟩ + (L/2)‖y − x‖²."""
    L, how = descent_constant(s.meta)
    return Decision(True if L is not None else None, "L-descent (4): " + how)


def convex(s: Setting) -> Decision:
    """f convex; an estimated convexity (sampled Hessians) decides nothing."""
    value = s.meta.convex
    if value is None:
        return Decision(None, "f convex: unknown (meta.convex = None)")
    prov = _provenance(s.meta, "convex")
    if prov == "estimate":
        return Decision(None, f"f convex: convex = {value} is only an estimate{_region_text(s.meta)}")
    return Decision(value, f"f convex: meta.convex = {value} ({prov})")


def _region_text(meta) -> str:
    return f" (on {meta.L_region})" if meta.L_region is not None else ""


def strongly_convex(s: Setting) -> Decision:
    mu = s.meta.mu
    if mu is None or s.meta.convex is None:
        return Decision(None, "f strongly convex: modulus mu unknown")
    prov = _provenance(s.meta, "mu")
    if prov == "estimate":
        return Decision(None, f"f strongly convex: mu = {mu:g} is only an estimate")
    return Decision(bool(s.meta.convex and mu > 0), f"f strongly convex: mu = {mu:g} ({prov})")


def bounded_below(s: Setting) -> Decision:
    """inf_k f(x^k) > −∞, which holds whenever f is bounded below (f* finite)."""
    f_star = s.meta.f_star
    lower = getattr(s.meta, "lower_bound", None)
    if f_star is None and lower is not None and math.isfinite(lower):
        prov = _provenance(s.meta, "lower_bound")
        if prov == "estimate":
            return Decision(None, f"inf f(x^k) > −∞: f ≥ {lower:g} is only an estimate")
        return Decision(True, f"inf f(x^k) > −∞: f is bounded below by {lower:g} ({prov})")
    if f_star is None:
        return Decision(None, "inf f(x^k) > −∞: f* unknown")
    if math.isfinite(f_star):
        return Decision(True, f"inf f(x^k) > −∞: f is bounded below, f* = {f_star:g}")
    return Decision(None, "inf f(x^k) > −∞: f is unbounded below (f* = −∞), undecided for the run")


def bounded_level_sets(s: Setting) -> Decision:
    """Every level set bounded; for convex f a nonempty bounded minimizer set suffices (Ruszczyński 2006)."""
    value = s.meta.bounded_level_sets
    if value is not None:
        prov = _provenance(s.meta, "bounded_level_sets")
        if prov == "estimate":
            return Decision(None, f"bounded level sets: bounded_level_sets = {value} is only an estimate")
        return Decision(bool(value), f"bounded level sets: meta.bounded_level_sets = {value}")
    if s.meta.convex and _provenance(s.meta, "convex") != "estimate" and s.meta.minimizer.bounded:
        return Decision(True, f"bounded level sets: f convex with a bounded {s.meta.minimizer.kind} minimizer "
                              "set (Ruszczyński 2006, Ex. 2.12)")
    return Decision(None, "bounded level sets: unknown")


def unique_minimizer(s: Setting) -> Decision:
    value = s.meta.unique_minimizer
    return Decision(value, f"unique minimizer: minimizer set is '{s.meta.minimizer.kind}'")


def stationary_points_are_minimizers(s: Setting) -> Decision:
    """Every stationary point of f is a global minimizer.

    Decided True for convex f, or when the metadata lists the stationary points completely
    (``meta.provenance["stationary_points"] == "exact"``) and each lies in the minimizer set.
    """
    if s.meta.convex and _provenance(s.meta, "convex") != "estimate":
        return Decision(True, "every stationary point is a global minimizer: f is convex")
    points = s.meta.stationary_points
    if points is not None and _provenance(s.meta, "stationary_points") == "exact" \
            and "stationary_points" in s.meta.provenance:
        dist = s.meta.minimizer.distance(np.asarray(points))
        if dist is not None:
            ok = bool(np.all(dist <= 1e-12 * (1 + np.abs(points).max())))
            return Decision(ok, f"every stationary point is a global minimizer: the {len(points)} listed "
                                f"stationary points (complete list) {'all' if ok else 'do not all'} lie in the minimizer set")
    return Decision(None, "every stationary point is a global minimizer: unknown for nonconvex f (the metadata "
                          "does not list the stationary points completely)")


def kl_at_accumulation_points(s: Setting) -> Decision:
    """KL property (Definition 2.1) at the accumulation points: meta.kl, or f real-analytic (Remark 2.2)."""
    if s.meta.kl:
        return Decision(True, "KL at accumulation points: meta.kl = True (KL at every point)")
    if s.meta.analytic:
        return Decision(True, "KL at accumulation points: f is real-analytic (Remark 2.2)")
    return Decision(None, f"KL at accumulation points: unknown (meta.kl = {s.meta.kl}, analytic = {s.meta.analytic})")


def kl_exponent(s: Setting) -> tuple[Optional[float], str]:
    """The Łojasiewicz exponent q at the accumulation points, when the metadata gives it for all of them."""
    q = s.meta.kl_exponent
    if q is None:
        return None, "KL exponent unknown (meta.kl_exponent = None)"
    if _provenance(s.meta, "kl_exponent") == "estimate":
        return None, f"q = {q:g} is only an estimate"
    where = stationary_points_are_minimizers(s)
    if where.value is not True:
        return None, f"q = {q:g} is known at the minimizers only, and {where.how}"
    return float(q), f"q = {q:g} at the minimizers ({_provenance(s.meta, 'kl_exponent')}); {where.how}"


def lojasiewicz_exponent_in_open_unit(s: Setting) -> Decision:
    """KL with φ(t) = M t^{1−q}, q ∈ (0, 1) known at the accumulation point (Theorem 4.1(v))."""
    q, how = kl_exponent(s)
    if q is None:
        return Decision(None, "Łojasiewicz form with known q: " + how)
    return Decision(0 < q < 1, f"Łojasiewicz form with q ∈ (0, 1): {how}")


# ----------------------------------------------------------------------------- schedules
def step_sum_diverges(s: Setting) -> Decision:
    return _fact(s.step.sum_diverges(), "Σ t_k = ∞")


def step_squares_summable(s: Setting) -> Decision:
    return _fact(s.step.sum_squares_converges(), "Σ t_k² < ∞")


def step_decreasing_to_zero(s: Setting) -> Decision:
    return _fact(s.step.eventually_nonincreasing_to_zero(), "t_k ↓ 0")


def step_bounded_below(s: Setting) -> Decision:
    return _fact(s.step.inf_tail_positive(), "t_k ≥ t̄ > 0 for large k")


def _radius(s: Setting):
    return s.radius if s.radius is not None else schedules_module.constant(0.0)


def radius_bounded(s: Setting) -> Decision:
    value = _radius(s).sup()
    if value.value is None:
        return Decision(None, "sup ρ_k < ∞: " + value.how)
    return Decision(math.isfinite(value.value), f"sup ρ_k < ∞: sup ρ = {value.value:g} ({value.how})")


def error_scale(s: Setting) -> tuple[Optional[float], str]:
    """ε_k / (radius slot): 1 for IGD's own ε_k; L for Algorithm 1a and reverse SAM (ε_k = Lρ_k, C.5)."""
    declared = declarations.declaration_of(s.method)
    if isinstance(declared, declarations.AbsoluteError) and not declared.times_L:
        return declared.scale, ("ε_k is the radius schedule" if declared.scale == 1 else
                                f"ε_k = {declared.scale:g} × the radius schedule (declared)")
    scale = getattr(declared, "scale", 1.0)
    L, how = lipschitz_constant(s.meta)
    if L is None:
        return None, f"ε_k = L ρ_k with {how}"
    if scale != 1:
        return scale * L, f"ε_k = {scale:g}·L ρ_k (declared perturbation scale {scale:g}) with {how}"
    return L, f"ε_k = L ρ_k with {how}"


def product_summable(s: Setting) -> Decision:
    """Σ t_k ρ_k < ∞ (11) — equivalently Σ t_k ε_k < ∞ (8) with ε_k a constant multiple of ρ_k."""
    return _fact(schedules_module.sum_product_converges(s.step, _radius(s)), "Σ t_k ρ_k < ∞")


def error_limsup_below_two(s: Setting) -> Decision:
    """limsup ε_k < 2 (8), i.e. limsup ρ_k < 2/L for ε_k = Lρ_k (11)."""
    limsup = _radius(s).limsup()
    if limsup.value is None:
        return Decision(None, "limsup ε_k < 2: " + limsup.how)
    scale, how = error_scale(s)
    if scale is None:
        if limsup.value == 0:
            return Decision(True, f"limsup ε_k < 2: limsup ρ = 0 ({limsup.how}), whatever L is")
        return Decision(None, f"limsup ρ_k < 2/L: limsup ρ = {limsup.value:g}, but {how}")
    declared = declarations.declaration_of(s.method)
    if isinstance(declared, declarations.AbsoluteError) and not declared.times_L and scale == 1.0:
        return Decision(limsup.value < 2, f"limsup ε_k < 2: limsup ε = {limsup.value:g} ({limsup.how})")
    return Decision(limsup.value < 2 / scale, f"limsup ρ_k < 2/L: limsup ρ = {limsup.value:g} "
                                              f"{'<' if limsup.value < 2 / scale else '≥'} 2/L = {2 / scale:g} ({how})")


def condition_9(s: Setting) -> Decision:
    """Condition (9), Σ_k t_k [φ'(Σ_{i≥k} t_i ε_i)]^{-1} < ∞ (the typo Σ t_k ε_k read as Σ t_i ε_i)."""
    q, how_q = kl_exponent(s)
    if q is None:
        # an analytic f has *some* q < 1, but q can be arbitrarily close to 1 (x^2000): no stated or
        # bounded exponent, no decision
        if s.meta.kl_exponent is not None:
            # an exponent was stated but does not apply everywhere (an estimate, or known at the
            # minimizers only while other stationary points may be accumulation points)
            why = f"the stated Łojasiewicz exponent cannot be used: {how_q}"
        elif s.meta.analytic:
            why = ("f is analytic, but its Łojasiewicz exponent is not stated and may be arbitrarily close "
                   f"to 1 ({how_q})")
        else:
            why = f"φ is not known to be of Łojasiewicz form ({how_q})"
        return Decision(None, f"condition (9): {why}")
    base = q
    tried = sorted({base, max(base, LARGEST_TESTED_EXPONENT)})
    fact = None
    for exponent in tried:
        fact = schedules_module.kl_condition_9(s.step, _radius(s), exponent)
        if fact.value:
            why = "q" if exponent == base and q is not None else "some admissible q (KL with q implies KL with any larger q < 1)"
            return Decision(True, f"condition (9) with φ = M s^(1−q), q = {exponent:g} ({why}): {fact.how}")
    if fact.value is False and tried[-1] >= LARGEST_TESTED_EXPONENT:
        return Decision(None, f"condition (9) fails for q up to {tried[-1]:g} ({fact.how}); undecided for q closer to 1")
    return Decision(fact.value, f"condition (9): {fact.how}")


def _relative_error(s: Setting) -> tuple[Optional[float], str]:
    """ν of Algorithm 2: IGDr's parameter; for USAM/extragradient ν = L·sup ρ_k (Theorem 4.2 needs < 1)."""
    declared = declarations.declaration_of(s.method)
    if isinstance(declared, declarations.RelativeError):
        if declared.nu == 0:
            return 0.0, "ν = 0 (declared: the exact gradient)"
        return float(declared.nu), f"ν = {declared.nu:g} (declared relative error)"
    if not isinstance(declared, declarations.UnnormalizedPerturbation):
        return None, f"ν undecided: the method is {declared.describe()}, not a relative-error method"
    L, how = lipschitz_constant(s.meta)
    sup = _radius(s).sup()
    if sup.value is None or L is None:
        return None, f"ν = L·sup ρ_k undecided ({how}; {sup.how})"
    L = L * declared.scale
    factor = "L" if declared.scale == 1 else f"{declared.scale:g}·L"
    return L * sup.value, f"ν = {factor}·sup ρ = {L:g}·{sup.value:g} = {L * sup.value:g}"


def radius_below_nu_over_L(s: Setting) -> Decision:
    """ρ_k ≤ ν/L for some ν ∈ [0, 1) (Theorem 4.2): taken with ν = L·sup_k ρ_k."""
    nu, how = _relative_error(s)
    if nu is None:
        return Decision(None, "ρ_k ≤ ν/L with ν < 1: " + how)
    return Decision(nu < 1, f"ρ_k ≤ ν/L with ν < 1: {how} {'<' if nu < 1 else '≥'} 1")


def step_rule_12(s: Setting, constant: str = "descent") -> Decision:
    """(12): Σ t_k = ∞ and t_k ≤ (2 − 2ν − δ)/(L(1+ν)²) for large k, some δ > 0.

    The bound with some δ > 0 holds iff limsup t_k < (2 − 2ν)/(L(1+ν)²). Theorem 4.1 uses the descent
    constant; Theorem 4.2 the Lipschitz constant (its proof uses C^{1,L}).
    """
    L, how_L = descent_constant(s.meta) if constant == "descent" else lipschitz_constant(s.meta)
    nu, how_nu = _relative_error(s)
    diverges = s.step.sum_diverges()
    limsup = s.step.limsup()
    if diverges.value is False:
        return Decision(False, f"(12): Σ t_k < ∞ ({diverges.how})")
    if L is None or nu is None or limsup.value is None or nu >= 1:
        why = how_L if L is None else how_nu if nu is None or nu >= 1 else limsup.how
        return Decision(None if nu is None or nu < 1 else False, f"(12): undecided or violated: {why}")
    bound = (2 - 2 * nu) / (L * (1 + nu) ** 2)
    ok = limsup.value < bound
    return Decision(ok if diverges.value else (None if ok else False),
                    f"(12): limsup t = {limsup.value:g} {'<' if ok else '≥'} (2 − 2ν)/(L(1+ν)²) = {bound:g} "
                    f"({how_nu}; {how_L}); Σ t_k = ∞: {diverges.how}")


def step_rule_12_lipschitz(s: Setting) -> Decision:
    return step_rule_12(s, constant="lipschitz")


# ----------------------------------------------------------------------------- methods
# Each asks the method's declaration (convcheck.declarations), never its name.
def _declared(s: Setting):
    return declarations.declaration_of(s.method)


def _method_decision(ok: Optional[bool], label: str, s: Setting) -> Decision:
    declared = _declared(s)
    if declared.family == "undeclared":
        return Decision(None, f"method is {label}: {s.method.spec} declares nothing the theory can use "
                              "(give it a convcheck.declarations declaration)")
    return Decision(ok, f"method is {label}: {s.method.spec} is declared {declared.describe()}")


def method_is_sam(s: Setting) -> Decision:
    """SAM (6): the Algorithm 1a member with d^k = ∇f(x^k) and perturbation ρ_k d^k/‖d^k‖."""
    declared = _declared(s)
    return _method_decision(isinstance(declared, declarations.PerturbedGradient) and declared.is_sam, "SAM (6)", s)


def method_in_algorithm_1a(s: Setting) -> Decision:
    """A member of Algorithm 1a (any direction rule d^k ≠ 0, perturbation a fixed multiple of ρ_k d^k/‖d^k‖)."""
    return _method_decision(isinstance(_declared(s), declarations.PerturbedGradient), "a member of Algorithm 1a", s)


def method_absolute_error(s: Setting) -> Decision:
    """Algorithm 1 (inexact gradient with absolute errors ε_k)."""
    return _method_decision(isinstance(_declared(s), declarations.AbsoluteError),
                            "Algorithm 1 (IGD, absolute errors)", s)


def method_unnormalized(s: Setting) -> Decision:
    """USAM (2a) or extragradient (2b): an unnormalized perturbation ±ρ_k ∇f(x^k)."""
    return _method_decision(isinstance(_declared(s), declarations.UnnormalizedPerturbation),
                            "USAM or extragradient (unnormalized perturbation)", s)


def igd_absolute_error(s: Setting) -> Decision:
    """Algorithm 1 (IGD with absolute errors ε_k), or any Algorithm 1a member (ε_k = Lρ_k, proof C.5)."""
    ok = isinstance(_declared(s), (declarations.AbsoluteError, declarations.PerturbedGradient))
    return _method_decision(ok, "Algorithm 1 (IGD, absolute errors) or a member of Algorithm 1a", s)


def method_is_igdr_like(s: Setting) -> Decision:
    """Algorithm 2 (IGDr, relative error ν < 1), or GD (ν = 0)."""
    return _method_decision(isinstance(_declared(s), declarations.RelativeError),
                            "Algorithm 2 (IGDr) or GD (ν = 0)", s)


def stays_at_stationary(s: Setting) -> Optional[bool]:
    """Whether the method stays at a point where ∇f = 0 (Algorithm 1a: the runner's finite termination,
    which needs normalization without an epsilon guard; otherwise as declared)."""
    declared = _declared(s)
    if isinstance(declared, declarations.PerturbedGradient):
        return bool(s.method.stops_at_zero_gradient) or None
    return declared.stays_at_stationary
