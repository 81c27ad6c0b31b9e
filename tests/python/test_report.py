"""The committee report: the figures the API computes for the same seed, the audit block, no
network references, a page that loads in headless Chromium, and the command line's atomic
output."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import fiscalrisk as fr
from fiscalrisk.plot import millions

SCENARIO = Path(fr.examples.birmingham_2019_path())


@pytest.fixture(scope="module")
def result() -> fr.PlanResult:
    return fr.examples.birmingham_2019().simulate(trials=20_000, seed=7, progress=False)


@pytest.fixture(scope="module")
def page(result: fr.PlanResult) -> str:
    return fr.report.render(result)


def test_headline_figures_are_the_apis(result: fr.PlanResult, page: str) -> None:
    y = result.by_year()
    assert f"{result.p_exhausted:.1%}" in page
    assert millions(float(y["gap_mean"][0])) in page
    assert millions(float(y["reserves_p50"][-1])) in page
    p = result.probability_below("reserves_sustainability", 2.0, y["year"][-1])
    assert f"{p:.1%}" in page
    first = result.drivers().row(0, named=True)
    assert f"risk: {first['name']} ({first['id']})" in page  # by name, the id beside it
    for year in y["year"]:
        assert year in page


def test_audit_block_reproduces(result: fr.PlanResult, page: str) -> None:
    audit = page[page.index("id='audit'"):]
    assert fr.__version__ in audit and "20,000" in audit and ">7<" in audit
    digest = hashlib.sha256(result.scenario.to_toml().encode()).hexdigest()
    assert digest in audit
    # The same inputs loaded another way (a dict) hash the same.
    again = fr.Scenario.from_dict(result.scenario.to_dict()).simulate(trials=100, seed=1, progress=False)
    assert fr.report.inputs_hash(again) == digest
    # Rerunning with the recorded seed and trials gives the same headline figures.
    rerun = fr.examples.birmingham_2019().simulate(trials=20_000, seed=7, progress=False)
    assert fr.report.headline(rerun) == fr.report.headline(result)


def test_self_contained(page: str) -> None:
    assert page.count("<svg") == 5  # fan chart, sensitivities, gap exceedance, savings programme, drivers
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "url(http" not in page and "@import" not in page
    # The assumptions and their sources come from the scenario file's comments.
    assert "ASSUMPTION" in page and "Commonwealth Games" in page


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_page_loads_in_headless_chromium(page: str, result: fr.PlanResult, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it from Debian's packages")
        pytest.skip("no chromium here")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None and 'data-loaded="yes"' in body.group(0)
    assert "data-errors" not in body.group(0)  # no script error on the page
    assert f"{result.p_exhausted:.1%}" in dom
    shot = tmp_path / "page.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1100,1400", path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(str(shot))
    assert pixels.shape[0] == 1400 and pixels.std() > 0.05  # drawn, not a blank page


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=300)


def test_cli_report_and_atomic_output(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run("report", str(SCENARIO), "-o", str(out), "--trials", "5000", "--seed", "3", "--quiet")
    assert done.returncode == 0, done.stderr
    first = out.read_text(encoding="utf-8")
    assert "Audit" in first and oct(out.stat().st_mode & 0o777) != oct(0o600)
    # A failed run (a broken scenario) leaves the previous report intact and no temporary file.
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.read_text(encoding="utf-8").replace('rag = "amber"', 'rag = "amberish"', 1), encoding="utf-8")
    failed = run("report", str(bad), "-o", str(out), "--trials", "5000", "--quiet")
    assert failed.returncode == 2 and "amberish" in failed.stderr
    assert out.read_text(encoding="utf-8") == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "report.html"]
    # Never over the input; only .html.
    copy = tmp_path / "s.toml"
    copy.write_text(SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    refused = run("report", str(copy), "-o", str(copy), "--quiet")
    assert refused.returncode == 2 and "never overwritten" in refused.stderr
    assert run("report", str(copy), "-o", str(tmp_path / "r.pdf"), "--quiet").returncode == 2


def test_to_html_writes_and_returns(result: fr.PlanResult, tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    text = result.to_html(path)
    assert path.read_text(encoding="utf-8").count("<svg") == text.count("<svg") == 5  # with the sensitivities


def test_the_savings_programme_section(result: fr.PlanResult, page: str) -> None:
    # The plan's own savings shortfall (the one definition, issue 32 item 6): its mean and P90
    # by year, and the savings still to be identified.
    shortfall = result.savings_shortfall()
    assert "<h2>Savings programme</h2>" in page and "shortfall p90" in page and "unidentified" in page
    for mean, p90 in zip(shortfall["shortfall_mean"], shortfall["shortfall_p90"]):
        assert f"<td class='num'>{millions(float(mean))}</td>" in page and f"<td class='num'>{millions(float(p90))}</td>" in page


def test_no_driver_of_exhaustion_is_named_when_nothing_exhausts() -> None:
    # Issue 37: the init template (0.0% exhausted) was given a "largest driver of exhaustion".
    from fiscalrisk import report

    rich = fr.Scenario.from_dict({
        "plan": {"name": "Rich", "first_year": "2019/20", "years": 2, "net_budget": [100e6, 100e6]},
        "risks": [{"id": "r", "name": "Claim", "probability": 0.5, "impact": {"dist": "fixed", "value": 1e6}}],
        "reserves": {"general_fund": 500e6},
    }).simulate(trials=1_000, seed=1, progress=False)
    assert rich.p_exhausted == 0
    keys = report.headline(rich)
    assert not any("driver of exhaustion" in k for k in keys)
    assert "Largest driver of the gap beyond the budget (no trial exhausts reserves)" in keys
    poor = fr.examples.birmingham_2019().simulate(trials=2_000, seed=1, progress=False)
    assert poor.p_exhausted > 0 and "Largest driver of exhaustion" in report.headline(poor)


def test_the_audit_names_the_file_and_tables_align_text_left(tmp_path: Path) -> None:
    # Issue 37: the audit's "to reproduce" said SCENARIO.toml, not the file's name; every column
    # but the first was right-aligned, text included.
    import polars as pl

    scenario = tmp_path / "my plan.toml"
    scenario.write_text(fr.examples.birmingham_2019().source_text or "", encoding="utf-8")
    html = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "fiscalrisk", "report", str(scenario), "-o", str(html), "--trials", "2000",
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = html.read_text(encoding="utf-8")
    assert f"fiscalrisk report &#x27;{scenario}&#x27; --trials 2000" in page
    assert "th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e5e5e5; text-align: left; }" in page
    assert "<td class='num'>" in page and re.search(r"<td>risk</td>", page)
    out = tmp_path / "results.xlsx"
    done = subprocess.run([sys.executable, "-m", "fiscalrisk", "simulate", str(scenario), "--trials", "2000", "--out",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    audit = pl.read_excel(out, sheet_name="Audit")
    assert f"fiscalrisk simulate '{scenario}'" in audit.filter(pl.col("Item") == "to reproduce")["Value"][0]


def _drawn_texts(fig: Any) -> list[Any]:
    """Every text a reader sees: titles, axis labels, tick labels inside the view, annotations,
    legend entries."""
    out = list(fig.texts)
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            out += [t.label1 for t in axis.get_major_ticks() if lo - 1e-9 <= t.get_loc() <= hi + 1e-9]
        out += list(ax.texts)
        if ax.get_legend():
            out += list(ax.get_legend().get_texts())
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def _layout_problems(fig: Any) -> list[str]:
    """Texts cut by the figure's edge, and texts drawn over one another (by their extents)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    edge = fig.bbox
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
    out = [f"clipped: {text!r}" for text, b in boxes
           if b.x0 < edge.x0 - 1 or b.x1 > edge.x1 + 1 or b.y0 < edge.y0 - 1 or b.y1 > edge.y1 + 1]
    for i, (a, b) in enumerate(boxes):
        for c, d in boxes[i + 1:]:
            if min(b.x1, d.x1) - max(b.x0, d.x0) > 1 and min(b.y1, d.y1) - max(b.y0, d.y0) > 1:
                out.append(f"overlap: {a!r} / {c!r}")
    return out


@pytest.mark.parametrize("which", ["reference", "template"])
def test_the_reports_figures_have_no_clipped_or_overlapping_text(which: str, tmp_path: Path) -> None:
    # Issue 37: the tornado's title was clipped to "...exhaustio", its x label cut, its ticks
    # overlapping; the fan chart's "P(exhausted)" labels overlapped the £250m tick.
    import warnings

    if which == "reference":
        scenario = fr.examples.birmingham_2019()
    else:
        path = tmp_path / "plan.toml"
        subprocess.run([sys.executable, "-m", "fiscalrisk", "init", "--plan", str(path)], check=True, capture_output=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fr.FiscalRiskWarning)
            scenario = fr.Scenario.from_toml(path)
    r = scenario.simulate(trials=5_000, seed=1, progress=False)
    for name in ("reserves_fan", "gap_exceedance", "drivers_tornado"):
        assert _layout_problems(getattr(fr.plot, name)(r)) == [], name
    # The checker finds what it looks for: a title longer than its figure is cut.
    fig = fr.plot.gap_exceedance(r)
    fig.axes[0].set_title("x" * 400)
    assert any(p.startswith("clipped") for p in _layout_problems(fig))


def test_each_probability_says_whether_it_is_cumulative_or_in_the_year() -> None:
    # Issue 37: p_exhausted in the by-year table is cumulative, the "Each reserve" table's figure
    # is in the year, and nothing said so; the sustainability table had no units.
    page = fr.report.render(fr.examples.birmingham_2019().simulate(trials=2_000, seed=1, progress=False))
    assert "<th class='num'>Usable reserves exhausted, by this year (cumulative)</th>" in page
    assert "<th class='num'>below its own minimum, in the year</th>" in page
    assert "<th class='num'>General fund below its minimum, in the year</th>" in page
    assert " years</td>" in page and "p exhausted" not in page
