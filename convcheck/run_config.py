"""Run configurations: ``run``'s keywords validated into a :class:`RunConfig` (one run, normalised).

Runs whose configurations share :meth:`RunConfig.group_key` (problem instance, method, length and
options) run as one batch. Invalid input raises a :class:`~convcheck.errors.ConvcheckError` whose
message says what was wrong and what is accepted; :func:`failed_trace` records a configuration that
could not run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from . import methods as methods_module
from . import schedules as schedules_module
from .errors import ConvcheckError, InputError, SpecError
from .limits import MAX_ITERS
from .trace import Trace
from .versions import library_versions

DEFAULT_BOUND = 1e50                  # a run whose iterate leaves the ball of this radius has diverged


@dataclass
class RunConfig:
    """One validated configuration (what ``run`` takes, normalised)."""

    problem: Any
    method: methods_module.Method
    x0: np.ndarray
    iters: int
    step: Any
    radius: Any
    seed: int = 0
    label: str = ""
    options: dict = field(default_factory=dict)

    def group_key(self):
        # a problem built from Python callables is its own instance: its key does not name its code
        problem_key = getattr(self.problem, "group_identity", None) or self.problem.key
        # the method's class too: two user classes may share a name and parameters but not their steps
        return (problem_key, self.method.spec, type(self.method), id(self.method) if _has_callable(self.method) else 0,
                self.iters, tuple(sorted(self.options.items())))

    def describe(self) -> dict:
        return {"problem": {"name": self.problem.name, "key": self.problem.key, "dim": self.problem.dim,
                            "params": _jsonable(self.problem.meta.params)},
                "method": self.method.to_dict(), "step": self.step.to_dict(),
                "radius": self.radius.to_dict() if self.radius is not None else None,
                "x0": self.x0.tolist(), "iters": self.iters, "seed": self.seed, "label": self.label,
                "options": dict(self.options)}


def _has_callable(method) -> bool:
    return any(callable(v) for v in method.params.values())


def _jsonable(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, (np.generic,)):
            v = v.item()
        out[k] = v
    return out


def make_config(problem, method, x0=None, iters=1000, step=None, radius=None, seed=0, label="",
                **options) -> RunConfig:
    """Validate ``run``'s keywords into a :class:`RunConfig` (raises ConvcheckError on bad input)."""
    from convcheck import problems as problems_module

    if isinstance(problem, str):
        problem = problems_module.get(problem)
    if not hasattr(problem, "value_and_grad") or not hasattr(problem, "meta"):
        raise InputError(f"problem must be a convcheck Problem or a spec string, got {type(problem).__name__}")
    method = methods_module.get(method)
    if isinstance(iters, bool) or not isinstance(iters, (int, np.integer)) or iters < 1:
        raise InputError(f"iters must be a positive whole number of steps, got {iters!r}")
    iters = int(iters)
    if iters > MAX_ITERS:
        raise InputError(f"iters = {iters} is more than the {MAX_ITERS:.0e} steps a run may take")
    if x0 is None:
        x0 = getattr(problem, "default_x0", None)
        x0 = x0() if callable(x0) else x0
        if x0 is None:
            x0 = np.ones(problem.dim)
    if any(isinstance(v, complex) for v in np.ravel(np.asarray(x0, dtype=object))) or np.iscomplexobj(x0):
        raise InputError("x0 must be real numbers; complex values are refused (their imaginary part would be lost)")
    try:
        x0 = np.array(x0, dtype=np.float64).reshape(-1) if np.ndim(x0) <= 1 else np.array(x0, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"x0 must be a vector of {problem.dim} numbers, got {x0!r}") from None
    if x0.shape != (problem.dim,):
        raise InputError(f"x0 must have shape ({problem.dim},) for problem {problem.key}, got shape {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise InputError(f"x0 must be finite, got {x0.tolist()}")
    if step is None:
        raise InputError("a step schedule is required (for example step=0.1 or step='power:c=0.1,p=1')")
    step = _schedule(step, "step")
    radius = _schedule(radius, "radius") if radius is not None else None
    if method.uses_radius and radius is None:
        raise InputError(f"method {method.name!r} needs a radius schedule (for example radius='constant:0.1')")
    if not method.uses_radius:
        radius = None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative whole number, got {seed!r}")
    known = {"max_records", "record_every", "tail", "bound", "record", "k_offset"}
    unknown = set(options) - known
    if unknown:
        raise InputError(f"unknown run option(s) {', '.join(sorted(unknown))}; accepted: {', '.join(sorted(known))}")
    for name in ("max_records", "tail", "record_every"):
        value = options.get(name)
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise InputError(f"{name} must be a positive whole number, got {value!r}")
    k_offset = options.get("k_offset")
    if k_offset is not None and (isinstance(k_offset, bool) or not isinstance(k_offset, (int, np.integer))
                                 or not 0 <= k_offset <= MAX_ITERS):
        raise InputError(f"k_offset must be a whole number in [0, {MAX_ITERS}], got {k_offset!r}")
    bound = options.get("bound")
    if bound is not None and not (isinstance(bound, (int, float)) and bound > 0):
        raise InputError(f"bound must be a positive number, got {bound!r}")
    _validate_schedule_range(step, iters, "step")
    if radius is not None:
        _validate_schedule_range(radius, iters, "radius")
    return RunConfig(problem, method, x0, iters, step, radius, int(seed), label, options)


def _schedule(value, what):
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, a schedule or a spec string, got {value!r}")
    if isinstance(value, (int, float, np.floating, np.integer)):
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{what} must be a finite number >= 0, got {value!r}")
        return schedules_module.constant(float(value))
    try:
        return schedules_module.from_spec(value)
    except ConvcheckError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise SpecError(f"cannot read {what} schedule {value!r}: {exc}") from None


def _validate_schedule_range(schedule, iters, what):
    schedules_module.check_schedule_values(schedule, iters, what)


def prepare(configs, on_error="record") -> list:
    """Validate sweep items into RunConfigs; with ``on_error="record"`` an invalid item becomes its error."""
    prepared: list = []
    for item in configs:
        try:
            prepared.append(item if isinstance(item, RunConfig) else make_config(**item))
        except ConvcheckError as exc:
            if on_error == "raise":
                raise
            prepared.append(exc)
        except TypeError as exc:
            if on_error == "raise":
                raise InputError(f"bad sweep configuration: {exc}") from None
            prepared.append(InputError(f"bad sweep configuration: {exc}"))
    return prepared


def failed_trace(config: Optional[RunConfig], exc: Exception) -> Trace:
    """A Trace that records a configuration that could not run (status "failed")."""
    empty = np.zeros(0)
    dim = config.problem.dim if config is not None else 0
    meta = config.describe() if config is not None else {}
    meta.update(versions=library_versions(), error=str(exc), error_type=type(exc).__name__)
    return Trace(k=empty.astype(np.int64), f=empty, grad_norm=empty, step_norm=empty, step_size=empty,
                 radius=empty, x_k=empty.astype(np.int64), x=np.zeros((0, dim)), tail_start=0,
                 status="failed", status_k=None, status_reason=str(exc), metadata=meta)
