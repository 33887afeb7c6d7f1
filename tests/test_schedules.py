"""Schedules t_k, rho_k (convcheck.schedules): values, SymPy forms, specs and the facts the theorems need.

Each fact test states the series rule or remark of the paper (Khanh, Luong, Mordukhovich, Tran, NeurIPS 2024)
it encodes. Closed-form answers are asserted exactly; SymPy-decided ones are asserted exactly where the
order test is guaranteed to decide them, and "correct or unknown" where SymPy may give up.
"""
import json
import math
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck import schedules
from convcheck.errors import ExpressionError, InputError, SpecError, UnknownNameError
from convcheck.schedule_facts import K, Fact, sympy_call

FAMILY_SPECS = [
    "constant:0.1", "power:c=0.1,p=1", "power:c=2,p=0.5", "power:c=0.3,p=-0.5", "diminish1", "diminish2",
    "diminish3", "diminish1:eta1=0.2,block=7", "diminish2:eta1=0.1,block=3", "diminish3:eta1=0.1,block=5",
    "almost_constant:C=0.1", "perfect_squares:C=0.1,p=0.5", "perfect_squares:C=0.2,p=0",
]


# --------------------------------------------------------------------------- values
def test_diminish_values_match_spec_table():
    """The diminishing-schedule table, eta1 = 0.1 and n = 1, 5, 10, 50, 100, 200, to the printed digits."""
    epochs = np.array([1, 5, 10, 50, 100, 200])
    table = {
        schedules.diminish1: ["0.1", "0.02", "0.01", "0.002", "0.001", "0.0005"],
        schedules.diminish2: ["0.1", "0.0447", "0.0316", "0.0141", "0.0100", "0.00707"],
        schedules.diminish3: ["0.0721", "0.0303", "0.0180", "0.00335", "0.00147", "0.00064"],
    }
    for factory, printed in table.items():
        values = factory(eta1=0.1).values(epochs)
        for value, text in zip(values, printed):
            half_last_digit = 0.5 * 10.0 ** -len(text.split(".")[1])
            assert abs(value - float(text)) <= half_last_digit, (factory.__name__, value, text)


def test_block_holds_the_epoch_value():
    """block=B: t_k = schedule(n) with the epoch n = ⌊(k−1)/B⌋ + 1."""
    k = np.arange(1, 31)
    epochs = (k - 1) // 5 + 1
    assert_allclose(schedules.diminish1(0.1, block=5).values(k), 0.1 / epochs, rtol=1e-15)
    assert_allclose(schedules.diminish2(0.1, block=5).values(k), 0.1 / epochs ** 0.5001, rtol=1e-15)
    m = epochs // 5 + 2
    assert_allclose(schedules.diminish3(0.1, block=5).values(k), 0.1 / (m * np.log(m)), rtol=1e-15)


@pytest.mark.parametrize("spec", FAMILY_SPECS + ["expr:0.1/(k*log(k+1))", "expr:0.1/floor((k+4)/5)"])
def test_sympy_form_equals_values(spec):
    """The SymPy form is the exact per-iteration formula (floor for blocks, Piecewise for squares)."""
    schedule = schedules.from_spec(spec)
    k = np.arange(1, 200)
    exact = [float(schedule.sympy_expr.subs(K, int(i))) for i in k]
    assert_allclose(schedule.values(k), exact, rtol=1e-13)


def test_values_are_vectorised_float64_any_shape():
    schedule = schedules.power(0.1, 1)
    k = np.arange(1, 13).reshape(3, 4)
    out = schedule(k)
    assert out.dtype == np.float64 and out.shape == (3, 4)
    assert_allclose(out, 0.1 / k)
    constant_expr = schedules.from_expr("0.25").values(k)
    assert constant_expr.shape == (3, 4)
    assert_allclose(constant_expr, 0.25)


def test_values_of_a_million_indices_in_one_call():
    k = np.arange(1, 1_000_001)
    for spec in ("diminish3:block=5", "perfect_squares:C=0.1,p=0.5", "expr:0.1/(k*log(k+1))"):
        out = schedules.from_spec(spec).values(k)
        assert out.shape == k.shape and np.all(np.isfinite(out))


def test_perfect_squares_values_exact_for_large_squares():
    """Squares near 2^52 where float sqrt may round: the integer correction must find them."""
    roots = np.array([1, 2, 3, 10**6, 67_108_863, 67_108_864], dtype=np.int64)
    squares = roots * roots
    schedule = schedules.perfect_squares(0.5, 1.0)
    assert_allclose(schedule.values(squares), 0.5)
    assert_allclose(schedule.values(squares[1:] - 1), 0.5 / (squares[1:] - 1))
    assert_allclose(schedule.values(squares + 1), 0.5 / (squares + 1))


def test_remark_3_6_almost_constant_radius():
    """Remark 3.6: rho_k = C/k^0.001 gives rho_{10^6} ≈ 0.9863 C; rho_k > 0.99 C only for k ≲ 23,000."""
    C = 0.05
    radius = schedules.almost_constant(C)
    assert_allclose(radius.values(np.array([10**6]))[0] / C, 0.9863, atol=5e-5)
    last_above = int(0.99 ** -1000)
    above, below = radius.values(np.array([last_above, last_above + 1])) / C
    assert above >= 0.99 > below and 22_000 < last_above < 24_000
    assert schedules.sum_product_converges(schedules.power(1, 1), radius).value is True


def test_remark_g2_perfect_squares_radius():
    """Remark G.2: t_k = 1/k, rho = C on squares else C/k^p: limsup rho = C, yet Σ t_k rho_k < ∞."""
    C, p = 0.1, 0.5
    radius = schedules.perfect_squares(C, p)
    assert_allclose(radius.values(np.array([1, 4, 9, 10**4])), C)
    assert_allclose(radius.values(np.array([2, 10])), [C / 2**p, C / 10**p])
    assert radius.limsup().value == C and radius.sup().value == C and radius.liminf().value == 0
    assert radius.sum_diverges().value is True and radius.sum_squares_converges().value is False
    assert radius.nonincreasing_to_zero().value is False
    assert radius.eventually_nonincreasing_to_zero().value is False
    assert schedules.sum_product_converges(schedules.power(1, 1), radius).value is True
    assert schedules.sum_product_converges(schedules.from_expr("1/k"), radius).value is True
    # with t_k = 1/k^0.5, Σ_j t_{j²} = Σ 1/j diverges
    assert schedules.sum_product_converges(schedules.power(1, 0.5), radius).value is False


# --------------------------------------------------------------------------- facts of one schedule
FAMILY_FACTS = {  # spec: (Σt=∞, Σt²<∞, ↓0 for all k, limsup, liminf)
    "constant:0.1": (True, False, False, 0.1, 0.1),
    "constant:0": (False, True, True, 0.0, 0.0),
    "power:c=0.1,p=1": (True, True, True, 0.0, 0.0),
    "power:c=2,p=0.5": (True, False, True, 0.0, 0.0),
    "power:c=0.1,p=2": (False, True, True, 0.0, 0.0),
    "power:c=0.3,p=-0.5": (True, False, False, math.inf, math.inf),
    "diminish1": (True, True, True, 0.0, 0.0),
    "diminish2": (True, True, True, 0.0, 0.0),  # 2 × 0.5001 > 1
    "diminish3": (True, True, True, 0.0, 0.0),  # ~ 0.5/(k ln k): Bertrand r = 1
    "diminish3:eta1=0.1,block=5": (True, True, True, 0.0, 0.0),
    "almost_constant:C=0.1": (True, False, True, 0.0, 0.0),
    "perfect_squares:C=0.2,p=0": (True, False, False, 0.2, 0.2),
    "perfect_squares:C=0,p=1": (False, True, True, 0.0, 0.0),
}


@pytest.mark.parametrize("spec", sorted(FAMILY_FACTS))
def test_family_facts_closed_form(spec):
    """p-series / Bertrand rules: Σ k^-p (log k)^-r < ∞ iff p > 1, or p = 1 and r > 1."""
    diverges, squares, to_zero, limsup, liminf = FAMILY_FACTS[spec]
    schedule = schedules.from_spec(spec)
    assert schedule.sum_diverges().value is diverges
    assert schedule.sum_squares_converges().value is squares
    assert schedule.nonincreasing_to_zero().value is to_zero
    assert schedule.eventually_nonincreasing_to_zero().value is to_zero
    assert schedule.limsup().value == limsup and schedule.liminf().value == liminf
    assert schedule.inf_tail_positive().value is (liminf > 0)
    assert all(isinstance(fact["how"], str) and fact["how"] for fact in schedule.facts().values())


@pytest.mark.parametrize("spec", FAMILY_SPECS)
def test_monotonicity_and_sup_agree_with_values(spec):
    """A fact of "nonincreasing for all k" must hold on the first 10^4 values, and sup ≥ every value."""
    schedule = schedules.from_spec(spec)
    values = schedule.values(np.arange(1, 10_001))
    monotone = bool(np.all(np.diff(values) <= 0))
    if schedule.nonincreasing_to_zero().value:
        assert monotone
    assert np.all(values <= schedule.sup().value)
    if schedule.sup().value < math.inf:
        assert schedule.sup().value in values  # attained (at k = 1 for these)


EXPRESSION_FACTS = {  # decided by the order test on SymPy limits: exact answers expected
    "0.1/k": (True, True, True, 0.1),
    "1/k**2": (False, True, True, 1.0),
    "1/(k*log(k+1)**2)": (False, True, True, 1 / math.log(2) ** 2),
    "0.1/(k*log(k+1))": (True, True, True, 0.1 / math.log(2)),
    "0.1/k**0.5": (True, False, True, 0.1),
    "0.05": (True, False, False, 0.05),
}


@pytest.mark.parametrize("text", sorted(EXPRESSION_FACTS))
def test_expression_facts(text):
    diverges, squares, to_zero, sup = EXPRESSION_FACTS[text]
    schedule = schedules.from_expr(text)
    assert schedule.sum_diverges().value is diverges
    assert schedule.sum_squares_converges().value is squares
    assert schedule.nonincreasing_to_zero().value is to_zero
    assert schedule.eventually_nonincreasing_to_zero().value is to_zero
    assert_allclose(schedule.sup().value, sup, rtol=1e-14)


def test_expression_hard_cases_are_correct_or_unknown():
    """Oscillating or floor-based terms: SymPy may give up, but must never answer wrongly."""
    wiggly = schedules.from_expr("0.1*(2+sin(k))/k")  # Σ = ∞, Σ t² < ∞, not monotone (t_6 > t_5)
    assert wiggly.sum_diverges().value in (True, None)
    assert wiggly.sum_squares_converges().value in (True, None)
    assert wiggly.nonincreasing_to_zero().value is False  # an exact witness exists in k ≤ 2000
    assert wiggly.eventually_nonincreasing_to_zero().value in (False, None)
    assert wiggly.limsup().value == 0.0
    blocky = schedules.from_expr("0.1/floor((k+4)/5)")  # diminish1 with block=5
    assert blocky.sum_diverges().value in (True, None)
    assert blocky.sum_squares_converges().value in (True, None)
    assert blocky.nonincreasing_to_zero().value in (True, None)
    growing = schedules.from_expr("k/(k+1)")
    assert growing.nonincreasing_to_zero().value is False and growing.limsup().value == 1.0
    assert growing.inf_tail_positive().value is True


def test_fact_is_not_a_boolean():
    """An unknown fact must not read as False: truth-testing a Fact raises."""
    fact = schedules.power(0.1, 1).sum_diverges()
    assert isinstance(fact, Fact) and fact.known
    with pytest.raises(TypeError):
        bool(fact)


def test_sympy_call_times_out_to_unknown():
    start = time.perf_counter()
    assert sympy_call(lambda: time.sleep(5), seconds=0.2) is None
    assert time.perf_counter() - start < 2
    assert sympy_call(lambda: 1 / 0) is None


# --------------------------------------------------------------------------- pair facts
PRODUCT_CASES = [  # (step, radius, Σ t_k rho_k < ∞)
    ("power:c=1,p=1", "power:c=0.1,p=0.001", True),  # Remark 3.6
    ("power:c=1,p=1", "constant:0.05", False),
    ("power:c=1,p=0.7", "power:c=1,p=0.3", False),  # exponent sum exactly 1, no log
    ("power:c=1,p=0.9", "power:c=1,p=0.1", False),
    ("power:c=1,p=0.5", "power:c=1,p=0.6", True),
    ("diminish2", "diminish2", True),  # 1.0002 > 1
    ("diminish3", "constant:0.1", False),  # Σ 1/(k ln k) = ∞
    ("diminish3", "diminish3", True),
    ("diminish3:block=5", "power:c=1,p=0.001", True),
    ("diminish1:block=10", "almost_constant:C=0.1", True),
    ("constant:0.1", "constant:0", True),
    ("perfect_squares:C=0.1,p=0.5", "power:c=1,p=1", True),  # symmetric
    ("power:c=1,p=1", "perfect_squares:C=0.1,p=-0.5", False),  # rho_k ≥ C
    ("power:c=1,p=2", "perfect_squares:C=0.1,p=-0.5", True),  # rho_k ≤ C k^0.5
    ("perfect_squares:C=0.1,p=1", "perfect_squares:C=0.1,p=1", False),
]


@pytest.mark.parametrize("step, radius, expected", PRODUCT_CASES)
def test_sum_product_closed_form(step, radius, expected):
    assert schedules.sum_product_converges(step, radius).value is expected


@pytest.mark.parametrize("step, radius, expected", [
    ("expr:1/k", "almost_constant:C=0.1", True),
    ("expr:0.1/k", "expr:0.05", False),
    ("diminish3", "expr:1/log(k+1)**2", True),  # ~ 1/(k (log k)^3)
    ("expr:1/k**0.5", "expr:1/k**0.4", False),
])
def test_sum_product_with_expressions(step, radius, expected):
    assert schedules.sum_product_converges(step, radius).value is expected  # the order test decides these


def test_order_test_runs_before_sympy_is_convergent():
    """SymPy's own Sum(1 - cos(1/k)).is_convergent() answers False (sympy issue 21315, still open in 1.14);
    the order test sees terms ~ 1/(2k²) and answers that the series converges."""
    fact = schedules.from_expr("1 - cos(1/k)").sum_diverges()
    assert fact.value is False and "order test" in fact.how


@pytest.mark.parametrize("step, radius, q, expected", [
    ("power:c=1,p=1", "power:c=1,p=0.5", 0.5, True),  # Remark G.3
    ("power:c=1,p=1", "power:c=1,p=0.01", 0.9, True),  # Remark G.3: any p > 0, q ∈ (0, 1)
    ("power:c=1,p=0.6", "power:c=1,p=0.5", 0.9, False),  # 0.6 + 0.9·0.1 = 0.69 < 1
    ("power:c=1,p=0.6", "power:c=1,p=0.5", 0.0, False),  # q = 0: Σ t_k itself
    ("power:c=1,p=2", "constant:0.1", 0.5, True),  # tail ~ k^-1, terms ~ k^-2.5
    ("power:c=1,p=1", "constant:0.1", 0.5, False),  # Σ t_k ε_k = ∞
    ("power:c=1,p=1", "perfect_squares:C=0.1,p=0.5", 0.5, True),  # tail ≍ k^-1/2
    # t = k^-0.8 with Remark G.2's radius (p = 1): the squares' tail Σ_{j≥√k} j^-1.6 ~ k^-0.3 dominates,
    # terms ~ k^{-0.8-0.3q}: q = 0.5 gives 0.95 (fails), q = 0.9 gives 1.07 (holds); with rho = 0.1/k
    # alone the tail is ~ k^-0.8 and q = 0.5 gives 1.2 (holds)
    ("power:c=1,p=0.8", "perfect_squares:C=0.1,p=1", 0.5, False),
    ("power:c=1,p=0.8", "perfect_squares:C=0.1,p=1", 0.9, True),
    ("power:c=1,p=0.8", "power:c=0.1,p=1", 0.5, True),
    ("diminish3", "constant:0.1", 0.5, False),  # Σ t_k ε_k = ∞
    ("power:c=1,p=1", "diminish3", 0.5, True),  # tail ~ k^-1 (log k)^-1, terms ~ k^-1.5 (log k)^-0.5
])
def test_kl_condition_9(step, radius, q, expected):
    """(9): Σ t_k [φ'(Σ_{i≥k} t_i ε_i)]^{-1} < ∞, φ = M s^{1−q}, ε_k = L rho_k; terms ~ t_k·(tail)^q."""
    assert schedules.kl_condition_9(step, radius, q).value is expected


def test_kl_condition_9_unknown_and_bad_q():
    assert schedules.kl_condition_9("expr:1/k", "power:c=1,p=0.5", 0.5).value is None
    with pytest.raises(SpecError, match="0 ≤ q < 1"):
        schedules.kl_condition_9("power:c=1,p=1", "power:c=1,p=0.5", 1.0)


# --------------------------------------------------------------------------- specs, registry, errors
@pytest.mark.parametrize("spec, expected", [
    ("constant:0.1", schedules.constant(0.1)),
    ("constant:value=0.1", schedules.constant(0.1)),
    ("power:c=0.1,p=1", schedules.power(0.1, 1)),
    ("power:P=1,C=0.1", schedules.power(0.1, 1)),
    ("diminish3:eta1=0.1,block=5", schedules.diminish3(0.1, block=5)),
    ("diminish2", schedules.diminish2()),
    ("almost_constant:C=0.1", schedules.almost_constant(0.1)),
    ("perfect_squares:C=0.1,p=0.5", schedules.perfect_squares(0.1, 0.5)),
    ("expr:0.1/k", schedules.from_expr("0.1/k")),
])
def test_spec_strings_and_round_trip(spec, expected):
    schedule = schedules.from_spec(spec)
    assert schedule == expected and schedules.get(spec) == expected
    again = schedules.from_spec(schedule.spec)
    assert again == schedule
    assert_allclose(again.values(np.arange(1, 50)), schedule.values(np.arange(1, 50)), rtol=0)
    record = json.loads(json.dumps(schedule.to_dict()))
    assert set(record) == {"name", "params", "spec", "formula"} and record["spec"] == schedule.spec


def test_schedule_object_and_number_pass_through():
    schedule = schedules.diminish1()
    assert schedules.from_spec(schedule) is schedule
    assert schedules.from_spec(0.05) == schedules.constant(0.05)
    assert schedules.from_spec("0.05") == schedules.from_spec(" 5e-2 ") == schedules.constant(0.05)
    for bad in ("nan", "-0.1", "inf"):
        with pytest.raises(SpecError):
            schedules.from_spec(bad)


def test_registry_and_listing():
    assert set(schedules.SCHEDULES) == {"constant", "power", "diminish1", "diminish2", "diminish3",
                                        "almost_constant", "perfect_squares", "expr"}
    rows = {row["name"]: (row["parameters"], row["formula"]) for row in schedules.describe_schedules()}
    assert rows["diminish3"][0] == "eta1=0.1, block=1" and rows["power"][0] == "c, p"
    assert rows["almost_constant"][0] == "C, p=0.001"
    assert all(formula for _, formula in rows.values())


@pytest.mark.parametrize("spec, error, fragment", [
    ("constant:-0.1", SpecError, "≥ 0"),
    ("power:c=-1,p=1", SpecError, "≥ 0"),
    ("power:c=nan,p=1", SpecError, "NaN"),
    ("power:c=0.1,p=inf", SpecError, "finite"),
    ("power:c=0.1", SpecError, "missing p"),
    ("power:0.1", SpecError, "key=value"),
    ("power:c=0.1,p=1,q=2", SpecError, "accepted: c, p"),
    ("diminish3:block=0", SpecError, "integer ≥ 1"),
    ("diminish1:eta1=yes", SpecError, "must be a number"),
    ("powr:c=1,p=1", UnknownNameError, "did you mean 'power'"),
    ("expr:__import__('os').system('true')", ExpressionError, "refused"),
    ("expr:k.real", ExpressionError, "not allowed"),
    ("expr:open('x')", ExpressionError, "not allowed"),
])
def test_bad_specs_are_one_line_errors(spec, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        schedules.from_spec(spec)
    assert "\n" not in str(info.value)


def test_bad_values_name_the_first_bad_k():
    with pytest.raises(InputError, match="k=3"):
        schedules.from_expr("1/abs(k-3)").values(np.arange(1, 10)[::-1])
    with pytest.raises(InputError, match="k=1"):
        schedules.from_expr("log(k) - 0.5").values(np.arange(1, 10))
    with pytest.raises(InputError, match="k=710"):
        schedules.from_expr("exp(k)").values(np.arange(1, 1000))
    with pytest.raises(InputError, match="k=1"):
        schedules.from_expr("sqrt(-1)*k").values(np.arange(1, 3))


@pytest.mark.parametrize("k", [np.array([0, 1]), np.array([1.5]), np.array(["1"])])
def test_bad_indices(k):
    with pytest.raises(InputError):
        schedules.power(0.1, 1).values(k)


def test_negative_power_grows_and_facts_say_so():
    """p < 0 is accepted: t_k = c k^{|p|} grows, so it is not ↓ 0 and its sup is ∞."""
    schedule = schedules.power(0.3, -0.5)
    assert_allclose(schedule.values(np.array([1, 4])), [0.3, 0.6])
    assert schedule.sup().value == math.inf and schedule.nonincreasing_to_zero().value is False


def test_schedules_are_immutable():
    schedule = schedules.power(0.1, 1)
    with pytest.raises(AttributeError):
        schedule.params = {}
