"""Execute every notebook in notebooks/ from top to bottom and check it against its stored
outputs; with ``--write``, store the fresh outputs instead.

Notebooks are kept in git with their outputs, so a reader on GitHub sees the tables, figures
and printed figures without running anything. CI runs each one again and fails on the first
error, on anything a cell writes to stderr (a warning), and on any text a cell shows that
differs from what is stored (printed lines and the plain-text form of each result; a figure
must be there but its pixels are not compared). The same seed gives the same numbers on any
machine, so a difference means a notebook's story changed: rerun with ``--write``, read the
new outputs, and commit them with the change that moved them.

    python scripts/run_notebooks.py            # check (CI)
    python scripts/run_notebooks.py --write    # store fresh outputs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient


def shown(cell: Any) -> list[tuple[str, str]]:
    """What a reader sees of a code cell's outputs, as comparable text.

    Consecutive chunks of one stream are one text: the kernel splits a cell's printed
    output into chunks by timing, so the same text may be stored as one output or two.
    """
    out: list[tuple[str, str]] = []
    streams: dict[str, str] = {}
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "stream":
            name = o.get("name", "")
            text = "".join(o.get("text", ""))
            if out and out[-1][0] == name and name in streams:
                streams[name] += text
                out[-1] = (name, streams[name].rstrip())
            else:
                streams = {name: text}
                out.append((name, text.rstrip()))
            continue
        streams = {}
        if kind in ("execute_result", "display_data"):
            data = o.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                out.append(("figure", ""))
            else:
                out.append(("result", "".join(data.get("text/plain", "")).rstrip()))
        elif kind == "error":
            out.append(("error", o.get("ename", "")))
    return out


def first_difference(stored: list[tuple[str, str]], fresh: list[tuple[str, str]]) -> str:
    for a, b in zip(stored, fresh):
        if a != b:
            for la, lb in zip(a[1].splitlines() or [""], b[1].splitlines() or [""]):
                if la != lb:
                    return f"stored: {la!r}\n  fresh:  {lb!r}"
            return f"stored: {a!r}\n  fresh:  {b!r}"
    return f"stored {len(stored)} outputs, fresh {len(fresh)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="store the fresh outputs in the notebooks")
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent / "notebooks"
    paths = [root / n for n in args.names] if args.names else sorted(root.glob("*.ipynb"))
    failed = False
    for path in paths:
        # Read as stored: nbformat would add missing cell ids itself, with a warning that a
        # later nbformat makes an error. A notebook in git has an id on every cell.
        missing = [k for k, cell in enumerate(json.loads(path.read_text())["cells"]) if "id" not in cell]
        if missing:
            print(f"{path.name}: cells {missing} have no id (nbformat 4.5 wants one on every cell)", file=sys.stderr)
            return 1
        nb = nbformat.read(path, as_version=4)
        stored = [shown(c) for c in nb.cells if c.cell_type == "code"]
        NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(root)}}).execute()
        code = [c for c in nb.cells if c.cell_type == "code"]
        # A clean run: no warning or error printed by any cell.
        for k, cell in enumerate(code):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr" and out["text"].strip():
                    print(f"{path.name}, code cell {k + 1}: a cell wrote to stderr:\n{out['text']}", file=sys.stderr)
                    return 1
        if nb.cells[-1].cell_type != "markdown":
            print(f"{path.name}: ends in code; a notebook ends in prose (what it showed)", file=sys.stderr)
            return 1
        if args.write:
            nb.metadata.pop("widgets", None)
            nbformat.write(nb, path)
            print(f"{path.name}: ran {len(code)} cells, outputs stored")
            continue
        for k, (cell, before) in enumerate(zip(code, stored)):
            after = shown(cell)
            if before != after:
                failed = True
                print(f"{path.name}, code cell {k + 1}: the output differs from the stored one "
                      f"(rerun `python scripts/run_notebooks.py --write {path.name}` and commit):\n  "
                      f"{first_difference(before, after)}", file=sys.stderr)
                break
        else:
            print(f"{path.name}: ran {len(code)} cells, outputs as stored")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
