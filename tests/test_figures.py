"""The paper's figures: each figure's data shows what the paper shows, and the files are written safely.

Figure data is computed once per module (``figure_data`` runs the real runner on catalogue problems);
drawing and writing happen once, into a temporary folder, with ``figure_data`` served from that cache.
"""
import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck.errors import OutputExistsError, UnknownNameError
from convcheck.reports import figures
from convcheck.reports.figure_data import FIGURES, figure_data, thin


@pytest.fixture(scope="module")
def data():
    return {name: figure_data(name) for name in FIGURES}


@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    """make_figures into a fresh folder, with figure_data answered from the module cache."""
    out = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures, "figure_data", lambda name: data[name])
        paths = figures.make_figures(out)
    return out, paths


def curve(figure: dict, key: str, panel: int = 0) -> dict:
    matches = [c for c in figure["panels"][panel]["curves"] if c["key"] == key]
    assert len(matches) == 1, f"no single curve {key!r} in panel {panel}"
    return matches[0]


def on_common_k(first: dict, second: dict):
    """The two curves' values at the iterations both kept (decimation keeps different extremes)."""
    _, i, j = np.intersect1d(first["x"], second["x"], return_indices=True)
    return np.asarray(first["y"])[i], np.asarray(second["y"])[j]


# ----------------------------------------------------------------------------- what the figures show
def test_figure1_gd_converges_while_sam_stalls(data):
    """Example 3.1 / Figure 1: under (13), ‖x^k − x*‖ stays positive for SAM (claim (15)-(16)), so
    f(x^k) − f* stays above a positive level; GD with the same t converges (gap below 1e-10)."""
    fig1 = data["figure1"]
    conditions = fig1["parameters"]["conditions_13"]
    t = fig1["parameters"]["t"]
    low, high = conditions["t_interval_13"]
    assert low < t < high and t <= conditions["caveat_t_max"]
    assert 0 < conditions["start_distance"] < conditions["distance_bound_15"]
    sam, gd = curve(fig1, "sam"), curve(fig1, "gd")
    half = len(sam["y"]) // 2
    assert np.min(sam["y"][half:]) > 1e-3
    assert np.min(sam["y"]) > 1e-3
    assert gd["y"][-1] < 1e-10 and np.max(gd["y"][half:]) < 1e-10
    assert sam["x"][-1] == gd["x"][-1] == fig1["parameters"]["iters"] + 1


def test_figure3_almost_constant_radius_follows_constant_radius(data):
    """Appendix E / Remark 3.6: SAM with ρ_k = C/k^0.001 stays within a small factor of SAM with ρ = C
    at every plotted iteration, for every n; the p = 1 radius is visibly different (the check can fail)."""
    fig3 = data["figure3"]
    assert [p["title"] for p in fig3["panels"]] == [f"$n$ = {n}" for n in (2, 20, 50, 100)]
    far_apart = []
    for index, n in enumerate((2, 20, 50, 100)):
        constant = curve(fig3, "sam_constant", index)
        almost, fast = curve(fig3, "sam_p0.001", index), curve(fig3, "sam_p1", index)
        # envelopes: median and min–max band over the same log-spaced ranges of k for every curve
        assert_allclose(constant["x"], almost["x"])
        assert (100 * n + 1) / 1.5 < constant["x"][-1] <= 100 * n + 1
        lower, upper = np.asarray(constant["lower"]), np.asarray(constant["upper"])
        assert np.all(lower <= constant["y"]) and np.all(np.asarray(constant["y"]) <= upper)
        a, b = np.asarray(almost["y"]), np.asarray(constant["y"])
        assert len(a) > 10
        ratio = a / b
        assert np.all((ratio < 1.5) & (ratio > 1 / 1.5)), f"n={n}: ratio range {ratio.min()}..{ratio.max()}"
        c, d = np.asarray(fast["y"]), np.asarray(constant["y"])
        far_apart.append(np.max(np.maximum(c / d, d / c)))
        assert all(c_["status"] == "completed" for c_ in fig3["panels"][index]["curves"])
    assert max(far_apart) > 10


def test_example34_inexact_gd_converges_to_a_non_stationary_point(data):
    """Example 3.4: x^{k+1} − ρ = (1 − 2t_k)(x^k − ρ) with t_k = 0.5/(k+1) gives x^k = ρ + (x¹ − ρ)/k,
    so x^k → ρ with |f′(ρ)| = 2ρ ≠ 0; GD gives x^k = x¹/k → 0."""
    ex = data["example34"]
    rho = ex["parameters"]["rho"]
    igd, gd = curve(ex, "igd", 0), curve(ex, "gd", 0)
    assert_allclose(igd["y"], rho + (1.0 - rho) / igd["x"], rtol=1e-9)
    assert_allclose(gd["y"], 1.0 / gd["x"], rtol=1e-9)
    assert abs(igd["y"][-1] - rho) < 1e-4
    igd_grad, gd_grad = curve(ex, "igd", 1), curve(ex, "gd", 1)
    assert_allclose(igd_grad["y"][-1], 2 * rho, rtol=1e-3)
    assert gd_grad["y"][-1] < 1e-3


def test_figure2_counterpart_runs_every_schedule_to_completion(data):
    """The deterministic Figure 2: SAM (ρ = 0.05) under Constant, Diminish 1, 2, 3 runs all complete
    with finite losses below f(x¹); Constant is the grid value with the least final loss (paper's rule)."""
    fig2 = data["figure2_deterministic"]
    summary = fig2["summary"]
    assert [c["key"] for c in fig2["panels"][0]["curves"]] == ["constant", "diminish1", "diminish2", "diminish3"]
    assert all(status == "completed" for status in summary["status"].values())
    grid = {key: value for key, value in summary["final_f"].items() if key.startswith("constant_")}
    assert summary["constant_choice"] == min(grid, key=grid.get)
    for item in fig2["panels"][0]["curves"]:
        assert np.all(np.isfinite(item["y"])) and item["y"][-1] < item["y"][0]
        assert item["x"][-1] == fig2["parameters"]["epochs"] + 1  # x^{K+1} ends the last epoch
    steps = {c["key"]: np.asarray(c["y"]) for c in fig2["panels"][1]["curves"]}
    for key in ("diminish1", "diminish2", "diminish3"):
        finite = steps[key][np.isfinite(steps[key])]
        assert np.all(np.diff(finite) <= 0) and finite[-1] < finite[0]


def test_mexican_hat_path_keeps_winding_towards_the_circle(data):
    """AMA05 Mexican hat: GD stays on the spiral valley floor θ − s = π/2 (s = 1/(1 − r²)) while r ↑ 1,
    so θ grows without bound: over the second half the angle still increases, step after step."""
    hat = data["mexican_hat"]
    angle = curve(hat, "angle", 1)
    valley = curve(hat, "valley_coordinate", 1)
    radius = 1.0 - np.asarray(curve(hat, "one_minus_r", 2)["y"])
    half = len(angle["y"]) // 2
    assert np.all(np.diff(angle["y"][half:]) > 0)
    assert angle["y"][-1] - angle["y"][half] > 0.1
    assert np.all(np.diff(radius) > 0) and radius[-1] < 1
    # θ − θ¹ tracks s − s¹ on the second half: the iterates ride the valley floor, whose s → ∞ as r → 1
    assert_allclose(angle["y"][half:], valley["y"][half:], atol=0.05)
    assert hat["summary"]["status"] == "completed"
    path = hat["panels"][0]["path"]["xy"]
    assert np.all(np.hypot(path[:, 0], path[:, 1]) < 1)


def test_thin_keeps_the_envelope_of_an_oscillating_curve():
    values = np.where(np.arange(100_000) % 2 == 0, 1.0, 2.0) / np.arange(1, 100_001)
    keep = thin(values)
    assert len(keep) < 5000 and keep[0] == 0 and keep[-1] == len(values) - 1
    assert values[keep].min() == values.min() and values[keep].max() == values.max()
    # both branches of the 2-cycle survive in late buckets (no aliasing onto one branch)
    late = keep[keep > 50_000]
    assert {0, 1} <= set((late % 2).tolist())


def test_figure_data_is_deterministic(data):
    again = figure_data("figure1")
    for first, second in zip(again["panels"][0]["curves"], data["figure1"]["panels"][0]["curves"]):
        assert np.array_equal(first["y"], second["y"])


# ----------------------------------------------------------------------------- files
def test_every_figure_has_png_pdf_and_a_complete_sidecar(written):
    out, paths = written
    assert [p.name for p in paths] == [f"{name}{suffix}" for name in FIGURES for suffix in (".png", ".pdf", ".json")]
    for name in FIGURES:
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert (out / f"{name}.pdf").read_bytes().startswith(b"%PDF")
        sidecar = json.loads((out / f"{name}.json").read_text(), parse_constant=pytest.fail)
        assert sidecar["name"] == name and sidecar["caption"]
        assert sidecar["parameters"] and "seed" in json.dumps(sidecar["parameters"])
        for panel in sidecar["panels"]:
            for item in panel["curves"]:
                assert len(item["x"]) == len(item["y"]) > 1
    fig1 = json.loads((out / "figure1.json").read_text())
    assert {"t", "rho", "x1", "iters", "problem", "seed"} <= set(fig1["parameters"])
    assert fig1["panels"][0]["curves"][1]["method"].startswith("sam")
    fig3 = json.loads((out / "figure3.json").read_text())
    assert fig3["parameters"]["C"] == 0.1 and len(fig3["parameters"]["instances"]) == 4


def test_a_sidecar_is_enough_to_replot(written):
    out, _ = written
    sidecar = json.loads((out / "mexican_hat.json").read_text())
    fig = figures.draw_figure("mexican_hat", sidecar)
    assert len(fig.axes) == 3
    assert fig.axes[0].get_xlabel() == "$x_1$" and fig.axes[1].get_xscale() == "log"


def test_existing_output_needs_force_or_resume(written, data, monkeypatch):
    out, _ = written
    with pytest.raises(OutputExistsError, match="--force"):
        figures.make_figures(out)

    def must_not_run(name):
        raise AssertionError(f"resume recomputed {name}")

    before = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    monkeypatch.setattr(figures, "figure_data", must_not_run)
    paths = figures.make_figures(out, resume=True)
    assert len(paths) == 3 * len(FIGURES)
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == before

    computed = []
    monkeypatch.setattr(figures, "figure_data", lambda name: computed.append(name) or data[name])
    (out / "figure1.pdf").unlink()
    figures.make_figures(out, resume=True)
    assert computed == ["figure1"] and (out / "figure1.pdf").is_file()
    figures.make_figures(out, force=True, names=["example34"])
    assert computed == ["figure1", "example34"]


def test_unknown_figure_name_is_refused(tmp_path):
    with pytest.raises(UnknownNameError, match="figure1"):
        figures.make_figures(tmp_path, names=["figure9"])
    assert not any(tmp_path.iterdir())


def test_sidecar_text_is_strict_json():
    text = figures.sidecar_json({"y": np.array([1.0, math.nan, math.inf]), "n": np.int64(3)})
    assert json.loads(text) == {"y": [1.0, None, None], "n": 3}


# ----------------------------------------------------------------------------- per-run plots
@pytest.fixture(scope="module")
def rosenbrock_run():
    from convcheck import methods, run, schedules
    from convcheck.problems import get

    problem = get("rosenbrock", n=2)
    trace = run(problem, methods.sam(), np.array([-1.2, 1.0]), iters=3000, step=schedules.power(0.002, 0.5),
                radius=0.01)
    return trace, problem


def test_run_plot_panels_for_a_two_dimensional_problem(rosenbrock_run):
    from convcheck.reports.run_plots import plot_run, run_plot_data

    trace, problem = rosenbrock_run
    data = run_plot_data(trace, problem)
    assert data["f_lim_source"] == "f*" and data["f_lim"] == 0.0
    assert data["gap_label"] == "f(xᵏ) − f*" and data["gap_note"] == ""
    assert_allclose(data["gap"]["y"], trace.f[data["gap"]["k"].astype(int) - 1])
    assert_allclose(data["path"]["xy"][0], [-1.2, 1.0])
    assert np.all(np.diff(data["path"]["k"]) > 0)
    fig = plot_run(trace, problem)
    scales = [(ax.get_xscale(), ax.get_yscale()) for ax in fig.axes[:3]]
    assert scales == [("log", "log")] * 3 and len(fig.axes) == 4


def test_run_plot_without_f_star_uses_the_certificate_limit_and_says_so():
    """f* unknown: f_lim comes from the certificate's observed limit (P4 evidence); values below it are
    plotted as |f − f_lim| with the label saying so, and exact zeros are left out and counted."""
    from convcheck import methods, run
    from convcheck.problems import from_functions
    from convcheck.reports.run_plots import plot_run, run_plot_data

    problem = from_functions(lambda X: (X * X).sum(-1), lambda X: 2 * X, dim=3, name="bowl_unknown_fstar")
    trace = run(problem, methods.gd(), np.ones(3), iters=200, step=0.2)

    class Evidence:
        evidence = {"f_limit_estimate": 1e-3}

    data = run_plot_data(trace, problem, {"P4": Evidence()})
    assert data["f_lim_source"] == "observed limit" and data["f_lim"] == 1e-3
    assert data["gap_label"] == "|f(xᵏ) − f_lim|" and "observed limit" in data["gap_note"]
    assert_allclose(np.nanmax(data["gap"]["y"]), 3.0 - 1e-3)
    last = run_plot_data(trace, problem)
    assert last["f_lim_source"] == "last value" and "exact zero" in last["gap_note"]
    assert "\n" not in last["gap_label"]  # one line: a two-line label was clipped at the left edge
    assert len(plot_run(trace, problem).axes) == 3


def test_run_plot_serialisation_closes_and_writes(rosenbrock_run, tmp_path):
    import matplotlib.pyplot as plt

    from convcheck.reports.run_plots import figure_to_pdf_bytes, figure_to_png_bytes, plot_run, save_run_plot

    trace, problem = rosenbrock_run
    open_before = len(plt.get_fignums())
    assert figure_to_png_bytes(plot_run(trace, problem), dpi=60).startswith(b"\x89PNG")
    assert figure_to_pdf_bytes(plot_run(trace, problem)).startswith(b"%PDF")
    assert len(plt.get_fignums()) == open_before
    png = save_run_plot(trace, problem, None, tmp_path / "run7")
    assert (tmp_path / "run7.png").read_bytes() == png
    assert (tmp_path / "run7.pdf").read_bytes().startswith(b"%PDF")
    sidecar = json.loads((tmp_path / "run7.json").read_text())
    assert sidecar["f_lim_source"] == "f*" and len(sidecar["path"]["xy"][0]) == 2
