"""Distributions of uncertain amounts: a risk's impact, a pressure, a fraction delivered.

Each family validates its parameters when built and offers :meth:`~Distribution.mean`,
:meth:`~Distribution.std`, :meth:`~Distribution.quantile`, :meth:`~Distribution.cdf` and
:meth:`~Distribution.sample`. A distribution's dict form is the one scenario files use:
``{"dist": "pert", "low": 5e6, "mode": 1e7, "high": 4e7}``.

Examples
--------
>>> import fiscalrisk as fr
>>> d = fr.Pert(5e6, 1e7, 4e7)
>>> round(d.mean())
14166667
>>> fr.Distribution.from_dict({"dist": "fixed", "value": 2.5e6}).mean()
2500000.0
>>> fr.Uniform(10.0, 5.0)
Traceback (most recent call last):
...
fiscalrisk.exceptions.ValidationError: high: 5.0 is below low 10.0
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Mapping, Sequence, Union, overload

import numpy as np
import numpy.typing as npt

from . import _fiscalrisk as _ext
from ._convert import floats, money_in, money_out, real

__all__ = [
    "Distribution",
    "Fixed",
    "Uniform",
    "Triangular",
    "Pert",
    "Normal",
    "LogNormal",
    "Discrete",
    "Empirical",
]

ArrayLike = Union[Sequence[float], npt.NDArray[np.float64]]


class Distribution:
    """A validated distribution. Build one with a family's constructor (:class:`Pert`, ...) or
    :meth:`from_dict`."""

    __slots__ = ("_native",)
    _native: _ext.Distribution
    _families: ClassVar[dict[str, type[Distribution]]] = {}
    dist: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Distribution._families[cls.dist] = cls

    @classmethod
    def _wrap(cls, native: _ext.Distribution) -> Distribution:
        obj = object.__new__(Distribution._families[native.name()])
        obj._native = native
        return obj

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        """Build a distribution from its dict form (``{"dist": "normal", "mean": 0, "sd": 1}``).

        Raises
        ------
        ValidationError
            For an unknown family, a missing or unknown key, or invalid parameters.
        """
        return cls._wrap(_ext.Distribution.from_dict(clean_spec(data)))

    def to_dict(self) -> dict[str, Any]:
        """The dict form, as written in scenario files."""
        d: dict[str, Any] = self._native.to_dict()
        return d

    def mean(self) -> float:
        """The mean."""
        return self._native.mean()

    def std(self) -> float:
        """The standard deviation (an :class:`Empirical` one's is that of its samples, ddof=0)."""
        return self._native.std()

    @overload
    def quantile(self, p: float) -> float: ...
    @overload
    def quantile(self, p: ArrayLike) -> npt.NDArray[np.float64]: ...
    def quantile(self, p: float | ArrayLike) -> float | npt.NDArray[np.float64]:
        """The smallest ``x`` with ``cdf(x) >= p``, for ``p`` in [0, 1] (a number or an array)."""
        arr = np.asarray(p, dtype=np.float64)
        if arr.ndim == 0:
            return self._native.quantile(float(arr))
        return self._native.quantiles(np.ascontiguousarray(arr.ravel())).reshape(arr.shape)

    @overload
    def cdf(self, x: float) -> float: ...
    @overload
    def cdf(self, x: ArrayLike) -> npt.NDArray[np.float64]: ...
    def cdf(self, x: float | ArrayLike) -> float | npt.NDArray[np.float64]:
        """``P(X <= x)`` (a number or an array)."""
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 0:
            return self._native.cdf(float(arr))
        return self._native.cdfs(np.ascontiguousarray(arr.ravel())).reshape(arr.shape)

    def sample(self, n: int, seed: int) -> npt.NDArray[np.float64]:
        """``n`` independent draws, reproducible from ``seed`` (Xoshiro256++, stream 0)."""
        from .exceptions import ValidationError

        for field, value, upper in (("n", n, 2**63), ("seed", seed, 2**64)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValidationError(f"{field}: {value!r} is not a whole number")
            if value < 0:
                raise ValidationError(f"{field}: {value} is negative")
            if value >= upper:
                raise ValidationError(f"{field}: {value} is too large")
        return self._native.sample(int(n), int(seed))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Distribution) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        d = self.to_dict()
        d.pop("dist")
        args = ", ".join(f"{k}={_short(v)}" for k, v in d.items())
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Distribution.from_dict, (self.to_dict(),))


def clean_spec(data: Mapping[str, Any]) -> dict[str, Any]:
    """A distribution's dict form with every number a Python float (money as exact text), or a
    ValidationError naming the key that is not a number."""
    return {k: _clean(k, v) for k, v in data.items()}


def _clean(key: str, v: Any) -> Any:
    if key == "dist":
        return v
    if key == "value":
        return money_in(v)
    if key in ("values", "weights", "samples"):
        return floats(v, key)
    return real(key, v)


def _short(v: Any) -> str:
    if isinstance(v, list):
        return f"[{len(v)} values]" if len(v) > 6 else repr(v)
    return repr(v)


class Fixed(Distribution):
    """Always ``value``: an exact amount of money.

    >>> Fixed(2_500_000).mean()
    2500000.0
    >>> Fixed("1234.56").value
    Decimal('1234.56')
    """

    __slots__ = ()
    dist = "fixed"

    def __init__(self, value: float | int | Decimal | str) -> None:
        self._native = _ext.Distribution.from_dict({"dist": "fixed", "value": money_in(value)})

    @property
    def value(self) -> Decimal:
        """The amount, exact."""
        return money_out(self.to_dict()["value"])


class Uniform(Distribution):
    """Equally likely anywhere in ``[low, high]``."""

    __slots__ = ()
    dist = "uniform"

    def __init__(self, low: float, high: float) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "uniform", "low": real("low", low), "high": real("high", high)}
        )


class Triangular(Distribution):
    """Triangular on ``[low, high]`` peaking at ``mode``."""

    __slots__ = ()
    dist = "triangular"

    def __init__(self, low: float, mode: float, high: float) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "triangular", "low": real("low", low), "mode": real("mode", mode), "high": real("high", high)}
        )


class Pert(Distribution):
    """PERT on ``[low, high]`` with most likely value ``mode``: a Beta with
    ``alpha = 1 + lamb (mode - low) / (high - low)`` and ``beta = 1 + lamb (high - mode) / (high - low)``,
    whose mean is ``(low + lamb mode + high) / (lamb + 2)``.

    >>> Pert(0, 1, 8).mean()
    2.0
    """

    __slots__ = ()
    dist = "pert"

    def __init__(self, low: float, mode: float, high: float, lamb: float = 4.0) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "pert", "low": real("low", low), "mode": real("mode", mode), "high": real("high", high), "lamb": real("lamb", lamb)}
        )


class Normal(Distribution):
    """Normal with mean ``mean`` and standard deviation ``sd > 0``. Goes below zero: an
    opportunity as well as a risk."""

    __slots__ = ()
    dist = "normal"

    def __init__(self, mean: float, sd: float) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "normal", "mean": real("mean", mean), "sd": real("sd", sd)}
        )


class LogNormal(Distribution):
    """``exp(N(mu, sigma))``; or, with :meth:`from_quantiles`, given by a central estimate and a
    bad case.

    >>> d = LogNormal.from_quantiles(p50=10e6, p90=25e6)
    >>> round(d.quantile(0.5)), round(d.quantile(0.9))
    (10000000, 25000000)
    """

    __slots__ = ()
    dist = "lognormal"

    def __init__(self, mu: float, sigma: float) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "lognormal", "mu": real("mu", mu), "sigma": real("sigma", sigma)}
        )

    @classmethod
    def from_quantiles(cls, p50: float, p90: float) -> LogNormal:
        """The log-normal whose median is ``p50`` and 90th percentile ``p90`` (``0 < p50 < p90``)."""
        native = _ext.Distribution.from_dict({"dist": "lognormal", "p50": real("p50", p50), "p90": real("p90", p90)})
        obj = object.__new__(cls)
        obj._native = native
        return obj


class Discrete(Distribution):
    """Finitely many ``values`` with non-negative ``weights`` (normalised; not all zero).

    >>> Discrete([0, 10e6], [3, 1]).mean()
    2500000.0
    """

    __slots__ = ()
    dist = "discrete"

    def __init__(self, values: ArrayLike, weights: ArrayLike) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "discrete", "values": floats(values, "values"), "weights": floats(weights, "weights")}
        )


class Empirical(Distribution):
    """The distribution of ``samples`` (e.g. a numpy array from the analyst's own model): each
    sample equally likely. Quantiles are numpy's ``method="inverted_cdf"``."""

    __slots__ = ()
    dist = "empirical"

    def __init__(self, samples: ArrayLike) -> None:
        self._native = _ext.Distribution.from_dict(
            {"dist": "empirical", "samples": floats(samples, "samples")}
        )
