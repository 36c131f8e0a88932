"""The aws-sagemaker stack takes the one schedule vocabulary (5-field cron) and writes it for EventBridge."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.spec import Schedule

STACK = Path(__file__).resolve().parents[2] / "stacks" / "aws-sagemaker"


@pytest.mark.parametrize(
    ("cron", "written"),
    [
        ("0 3 * * MON", "cron(0 3 ? * MON *)"),
        ("0 6 * * 1-5", "cron(0 6 ? * MON-FRI *)"),  # cron counts days from SUN=0, EventBridge from SUN=1
        ("30 2 1 * *", "cron(30 2 1 * ? *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
    ],
)
def test_five_field_cron_is_written_for_eventbridge(cron, written):
    assert eventbridge_cron(Schedule(cron=cron)) == written


def test_the_stack_plans_its_schedule_in_eventbridge_form():
    stack = run_program(STACK, "prod")
    (schedule,) = stack.by_type("aws:scheduler/schedule:Schedule")
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 ? * MON *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "Europe/Berlin"


def test_an_eventbridge_spelling_in_stack_config_is_refused_naming_the_key():
    with pytest.raises(ProgramError, match=r"training\.schedule.*not a 5-field cron expression"):
        run_program(STACK, "dev", ['training={"schedule": "cron(0 3 ? * MON *)"}'])
