"""The report page in a real browser (headless Chromium): every image decodes, every internal link
resolves, nothing overflows its box, and the page stays under its size budget.

A copy of index.html gets a script that checks the rendered page and writes its findings into the
DOM; ``chromium --headless --dump-dom`` returns them. Screenshots of the top of the page and of the
figures are saved (under $CONVCHECK_SCREENSHOTS when set, else the test's temporary folder) to be
looked at. Skipped, with the reason, where no Chromium binary exists (``.ci/run`` installs one from
the system's package manager where it can).
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from convcheck import run
from convcheck.problems import get
from convcheck.reports.report import make_report

PAGE_BUDGET_BYTES = 3_000_000


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary (chromium, chromium-browser or "
                                "google-chrome) on PATH; .ci/run installs one where a package manager allows")

CHECK = """
<script>
window.addEventListener('load', function () {
  var out = {images: [], links: [], overflow: [], page_width: 0, view_width: window.innerWidth};
  document.querySelectorAll('img').forEach(function (img, i) {
    if (!img.complete || img.naturalWidth === 0) out.images.push(img.alt || ('image ' + i));
  });
  document.querySelectorAll('a[href^="#"]').forEach(function (a) {
    var id = decodeURIComponent(a.getAttribute('href').slice(1));
    if (!document.getElementById(id)) out.links.push(a.getAttribute('href'));
  });
  var body = document.body.getBoundingClientRect();
  document.querySelectorAll('body *').forEach(function (el) {
    if (el.closest('.wide') && !el.classList.contains('wide')) return;  // scrolls inside its box on purpose
    if (el.tagName === 'SCRIPT' || el.tagName === 'INPUT' || el.tagName === 'STYLE') return;
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.right > body.right + 1 || r.left < body.left - 1)
      out.overflow.push(el.tagName + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
                        + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'
        && el.clientWidth > 0 && el.tagName !== 'HTML' && el.tagName !== 'BODY')
      out.overflow.push(el.tagName + ' content wider than its box (' + el.scrollWidth + ' > ' + el.clientWidth + ')');
  });
  out.page_width = document.documentElement.scrollWidth;
  var pre = document.createElement('pre');
  pre.id = 'browser-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _browser(*args, timeout=120):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--virtual-time-budget=10000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    example = get("example31", n=2, seed=0)
    params = example.example31_parameters()
    traces = [run(get("quadratic", n=3, cond=4.0, seed=0), "gd", np.ones(3), iters=2000, step=0.2).save(
                  folder / "gd.npz"),
              run(example, "sam", params["x1"], iters=2000, step=params["t"], radius=params["rho"]).save(
                  folder / "example31.npz"),
              run(get("logsum", n=2, seed=1), "sam", np.ones(2), iters=5000, step="power:c=0.5,p=1",
                  radius="power:c=0.1,p=0.5").save(folder / "logsum.npz")]
    out = folder / "report"
    make_report(out, traces=traces, figures=True, progress=False)
    return out


@pytest.mark.parametrize("width", [1280, 800])
def test_images_decode_links_resolve_and_nothing_overflows(page, width):
    checked = page / f"checked-{width}.html"
    checked.write_text((page / "index.html").read_text().replace("</body>", CHECK + "</body>"))
    done = _browser(f"--window-size={width},2000", "--dump-dom", checked.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    marker = '<pre id="browser-check">'
    assert marker in done.stdout, "the check script did not run"
    found = json.loads(done.stdout.split(marker, 1)[1].split("</pre>", 1)[0].replace("&quot;", '"')
                       .replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert found["images"] == [], found["images"]
    assert found["links"] == [], found["links"]
    assert found["overflow"] == [], found["overflow"][:10]
    assert found["page_width"] <= width


def test_page_size_budget_and_screenshots(page, tmp_path):
    assert (page / "index.html").stat().st_size <= PAGE_BUDGET_BYTES
    shots = Path(os.environ.get("CONVCHECK_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    text = (page / "index.html").read_text()
    for name, size, start in (("top", "1280,2400", None), ("figures", "1280,4000", "figures"),
                              ("runs", "1280,3000", "results"), ("narrow", "800,3000", None)):
        copy = page / f"shot-{name}.html"   # the page from section `start` on (headless shots cannot scroll)
        cut = (f"<script>var t = document.getElementById('{start}'); while (t.previousSibling) "
               "t.parentNode.removeChild(t.previousSibling);</script>") if start else ""
        copy.write_text(text.replace("</body>", cut + "</body>"))
        target = shots / f"report-{name}.png"
        done = _browser(f"--window-size={size}", f"--screenshot={target}", copy.as_uri())
        assert done.returncode == 0 and target.stat().st_size > 10_000, done.stderr[-2000:]
