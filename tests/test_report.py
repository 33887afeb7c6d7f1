"""`convcheck report`: a self-contained HTML page, Markdown, results.json valid against its schema, figures."""
import json
import re
from html.parser import HTMLParser

import jsonschema
import numpy as np
import pytest

from convcheck import run
from convcheck.cli import main
from convcheck.errors import OutputExistsError
from convcheck.problems import get
from convcheck.reports.report import make_report, runs_from_study
from convcheck.reports.schema import RESULTS_SCHEMA, RUN_SCHEMA


class StrictParser(HTMLParser):
    """Collects tags, checks that every non-void element is closed in order, and records URLs."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.urls, self.images = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        for key in ("src", "href"):
            if key in attrs:
                self.urls.append((tag, key, attrs[key]))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("traces")
    quadratic = get("quadratic", n=3, cond=4.0, seed=0)
    example = get("example31", n=2, seed=0)
    params = example.example31_parameters()
    paths = [run(quadratic, "gd", np.ones(3), iters=4000, step=0.2).save(folder / "gd.npz"),
             run(example, "sam", params["x1"], iters=3000, step=params["t"], radius=params["rho"]).save(
                 folder / "example31.npz"),
             run(get("logsum", n=2, seed=1), "sam", np.ones(2), iters=20000, step="power:c=0.5,p=1",
                 radius="power:c=0.1,p=0.5").save(folder / "logsum.npz")]
    return paths


@pytest.fixture(scope="module")
def report(traces, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report"
    make_report(out, traces=traces, figures=True, progress=False)
    return out


def test_html_is_well_formed_self_contained_and_offline(report):
    text = (report / "index.html").read_text()
    parser = StrictParser()
    parser.feed(text)
    parser.close()
    assert not parser.errors and not parser.stack, (parser.errors, parser.stack)
    assert "script" not in parser.tags
    for tag, key, url in parser.urls:  # only in-page anchors and embedded images
        assert url.startswith("#") or url.startswith("data:image/png;base64,"), (tag, key, url[:60])
    assert not re.search(r"url\(|@import|https?://", text.split("</style>")[0])
    assert len(parser.images) >= 5 + 3  # the five figures and one plot per run
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)


def test_html_holds_the_summary_and_the_result_table(report):
    text = (report / "index.html").read_text()
    assert "<h2 id='summary'>Summary</h2>" in text and "Runs certified:" in text
    assert "<h2 id='table'>Results × problems</h2>" in text
    assert "Example 3.1" in text and "Theorem 4.1" in text
    for key in ("P1", "P2", "P3", "P4", "P5"):
        assert f"<td>{key}</td>" in text


def test_results_json_validates_and_matches_the_runs(report):
    data = json.loads((report / "results.json").read_text())
    jsonschema.validate(data, RESULTS_SCHEMA)
    assert data["schema_version"] == "1.0" and data["study"] == "traces"
    results = {run["result"] for run in data["runs"]}
    assert {"Example 3.1", "Theorem 4.1"} <= results
    example = next(r for r in data["runs"] if r["result"] == "Example 3.1")
    assert example["verdict"] == "consistent" and example["observed"]["P5"] == "fails"
    assert data["summary"]["contradiction"] == 0
    assert data["summary"]["runs"] == len(data["runs"])


def test_markdown_has_the_same_runs_and_figures(report):
    markdown = (report / "report.md").read_text()
    data = json.loads((report / "results.json").read_text())
    for run_record in data["runs"]:
        assert f"### {run_record['id']}: " in markdown
        assert (report / run_record["plot"]).is_file()
    for figure in data["figures"]:
        for path in figure["files"]:
            assert (report / path).is_file()
        assert f"]({figure['files'][0]})" in markdown
    assert "## Results × problems" in markdown


def test_existing_report_folder_needs_force(report, traces, capsys):
    before = (report / "results.json").read_bytes()
    assert main(["report", *map(str, traces), "--out", str(report), "--quiet", "--no-figures"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (report / "results.json").read_bytes() == before
    with pytest.raises(OutputExistsError):
        make_report(report, traces=traces, figures=False, progress=False)


def test_an_interrupted_report_leaves_nothing_behind(traces, tmp_path, monkeypatch):
    from convcheck.reports import report as report_module

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "render_html", broken)
    out = tmp_path / "report"
    with pytest.raises(KeyboardInterrupt):
        make_report(out, traces=traces[:1], figures=False, progress=False)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_study_feeds_report_records_valid_against_the_schema():
    from convcheck.properties.study import CASES, run_study

    study = run_study(quick=True, cases=[c for c in CASES if c.result in ("example-3.1", "dai-2023")][:4])
    records = runs_from_study(study)
    assert len(records) == 4
    for record, trace, problem, certificate in records:
        jsonschema.validate(record, RUN_SCHEMA)
        assert record["verdict"] == "consistent"
        assert problem.key == trace.metadata["problem"]["key"]
