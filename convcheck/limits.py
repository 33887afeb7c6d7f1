"""Limits on work and memory that input (command line, expressions, files) may cause.

Every limit is checked *before* the work or the allocation it bounds, and exceeding one is a one-line
:class:`~convcheck.errors.ConvcheckError`. The values and the reasons for them are listed in the
project's notes on untrusted input; each is far above what the paper's experiments need.
"""
from __future__ import annotations

# ------------------------------------------------------------------ iterations
#: Most steps one run may take. 10^10 steps of the fastest kernel (about 10^6 run-steps/s on one core)
#: are hours of work; beyond that k no longer fits comfortably in float64 schedule arithmetic
#: (k^2 for a Σ t_k² check exceeds 2^53 from k ≈ 9.5·10^7 on, so the cap is about work, not exactness).
MAX_ITERS = 10 ** 10

#: Schedule values checked one by one at the start of a run (all of them for shorter runs); beyond
#: that, a log-spaced sample plus the last iterations. A bad value missed by the sample shows up as a
#: non-finite step inside the run, which ends it as "diverged" with its iteration number.
SCHEDULE_CHECK_EXHAUSTIVE = 1 << 17
SCHEDULE_CHECK_SAMPLES = 4096

#: Most instances of one theorem-fuzzer campaign (``convcheck theorems --fuzz N``). Every trace of the
#: campaign is kept until it is judged (about 0.1 MB each at the default 3000 steps), so 10^4
#: instances stay near 1 GB; a larger study is several campaigns with different ``--seed``.
MAX_FUZZ_INSTANCES = 10_000

# ------------------------------------------------------------------ expressions
#: Largest integer an expression may build, in decimal digits (left operands included:
#: ``((9**999)**999)**999`` is refused before it is computed). Below Python's 4300-digit limit on
#: int/str conversion, so no message ever quotes that limit.
MAX_INTEGER_DIGITS = 4000
#: Integers beyond 2^53 are not exactly representable in float64; they are turned into floats before
#: NumPy sees them (NumPy would otherwise get a Python int beyond int64 and make an object array).
EXACT_FLOAT_INTEGER = 2 ** 53
#: Nodes of a symbolic problem's expression tree (after SymPy's own simplification at construction).
#: ``expand((x + y + 1)**200)`` has 20 301 terms (about 10^5 nodes) and is refused; a 1000-character
#: expression typed by hand has at most a few thousand.
MAX_EXPRESSION_NODES = 20_000
#: Sampled points for a symbolic problem's L and convexity estimates (one Hessian each).
MAX_SYMBOLIC_SAMPLES = 1 << 16

# ------------------------------------------------------------------ catalogue parameters
#: Largest magnitude of a real catalogue parameter without a declared upper bound: powers such as
#: R^(p-2) with p <= 16 stay below 1e308 (1e15^14 = 1e210).
MAX_PARAMETER_MAGNITUDE = 1e15
MAX_INTEGER_PARAMETER = 2 ** 63 - 1

# ------------------------------------------------------------------ trace files
#: Uncompressed size of one array in a trace file (from the zip directory, checked before reading):
#: a run keeps at most 10^6 scalars per quantity (8 MB) and a tail of at most 2^24 floats (128 MiB).
MAX_MEMBER_BYTES = 256 * 2 ** 20
#: Uncompressed size of all members together.
MAX_TRACE_BYTES = 1024 * 2 ** 20
#: Metadata JSON (stored as a NumPy unicode scalar, 4 bytes a character): x0 of the largest catalogue
#: dimension (10^4) takes about 250 kB of JSON.
MAX_METADATA_BYTES = 16 * 2 ** 20
#: Nesting depth of metadata JSON (real metadata is 4 levels deep).
MAX_METADATA_DEPTH = 32
#: Longest text field printed from a file (a status reason, a spec).
MAX_TEXT_FIELD = 10_000
#: Dimension of the iterates in a trace (the catalogue's largest is 10^4).
MAX_TRACE_DIM = 100_000
#: Size of an ``index.json`` read back by ``--resume`` or ``--force``.
MAX_INDEX_BYTES = 64 * 2 ** 20

# ------------------------------------------------------------------ output folders
#: Free space an output folder must have before any computing starts.
MIN_FREE_BYTES = 1 * 2 ** 20
