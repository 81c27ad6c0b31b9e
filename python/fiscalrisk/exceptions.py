"""The exceptions and warnings fiscalrisk raises.

Every error fiscalrisk raises is a :class:`FiscalRiskError`. Bad input raises
:class:`ValidationError`, which is also a :class:`ValueError`; its message names the field and
the value, e.g. ``risks[3].impact.high: 5.0 is below low 10.0``.
"""

from __future__ import annotations

__all__ = ["FiscalRiskError", "ValidationError", "FiscalRiskWarning"]


class FiscalRiskError(Exception):
    """Base class of every error fiscalrisk raises."""


class ValidationError(FiscalRiskError, ValueError):
    """Input that fiscalrisk cannot accept; the message names the field and the value."""


class FiscalRiskWarning(UserWarning):
    """Something fiscalrisk repaired or assumed on the user's behalf (e.g. a correlation matrix)."""
