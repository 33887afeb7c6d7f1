"""Sweeps on a Dask cluster: the in-process sweep's batches, run by Dask workers (extra ``convcheck[dist]``).

``sweep(configs, scheduler)`` takes a ``dask.distributed.Client``, a scheduler address
("tcp://HOST:PORT") or a number N (a ``LocalCluster`` of N single-threaded worker processes here).

- Tasks. Configurations are grouped as :func:`convcheck.runner.execute` groups them (same problem
  instance, method, length and options), and each group is split into the shards
  the group's :class:`~convcheck.engine_plan.Plan` gives (made once, on the client): one shard, one task, each run as one (B, n) program.
  The split is the in-process one because it changes the numbers (BLAS sums a (B, n) product
  differently for other B; on logsum a run's iterates then drift apart by O(1) after a few hundred
  steps), so results are bitwise those of the in-process sweep on the same BLAS build. ``batch``
  mirrors ``convcheck run --batch``: the in-process command groups each slice of that many
  configurations separately, and so does this.
- Data. Each distinct problem instance is scattered once to every worker (``broadcast=True``); a task
  carries its configurations without the problem and names the scattered copy.
- Landing. Traces travel back to the client, which hands each group's traces to ``on_landed`` as soon
  as the group's last task completes (``as_completed``); ``convcheck run`` writes them there through the
  atomic store keyed by configuration hash, so no shared file system is needed and a client killed
  mid-sweep loses only the groups in flight (``--resume`` runs those).
- Faults. A worker lost mid-task has its tasks rerun on the others by the scheduler (up to Dask's
  ``distributed.scheduler.allowed-failures``); an unexpected exception in a task is retried ``retries``
  times. An exception in a shard (a ConvcheckError, or any exception of user code) reruns the group's
  configurations one by one, as in-process, so only the culprit is recorded "failed" (error type and
  message in its metadata); a task that still fails records its configurations "failed"; the rest
  continue. With ``on_error="raise"`` the first such error is raised instead. (In-process, an exception
  of user code that is not a ConvcheckError propagates; on a cluster it is recorded, so that one bad
  configuration does not end a long sweep.)
- Progress: a tqdm bar over completed tasks.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import uuid
from typing import Callable, Optional

from .backend import get_backend
from .errors import ConvcheckError, InputError
from .engine_plan import make_plan
from .engine_shards import run_shard
from .progress import progress_bar
from .run_config import RunConfig, failed_trace, prepare

INSTALL_HINT = "pip install 'convcheck[dist]'"
DEFAULT_RETRIES = 2
CONNECT_TIMEOUT = "20s"
_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss|inproc)://[^\s/]+$")


def _distributed():
    """The ``distributed`` package, imported only when a scheduler is asked for."""
    try:
        import distributed
    except ImportError:
        raise InputError(f"running on a Dask scheduler needs dask.distributed: {INSTALL_HINT}") from None
    return distributed


def check(scheduler):
    """Refuse, in one line, a scheduler that cannot be used (before any work); returns ``distributed``."""
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        return distributed
    if isinstance(scheduler, bool) or not isinstance(scheduler, (int, str)):
        raise InputError(f"scheduler must be a dask.distributed.Client, an address like tcp://HOST:PORT or a "
                         f"number of local workers, got {scheduler!r}")
    if isinstance(scheduler, int) and scheduler < 1:
        raise InputError(f"the number of local workers must be at least 1, got {scheduler}")
    if isinstance(scheduler, str) and not _ADDRESS.match(scheduler):
        raise InputError(f"scheduler address must look like tcp://HOST:PORT, got {scheduler!r}")
    return distributed


@contextlib.contextmanager
def connect(scheduler):
    """A Client for ``scheduler``: the Client itself, one connected to an address, or one on a new
    LocalCluster of ``scheduler`` worker processes (closed on exit)."""
    distributed = check(scheduler)
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if isinstance(scheduler, int):
        with distributed.LocalCluster(n_workers=scheduler, processes=True, threads_per_worker=1,
                                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); is it "
                         "running and reachable from here?") from None
    with client:
        yield client


def sweep(configs, scheduler, backend="numpy", progress=False, on_error="record", batch: Optional[int] = None,
          on_landed: Optional[Callable] = None, retries: int = DEFAULT_RETRIES, keep: bool = True) -> list:
    """:func:`convcheck.sweep` on a Dask cluster: one Trace per config, in order, bitwise equal to the
    in-process sweep. ``on_landed(pairs)`` is called with [(index, Trace), ...] for each group as it
    completes (and for invalid configurations first); with ``keep=False`` the client keeps no Trace after
    that call (the list returned holds None), so its memory does not grow with the sweep."""
    backend_name = get_backend(backend).name
    prepared = prepare(configs, on_error)
    with connect(scheduler) as client:
        return _Run(client, prepared, backend_name, progress, on_error, batch, on_landed, retries, keep).run()


class TaskError(ConvcheckError):
    """An exception of user code on a worker, carried back as its class name and message."""


def _portable(exc: Exception) -> Exception:
    """``exc`` if it is convcheck's (those pickle), else a TaskError naming it (user classes may not)."""
    return exc if isinstance(exc, ConvcheckError) else TaskError(f"{type(exc).__name__}: {exc}")


def _run_task(problem, configs: list, plan, backend_name: str, alone: bool):
    """On a worker: one shard (``alone``: one configuration, its error recorded in a failed Trace).
    Returns ("ok", traces) or ("error", the exception the shard raised)."""
    backend = get_backend(backend_name)
    configs = [dataclasses.replace(c, problem=problem) for c in configs]
    try:
        return "ok", run_shard(configs, plan, backend)
    except Exception as exc:  # noqa: BLE001 - user code may raise anything; recorded, never lost
        if alone:
            return "ok", [failed_trace(configs[0], _portable(exc))]
        return "error", _portable(exc)


class _Run:
    """Client side of one distributed sweep: plan, submit, collect, land."""

    def __init__(self, client, prepared, backend_name, progress, on_error, batch, on_landed, retries, keep):
        self.client, self.prepared, self.backend_name = client, prepared, backend_name
        self.on_error, self.batch, self.on_landed, self.retries = on_error, batch, on_landed, retries
        self.progress, self.keep = progress, keep
        self.results: list = [None] * len(prepared)
        self.problems: dict = {}   # id(problem) -> scattered future
        self.tasks: dict = {}      # future key -> (group id, indices)
        self.groups: dict = {}     # group id -> {"indices", "pending", "traces", "failed"}

    def run(self) -> list:
        from distributed import as_completed

        invalid = [(i, failed_trace(None, c)) for i, c in enumerate(self.prepared) if isinstance(c, Exception)]
        self._land(invalid)
        plan = list(self._plan())
        self._scatter([self.prepared[indices[0]].problem for _, indices in plan])
        futures = [future for gid, indices in plan for future in self._submit_group(gid, indices)]
        bar = _bar(len(futures), self.progress)
        pending = as_completed(futures, with_results=True, raise_errors=False)  # results fetched in batches
        try:
            for future, result in pending:
                for extra in self._collect(future, result):
                    pending.add(extra)
                    if bar is not None:
                        bar.total += 1
                        bar.refresh()
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return self.results

    def _plan(self):
        """(group id, indices) per group, grouped within each ``batch`` slice as execute would be."""
        size = self.batch or max(1, len(self.prepared))
        gid = 0
        for start in range(0, len(self.prepared), size):
            groups: dict = {}
            for index in range(start, min(start + size, len(self.prepared))):
                config = self.prepared[index]
                if isinstance(config, RunConfig):
                    groups.setdefault(config.group_key(), []).append(index)
            for indices in groups.values():
                yield gid, indices
                gid += 1

    def _scatter(self, problems):
        """Every distinct problem instance to every worker, in one call (one round trip, not one per task)."""
        distinct = {id(p): p for p in problems}
        if distinct:
            futures = self.client.scatter(list(distinct.values()), broadcast=True, hash=False)
            self.problems = dict(zip(distinct, futures))

    def _submit(self, gid, indices, plan, alone):
        configs = [self.prepared[i] for i in indices]
        stripped = [dataclasses.replace(c, problem=None) for c in configs]
        # the group's first problem object: objects with one key are one instance (the key names it)
        problem = self.problems[id(self.prepared[self.groups[gid]["indices"][0]].problem)]
        future = self.client.submit(_run_task, problem, stripped, plan, self.backend_name, alone,
                                    retries=self.retries, pure=False, key=f"convcheck-shard-{uuid.uuid4().hex}")
        self.tasks[future.key] = (gid, indices, plan, alone)
        return future

    def _resubmit_lost(self, gid, indices, plan, alone):
        """A task lost with its worker (a killed worker can take the only copy of a scattered problem
        with it, when the broadcast met one live worker): scatter the group's problem again, to the
        workers alive now, and submit the same shard once more."""
        problem = self.prepared[self.groups[gid]["indices"][0]].problem
        self.problems[id(problem)] = self.client.scatter([problem], broadcast=True, hash=False)[0]
        self.groups[gid]["resubmitted"] = self.groups[gid].get("resubmitted", 0) + 1
        return [self._submit(gid, indices, plan, alone)]

    def _submit_group(self, gid, indices):
        batch = [self.prepared[i] for i in indices]
        plan = make_plan(batch, get_backend(self.backend_name))
        self.groups[gid] = {"indices": indices, "pending": len(plan.shards), "traces": {}, "failed": None}
        return [self._submit(gid, indices[a:b], plan, False) for a, b in plan.shards]

    def _collect(self, future, result) -> list:
        """Record a finished task; returns the tasks it calls for (a failed group's configurations alone)."""
        gid, indices, plan, alone = self.tasks.pop(future.key)
        group = self.groups[gid]
        future.release()
        if isinstance(result, BaseException) and group.get("resubmitted", 0) < max(self.retries, 1):
            return self._resubmit_lost(gid, indices, plan, alone)
        if isinstance(result, BaseException):  # a task lost or raising after its retries: recorded per config
            if self.on_error == "raise":
                raise result
            status, payload = "lost", f"{type(result).__name__}: {result}"
        else:
            status, payload = result
        group["pending"] -= 1
        if status == "ok":
            group["traces"].update(zip(indices, payload))
        elif status == "error" and self.on_error == "raise":
            raise payload
        elif status == "error":
            group["failed"] = payload
        else:  # lost: the task raised, or its workers died, more often than allowed
            group["traces"].update((i, failed_trace(self.prepared[i], RuntimeError(payload))) for i in indices)
        if group["pending"]:
            return []
        if group["failed"] is not None and len(group["indices"]) > 1:
            # as execute does: the group's configurations one by one, each failure recorded alone
            group.update(pending=len(group["indices"]), traces={}, failed=None)
            backend = get_backend(self.backend_name)
            return [self._submit(gid, [i], make_plan([self.prepared[i]], backend), True) for i in group["indices"]]
        if group["failed"] is not None:
            config = self.prepared[group["indices"][0]]
            group["traces"] = {group["indices"][0]: failed_trace(config, group["failed"])}
        self._land(sorted(group["traces"].items()))
        del self.groups[gid]
        return []

    def _land(self, pairs):
        for index, trace in pairs:
            self.results[index] = trace if self.keep else None
        if pairs and self.on_landed is not None:
            self.on_landed(pairs)


def _bar(total: int, progress):
    return progress_bar(total, progress, unit="task", desc="convcheck (dask)")


__all__ = ["sweep", "connect", "check", "INSTALL_HINT"]
