"""The convcheck command line: list | run | certify | theorems | report | figures | check | experiments.

Errors a user can cause (a ConvcheckError, or a bad command line) end with one line on stderr and exit
status 2, never a traceback; nothing is written. Ctrl-C ends with status 130 after the completed
results are on disk; a closed output pipe (``convcheck certify runs/ --json | head``) ends quietly with
status 141, as other tools killed by SIGPIPE do.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

from .errors import ConvcheckError, InputError
from .limits import MAX_FUZZ_INSTANCES
from .outdir import folder_argument
from .safe_text import escape

EXIT_USAGE = 2
EXIT_PIPE = 141  # 128 + SIGPIPE

DESCRIPTION = ("Numerically verify the convergence theory of Sharpness-Aware Minimization (SAM) and its "
               "variants (Khanh, Luong, Mordukhovich, Tran, NeurIPS 2024).")

SPEC_HELP = """\
specs: problems, methods and schedules are named NAME or NAME:key=value,key=value
  --problem logsum:n=20,seed=0      the catalogue's logsum, n = 20 (see convcheck list problems)
  --problem "symbolic:(x^2-1)^2 + y^2"   a formula in x, y (or x0 ... x63)
  --method sam                      SAM with its defaults (convcheck list methods)
  --method vasso:theta=0.9          a method with one parameter changed
  --step 0.1   or  constant:0.1     the constant stepsize t_k = 0.1 (a bare number is constant)
  --step power:c=0.1,p=1            t_k = 0.1 / k  (convcheck list schedules)
  --radius power:c=0.1,p=0.5        rho_k = 0.1 / k^0.5
  --step "expr:0.5/(k+1)"           any expression in k
values are numbers, true/false, none or words; a one-parameter entry takes a bare value."""

EXAMPLES = """\
first steps:
  convcheck report                  the built-in study, certified, in report/index.html
  convcheck theorems --quick        every result of the paper on the catalogue, as a table
  convcheck check --problem logsum:n=2,seed=1 --method sam --step power:c=0.5,p=0.6 \\
      --radius power:c=0.1,p=0.7    run, certify P1-P5 and say which results apply
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (status 2) instead of usage + error."""

    def __init__(self, *args, **kwargs):
        # examples keep their layout (raw); a one-paragraph description is wrapped here instead
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if kwargs.get("description") and "\n" not in kwargs["description"]:
            import textwrap
            kwargs["description"] = textwrap.fill(kwargs["description"], 96)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise ConvcheckError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="convcheck", description=DESCRIPTION, epilog=EXAMPLES + "\n" + SPEC_HELP)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list problems, methods or schedules (a table with a header row)",
                       description="List the catalogue's problems, the methods or the stepsize/radius schedules.")
    p.add_argument("what", choices=("problems", "methods", "schedules"), help="what to list")
    _add_wide(p)

    p = sub.add_parser("run", help="run one configuration, or the product of repeated options, batched",
                       description="Run the configurations given (every combination of repeated --problem, "
                                   "--method, --step, --radius and --seed) and save one trace file each.",
                       epilog=SPEC_HELP)
    p.add_argument("--problem", action="append", required=True, metavar="SPEC",
                   help="problem spec, e.g. logsum:n=20,seed=0 (repeatable)")
    p.add_argument("--method", action="append", required=True, metavar="SPEC",
                   help="method spec, e.g. sam or vasso:theta=0.9 (repeatable)")
    p.add_argument("--step", action="append", required=True, metavar="SPEC",
                   help="stepsize schedule t_k, e.g. 0.1, constant:0.1 or power:c=0.1,p=1 (repeatable)")
    p.add_argument("--radius", action="append", default=None, metavar="SPEC",
                   help="perturbation radius rho_k of SAM-type methods, e.g. constant:0.1 (repeatable)")
    p.add_argument("--x0", default=None, metavar="X",
                   help="initial point x^1 as comma-separated numbers, e.g. 1,-0.5 (default: the problem's)")
    p.add_argument("--seed", action="append", type=_nonneg_int, default=None,
                   help="seed of the run's random draws (RSAM, random errors); repeatable (default 0)")
    p.add_argument("--iters", type=_pos_int, required=True, metavar="K",
                   help="number of steps K: iterates x^1 ... x^(K+1)")
    p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"),
                   help="array library: numpy (CPU, default) or cupy (a CUDA GPU)")
    p.add_argument("--batch", type=_pos_int, default=256, metavar="B",
                   help="most runs per batch between saves (default 256)")
    p.add_argument("--max-records", type=_pos_int, default=None, metavar="N",
                   help="cap on the per-step records (f, |grad f|, step) kept per run (default: all)")
    p.add_argument("--out", type=folder_argument, default="runs", metavar="DIR", help="output folder (default runs/)")
    _add_write_flags(p)
    _add_scheduler_flags(p)

    p = sub.add_parser("certify", help="certify P1-P5 for saved runs",
                       description="Certify the properties P1-P5 of saved runs: holds, fails or inconclusive, "
                                   "each with its reason.")
    p.add_argument("runs", nargs="+", metavar="TRACE", help="trace files (.npz) or folders of them")
    p.add_argument("--json", action="store_true", help="print the certificates as JSON instead of text")

    p = sub.add_parser("theorems", help="check every result of the paper on the catalogue",
                       description="Run the built-in study (every result of the paper on catalogue problems "
                                   "meeting its hypotheses) and compare each certificate with the prediction.")
    p.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    p.add_argument("--fuzz", type=_fuzz_count, default=None, metavar="N",
                   help="instead: the theorem fuzzer, N random instances meeting a result's hypotheses "
                        f"(at most {MAX_FUZZ_INSTANCES})")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="fuzzer campaign seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the study (or the fuzz campaign) as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_wide(p)
    _add_scheduler_flags(p)

    p = sub.add_parser("report", help="write the HTML/Markdown/JSON report (default: the built-in study)",
                       description="Write index.html, report.md, results.json and figures/ for the built-in "
                                   "study, or for the trace files given.")
    p.add_argument("runs", nargs="*", metavar="TRACE",
                   help="trace files or folders to report on instead of the default study")
    p.add_argument("--out", type=folder_argument, default=None, metavar="DIR",
                   help="output folder (default report/, replaced when convcheck wrote it)")
    p.add_argument("--quick", action="store_true", help="the --quick theorem study (faster, smaller runs)")
    p.add_argument("--no-figures", action="store_true", help="skip the paper's figures")
    p.add_argument("--force", action="store_true",
                   help="replace an existing report folder (never one holding files convcheck did not write)")
    p.add_argument("--quiet", action="store_true", help="no progress and no summary")
    p.add_argument("--experiments", action="store_true", help="add the Section 5 miniature (scikit-learn; "
                   "about 2.5 min of CPU, 35 s with --quick)")
    _add_scheduler_flags(p)

    p = sub.add_parser("figures", help="regenerate the paper's figures",
                       description="Regenerate the paper's figures: PNG, PDF and a JSON sidecar of each.")
    p.add_argument("--out", type=folder_argument, default="figures", metavar="DIR", help="output folder (default figures/)")
    _add_write_flags(p)

    from .cli_check import add_parser as add_check_parser  # `convcheck check` lives in cli_check.py
    add_check_parser(sub, _whole_number, parse_vector)
    from .cli_experiments import add_parser as add_experiments_parser
    add_experiments_parser(sub)
    return parser


def _add_wide(p):
    p.add_argument("--wide", action="store_true",
                   help="never wrap table cells (default: wrap to at most 100 columns)")


def _add_write_flags(p):
    p.add_argument("--force", action="store_true", help="replace earlier results in the output folder")
    p.add_argument("--resume", action="store_true", help="keep earlier results and run only what is missing or failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _add_scheduler_flags(p):
    group = p.add_mutually_exclusive_group()
    group.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run the sweep on this Dask scheduler's workers (extra convcheck[dist])")
    group.add_argument("--workers", type=_pos_int, default=None, metavar="N",
                       help="run the sweep on a local Dask cluster of N worker processes (extra convcheck[dist])")


def scheduler_of(args):
    """What ``--scheduler`` / ``--workers`` ask for (None: in-process), checked before any work."""
    scheduler = args.scheduler if args.scheduler is not None else args.workers
    if scheduler is not None:
        from .distributed import check
        check(scheduler)  # a malformed address, or no extra installed (then: how to install it), in one line
    return scheduler


def _whole_number(minimum: int, what: str, maximum: int = None):
    """argparse type: an integer ≥ ``minimum`` (and ≤ ``maximum``), else a one-line error naming what is
    accepted."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            bound = "" if maximum is None else f" at most {maximum}"
            raise argparse.ArgumentTypeError(f"expected a {what} whole number{bound}, got {text!r}")
        return value
    return parse


_pos_int = _whole_number(1, "positive")
_nonneg_int = _whole_number(0, "non-negative")
_fuzz_count = _whole_number(1, "positive", MAX_FUZZ_INSTANCES)


def parse_vector(text: str):
    import math
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--x0 must be comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise InputError(f"--x0 must be finite comma-separated numbers, got {text!r}")
    return values


# ---------------------------------------------------------------------- commands
def cmd_list(args) -> int:
    from .tables import DEFAULT_WIDTH, format_table

    width = None if args.wide else DEFAULT_WIDTH
    if args.what == "problems":
        from convcheck.problems import format_catalogue_table
        print(format_catalogue_table(width=width))
    elif args.what == "methods":
        from .methods import describe_methods
        rows = [(row["name"], row["algorithm"], ", ".join(f"{k}={v}" for k, v in row["defaults"].items()) or "-",
                 row["update"]) for row in describe_methods()]
        print(format_table(("name", "paper", "parameters (defaults)", "update"), rows, width, nowrap=(0,)))
    else:
        from .schedules import describe_schedules
        rows = [(row["name"], row["parameters"], row["formula"]) for row in describe_schedules()]
        print(format_table(("name", "parameters (defaults)", "formula"), rows, width, nowrap=(0,)))
    return 0


def cmd_run(args) -> int:
    from . import store
    from .backend import get_backend
    from .runner import execute, make_config

    get_backend(args.backend)  # refuse an unavailable backend before any work
    scheduler = scheduler_of(args)
    x0 = parse_vector(args.x0) if args.x0 is not None else None
    options = {"max_records": args.max_records} if args.max_records else {}
    configs = [make_config(problem, method, x0=x0, iters=args.iters, step=step, radius=radius, seed=seed,
                           **options)
               for problem, method, step, radius, seed in itertools.product(
                   args.problem, args.method, args.step, args.radius or [None], args.seed or [0])]
    out = store.prepare_folder(args.out, force=args.force, resume=args.resume)
    done = store.completed_hashes(out) if args.resume else set()
    entries = {e["hash"]: e for e in store.read_index(out)} if args.resume else {}
    pending = []
    for config in configs:
        digest = store.config_hash(config.describe())
        if digest not in done:
            pending.append((digest, config))
        elif digest not in entries:
            entries[digest] = {"hash": digest, "file": f"{digest}.npz", "status": "completed",
                               "problem": config.problem.key, "method": config.method.spec}
    if not args.quiet:
        print(f"{len(configs)} configuration(s), {len(configs) - len(pending)} already done, "
              f"running {len(pending)}", file=sys.stderr)

    def land(pairs):
        """Save traces (atomic files named by configuration hash), then merge them into the index."""
        for (digest, config), trace in pairs:
            trace.save(out / f"{digest}.npz")
            entries[digest] = {"hash": digest, "file": f"{digest}.npz", "status": trace.status,
                               "status_k": trace.status_k, "reason": trace.status_reason,
                               "problem": config.problem.key, "method": config.method.spec,
                               "step": config.step.spec,
                               "radius": config.radius.spec if config.radius is not None else None,
                               "seed": config.seed}
            if not args.quiet:
                print(f"{digest}  {trace.status:<10} {config.problem.key}  {config.method.spec}  "
                      f"step={config.step.spec}  f={_last(trace.f)}  |grad|={_last(trace.grad_norm)}")
            if trace.status == "failed":
                print(f"convcheck: {digest} failed: {escape(trace.status_reason)}", file=sys.stderr)
        store.write_index(out, sorted(entries.values(), key=lambda e: e["hash"]))

    if scheduler is not None and pending:  # the same batches on Dask workers, landed as they complete
        from . import distributed
        distributed.sweep([c for _, c in pending], scheduler, backend=args.backend, progress=not args.quiet,
                          batch=args.batch, keep=False,
                          on_landed=lambda pairs: land([(pending[i], t) for i, t in pairs]))
    elif pending:
        for start in range(0, len(pending), args.batch):
            batch = pending[start:start + args.batch]
            land(list(zip(batch, execute([c for _, c in batch], backend=args.backend, progress=not args.quiet,
                                         on_error="record"))))
    if not pending:
        store.write_index(out, sorted(entries.values(), key=lambda e: e["hash"]))
    failed = sum(entry.get("status") == "failed" for entry in entries.values())
    if failed:  # every result is kept; the exit status says that some configurations could not run
        print(f"convcheck: {failed} of {len(entries)} configuration(s) failed (recorded in "
              f"{escape(str(out / 'index.json'))})", file=sys.stderr)
        return 1
    return 0


def _last(values):
    return f"{values[-1]:.6g}" if len(values) else "-"


def trace_paths(items) -> list:
    from .safe_text import quote
    paths = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.glob("*.npz"))
            if not found:
                raise InputError(f"folder {quote(item)} holds no trace files (.npz)")
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        else:
            raise InputError(f"no such trace file or folder: {quote(item)}")
    return paths


def cmd_certify(args) -> int:
    from convcheck.properties import certify_trace_file
    from .safe_text import escape

    paths = trace_paths(args.runs)
    certificates = [(path, certify_trace_file(path)) for path in paths]
    if args.json:
        print(json.dumps([{"file": str(path), **cert.to_dict()} for path, cert in certificates], indent=1))
    else:
        for path, cert in certificates:
            print(f"== {escape(path)}")
            print(cert)
    return 0


def cmd_theorems(args) -> int:
    from convcheck.properties.study import run_study, study_table

    if args.fuzz:  # exit status 1 when a certifier bug is found
        from convcheck.properties.fuzz import campaign_table, run_campaign
        campaign = run_campaign(args.fuzz, seed=args.seed, progress=not args.quiet, scheduler=scheduler_of(args))
        print(json.dumps(campaign.to_dict(), indent=1) if args.json else campaign_table(campaign))
        return 1 if campaign.bugs else 0

    study = run_study(quick=args.quick, progress=not args.quiet, scheduler=scheduler_of(args))
    if args.json:
        print(json.dumps(study.to_dict(), indent=1))
    else:
        from .tables import DEFAULT_WIDTH
        print(study_table(study, width=None if args.wide else DEFAULT_WIDTH))
    return 1 if study.contradictions else 0


def cmd_report(args) -> int:
    from convcheck.reports.report import make_report

    paths = trace_paths(args.runs) if args.runs else None
    from .outdir import DEFAULT_REPORT_DIR
    summary = make_report(args.out or DEFAULT_REPORT_DIR, traces=paths, quick=args.quick, figures=not args.no_figures,
                          force=args.force, progress=not args.quiet, replace_own=args.out is None,
                          experiments=args.experiments, scheduler=scheduler_of(args))
    if not args.quiet:
        print(summary)
    return 0


def cmd_figures(args) -> int:
    from convcheck.reports.figures import make_figures

    written = make_figures(args.out, force=args.force, resume=args.resume)
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def cmd_check(args) -> int:
    from .cli_check import cmd_check as run_check

    return run_check(args)


def cmd_experiments(args) -> int:
    from .cli_experiments import cmd_experiments as run_experiments_command

    return run_experiments_command(args)


COMMANDS = {"list": cmd_list, "run": cmd_run, "certify": cmd_certify, "theorems": cmd_theorems,
            "report": cmd_report, "figures": cmd_figures, "check": cmd_check, "experiments": cmd_experiments}


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        status = COMMANDS[args.command](args)
        sys.stdout.flush()   # here, so that a closed pipe is caught below and not at exit
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except ConvcheckError as exc:
        from .safe_text import escape
        print(f"convcheck: error: {escape(exc)}", file=sys.stderr)  # one line: controls made visible
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("convcheck: interrupted; completed results are on disk (use --resume to finish)", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null, so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a file (captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
