"""certify's options and problem argument are checked before any work (one InputError naming the option)."""
import numpy as np
import pytest

from convcheck.errors import InputError, UnknownNameError
from convcheck.problems import get
from convcheck.properties import certify
from convcheck.properties.certify import DEFAULT_OPTIONS

ITERATES = np.array([[1.0 / k, -2.0 / k] for k in range(1, 400)])


@pytest.mark.parametrize("key,value", [
    ("max_windows", -1), ("max_windows", 0), ("max_windows", 2.5), ("max_windows", "a"), ("max_windows", True),
    ("tail_window", None), ("checkpoints", np.nan),
    ("beta_min", np.nan), ("beta_min", -0.1), ("r2_min", np.inf), ("significance", "10"),
    ("aitken_fraction", 2.0), ("zero_drop", 0.0), ("on_inconsistency", "ignore"),
])
def test_bad_option_values_are_one_error_naming_the_option(key, value):
    assert key in DEFAULT_OPTIONS
    with pytest.raises(InputError) as info:
        certify(ITERATES, get("quadratic", n=2, seed=0), **{key: value})
    message = str(info.value)
    assert key in message and "\n" not in message


def test_unknown_option_is_named_with_the_accepted_ones():
    with pytest.raises(UnknownNameError, match="max_window"):
        certify(ITERATES, get("quadratic", n=2, seed=0), max_window=3)


def test_integral_and_real_options_of_other_numeric_types_are_accepted():
    problem = get("quadratic", n=2, seed=0)
    reference = certify(ITERATES, problem).to_dict()
    again = certify(ITERATES, problem, max_windows=np.int64(DEFAULT_OPTIONS["max_windows"]),
                    beta_min=np.float32(DEFAULT_OPTIONS["beta_min"]))
    assert [again[p].status for p in ("P1", "P2", "P3", "P4", "P5")] == \
        [reference["verdicts"][p]["status"] for p in ("P1", "P2", "P3", "P4", "P5")]


def test_a_catalogue_spec_string_names_the_problem_and_other_objects_are_refused():
    by_name = certify(ITERATES, "quadratic:n=2,seed=0")
    by_object = certify(ITERATES, get("quadratic", n=2, seed=0))
    assert by_name.to_dict() == by_object.to_dict()
    with pytest.raises(InputError, match="Problem or a catalogue spec"):
        certify(ITERATES, 3.0)
