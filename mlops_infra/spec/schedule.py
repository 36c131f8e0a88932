"""When something runs: a 5-field cron expression read in an IANA time zone, validated strictly.

One validator for every cloud: EventBridge Scheduler, Cloud Scheduler, Vertex schedules,
Kubernetes CronJobs and Argo CronWorkflows all receive a schedule that this module accepted,
spelled for them by the cloud's realization. An expression that can never fire
(``0 0 31 2 *``) is an error, not a schedule that silently never runs.
"""

from __future__ import annotations

import calendar
import functools
import re
import zoneinfo
from typing import NamedTuple

from pydantic import Field, field_validator

from mlops_infra.spec.base import Spec

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class _Field(NamedTuple):
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {m: i for i, m in enumerate(MONTH_NAMES, 1)}),
    _Field("day of week", 0, 7, {d: i for i, d in enumerate(DAY_NAMES)}),
)
_ITEM = re.compile(r"^(?P<base>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")
# Most days each month can have (February counts its leap day).
_MONTH_DAYS = {m: calendar.monthrange(2024, m)[1] for m in range(1, 13)}


class CronFields(NamedTuple):
    """The five fields of a cron expression, as written."""

    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str


def _value(token: str, spec: _Field) -> int:
    number = int(token) if token.isdigit() else spec.names.get(token.upper())
    if number is None or not spec.low <= number <= spec.high:
        raise ValueError(f"{spec.name} value {token!r} is outside {spec.low}-{spec.high}")
    return number


def _expand(text: str, spec: _Field) -> set[int]:
    """The values a cron field matches; raises ValueError naming the field on anything malformed."""
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise ValueError(f"{spec.name} {item!r} is not a cron item (*, N, N-M, */S or N-M/S)")
        base, step_text = match.group("base"), match.group("step")
        step = 1
        if step_text is not None:
            step = int(step_text)
            if not 1 <= step <= spec.high - spec.low + 1:
                raise ValueError(f"{spec.name} step {step_text} must be between 1 and {spec.high - spec.low + 1}")
        if base == "*":
            low, high = spec.low, spec.high
        else:
            bounds = [_value(part, spec) for part in base.split("-")]
            low = bounds[0]
            high = bounds[-1] if len(bounds) == 2 or step_text is None else spec.high
            if low > high:
                raise ValueError(f"{spec.name} range {base!r} runs backwards")
        values.update(range(low, high + 1, step))
    return values


def field_values(text: str, index: int) -> set[int]:
    """The values cron field ``index`` (0 minute, 1 hour, 2 day of month, 3 month, 4 day of week 0-7) matches."""
    return _expand(text, _FIELDS[index])


def cron_fields(expression: str) -> CronFields:
    """Split and validate a 5-field cron expression; raises ValueError with the reason."""
    text = expression.strip()
    if text.startswith(("CRON_TZ=", "TZ=")) or "TZ=" in text:
        raise ValueError("put the time zone in time_zone, not in the cron expression (CRON_TZ=/TZ= are refused)")
    if text.startswith("@") or text.startswith(("cron(", "rate(")):
        raise ValueError(
            f"{expression!r} is not a 5-field cron expression; write it as minute hour day-of-month month day-of-week"
        )
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(
            f"{expression!r} must have 5 fields (minute hour day-of-month month day-of-week), not {len(parts)}"
        )
    expanded = [_expand(part, spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    days, months = expanded[2], expanded[3]
    day_of_week_restricted = parts[4] != "*"
    if not day_of_week_restricted and not any(day <= _MONTH_DAYS[m] for m in months for day in days):
        raise ValueError(f"{expression!r} never fires: no selected month has the selected day of month")
    return CronFields(*parts)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str) -> str:
    """An IANA time zone name such as ``UTC`` or ``Europe/Berlin``."""
    zones = _time_zones()
    known = name in zones if zones else False
    if not known:
        try:
            zoneinfo.ZoneInfo(name)
            known = bool(re.fullmatch(r"[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*", name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            known = False
    if not known:
        raise ValueError(f"{name!r} is not an IANA time zone name (for example UTC or Europe/Berlin)")
    return name


class Schedule(Spec):
    """A recurring run: ``cron`` (5 fields, e.g. ``0 3 * * 1`` = Mondays 03:00) read in ``time_zone``."""

    cron: str = Field(description="5-field cron: minute hour day-of-month month day-of-week.")
    time_zone: str = Field("UTC", description="IANA time zone the cron expression is read in.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return " ".join(cron_fields(value))

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @property
    def fields(self) -> CronFields:
        """The five validated fields."""
        return cron_fields(self.cron)
