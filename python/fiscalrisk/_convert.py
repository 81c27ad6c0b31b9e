"""Conversions at the edge between Python values and the core's data."""

from __future__ import annotations

import numbers
from decimal import Decimal
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


def pounds(x: float) -> str:
    """An amount the way finance people read it: £m with one decimal."""
    return f"£{x / 1e6:,.1f}m"


def read_text(source: Any) -> str:
    """A text file's contents, refused with a ValidationError (before reading) when it is larger
    than the core's limit (``MAX_INPUT_BYTES``, 64 MiB) or not UTF-8."""
    from pathlib import Path

    from . import _fiscalrisk as _native
    from .exceptions import ValidationError

    path = Path(source)
    size = path.stat().st_size
    if size > _native.MAX_INPUT_BYTES:
        raise ValidationError(f"{path}: {size} bytes is more than the {_native.MAX_INPUT_BYTES} an input file may have")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValidationError(f"{path}: not UTF-8 text (byte {e.start})") from None


def read_json_object(source: Any) -> dict[str, Any]:
    """A JSON object from a file (a path) or from JSON text (a string starting with ``{`` or
    ``[``); malformed, too deeply nested or not an object is a ValidationError."""
    import json

    from .exceptions import ValidationError

    text = source if isinstance(source, str) and source.lstrip()[:1] in ("{", "[") else read_text(source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationError(f"line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise ValidationError("JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ValidationError(f"JSON: the top level is a {type(data).__name__}, not an object")
    return data
