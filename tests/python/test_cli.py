"""The command line: the demo runs, and bad input gives exit code 2 and a message naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fiscalrisk as fr


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=120)


def test_demo_runs_the_reference_scenario() -> None:
    out = run("demo", "--trials", "5000", "--seed", "3")
    assert out.returncode == 0, out.stderr
    assert "5,000 trials, seed 3" in out.stdout
    for word in ("2019/20", "2022/23", "Usable reserves", "exhausted, by", "(cumulative)", "equal_pay",
                 "Mean when"):
        assert word in out.stdout
    # Issue 37: figures in finance language: probabilities as percentages, no raw fractions or
    # code identifiers, a negative balance called a deficit.
    import re

    assert not re.search(r"\b0\.0\d{2,}\b", out.stdout), out.stdout
    assert "p_s114" not in out.stdout and "gap_mean" not in out.stdout and "%" in out.stdout
    assert not re.search(r"\s-\d", out.stdout.split("What drives")[0]), "a negative balance not called a deficit"


def test_demo_of_a_register(tmp_path: Path) -> None:
    import fiscalrisk as fr

    out = run("demo", "--register", fr.datasets.example_register_path(), "--trials", "5000")
    assert out.returncode == 0, out.stderr
    for word in ("total", "equal_pay", "Mean in the", "worst 1 in 20"):
        assert word in out.stdout


def test_bad_register_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "register.toml"
    bad.write_text('first_year = "2019/20"\n[[risks]]\nid = "a"\nname = "A"\nprobability = 1.5\nimpact = { dist = "fixed", value = 1 }\n')
    out = run("demo", "--register", str(bad))
    assert out.returncode == 2
    assert "risks[0] (\"a\").probability: 1.5 is outside [0, 1] (line 5)" in out.stderr
    missing = run("demo", "--register", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml" in missing.stderr
    out = run("demo", "--trials", "0")
    assert out.returncode == 2 and "trials: 0" in out.stderr


def test_a_reader_that_goes_away_gives_exit_141_and_version_prints_the_version() -> None:
    # Issue 37: `fiscalrisk schema | head -1` printed "[Errno 32] Broken pipe" and exited 2
    # (OSError was caught before BrokenPipeError); there was no --version.
    import subprocess
    import sys

    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{sys.executable}' -m fiscalrisk schema | head -c 1 >/dev/null"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 141, (done.returncode, done.stderr)
    assert "Broken pipe" not in done.stderr
    version = subprocess.run([sys.executable, "-m", "fiscalrisk", "--version"], capture_output=True, text=True, timeout=60)
    import fiscalrisk

    assert version.returncode == 0 and version.stdout.strip() == f"fiscalrisk {fiscalrisk.__version__}"


def test_help_reads_as_help() -> None:
    # Issue 37: the top-level help said "The ``fiscalrisk`` command line."; subcommands had no
    # description; help was padded with "(default: None)" and "(default: False)"; --format had
    # no help.
    import subprocess
    import sys

    def help_of(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "fiscalrisk", *args, "--help"], capture_output=True, text=True,
                              timeout=60).stdout

    top = help_of()
    assert "``" not in top and "How likely a council is to run out of money" in top and "exit codes:" in top
    for command in ("demo", "simulate", "report", "check", "init", "schema"):
        text = help_of(command)
        assert "(default: None)" not in text and "(default: False)" not in text, command
        description = text.split("\n\n")[1]
        assert description[:1].isupper() and not description.startswith(("positional", "options")), (command, text)
    assert "text for people, json or junit for CI systems" in help_of("check")


def test_a_plan_result_takes_the_registers_period_keyword() -> None:
    # Issue 37: PlanResult.exceedance(..., period=...) raised TypeError.
    r = fr.examples.birmingham_2019().simulate(trials=2_000, seed=1, progress=False)
    assert r.exceedance(50e6, period="total") == r.exceedance(50e6)
    assert r.exceedance(50e6, period="2020/21") == r.exceedance(50e6, "2020/21")
    with pytest.raises(fr.ValidationError, match="give one of the two"):
        r.exceedance(50e6, "2020/21", period="2021/22")


def test_the_readmes_ci_check_command_runs_as_written(tmp_path: Path) -> None:
    # Issue 37: the README's check example named monitoring/2018-19-m08.csv, which does not exist.
    import re
    import shlex

    root = Path(__file__).resolve().parents[2]
    text = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(fiscalrisk check .*?--format junit) > check\.xml\n```", text, re.S)
    assert block is not None
    args = shlex.split(block.group(1).replace("\\\n", " "))[1:]
    done = subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=120,
                          cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<?xml")


def test_unit_warnings_name_the_file_line_and_the_users_code(tmp_path: Path) -> None:
    # Issue 37: net_budget = [500, 510, 520] warned as raw Python warnings pointing at plan.py:68
    # with no TOML line.
    import warnings

    path = tmp_path / "units.toml"
    path.write_text('[plan]\nname = "Units"\nfirst_year = "2019/20"\nyears = 3\nnet_budget = [500, 510, 520]\n'
                    "[reserves]\ngeneral_fund = 30e6\n")
    done = run("simulate", str(path), "--trials", "100")
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"fiscalrisk: warning: {path}: plan.net_budget[0]: 500 is under £100,000"), done.stderr
    assert first.endswith("(line 5)") and "plan.py" not in done.stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fr.Scenario.from_toml(path)
    assert caught and all(w.filename == __file__ for w in caught), [w.filename for w in caught]


def test_figures_are_presented_in_finance_language() -> None:
    from fiscalrisk._present import millions, percent, text_table

    assert [percent(p) for p in (0.0, 0.00001, 0.0692, 0.99999, 1.0)] == ["0.0%", "<0.1%", "6.9%", ">99.9%", "100.0%"]
    assert millions(-13_700_000, deficit=True) == "deficit 13.7" and millions(1_234_567_890) == "1,234.6"
    import polars as pl

    lines = text_table(pl.DataFrame({"name": ["a", "bb"], "p_exhausted": [0.1, 0.2]})).splitlines()
    assert lines[0].startswith("Name") and lines[-1].startswith("bb") and lines[-1].endswith("20.0%")
    # Issue 37: names were cut ("Highways PFI dispute: settlement and tr…"); they wrap whole.
    name = "Highways PFI dispute: settlement and transition costs"
    lines = text_table(pl.DataFrame({"name": [name, "b"], "p_exhausted": [0.1, 0.2]}), width=30).splitlines()
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("---")) + 1:]
    assert " ".join(line[:30].strip() for line in body[:-1]) == name and body[0].endswith("10.0%")
    assert body[-1].startswith("b ") and "…" not in "".join(lines)
