"""Files the package writes: to a temporary file beside the target, then renamed into place,
so a failed or interrupted run leaves any previous output intact; never over an input."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from .exceptions import ValidationError


def check_output(path: Path, inputs: Sequence[Path], suffixes: Sequence[str], option: str = "--out") -> None:
    """Refuses an output that is an input, of a kind that cannot be written, or in a missing folder."""
    if any(path.resolve() == Path(i).resolve() for i in inputs):
        raise ValidationError(f"{option}: {path} is an input file; it is never overwritten")
    if path.suffix.lower() not in suffixes:
        raise ValidationError(f"{option}: {path.name!r} is not {', '.join(suffixes)}")
    if not path.resolve().parent.is_dir():
        raise ValidationError(f"{option}: the folder {path.parent} does not exist")


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Calls ``write(temporary_path)`` and renames the result onto ``path``."""
    target = Path(path).resolve()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it the permissions of a file the user
        # creates (0666 less the umask), as a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
