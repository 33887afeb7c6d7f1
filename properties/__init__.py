"""What should hold (the theorem registry, ``applicable``) and what does hold (``certify``: certificates of
the five convergence properties P1–P5, paper Table 1).

``certify(trace_or_iterates, problem, **options) -> Certificate``; see :mod:`.certify` for the method.
"""
from .certify import DEFAULT_OPTIONS, certify
from .trace_files import certify_trace_file, problem_from_trace
from .verdict import PROPERTIES, Certificate, InconsistentVerdicts, Verdict

from .theorems import applicable

__all__ = ["certify", "Certificate", "Verdict", "PROPERTIES", "DEFAULT_OPTIONS", "InconsistentVerdicts",
           "certify_trace_file", "problem_from_trace", "applicable"]
