"""A mutation fuzzer for the table readers the command line and notebooks meet: a month's
monitoring table as CSV, xlsx and parquet, through ``fiscalrisk.monitoring.read``, ``check`` and
``forecast`` (the Rust fuzzer, ``examples/fuzz.rs``, covers the core's text readers; the xlsx
and parquet decoders live on the Python side).

Each case mutates the month-8 example (hostile values in cells, stray cells far from the table,
rows and columns deleted or duplicated, control characters, huge text) and writes it in one of
the three formats. A case fails when it raises anything but a ``ValidationError`` (or
``MissingDependency``), or takes 5 s or more. The case about to run is written to
``fuzz/crashes/current-SEED.*`` first, so that an abort of the interpreter leaves its input
behind. Runs with different seeds are independent, so a long run can be split across cores:

    POLARS_MAX_THREADS=1 python scripts/fuzz_tables.py --cases 500000 --seed 1 &
    POLARS_MAX_THREADS=1 python scripts/fuzz_tables.py --cases 500000 --seed 2

Prints the cases per format, accepted, rejected and failures, and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from pathlib import Path

import polars as pl
import xlsxwriter

import fiscalrisk as fr

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["-1", "0", "1e308", "-1e308", "1e16", "nan", "inf", "", " ", "12,3", "1,2345", "TRUE", "=2+2",
           "\x1b[2J", "\x00", "£5", "-0.0", "9" * 400, "1e-300", "0x10", "١٢٣", "TOTAL", "x" * 40_000]


def mutate(rows: list[list[str]], rng: random.Random) -> tuple[list[list[str]], dict[tuple[int, int], str]]:
    rows = [r[:] for r in rows]
    stray: dict[tuple[int, int], str] = {}
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        r = rng.randrange(len(rows))
        if kind <= 2 and rows[r]:
            rows[r][rng.randrange(len(rows[r]))] = rng.choice(HOSTILE)
        elif kind == 3 and len(rows) > 1:
            del rows[rng.randrange(1, len(rows))]
        elif kind == 4:
            rows.insert(rng.randrange(len(rows) + 1), rows[r][:])
        elif kind == 5:
            c = rng.randrange(len(rows[0]))
            for row in rows:
                if c < len(row):
                    del row[c]
        else:
            stray[(rng.choice([rng.randrange(200), 1_048_575, 100_001]), rng.choice([rng.randrange(40), 16_383, 1_001]))] = "x"
    return rows, stray


def write(rows: list[list[str]], stray: dict[tuple[int, int], str], fmt: str) -> bytes:
    if fmt == "csv":
        body = "\n".join(",".join(c.replace(",", " ").replace("\n", " ") for c in r) for r in rows) + "\n"
        return body.encode("utf-8", "surrogatepass")
    if fmt == "parquet":
        width = max(len(r) for r in rows)
        header = [f"{h}" if h else f"c{i}" for i, h in enumerate((rows[0] + [""] * width)[:width])]
        seen: set[str] = set()
        names = []
        for i, h in enumerate(header):
            names.append(h if h not in seen else f"{h}_{i}")
            seen.add(h)
        data = {n: [(r + [""] * width)[i] for r in rows[1:]] for i, n in enumerate(names)}
        out = io.BytesIO()
        pl.DataFrame(data, schema={n: pl.String for n in names}).write_parquet(out)
        return out.getvalue()
    out = io.BytesIO()
    # A stray cell a million rows down makes XlsxWriter walk every empty row in between (80 ms
    # a workbook); its constant-memory mode writes rows in order and skips the gap, with inline
    # strings instead of the shared-string table, so both kinds of string cell are fuzzed.
    far = any(i > 1_000 for i, _ in stray)
    options = {"in_memory": not far, "constant_memory": far, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(out, options)
    sheet = book.add_worksheet()
    cells = {(i, j): c for i, r in enumerate(rows) for j, c in enumerate(r)}
    cells.update(stray)
    for (i, j), c in sorted(cells.items()):
        number = c.strip().lstrip("-").replace(".", "", 1)
        if i > 0 and (i, j) not in stray and number.isdigit() and len(number) < 16:
            sheet.write_number(i, j, float(c))
        else:
            sheet.write_string(i, j, c[:32_767])
    book.close()
    return out.getvalue()


def run(path: Path) -> bool:
    data = fr.monitoring.read(path)
    data.check()
    fr.monitoring.forecast(data)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = [r.split(",") for r in Path(fr.datasets.monitoring_example_path(8)).read_text().splitlines()]
    crashes = ROOT / "fuzz" / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    stats = {f: [0, 0, 0] for f in ("csv", "xlsx", "parquet")}
    failures: list[str] = []
    start = time.monotonic()
    for case in range(args.cases):
        fmt = ("csv", "xlsx", "parquet")[case % 3]
        rows, stray = mutate(base, rng)
        blob = write(rows, stray if fmt == "xlsx" else {}, fmt)
        path = crashes / f"current-{args.seed}.{fmt}"
        path.write_bytes(blob)
        t0 = time.monotonic()
        try:
            run(path)
            stats[fmt][1] += 1
        except (fr.ValidationError, fr.MissingDependency):
            stats[fmt][2] += 1
        except BaseException as e:  # noqa: BLE001 - every other outcome is a failure
            if isinstance(e, KeyboardInterrupt):
                raise
            keep = crashes / f"table-{args.seed}-{case}.{fmt}"
            keep.write_bytes(blob)
            failures.append(f"case {case} ({fmt}): {type(e).__name__}: {str(e)[:200]} -> {keep}")
            print(failures[-1], file=sys.stderr)
        took = time.monotonic() - t0
        if took >= 5:
            failures.append(f"case {case} ({fmt}): slow: {took:.1f} s")
        stats[fmt][0] += 1
        if (case + 1) % 10_000 == 0:
            print(f"{case + 1} cases, {time.monotonic() - start:.0f} s", flush=True)
    for f in ("csv", "xlsx", "parquet"):
        (crashes / f"current-{args.seed}.{f}").unlink(missing_ok=True)
    total = time.monotonic() - start
    for fmt, (n, ok, bad) in stats.items():
        print(f"{fmt}: {n} cases, {ok} accepted, {bad} rejected with a ValidationError")
    print(f"tables: {args.cases} cases in {total:.1f} s ({args.cases / max(total, 1e-9):.0f} per second), "
          f"seed {args.seed}, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
