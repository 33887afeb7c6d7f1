"""BatchEngine: the loop that advances one shard of B runs of one method on one problem as (B, n) arrays.

See :mod:`convcheck.runner` for what is recorded and when runs stop. Every decision (kernel, chunk
length, ring, checkpoints, record thinning) comes in the :class:`~convcheck.engine_plan.Plan`; the
engine only carries it out. A chunk is either the generic NumPy step, written once over the array
namespace (NumPy or CuPy), C times, or one call of the plan's compiled chunk kernel
(:mod:`convcheck.engine_kernels`). Layout of the work per chunk of
C steps: schedule values for all C steps are computed on the host and moved once; the per-step
scalars go into device buffers (C, B); at the end of the chunk they are copied to the host in one
transfer, checked for stops, thinned and stored. No host synchronisation happens inside a chunk.
"""
from __future__ import annotations

import time

import numpy as np

from .engine_copies import gather_transposed, transposed
from .methods import row_norms
from .run_config import DEFAULT_BOUND
from .schedule_tables import ScheduleTable
from .trace import Trace
from .versions import library_versions

UNDEFINED_STEP_REASON = ("the step from x^{k} is undefined (NaN) although f and its gradient are finite there: "
                         "for a normalized method the direction d^k vanished while the gradient did not "
                         "(Algorithm 1a needs d^k ≠ 0), or the gradient is undefined at the perturbed point")


class BatchEngine:
    """Run a list of RunConfigs that share problem, method, length and options, by ``plan``."""

    def __init__(self, configs, plan, backend, progress_bar=None):
        first = configs[0]
        self.configs = configs
        self.backend = backend
        self.xp = backend.xp
        self.problem = first.problem.on(backend)
        self.method = first.method
        self.iters = first.iters
        self.bar = progress_bar
        options = first.options
        self.plan = plan
        self.record = options.get("record", True)
        self.record_every, self.tail, self.chunk = plan.record_every, plan.tail, plan.chunk
        self.checkpoints = plan.checkpoints
        self.kernel = plan.kernel
        self.bound = options.get("bound", DEFAULT_BOUND)
        self.k_offset = int(options.get("k_offset") or 0)  # the method sees k + k_offset (resumed runs)
        self.rngs = [np.random.default_rng(c.seed) for c in configs]
        self._schedule_tables: dict = {}
        self.assembly_seconds = 0.0  # time spent building Traces (part of the batch's time)
        # per-run outputs
        self.store = []            # (alive ids, kept ks, f, g, s, t, r) per chunk, host arrays
        self.checkpoint_store = []  # (k, alive ids, X host)
        self.results = [None] * len(configs)

    # ------------------------------------------------------------------ main loop
    def run(self) -> list:
        xp, backend = self.xp, self.backend
        started = time.perf_counter()
        X = backend.asarray(np.stack([c.x0 for c in self.configs]))
        self.alive = np.arange(len(self.configs))
        # ring[(k − 1) % tail, i] = x^k of run i: each step writes one contiguous (B, n) block
        self.ring = xp.empty((self.tail, len(self.configs), X.shape[1]))
        state = ({"rule_state": self.kernel.initial_state(len(self.configs), X.shape[1])} if self.kernel is not None
                 else self.method.init_state(xp, None))
        k = 1
        with np.errstate(all="ignore"):
            while k <= self.iters and self.alive.size:
                count = min(self.chunk, self.iters - k + 1)
                ks = np.arange(k, k + count)
                X, state = self._chunk(X, state, ks)
                k += count
                if self.bar is not None:
                    self.bar.update(count * len(self.alive))
            if self.alive.size:
                self._final(X)
        elapsed = time.perf_counter() - started
        for trace in self.results:
            trace.metadata["timing"] = {"batch_seconds": elapsed, "batch_size": len(self.configs),
                                        "assembly_seconds": self.assembly_seconds}
        return self.results

    def _chunk(self, X, state, ks):
        xp, problem, method = self.xp, self.problem, self.method
        if self.kernel is not None:
            return self._compiled_chunk(X, state, ks)
        count, batch = len(ks), len(self.alive)
        step_host = self._schedule_table(ks, "step")
        radius_host = self._schedule_table(ks, "radius") if method.uses_radius else None
        steps = self.backend.asarray(step_host)[:, :, None]
        radii = self.backend.asarray(radius_host)[:, :, None] if radius_host is not None else None
        noise = self._noise(count, X.shape[1])
        rec_f = xp.empty((count, batch)) if self.record else xp.zeros((count, batch))
        rec_g = xp.empty((count, batch))
        rec_d2 = xp.empty((count, batch))   # ‖D^k‖²; step lengths t_k‖D^k‖ are formed once per chunk
        ring, tail, checkpoints, record = self.ring, self.tail, self.checkpoints, self.record
        for j, k in enumerate(ks.tolist()):
            if record:
                F, G = problem.value_and_grad(X)
            else:  # benchmarks' baseline: no f(x^k) (the method needs only the gradient)
                F, G = None, problem.grad(X)
            gnorm = row_norms(xp, G)
            if k in checkpoints:
                self.checkpoint_store.append((k, self.alive.copy(), self._host_copy(X)))
            ring[(k - 1) % tail, :batch] = X
            t = steps[j]
            D, state = method.direction_step(problem, X, G, gnorm, t, radii[j] if radii is not None else None,
                                             state, [n[j] for n in noise] if noise else None, k + self.k_offset)
            if record:
                rec_f[j] = F
            rec_g[j] = gnorm[:, 0]
            rec_d2[j] = xp.einsum("ij,ij->i", D, D)  # CuPy's einsum takes no out=
            X = X - t * D  # a new array: a method may keep D (or G) in its state
        s_host = step_host * np.sqrt(self.backend.to_host(rec_d2))  # step lengths t_k‖D^k‖
        return self._end_chunk(X, state, ks, step_host, radius_host, rec_f, rec_g, s_host)

    def _compiled_chunk(self, X, state, ks):
        """The chunk as one call of the plan's compiled kernel (see :mod:`convcheck.engine_kernels`)."""
        count, batch = len(ks), len(self.alive)
        steps = self._schedule_table(ks, "step")
        radii = self._schedule_table(ks, "radius") if self.method.uses_radius else None
        noise = self._noise(count, X.shape[1])
        if noise is not None:  # the generic engine's draws, (count, noise_dim, B, n) for the kernel
            noise = np.ascontiguousarray(np.stack(noise, axis=1))
        rec_f = np.empty((count, batch)) if self.record else np.zeros((count, batch))
        rec_g, rec_s = np.empty((count, batch)), np.empty((count, batch))
        events, path = np.zeros(batch, np.int64), np.zeros(batch)
        self.kernel.run_chunk(X, steps, radii, noise, state["rule_state"], self.ring, (int(ks[0]) - 1) % self.tail,
                              self.record, rec_f, rec_g, rec_s, events, path, int(ks[0]) + self.k_offset, int(ks[0]))
        for k in ks.tolist():  # x^k is in the ring: the chunk is shorter than the tail
            if k in self.checkpoints:
                self.checkpoint_store.append((k, self.alive.copy(), self._host_copy(self.ring[(k - 1) % self.tail, :batch])))
        return self._end_chunk(X, state, ks, steps, radii, rec_f, rec_g, rec_s, (events, path))

    def _end_chunk(self, X, state, ks, step_host, radius_host, rec_f, rec_g, s_host, summary=None):
        """Store a chunk's records (on the host; ``s_host`` the step lengths) and retire the runs that
        stopped in it; ``summary`` is the compiled kernel's (events, path) per run (see _find_stops)."""
        f_host = self.backend.to_host(rec_f)
        g_host = self.backend.to_host(rec_g)
        r_host = radius_host if radius_host is not None else np.full_like(step_host, np.nan)
        self._store(ks, f_host, g_host, s_host, step_host, r_host)
        stops = self._find_stops(ks, f_host, g_host, s_host, summary)
        if stops:
            X, state = self._retire(X, state, stops, ks[-1])
        return X, state

    def _final(self, X):
        """Evaluate and record the last iterate x^{iters+1}."""
        k = self.iters + 1
        F, G = self.problem.value_and_grad(X)
        gnorm = row_norms(self.xp, G)[:, 0]
        batch = len(self.alive)
        self.ring[(k - 1) % self.tail, :batch] = X
        if k in self.checkpoints:
            self.checkpoint_store.append((k, self.alive.copy(), self._host_copy(X)))
        f_host = self.backend.to_host(F)[None, :]
        g_host = self.backend.to_host(gnorm)[None, :]
        nan = np.full((1, batch), np.nan)
        ks = np.array([k])
        self._store(ks, f_host, g_host, nan, nan, nan, force=True)
        stops = self._find_stops(ks, f_host, g_host, np.zeros((1, batch)))
        if stops:
            self._retire(X, {}, stops, k)
        self._finish_many([(int(run_id), col, k, "completed", None, "") for col, run_id in enumerate(self.alive)], k)

    # ------------------------------------------------------------------ recording
    def _store(self, ks, f, g, s, t, r, force=False):
        """Keep the chunk's records of steps k ≡ 1 (mod record_every) (all of them when ``force``)."""
        if force or (self.record and self.record_every == 1):
            kept = (ks, f, g, s, t, r)  # all rows: the chunk's own arrays, no copy
        else:  # a copy, so that the chunk's arrays are freed (a view, even an empty one, would keep them)
            rows = slice((-(int(ks[0]) - 1)) % self.record_every, None, self.record_every) if self.record \
                else slice(0, 0)
            kept = tuple(np.ascontiguousarray(a[rows]) for a in (ks, f, g, s, t, r))
        self.store.append((self.alive.copy(), *kept, (ks, f, g, s, t, r)))
        # full-resolution rows are needed only for a record at a stop: a stop in this chunk keeps at
        # most up to its first step's predecessor, the previous chunk's last row, so keep that row
        if len(self.store) > 1:
            previous = self.store[-2]
            if previous[7] is not None:
                self.store[-2] = previous[:7] + (tuple(a[-1:].copy() for a in previous[7]),)

    def _schedule_table(self, ks, which):
        """(C, B_alive) values of the ``which`` schedule ("step" or "radius") at steps ``ks``, C order
        (compiled kernels want it); see :class:`~convcheck.schedule_tables.ScheduleTable`."""
        if which not in self._schedule_tables:
            self._schedule_tables[which] = ScheduleTable([getattr(config, which) for config in self.configs])
        return self._schedule_tables[which].values(ks, self.alive)

    def _noise(self, count, dim):
        if not self.method.noise_dim:
            return None
        draws = np.stack([self.rngs[run_id].standard_normal((self.method.noise_dim, count, dim))
                          for run_id in self.alive], axis=2)  # (noise_dim, count, B, n)
        return [self.backend.asarray(d) for d in draws]

    # ------------------------------------------------------------------ stops
    def _find_stops(self, ks, f, g, s, summary=None):
        """Return [(col, (last_k, status, status_k, reason))] for runs that stop in this chunk.

        ``summary`` (compiled chunks): per run, the number of steps whose f (when recorded), ‖∇f‖ or
        step length is not finite or whose ‖∇f‖ is 0, and the summed finite step lengths; a chunk
        with no such step and no run that could have reached the bound is decided from them alone.
        """
        if summary is not None:
            events, path = summary
            if not events.any() and not self._bound_suspects(ks, path).size:
                return []
        bound_hit = self._bound_hits(ks, s)
        if (summary is None and not bound_hit.any() and np.isfinite(f).all() and np.isfinite(g).all()
                and np.isfinite(s).all() and not (self.method.stops_at_zero_gradient and (g == 0).any())):
            return []  # the usual chunk, decided in a few passes: none of the events below occurred
        bad_value = ~np.isfinite(f) | ~np.isfinite(g)
        zero_grad = (g == 0) & self.method.stops_at_zero_gradient
        infinite_step = np.isinf(s) & ~bad_value & ~zero_grad
        undefined_step = np.isnan(s) & ~bad_value & ~zero_grad
        stops = []
        for col in np.flatnonzero(bad_value.any(0) | zero_grad.any(0) | infinite_step.any(0)
                                  | undefined_step.any(0) | bound_hit.any(0)):
            events = []
            # (mask, offset, status, reason), in priority order: at a tie of last_k the cause wins
            # over its consequence (a NaN step from x^k makes x^{k+1} and f(x^{k+1}) non-finite too)
            for priority, (mask, offset, status, why) in enumerate((
                    (zero_grad, 0, "stationary", "the gradient vanished exactly at x^{k} (finite termination)"),
                    (undefined_step, 0, "undefined_step", UNDEFINED_STEP_REASON),
                    (infinite_step, 0, "diverged", "the step from x^{k} is infinite"),
                    (bad_value, -1, "diverged", "f or its gradient is not finite at x^{k}"),
                    (bound_hit, -1, "diverged", "the iterate x^{k} left the ball of radius %g" % self.bound))):
                hits = np.flatnonzero(mask[:, col])
                if hits.size:
                    k = int(ks[hits[0]])
                    # a step event is recorded on the row of x^k; the first bad iterate is x^{k+1}
                    event_k = k + (1 if mask is infinite_step or mask is undefined_step else 0)
                    events.append((k + offset, priority, status, event_k, why.replace("{k}", f"{{{k}}}")))
            last_k, _, status, event_k, why = min(events)
            stops.append((int(col), (last_k, status, event_k, why)))
        return stops

    def _bound_suspects(self, ks, path):
        """Runs whose iterates could have left the bound ball in this chunk: ‖x^k‖ ≤ ‖x^{k0}‖ + the
        summed step lengths (triangle inequality), compared with a relative margin of 1e-9 so that
        the rounding of these sums cannot hide a hit."""
        start = self.ring[(int(ks[0]) - 1) % self.tail, :len(self.alive)]
        start_norm = self.backend.to_host(self.xp.sqrt(self.xp.einsum("ij,ij->i", start, start)))  # B values
        return np.flatnonzero(start_norm + path > self.bound * (1.0 - 1e-9))

    def _bound_hits(self, ks, s):
        """Mask (C, B) of ‖x^k‖ > bound; cheap unless the path length could have reached the bound."""
        hits = np.zeros(s.shape, bool)
        path = np.where(np.isfinite(s), s, 0.0).sum(axis=0)  # path length of each run in this chunk
        for col in self._bound_suspects(ks, path):
            slots = (ks - 1) % self.tail
            norms = np.linalg.norm(self.backend.to_host(self.ring[self._device_index(slots), col]), axis=1)
            hits[:, col] = norms > self.bound
        return hits

    def _host_copy(self, a):
        """A host array that owns its data (a device transfer already is one: no second copy)."""
        return a.copy() if self.backend.name == "numpy" else self.backend.to_host(a)

    def _device_index(self, index):
        """A host integer index array as an index for this backend's arrays (CuPy wants device ones)."""
        return self.backend.asarray(index, dtype=np.int64)

    def _retire(self, X, state, stops, chunk_last_k):
        self._finish_many([(int(self.alive[col]), col, last_k, status, event_k, why)
                           for col, (last_k, status, event_k, why) in stops], chunk_last_k)
        keep = np.ones(len(self.alive), bool)
        keep[[col for col, _ in stops]] = False
        index = self._device_index(np.flatnonzero(keep))
        self.alive = self.alive[keep]
        self.ring[:, :len(self.alive)] = self.ring[:, index]
        X = X[index]
        state = {name: (value[index] if value is not None else None) for name, value in state.items()}
        return X, state

    # ------------------------------------------------------------------ assembling Traces
    def _finish_many(self, finishing, ring_last_k):
        """Build the Traces of the runs in ``finishing``: [(run_id, col, last_k, status, event_k, reason)].

        Batched over runs (one gather per stored chunk, one device transfer for the ring): every run
        that finishes now was alive in every stored chunk, so its column exists in each of them.
        """
        if not finishing:
            return
        started = time.perf_counter()
        run_ids = np.array([entry[0] for entry in finishing])
        records = self._gather_records(run_ids)
        iterates = self._gather_iterates(np.array([entry[1] for entry in finishing]), run_ids, ring_last_k)
        common = dict(backend=self.backend.name, versions=library_versions(), record_every=self.record_every,
                      tail=self.tail, engine=self.plan.engine_name)
        for j, (run_id, col, last_k, status, event_k, reason) in enumerate(finishing):
            arrays = self._records_of(records, j, run_id, last_k)
            x_k, x, tail_start = self._iterates_of(iterates, j, last_k)
            metadata = self.configs[run_id].describe()
            metadata.update(common)
            self.results[run_id] = Trace(
                k=arrays["k"].astype(np.int64, copy=False), f=arrays["f"], grad_norm=arrays["g"], step_norm=arrays["s"],
                step_size=arrays["t"], radius=arrays["r"], x_k=x_k, x=x, tail_start=tail_start, status=status,
                status_k=event_k, status_reason=reason.replace("{", "").replace("}", "") if reason else "",
                record_every=self.record_every, metadata=metadata)
        self.assembly_seconds += time.perf_counter() - started

    def _gather_records(self, run_ids):
        """Kept records of ``run_ids`` over all stored chunks: (ks (K,), {name: (R, K)}), one row per run."""
        ks_parts, parts = [], {name: [] for name in ("f", "g", "s", "t", "r")}
        for alive, ks, f, g, s, t, r, _ in self.store:
            positions = np.searchsorted(alive, run_ids)
            whole = len(positions) == len(alive) and bool((positions == np.arange(len(alive))).all())
            ks_parts.append(ks)
            for name, values in zip(("f", "g", "s", "t", "r"), (f, g, s, t, r)):
                parts[name].append(values if whole else values[:, positions])
        ks_all = np.concatenate(ks_parts) if ks_parts else np.zeros(0, np.int64)
        return ks_all, {name: (transposed(np.concatenate(v)) if v else np.zeros((len(run_ids), 0)))
                        for name, v in parts.items()}

    def _records_of(self, records, j, run_id, last_k):
        """Run j's records up to ``last_k``: views of row j of the gathered blocks, which is this run's
        alone (no per-run copy); k, shared by all runs, is copied."""
        ks_all, matrices = records
        count = int(np.searchsorted(ks_all, last_k, side="right"))
        arrays = {"k": ks_all[:count].copy()}
        arrays.update({name: matrix[j, :count] for name, matrix in matrices.items()})
        if last_k >= 1 and (count == 0 or ks_all[count - 1] != last_k):
            self._append_exact_record(arrays, run_id, last_k)
        if arrays["k"].size:
            for name in ("s", "t", "r"):
                arrays[name][-1] = np.nan  # the last iterate has no successor
        return arrays

    def _append_exact_record(self, arrays, run_id, last_k):
        """Append the unthinned record of ``last_k`` (this chunk, or the previous chunk's last row)."""
        for alive, *_, full in reversed(self.store[-2:]):
            ks, f, g, s, t, r = full
            position = np.searchsorted(alive, run_id)
            j = int(np.searchsorted(ks, last_k))
            if j < len(ks) and ks[j] == last_k and position < len(alive) and alive[position] == run_id:
                for name, values in zip(("k", "f", "g", "s", "t", "r"), (ks, f, g, s, t, r)):
                    extra = np.array([values[j]]) if name == "k" else np.array([values[j, position]])
                    arrays[name] = np.concatenate([arrays[name], extra])
                return

    def _gather_iterates(self, cols, run_ids, ring_last_k):
        """Kept iterates of the finishing runs as (ks (Q + T,), block (R, Q + T, n), Q): the Q stored
        checkpoints before the ring's first step, then the ring's T iterates in step order. ks is
        increasing, so a run's iterates up to its last step are a prefix of its row of the block. The ring
        always holds at least x^{ring_last_k}, so T ≥ 1."""
        first_tail = max(1, ring_last_k - self.tail + 1)
        tail_ks = np.arange(first_tail, ring_last_k + 1)
        slots = (tail_ks - 1) % self.tail
        checkpoints = [(k, alive, X) for k, alive, X in self.checkpoint_store if k < first_tail]
        count = len(checkpoints)
        block = np.empty((len(run_ids), count + len(tail_ks), self.problem.dim))
        for q, (_, alive, X) in enumerate(checkpoints):
            block[:, q] = X[np.searchsorted(alive, run_ids)]
        if self.backend.name != "numpy":  # gather and transpose on the device, one transfer
            rows = self.ring[self._device_index(slots)][:, self._device_index(cols)]
            block[:, count:] = self.backend.to_host(self.xp.ascontiguousarray(rows.transpose(1, 0, 2)))
        else:
            gather_transposed(self.ring, slots, np.asarray(cols, dtype=np.int64), block, count)
        ks = np.concatenate([np.array([k for k, _, _ in checkpoints], dtype=np.int64), tail_ks.astype(np.int64)])
        return ks, block, count

    @staticmethod
    def _iterates_of(iterates, j, last_k):
        """Run j's kept iterates up to ``last_k``: (x_k, x view (K, n), number of checkpoints among them)."""
        ks, block, checkpoints = iterates
        count = int(np.searchsorted(ks, last_k, side="right"))
        return ks[:count], block[j, :count], min(checkpoints, count)
