"""Risks and the probability-weighted risk register.

Examples
--------
>>> import fiscalrisk as fr
>>> games = fr.Risk("games", "Commonwealth Games contribution", 0.5,
...                 fr.Uniform(0, 80e6), share=0.25, cap=10e6)
>>> reg = fr.RiskRegister([games], first_year="2019/20")
>>> reg.expected_values().row(0)
('games', '2019/20', 3750000.0)

The cost the council bears if the Games overrun is a quarter of a uniform overrun up to £80m,
capped at £10m: ``E[min(0.25 X, 10m)] = 7.5m``, times the probability 0.5.
"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal
from os import PathLike
from typing import Any, Iterable, Iterator, Mapping, Union

import polars as pl

from . import _fiscalrisk as _native
from ._convert import (html_table, json_object, money_in, money_out, name_frame_row, nest, num, pounds, read_json_object,
                       read_path, real, sheet_row, utf8_text)
from .distributions import Distribution, clean_spec
from .exceptions import FiscalRiskWarning, ValidationError

__all__ = ["Risk", "RiskRegister", "FRAME_COLUMNS"]

Correlation = tuple[str, str, float]
#: A correlation as given: ``(risk_id, risk_id, rho)`` or ``{"risks": [risk_id, risk_id], "rho": rho}``.
CorrelationLike = Union[Correlation, Mapping[str, Any]]

#: Parameter columns of a register's DataFrame, by distribution family.
_PARAMETERS = ["value", "low", "mode", "high", "lamb", "mean", "sd", "mu", "sigma", "p50", "p90"]
_LISTS = ["values", "weights", "samples"]
#: Every column :meth:`RiskRegister.from_frame` reads, in the order :meth:`RiskRegister.to_frame` writes.
FRAME_COLUMNS = [
    "id",
    "name",
    "probability",
    "dist",
    *_PARAMETERS,
    *_LISTS,
    "profile",
    "recurring",
    "share",
    "cap",
    "category",
    "owner",
]


class Risk:
    """A risk: it happens within the plan with ``probability``; if it does, its gross cost is
    drawn from ``impact``, the council bears ``share`` of it, at most ``cap``.

    Parameters
    ----------
    id, name
        Unique id (used by correlations and in results) and description.
    probability
        Probability it happens within the plan, in [0, 1].
    impact
        A :class:`~fiscalrisk.Distribution` (or its dict form) of the gross cost in pounds.
    profile
        How the cost falls across years: ``{"2019/20": 0.4, "2020/21": 0.6}``, fractions
        summing to 1. Default: all in the register's first year.
    recurring
        The drawn cost is an annual cost from its start year (the one year its profile names,
        or the first year) to the end of the plan; ``cap`` then applies to the annual cost.
    share
        Fraction of the cost the council bears (e.g. 0.25 of a shared budget), in [0, 1].
    cap
        Most the council can lose after its share (exact money).
    category, owner
        Free text, carried through.

    Raises
    ------
    ValidationError
        Naming the field and the value, e.g. ``probability: 1.5 is outside [0, 1]``.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        id: str,
        name: str,
        probability: float,
        impact: Distribution | Mapping[str, Any],
        *,
        profile: Mapping[str, float] | None = None,
        recurring: bool = False,
        share: float = 1.0,
        cap: float | Decimal | str | None = None,
        category: str | None = None,
        owner: str | None = None,
    ) -> None:
        spec: dict[str, Any] = {
            "id": id,
            "name": name,
            "probability": real("probability", probability),
            "impact": _impact_dict(impact),
            "recurring": recurring,
            "share": real("share", share),
        }
        if profile is not None:
            spec["profile"] = {str(k): num(v) for k, v in profile.items()}
        if cap is not None:
            spec["cap"] = money_in(cap)
        if category is not None:
            spec["category"] = category
        if owner is not None:
            spec["owner"] = owner
        self._native = _native.Risk.from_dict(spec)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Risk:
        """From the dict form used in scenario files."""
        clean = dict(data)
        if "impact" in clean:
            clean["impact"] = _impact_dict(clean["impact"])
        for key in ("probability", "share"):
            if key in clean:
                clean[key] = real(key, clean[key])
        if clean.get("cap") is not None:
            clean["cap"] = money_in(clean["cap"])
        obj = object.__new__(cls)
        obj._native = _native.Risk.from_dict(clean)
        return obj

    def to_dict(self) -> dict[str, Any]:
        """The dict form used in scenario files (defaults left out)."""
        d: dict[str, Any] = self._native.to_dict()
        return d

    @property
    def id(self) -> str:
        """The id."""
        return str(self.to_dict()["id"])

    @property
    def name(self) -> str:
        """The description."""
        return str(self.to_dict()["name"])

    @property
    def probability(self) -> float:
        """Probability it happens within the plan."""
        return float(self.to_dict()["probability"])

    @property
    def impact(self) -> Distribution:
        """The gross cost if it happens."""
        return Distribution.from_dict(self.to_dict()["impact"])

    @property
    def profile(self) -> dict[str, float] | None:
        """Fractions by year, or ``None`` (all in the first year)."""
        p = self.to_dict().get("profile")
        return dict(p) if p is not None else None

    @property
    def recurring(self) -> bool:
        """Whether the cost recurs every year from its start."""
        return bool(self.to_dict().get("recurring", False))

    @property
    def share(self) -> float:
        """Fraction the council bears."""
        return float(self.to_dict().get("share", 1.0))

    @property
    def cap(self) -> Decimal | None:
        """Most the council can lose, exact; ``None`` for no cap."""
        c = self.to_dict().get("cap")
        return None if c is None else money_out(c)

    @property
    def category(self) -> str | None:
        """Category."""
        return self.to_dict().get("category")

    @property
    def owner(self) -> str | None:
        """Owner."""
        return self.to_dict().get("owner")

    def expected_cost_if_occurs(self) -> float:
        """``E[min(share * impact, cap)]``, exactly or by numerical integration."""
        return self._native.expected_cost_if_occurs()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Risk) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Risk({self.id!r}, {self.name!r}, {self.probability!r}, {self.impact!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Risk.from_dict, (self.to_dict(),))


def _impact_dict(impact: Distribution | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(impact, Distribution):
        return impact.to_dict()
    if isinstance(impact, Mapping):
        # Cleaned and checked, but kept as written (a lognormal by p50 and p90 stays so).
        try:
            spec = clean_spec(impact)
            _native.Distribution.from_dict(spec)
        except ValidationError as e:
            raise ValidationError(nest("impact", str(e))) from None
        return spec
    raise ValidationError(f"impact: {impact!r} is not a distribution")


class RiskRegister:
    """A risk register: risks, the rank correlations between them, and the plan's years.

    Parameters
    ----------
    risks
        :class:`Risk` objects (or their dict forms). Ids must be unique.
    correlations
        ``(risk_id, risk_id, rho)`` rank (Spearman) correlations, ``rho`` in [-1, 1]. Together
        they must form a valid correlation matrix; one that does not is repaired to the nearest
        valid matrix with a :class:`FiscalRiskWarning` naming the risks, or rejected when
        ``strict``.
    first_year, years
        The horizon, e.g. ``"2019/20"`` and ``4``. Default: from the earliest to the latest
        year any profile names. When no risk has a profile, ``first_year`` is required and the
        horizon is one year unless ``years`` says otherwise.
    strict
        Reject, rather than repair, an invalid correlation matrix.

    Raises
    ------
    ValidationError
        Naming the risk and the field: ``risks[3].impact.high: 5.0 is below low 10.0``.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        risks: Iterable[Risk | Mapping[str, Any]],
        correlations: Iterable[CorrelationLike] | None = None,
        first_year: str | None = None,
        years: int | None = None,
        *,
        strict: bool = False,
    ) -> None:
        risks = list(risks)
        if len(risks) > _native.MAX_RISKS:  # before converting a million rows to learn it
            raise ValidationError(f"risks: {len(risks)} risks is more than the {_native.MAX_RISKS} a register holds")
        spec: dict[str, Any] = {
            "risks": [r.to_dict() if isinstance(r, Risk) else _risk_dict(r, i) for i, r in enumerate(risks)],
            "correlations": [_correlation(c, i) for i, c in enumerate(correlations or [])],
            "strict": strict,
        }
        if first_year is not None:
            spec["first_year"] = first_year
        if years is not None:
            spec["years"] = years
        self._native = _native.RiskRegister.from_dict(spec)
        self._warn()

    def _warn(self) -> None:
        for message in self._native.warnings():
            warnings.warn(message, FiscalRiskWarning, stacklevel=3)

    @classmethod
    def _wrap(cls, native: _native.RiskRegister) -> RiskRegister:
        obj = object.__new__(cls)
        obj._native = native
        obj._warn()
        return obj

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskRegister:
        """From the dict form (as in a TOML or JSON file)."""
        spec = dict(data)
        if "risks" in spec:
            spec["risks"] = [_risk_dict(r, i) for i, r in enumerate(spec["risks"])]
        if "correlations" in spec:
            spec["correlations"] = [_correlation(c, i) for i, c in enumerate(spec["correlations"])]
        return cls._wrap(_native.RiskRegister.from_dict(spec))

    @classmethod
    def from_toml(cls, path: str | PathLike[str]) -> RiskRegister:
        """From a TOML file (a path); :meth:`from_toml_str` reads TOML text.

        Errors name the line and the key path.
        """
        return cls.from_toml_str(read_path(path, "from_toml"))

    @classmethod
    def from_toml_str(cls, text: str) -> RiskRegister:
        r"""From TOML text (the contents of a register file).

        >>> text = '[[risks]]\nid = "a"\nname = "A"\nprobability = 0.5\nimpact = { dist = "fixed", value = 1e6 }\nprofile = { "2019/20" = 1.0 }\n'
        >>> len(RiskRegister.from_toml_str(text))
        1
        >>> RiskRegister.from_toml(text)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fiscalrisk.exceptions.ValidationError: from_toml: takes a path, ... for text use from_toml_str(text)
        """
        if not isinstance(text, str):
            raise ValidationError(f"from_toml_str: expected TOML text (a str), got {type(text).__name__}")
        return cls._wrap(_native.RiskRegister.from_toml(utf8_text(text, "TOML text")))

    def to_dict(self) -> dict[str, Any]:
        """The dict form (defaults left out)."""
        d: dict[str, Any] = self._native.to_dict()
        return d

    @classmethod
    def from_json(cls, path: str | PathLike[str]) -> RiskRegister:
        """From a JSON file (a path); :meth:`from_json_str` reads JSON text."""
        return cls.from_dict(read_json_object(path, "from_json"))

    @classmethod
    def from_json_str(cls, text: str) -> RiskRegister:
        """From JSON text."""
        return cls.from_dict(json_object(text))

    def to_json(self) -> str:
        """JSON text that :meth:`from_json` reads back into an equal register."""
        import json

        return json.dumps(self.to_dict(), indent=2)

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml` reads back into an equal register."""
        return self._native.to_toml()

    @classmethod
    def from_frame(
        cls,
        df: pl.DataFrame,
        correlations: Iterable[CorrelationLike] | None = None,
        first_year: str | None = None,
        years: int | None = None,
        *,
        strict: bool = False,
    ) -> RiskRegister:
        """A register from a DataFrame with one row per risk, e.g. ``pl.read_excel("register.xlsx")``.

        Columns: ``id``, ``name``, ``probability``, ``dist`` (``fixed``, ``uniform``,
        ``triangular``, ``pert``, ``normal``, ``lognormal``, ``discrete``, ``empirical``) and
        that family's parameters (``value``; ``low``, ``mode``, ``high``, ``lamb``; ``mean``,
        ``sd``; ``mu``, ``sigma`` or ``p50``, ``p90``; ``values`` and ``weights`` or ``samples`` as
        text separated by ``;``), and optionally ``profile`` (text ``"2019/20: 0.4; 2020/21:
        0.6"``), ``recurring``, ``share``, ``cap``, ``category``, ``owner``. Empty cells are
        left out; numbers given as text (a CSV read with every column as text) are parsed; a
        cell that is not a number is reported by its row in the sheet (the headings being row 1,
        so the frame's row ``i`` is row ``i + 2``), the risk's id and the column; the core's
        messages name the same row and id before ``risks[i]``. Other columns are not read, with a
        :class:`FiscalRiskWarning` naming them.
        """
        missing = [c for c in ("id", "name", "probability", "dist") if c not in df.columns]
        if missing:
            raise ValidationError(f"columns: missing {', '.join(missing)} (has {', '.join(df.columns)})")
        unknown = [c for c in df.columns if c not in FRAME_COLUMNS]
        if unknown:
            warnings.warn(
                f"columns not read by RiskRegister.from_frame: {', '.join(unknown)}",
                FiscalRiskWarning,
                stacklevel=2,
            )
        risks = [_row_to_risk(row, i) for i, row in enumerate(df.iter_rows(named=True))]
        try:
            return cls(risks, correlations, first_year, years, strict=strict)
        except ValidationError as e:
            raise name_frame_row(e, "risks", df["id"].to_list()) from None

    def to_frame(self) -> pl.DataFrame:
        """One row per risk with the columns :meth:`from_frame` reads."""
        rows = []
        for r in self.to_dict()["risks"]:
            impact = dict(r["impact"])
            row: dict[str, Any] = {c: None for c in FRAME_COLUMNS}
            row.update(id=r["id"], name=r["name"], probability=r["probability"], dist=impact.pop("dist"))
            for k, v in impact.items():
                if k in _LISTS:
                    row[k] = ";".join(repr(float(x)) for x in v)
                elif k == "value":
                    row[k] = float(money_out(v))
                else:
                    row[k] = v
            if "profile" in r:
                row["profile"] = "; ".join(f"{y}: {f!r}" for y, f in r["profile"].items())
            row["recurring"] = bool(r.get("recurring", False))
            row["share"] = float(r.get("share", 1.0))
            row["cap"] = float(money_out(r["cap"])) if "cap" in r else None
            row["category"] = r.get("category")
            row["owner"] = r.get("owner")
            rows.append(row)
        schema: dict[str, Any] = {c: pl.Float64 for c in ["probability", *_PARAMETERS, "share", "cap"]}
        schema.update({c: pl.String for c in ["id", "name", "dist", *_LISTS, "profile", "category", "owner"]})
        schema["recurring"] = pl.Boolean
        return pl.DataFrame(rows, schema={c: schema[c] for c in FRAME_COLUMNS})

    @property
    def risks(self) -> list[Risk]:
        """The risks in order."""
        return [Risk.from_dict(r) for r in self.to_dict()["risks"]]

    @property
    def risk_ids(self) -> list[str]:
        """Risk ids in order."""
        return self._native.risk_ids()

    @property
    def periods(self) -> list[str]:
        """The plan's years (``2019/20``, ...)."""
        return self._native.periods()

    @property
    def correlations(self) -> list[Correlation]:
        """The rank correlations as ``(risk_id, risk_id, rho)``."""
        out = []
        for c in self.to_dict().get("correlations", []):
            a, b = c["risks"]
            out.append((str(a), str(b), float(c["rho"])))
        return out

    def expected_values(self) -> pl.DataFrame:
        """The probability-weighted cost of each risk in each year, computed exactly (or by
        numerical integration), not by simulation: ``probability * E[min(share * impact, cap)]``
        times the year's fraction. Columns ``risk_id``, ``period``, ``expected``."""
        return pl.DataFrame(self._native.expected_values())

    def __len__(self) -> int:
        return len(self.risk_ids)

    def __iter__(self) -> Iterator[Risk]:
        return iter(self.risks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RiskRegister) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.risk_ids))

    def __repr__(self) -> str:
        p = self.periods
        return f"RiskRegister({len(self)} risks, {p[0]} to {p[-1]})"

    def _repr_html_(self) -> str:
        ev = self.expected_values()["expected"].sum()
        p = self.periods
        return html_table(
            "RiskRegister",
            [
                ("risks", str(len(self))),
                ("years", f"{p[0]} to {p[-1]}"),
                ("correlations", str(len(self.correlations))),
                ("expected cost", pounds(float(ev))),
            ],
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (RiskRegister.from_dict, (self.to_dict(),))


def _correlation(c: Any, index: int) -> Any:
    """A correlation for the core: ``(a, b, rho)`` or ``{"risks": [a, b], "rho": rho}``."""
    if isinstance(c, Mapping):
        out = dict(c)
        if "rho" in out:
            out["rho"] = real(f"correlations[{index}].rho", out["rho"])
        return out
    if isinstance(c, (list, tuple)) and len(c) == 3:
        a, b, rho = c
        return [a, b, real(f"correlations[{index}].rho", rho)]
    raise ValidationError(
        f"correlations[{index}]: {c!r} is not (risk_id, risk_id, rho) or {{'risks': [risk_id, risk_id], 'rho': rho}}"
    )


def _risk_dict(r: Risk | Mapping[str, Any], index: int) -> dict[str, Any]:
    if isinstance(r, Risk):
        return r.to_dict()
    if not isinstance(r, Mapping):
        raise ValidationError(f"risks[{index}]: {r!r} is not a Risk or a dict")
    try:
        return Risk.from_dict(r).to_dict()
    except ValidationError as e:
        raise ValidationError(nest(f"risks[{index}]", str(e))) from None


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and v != ""


def _number(value: Any, index: int, column: str, risk_id: Any) -> Any:
    """A frame cell as a number: numbers as they are, numeric text (``"5000000"``,
    ``"1,250,000"``) parsed; anything else a ValidationError naming the frame's row and column."""
    if not isinstance(value, str):
        return value
    parsed = _native.parse_number(value)
    if parsed is None:
        raise ValidationError(f"row {sheet_row(index)} ({risk_id!r}), column {column}: {value!r} is not a number")
    return parsed


def _row_to_risk(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    where = f"risks[{index}]"
    impact: dict[str, Any] = {"dist": row["dist"]}
    for k in _PARAMETERS:
        if _present(row.get(k)):
            impact[k] = _number(row[k], index, k, row.get("id"))
    for k in _LISTS:
        if _present(row.get(k)):
            impact[k] = _split_numbers(row[k], f"{where}.impact.{k}")
    spec: dict[str, Any] = {
        "id": None if row["id"] is None else str(row["id"]),
        "name": row["name"],
        "probability": _number(row["probability"], index, "probability", row.get("id")) if _present(row["probability"]) else row["probability"],
        "impact": impact,
    }
    if _present(row.get("profile")):
        spec["profile"] = _parse_profile(str(row["profile"]), f"{where}.profile")
    if _present(row.get("recurring")):
        spec["recurring"] = _parse_bool(row["recurring"], f"{where}.recurring")
    for k in ("share", "cap"):
        if _present(row.get(k)):
            spec[k] = _number(row[k], index, k, row.get("id"))
    for k in ("category", "owner"):
        if _present(row.get(k)):
            spec[k] = row[k]
    return spec


def _split_numbers(text: Any, field: str) -> list[float]:
    if isinstance(text, (list, tuple)):
        return [float(x) for x in text]
    out = []
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise ValidationError(f"{field}: {part!r} is not a number") from None
    return out


def _parse_profile(text: str, field: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        year, sep, fraction = part.partition(":")
        if not sep:
            raise ValidationError(f"{field}: {part.strip()!r} is not 'year: fraction' (e.g. '2019/20: 0.4')")
        try:
            out[year.strip()] = float(fraction)
        except ValueError:
            raise ValidationError(f"{field}: {fraction.strip()!r} is not a number") from None
    return out


def _parse_bool(v: Any, field: str) -> bool:
    if isinstance(v, bool):
        return v
    parsed = _native.parse_bool(str(v))
    if parsed is None:
        raise ValidationError(f"{field}: {v!r} is not true or false")
    return parsed
