"""Runs per month of a schedule expression, counted exactly (no guess).

A month is 30.4 days (365 / 12, rounded as the cost model documents). ``cron(...)`` (EventBridge
Scheduler / SageMaker, 6 fields with a year) and 5-field crons are expanded over one full
400-year Gregorian cycle (146,097 days, which repeats exactly), so the average fires per day is
exact; ``rate(N unit)`` divides the month. Time zones do not change the count (a daylight-saving
shift can move one run by an hour, not add or remove one, except for local times inside the
skipped or repeated hour, which this count ignores).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections import Counter

from mlops_infra.spec.schedule import field_values

MONTH_DAYS = 30.4
_CYCLE_DAYS = 146_097  # 400 Gregorian years
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


class ScheduleError(ValueError):
    """An expression the estimator cannot count; the message says why."""


def _aws_day_of_week(text: str) -> str:
    """AWS numbers days 1-7 from Sunday; the spec helpers use 0-6 from Sunday (names are shared)."""

    def shift(match: re.Match[str]) -> str:
        value = int(match.group(0))
        if not 1 <= value <= 7:
            raise ScheduleError(f"day-of-week value {value} is outside 1-7")
        return str(value - 1)

    if "/" in text:
        base, step = text.split("/", 1)
        return re.sub(r"\d+", shift, base) + "/" + step
    return re.sub(r"\d+", shift, text)


@functools.cache
def _month_shapes(months: frozenset[int]) -> Counter[tuple[int, int]]:
    """How many of the cycle's months (among ``months``) start on each weekday (0 = Sunday) with each length.

    A month's matching days depend only on its length and the weekday it starts on, so the 400-year
    cycle (4,800 months) is counted by shape instead of day by day.
    """
    shapes: Counter[tuple[int, int]] = Counter()
    for year in range(2000, 2400):  # any 400 consecutive years: the cycle repeats exactly
        for month in months:
            first_weekday, length = calendar.monthrange(year, month)  # Monday = 0
            shapes[((first_weekday + 1) % 7, length)] += 1
    return shapes


@functools.cache
def runs_per_month(expression: str) -> float:
    """Average fires in a 30.4-day month of ``cron(...)``, ``rate(...)`` or a 5-field cron."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1:
            raise ScheduleError(f"{expression!r}: a rate must be at least 1")
        return MONTH_DAYS * 1440 / (value * _UNIT_MINUTES[unit])
    if text.startswith("at("):
        raise ScheduleError(f"{expression!r} is a one-time schedule: it runs once, not monthly")
    parts, aws = _cron_parts(expression, text)
    minute, hour, dom, month, dow = parts[:5]
    try:
        dow_text = _aws_day_of_week(dow) if aws and dow not in ("?", "*") else dow
        per_day = len(field_values(minute, 0)) * len(field_values(hour, 1))
        days = field_values(dom.replace("?", "*"), 2)
        months = field_values(month, 3)
        weekdays = {d % 7 for d in field_values(dow_text.replace("?", "*"), 4)}
    except ValueError as exc:
        raise ScheduleError(f"{expression!r}: {exc}") from exc
    dom_any, dow_any = dom in ("*", "?"), dow in ("*", "?")
    matching = 0
    for (first_weekday, length), count in _month_shapes(frozenset(months)).items():
        for day in range(1, length + 1):
            in_dom = dom_any or day in days
            in_dow = dow_any or (first_weekday + day - 1) % 7 in weekdays
            # Both restricted: Vixie cron fires on either field; otherwise the restricted one decides.
            if (in_dom or in_dow) if not (dom_any or dow_any) else (in_dom and in_dow):
                matching += count
    return matching * per_day * MONTH_DAYS / _CYCLE_DAYS


def _cron_parts(expression: str, text: str) -> tuple[list[str], bool]:
    """The fields of ``cron(...)`` (AWS, 6 fields) or a 5-field cron, and whether it is the AWS form."""
    if text.startswith("cron(") and text.endswith(")"):
        parts = text[5:-1].split()
        if len(parts) != 6:
            raise ScheduleError(f"{expression!r}: cron(...) has 6 fields (minute hour day month weekday year)")
        if parts[5] != "*":
            raise ScheduleError(f"{expression!r}: a year restriction is not counted as a monthly schedule")
        aws = True
    else:
        parts = text.split()
        if len(parts) != 5:
            raise ScheduleError(f"{expression!r} is neither cron(...), rate(...) nor a 5-field cron")
        aws = False
    if any(ch in "".join(parts) for ch in "LW#"):
        raise ScheduleError(f"{expression!r}: L, W and # are not counted by the estimator")
    return parts, aws


# Kubernetes / Argo cron macros (robfig/cron, which both use), as the 5-field crons they stand for.
CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def cron_runs_per_month(expression: str) -> float:
    """Runs per month of a Kubernetes/Argo/Cloud Scheduler cron: a ``CRON_TZ=``/``TZ=`` prefix is dropped
    (time zones do not change the count) and ``@daily``-style macros are expanded."""
    text = re.sub(r"^(CRON_TZ|TZ)=\S+\s+", "", expression.strip())
    return runs_per_month(CRON_MACROS.get(text, text))
