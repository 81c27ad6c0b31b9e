"""The ``fiscalrisk`` command line.

``fiscalrisk demo`` simulates the reference scenario and prints the by-year table and drivers;
``fiscalrisk simulate SCENARIO.toml`` does the same for a scenario file;
``fiscalrisk report SCENARIO.toml -o report.html`` writes the committee report.
``fiscalrisk check MONTH.csv`` checks a monthly monitoring table before it goes to Cabinet
(``--savings``: a savings tracker).
``fiscalrisk init [--plan|--register|--monitoring] FILE`` writes a commented template;
``fiscalrisk schema`` prints the JSON Schema of the scenario file.
Exit codes: 0 success (a clean check), 1 a check rule failed, 2 invalid or unreadable input
(the message names the field) or a missing optional package (the message names it), 3 an internal error
(a bug: please report it), 130 interrupted, 141 the output's reader closed it (``| head``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TYPE_CHECKING, Optional, Sequence

import polars as pl

from ._convert import read_text
from ._io import atomic_write, check_output
from .exceptions import FiscalRiskError, ValidationError
from .risk import RiskRegister
from .simulation import simulate

if TYPE_CHECKING:
    from .plan import PlanResult, Scenario


def _print_plan(result: "PlanResult") -> None:
    from ._present import percent
    from ._present import text_table as present

    if True:  # noqa: SIM108 - one block, as the register's demo below
        print(f"{result.scenario.name}: {result.trials:,} trials, seed {result.seed}. Amounts in £m.")
        table = result.by_year()
        print("\nThe gap, and the statutory test in each year (not cumulative): in year, usable reserves end")
        print("the year below the statutory floor (s114(3), 1988 Act); budget, the next budget cannot be")
        print("balanced from reserves above it (s31A, 1992 Act); either, the statutory test fails:")
        print(present(table.select("year", "gap_mean", "gap_p90", "p_s114", "p_s114_in_year", "p_s114_budget")))
        print("\nUsable reserves (general fund and uncommitted usable earmarked), against exhaustion (zero):")
        print(present(table.select("year", "reserves_p5", "reserves_p50", "p_exhausted")))
        print("\nThe general fund, against its policy minimum:")
        print(present(table.select("year", "general_fund_p5", "general_fund_p50", "minimum", "p_below_minimum")))
        print(f"\nProbability usable reserves are exhausted by the end of the plan: {percent(result.p_exhausted)}")
        title = ("What drives exhaustion (mean over the plan, and in the trials that exhaust reserves, £m):"
                 if result.p_exhausted > 0 else "What drives the gap beyond the budget (mean over the plan, £m):")
        print(f"\n{title}")
        columns = ["kind", "id", "name", "mean", *(["exhausted_mean"] if result.p_exhausted > 0 else [])]
        print(present(result.drivers().head(10).select(columns)))


TABLES = (".parquet", ".csv", ".json")
OUTPUTS = TABLES + (".xlsx",)
#: Packages a command may need, and the extra that installs each (a missing one is exit 2).
OPTIONAL = {"matplotlib": "plot", "xlsxwriter": "excel"}


def _write_atomically(path: Path, frame: pl.DataFrame, inputs: Sequence[Path]) -> None:
    """Writes a table atomically (see :mod:`fiscalrisk._io`); refuses to write over an input."""
    check_output(path, inputs, TABLES)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        atomic_write(path, frame.write_parquet)
    elif suffix == ".csv":
        atomic_write(path, frame.write_csv)
    else:
        atomic_write(path, frame.write_json)


def _simulate(args: argparse.Namespace) -> int:
    if args.out:
        check_output(Path(args.out), [Path(args.scenario)], OUTPUTS)
    scenario = _scenario(args.scenario)
    result = scenario.simulate(trials=args.trials, seed=args.seed)
    _print_plan(result)
    if args.out and Path(args.out).suffix.lower() == ".xlsx":
        from . import excel

        excel.write(result, Path(args.out), inputs=[Path(args.scenario)])
        print(f"\nworkbook written to {args.out} (by year, reserves, drivers, policy checks, inputs, audit)")
    elif args.out:
        _write_atomically(Path(args.out), result.by_year(), [Path(args.scenario)])
        print(f"\nby-year table written to {args.out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from . import report

    out = Path(args.output)
    check_output(out, [Path(args.scenario)], (".html", ".htm"), option="--output")
    scenario = _scenario(args.scenario)
    result = scenario.simulate(trials=args.trials, seed=args.seed, progress=not args.quiet)
    report.write(result, out, inputs=[Path(args.scenario)])
    print(f"report written to {out} (P(usable reserves exhausted by the end) {result.p_exhausted:.1%})")
    return 0


def _demo(args: argparse.Namespace) -> int:
    if not args.register:
        from .examples import birmingham_2019

        _print_plan(birmingham_2019().simulate(trials=args.trials, seed=args.seed))
        return 0
    register = RiskRegister.from_toml(args.register)
    result = simulate(register, trials=args.trials, seed=args.seed)
    from ._present import text_table as present

    if True:
        print(f"fiscalrisk demo: {len(register)} risks, {result.periods[0]} to {result.periods[-2]}, "
              f"{result.trials:,} trials, seed {result.seed}. Cost of risks, £m:")
        summary = result.summary().select(["period", "mean", "p50", "p90", "p95", "p99", "es95"])
        print(present(summary, labels={"mean": ("Mean (£m)", "m")}))
        print("\nWhich risks drive the tail (mean cost over the plan, £m; tail = worst 5% of trials):")
        contrib = result.contributions().sort("tail_mean", descending=True).select("risk_id", "mean", "tail_mean")
        print(present(contrib))
    return 0


def _scenario(path: str) -> "Scenario":
    """A scenario file: JSON when it ends in .json, TOML otherwise."""
    from .plan import Scenario

    if Path(path).suffix.lower() == ".json":
        return Scenario.from_json(Path(path))
    return Scenario.from_toml(Path(path))


def _check(args: argparse.Namespace) -> int:
    from . import monitoring

    if args.savings:
        from . import tracker

        current = tracker.read(args.table)
        before = tracker.read(args.previous) if args.previous else None
        report = tracker.check(current, before, source=Path(args.table).name)
        print(report.to_json(args.strict) if args.format == "json" else
              report.to_junit(args.strict) if args.format == "junit" else report.to_text(args.strict))
        return report.exit_code(args.strict)

    data = monitoring.read(args.table)
    previous = monitoring.read(args.previous) if args.previous else None
    rules = read_text(args.rules) if args.rules else None
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


TEMPLATES = {"plan": "plan.toml", "register": "register.toml", "monitoring": "monitoring.csv"}


def _init(args: argparse.Namespace) -> int:
    """Writes a commented template (never over an existing file)."""
    from importlib.resources import files

    kind = "register" if args.register else "monitoring" if args.monitoring else "plan"
    template = files("fiscalrisk").joinpath("data", "templates", TEMPLATES[kind])
    out = Path(args.file)
    suffix = Path(TEMPLATES[kind]).suffix
    if out.suffix.lower() != suffix:
        raise ValidationError(f"FILE: a {kind} template is {suffix}; {out.name!r} is not")
    if out.exists() or out.is_symlink():
        raise ValidationError(f"FILE: {out} already exists; fiscalrisk init never overwrites a file")
    check_output(out, [], (suffix,), option="FILE")
    text = template.read_text(encoding="utf-8")
    atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(f"{kind} template written to {out}")
    if kind == "monitoring":
        print(files("fiscalrisk").joinpath("data", "templates", "monitoring_columns.txt").read_text(encoding="utf-8"))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from . import schema

    print(schema.to_json(schema.register_schema() if args.register else schema.scenario_schema()))
    return 0


def _whole(low: int, high: int) -> Any:
    """An argparse type: a whole number in [low, high], or an error naming the flag (exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


TRIALS = _whole(1, 1_000_000_000)
SEED = _whole(0, 2**64 - 1)


def _input_error(args: argparse.Namespace, message: str) -> int:
    """Exit 2 with one line on stderr; with ``--format json``, the same as JSON on stdout, so a
    pipeline that parses the output always gets JSON."""
    print(f"fiscalrisk: {message}", file=sys.stderr)
    if getattr(args, "format", None) == "json":
        import json

        print(json.dumps({"error": message, "exit_code": 2}))
    return 2


_DESCRIPTION = "How likely a council is to run out of money, and why: simulate a financial plan, report it, check a month's monitoring table."
_EXIT_CODES = ("exit codes: 0 success (a clean check), 1 a check rule failed, 2 invalid or unreadable input or a missing "
               "optional package, 3 an internal error, 130 interrupted, 141 the output's reader closed it")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown where they say something: not "(default: None)" or "(default: False)"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action) or ""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    formatter = _Help
    parser = argparse.ArgumentParser(prog="fiscalrisk", description=_DESCRIPTION, epilog=_EXIT_CODES,
                                     formatter_class=formatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"fiscalrisk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", formatter_class=formatter, help="simulate the reference scenario (Birmingham 2019/20-2022/23, illustrative)",
                               description="Simulate the reference scenario (Birmingham 2019/20-2022/23, illustrative).")
    demo.add_argument("--register", help="simulate this risk register TOML file instead")
    demo.add_argument("--trials", type=TRIALS, default=200_000, help="trials to simulate (1 to 10^9)")
    demo.add_argument("--seed", type=SEED, default=42, help="seed of the random streams; the same seed gives the same numbers")
    demo.set_defaults(func=_demo)
    simulate = sub.add_parser("simulate", formatter_class=formatter, help="simulate a scenario file and print the by-year table",
                               description="Simulate a scenario file and print the by-year table.")
    simulate.add_argument("scenario", help="a scenario file: TOML, or JSON (.json)")
    simulate.add_argument("--trials", type=TRIALS, default=100_000, help="trials to simulate (1 to 10^9)")
    simulate.add_argument("--seed", type=SEED, default=42, help="seed of the random streams; the same seed gives the same numbers")
    simulate.add_argument("--out", help="also write the results: an Excel workbook (.xlsx: every table, the inputs and an audit sheet), or the by-year table as .parquet, .csv or .json; written atomically")
    simulate.set_defaults(func=_simulate)
    rep = sub.add_parser("report", formatter_class=formatter, help="simulate a scenario file and write the committee report (HTML)",
                               description="Simulate a scenario file and write the committee report (HTML).")
    rep.add_argument("scenario", help="a scenario file: TOML, or JSON (.json)")
    rep.add_argument("-o", "--output", required=True, help="the report: an .html file (written atomically)")
    rep.add_argument("--trials", type=TRIALS, default=100_000, help="trials to simulate (1 to 10^9)")
    rep.add_argument("--seed", type=SEED, default=42, help="seed of the random streams; the same seed gives the same numbers")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.set_defaults(func=_report)
    check = sub.add_parser("check", formatter_class=formatter, help="check a monthly monitoring table (exit 0 clean, 1 a rule failed, 2 unreadable)",
                               description="Check a monthly monitoring table (exit 0 clean, 1 a rule failed, 2 unreadable).")
    check.add_argument("table", help="the month's monitoring table: CSV, .xlsx or .parquet")
    check.add_argument("--month", type=int, help="the month reported, 1 (April) to 12; default: the last with actuals")
    check.add_argument("--previous", help="last month's table, for the movement rule")
    check.add_argument("--rules", help="a TOML file of thresholds (movement_without_explanation, one_off_share)")
    check.add_argument("--history", help="past years' monthly forecasts and outturns, for the calibrated band rule")
    check.add_argument("--format", choices=["text", "json", "junit"], default="text",
                       help="text for people, json or junit for CI systems")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--savings", action="store_true",
                       help="the table is a savings tracker (id, year, value, rag, forecast_delivery, counted_in_budget)")
    check.set_defaults(func=_check)
    init = sub.add_parser("init", formatter_class=formatter,
                          help="write a commented template: every key with its unit, sign and default",
                          description="Write a commented template: every key with its unit, sign and default.")
    kinds = init.add_mutually_exclusive_group()
    kinds.add_argument("--plan", action="store_true", help="a scenario file (.toml; the default)")
    kinds.add_argument("--register", action="store_true", help="a risk register (.toml)")
    kinds.add_argument("--monitoring", action="store_true", help="a monthly monitoring table (.csv)")
    init.add_argument("file", metavar="FILE", help="the file to write (never overwritten)")
    init.set_defaults(func=_init)
    schema = sub.add_parser("schema", formatter_class=formatter,
                            help="print the JSON Schema of the scenario file, for editors to validate and complete it",
                            description="Print the JSON Schema of the scenario file, for editors to validate and complete it.")
    schema.add_argument("--register", action="store_true", help="the register file's schema instead")
    schema.set_defaults(func=_schema)
    args = parser.parse_args(argv)
    try:
        import warnings

        from .exceptions import FiscalRiskWarning

        def say(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
            # A warning about the user's input reads as the command line's own line, naming the
            # file it came from; others as Python writes them.
            if issubclass(category, FiscalRiskWarning):
                source = getattr(args, "scenario", None) or getattr(args, "table", None)
                where = f"{source}: " if source else ""
                print(f"fiscalrisk: warning: {where}{message}", file=sys.stderr)
            else:
                print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")

        with warnings.catch_warnings():
            warnings.showwarning = say
            code: int = args.func(args)
        sys.stdout.flush()  # a reader that went away shows here, inside the handlers below
        return code
    except BrokenPipeError:  # the reader went away (`fiscalrisk schema | head`): stop quietly.
        # Before OSError, of which it is one: exit 141, as a shell reports SIGPIPE.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ValidationError as e:
        return _input_error(args, f"invalid input: {e}")
    except FileNotFoundError as e:
        return _input_error(args, str(e) if str(e).endswith("no such file") else f"{e.filename}: no such file")
    except (FiscalRiskError, OSError) as e:
        return _input_error(args, str(e))
    except KeyboardInterrupt:
        # A second Ctrl-C while this is said would raise inside the handler (two tracebacks):
        # from here on it is ignored, and the exit is 130 all the same.
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("fiscalrisk: interrupted", file=sys.stderr)
        return 130

    except BaseException as e:  # never let a bug look like a failed check (exit 1); a Rust
        # panic arrives as pyo3's PanicException, a BaseException
        if isinstance(e, SystemExit):
            raise
        top = (getattr(e, "name", None) or "").split(".")[0]
        if isinstance(e, ModuleNotFoundError) and top in OPTIONAL:  # e.g. from inside polars
            from .exceptions import MissingDependency

            return _input_error(args, str(MissingDependency(top, OPTIONAL[top])))
        import traceback

        traceback.print_exc()
        print(f"fiscalrisk: internal error (please report it): {e!r}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
