#!/usr/bin/env bash
# One device call: install convcheck on a GPU machine, run the GPU tests and the GPU benchmark.
# Usage (repository root, on the GPU machine):  bash benchmarks/gpu_check.sh [OUTDIR]
# Needs CuPy in the machine's Python; nothing is downloaded (the install uses --no-index, no deps).
set -uo pipefail
out="${1:-${OUT:-/tmp/convcheck-gpu}}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
root="$(pwd)"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import sys, numpy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__)"
  python3 -m pip install -q --no-deps --no-build-isolation --no-index "$root" || { echo "install failed"; exit 1; }
  echo "== pytest -m gpu"
  (cd /tmp && timeout 240 python3 -m pytest -m gpu -q -p no:cacheprovider "$root/tests/test_problems.py" "$root/tests/test_runner.py")
  echo "== benchmark"
  (cd /tmp && timeout 300 python3 "$root/benchmarks/bench_engine.py" --gpu)
} 2>&1 | tee "$out/gpu_check.log"
