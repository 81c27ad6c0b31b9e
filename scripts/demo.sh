#!/usr/bin/env bash
# Build everything and run the main job: simulate the bundled example risk register.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
fiscalrisk demo "$@"
echo
echo "fiscalrisk is installed in .venv: run 'source .venv/bin/activate' to use the fiscalrisk command"
echo "(e.g. fiscalrisk report python/fiscalrisk/data/birmingham_2019.toml -o report.html) or import it."
