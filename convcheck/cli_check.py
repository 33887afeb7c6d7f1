"""``convcheck check``: run, certify and compare with the paper's results (see :mod:`convcheck.check`)."""
from __future__ import annotations

import sys

from .errors import SpecError
from .specs import BARE_KEY, parse_spec


def add_parser(sub, whole_number, parse_vector) -> None:
    """Register ``check`` on the subcommand table ``sub`` of the main parser."""
    p = sub.add_parser("check", help="run, certify P1-P5 and say which results of the paper apply, and why not")
    p.add_argument("--problem", required=True,
                   help='e.g. logsum:n=2,seed=1, "symbolic:(x^2-1)^2 + y^2" or py:mypackage.mymodule:make_problem')
    p.add_argument("--method", required=True, help="e.g. sam, vasso:theta=0.9 or py:mypackage.mymodule:MyMethod")
    p.add_argument("--step", required=True, help="e.g. power:c=0.5,p=0.6")
    p.add_argument("--radius", default=None, help="e.g. power:c=0.1,p=0.7")
    p.add_argument("--x0", action="append", default=None,
                   help="initial point as comma-separated numbers (repeat for several starts, run batched)")
    p.add_argument("--iters", type=whole_number(1, "--iters"), default=10_000, help="steps of the first run (10000)")
    p.add_argument("--max-iters", type=whole_number(1, "--max-iters"), default=None,
                   help="extend inconclusive runs by doubling up to this many steps (default 16 x --iters)")
    p.add_argument("--assume", default=None,
                   help="hypotheses of a symbolic or py: problem, e.g. L=2,lower_bound=0,bounded_level_sets=true "
                        "(a bare L or lower_bound counts as a proven bound)")
    p.add_argument("--seed", type=whole_number(0, "--seed"), default=0,
                   help="seed of the runs' random draws (RSAM, random errors; default 0)")
    p.add_argument("--out", default=None, help="write check.md, check.json and the traces into this folder "
                                               "(new or empty; an earlier check folder with --force)")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier check folder (never one holding files convcheck did not write)")
    p.set_defaults(parse_vector=parse_vector)


def parse_assumptions(text) -> dict:
    if not text:
        return {}
    _, params = parse_spec(f"assume:{text}", "--assume")
    if BARE_KEY in params:
        raise SpecError(f"--assume {text!r}: give key=value pairs, e.g. L=2,lower_bound=0")
    return {k: ({"true": True, "false": False}.get(v.lower(), v) if isinstance(v, str) else v) for k, v in params.items()}


def cmd_check(args) -> int:
    from . import problems
    from .check import check

    assumptions = parse_assumptions(args.assume)
    if assumptions and not args.problem.startswith("symbolic:"):
        raise SpecError("--assume states hypotheses of a symbolic problem; a catalogue problem knows its own, and "
                        "a py: factory should state them itself (so that its traces rebuild them)")
    if args.out:  # refuse an output folder before any computing
        from . import outdir
        outdir.prepare_report_folder(args.out, force=args.force, names=outdir.CHECK_NAMES)
    problem = problems.get(args.problem, **assumptions) if assumptions else args.problem
    starts = [args.parse_vector(x) for x in args.x0] if args.x0 else None
    result = check(problem, args.method, step=args.step, radius=args.radius, iters=args.iters,
                   max_iters=args.max_iters, starts=starts, seed=args.seed)
    print(result)
    if args.out:
        written = result.write(args.out, force=args.force)
        print(f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    contradictions = [v for run in result.runs for _, v, _ in run.comparisons if v == "contradiction"]
    return 1 if contradictions else 0
