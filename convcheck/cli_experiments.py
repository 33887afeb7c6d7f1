"""``convcheck experiments [--quick]``: Section 5 in miniature (needs scikit-learn: ``convcheck[experiments]``).

Trains SGD, SAM, USAM, VaSSO, F-SAM and RSAM on scikit-learn's digits with the constant step size
(best of a grid on the validation split) and Diminish 1–3 (paper's formulas and the code's forms),
three seeds, momentum 0.9 and 0; writes the table, Figure 2's panels and the claims' verdicts into
the --out folder and prints the table and verdicts. --quick: 40 epochs instead of 200.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import OutputExistsError
from .outdir import folder_argument

OUTPUT_NAMES = ("experiments.md", "experiments.json", "experiments_figure2.png", "experiments_figure2.pdf",
                "experiments_figure2.json")


def add_parser(sub) -> None:
    """Register the ``experiments`` subcommand on the main parser's subparsers."""
    p = sub.add_parser("experiments", help="Section 5 in miniature: constant vs diminishing step sizes on digits "
                                           "(needs scikit-learn)",
                       description=" ".join(__doc__.split("\n\n")[1].split()))
    p.add_argument("--quick", action="store_true", help="40 epochs instead of 200 (about 35 s of CPU instead of 2.5 min)")
    p.add_argument("--out", type=folder_argument, default="experiments", help="output folder (default experiments/)")
    p.add_argument("--force", action="store_true", help="replace earlier results in the output folder")
    p.add_argument("--quiet", action="store_true", help="no progress and no table on the terminal")


def cmd_experiments(args) -> int:
    from .experiment_report import markdown, write_outputs
    from .experiment_net import load_split
    from .experiments import FULL, QUICK, run_experiments

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {str(out)!r} is a file; give a folder for the experiments")
    existing = [name for name in OUTPUT_NAMES if (out / name).exists()]
    if existing and not args.force:
        raise OutputExistsError(f"output folder {str(out)!r} already holds {', '.join(existing)}; "
                                "use --force to replace them")
    load_split()  # a missing scikit-learn is reported before any work
    config = QUICK if args.quick else FULL
    report = None if args.quiet else (lambda method: print(f"training {method} ...", file=sys.stderr))
    result = run_experiments(config, progress=report)
    paths = write_outputs(result, out)
    if not args.quiet:
        print(markdown(result, figure_path=str(paths[2])))
        for path in paths:
            print(path, file=sys.stderr)
        print(f"{config.name} configuration: {result.seconds:.1f} s of training", file=sys.stderr)
    return 0
