"""The dated price catalogue: one YAML file per provider in ``data/``, plus the user's override file.

Every row carries its source, the date the source states, and a confidence grade (P primary-quoted,
S provider sample, C community consensus, D derived by a documented rule, N not found). Rows graded
N have ``usd: null`` and are never priced: a lookup that lands on one returns no price and says why.

Regions: a row names its region (or ``all``). A provider file may carry a ``region_multipliers``
table over its ``base_region``; a region that has neither an explicit row, an ``all`` row nor a
multiplier gets no price and a warning the caller shows -- never a silent base-region price.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlops_infra.engine.errors import ProgramError, validation_message
from mlops_infra.engine.yaml_load import safe_load

PROVIDERS: tuple[str, ...] = ("aws", "gcp", "k8s")
GRADES: tuple[str, ...] = ("P", "S", "C", "D", "N")
ALL_REGIONS = "all"
MONTH_HOURS = 730

# The closed set of billing units a row may use.
UNITS: frozenset[str] = frozenset(
    {
        "instance-hour",  # a VM or ML instance running for an hour
        "node-hour",  # a Vertex training/prediction/feature-store node for an hour
        "accelerator-hour",  # one GPU/TPU attached to a Vertex node
        "vCPU-hour",
        "GB-hour",
        "GPU-hour",
        "vCPU-second",
        "GB-second",
        "inference-second",  # serverless inference duration at the row's memory size
        "second",
        "GB",  # data processed
        "GB-month",
        "million-requests",
        "run",
        "execution",
        "alarm-month",
        "metric-month",
        "cluster-hour",
        "DCU-hour",  # Cloud Composer 3 data compute unit for an hour
    }
)

Grade = Literal["P", "S", "C", "D", "N"]
RowKey = tuple[str, str, str, str, str]  # provider, service, sku, region, unit


class CatalogueError(ProgramError, ValueError):
    """A price file that cannot be used; the message names the file and the row (CLI exit code 2)."""


class PriceRow(BaseModel):
    """One price: ``usd`` per ``unit`` of ``sku`` in ``service``, in ``region``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str = Field("", description="aws, gcp or k8s; set from the file for packaged rows.")
    service: str = Field(min_length=1)
    sku: str = Field(min_length=1, description="Instance/machine type, accelerator or meter name.")
    unit: str
    usd: float | None = Field(ge=0, description="USD per unit; null only for grade N rows.")
    region: str = Field(min_length=1, description=f"Provider region, or {ALL_REGIONS!r}.")
    source: str = Field(min_length=1, description="Source key and short reference (prices.md section 5).")
    source_date: str = Field(min_length=1, description="Date the source states (YYYY[-MM[-DD]] or 'undated').")
    grade: Grade

    @field_validator("source_date", mode="before")
    @classmethod
    def _date_text(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"unit {value!r} is not one of {', '.join(sorted(UNITS))}")
        return value

    @model_validator(mode="after")
    def _priced_unless_n(self) -> PriceRow:
        if self.grade == "N" and self.usd is not None:
            raise ValueError("a grade N row (not found) carries no price: set usd to null")
        if self.grade != "N" and self.usd is None:
            raise ValueError(f"usd is null but the grade is {self.grade}: a row without a price is graded N")
        return self

    @property
    def key(self) -> RowKey:
        return (self.provider, self.service, self.sku, self.region, self.unit)

    @property
    def priced(self) -> bool:
        return self.usd is not None


class PriceFile(BaseModel):
    """A packaged provider file: a dated header and its rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str
    refreshed: dt.date
    month_hours: int = Field(MONTH_HOURS, ge=1)
    base_region: str | None = None
    region_multipliers: dict[str, float] = Field(default_factory=dict)
    rows: tuple[PriceRow, ...]
    not_yet_priced: dict[str, tuple[str, ...]] = Field(default_factory=dict)


@dataclass(frozen=True)
class PriceLookup:
    """The result of a regional lookup: a row (possibly scaled by a regional multiplier) or a warning.

    ``row`` is None when nothing may be priced; ``warning`` then says why, in words a user can act on.
    ``warning`` is also set when a price was found only through a multiplier, so the caller can show it.
    """

    row: PriceRow | None
    warning: str | None = None

    @property
    def usd(self) -> float | None:
        return self.row.usd if self.row is not None else None


@dataclass
class Catalogue:
    """Price rows of every provider, the user's overrides applied."""

    files: dict[str, PriceFile]
    rows: dict[RowKey, PriceRow]
    refreshed: dict[str, dt.date]  # file label -> refreshed date (packaged files and a dated override)

    @property
    def date(self) -> dt.date:
        """The oldest ``refreshed`` date of the loaded files: the JSON ``cost.catalogue.date``."""
        return min(self.refreshed.values())

    @property
    def month_hours(self) -> int:
        return MONTH_HOURS

    def not_yet_priced(self, provider: str, service: str) -> tuple[str, ...]:
        """SKUs the product admits but the catalogue knowingly does not price yet (listed in the data)."""
        file = self.files.get(provider)
        return file.not_yet_priced.get(service, ()) if file else ()

    def _matches(self, provider: str, service: str, sku: str, region: str, unit: str | None) -> list[PriceRow]:
        return [
            row
            for row in self.rows.values()
            if row.provider == provider
            and row.service == service
            and row.sku == sku
            and row.region == region
            and (unit is None or row.unit == unit)
        ]

    def _one(self, provider: str, service: str, sku: str, region: str, unit: str | None) -> PriceRow | None:
        found = self._matches(provider, service, sku, region, unit)
        if len(found) > 1:
            units = ", ".join(sorted(r.unit for r in found))
            raise CatalogueError(
                f"{provider} {service} {sku} in {region} has rows in several units ({units}): pass unit=..."
            )
        return found[0] if found else None

    def lookup(self, provider: str, service: str, sku: str, region: str, unit: str | None = None) -> PriceLookup:
        """The price of ``sku`` in ``region``, with a warning when the region or the row cannot be priced.

        Order: an explicit row for the region; a row for ``all`` regions; the base-region row times the
        file's regional multiplier. A grade N row, or an unknown region, gives no price and a warning.
        """
        what = f"{provider} {service} {sku}"
        row = self._one(provider, service, sku, region, unit) or self._one(provider, service, sku, ALL_REGIONS, unit)
        if row is not None:
            if not row.priced:
                return PriceLookup(None, f"{what} in {region} is not priced (grade N: {row.source})")
            return PriceLookup(row)
        file = self.files.get(provider)
        base = file.base_region if file else None
        multiplier = file.region_multipliers.get(region) if file else None
        base_row = self._one(provider, service, sku, base, unit) if base else None
        if base_row is None:
            if self._matches_any_region(provider, service, sku):
                known = ", ".join(sorted({r.region for r in self.rows.values() if r.provider == provider}))
                return PriceLookup(
                    None,
                    f"{what} has no price for region {region!r} (priced regions: {known}; no regional multiplier). "
                    "Add a row for this region to your price override file.",
                )
            return PriceLookup(None, f"{what} is not in the price catalogue")
        if multiplier is None:
            return PriceLookup(
                None,
                f"{what}: region {region!r} is not in the catalogue's regional multiplier table; the {base} "
                f"price is not used for it. Add a row for {region} to your price override file.",
            )
        if not base_row.priced or base_row.usd is None:
            return PriceLookup(None, f"{what} is not priced (grade N: {base_row.source})")
        scaled = base_row.model_copy(
            update={
                "usd": round(base_row.usd * multiplier, 10),
                "region": region,
                "source": f"{base_row.source}; x{multiplier} regional multiplier over {base}",
                "grade": "D" if base_row.grade in ("P", "S") else base_row.grade,
            }
        )
        warning = None if multiplier == 1.0 else f"{what} in {region}: {base} price x{multiplier} (regional multiplier)"
        return PriceLookup(scaled, warning)

    def _matches_any_region(self, provider: str, service: str, sku: str) -> bool:
        return any(r.provider == provider and r.service == service and r.sku == sku for r in self.rows.values())

    def price(self, provider: str, service: str, sku: str, region: str, unit: str | None = None) -> PriceRow | None:
        """The priced row for ``sku`` in ``region``, or None (unknown, not priced, or unknown region).

        Use ``lookup`` to get the reason as a warning the user can read.
        """
        return self.lookup(provider, service, sku, region, unit).row


def _location(label: str, index: int, raw: Any) -> str:
    sku = raw.get("sku") if isinstance(raw, Mapping) else None
    return f"{label}: rows[{index}]" + (f" (sku {sku})" if sku else "")


def _error_text(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else validation_message(err["msg"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _read_yaml(path: Path | str, text: str) -> Any:
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc


def _rows(label: str, raw_rows: Any, provider: str | None) -> list[PriceRow]:
    if not isinstance(raw_rows, list):
        raise CatalogueError(f"{label}: 'rows' must be a list of price rows")
    rows = []
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, Mapping):
            raise CatalogueError(f"{_location(label, index, raw)}: a row is a mapping of fields")
        data = dict(raw)
        if provider is not None:
            if data.get("provider", provider) != provider:
                raise CatalogueError(f"{_location(label, index, raw)}: provider must be {provider!r} in this file")
            data["provider"] = provider
        elif data.get("provider") not in PROVIDERS:
            raise CatalogueError(
                f"{_location(label, index, raw)}: provider must be one of {', '.join(PROVIDERS)}, "
                f"got {data.get('provider')!r}"
            )
        try:
            rows.append(PriceRow.model_validate(data))
        except pydantic.ValidationError as exc:
            raise CatalogueError(f"{_location(label, index, raw)}: {_error_text(exc)}") from exc
    return rows


def _index(label: str, rows: Iterable[PriceRow]) -> dict[RowKey, PriceRow]:
    indexed: dict[RowKey, PriceRow] = {}
    for row in rows:
        if row.key in indexed:
            raise CatalogueError(f"{label}: duplicate row {'/'.join(row.key)}")
        indexed[row.key] = row
    return indexed


def load_packaged(provider: str) -> PriceFile:
    """One packaged provider file, validated."""
    label = f"mlops_infra/cost/data/{provider}.yaml"
    text = resources.files("mlops_infra.cost").joinpath("data", f"{provider}.yaml").read_text(encoding="utf-8")
    return parse_price_file(label, text, provider)


def parse_price_file(label: str, text: str, provider: str) -> PriceFile:
    """A provider file's text, validated; ``label`` names it in errors."""
    data = _read_yaml(label, text)
    if not isinstance(data, Mapping):
        raise CatalogueError(f"{label}: a price file is a mapping with provider, refreshed and rows")
    rows = _rows(label, data.get("rows"), provider)
    _index(label, rows)
    header = {k: v for k, v in data.items() if k != "rows"}
    try:
        return PriceFile.model_validate({**header, "rows": rows})
    except pydantic.ValidationError as exc:
        raise CatalogueError(f"{label}: {_error_text(exc)}") from exc


_OVERRIDE_KEYS = {"rows", "refreshed"}


def load_catalogue(extra: Path | None = None) -> Catalogue:
    """The packaged catalogue, with ``extra`` (the user's override file) merged over it.

    The override file is YAML or JSON: ``rows`` (required; the packaged row shape plus ``provider``)
    and optionally ``refreshed``. A user row replaces the packaged row with the same
    provider/service/sku/region/unit and otherwise adds one. Unknown fields are errors naming the
    file and the row.
    """
    files = {provider: load_packaged(provider) for provider in PROVIDERS}
    rows: dict[RowKey, PriceRow] = {}
    for file in files.values():
        rows.update(_index(file.provider, file.rows))
    refreshed = {f"{p}.yaml": f.refreshed for p, f in files.items()}
    if extra is not None:
        path = Path(extra)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogueError(f"{path}: cannot read the price override file: {exc.strerror or exc}") from exc
        data = _read_yaml(path, text)
        if not isinstance(data, Mapping) or "rows" not in data:
            raise CatalogueError(f"{path}: a price override file is a mapping with 'rows' (and optional 'refreshed')")
        unknown = sorted(str(k) for k in data if k not in _OVERRIDE_KEYS)
        if unknown:
            raise CatalogueError(f"{path}: unknown top-level keys {', '.join(unknown)} (allowed: refreshed, rows)")
        rows.update(_index(str(path), _rows(str(path), data["rows"], None)))
        if data.get("refreshed") is not None:
            when = data["refreshed"]
            if isinstance(when, str):
                try:
                    when = dt.date.fromisoformat(when)
                except ValueError as exc:
                    raise CatalogueError(f"{path}: refreshed must be a date (YYYY-MM-DD), got {when!r}") from exc
            if not isinstance(when, dt.date):
                raise CatalogueError(f"{path}: refreshed must be a date (YYYY-MM-DD), got {when!r}")
            refreshed[str(path)] = when
    return Catalogue(files=files, rows=rows, refreshed=refreshed)
