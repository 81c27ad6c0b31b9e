# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtualenv in .venv with maturin,
# the package built in release mode, and (with FISCALRISK_EXTRAS=test) the test dependencies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
python -m pip install -q --disable-pip-version-check -U pip "maturin>=1.16,<2"
extras="${FISCALRISK_EXTRAS:-}"
if [ -n "$extras" ]; then
  maturin develop --release -q --extras "$extras"
else
  maturin develop --release -q
fi
