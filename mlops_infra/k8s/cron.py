"""Cron schedules as Kubernetes CronJobs and Argo CronWorkflows accept them (five fields or a macro).

Checked here, at plan time, because the API server would only reject a bad schedule at
deploy time (and Argo only when the controller parses it, after the object was created).
"""

from __future__ import annotations

import re
import zoneinfo

MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTHS = {
    m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
# (name, lowest, highest, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"^(\*|\?|[A-Za-z0-9]+(-[A-Za-z0-9]+)?)(/([0-9]+))?$")


def _value(token: str, field: str, low: int, high: int, names: dict[str, int]) -> int:
    number = names.get(token.upper()) if not token.isdigit() else int(token)
    if number is None or not low <= number <= high:
        raise ValueError(f"{field} value {token!r} is outside {low}-{high}")
    return number


def _check_field(text: str, field: str, low: int, high: int, names: dict[str, int]) -> None:
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise ValueError(f"{field} {item!r} is not a cron item (*, N, N-M, */S, N-M/S)")
        base, _, _, step = match.groups()
        if step is not None and not 1 <= int(step) <= high:
            raise ValueError(f"{field} step {step} must be between 1 and {high}")
        if base in ("*", "?"):
            continue
        bounds = [_value(part, field, low, high, names) for part in base.split("-")]
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise ValueError(f"{field} range {base!r} runs backwards")


def cron_schedule(schedule: str) -> str:
    """Validator: ``schedule`` unchanged if it is a 5-field cron expression or a macro like ``@daily``."""
    text = schedule.strip()
    if text in MACROS:
        return text
    if "TZ=" in text:
        raise ValueError("put the time zone in the timezone setting, not in the schedule (CRON_TZ/TZ are rejected)")
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"{schedule!r} must have 5 fields (minute hour day-of-month month day-of-week) or be a macro")
    for value, (field, low, high, names) in zip(fields, _FIELDS, strict=True):
        _check_field(value, field, low, high, names)
    return " ".join(fields)


def time_zone(name: str) -> str:
    """Validator: an IANA time zone name (e.g. ``Europe/Berlin``)."""
    if not re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", name):
        raise ValueError(f"{name!r} is not an IANA time zone name")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone name") from exc
    return name
