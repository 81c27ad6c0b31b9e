"""The exceptions and warnings fiscalrisk raises.

Every error fiscalrisk raises is a :class:`FiscalRiskError`. Bad input raises
:class:`ValidationError`, which is also a :class:`ValueError`; its message names the field and
the value, e.g. ``risks[3].impact.high: 5.0 is below low 10.0``.
"""

from __future__ import annotations

__all__ = ["FiscalRiskError", "ValidationError", "MissingDependency", "FiscalRiskWarning"]


class FiscalRiskError(Exception):
    """Base class of every error fiscalrisk raises."""


class ValidationError(FiscalRiskError, ValueError):
    """Input that fiscalrisk cannot accept; the message names the field and the value (a long
    value clipped: no message echoes a whole input)."""

    def __init__(self, message: object = "", *args: object) -> None:
        from ._fiscalrisk import clip_message

        super().__init__(clip_message(str(message)), *args)


class MissingDependency(FiscalRiskError, ImportError):
    """A package fiscalrisk needs for this feature is not installed; the message names it and the
    extra that installs it (``pip install 'fiscalrisk[plot]'``). The command line exits 2 on it."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this needs the package {package!r}, which is not installed: "
            f"pip install 'fiscalrisk[{extra}]' (or pip install {package})",
            name=package,
        )
        self.package = package
        self.extra = extra


class FiscalRiskWarning(UserWarning):
    """Something fiscalrisk repaired or assumed on the user's behalf (e.g. a correlation matrix)."""
