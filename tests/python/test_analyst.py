"""The analyst's experience: figures with the expected artists for a known result, progress
bars and interruption of plan runs, HTML summaries."""

from __future__ import annotations

import os
import signal
import threading
import time

import matplotlib.collections as mcoll
import polars as pl
import pytest
from matplotlib.figure import Figure

import fiscalrisk as fr


@pytest.fixture(scope="module")
def result() -> fr.PlanResult:
    return fr.examples.birmingham_2019().simulate(trials=20_000, seed=3, progress=False)


def test_reserves_fan_sets_each_balance_against_its_own_threshold(result: fr.PlanResult) -> None:
    fig = fr.plot.reserves_fan(result)
    assert isinstance(fig, Figure)
    usable, general = fig.axes
    y = result.by_year()
    # Usable reserves: bands, median, and exhaustion (zero), never the general fund's minimum.
    assert "Usable reserves" in usable.get_title() and "exhaustion" in usable.get_title()
    bands = [c for c in usable.collections if isinstance(c, mcoll.FillBetweenPolyCollection)]
    assert len(bands) == 2
    # The outer band spans P5 to P95 of each year.
    outer = bands[0].get_paths()[0].vertices[:, 1]
    assert min(outer) == pytest.approx(min(y["reserves_p5"])) and max(outer) == pytest.approx(max(y["reserves_p95"]))
    lines = {ln.get_label(): ln for ln in usable.get_lines()}
    assert list(lines["median"].get_ydata()) == y["reserves_p50"].to_list()
    assert "policy minimum (general fund)" not in lines
    assert [t.get_text() for t in usable.texts] == [f"exhausted by now\n{p:.1%}" for p in y["p_exhausted"]]
    # The general fund: its own median against its minimum.
    assert "General fund" in general.get_title() and "minimum" in general.get_title()
    lines = {ln.get_label(): ln for ln in general.get_lines()}
    assert list(lines["median"].get_ydata()) == y["general_fund_p50"].to_list()
    assert list(lines["policy minimum (general fund)"].get_ydata()) == y["minimum"].to_list()
    assert [t.get_text() for t in general.texts] == [f"P(below minimum)\n{p:.1%}" for p in y["p_below_minimum"]]
    assert [t.get_text() for t in usable.get_xticklabels()] == y["year"].to_list()
    assert usable.yaxis.get_major_formatter()(50e6, 0) == "£50.0m"


def test_gap_exceedance_curves(result: fr.PlanResult) -> None:
    fig = fr.plot.gap_exceedance(result)
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == result.by_year()["year"].to_list()
    one = fr.plot.gap_exceedance(result, year="2020/21").axes[0].get_lines()[0]
    # P(gap > P90 of the gap) is 10%.
    p90 = result.by_year().filter(pl.col("year") == "2020/21")["gap_p90"][0]
    xs, ys = list(one.get_xdata()), list(one.get_ydata())
    assert ys[xs.index(p90)] == pytest.approx(0.10)
    with pytest.raises(fr.ValidationError, match="2031/32"):
        fr.plot.gap_exceedance(result, year="2031/32")


def test_drivers_tornado_ranks_the_drivers(result: fr.PlanResult) -> None:
    ax = fr.plot.drivers_tornado(result, top=5).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    top = result.drivers().head(5)
    # Savings and risks by their names, the id beside them; pressures by name (their id).
    expected = [f"{k}: {n}" if n == i else f"{k}: {n} ({i})" for k, i, n in zip(top["kind"], top["id"], top["name"])]
    # Long labels wrap onto two lines and are shortened beyond 80 characters (with "…").
    import textwrap

    expected = ["\n".join(textwrap.wrap(textwrap.shorten(e, 80, placeholder="…"), 42)) for e in expected]
    assert labels == expected[::-1]
    names = {r["id"]: r["name"] for r in result.scenario.to_dict()["risks"]}
    names.update({s["id"]: s["name"] for s in result.scenario.to_dict()["savings"]})
    for row in result.drivers().iter_rows(named=True):
        assert row["name"] == names.get(row["id"], row["id"])
    assert len(ax.patches) == 10


def test_savings_delivery_and_monitoring_track() -> None:
    savings = fr.examples.birmingham_2019().to_dict()["savings"]
    ax = fr.plot.savings_delivery(fr.SavingsProgramme(savings), trials=2_000).axes[0]
    rags = {s["rag"] for s in savings}
    assert {t.get_text().split(":")[0] for t in ax.get_legend().get_texts()} == rags
    # Savings still to be identified are a group of their own, and each year carries the whole
    # programme's P90 shortfall, as the programme view gives it.
    programme = fr.SavingsProgramme(savings, unidentified={"2020/21": 20e6},
                                    delivery={"programme_correlation": 0.3})
    ax = fr.plot.savings_delivery(programme, trials=2_000, seed=3).axes[0]
    assert "unidentified" in {t.get_text().split(":")[0] for t in ax.get_legend().get_texts()}
    p90 = programme.view(trials=2_000, seed=3)["shortfall_p90"].to_list()
    assert [t.get_text() for t in ax.texts] == [f"P90 shortfall\n{fr.plot.millions(v)}" for v in p90]
    history = fr.datasets.monitoring_history()
    cal = fr.monitoring.calibrate(history)
    ax = fr.plot.monitoring_track(history, "2016/17", cal).axes[0]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["forecast outturn", "budget", "actual outturn"]
    band = [c for c in ax.collections if isinstance(c, mcoll.FillBetweenPolyCollection)][0]
    lo, mid, hi = cal.interval(7, *[float(v) for v in history.filter((pl.col("year") == "2016/17") & (pl.col("month") == "7")).select("budget", "forecast_outturn").row(0)])
    ys = band.get_paths()[0].vertices[:, 1]
    assert lo == pytest.approx(min(v for v in ys if abs(v - lo) < 1), rel=1e-12) and any(abs(v - hi) < 1 for v in ys)
    with pytest.raises(fr.ValidationError, match="1999/00"):
        fr.plot.monitoring_track(history, "1999/00")


def test_plan_progress_callback_and_quiet_short_runs(capsys: pytest.CaptureFixture[str]) -> None:
    s = fr.examples.birmingham_2019()
    seen: list[tuple[int, int]] = []
    a = s.simulate(trials=50_000, seed=1, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and all(x[0] < y[0] for x, y in zip(seen, seen[1:]))
    b = s.simulate(trials=50_000, seed=1)  # the default bar: a short run shows nothing
    assert a.by_year().equals(b.by_year())
    assert capsys.readouterr().err == ""
    with pytest.raises(fr.ValidationError, match="progress"):
        s.simulate(trials=10, progress="yes")  # type: ignore[arg-type]


def test_a_long_plan_run_shows_a_bar(capsys: pytest.CaptureFixture[str]) -> None:
    fr.examples.birmingham_2019().simulate(trials=3_000_000, seed=1)
    assert "batch" in capsys.readouterr().err


def test_ctrl_c_stops_a_plan_run_promptly_with_no_thread_left() -> None:
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        fr.examples.birmingham_2019().simulate(trials=500_000_000, seed=1, progress=False)
    assert time.perf_counter() - start < 10
    timer.join()
    assert threading.active_count() == 1


def test_repr_html_everywhere(result: fr.PlanResult) -> None:
    assert "P(usable reserves exhausted" in result._repr_html_()
    assert "statutory test fails: in year or next budget" in result._repr_html_()
    assert "Scenario" in result.scenario._repr_html_()
    assert "<table" in fr.datasets.example_register()._repr_html_()
