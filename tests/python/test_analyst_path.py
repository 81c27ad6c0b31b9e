"""Issue 17, the analyst's path: Excel out, one money formatter, whole-plan exceedance, the plan's
trial table, a complete assumptions table, and a missing optional package as exit 2."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import fiscalrisk as fr
from fiscalrisk import excel, report
from fiscalrisk._convert import pounds

DATA = Path(fr.__file__).parent / "data"


@pytest.fixture(scope="module")
def kept() -> fr.PlanResult:
    return fr.examples.birmingham_2019().simulate(trials=10_000, seed=5, progress=False, keep_trials=True)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


# -- one money formatter -----------------------------------------------------------------------


def test_one_money_form_everywhere(kept: fr.PlanResult) -> None:
    assert pounds(-4e6) == "-£4.0m" and pounds(12_345_678) == "£12.3m"
    assert pounds(-1.0) == "£0.0m"  # never "-£0.0m"
    assert fr.plot.millions is pounds
    html = kept.to_html()
    assert "£-" not in html
    assert "£-" not in "".join(report.assumptions(kept.scenario)["assumption"])


# -- whole-plan exceedance and the trial table --------------------------------------------------


def test_trial_table_agrees_with_the_statistics(kept: fr.PlanResult) -> None:
    t = kept.trial_table()
    years = kept.by_year()["year"].to_list()
    assert t.height == kept.trials * len(years)
    assert t["year"].head(len(years)).to_list() == years
    by = t.group_by("year", maintain_order=True).agg(
        pl.col("exhausted").mean(), pl.col("s114").mean(), pl.col("below_minimum").mean(), pl.col("gap").mean()
    )
    y = kept.by_year()
    # Counts are exact: the table and the accumulators see the same trials.
    assert by["exhausted"].to_list() == y["p_exhausted"].to_list()
    assert by["s114"].to_list() == y["p_s114"].to_list()
    assert by["below_minimum"].to_list() == y["p_below_minimum"].to_list()
    np.testing.assert_allclose(by["gap"].to_numpy(), y["gap_mean"].to_numpy(), rtol=1e-9)


def test_whole_plan_exceedance_is_the_share_of_trials_whose_summed_gap_exceeds(kept: fr.PlanResult) -> None:
    t = kept.trial_table()
    total = t.group_by("trial").agg(pl.col("gap").sum())["gap"].to_numpy()
    for amount in np.quantile(total, [0.1, 0.5, 0.9]):
        # The sketch's buckets are narrow: within one trial in a thousand of the exact share.
        assert kept.exceedance(float(amount)) == pytest.approx(float(np.mean(total > amount)), abs=1e-3)
    first = t.filter(pl.col("year") == "2019/20")["gap"].to_numpy()
    assert kept.exceedance(3e7, "2019/20") == pytest.approx(float(np.mean(first > 3e7)), abs=1e-3)
    curve = kept.cumulative_gap_exceedance()
    assert curve["amount"].is_sorted() and curve.height == 99


def test_keeping_trials_changes_no_statistic(kept: fr.PlanResult) -> None:
    plain = fr.examples.birmingham_2019().simulate(trials=10_000, seed=5, progress=False)
    assert plain.by_year().equals(kept.by_year())
    with pytest.raises(fr.FiscalRiskError, match="keep_trials=True"):
        plain.trial_table()


def test_exceedance_errors_name_the_argument(kept: fr.PlanResult) -> None:
    with pytest.raises(fr.ValidationError, match="2030/31"):
        kept.exceedance(1e6, "2030/31")
    with pytest.raises(fr.ValidationError, match="amount"):
        kept.exceedance(float("nan"))


# -- Excel --------------------------------------------------------------------------------------


def test_workbook_holds_every_table_in_pounds(kept: fr.PlanResult, tmp_path: Path) -> None:
    out = kept.to_excel(tmp_path / "results.xlsx")
    assert out == tmp_path / "results.xlsx" and [p.name for p in tmp_path.iterdir()] == ["results.xlsx"]
    names = ["By year", "Reserves", "Drivers", "Policy checks", "Inputs", "ASSUMPTION comments", "Audit"]
    read = {n: excel.read(out, n) for n in names}
    np.testing.assert_allclose(read["By year"]["gap_p90"].to_numpy(), kept.by_year()["gap_p90"].to_numpy())
    assert read["Reserves"]["reserve"].to_list() == kept.reserves_by_year()["reserve"].to_list()
    assert read["Drivers"]["name"].to_list() == kept.drivers()["name"].to_list()
    assert read["Inputs"].height == report.assumptions(kept.scenario).height
    assert report.inputs_hash(kept) in read["Audit"]["value"].to_list()
    with zipfile.ZipFile(out) as z:
        styles = z.read("xl/styles.xml").decode()
    assert excel.POUNDS.replace("&", "&amp;") in styles and excel.PERCENT in styles


def test_workbook_headings_are_for_people_and_map_back(kept: fr.PlanResult, tmp_path: Path) -> None:
    # Issue 37: the headers were snake_case ("gap_p90", "p_s114") and "Policy checks" did not
    # say what policy it checks.
    out = kept.to_excel(tmp_path / "results.xlsx")
    about = pl.read_excel(out, sheet_name="About")
    for sheet, frame in excel.sheets(kept).items():
        shown = pl.read_excel(out, sheet_name=sheet, infer_schema_length=0).columns
        assert len(shown) == frame.width and len(set(shown)) == len(shown), sheet
        for heading in shown:
            assert "_" not in heading and heading[:1].isupper(), (sheet, heading)
            assert "£m" not in heading, "cells hold pounds, so a heading must not say £m"
        mine = about.filter(pl.col("Sheet") == sheet)
        assert mine["Heading"].to_list() == shown and mine["Column"].to_list() == frame.columns
    by_year = pl.read_excel(out, sheet_name="By year").columns
    assert "Usable reserves exhausted, by this year (cumulative)" in by_year
    policy = " ".join(pl.read_excel(out, sheet_name="Policy checks").columns)
    assert "recurring gap" in policy and "reserves" in policy.lower()
    with pytest.raises(fr.ValidationError, match="'Summary' is not one of the workbook's sheets"):
        excel.read(out, "Summary")
    other = tmp_path / "other.xlsx"
    pl.DataFrame({"a": [1]}).write_excel(other)
    with pytest.raises(fr.ValidationError, match="not a workbook fiscalrisk wrote"):
        excel.read(other, "By year")


def test_simulate_out_xlsx_and_refusals(tmp_path: Path) -> None:
    scenario = DATA / "birmingham_2019.toml"
    out = tmp_path / "results.xlsx"
    r = run("simulate", str(scenario), "--trials", "2000", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "workbook written" in r.stdout
    assert excel.read(out, "By year").height == 4
    bad = run("simulate", str(scenario), "--trials", "2000", "--out", str(tmp_path / "results.xls"))
    assert bad.returncode == 2 and ".xlsx" in bad.stderr


# -- the assumptions table ----------------------------------------------------------------------


def test_assumptions_table_is_complete() -> None:
    text = (DATA / "birmingham_2019.toml").read_text()
    s = fr.Scenario.from_toml_str(
        text.replace(
            "\ndirectorate_correlation = 0.2",
            '\ndirectorate_correlation = 0.2\namber = { p_full = 0.5, partial = { dist = "uniform", low = 0.0, high = 1.0 }, p_slip = 0.3 }\n#',
            1,
        )
        + '\n[in_year]\noverspend = { dist = "normal", mean = 9e6, sd = 3e6 }\none_off_mitigations = 2e6\n'
    )
    with pytest.raises(fr.ValidationError, match="with_in_year: expected monitoring data"):
        s.with_in_year(fr.Normal(9e6, 3e6))
    text = " | ".join(f"{k}: {i}: {a}" for k, i, a in report.assumptions(s).iter_rows())
    for needed in [
        "council's share 25%", "cap £25.0m", "profile 2020/21 0.2", "one-off", "rho 0.6",
        "Corporate contingency", "committed £15.0m", "minimum £10.0m", "draw order 2",
        "not usable (ring-fenced)", "percent of budget 5%", "may not fund recurring gaps",
        # Issue 37: values by their unit, not "tax base 251580.0" or "recurring True".
        "tax base 251,580", "band d £1,525.11", "core increase 2019/20 2.99%", "baseline funding level £330.0m",
        "unit cost £17,000", "recurring yes",
        "management response", "RAG amber (scenario): p full 0.5", "RAG green (default): p full 0.9",
        "in-year position",
    ]:
        assert needed in text, needed


def test_every_assumption_comment_is_listed() -> None:
    source = (DATA / "birmingham_2019.toml").read_text()
    comments = report.assumption_comments(source)
    expected = [i + 1 for i, ln in enumerate(source.splitlines()) if "#" in ln and "ASSUMPTION" in ln.split("#", 1)[1]]
    assert comments["line"].to_list() == expected
    inline = comments.filter(pl.col("key") != "")
    assert "cap = 25e6" in inline["key"].to_list()
    html = fr.Scenario.from_toml(DATA / "birmingham_2019.toml").simulate(trials=2_000, seed=1, progress=False).to_html()
    assert f"{comments.height} ASSUMPTION comments" in html and "ASSUMPTION: the level of the cap" in html


def test_bundled_scenarios_cite_documents_not_files() -> None:
    for path in DATA.glob("*.toml"):
        text = path.read_text()
        assert not any(token in text for token in ("seeds/", ".pdf", "seed-figures")), path.name
        assert any(str(y) in text for y in range(2013, 2025)), path.name  # a dated document


# -- a missing optional package -----------------------------------------------------------------


def test_a_missing_package_is_exit_2_naming_the_extra(tmp_path: Path) -> None:
    # A sitecustomize that hides matplotlib, as on an install without it.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nfor name in ('matplotlib', 'matplotlib.figure', 'matplotlib.ticker'):\n    sys.modules[name] = None\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "fiscalrisk", "report", str(DATA / "birmingham_2019.toml"), "-o", str(tmp_path / "r.html"),
         "--trials", "1000", "--quiet"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert r.returncode == 2, r.stderr
    assert "matplotlib" in r.stderr and "fiscalrisk[plot]" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r.html").exists()


def test_missing_dependency_is_an_import_error_and_a_fiscalrisk_error() -> None:
    e = fr.MissingDependency("matplotlib", "plot")
    assert isinstance(e, ImportError) and isinstance(e, fr.FiscalRiskError) and e.name == "matplotlib"


# -- one source of truth across the boundary ----------------------------------------------------


def test_a_wrong_month_is_one_error_naming_the_tables_month() -> None:
    table = str(DATA / "monitoring_2018_19_m08.csv")
    early = run("check", table, "--month", "3", "--format", "json")
    assert early.returncode == 1
    import json

    findings = [f for f in json.loads(early.stdout)["findings"] if f["severity"] == "error"]
    assert len(findings) == 1 and findings[0]["rule"] == "actuals-beyond-month"
    assert "this looks like month 8's table (--month 8)" in findings[0]["message"]
    late = [f for f in json.loads(run("check", table, "--month", "11", "--format", "json").stdout)["findings"]
            if f["severity"] == "error"]
    assert [f["rule"] for f in late] == ["missing-actuals"]
    bad = run("check", table, "--month", "13")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "month: 13 is not between 1 and 12" in bad.stderr


def test_month_range_and_variance_come_from_the_core() -> None:
    data = fr.datasets.monitoring_example(8)
    with pytest.raises(fr.ValidationError, match="month: 0 is not between 1 and 12"):
        fr.monitoring.forecast(data, month=0)
    with pytest.raises(fr.ValidationError, match="month: -1 is not between 1 and 12"):
        fr.monitoring.check(data, month=-1)
    f = fr.monitoring.forecast(data)
    # Independent arithmetic on the table as read: forecast less budget, plus one-offs.
    frame = pl.read_csv(DATA / "monitoring_2018_19_m08.csv", infer_schema=False)
    from decimal import Decimal

    for row, out in zip(frame.iter_rows(named=True), f.iter_rows(named=True)):
        variance = Decimal(row["forecast_outturn"]) - Decimal(row["budget"])
        assert out["variance"] == variance
        assert out["underlying_variance"] == variance + Decimal(row["one_off_mitigations"] or "0")


def test_yes_no_cells_are_read_once_and_refused_when_neither() -> None:
    history = pl.DataFrame({"rag": ["green"] * 6, "fraction_delivered": [1.0] * 6, "slipped": ["no"] * 5 + ["maybe"]})
    with pytest.raises(fr.ValidationError, match="history row 6: slipped 'maybe' is not true or false"):
        fr.SavingsProgramme.calibrate(history)
    ok = history.with_columns(pl.Series("slipped", ["no"] * 5 + ["Y"]))
    with pytest.warns(fr.FiscalRiskWarning, match="fewer than 5"):  # amber and red: no history
        table = fr.SavingsProgramme.calibrate(ok)
    assert table.filter(pl.col("rag") == "green")["p_slip"][0] == pytest.approx(1 / 6)


def test_reverse_stress_inputs_carry_names() -> None:
    r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
    inputs = r.reverse_stress(progress=False).inputs
    assert inputs.columns[-1] == "name"
    names = dict(zip(inputs["id"], inputs["name"]))
    assert names["equal_pay"] == "Equal pay claims beyond the provision"
