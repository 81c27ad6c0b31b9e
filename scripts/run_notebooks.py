"""Execute every notebook in notebooks/ from top to bottom; fail on the first error, or on
anything a cell writes to stderr (a warning).

Notebooks are kept in git with outputs stripped; this runs them in memory and writes nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "notebooks"
    paths = sorted(root.glob("*.ipynb"))
    for path in paths:
        # Read as stored: nbformat would add missing cell ids itself, with a warning that a
        # later nbformat makes an error. A notebook in git has an id on every cell.
        missing = [k for k, cell in enumerate(json.loads(path.read_text())["cells"]) if "id" not in cell]
        if missing:
            print(f"{path.name}: cells {missing} have no id (nbformat 4.5 wants one on every cell)", file=sys.stderr)
            return 1
        nb = nbformat.read(path, as_version=4)
        if any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"):
            print(f"{path.name}: outputs are not stripped", file=sys.stderr)
            return 1
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
        # A clean run: no warning or error printed by any cell.
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr" and out["text"].strip():
                    print(f"{path.name}: a cell wrote to stderr:\n{out['text']}", file=sys.stderr)
                    return 1
        print(f"{path.name}: ran {sum(c.cell_type == 'code' for c in nb.cells)} cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
