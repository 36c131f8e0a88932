"""A spec :class:`~mlops_infra.spec.Schedule` (5-field cron) written the way EventBridge Scheduler reads it.

EventBridge takes ``cron(minutes hours day-of-month month day-of-week year)`` with ``?`` in exactly
one of the two day fields, and numbers days of the week 1-7 from Sunday (cron: 0-7, Sunday is 0
and 7). A 5-field cron that restricts both day fields means "either day" in cron, which
EventBridge cannot say: :func:`eventbridge_cron` refuses it instead of changing its meaning.
"""

from __future__ import annotations

from mlops_infra.spec.schedule import DAY_NAMES, Schedule, field_values

_DAY_OF_WEEK = 4
_LOWEST = {0: 0, 1: 0, 2: 1, 3: 1}  # minute, hour, day of month, month: where "*/n" starts


def _step_field(text: str, index: int) -> str:
    """Minutes, hours, day of month or month: ``*/n`` starts at the field's lowest value (``0/15``)."""
    items: list[str] = []
    for item in text.split(","):
        base, slash, step = item.partition("/")
        if slash and base == "*":
            items.append(f"{_LOWEST[index]}/{step}")
        elif slash and "-" in base:
            # A stepped range (1-30/5) is spelled out: EventBridge documents steps from a start value only.
            items.extend(str(value) for value in sorted(field_values(item, index)))
        else:
            items.append(item.upper())
    return ",".join(items)


def _days_of_week(text: str) -> str:
    """Cron days (0-7, Sunday 0 or 7) as EventBridge day names in runs, e.g. ``1-5`` -> ``MON-FRI``."""
    days = sorted({value % 7 for value in field_values(text, _DAY_OF_WEEK)})
    if len(days) == len(DAY_NAMES):
        return "*"
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" for run in runs)


def eventbridge_cron(schedule: Schedule) -> str:
    """``cron(m h dom mon dow *)`` for EventBridge Scheduler; the time zone goes in its own property.

    Raises ValueError when the expression restricts both day of month and day of week.
    """
    minute, hour, day_of_month, month, day_of_week = schedule.fields
    if day_of_month != "*" and day_of_week != "*":
        raise ValueError(
            f"{schedule.cron!r} restricts both day of month and day of week; EventBridge Scheduler can run on one "
            "of them only (cron(...) takes '?' in the other): use two schedules or drop one of the two"
        )
    if day_of_week == "*":
        dom, dow = _step_field(day_of_month, 2), "?"
    else:
        dom, dow = "?", _days_of_week(day_of_week)
    return f"cron({_step_field(minute, 0)} {_step_field(hour, 1)} {dom} {_step_field(month, 3)} {dow} *)"


def model_monitor_cron(schedule: Schedule) -> str:
    """SageMaker Model Monitor's ``cron(0 * ? * * *)`` (hourly) or ``cron(0 H ? * * *)`` (daily, UTC).

    Model Monitor runs on the hour, hourly or once a day, in UTC, and accepts nothing else: an
    hourly cron may be read in any time zone (whole hours), a daily one must be in UTC.
    Raises ValueError otherwise.
    """
    minute, hour, day_of_month, month, day_of_week = schedule.fields
    daily = hour.isdigit() and schedule.time_zone in ("UTC", "Etc/UTC")
    if minute != "0" or (day_of_month, month, day_of_week) != ("*", "*", "*") or not (hour == "*" or daily):
        raise ValueError(
            f"{schedule.cron!r} ({schedule.time_zone}): SageMaker Model Monitor runs hourly ('0 * * * *') or daily "
            "at a UTC hour ('0 H * * *' with time_zone UTC)"
        )
    return f"cron(0 {hour} ? * * *)"
