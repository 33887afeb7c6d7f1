"""The problem catalogue: batched f, ∇f and metadata with provenance.

Public API (design.md)::

    from convcheck.problems import get, catalogue, from_functions, symbolic
    catalogue()                         # entry names
    p = get("logsum", n=20, seed=0)     # or get("logsum:n=20,seed=0")
    describe_catalogue(), format_catalogue_table()   # for `convcheck list problems`
"""
from .base import FunctionProblem, Meta, MinimizerSet, Problem
from .python_factories import problem_factory
from .rebuild import problem_from_trace
from .registry import catalogue, get
from .symbolic import symbolic
from .table import describe_catalogue, format_catalogue_table
from .user import Stated, bound, estimate, exact, from_functions

__all__ = ["get", "catalogue", "from_functions", "symbolic", "describe_catalogue", "format_catalogue_table",
           "Problem", "Meta", "MinimizerSet", "FunctionProblem", "problem_factory", "problem_from_trace",
           "exact", "bound", "estimate", "Stated"]
