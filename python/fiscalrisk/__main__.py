"""The ``fiscalrisk`` command line.

``fiscalrisk demo`` simulates the bundled example register and prints a summary table.
``fiscalrisk check MONTH.csv`` checks a monthly monitoring table before it goes to Cabinet.
Exit codes: 0 success (a clean check), 1 a check rule failed, 2 invalid or unreadable input
(the message names the field), 3 an internal error (a bug: please report it), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

import polars as pl

from .datasets import example_register
from .exceptions import FiscalRiskError, ValidationError
from .risk import RiskRegister
from .simulation import simulate


def _millions(df: pl.DataFrame, skip: Sequence[str]) -> pl.DataFrame:
    return df.with_columns([(pl.col(c) / 1e6).round(1) for c in df.columns if c not in skip])


def _demo(args: argparse.Namespace) -> int:
    register = RiskRegister.from_toml(args.register) if args.register else example_register()
    result = simulate(register, trials=args.trials, seed=args.seed)
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(f"fiscalrisk demo: {len(register)} risks, {result.periods[0]} to {result.periods[-2]}, "
              f"{result.trials:,} trials, seed {result.seed}. Cost of risks, £m:")
        summary = result.summary().select(["period", "mean", "p50", "p90", "p95", "p99", "es95", "se_mean"])
        print(_millions(summary, ["period"]))
        print("\nWhich risks drive the tail (mean cost over the plan, £m; tail = worst 5% of trials):")
        contrib = result.contributions().sort("tail_mean", descending=True).drop("se_mean")
        print(_millions(contrib, ["risk_id"]))
    return 0


def _check(args: argparse.Namespace) -> int:
    from . import monitoring

    data = monitoring.read(args.table)
    previous = monitoring.read(args.previous) if args.previous else None
    rules = Path(args.rules).read_text(encoding="utf-8") if args.rules else None
    calibration = monitoring.calibrate(args.history) if args.history else None
    report = monitoring.check(
        data, month=args.month, previous=previous, rules=rules, source=Path(args.table).name, calibration=calibration
    )
    if args.format == "json":
        print(report.to_json(args.strict))
    elif args.format == "junit":
        print(report.to_junit(args.strict))
    else:
        print(report.to_text(args.strict))
    return report.exit_code(args.strict)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="fiscalrisk", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="simulate the bundled example risk register and print a summary")
    demo.add_argument("--register", help="a risk register TOML file instead of the bundled example")
    demo.add_argument("--trials", type=int, default=200_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(func=_demo)
    check = sub.add_parser("check", help="check a monthly monitoring table (exit 0 clean, 1 a rule failed, 2 unreadable)")
    check.add_argument("table", help="the month's monitoring table: CSV, .xlsx or .parquet")
    check.add_argument("--month", type=int, help="the month reported, 1 (April) to 12; default: the last with actuals")
    check.add_argument("--previous", help="last month's table, for the movement rule")
    check.add_argument("--rules", help="a TOML file of thresholds (movement_without_explanation, one_off_share)")
    check.add_argument("--history", help="past years' monthly forecasts and outturns, for the calibrated band rule")
    check.add_argument("--format", choices=["text", "json", "junit"], default="text")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.set_defaults(func=_check)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ValidationError as e:
        print(f"fiscalrisk: invalid input: {e}", file=sys.stderr)
        return 2
    except (FiscalRiskError, OSError) as e:
        print(f"fiscalrisk: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fiscalrisk: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # never let a bug look like a failed check (exit 1)
        import traceback

        traceback.print_exc()
        print(f"fiscalrisk: internal error (please report it): {e!r}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
