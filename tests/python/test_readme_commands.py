"""Every command the README shows runs as written (issue 37).

The README's commands are extracted from its ``bash`` blocks and its inline code. A command
with concrete arguments is run, from a fresh directory holding the repository's ``python/``
folder, with ``fiscalrisk`` meaning this interpreter's ``python -m fiscalrisk``; a usage line
(``fiscalrisk check MONTH.csv [--month K] ...``) has each of its subcommands and options checked
against the command's own ``--help``. The few commands that build or run everything
(``bash scripts/test.sh`` is CI itself; ``bash scripts/demo.sh`` is a step of it; the benchmarks
and ``run_notebooks.py`` are steps of it too) are listed here by name, so a new README command
that none of these covers fails the test.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: Commands run by ``scripts/test.sh`` itself (CI), not from here: the file each names must exist.
RUN_BY_CI = {
    "bash scripts/demo.sh": "scripts/demo.sh",
    "bash scripts/test.sh": "scripts/test.sh",
    "python scripts/run_notebooks.py --write": "scripts/run_notebooks.py",
    "python benches/bench_register.py": "benches/bench_register.py",
    "python benches/bench_plan.py": "benches/bench_plan.py",
    "python benches/bench_scale.py": "benches/bench_scale.py",
    "python benches/bench_stress.py": "benches/bench_stress.py",
    "source .venv/bin/activate": "scripts/env.sh",  # env.sh makes .venv; the demo prints this line
}

#: A placeholder a person replaces: SCENARIO.toml, MONTH.csv, FILE, N, K.
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*(\.[a-z]+)?$")


def sequences() -> list[list[str]]:
    """The README's commands: each ``bash`` block's lines in order (one sequence: a later line
    may read what an earlier one wrote), then each inline command alone."""
    found: list[list[str]] = []
    for block in re.finditer(r"```bash\n(.*?)```", README, re.S):
        lines = [line.split("  #")[0].strip() for line in block.group(1).replace("\\\n", " ").splitlines()]
        found.append([" ".join(line.split()) for line in lines if line])
    for span in re.finditer(r"`([^`\n]+(?:\n[^`\n]+)?)`", README):
        text = " ".join(span.group(1).split())
        if text.startswith(("fiscalrisk ", "bash ", "python ", "source ")):
            found.append([text])
    return found


def commands() -> list[str]:
    return list(dict.fromkeys(c for sequence in sequences() for c in sequence))


def is_usage(command: str) -> bool:
    return "[" in command or any(PLACEHOLDER.match(t) for t in command.split())


def test_the_readme_has_the_commands_this_test_expects() -> None:
    found = commands()
    assert "fiscalrisk --version" in found and "bash scripts/demo.sh" in found
    for command in found:
        runnable = command.startswith("fiscalrisk ")
        assert runnable or command in RUN_BY_CI, f"a README command nothing runs: {command!r}"
    for path in RUN_BY_CI.values():
        assert (ROOT / path).exists(), path
    assert "bash scripts/demo.sh" in (ROOT / "scripts" / "test.sh").read_text(), "CI runs the demo as written"


def runnable(sequence: list[str]) -> list[str]:
    return [c for c in sequence if c.startswith("fiscalrisk ") and not is_usage(c)]


@pytest.mark.parametrize("sequence", [runnable(q) for q in sequences() if runnable(q)], ids=lambda q: q[0][:60])
def test_readme_commands_run_as_written(sequence: list[str], tmp_path: Path) -> None:
    (tmp_path / "python").symlink_to(ROOT / "python")
    for command in sequence:
        shell = command.replace("fiscalrisk ", f"{shlex.quote(sys.executable)} -m fiscalrisk ")
        done = subprocess.run(["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
        out = re.search(r"(?:>|-o|--out)\s+(\S+)", command) or re.search(r"init \S+ (\S+)$", command)
        if out:
            written = tmp_path / out.group(1)
            assert written.exists() and written.stat().st_size > 0, f"{command} wrote no {out.group(1)}"
        elif "|" not in command:
            assert done.stdout.strip(), f"{command} printed nothing"


@pytest.mark.parametrize("command", [c for c in commands() if c.startswith("fiscalrisk ") and is_usage(c)])
def test_a_readme_usage_line_matches_the_commands_help(command: str) -> None:
    words = command.split()
    sub = words[1]
    listed = subprocess.run([sys.executable, "-m", "fiscalrisk", "--help"], capture_output=True, text=True, timeout=60)
    assert sub in listed.stdout, f"{sub} is not a fiscalrisk command"
    helped = subprocess.run([sys.executable, "-m", "fiscalrisk", sub, "--help"], capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0, helped.stderr
    for option in re.findall(r"--[a-z][a-z-]*", command):
        assert option in helped.stdout, f"{command}: {option} is not an option of `fiscalrisk {sub}`"
