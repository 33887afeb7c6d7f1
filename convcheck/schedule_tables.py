"""The (C, B) table of a batch's schedule values at the C steps of a chunk, one column per run.

A sweep gives each run its own schedule, typically one family with a coefficient that differs per run
(t_k = c_b / k^p). Evaluating B schedules one by one costs B NumPy calls per chunk, more than the
compiled steps of a small problem; here runs are grouped once, when the batch starts:

- family schedules (:class:`~convcheck.schedule_types.FamilySchedule`, t_k = coefficient ⊙ profile(k))
  by their profile key: per chunk, one profile evaluation of C values and one broadcast product (or
  quotient) with the runs' coefficients;
- expression and perfect-squares schedules by their spec (which fixes their values): one evaluation
  per distinct schedule, broadcast to its runs; any other schedule (a user's class, a subclass of a
  family that computes its own values, a shifted schedule) is its own group, evaluated by itself.

A group none of whose runs is still running is not evaluated.

Each value is the same IEEE operation on the same operands as the schedule's own ``values`` (the
family's coefficient times, or over, the same profile value), so the table is bitwise what
per-run evaluation gives (tested).
"""
from __future__ import annotations

import numpy as np

from .schedule_types import ExpressionSchedule, FamilySchedule, PerfectSquaresSchedule

_VALUES_FIXED_BY_SPEC = (ExpressionSchedule, PerfectSquaresSchedule)


class ScheduleTable:
    """Values of ``schedules`` (one per run of a batch) at the steps of each chunk."""

    def __init__(self, schedules: list):
        keys: dict = {}
        group_of = np.empty(len(schedules), np.int64)
        coefficients = np.zeros(len(schedules))
        self.groups: list = []  # (schedule standing for the group, whether it is a shared family profile)
        for run, schedule in enumerate(schedules):
            family = type(schedule) is FamilySchedule  # a subclass may compute its values otherwise
            if family:
                key = ("family", schedule.profile_key, schedule.divide)
            elif type(schedule) in _VALUES_FIXED_BY_SPEC:
                key = ("spec", schedule.spec)
            else:
                key = ("object", id(schedule))  # kept alive by self.groups, so the id stays its own
            if key not in keys:
                keys[key] = len(self.groups)
                self.groups.append((schedule, family))
            group_of[run] = keys[key]
            if family:
                coefficients[run] = schedule.coefficient
        self.group_of, self.coefficients = group_of, coefficients

    def values(self, ks: np.ndarray, runs: np.ndarray) -> np.ndarray:
        """(len(ks), len(runs)) float64, C order: column j holds run ``runs[j]``'s values at ``ks``."""
        out = np.empty((len(ks), len(runs)))
        group_of = self.group_of[runs]
        for g, (schedule, family) in enumerate(self.groups):
            cols = slice(None) if len(self.groups) == 1 else np.flatnonzero(group_of == g)
            if len(self.groups) > 1 and not cols.size:
                continue  # all its runs stopped: its values are not needed (and may be invalid by now)
            if family:
                profile = np.asarray(schedule.profile(ks), dtype=np.float64)[:, None]
                coefficients = self.coefficients[runs[cols]][None, :]
                out[:, cols] = coefficients / profile if schedule.divide else coefficients * profile
            else:
                out[:, cols] = np.asarray(schedule.values(ks), dtype=np.float64)[:, None]
        return out
