"""Library versions recorded with every trace and report (exact about what ran)."""
from __future__ import annotations

import platform
from functools import lru_cache

VERSION = "0.1.0"  # convcheck's own (setup.cfg states it too)


@lru_cache(maxsize=None)
def library_versions() -> dict:
    import numpy
    import scipy
    import sympy

    versions = {"convcheck": VERSION, "python": platform.python_version(), "numpy": numpy.__version__,
                "scipy": scipy.__version__, "sympy": sympy.__version__}
    try:
        import cupy  # noqa: PLC0415 - optional
        versions["cupy"] = cupy.__version__
    except ImportError:
        pass
    return versions
