"""Conversions at the edge between Python values and the core's data."""

from __future__ import annotations

import numbers
from decimal import Decimal
import os
from typing import Any, Optional

import numpy as np


def num(value: Any) -> Any:
    """A Python float for any real number (numpy scalars included); anything else unchanged, so
    the core's validation names the field and the value it got."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def real(field: str, value: Any) -> float:
    """A float for a parameter that must be a number, or a ValidationError naming the field.

    NaN and infinity pass, so that the core's validation names them with their own message."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    from .exceptions import ValidationError

    raise ValidationError(f"{field}: {value!r} is not a number")


def nest(prefix: str, message: str) -> str:
    """``prefix.field: ...`` when ``message`` names a field, ``prefix: message`` otherwise."""
    import re

    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])*[.:\[]", message):
        return f"{prefix}.{message}"
    return f"{prefix}: {message}"


def run_arguments(trials: Any, seed: Any, threads: Any) -> tuple[int, int, Optional[int]]:
    """A simulation's trials, seed and threads as whole numbers, or a ValidationError naming
    the one that is not (the core checks their ranges)."""
    from .exceptions import ValidationError

    for field, value in (("trials", trials), ("seed", seed), ("threads", threads)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0):
            raise ValidationError(f"{field}: {value!r} is not a non-negative whole number")
    if seed >= 2**64:
        raise ValidationError(f"seed: {seed} is not below 2**64")
    return int(trials), int(seed), None if threads is None else int(threads)


def money_in(value: Any) -> Any:
    """Money for the core: a Decimal or an int travels as exact text, a float as itself."""
    if isinstance(value, (Decimal, numbers.Integral)) and not isinstance(value, bool):
        return str(value)
    return num(value)


def money_out(value: Any) -> Decimal:
    """Money from the core (a float that reads back exactly, or text) as a Decimal."""
    return Decimal(value if isinstance(value, str) else repr(float(value)))


def floats(values: Any, field: str) -> list[Any]:
    """A list of floats from any 1-d array-like (lists, numpy arrays, polars Series)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        from .exceptions import ValidationError

        raise ValidationError(f"{field}: needs a one-dimensional sequence, got {arr.ndim} dimensions")
    if arr.dtype.kind in "biuf":
        return [float(x) for x in arr.astype(np.float64)]
    return [num(x) for x in arr.tolist()]


def html_table(title: str, rows: list[tuple[str, str]]) -> str:
    """A compact two-column HTML table for Jupyter."""
    from html import escape

    body = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>{escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption style='text-align:left'><b>{escape(title)}</b></caption>{body}</table>"


def pounds(x: float, _pos: Any = None) -> str:
    """An amount the way finance people read it: £m with one decimal, the sign before the pound
    sign. The one money formatter of the package (text, tables, plots and the report); the unused
    second argument lets matplotlib use it as a tick formatter.

    >>> pounds(12_345_678), pounds(-4e6), pounds(-1_000), pounds(float("nan"))
    ('£12.3m', '-£4.0m', '£0.0m', 'n/a')
    """
    if x != x:
        return "n/a"
    text = f"{abs(x) / 1e6:,.1f}"
    sign = "-" if x < 0 and text.strip("0.,") else ""
    return f"{sign}£{text}m"


def read_json_object(source: Any, method: str = "from_json") -> dict[str, Any]:
    """A JSON object from a file (a path): see :func:`read_path` and :func:`json_object`."""
    return json_object(read_path(source, method))


def read_bytes(source: Any) -> bytes:
    """Exactly the file named (never a glob pattern), refused with a ValidationError when it is not
    a regular file (a device such as ``/dev/zero``, a FIFO, a folder) or longer than the core's
    limit (``MAX_INPUT_BYTES``, 64 MiB). At most the limit plus one byte is read, whatever size
    the operating system reports."""
    import stat
    from pathlib import Path

    from . import _fiscalrisk as _native
    from .exceptions import ValidationError

    path = Path(source)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(f"{path}: not a regular file")
    limit = _native.MAX_INPUT_BYTES
    if info.st_size > limit:
        raise ValidationError(f"{path}: {info.st_size} bytes is more than the {limit} an input file may have")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"{path}: more than the {limit} bytes an input file may have")
    return data


def read_text(source: Any) -> str:
    """A text file's contents (see :func:`read_bytes`), refused with a ValidationError when it
    is not UTF-8."""
    from .exceptions import ValidationError

    data = read_bytes(source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValidationError(f"{source}: not UTF-8 text (byte {e.start})") from None


def read_path(source: Any, method: str) -> str:
    """The text of the file at ``source`` (a path, never text). A string that cannot be a file's
    name (it holds a newline, or starts with ``{`` or ``[`` and names no file) is refused with
    a message naming the ``_str`` method that takes text: nothing is guessed."""
    from .exceptions import ValidationError

    if isinstance(source, str):
        looks_like_text = "\n" in source or source.lstrip()[:1] in ("{", "[")
        if looks_like_text and not os.path.exists(source):
            raise ValidationError(
                f"{method}: takes a path, and {source[:40]!r}... is not one; for text use {method}_str(text)"
            )
    return read_text(source)


def user_stacklevel() -> int:
    """The ``stacklevel`` at which a warning raised by the caller points at the user's code:
    the first frame outside this package (a warning should name the line that made the
    scenario, not ``plan.py``)."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)  # the caller, which calls warnings.warn
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def utf8_text(text: str, what: str) -> str:
    """``text`` if it can reach the core (UTF-8), else a ValidationError naming where it is not:
    a lone surrogate (``"\\ud800"``) cannot be encoded."""
    from .exceptions import ValidationError

    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        raise ValidationError(
            f"{what}: line {line}: the character {text[e.start]!r} is a lone surrogate, not valid Unicode"
        ) from None
    return text


def json_object(text: str) -> dict[str, Any]:
    """A JSON object from JSON text; malformed, too deeply nested or not an object is a
    ValidationError."""
    import json

    from .exceptions import ValidationError

    if not isinstance(text, str):
        raise ValidationError(f"JSON text: expected a string, got {type(text).__name__}")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValidationError(f"JSON: the key {key!r} appears twice in one object (TOML refuses it too)")
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as e:
        raise ValidationError(f"line {e.lineno}, column {e.colno}: {e.msg}") from None
    except ValidationError:
        raise
    except ValueError as e:  # an integer of more digits than Python converts (4,300)
        raise ValidationError(f"JSON: {str(e).split(':')[0]}") from None
    except RecursionError:
        raise ValidationError("JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ValidationError(f"JSON: the top level is a {type(data).__name__}, not an object")
    return data


def sheet_row(index: int) -> int:
    """The row a person sees for a frame's ``index``th row (from 0): the sheet's own row
    number, the headings being row 1 (as the monitoring check counts)."""
    return index + 2


def name_frame_row(error: Exception, collection: str, ids: list[Any]) -> Exception:
    """``error`` (a :class:`ValidationError` from rows built out of a DataFrame) with the row a
    person sees in the sheet and the item's id put first: ``risks[1].probability: ...`` becomes
    ``row 3 ("games"), risks[1].probability: ...``. Other errors are returned as they are."""
    import re

    from .exceptions import ValidationError

    text = str(error)
    found = re.match(rf"{re.escape(collection)}\[(\d+)\]", text)
    if not isinstance(error, ValidationError) or not found or int(found.group(1)) >= len(ids):
        return error
    index = int(found.group(1))
    item = ids[index]
    label = f' ("{item}")' if item is not None and str(item) != "" else ""
    return ValidationError(f"row {sheet_row(index)}{label}, {text}")
