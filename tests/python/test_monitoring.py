"""Monthly monitoring: the check (one fixture per rule, exit codes, JSON and JUnit that parse),
movements that add up exactly, run-rate forecasts equal to hand calculations."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest

import fiscalrisk as fr

HEADER = "line_id,directorate,service,budget," + ",".join(f"m{m:02d}" for m in range(1, 13)) + ",forecast_outturn,one_off_mitigations,reserves_use,recurring,explanation"
CLEAN = "\n".join(
    [
        HEADER,
        "ASC-01,Adults,Care packages,120000000.00,10100000,10200000,10300000,10000000,9900000,10400000,10600000,,,,,,125000000.00,1000000.00,0,true,demand above budget",
        "WST-01,Place,Waste,60000000.00,5000000,5000000,5100000,4900000,5000000,5000000,5200000,,,,,,61000000.00,0,1000000.00,false,strike costs",
        "TOTAL,,,180000000.00,15100000,15200000,15400000,14900000,14900000,15400000,15800000,,,,,,186000000.00,1000000.00,1000000.00,,",
    ]
) + "\n"

FIXTURES = {
    "totals": CLEAN.replace("TOTAL,,,180000000.00", "TOTAL,,,180000000.01"),
    "no-total-row": CLEAN.replace("TOTAL,", "ALL,"),
    "duplicate-line-id": CLEAN.replace("WST-01", "ASC-01"),
    "not-a-number": CLEAN.replace("5100000,4900000", "51OOOOO,4900000"),
    "missing-actuals": CLEAN.replace("120000000.00,10100000,", "120000000.00,,"),
    "reserves-for-recurring": CLEAN.replace("1000000.00,false", "1000000.00,true"),
}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", "check", *args], capture_output=True, text=True, timeout=120)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_clean_table_passes(tmp_path: Path) -> None:
    out = cli(write(tmp_path, "m07.csv", CLEAN))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "OK: m07.csv, month 7: 0 errors, 0 warnings"


@pytest.mark.parametrize("rule", sorted(FIXTURES))
def test_each_rule_trips_and_outputs_parse(tmp_path: Path, rule: str) -> None:
    path = write(tmp_path, f"{rule}.csv", FIXTURES[rule])
    text = cli(path)
    assert text.returncode == 1 and f"error[{rule}]" in text.stdout
    report = json.loads(cli(path, "--format", "json").stdout)
    assert report["exit_code"] == 1 and rule in {f["rule"] for f in report["findings"]}
    junit = ElementTree.fromstring(cli(path, "--format", "junit").stdout)
    failed = {case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None}
    assert rule in failed
    assert len(list(junit.iter("testcase"))) == len(fr.monitoring.RULES)


def test_messages_name_row_column_and_text() -> None:
    data = fr.monitoring.read(pl.read_csv(FIXTURES["not-a-number"].encode(), infer_schema=False))
    messages = fr.monitoring.check(data).findings["message"].to_list()
    assert 'row 3 ("WST-01"), column m03: "51OOOOO" is not an amount of money' in messages
    data = fr.monitoring.read(pl.read_csv(FIXTURES["totals"].encode(), infer_schema=False))
    assert fr.monitoring.check(data).findings["message"][0] == (
        "lines add to £180,000,000.00 but the TOTAL row says £180,000,000.01 (difference £0.01)"
    )


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    missing = cli(str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "nope.csv" in missing.stderr
    no_columns = cli(write(tmp_path, "bad.csv", "line_id,budget\nA,1\n"))
    assert no_columns.returncode == 2 and "columns: missing forecast_outturn" in no_columns.stderr
    bad_month = cli(write(tmp_path, "m.csv", CLEAN), "--month", "13")
    assert bad_month.returncode == 2 and "month: 13 is not between 1 and 12" in bad_month.stderr
    rules = write(tmp_path, "rules.toml", "one_off_shar = 0.4\n")
    bad_rules = cli(write(tmp_path, "m.csv", CLEAN), "--rules", rules)
    assert bad_rules.returncode == 2 and "one_off_shar" in bad_rules.stderr
    corrupt = tmp_path / "m07.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a workbook")
    broken = cli(str(corrupt))
    assert broken.returncode == 2 and "cannot be read as a table" in broken.stderr
    too_many = cli(write(tmp_path, "long.csv", CLEAN + "X" + ",1" * 40 + "\n"))
    # The row that has more fields than the header is named (issue 37).
    assert too_many.returncode == 2 and "row 5 has 41 fields but the header has 21" in too_many.stderr
    # polars pads a short row with empty cells: the check then fails on them, naming the row.
    short = cli(write(tmp_path, "short.csv", CLEAN + "X,1,2\n"))
    assert short.returncode == 1 and 'row 5 ("X"), column budget' in short.stdout


def test_actuals_beyond_the_month_reported(tmp_path: Path) -> None:
    out = cli(write(tmp_path, "m.csv", CLEAN), "--month", "6", "--format", "json")
    report = json.loads(out.stdout)
    assert out.returncode == 1 and report["month"] == 6
    assert {f["rule"] for f in report["findings"]} == {"actuals-beyond-month"}


def test_warnings_fail_only_when_strict(tmp_path: Path) -> None:
    heavy = CLEAN.replace("125000000.00,1000000.00,0,true", "125000000.00,5000000.00,0,true").replace(
        "186000000.00,1000000.00", "186000000.00,5000000.00"
    )
    path = write(tmp_path, "m.csv", heavy)
    rules = write(tmp_path, "rules.toml", "one_off_share = 0.4\n")
    assert cli(path).returncode == 0
    relaxed = cli(path, "--rules", rules)
    assert relaxed.returncode == 0 and "warning[one-off-share]" in relaxed.stdout
    assert cli(path, "--rules", rules, "--strict").returncode == 1
    junit = ElementTree.fromstring(cli(path, "--rules", rules, "--format", "junit").stdout)
    case = next(c for c in junit.iter("testcase") if c.get("name") == "one-off-share")
    assert case.find("failure") is None and case.find("system-out") is not None


def test_movement_since_last_month(tmp_path: Path) -> None:
    now_text = CLEAN.replace("125000000.00,1000000.00", "110000000.00,1000000.00").replace(
        "186000000.00,1000000.00", "171000000.00,1000000.00"
    ).replace(",demand above budget\n", ",\n")
    now = fr.monitoring.read(pl.read_csv(now_text.encode(), infer_schema=False))
    before = fr.monitoring.read(pl.read_csv(CLEAN.encode(), infer_schema=False))
    moves = now.movements(before)
    assert moves["line_id"].to_list() == ["ASC-01", "WST-01"]
    assert moves["change"].to_list() == [Decimal("-15000000.00"), Decimal("0.00")]
    assert sum(moves["change"].to_list()) == Decimal("171000000") - Decimal("186000000")
    out = cli(write(tmp_path, "m08.csv", now_text), "--previous", write(tmp_path, "m07.csv", CLEAN))
    assert out.returncode == 0 and "warning[unexplained-movement]" in out.stdout


def test_run_rate_equals_hand_calculation(tmp_path: Path) -> None:
    data = fr.monitoring.read(pl.read_csv(CLEAN.encode(), infer_schema=False))
    flat = data.run_rate()
    cent = Decimal("0.01")
    asc_to_date = sum(Decimal(x) for x in "10100000 10200000 10300000 10000000 9900000 10400000 10600000".split())
    assert flat["run_rate"][0] == (asc_to_date * 12 / 7).quantize(cent, ROUND_HALF_UP)
    profile = ["0.08"] * 10 + ["0.1", "0.1"]
    shaped = data.run_rate(profile=profile)
    assert shaped["run_rate"][0] == (asc_to_date / Decimal("0.56")).quantize(cent, ROUND_HALF_UP)
    with pytest.raises(fr.ValidationError, match="profile: monthly shares sum to 0.98, not 1"):
        data.run_rate(profile=["0.08"] * 10 + ["0.09", "0.09"])
    with pytest.raises(fr.ValidationError, match="month: 0 is not between 1 and 12"):
        data.run_rate(month=0)


def test_excel_and_dataframe_inputs_agree(tmp_path: Path) -> None:
    frame = pl.read_csv(FIXTURES["totals"].encode(), infer_schema=False)
    xlsx = tmp_path / "m07.xlsx"
    frame.write_excel(xlsx)
    from_excel = fr.monitoring.check(fr.monitoring.read(xlsx))
    from_frame = fr.monitoring.check(fr.monitoring.read(frame))
    assert from_excel.findings.equals(from_frame.findings)
    assert from_frame.exit_code() == 1


def test_the_december_2018_story() -> None:
    """Month 7: £27m over; month 8: £3m, in part using one-off savings (illustrative data)."""
    m7, m8 = fr.datasets.monitoring_example(7), fr.datasets.monitoring_example(8)
    f7, f8 = fr.monitoring.forecast(m7), fr.monitoring.forecast(m8)
    assert f7["variance"][-1] == Decimal("27000000.00") and f8["variance"][-1] == Decimal("3000000.00")
    assert f8["underlying_variance"][-1] == Decimal("12000000.00")
    moves = m8.movements(m7)
    assert sum(moves["change"].to_list()) == Decimal("-24000000.00")
    assert fr.monitoring.check(m7).exit_code(strict=True) == 0
    report = fr.monitoring.check(m8, previous=m7)
    assert report.findings["rule"].to_list() == ["one-off-share"] and report.exit_code() == 0
    # Closed months do not change between the two tables.
    assert m7.frame["m05"].equals(m8.frame["m05"])


def test_calibration_against_numpy() -> None:
    from scipy import stats

    history = fr.datasets.monitoring_history()
    cal = fr.monitoring.calibrate(history).table
    h = history.select(pl.col("month").cast(pl.Int64), *(pl.col(c).cast(pl.Float64) for c in ("budget", "forecast_outturn", "outturn")))
    for row in cal.iter_rows(named=True):
        e = h.filter(pl.col("month") == row["month"]).select((pl.col("outturn") - pl.col("forecast_outturn")) / pl.col("budget")).to_series().to_numpy()
        assert row["method"] == "history" and row["years"] == len(e) == 5
        assert row["bias"] == pytest.approx(e.mean(), rel=1e-9, abs=1e-15)
        assert row["spread"] == pytest.approx(e.std(ddof=1), rel=1e-9)
        assert row["multiplier"] == pytest.approx(stats.t.ppf(0.9, 4) * (1 + 1 / 5) ** 0.5, rel=1e-9)
    # The interval around the same forecast narrows from month 7 to month 8 to month 12.
    c = fr.monitoring.calibrate(history)
    widths = [c.interval(k, 855e6, 858e6)[2] - c.interval(k, 855e6, 858e6)[0] for k in (7, 8, 12)]
    assert widths[0] > widths[1] > widths[2] > 0


def test_forecast_intervals_and_default() -> None:
    m8 = fr.datasets.monitoring_example(8)
    with_history = fr.monitoring.forecast(m8, calibration=fr.monitoring.calibrate(fr.datasets.monitoring_history()))
    default = fr.monitoring.forecast(m8)
    total = with_history.row(-1, named=True)
    assert total["line_id"] == "TOTAL" and total["method"] == "history" and default["method"][-1] == "default"
    assert total["p10"] < total["p50"] < total["p90"]
    # Default: no bias, spread 0.5% + 2.5% * (12 - 8) / 11 of the budget, times the normal's 1.2816.
    d = default.row(-1, named=True)
    half = 855e6 * (0.005 + 0.025 * 4 / 11) * 1.2815515655446004
    assert d["p50"] == pytest.approx(858e6) and d["p90"] - d["p50"] == pytest.approx(half, rel=1e-12)


def test_backtest_against_numpy() -> None:
    history = fr.datasets.monitoring_history()
    bt = fr.monitoring.backtest(history)
    assert bt.columns == ["month", "years", "bias", "mae", "coverage"] and bt.height == 12
    h = history.select(pl.col("month").cast(pl.Int64), (pl.col("outturn").cast(pl.Float64) - pl.col("forecast_outturn").cast(pl.Float64)).alias("e"))
    for row in bt.iter_rows(named=True):
        e = h.filter(pl.col("month") == row["month"])["e"].to_numpy()
        assert row["bias"] == pytest.approx(e.mean(), rel=1e-9) and row["mae"] == pytest.approx(abs(e).mean(), rel=1e-9)
        assert 0.0 <= row["coverage"] <= 1.0


def test_history_errors_and_fallback() -> None:
    history = fr.datasets.monitoring_history()
    two_years = history.filter(pl.col("year").is_in(["2013/14", "2014/15"]))
    assert fr.monitoring.calibrate(two_years).table.equals(fr.monitoring.Calibration.default().table)
    bad = history.with_columns(month=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("13")).otherwise(pl.col("month")))
    with pytest.raises(fr.ValidationError, match='history row 2: month: "13" is not a month from 1 to 12'):
        fr.monitoring.calibrate(bad)
    with pytest.raises(fr.ValidationError, match="columns: missing outturn"):
        fr.monitoring.calibrate(history.drop("outturn"))


def test_forecast_outside_the_calibrated_band(tmp_path: Path) -> None:
    """With a tight history the managers' 186m lies outside the band around the 182.9m run-rate."""
    rows = []
    for y in range(5):
        for k in range(1, 13):
            outturn = 180_000_000 + 1_000_000 * y
            rows.append({"year": f"{2010 + y}/{11 + y}", "month": str(k), "budget": "180000000", "forecast_outturn": str(outturn - 10_000 * (y - 2)), "outturn": str(outturn)})
    history = pl.DataFrame(rows)
    path = write(tmp_path, "m07.csv", CLEAN)
    hist = tmp_path / "history.csv"
    history.write_csv(hist)
    out = cli(path, "--history", str(hist))
    assert out.returncode == 0 and "warning[forecast-outside-band]" in out.stdout
    assert cli(path, "--history", str(hist), "--strict").returncode == 1
    assert cli(path).returncode == 0 and "forecast-outside-band" not in cli(path).stdout


def test_overspend_distribution_feeds_a_plan() -> None:
    m8 = fr.datasets.monitoring_example(8)
    cal = fr.monitoring.calibrate(fr.datasets.monitoring_history())
    d = fr.monitoring.overspend_distribution(m8, calibration=cal)
    total = fr.monitoring.forecast(m8, calibration=cal).row(-1, named=True)
    budget = float(total["budget"])
    assert isinstance(d, fr.Normal)
    assert d.quantile(0.1) == pytest.approx(total["p10"] - budget, rel=1e-9)
    assert d.quantile(0.9) == pytest.approx(total["p90"] - budget, rel=1e-9)


def test_forecast_reads_amounts_as_the_check_does() -> None:
    pounds = CLEAN.replace("ASC-01,Adults,Care packages,120000000.00", 'ASC-01,Adults,Care packages,"£120,000,000.00"')
    f = fr.monitoring.forecast(fr.monitoring.read(pl.read_csv(pounds.encode(), infer_schema=False)))
    assert f["budget"][0] == Decimal("120000000.00")
    bad = fr.monitoring.read(pl.read_csv(CLEAN.replace("125000000.00", "12S000000").encode(), infer_schema=False))
    with pytest.raises(fr.ValidationError, match=r"row 2 \('ASC-01'\), column forecast_outturn: '12S000000' is not an amount"):
        fr.monitoring.forecast(bad)
    with pytest.raises(fr.ValidationError, match="month: 13 is not between 1 and 12"):
        fr.monitoring.forecast(fr.monitoring.read(pl.read_csv(CLEAN.encode(), infer_schema=False)), month=13)
