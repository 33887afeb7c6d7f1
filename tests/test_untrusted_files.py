"""Untrusted trace files and hostile input: refused in one line before any work, never a traceback.

Each case is an attack that once held (forged or relabelled traces, corrupt metadata that changed
verdicts, sizes announced to exhaust memory, expressions built to hang, names that forge output).
"""
import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest
import sympy as sp

from convcheck import run
from convcheck.cli import main
from convcheck.errors import ExpressionError, InputError, SpecError
from convcheck.expr import parse_expression
from convcheck.properties import certify, certify_trace_file
from convcheck.safe_text import escape, markdown, markdown_code
from convcheck.trace import Trace

from trace_forgery import announce_size, good_trace_file, read_raw, write_raw

ONE_LINE = 1


def certify_refuses(capsys, path, fragment):
    assert main(["certify", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == ONE_LINE and fragment in err, err
    return err


# ------------------------------------------------------------------ forged or wrong content
def test_digest_mismatch_is_refused(tmp_path, capsys):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    arrays["f"] = arrays["f"] * 0.5
    certify_refuses(capsys, write_raw(tmp_path / "edited.npz", arrays, meta, redigest=False), "digest does not match")
    meta.pop("digest")
    certify_refuses(capsys, write_raw(tmp_path / "nodigest.npz", arrays, meta, redigest=False), "no content digest")


def test_relabelled_or_replaced_iterates_are_refused_even_with_a_valid_digest(tmp_path, capsys):
    """A quadratic run relabelled as another problem, or with constant iterates, was certified."""
    arrays, meta = read_raw(good_trace_file(tmp_path))
    relabelled = dict(meta, problem={**meta["problem"], "name": "logsum", "key": "logsum:m=3,n=3,seed=0",
                                     "params": {"n": 3, "seed": 0}})
    certify_refuses(capsys, write_raw(tmp_path / "relabelled.npz", arrays, relabelled), "do not belong to problem")
    # the label alone changed (name and parameters still the quadratic's): reports would print it
    for key in ("ring", "logsum:m=3,n=3,seed=0", meta["problem"]["key"] + " "):
        label_only = dict(meta, problem={**meta["problem"], "key": key})
        certify_refuses(capsys, write_raw(tmp_path / "label.npz", arrays, label_only), "but its problem's name")
        assert main(["report", str(tmp_path / "label.npz"), "--out", str(tmp_path / "rep"), "--no-figures",
                     "--quiet"]) == 2
        capsys.readouterr()
    constant = dict(arrays, x=np.full_like(arrays["x"], 0.3))
    certify_refuses(capsys, write_raw(tmp_path / "constant.npz", constant, meta), "do not belong to problem")


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_forged_gradient_norms_and_step_lengths_are_refused_even_with_a_valid_digest(tmp_path, capsys, scale):
    """A run's ‖∇f‖ replaced by a decaying sequence (recomputed digest) flipped P1–P4 to "holds"; the
    gradient norms at the kept iterates, and the step lengths between consecutive ones, are recomputed."""
    arrays, meta = read_raw(good_trace_file(tmp_path))
    k = np.asarray(arrays["k"], dtype=float)
    decaying = dict(arrays, grad_norm=np.asarray(arrays["grad_norm"]) * scale / k)
    certify_refuses(capsys, write_raw(tmp_path / "grad.npz", decaying, meta), "gradient norms do not belong")
    steps = np.asarray(arrays["step_norm"]).copy()
    steps[np.isfinite(steps)] *= 1.01  # 1% off: far beyond engine round-off
    certify_refuses(capsys, write_raw(tmp_path / "steps.npz", dict(arrays, step_norm=steps), meta), "edited or corrupt")


def test_an_honest_trace_passes_the_recomputation(tmp_path, capsys):
    assert main(["certify", str(good_trace_file(tmp_path))]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("field,value,fragment", [
    ("record_every", -3, "record_every"), ("tail_start", 10 ** 6, "tail_start"), ("tail_start", "0", "tail_start"),
    ("iters", 1e12, "iters"), ("seed", -1, "seed"), ("x0", "1,2,3", "x0"), ("x0", [1, 2], "x0"),
    ("method", None, "method"), ("step", {"spec": 3}, "step.spec"), ("status", "great", "unknown status"),
    ("status_reason", ["x"], "status_reason"), ("problem", [1], "problem"), ("status_k", 2.5, "status_k"),
])
def test_corrupt_metadata_is_refused_not_certified(tmp_path, capsys, field, value, fragment):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    meta[field] = value
    certify_refuses(capsys, write_raw(tmp_path / "bad.npz", arrays, meta), fragment)


@pytest.mark.parametrize("meta", [[1, 2], "text", None, 3.5])
def test_metadata_that_is_not_an_object(tmp_path, capsys, meta):
    arrays, _ = read_raw(good_trace_file(tmp_path))
    certify_refuses(capsys, write_raw(tmp_path / "bad.npz", arrays, meta), "trace file")


def test_nan_tail_in_a_completed_run_and_deep_nesting_are_refused(tmp_path, capsys):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    arrays["f"][-5:] = np.nan
    certify_refuses(capsys, write_raw(tmp_path / "nan.npz", arrays, meta), "non-finite")
    arrays, meta = read_raw(good_trace_file(tmp_path))
    text = json.dumps(meta)[:-1] + ', "label": ' + "[" * 100_000 + "]" * 100_000 + "}"
    certify_refuses(capsys, write_raw(tmp_path / "deep.npz", arrays, meta, raw_json=text), "trace file")
    text = json.dumps(meta)[:-1] + ', "label": ' + "[" * 40 + "]" * 40 + "}"
    certify_refuses(capsys, write_raw(tmp_path / "deep.npz", arrays, meta, raw_json=text), "nested")


@pytest.mark.parametrize("name,values,fragment", [
    ("x", lambda a: a["x"].astype(np.complex128), "complex"),
    ("f", lambda a: a["f"].astype(str), "dtype"),
    ("k", lambda a: np.int64(1), "dimensions"),
    ("x", lambda a: a["x"][:, :2], "dimension 2"),
])
def test_mistyped_arrays_are_refused(tmp_path, capsys, name, values, fragment):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    arrays[name] = values(arrays)
    certify_refuses(capsys, write_raw(tmp_path / "bad.npz", arrays, meta), fragment)


def test_stored_precision_is_kept(tmp_path):
    """A float32 trace loads as float32 (round-off floors can follow the stored precision)."""
    arrays, meta = read_raw(good_trace_file(tmp_path))
    for name in ("f", "grad_norm", "step_norm", "step_size", "radius", "x"):
        arrays[name] = arrays[name].astype(np.float32)
    trace = Trace.load(write_raw(tmp_path / "f32.npz", arrays, meta))
    assert trace.x.dtype == np.float32 and trace.f.dtype == np.float32
    certify_trace_file(tmp_path / "f32.npz")  # f at the kept iterates matches within float32 round-off


# ------------------------------------------------------------------ sizes announced to exhaust memory
@pytest.mark.parametrize("member,size,fragment", [
    ("x", 2 * 2 ** 30, "bytes uncompressed"), ("metadata_json", 200 * 2 ** 20, "bytes uncompressed"),
])
def test_announced_sizes_are_refused_from_the_zip_directory(tmp_path, capsys, member, size, fragment):
    path = good_trace_file(tmp_path)
    announce_size(path, member, size)
    tracemalloc.start()
    certify_refuses(capsys, path, fragment)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 2 ** 20


def test_header_announcing_a_huge_array_and_a_lying_zip_member(tmp_path, capsys):
    path = good_trace_file(tmp_path)
    arrays, meta = read_raw(path)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (2 ** 40, 3)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        for name, values in arrays.items():
            member = io.BytesIO()
            np.save(member, values)
            archive.writestr(f"{name}.npy", buffer.getvalue() if name == "x" else member.getvalue())
        member = io.BytesIO()
        np.save(member, np.array(json.dumps(meta)))
        archive.writestr("metadata_json.npy", member.getvalue())
    tracemalloc.start()
    certify_refuses(capsys, tmp_path / "huge.npz", "announces")
    # a member whose directory entry is small but whose data is large: reading stops at the entry's size
    announce_size(path, "f", 200)
    certify_refuses(capsys, path, "trace file")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 2 ** 20


def test_symbolic_metadata_is_bounded_before_building(tmp_path, capsys):
    trace = run("symbolic:x**2+y**2", "gd", iters=20, step=0.1)
    path = trace.save(tmp_path / "sym.npz")
    arrays, meta = read_raw(path)
    for params, fragment in (({"samples": 10 ** 9}, "samples"),
                             ({"expr": "((9**999)**999)**999"}, "digits"),
                             ({"n": 5000}, "n = 5000"),
                             ({"expr": "floor(x) + y**2"}, "cannot rebuild"),
                             ({"expr": "x**2 + 2*y**2"}, "edited")):
        changed = dict(meta, problem={**meta["problem"], "params": {**meta["problem"]["params"], **params}})
        certify_refuses(capsys, write_raw(tmp_path / "bad.npz", arrays, changed), fragment)


# ------------------------------------------------------------------ expressions and limits
@pytest.mark.parametrize("text", ["((9**999)**999)**999", "(10**1000)**1000", "9**999*k",
                                  "(9**999)*(9**999)*(9**999)*(9**999)*(9**999)", "10**400*k"])
def test_expression_integers_are_bounded(text):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, {"k": sp.Symbol("k")})
    assert "int" not in str(info.value).lower() or "digits" in str(info.value)
    assert "sys.set_int_max_str_digits" not in str(info.value)


def test_big_integers_reach_numpy_as_floats():
    from convcheck.schedules import from_expr
    schedule = from_expr("0.1*(1 + cos(10**30*k)**2) / k + 0*2**70")
    values = schedule.values(np.arange(1, 5))
    assert values.dtype == np.float64 and np.all(np.isfinite(values))


def test_symbolic_expression_size_is_bounded():
    from convcheck.problems import symbolic
    """An expanded power (here 3276 terms, about 3e4 nodes; expand((x + y + 1)**200) has 20 301) is refused by
    size before it is differentiated; the factored form is accepted."""
    x, y, z = sp.symbols("x y z")
    with pytest.raises(ExpressionError, match="nodes"):
        symbolic(sp.expand((x + y + z + 1) ** 25))
    assert symbolic((x + y + z + 1) ** 2).dim == 3


def test_iterations_are_capped_and_long_runs_are_checked_by_sample():
    from convcheck.limits import MAX_ITERS
    from convcheck.runner import make_config
    from convcheck.schedules import checked_indices
    for iters in (MAX_ITERS + 1, np.uint64(10 ** 12), 10 ** 38):
        with pytest.raises(InputError, match="steps a run may take"):
            make_config("quadratic:n=2", "gd", iters=iters, step=0.1)
    assert len(checked_indices(MAX_ITERS)) < 2 ** 17 + 6000
    assert checked_indices(MAX_ITERS)[-1] == MAX_ITERS
    make_config("quadratic:n=2", "gd", iters=MAX_ITERS, step="expr:0.1/k")  # starts at once


@pytest.mark.parametrize("spec", ["power:R=1e300", "descent_only:lam=1e308", "logsum:seed=99999999999999999999"])
def test_catalogue_parameters_that_would_overflow(spec):
    from convcheck.problems import get
    with pytest.raises(SpecError, match="magnitude"):
        get(spec)


def test_complex_input_is_refused():
    from convcheck.problems import from_functions, get
    p = get("quadratic:n=2")
    with pytest.raises(InputError, match="complex"):
        run(p, "gd", x0=[1j, 1.0], iters=3, step=0.1)
    with pytest.raises(InputError, match="complex"):
        certify(np.ones((5, 2), dtype=complex), p)
    with pytest.raises(InputError, match="complex"):
        from_functions(lambda X: (X ** 2).sum(-1), lambda X: 2 * X + 0j, dim=2)


# ------------------------------------------------------------------ printed names
def test_escaping_functions():
    assert escape("a\nb\x1b[31m\u202e") == "a\\nb\\x1b[31m\\u202e"
    md = markdown("<img src=x onerror=alert(1)>\n# heading")
    assert "<" not in md and "\n" not in md and "\\#" in md
    assert markdown_code("a`b") == "`` a`b ``"


def test_file_names_cannot_forge_terminal_lines(tmp_path, capsys):
    path = good_trace_file(tmp_path, name="x\n== forged.npz\x1b[31m.npz")
    assert main(["certify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and not any(line.startswith("== forged") for line in out.splitlines())
    assert main(["certify", str(tmp_path / "missing\x1b[31m.npz")]) == 2
    assert "\x1b" not in capsys.readouterr().err


def test_text_from_trace_files_is_escaped_in_report_markdown(tmp_path, monkeypatch):
    from convcheck.reports import run_plots
    monkeypatch.setattr(run_plots, "save_run_plot", lambda *args, **kwargs: b"\x89PNG\r\n\x1a\n")
    arrays, meta = read_raw(good_trace_file(tmp_path))
    hostile = "<img src=x onerror=alert(1)> <script>x</script>\n# forged heading \x1b[31m"
    meta["status_reason"] = hostile
    meta["problem"] = dict(meta["problem"], label="quadratic`\n# step heading")  # kept, never shown raw
    path = write_raw(tmp_path / "hostile.npz", arrays, meta)
    assert main(["report", str(path), "--out", str(tmp_path / "report"), "--no-figures", "--quiet"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "<script>" not in text and "<img src=x" not in text and "\x1b" not in text
    assert not any(line.startswith(("# forged", "# step")) for line in text.splitlines())
    html_text = (tmp_path / "report" / "index.html").read_text()
    assert "<script>x</script>" not in html_text and "\x1b" not in html_text


def test_an_expression_built_to_hang_in_a_trace_step_spec_is_refused_by_report(tmp_path, capsys):
    arrays, meta = read_raw(good_trace_file(tmp_path))
    meta["step"] = dict(meta["step"], spec="expr:((9**999)**999)**999")
    path = write_raw(tmp_path / "hang.npz", arrays, meta)
    assert main(["report", str(path), "--out", str(tmp_path / "report"), "--no-figures", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "digits" in err, err
    assert not (tmp_path / "report").exists()


def test_iteration_counts_beyond_the_cap_on_the_command_line(capsys):
    for iters in ("100000000000000", "1" + "0" * 38):
        assert main(["run", "--problem", "quadratic:n=2", "--method", "gd", "--step", "0.1", "--iters", iters,
                     "--out", "unused", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "steps a run may take" in err, err
