"""The one cron validator: strict 5-field cron read in an IANA time zone."""

import pytest
from pydantic import ValidationError

from mlops_infra.spec import Schedule
from mlops_infra.spec.schedule import cron_fields


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("99 99 * * *", "minute value '99' is outside 0-59"),
        ("*/0 * * * *", "minute step 0 must be between 1 and 60"),
        ("0 25 31 2 *", "hour value '25' is outside 0-23"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 30,31 2 *", "never fires"),
        ("0 3 * *", "must have 5 fields"),
        ("0 3 * * * 2026", "must have 5 fields"),
        ("cron(0 3 ? * MON *)", "not a 5-field cron expression"),
        ("@daily", "not a 5-field cron expression"),
        ("CRON_TZ=UTC 0 3 * * *", "put the time zone in time_zone"),
        ("0 3 5-1 * *", "runs backwards"),
        ("0 3 * 13 *", "month value '13' is outside 1-12"),
        ("0 3 * * FUNDAY", "day of week value 'FUNDAY'"),
        ("0 3 * * 8", "day of week value '8' is outside 0-7"),
        ("0 3 ? * 1", "not a cron item"),
        ("0 3 L * *", "day of month value 'L'"),
        ("a b c d e", "minute value 'a'"),
    ],
)
def test_invalid_cron_is_refused_with_the_reason(cron, reason):
    with pytest.raises(ValidationError) as error:
        Schedule(cron=cron)
    assert error.value.errors()[0]["loc"] == ("cron",)
    assert reason in str(error.value)


@pytest.mark.parametrize(
    "cron",
    [
        "0 3 * * 1",
        "*/15 * * * *",
        "0 0 29 2 *",
        "0 0 31 2 1",
        "30 2 1-7 * MON",
        "0 9-17/2 * * MON-FRI",
        "0 0 1 JAN,JUL *",
    ],
)
def test_valid_cron_is_kept_with_normalised_spacing(cron):
    assert Schedule(cron=f"  {cron}  ").cron == " ".join(cron.split())


def test_day_of_week_or_semantics_keeps_impossible_day_of_month_valid():
    # With a day-of-week, cron fires on either condition, so Feb 31 OR Mondays is a real schedule.
    assert cron_fields("0 0 31 2 1").day_of_week == "1"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/berlin ", "CET; rm -rf /", "", "UTC+2"])
def test_unknown_time_zone_is_refused(zone):
    with pytest.raises(ValidationError) as error:
        Schedule(cron="0 3 * * 1", time_zone=zone)
    assert error.value.errors()[0]["loc"] == ("time_zone",)
    assert "IANA time zone" in str(error.value)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+2"])
def test_iana_time_zones_are_accepted(zone):
    assert Schedule(cron="0 3 * * 1", time_zone=zone).time_zone == zone


def test_fields_split_the_expression():
    fields = Schedule(cron="5 4 * JAN MON").fields
    assert (fields.minute, fields.hour, fields.day_of_month, fields.month, fields.day_of_week) == (
        "5",
        "4",
        "*",
        "JAN",
        "MON",
    )
