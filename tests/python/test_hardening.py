"""Hardening: hostile inputs refused with a ValidationError naming the field, panics that
become Python exceptions, runs killed or interrupted half-way that leave the previous output
intact, and the monitoring reader and ``check`` command under hypothesis.

The documented long run of the hypothesis test is ``FISCALRISK_FUZZ_EXAMPLES=20000 pytest
tests/python/test_hardening.py -k hypothesis`` (CI runs a fixed 150)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fiscalrisk as fr
from fiscalrisk import _fiscalrisk as native
from fiscalrisk.__main__ import main
from fiscalrisk._io import atomic_write

SCENARIO = Path(fr.examples.birmingham_2019_path())
EXAMPLE_M8 = Path(fr.datasets.monitoring_example_path(8)).read_text(encoding="utf-8")


def test_a_panic_becomes_a_python_exception_and_the_interpreter_lives_on() -> None:
    for on_worker in (False, True):
        with pytest.raises(BaseException) as e:
            native._panic_for_tests(on_worker)
        assert type(e.value).__name__ == "PanicException"
        assert "test panic" in str(e.value)
    assert fr.examples.birmingham_2019().simulate(trials=100, progress=False).trials == 100


def test_the_command_line_reports_an_escaped_panic_as_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_: object) -> int:
        native._panic_for_tests(False)
        return 0

    monkeypatch.setattr("fiscalrisk.__main__._simulate", boom)  # main() builds its parser anew
    assert main(["simulate", str(SCENARIO)]) == 3


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(100 * 2**20)  # 100 MB (sparse: nothing needs writing)
    for load in (fr.Scenario.from_toml, fr.Scenario.from_json, fr.RiskRegister.from_toml, fr.monitoring.read):
        with pytest.raises(fr.ValidationError, match="bytes is more than the 67108864"):
            load(str(big))
    big_csv = tmp_path / "big.csv"
    os.replace(big, big_csv)
    assert main(["check", str(big_csv)]) == 2


def test_a_register_of_a_million_risks_is_refused_quickly() -> None:
    start = time.perf_counter()
    risk = {"id": "r", "name": "r", "probability": 0.1, "impact": {"dist": "fixed", "value": 1.0}}
    with pytest.raises(fr.ValidationError, match="risks: 1000000 risks is more than the 10000"):
        fr.RiskRegister([risk] * 1_000_000)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: fr.Scenario.from_json_str('{"plan": ' + "[" * 100_000 + "]" * 100_000 + "}"), "nested too deeply"),
        (lambda: fr.Scenario.from_json_str("[1, 2]"), "not an object"),
        (lambda: fr.examples.birmingham_2019().simulate(trials=10**12), "trials: 1000000000000"),
        (lambda: fr.examples.birmingham_2019().simulate(trials=-5), "trials: -5"),
        (lambda: fr.Scenario.from_dict({"plan": {"name": "a", "first_year": "2019/20", "years": 1, "net_budget": ["1e40"]}}),
         "plan.net_budget[0]"),
    ],
)
def test_hostile_values_name_the_field(make: object, message: str) -> None:
    with pytest.raises(fr.ValidationError) as e:
        make()  # type: ignore[operator]
    assert message in str(e.value)


def test_a_write_that_fails_half_way_leaves_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "by_year.csv"
    out.write_text("previous\n", encoding="utf-8")

    def half(tmp: str) -> None:
        Path(tmp).write_text("half a tab", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(out, half)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["by_year.csv"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_run_killed_half_way_leaves_the_previous_output(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "by_year.csv"
    out.write_text("previous\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fiscalrisk", "simulate", str(SCENARIO), "--trials", "300000000", "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(2.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in err
    else:
        assert proc.returncode == -sig
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["by_year.csv"]
    assert SCENARIO.read_text(encoding="utf-8").startswith("# Reference scenario")


# A monitoring table: the bundled month 8, its cells replaced by hostile text.
CELLS = st.one_of(
    st.sampled_from(["", "-", "0", "-1", "1e308", "(1,234.56)", "£1,234.567", "abc", "NaN", "inf", "TOTAL",
                     "99999999999999999999999999999", '"', "one-off", "recurring", "true"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


@st.composite
def tables(draw: st.DrawFn) -> str:
    rows = [line.split(",") for line in EXAMPLE_M8.splitlines()]
    for _ in range(draw(st.integers(1, 6))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[r]) - 1))
        rows[r][c] = draw(CELLS).replace(",", ";").replace("\n", " ").replace("\r", " ")
    if draw(st.booleans()):
        del rows[draw(st.integers(0, len(rows) - 1))]
    return "\n".join(",".join(r) for r in rows)


EXAMPLES = int(os.environ.get("FISCALRISK_FUZZ_EXAMPLES", "150"))


@settings(max_examples=EXAMPLES, deadline=1000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=tables(), fmt=st.sampled_from(["json", "junit", "text"]), month=st.one_of(st.none(), st.integers(-1, 14)))
def test_hypothesis_check_command_on_hostile_tables(tmp_path: Path, text: str, fmt: str, month: int | None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "month.csv"
    path.write_text(text, encoding="utf-8")
    args = ["check", str(path), "--format", fmt] + ([] if month is None else ["--month", str(month)])
    code = main(args)
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err  # never 3 (a bug)
    if code == 2:
        assert err.startswith("fiscalrisk: ") and ": " in err[len("fiscalrisk: "):]
    elif fmt == "json":
        report = json.loads(out)
        assert report["exit_code"] == code
    # The same table through the Python API: a ValidationError or a report, nothing else.
    try:
        fr.monitoring.check(fr.monitoring.read(path), month=month)
    except fr.ValidationError as e:
        assert str(e)


@pytest.mark.parametrize("month", ["-1", "0", "13"])
def test_regression_check_month_out_of_range_exits_2_not_3(month: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # Found by the hypothesis test above: --month -1 overflowed the core's unsigned month and
    # the command exited 3 (an internal error) instead of 2 (invalid input).
    path = tmp_path / "m08.csv"
    path.write_text(EXAMPLE_M8, encoding="utf-8")
    assert main(["check", str(path), "--month", month]) == 2
    assert f"month: {month} is not between 1 and 12" in capsys.readouterr().err


def test_a_caught_panic_says_so_in_one_line_without_a_backtrace() -> None:
    # Issue 38, item 18: the default hook printed a Rust backtrace (with RUST_BACKTRACE set).
    import subprocess
    import sys

    code = "import fiscalrisk._fiscalrisk as n\ntry:\n    n._panic_for_tests(False)\nexcept BaseException:\n    pass\n"
    env = {**os.environ, "RUST_BACKTRACE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fiscalrisk: internal error (a Rust panic at src/"), done.stderr
    assert "stack backtrace" not in done.stderr
