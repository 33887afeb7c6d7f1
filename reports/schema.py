"""The documented schema of ``results.json`` (JSON Schema, draft 2020-12) and its version.

Top level::

    {"schema_version": "1.0", "generated": ISO time, "command": str, "versions": {...},
     "study": "default" | "quick" | "traces",
     "summary": {"runs": int, "results": int, "consistent": int, "contradiction": int,
                 "inconclusive": int, "no_prediction": int},
     "runs": [run, ...], "figures": [{"name", "caption", "files": [...]}, ...]}

Each run: its configuration (result checked, problem spec, method spec, step and radius specs, x¹,
iterations, seed), the run's status, the certificate (P1–P5 with status, reason, evidence, rate), the
prediction of the result (which properties must hold or fail, and how each hypothesis was decided) and
the comparison per property and overall ("consistent", "contradiction", "inconclusive" or
"no prediction").
"""
from __future__ import annotations

SCHEMA_VERSION = "1.0"

_STATUS = {"enum": ["holds", "fails", "inconclusive"]}
_VERDICT = {"enum": ["consistent", "contradiction", "inconclusive", "no prediction"]}
_PROPS = ["P1", "P2", "P3", "P4", "P5"]

RUN_SCHEMA = {
    "type": "object",
    "required": ["id", "result", "problem", "method", "step", "radius", "x0", "iters", "seed", "status",
                 "predicted", "observed", "comparison", "verdict", "certificate"],
    "properties": {
        "id": {"type": "string"},
        "result": {"type": "string"},
        "result_id": {"type": ["string", "null"]},
        "statement": {"type": ["string", "null"]},
        "problem": {"type": "string"},
        "method": {"type": "string"},
        "step": {"type": "string"},
        "radius": {"type": ["string", "null"]},
        "x0": {"type": "array", "items": {"type": "number"}},
        "iters": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer", "minimum": 0},
        "status": {"enum": ["completed", "stationary", "diverged", "undefined_step", "failed"]},
        "status_reason": {"type": "string"},
        "predicted": {"type": "object", "propertyNames": {"enum": _PROPS},
                      "additionalProperties": {"enum": ["holds", "fails"]}},
        "observed": {"type": "object", "propertyNames": {"enum": _PROPS}, "additionalProperties": _STATUS},
        "comparison": {"type": "object", "propertyNames": {"enum": _PROPS}, "additionalProperties": _VERDICT},
        "verdict": _VERDICT,
        "details": {"type": "array", "items": {"type": "string"}},
        "hypotheses": {"type": "array", "items": {"type": "object", "required": ["name", "value", "how"]}},
        "certificate": {"type": ["object", "null"]},
        "plot": {"type": ["string", "null"]},
    },
}

RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "convcheck results.json",
    "type": "object",
    "required": ["schema_version", "generated", "versions", "study", "summary", "runs", "figures"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "generated": {"type": "string"},
        "command": {"type": "string"},
        "versions": {"type": "object", "additionalProperties": {"type": "string"}},
        "study": {"enum": ["default", "quick", "traces"]},
        "summary": {
            "type": "object",
            "required": ["runs", "results", "consistent", "contradiction", "inconclusive", "no_prediction"],
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "runs": {"type": "array", "items": RUN_SCHEMA},
        "figures": {"type": "array", "items": {"type": "object", "required": ["name", "files"]}},
    },
}
