"""Files the package writes: to a temporary file beside the target, then renamed into place,
so a failed or interrupted run leaves any previous output intact; never over an input."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Callable, Sequence

from .exceptions import ValidationError


def check_output(path: Path, inputs: Sequence[Path], suffixes: Sequence[str], option: str = "--out") -> None:
    """Refuses an output that is an input, a symbolic link (dangling or not: fiscalrisk never
    writes through a link), anything else that is not a regular file (a device, a FIFO, a
    folder), of a kind that cannot be written, or in a missing folder."""
    path = Path(path)
    if path.is_symlink():
        raise ValidationError(f"{option}: {path} is a symbolic link; give the path of a regular file (a link is never written through)")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise ValidationError(f"{option}: {path} exists and is not a regular file")
    if any(Path(os.path.abspath(path)) == Path(i).resolve() or path.resolve() == Path(i).resolve() for i in inputs):
        raise ValidationError(f"{option}: {path} is an input file; it is never overwritten")
    if path.suffix.lower() not in suffixes:
        raise ValidationError(f"{option}: {path.name!r} is not {', '.join(suffixes)}")
    if not Path(os.path.abspath(path)).parent.is_dir():
        raise ValidationError(f"{option}: the folder {path.parent} does not exist")


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Calls ``write(temporary_path)`` on a new file beside ``path``, syncs it to disk and renames
    it onto ``path`` (the path itself, never a link's target). The temporary file is created
    with mode 0666 for the kernel to apply the umask, as a plain open() would: the process-wide
    umask is never changed."""
    target = Path(os.path.abspath(path))
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise ValidationError(f"could not create a temporary file beside {target}")
    os.close(fd)
    try:
        write(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
