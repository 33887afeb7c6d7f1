"""The package imports from a source checkout, where ``convcheck/`` sits beside the mapped folders.

At the repository root, ``python -c`` and ``python -m pytest`` put the checkout first on ``sys.path``;
``convcheck/_source_layout.py`` maps ``problems/``, ``properties/`` and ``reports/`` into the source
package the way setup.cfg maps them into the installed one.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_at_root(code):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_mapped_folders_import_at_the_repository_root():
    done = _python_at_root(
        "import convcheck, convcheck.problems, convcheck.properties, convcheck.reports.report\n"
        "print(convcheck.__file__); print(convcheck.problems.__file__); print(convcheck.properties.__file__)")
    assert done.returncode == 0, done.stderr
    package, problems, properties = done.stdout.split()
    assert os.path.dirname(package) == os.path.join(ROOT, "convcheck")
    assert os.path.dirname(problems) == os.path.join(ROOT, "problems")
    assert os.path.dirname(properties) == os.path.join(ROOT, "properties")


def test_the_readme_snippet_runs_at_the_repository_root():
    done = _python_at_root(
        "from convcheck.problems import get\n"
        "from convcheck import run, methods, schedules\n"
        "from convcheck.properties import certify\n"
        "p = get('quadratic', n=2, seed=0)\n"
        "tr = run(p, methods.sam(), [1.0, 1.0], iters=200, step=schedules.constant(0.1), "
        "radius=schedules.constant(0.01))\n"
        "print(tr.status, certify(tr, p)['P1'].status)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] in {"completed", "stationary"}


def test_only_the_mapped_folders_are_added():
    done = _python_at_root(
        "import importlib.util, convcheck\n"
        "print(importlib.util.find_spec('convcheck.tests') is None, importlib.util.find_spec('convcheck.benchmarks') is None)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
