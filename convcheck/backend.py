"""Array backends: NumPy (default) and CuPy, chosen by name.

Engine code receives a :class:`Backend` and does its array math through ``backend.xp``; it never
imports numpy for array math directly. Problem data and random draws are generated on the host from
seeded ``numpy.random.Generator`` objects and moved with :meth:`Backend.asarray`, so both backends see
the same instance.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import BackendError, unknown_name

BACKEND_NAMES = ("numpy", "cupy")


@dataclass(frozen=True)
class Backend:
    """An array namespace with host/device transfer.

    Attributes
    ----------
    name : "numpy" or "cupy".
    xp : the array module (``numpy`` or ``cupy``).
    """

    name: str
    xp: Any

    def asarray(self, a, dtype=np.float64):
        """Move a host (or device) array to this backend with the given dtype."""
        return self.xp.asarray(a, dtype=dtype)

    def to_host(self, a) -> np.ndarray:
        """Return a NumPy array (copying from the device for CuPy)."""
        if self.name == "cupy":
            return self.xp.asnumpy(a)
        return np.asarray(a)

    def synchronize(self) -> None:
        """Wait for queued device work (no-op on NumPy); used only around timings."""
        if self.name == "cupy":
            self.xp.cuda.get_current_stream().synchronize()


@lru_cache(maxsize=None)
def _load_cupy() -> Backend:
    try:
        import cupy  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise BackendError(
            "backend 'cupy' needs CuPy, which is not installed; install the extra with "
            "pip install 'convcheck[cuda]' (or use backend 'numpy')") from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver errors come in several types
        raise BackendError(
            f"backend 'cupy' found no usable CUDA device ({exc}); use backend 'numpy'") from exc
    if count < 1:
        raise BackendError("backend 'cupy' found no CUDA device; use backend 'numpy'")
    return Backend("cupy", cupy)


def get_backend(name: "str | Backend | None" = "numpy") -> Backend:
    """Return the backend called ``name`` ("numpy" or "cupy"); a Backend passes through.

    Raises
    ------
    UnknownNameError : for any other name.
    BackendError : for "cupy" when CuPy is missing or no GPU is present.
    """
    if isinstance(name, Backend):
        return name
    if name is None or name == "numpy":
        return Backend("numpy", np)
    if name == "cupy":
        return _load_cupy()
    raise unknown_name("backend", name, BACKEND_NAMES)


def cupy_available() -> bool:
    """True when CuPy imports and sees a CUDA device (used to skip GPU tests)."""
    try:
        _load_cupy()
    except BackendError:
        return False
    return True
