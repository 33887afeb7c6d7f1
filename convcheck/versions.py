"""Library versions recorded with every trace and report (exact about what ran)."""
from __future__ import annotations

import platform
from functools import lru_cache


@lru_cache(maxsize=None)
def library_versions() -> dict:
    import numpy
    import scipy
    import sympy

    from . import __version__

    versions = {"convcheck": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
                "scipy": scipy.__version__, "sympy": sympy.__version__}
    try:
        import cupy  # noqa: PLC0415 - optional
        versions["cupy"] = cupy.__version__
    except ImportError:
        pass
    return versions
