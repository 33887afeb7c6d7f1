"""Time certify() on a 10⁶-step trace in n = 100 (scalars every step, 200 checkpoints + a 4096-iterate tail).

    OMP_NUM_THREADS=1 python benchmarks/certify_million.py
"""
import sys
import time

import numpy as np

sys.path.insert(0, "tests")
from labelled_sequences import quadratic  # noqa: E402

from convcheck.properties import certify  # noqa: E402
from convcheck.trace import Trace  # noqa: E402

n, K, tail = 100, 1_000_000, 4096
diag = np.linspace(1.0, 10.0, n)
p = quadratic(n, diag=diag)
k = np.arange(1, K + 1, dtype=float)
direction = np.random.default_rng(0).standard_normal(n)
marks = np.unique(np.round(np.geomspace(1, K - tail, 200)))
x_k = np.concatenate([marks, np.arange(K - tail + 1, K + 1)]).astype(int)
x = direction / x_k[:, None].astype(float)
g = np.linalg.norm(direction * diag) / k
f = 0.5 * np.sum(diag * direction ** 2) / k ** 2
step = np.linalg.norm(direction) * (1 / k - 1 / (k + 1))
trace = Trace(k=k.astype(int), f=f, grad_norm=g, step_norm=step, step_size=np.full(K, 0.1),
              radius=np.full(K, np.nan), x_k=x_k, x=x, tail_start=len(marks))
for stability in (True, False):
    start = time.perf_counter()
    cert = certify(trace, p, stability=stability)
    print(f"K = 10^6, n = {n}, stability={stability}: {time.perf_counter() - start:.2f} s, {cert.summary}")
