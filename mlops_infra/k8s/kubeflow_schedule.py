"""The spec's 5-field cron spelled for Kubeflow Pipelines' ScheduledWorkflow controller.

KFP's controller (``backend/src/crd/controller/scheduledworkflow``, KFP 2.17.0) parses
``spec.trigger.cronSchedule.cron`` with ``robfig/cron`` v1.2.0's ``cron.Parse``: six fields with
**seconds first**, day of week 0-6 (no 7), and no per-schedule time zone. Every schedule is read in
one location for the whole installation: the controller's ``CRON_SCHEDULE_TIMEZONE``
(``pipeline-install-config``'s ``cronScheduleTimezone``; empty = the container's local time, UTC).
So a schedule whose ``time_zone`` differs from that location is refused, never shifted silently.
"""

from __future__ import annotations

from mlops_infra.spec.schedule import Schedule, field_values

DAY_OF_WEEK = 4  # index of the day-of-week field in a 5-field expression


def kfp_cron(schedule: Schedule) -> str:
    """``minute hour dom month dow`` -> ``0 minute hour dom month dow`` (fires at second 0).

    A day of week that names 7 (Sunday, which robfig/cron does not accept) is rewritten as the
    list of its days 0-6; ``*``-based fields are kept, so the day-of-month/day-of-week "either
    matches" rule of cron (a restricted day of week) is unchanged.
    """
    fields = schedule.fields
    day_of_week = fields.day_of_week
    days = field_values(day_of_week, DAY_OF_WEEK)
    if not day_of_week.startswith("*") and 7 in days:
        day_of_week = ",".join(str(day) for day in sorted({day % 7 for day in days}))
    return " ".join(("0", fields.minute, fields.hour, fields.day_of_month, fields.month, day_of_week))


def check_schedule_zone(schedule: Schedule, controller_time_zone: str) -> Schedule:
    """``schedule`` when it is read in the controller's zone; else a ValueError naming both zones."""
    if schedule.time_zone != controller_time_zone:
        raise ValueError(
            f"Kubeflow Pipelines reads every recurring run's cron in one zone for the whole installation "
            f"(the ScheduledWorkflow controller's CRON_SCHEDULE_TIMEZONE, here {controller_time_zone!r}), not per "
            f"schedule: write the cron in {controller_time_zone} or set controller_time_zone to the installation's "
            f"zone (the schedule says {schedule.time_zone!r})"
        )
    return schedule
