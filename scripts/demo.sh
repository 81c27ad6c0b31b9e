#!/usr/bin/env bash
# Build everything and run the main job: simulate the bundled example risk register.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
fiscalrisk demo "$@"
