"""Convert results to JSON-ready Python values (dicts, lists, str, int, float, bool, None)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def jsonable(obj: Any, nonfinite: str = "string") -> Any:
    """NumPy arrays and scalars to Python types, objects with ``to_dict`` through it, anything else to str.

    ``nonfinite`` says what NaN and ±inf become: "string" ("nan", "inf", "-inf": certificates, where an
    infinite remaining length is information) or "none" (figure sidecars, which hold plotted data).
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, nonfinite) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), nonfinite)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if math.isfinite(value):
            return value
        if nonfinite == "none":
            return None
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict(), nonfinite)
    return str(obj)
