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
echo "fiscalrisk: installing the build tools (pip, maturin) into .venv"
python -m pip install -q --disable-pip-version-check -U pip "maturin>=1.16,<2"
extras="${FISCALRISK_EXTRAS:-}"
args=(develop --release -q)
if [ -n "$extras" ]; then
  args+=(--extras "$extras")
fi
# maturin's pip log (dozens of "Ignoring ...: markers" lines) goes to a file; a failure shows it.
echo "fiscalrisk: building the Rust core in release mode (the first build takes 3 to 7 minutes on 2 cores; later ones seconds); log in .venv/build.log"
if ! maturin "${args[@]}" >.venv/build.log 2>&1; then
  tail -n 40 .venv/build.log >&2
  echo "fiscalrisk: the build failed; the whole log is in .venv/build.log" >&2
  exit 1
fi
echo "fiscalrisk: built and installed in .venv"
