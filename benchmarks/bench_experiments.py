"""Cost of the Section 5 miniature: seconds per epoch of each method, as a ratio to SGD in the same run.

    python benchmarks/bench_experiments.py [--epochs 5]

Each method trains all its runs (3 seeds × 2 momenta × 8 schedules = 48 rows) as one (48, 2410) program
with one BLAS thread. A step of SAM, USAM, VaSSO and F-SAM costs two mini-batch gradients and RSAM's
three, against SGD's one, so the ratios should sit near 2 and 3 when gradients dominate; a ratio far
above that points at overhead outside the gradient.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from convcheck.experiment_net import load_split
from convcheck.experiment_train import EXPERIMENT_METHODS, ExperimentConfig, train_method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="median of this many timings per method")
    args = parser.parse_args()
    config = ExperimentConfig(epochs=args.epochs, name="bench")
    data = load_split()
    print(f"{platform.machine()}, NumPy {np.__version__}; {args.epochs} epochs, "
          f"{len(config.seeds) * len(config.momenta) * len(config.schedules)} runs per method")
    seconds = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for method in EXPERIMENT_METHODS:
            timings = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                history = train_method(config, data, method)
                timings.append(time.perf_counter() - start)
            seconds[method] = float(np.median(timings)) / args.epochs
            print(f"{method:<6} {seconds[method]:7.3f} s/epoch  x SGD {seconds[method] / seconds['sgd']:5.2f}  "
                  f"gradients per step {history.gradient_calls_per_step}")


if __name__ == "__main__":
    main()
