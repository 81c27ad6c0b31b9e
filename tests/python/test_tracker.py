"""Issue 12, the savings tracker: read exactly, checked with the core's rules (through the command
line too), rebuilt into a programme at any month, and its movement explained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import fiscalrisk as fr


def tracker(rags: list[str], explanations: list[str] | None = None, counted: list[str] | None = None,
            forecast: list[str] | None = None) -> pl.DataFrame:
    n = len(rags)
    return pl.DataFrame({
        "id": [f"S-{i}" for i in range(n)],
        "name": [f"saving {i}" for i in range(n)],
        "directorate": ["Place"] * n,
        "year": ["2019/20"] * n,
        "value": ["1000000.00"] * n,
        "rag": rags,
        "forecast_delivery": forecast or ["500000"] * n,
        "counted_in_budget": counted or ["yes"] * n,
        "explanation": explanations or [""] * n,
    })


def rules(report: fr.monitoring.CheckReport) -> list[str]:
    return report.findings["rule"].to_list()


def test_each_rule_fires_on_its_case_only() -> None:
    clean = fr.tracker.read(tracker(["green", "amber"]))
    assert rules(fr.tracker.check(clean)) == []
    assert rules(fr.tracker.check(fr.tracker.read(tracker(["red", "amber"])))) == ["red-counted-in-budget"]
    assert rules(fr.tracker.check(fr.tracker.read(tracker(["red", "amber"], counted=["no", "yes"])))) == []
    assert rules(fr.tracker.check(fr.tracker.read(tracker(["green"], forecast=["1500000"])))) == ["forecast-above-value"]
    dup = tracker(["green", "green"]).with_columns(pl.Series("id", ["S-0", "S-0"]))
    assert rules(fr.tracker.check(fr.tracker.read(dup))) == ["duplicate-saving-id"]
    bad = tracker(["greenish", "green"], forecast=["£5m", ""])
    found = fr.tracker.check(fr.tracker.read(bad))
    assert rules(found) == ["unreadable-cell"] * 3
    assert 'row 2 ("S-0"), column rag: "greenish" is not one of delivered, green, amber, red' in found.findings["message"]
    assert 'row 3 ("S-1"), column forecast_delivery: "" is blank; every saving needs it' in found.findings["message"]


def test_an_improvement_needs_a_reason() -> None:
    april = fr.tracker.read(tracker(["red", "amber", "green"], counted=["no", "yes", "yes"]))
    may = fr.tracker.read(tracker(["amber", "green", "amber"], explanations=["", "contract signed", ""]))
    report = fr.tracker.check(may, april)
    # S-0 improved with no reason (a warning), S-1 improved with one, S-2 got worse (no rule).
    assert rules(report) == ["rag-improved-unexplained"] and report.findings["line_id"].to_list() == ["S-0"]
    assert report.exit_code() == 0 and report.exit_code(strict=True) == 1


def test_the_programme_at_a_month_and_its_movement() -> None:
    april = fr.tracker.read(tracker(["red", "amber", "green"], counted=["yes", "yes", "yes"]))
    may = fr.tracker.read(tracker(["amber", "amber", "green"], explanations=["plan agreed", "", ""]))
    before, after = fr.SavingsProgramme.from_tracker(april), fr.SavingsProgramme.from_tracker(may)
    assert [s["rag"] for s in after.savings] == ["amber", "amber", "green"]
    moved = after.movement(before)
    row = moved.row(0, named=True)
    # Default models: red expects (1 - 0.4)(0.25 + 0.75 * 0.25) = 0.2625 in the due year,
    # amber (1 - 0.2)(0.6 + 0.4 * 0.5) = 0.64: £1m moves by £377,500.
    assert (row["id"], row["status"], row["rag_before"], row["rag_after"]) == ("S-0", "moved", "red", "amber")
    assert row["change"] == pytest.approx(1e6 * (0.64 - 0.2625))
    assert row["explanation"] == "plan agreed" and row["forecast_after"] == 500000.0
    assert set(moved.filter(pl.col("status") == "unchanged")["id"]) == {"S-1", "S-2"}
    # Dropped from the budget: the saving leaves the programme.
    june = fr.tracker.read(tracker(["amber", "amber", "red"], counted=["yes", "yes", "no"]))
    gone = fr.SavingsProgramme.from_tracker(june).movement(after).filter(pl.col("id") == "S-2").row(0, named=True)
    # Green expected (1 - 0.05)(0.9 + 0.1 * 0.75) in its due year: all of it leaves.
    assert gone["status"] == "removed" and gone["change"] == pytest.approx(-1e6 * (1 - 0.05) * (0.9 + 0.1 * 0.75))
    with pytest.raises(fr.ValidationError, match="greenish"):
        fr.SavingsProgramme.from_tracker(fr.tracker.read(tracker(["greenish"])))


def test_the_command_line_checks_a_tracker(tmp_path: Path) -> None:
    now, then = tmp_path / "may.csv", tmp_path / "april.csv"
    tracker(["red", "green"]).write_csv(now)
    tracker(["red", "amber"], counted=["no", "yes"]).write_csv(then)
    run = lambda *a: subprocess.run([sys.executable, "-m", "fiscalrisk", "check", *a], capture_output=True, text=True, timeout=120)  # noqa: E731
    r = run(str(now), "--savings", "--previous", str(then))
    assert r.returncode == 1 and "error[red-counted-in-budget]" in r.stdout and "warning[rag-improved-unexplained]" in r.stdout
    junit = run(str(now), "--savings", "--format", "junit").stdout
    assert junit.count("<testcase") == len(fr.tracker.RULES) == 5
    pl.DataFrame({"id": ["S-1"]}).write_csv(tmp_path / "bad.csv")
    r = run(str(tmp_path / "bad.csv"), "--savings")
    assert r.returncode == 2 and "missing" in r.stderr and "rag" in r.stderr
