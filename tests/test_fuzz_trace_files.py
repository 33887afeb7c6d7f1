"""Property-based attack on the readers of untrusted files: 500 generated malformed trace files and
index files fed to ``certify``, ``report`` and ``run --resume``.

Each generated file starts from a good trace (or index) and changes metadata fields to arbitrary JSON
values, replaces arrays by arrays of other dtypes and shapes, replaces the whole metadata, or
truncates / flips bytes of the archive; half of the changed traces carry a recomputed digest (an
adversary who knows the format), so the schema and consistency checks behind the digest are reached.
Every call must end with status 0 or 2 (one line on stderr), never an exception, and allocate at most
ALLOCATION_BOUND bytes (tracemalloc's peak, which NumPy's allocations report to).
"""
import copy
import json
import shutil
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcheck.cli import main

from trace_forgery import read_raw, write_raw

ALLOCATION_BOUND = 64 * 2 ** 20
RUN = ["run", "--problem", "quadratic:n=3,seed=0", "--method", "gd", "--step", "constant:0.05", "--iters", "40",
       "--quiet"]
SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8)
META_PATHS = [("problem",), ("problem", "name"), ("problem", "dim"), ("problem", "key"), ("problem", "params"),
              ("problem", "params", "n"), ("problem", "params", "seed"), ("problem", "params", "cond"),
              ("method",), ("method", "spec"), ("step",), ("step", "spec"), ("radius",), ("x0",), ("iters",),
              ("seed",), ("tail_start",), ("record_every",), ("status",), ("status_k",), ("status_reason",),
              ("format_version",), ("digest",), ("label",), ("new_field",)]
DTYPES = [np.int64, np.int8, np.uint64, np.float64, np.float32, np.float16, np.complex128, np.bool_, "U3", "S2"]


@st.composite
def arrays_of_any_kind(draw):
    shape = tuple(draw(st.lists(st.integers(0, 50), max_size=3)))
    dtype = draw(st.sampled_from(DTYPES))
    fill = draw(st.sampled_from([0, 1, -1, 7, np.nan, np.inf, 1e300]))
    with np.errstate(all="ignore"):
        values = np.full(shape, fill) if np.dtype(dtype).kind in "fc" else np.full(shape, 0 if np.isnan(fill) or
                                                                                  np.isinf(fill) else int(fill) % 100)
        return values.astype(dtype)


@st.composite
def malformed_traces(draw):
    arrays, meta = copy.deepcopy(BASE["arrays"]), copy.deepcopy(BASE["meta"])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field", "array", "slice", "whole"]))
        if kind == "field":
            path = draw(st.sampled_from(META_PATHS))
            node = meta
            for key in path[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node[path[-1]] = draw(json_values)
        elif kind == "array":
            arrays[draw(st.sampled_from(sorted(arrays)))] = draw(arrays_of_any_kind())
        elif kind == "slice":
            name = draw(st.sampled_from(sorted(arrays)))
            if np.ndim(arrays[name]) >= 1:
                    arrays[name] = arrays[name][draw(st.integers(0, 5)):len(arrays[name]) - draw(st.integers(0, 5))]
        else:
            meta = draw(json_values)
    corrupt = draw(st.sampled_from([None, None, None, "truncate", "flip"]))
    return arrays, meta, draw(st.booleans()), corrupt, draw(st.integers(0, 10 ** 6))


def materialise(folder: Path, name: str, case) -> Path:
    arrays, meta, redigest, corrupt, position = case
    path = write_raw(folder / name, arrays, meta, redigest=redigest)
    if corrupt:
        data = bytearray(path.read_bytes())
        where = position % len(data)
        if corrupt == "truncate":
            del data[where:]
        else:
            data[where] ^= 0xFF
        path.write_bytes(bytes(data))
    return path


def call(argv, capsys):
    """main(argv) under tracemalloc; status 0 or 2 with one line of error, and the peak allocation."""
    tracemalloc.start()
    try:
        status = main(argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    captured = capsys.readouterr()
    assert status in (0, 2), (argv, status, captured.err)
    if status == 2:
        assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert peak < ALLOCATION_BOUND, (argv, peak)
    return status


BASE: dict = {}


@pytest.fixture(scope="module", autouse=True)
def base_trace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base")
    assert main([*RUN, "--out", str(folder / "runs")]) == 0
    path = next((folder / "runs").glob("*.npz"))
    BASE["arrays"], BASE["meta"] = read_raw(path)
    BASE["index"] = json.loads((folder / "runs" / "index.json").read_text())
    BASE["runs"] = folder / "runs"
    yield


@settings(max_examples=300, **SETTINGS)
@given(case=malformed_traces())
def test_certify_survives_malformed_trace_files(case, capsys):
    folder = Path(tempfile.mkdtemp())
    try:
        call(["certify", str(materialise(folder, "t.npz", case))], capsys)
    finally:
        shutil.rmtree(folder)


@settings(max_examples=100, **SETTINGS)
@given(case=malformed_traces())
def test_report_survives_malformed_trace_files(case, capsys, monkeypatch):
    from convcheck.reports import run_plots
    monkeypatch.setattr(run_plots, "save_run_plot", lambda *args, **kwargs: b"\x89PNG\r\n\x1a\n")  # drawing is not under test
    folder = Path(tempfile.mkdtemp())
    try:
        path = materialise(folder, "t.npz", case)
        call(["report", str(path), "--out", str(folder / "report"), "--no-figures", "--quiet"], capsys)
    finally:
        shutil.rmtree(folder)


@st.composite
def malformed_indexes(draw):
    kind = draw(st.sampled_from(["json", "entry", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    index = copy.deepcopy(BASE["index"])
    entry = index["runs"][0]
    entry[draw(st.sampled_from(["hash", "file", "status", "problem", "reason"]))] = draw(json_values)
    if draw(st.booleans()):
        index["format_version"] = draw(json_values)
    return json.dumps(index).encode()


@settings(max_examples=100, **SETTINGS)
@given(index=malformed_indexes(), trace=malformed_traces())
def test_resume_survives_malformed_index_and_trace_files(index, trace, capsys):
    folder = Path(tempfile.mkdtemp())
    try:
        out = folder / "runs"
        shutil.copytree(BASE["runs"], out)
        (out / "index.json").write_bytes(index)
        materialise(out, next(BASE["runs"].glob("*.npz")).name, trace)   # the resumed run's own file, damaged
        if call([*RUN, "--out", str(out), "--resume"], capsys) == 0:
            assert call(["certify", str(out)], capsys) == 0              # the resumed folder is whole again
    finally:
        shutil.rmtree(folder)
