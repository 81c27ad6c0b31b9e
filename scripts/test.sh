#!/usr/bin/env bash
# Build everything and run every check: formatting, lints, Rust tests and doctests, the stub
# check, mypy, Python tests (with doctests and README snippets), and a quick benchmark smoke run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== minimum Rust version (Cargo.toml rust-version against the dependencies; clippy checks std use)"
python3 scripts/msrv.py
echo "== cargo fmt / clippy"
cargo fmt --all -- --check
cargo clippy --all-targets -q -- -D warnings
cargo clippy --all-targets --features python -q -- -D warnings
echo "== cargo test (pure Rust, no Python)"
cargo test -q 2>&1 | grep -Ev '^\s*$'
echo "== fuzz smoke run (the documented run is 10^6 cases: see examples/fuzz.rs)"
cargo run -q --release --example fuzz -- --cases 30000 --seed 1
echo "== build the Python package"
FISCALRISK_EXTRAS=test source scripts/env.sh
echo "== ruff, stub check and mypy"
ruff check python tests benches scripts
python -m mypy.stubtest fiscalrisk._fiscalrisk
mypy python/fiscalrisk
echo "== pytest"
python -m pytest -q python/fiscalrisk tests/python README.md
echo "== table fuzz smoke run: CSV, xlsx and parquet through read, check and forecast (the documented run: scripts/fuzz_tables.py --cases 1000000)"
python scripts/fuzz_tables.py --cases 300 --seed 1
echo "== the built wheel in a fresh virtual environment: the README's examples, report and Excel out"
bash scripts/installed_wheel.sh
echo "== notebooks (run, and checked against their stored outputs)"
python scripts/run_notebooks.py
echo "== the README's first command, as written (the build is already done: seconds)"
bash scripts/demo.sh
echo "== benchmark smoke run (numbers are not checked here)"
python benches/bench_register.py --trials 20000 --repeat 1 --rounds 1
python benches/bench_plan.py --trials 20000 --repeat 1 --rounds 1
python benches/bench_stress.py --trials 5000 --repeat 1
python benches/bench_scale.py --quick
