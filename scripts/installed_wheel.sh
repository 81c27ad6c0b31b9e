#!/usr/bin/env bash
# The README's examples against an installed wheel, not the editable build: build the wheel (or
# take the one given), install it into a fresh virtual environment with only its declared
# dependencies (and pytest to run the examples), and run the README's snippets from a folder
# outside the source tree, so that nothing is imported from python/. Then the command line, as
# a user who installed it would run it: a report and an Excel workbook from the bundled scenario.
# Usage: bash scripts/installed_wheel.sh [WHEEL]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ $# -ge 1 ]; then
  wheel="$1"
else
  (cd "$root" && maturin build --release -q -o "$work/dist" >/dev/null)
  wheel="$(ls "$work"/dist/*.whl)"
fi
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" pytest
cp "$root/README.md" "$work/"
cd "$work"
"$work/venv/bin/python" -c "import fiscalrisk, sys; assert 'site-packages' in fiscalrisk.__file__, fiscalrisk.__file__; print('installed:', fiscalrisk.__file__)"
"$work/venv/bin/python" -m pytest -q -p no:cacheprovider --doctest-glob=README.md README.md
data="$("$work/venv/bin/python" -c "import fiscalrisk.examples as e; print(e.birmingham_2019_path())")"
"$work/venv/bin/fiscalrisk" report "$data" -o report.html --trials 5000 --quiet
"$work/venv/bin/fiscalrisk" simulate "$data" --trials 5000 --out results.xlsx >/dev/null
test -s report.html && test -s results.xlsx
echo "the installed wheel runs the README's examples, the report and Excel out"
