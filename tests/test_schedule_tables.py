"""A batch's schedule table and the validation of schedule values before a run.

The table groups runs by family profile (t_k = coefficient ⊙ profile(k)); it must give bitwise the
values each run's own schedule gives, for every family, mixed batches and any subset of runs. The
value check decides families proven to stay in [0, t_1] by t_1 alone; everything else, including a
growing power that overflows and a user's own schedule class, is still checked at the sampled k.
"""
from __future__ import annotations

import numpy as np
import pytest

from convcheck import schedules, sweep
from convcheck.check import Shifted
from convcheck.errors import InputError
from convcheck.schedule_tables import ScheduleTable
from convcheck.schedule_types import FamilySchedule, Schedule

MIXED = ["constant:0.3", "constant:0", "power:c=0.2,p=0.1", "power:c=0.7,p=0.1", "power:c=0.05,p=1",
         "power:c=1e-300,p=0.5", "power:c=2,p=-0.3", "power:c=0,p=0.1", "almost_constant:C=0.4",
         "almost_constant:C=0.9,p=0.1", "diminish1:eta1=0.3", "diminish1:eta1=0.1,block=7",
         "diminish2:eta1=0.2,block=3", "diminish3:eta1=0.5", "diminish3:eta1=0.25,block=4",
         "perfect_squares:C=0.1,p=0.5", "expr:0.1/(k+1)", "expr:0.3*(1+cos(k))/k"]


def _per_run(specs, ks):
    return np.stack([schedules.from_spec(s).values(ks) for s in specs], axis=1)


@pytest.mark.parametrize("start", [1, 999, 10 ** 9])
def test_table_is_bitwise_the_schedules_own_values(start):
    rng = np.random.default_rng(3)
    specs = [MIXED[i] for i in rng.integers(0, len(MIXED), 200)] + MIXED
    ks = np.arange(start, start + 333)
    table = ScheduleTable([schedules.from_spec(s) for s in specs])
    everyone = np.arange(len(specs))
    got = table.values(ks, everyone)
    assert got.flags.c_contiguous and got.shape == (len(ks), len(specs))
    np.testing.assert_array_equal(got, _per_run(specs, ks))  # NaN-free, and equal bit for bit
    assert got.tobytes() == _per_run(specs, ks).tobytes()
    survivors = np.sort(rng.choice(len(specs), 37, replace=False))  # runs left after others stopped
    assert table.values(ks, survivors).tobytes() == _per_run([specs[i] for i in survivors], ks).tobytes()


def test_one_profile_per_family_parameters_and_one_group_per_other_spec():
    table = ScheduleTable([schedules.from_spec(s) for s in
                           ["power:c=0.1,p=0.1", "power:c=0.2,p=0.1", "almost_constant:C=3,p=0.1",
                            "power:c=0.1,p=0.2", "diminish3:eta1=1", "diminish3:eta1=2",
                            "expr:1/k", "expr:1/k", "expr:2/k"]])
    assert len(table.groups) == 5  # p = 0.1 (power and almost_constant), p = 0.2, diminish3, 1/k, 2/k


def test_shifted_and_user_schedules_are_evaluated_as_themselves():
    class Halving(Schedule):
        def __init__(self):
            super().__init__("halving", {}, "t_k = 2^-k", lambda: None)

        def _evaluate(self, k):
            return np.power(0.5, k.astype(float))

    runs = [Shifted(schedules.power(0.1, 0.5), 40), Halving(), schedules.power(0.3, 0.5)]
    ks = np.arange(1, 50)
    got = ScheduleTable(runs).values(ks, np.arange(3))
    np.testing.assert_array_equal(got, np.stack([r.values(ks) for r in runs], axis=1))


def test_sweep_with_per_run_coefficients_matches_single_runs():
    configs = [dict(problem="quadratic:n=3,cond=5", method="sam", x0=[1.0, -0.5, 2.0], iters=300,
                    step=f"power:c={c!r},p=0.3", radius="diminish3:eta1=0.02,block=5") for c in (0.05, 0.11, 0.17)]
    batched = sweep(configs)
    for config, trace in zip(configs, batched):
        alone = sweep([config])[0]
        np.testing.assert_array_equal(trace.step_size, alone.step_size)
        np.testing.assert_array_equal(trace.radius, alone.radius)
        expected = schedules.from_spec(config["step"]).values(trace.k[:-1])
        np.testing.assert_array_equal(trace.step_size[:-1], expected)


# ------------------------------------------------------------------ value checks before a run
@pytest.mark.parametrize("spec", ["constant:0.1", "power:c=5,p=0", "power:c=1e300,p=2", "almost_constant:C=1",
                                  "diminish1:eta1=1e308", "diminish2:eta1=3,block=1000", "diminish3:eta1=7,block=2"])
def test_families_bounded_by_their_first_value_hold_at_every_sampled_k(spec):
    schedule = schedules.from_spec(spec)
    assert schedule.bounded_by_first
    ks = schedules.checked_indices(10 ** 9)
    values = schedule.values(ks)
    assert np.all(np.isfinite(values)) and np.all(values >= 0) and np.all(values <= schedule.values([1])[0])
    schedules.check_schedule_values(schedule, 10 ** 9)


@pytest.mark.parametrize("spec, iters, k", [("power:c=1,p=-400", 10, 6), ("power:c=0,p=-400", 10, 6),
                                            ("power:c=1e307,p=-2", 100, 5), ("power:c=1,p=-80", 10 ** 6, 7132)])
def test_growing_powers_are_still_checked_where_they_overflow(spec, iters, k):
    """k^80 first exceeds the largest double (1.797e308) at k = 7132 (log10 7131.4 = 308.2547/80);
    1e307·k² at k = 5; with c = 0 the product 0·inf is NaN, refused as before."""
    schedule = schedules.from_spec(spec)
    assert not schedule.bounded_by_first
    with pytest.raises(InputError, match=f"at k={k};"):
        schedules.check_schedule_values(schedule, iters)


def test_a_users_schedule_class_is_checked_every_time():
    class Switch(Schedule):
        bad = False

        def __init__(self):
            super().__init__("switch", {}, "t_k = 0.1, or NaN once switched", lambda: None)

        def _evaluate(self, k):
            return np.full(k.shape, np.nan if Switch.bad else 0.1)

    schedule = Switch()
    schedules.check_schedule_values(schedule, 100)
    Switch.bad = True
    with pytest.raises(InputError, match="at k=1;"):
        schedules.check_schedule_values(schedule, 100)


def test_a_family_text_is_read_once_and_its_check_is_kept():
    one, two = schedules.from_spec("power:c=0.5,p=3.5"), schedules.from_spec("power:c=0.5,p=3.5")
    assert one is two
    schedules.check_schedule_values(schedules.from_spec("perfect_squares:C=1,p=0.5"), 5000)
    assert any(key[0] == 5000 for key in schedules.from_spec("perfect_squares:C=1,p=0.5").__dict__["_checked_iters"])
    with pytest.raises(InputError, match="at k=6;"):  # a refused schedule is refused every time
        schedules.check_schedule_values(schedules.from_spec("power:c=1,p=-400"), 10)
    with pytest.raises(InputError, match="at k=6;"):
        schedules.check_schedule_values(schedules.from_spec("power:c=1,p=-400"), 10)


def test_expression_texts_are_read_anew_so_an_undecided_fact_does_not_stick():
    """Expression facts come from SymPy under a time limit; a shared object would keep a timeout."""
    one, two = schedules.from_spec("expr:1/(k*log(k+1)**2)"), schedules.from_spec("expr:1/(k*log(k+1)**2)")
    assert one is not two and one == two
    with pytest.raises(InputError, match="at k=3;"):
        schedules.check_schedule_values(schedules.from_spec("expr:1/(k-3)**2"), 10)


def test_a_replaced_factory_is_not_served_from_the_cache(monkeypatch):
    before = schedules.from_spec("constant:0.25")

    def halved(value):
        return schedules.constant(value / 2)

    monkeypatch.setitem(schedules.SCHEDULES, "constant", halved)
    assert schedules.from_spec("constant:0.25").values([1])[0] == 0.125
    monkeypatch.undo()
    assert schedules.from_spec("constant:0.25") is before


def test_subclasses_and_user_objects_are_their_own_groups():
    base = schedules.power(0.5, 0.5)

    class Capped(FamilySchedule):  # a family's subclass computing its own values
        def _evaluate(self, k):
            return np.minimum(super()._evaluate(k), 0.2)

    capped = Capped("power", dict(base.params), base.formula, base.sympy_expr, 0.5, base.profile,
                    base.profile_key, base.asymptotic, True)

    class Fixed(Schedule):  # two user objects with one spec and different values
        def __init__(self, value):
            super().__init__("fixed", {}, "t_k = a value", lambda: None)
            self.__dict__["value"] = value

        def _evaluate(self, k):
            return np.full(k.shape, self.value)

    runs = [base, capped, Fixed(0.1), Fixed(0.3)]
    ks = np.arange(1, 9)
    got = ScheduleTable(runs).values(ks, np.arange(4))
    np.testing.assert_array_equal(got, np.stack([r.values(ks) for r in runs], axis=1))


def test_a_group_whose_runs_all_stopped_is_not_evaluated():
    """expr:sqrt(150000-k) is complex after k = 150000; its run stopped, the other runs go on."""
    table = ScheduleTable([schedules.from_spec("expr:sqrt(150000-k)"), schedules.constant(0.1)])
    ks = np.arange(150001, 150005)
    np.testing.assert_array_equal(table.values(ks, np.array([1])), np.full((4, 1), 0.1))
    with pytest.raises(InputError):
        table.values(ks, np.array([0, 1]))


class _Returns(Schedule):
    """A user's schedule whose _evaluate returns whatever ``make(k)`` gives (one number, a column...)."""

    def __init__(self, name, make):
        super().__init__(name, {}, "t_k from a user's _evaluate", lambda: None)
        self.__dict__["make"] = make

    def _evaluate(self, k):
        return self.make(k)


@pytest.mark.parametrize("make", [lambda k: 0.1, lambda k: np.float64(0.1), lambda k: np.array([0.1]),
                                  lambda k: np.array(0.1)])
def test_a_user_schedule_that_returns_one_number_is_broadcast_to_k(make):
    schedule = _Returns("one_number", make)
    assert schedule.values(np.arange(1, 6)).shape == (5,)
    assert schedule.values(np.arange(1, 7).reshape(2, 3)).shape == (2, 3)
    traces = sweep([dict(problem="x2", method="gd", x0=[1.0], iters=50, step=schedule),
                    dict(problem="x2", method="gd", x0=[2.0], iters=50, step=0.1)], on_error="raise")
    assert [t.status for t in traces] == ["completed", "completed"]
    np.testing.assert_array_equal(traces[0].step_size[:-1], 0.1)
    np.testing.assert_allclose(traces[0].x[:, 0], 0.8 ** np.arange(51), rtol=1e-12)  # x2: f = x², t = 0.1


@pytest.mark.parametrize("make", [lambda k: np.full((len(k), 1), 0.1), lambda k: np.full(len(k) + 1, 0.1),
                                  lambda k: np.full(2, 0.1)])
def test_a_user_schedule_of_another_shape_is_one_line_input_error(make):
    schedule = _Returns("misshapen", make)
    with pytest.raises(InputError, match="returned values of shape"):
        schedule.values(np.arange(1, 6))
    trace = sweep([dict(problem="x2", method="gd", x0=[1.0], iters=50, step=schedule)])[0]
    assert trace.status == "failed" and "returned values of shape" in trace.status_reason
    assert "\n" not in trace.status_reason
