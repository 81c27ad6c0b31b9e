"""The pre-commit hook (``.pre-commit-hooks.yaml``, id ``fiscalrisk-check``): runs
``fiscalrisk check`` on each monitoring table given and exits with the worst code (0 clean, 1 a
rule failed, 2 a table could not be read), so a commit with a broken table is stopped.

>>> from fiscalrisk import datasets
>>> main([str(datasets.monitoring_example_path(8))])  # doctest: +ELLIPSIS
warning[one-off-share] row 7 ("TOTAL"), column one_off_mitigations: ...
OK: monitoring_2018_19_m08.csv, month 8: 0 errors, 1 warning
0
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

__all__ = ["main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Checks each table named in ``argv`` (``--strict`` makes warnings fail too)."""
    from .__main__ import main as cli

    args = list(sys.argv[1:] if argv is None else argv)
    flags = [a for a in args if a.startswith("--")]
    worst = 0
    for table in (a for a in args if not a.startswith("--")):
        worst = max(worst, cli(["check", table, *flags]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
