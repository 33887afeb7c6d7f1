"""convcheck: numerical verification of the convergence theory of Sharpness-Aware Minimization.

Implements Khanh, Luong, Mordukhovich and Tran, "Fundamental Convergence Analysis of Sharpness-Aware
Minimization" (NeurIPS 2024): the test problems (``convcheck.problems``), the methods and schedules,
the batched runner, the five-property certificates and theorem registry (``convcheck.properties``)
and the reports and figures (``convcheck.reports``).
"""
from ._source_layout import install_if_source_checkout as _install_if_source_checkout
from .versions import VERSION as __version__

_install_if_source_checkout(__path__[0])

from . import methods, schedules  # noqa: E402
from .runner import run, sweep  # noqa: E402
from .trace import Trace  # noqa: E402
from .check import check  # noqa: E402  (the function: convcheck.check(...); the module is convcheck.check's home)

__all__ = ["run", "sweep", "check", "methods", "schedules", "Trace", "__version__"]
