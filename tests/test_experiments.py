"""Section 5 in miniature: the network's gradient, each method's step, the per-epoch schedules, the outputs.

The gradient and step tests use random data (no scikit-learn); the table, figure, CLI and report tests
train the tiny configuration on ``load_digits`` and are skipped, with that reason, without scikit-learn.
"""
import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from convcheck import experiments
from convcheck.cli import main
from convcheck.errors import ConvcheckError
from convcheck.experiment_net import Layout, MiniBatchProblem, load_split, loss_and_grad
from convcheck.experiment_train import (EXPERIMENT_METHODS, ExperimentConfig, epoch_steps, optimizer_step,
                                        train_method)
from convcheck.experiments import TINY, _claim, _side, mean_ci, run_experiments

needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="scikit-learn is not installed (pip install 'convcheck[experiments]')")
RHO, WEIGHT_DECAY = 0.05, 1e-3


def random_batch(seeds=2, m=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (seeds, m, 64)), rng.integers(0, 10, (seeds, m))


def weights(layout, rows, seed=0):
    return np.stack([layout.initial(seed + r) for r in range(rows)])


# ----------------------------------------------------------------------------- gradient of the network
def test_network_gradient_matches_central_finite_differences():
    """∇ℓ by backpropagation against (ℓ(w + h e_i) − ℓ(w − h e_i))/(2h) for every coordinate of 4 runs.

    Central differences have error O(h²·|ℓ'''|) + O(ε/h); with h = 1e-5 both are far below 1e-7. ReLU
    kinks are kept out of reach: every pre-activation is checked to be ≫ h·|∂z/∂w| away from 0.
    """
    layout = Layout(hidden=5)
    x, y = random_batch(seeds=2, m=12)
    W = weights(layout, 4)                                     # 2 seeds × 2 runs, seed-major
    z1 = np.matmul(x[:, None], layout.unpack(W, 2)[0]) + layout.unpack(W, 2)[1]
    h = 1e-5
    assert np.abs(z1).min() > 10 * h * (1 + np.abs(x).max())   # no kink within any probe
    loss, grad = loss_and_grad(layout, W, x, y)
    eye = np.eye(layout.size)
    numeric = np.empty_like(W)
    for i in range(layout.size):
        plus = loss_and_grad(layout, W + h * eye[i], x, y)[0]
        minus = loss_and_grad(layout, W - h * eye[i], x, y)[0]
        numeric[:, i] = (plus - minus) / (2 * h)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert np.all(np.abs(grad).max(axis=1) > 1e-3)             # not a trivially zero gradient
    # each run's loss uses only its own seed's batch: run 3 (seed 1) equals a one-seed evaluation
    alone = loss_and_grad(layout, W[2:3], x[1:2], y[1:2])
    assert_allclose(alone[1], grad[2:3], rtol=1e-13, atol=1e-16)


# ----------------------------------------------------------------------------- one step of each method
def _formula_direction(name, layout, w, x, y, state, noise):
    """The method's direction written from its definition (Algorithm 1a/2a–2f), using loss_and_grad."""
    grad = lambda v: loss_and_grad(layout, v[None], x, y)[1][0]  # noqa: E731
    g = grad(w)
    if name == "sgd":
        return g, state
    if name == "sam":
        return grad(w + RHO * g / (np.linalg.norm(g) + 1e-12)), state
    if name == "usam":
        return grad(w + RHO * g), state
    if name == "vasso":                                        # d = (1 − θ) d_prev + θ g, θ = 0.9
        d = g if state is None else 0.1 * state + 0.9 * g
        return grad(w + RHO * d / (np.linalg.norm(d) + 1e-7)), d
    if name == "fsam":                                         # d = g − σ m_prev, m = λ m + (1 − λ) g
        d, m = (g, g) if state is None else (g - state, 0.9 * state + 0.1 * g)
        return grad(w + RHO * d / (np.linalg.norm(d) + 1e-12)), m
    if name == "rsam":                                         # Δ = σ ξ, d = Δ + λ ∇ℓ(w + Δ), σ = 0.01, λ = 1
        delta = 0.01 * noise
        d = delta + grad(w + delta)
        return grad(w + RHO * d / (np.linalg.norm(d) + 1e-12)), state
    raise AssertionError(name)


@pytest.mark.parametrize("name", list(EXPERIMENT_METHODS))
def test_two_steps_of_each_method_follow_its_formula_with_momentum_and_weight_decay(name):
    """w_{k+1} = w_k − t(μ b_{k−1} + D_k + λ w_k), D_k the method's direction on the batch (μ = 0.9)."""
    layout = Layout(hidden=4)
    method = EXPERIMENT_METHODS[name]()
    problem = MiniBatchProblem(layout, seeds=1)
    rng = np.random.default_rng(7)
    W = weights(layout, 1, seed=3)
    t, mu = np.full((1, 1), 0.1), np.full((1, 1), 0.9)
    buffer, state = np.zeros_like(W), method.init_state(np, None)
    w, b, formula_state = W[0].copy(), np.zeros(layout.size), None
    for k in (1, 2):
        x, y = random_batch(seeds=1, m=10, seed=k)
        problem.set_batch(x, y)
        noise = [rng.standard_normal((1, layout.size)) for _ in range(method.noise_dim)]
        W, buffer, state, _ = optimizer_step(method, problem, W, buffer, state, t, mu, WEIGHT_DECAY,
                                             np.full((1, 1), RHO), noise, k)
        D, formula_state = _formula_direction(name, layout, w, x, y, formula_state, noise[0][0] if noise else None)
        b = 0.9 * b + D + WEIGHT_DECAY * w
        w = w - 0.1 * b
        assert_allclose(W[0], w, rtol=1e-12, atol=1e-14)
    calls = {"sgd": 1, "rsam": 3}.get(name, 2)
    assert problem.calls == 2 * calls                          # one evaluation per gradient in the formula


@needs_sklearn
def test_training_loop_wires_schedule_momentum_and_rows_like_the_formula():
    """Full-batch SAM, two epochs of one step: w³ from train_method equals the update written out."""
    config = ExperimentConfig(epochs=2, batch_size=5000, hidden=3, seeds=(4,), momenta=(0.9, 0.0),
                              methods=("sam",))
    data = load_split()
    history = train_method(config, data, "sam")
    layout = Layout(3)
    x, y = data.x_train[None], data.y_train[None]
    grad = lambda v: loss_and_grad(layout, v[None], x, y)[1][0]  # noqa: E731
    rows = history.final_weights.reshape(2, len(config.schedules), -1)
    for mi, mu in enumerate(config.momenta):
        for ci, schedule in enumerate(config.schedules):
            w, b = layout.initial(4), 0.0
            for t in epoch_steps(schedule, 2):
                g = grad(w)
                b = mu * b + grad(w + RHO * g / (np.linalg.norm(g) + 1e-12)) + WEIGHT_DECAY * w
                w = w - t * b
            # the batch is the training set in shuffled order: the mean differs by summation order only
            assert_allclose(rows[mi, ci], w, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- schedules per epoch
def test_paper_formulas_per_epoch():
    """Section 5: D1 = η₁/n, D2 = η₁/n^0.5001, D3 = η₁/(m ln m) with m = ⌊n/5⌋ + 2, η₁ = 0.1."""
    n = np.arange(1, 201)
    assert_allclose(epoch_steps("diminish1", 200), 0.1 / n, rtol=1e-15)
    assert_allclose(epoch_steps("diminish2", 200), 0.1 / n ** 0.5001, rtol=1e-15)
    m = n // 5 + 2
    assert_allclose(epoch_steps("diminish3", 200), 0.1 / (m * np.log(m)), rtol=1e-15)
    # the paper's values at n = 1, 5, 10, 50 (D3: 0.0721, 0.0303, 0.0180, 0.00335; D2 at 5: 0.0447)
    assert_allclose(epoch_steps("diminish3", 50)[[0, 4, 9, 49]], [0.0721, 0.0303, 0.0180, 0.00335], rtol=3e-3)
    assert_allclose(epoch_steps("diminish2", 5)[4], 0.0447, rtol=1e-3)
    assert_allclose(epoch_steps("constant:0.01", 7), np.full(7, 0.01))


def test_code_schedules_reproduce_the_authors_schedulers():
    """The code's forms, simulated as its schedulers run (0-based epoch e, lr set at the end of an epoch):
    Diminish 1 = LambdaLR(1/(e+1)); Diminish 2: lr_0 = η₁, lr_e = η₁/e^0.5001; Diminish 3: a counter
    from 2, increased at the end of every epoch e with e % 5 == 0, lr = η₁/(c ln c)."""
    epochs, eta = 60, 0.1
    d1 = [eta / (e + 1) for e in range(epochs)]
    d2 = [eta if e == 0 else eta / e ** 0.5001 for e in range(epochs)]
    d3, lr, counter = [], eta, 2
    for e in range(epochs):
        d3.append(lr)
        if e % 5 == 0:
            counter += 1
            lr = eta / (counter * math.log(counter))
    assert_allclose(epoch_steps("diminish1-code", epochs), d1, rtol=1e-15)
    assert_allclose(epoch_steps("diminish2-code", epochs), d2, rtol=1e-15)
    assert_allclose(epoch_steps("diminish3-code", epochs), d3, rtol=1e-15)
    assert_allclose(d3[1:6], [eta / (3 * math.log(3))] * 5) and d3[0] == eta
    # the shift: code's D2 is the formula one epoch late; code's D3 the formula three epochs early
    assert_allclose(epoch_steps("diminish2-code", epochs)[1:], epoch_steps("diminish2", epochs)[:-1], rtol=1e-15)
    assert_allclose(epoch_steps("diminish3-code", epochs)[1:], epoch_steps("diminish3", epochs + 3)[4:],
                    rtol=1e-15)


def test_unknown_schedule_is_a_one_line_error():
    with pytest.raises(ConvcheckError, match="accepted"):
        epoch_steps("diminish4", 3)
    with pytest.raises(ConvcheckError, match="unknown experiment method"):
        ExperimentConfig(methods=("adam",))


# ----------------------------------------------------------------------------- statistics and verdicts
def test_t_interval_and_verdict_sides():
    """mean ± t_{0.975,2}·s/√3 for three seeds, with the closed form of Student's t for 2 degrees of
    freedom, t_p = (2p − 1)/√(2p(1 − p)) (= 4.3027 at p = 0.975); NaN width for one seed."""
    mean, half = mean_ci([1.0, 2.0, 3.0])
    t = 0.95 / math.sqrt(2 * 0.975 * 0.025)
    assert mean == 2.0 and half == pytest.approx(t / math.sqrt(3), rel=1e-10)
    assert math.isnan(mean_ci([5.0])[1])
    assert _side(1.0, 0.5, +1) == 1 and _side(1.0, 1.5, +1) == 0 and _side(-1.0, 0.5, +1) == -1
    assert _side(-1.0, 0.5, -1) == 1 and _side(0.3, math.nan, +1) == 0
    effects = {"a": (1.0, 0.5, [1.0]), "b": (-1.0, 0.5, [-1.0])}
    assert _claim("x", "test_acc", 1, effects, "beat", 0)["verdict"] == "mixed"
    assert _claim("x", "test_acc", 1, effects, "best", 0)["verdict"] == "contradicted"
    assert _claim("x", "test_acc", 1, {"a": (1.0, 0.5, [1.0])}, "best", 0)["verdict"] == "supported"
    assert _claim("x", "test_acc", 1, {"a": (1.0, 2.0, [1.0])}, "beat", 0)["verdict"] == "not resolved"


# ----------------------------------------------------------------------------- the tiny study
@pytest.fixture(scope="module")
def tiny():
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn is not installed (pip install 'convcheck[experiments]')")
    return run_experiments(TINY)


@pytest.fixture(scope="module")
def cli_output(tiny, tmp_path_factory):
    """``convcheck experiments --quick --out DIR`` once, with the quick configuration replaced by the tiny one."""
    out = tmp_path_factory.mktemp("experiments")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(experiments, "QUICK", TINY)
        assert main(["experiments", "--quick", "--out", str(out), "--quiet"]) == 0
    return out


@needs_sklearn
def test_tiny_study_is_bitwise_repeatable(tiny, cli_output):
    """Same configuration, same process: identical arrays, identical Markdown, identical figure sidecar."""
    from convcheck.experiment_report import FIGURE_NAME, figure_data, markdown
    from convcheck.reports.figures import sidecar_json

    again = run_experiments(TINY)
    for method in TINY.methods:
        for key in ("train_loss", "val_acc", "test_acc", "final_weights"):
            assert np.array_equal(getattr(tiny.histories[method], key), getattr(again.histories[method], key))
    assert markdown(again) == markdown(tiny) == (cli_output / "experiments.md").read_text()
    assert sidecar_json(figure_data(again)) == (cli_output / f"{FIGURE_NAME}.json").read_text()


@needs_sklearn
def test_table_marks_the_best_mean_per_row_and_the_constant_is_chosen_on_validation(tiny):
    rows = tiny.table()
    assert len(rows) == len(TINY.momenta) * len(TINY.methods)
    for row in rows:
        means = {c: mean for c, (mean, _) in row["cells"].items()}
        assert row["best"] and all(means[c] == max(means.values()) for c in row["best"])
        assert set(means) == set(experiments.COLUMNS)
        grid_val = tiny.histories[row["method"]].val_acc.max(axis=0).mean(axis=0)[0, :3]
        assert row["constant_step"] == TINY.constant_grid[int(np.argmax(grid_val))]
        # a cell is the mean over seeds of the test accuracy at the best-validation epoch
        cell = tiny.test_at_checkpoint(row["method"])[:, 0, TINY.schedules.index("diminish3")]
        assert row["cells"]["diminish3"][0] == pytest.approx(100 * cell.mean(), rel=1e-12)


@needs_sklearn
def test_outputs_hold_the_table_the_claims_and_figure2(cli_output):
    from convcheck.experiment_report import FIGURE_NAME

    assert {p.name for p in cli_output.iterdir()} == {"experiments.md", "experiments.json", f"{FIGURE_NAME}.png",
                                                      f"{FIGURE_NAME}.pdf", f"{FIGURE_NAME}.json"}
    text = (cli_output / "experiments.md").read_text()
    assert ("| Method | Constant | Diminish 1 | Diminish 2 | Diminish 3 | Diminish 2 (code) | Diminish 3 (code) |"
            in text)
    table_lines = [line for line in text.splitlines() if line.startswith("| ") and "±" in line]
    assert len(table_lines) == len(TINY.methods) and all("**" in line for line in table_lines)
    assert text.count("Diminishing step sizes beat the best constant one") == 4
    sidecar = json.loads((cli_output / f"{FIGURE_NAME}.json").read_text())
    assert sidecar["parameters"]["rho"] == 0.05 and sidecar["parameters"]["weight_decay"] == 1e-3
    loss_panel, step_panel = sidecar["panels"]
    assert [c["label"].split(" (")[0] for c in loss_panel["curves"]] == ["Constant", "Diminish 1", "Diminish 2",
                                                                         "Diminish 3"]
    assert all(len(c["y"]) == TINY.epochs for c in loss_panel["curves"])
    assert_allclose(step_panel["curves"][3]["y"], epoch_steps("diminish3", TINY.epochs))
    data = json.loads((cli_output / "experiments.json").read_text())
    assert {c["verdict"] for c in data["claims"]} <= {"supported", "contradicted", "not resolved", "mixed",
                                                      "partly supported", "partly contradicted"}
    assert (cli_output / f"{FIGURE_NAME}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (cli_output / f"{FIGURE_NAME}.pdf").read_bytes()[:5] == b"%PDF-"


@needs_sklearn
def test_cli_refuses_to_overwrite_without_force_and_a_file_as_folder(cli_output, capsys):
    assert main(["experiments", "--quick", "--out", str(cli_output), "--quiet"]) == 2
    assert "use --force" in capsys.readouterr().err
    assert main(["experiments", "--quick", "--out", str(cli_output / "experiments.md"), "--quiet"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["experiments", "--epochs", "3"]) == 2                       # unknown option: one line
    assert "unrecognized arguments" in capsys.readouterr().err


@needs_sklearn
def test_report_section_is_added_on_request(tiny, tmp_path, monkeypatch):
    """``make_report(experiments=True)`` appends the section to both pages and results.json (valid)."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (test extra) validates results.json")
    from convcheck import run
    from convcheck.problems import get
    from convcheck.reports.report import make_report
    from convcheck.reports.schema import RESULTS_SCHEMA

    monkeypatch.setattr(experiments, "run_experiments", lambda config, progress=None: tiny)  # trained above
    trace = run(get("logsum", n=2, seed=1), "gd", np.ones(2), iters=50, step=0.1).save(tmp_path / "gd.npz")
    make_report(tmp_path / "report", traces=[trace], quick=True, figures=False, progress=False, experiments=True)
    page = (tmp_path / "report" / "index.html").read_text()
    assert page.index("Section 5 in miniature") < page.rindex("</body>")
    assert "Section 5 in miniature" in (tmp_path / "report" / "report.md").read_text()
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["experiments"]["config"]["name"] == "tiny"
    assert (tmp_path / "report" / "figures" / "experiments_figure2.png").exists()


def test_report_and_cli_do_not_import_the_experiments_when_off():
    code = "import sys, convcheck.cli, convcheck.reports.report; print('convcheck.experiments' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_scikit_learn_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ConvcheckError, match="pip install 'convcheck\\[experiments\\]'"):
        load_split()
    assert main(["experiments", "--quick", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "scikit-learn" in capsys.readouterr().err
