"""The aws-sagemaker stack reads schedules written for EventBridge as the 5-field cron the library takes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.spec import Schedule

STACK_SPEC = Path(__file__).resolve().parents[2] / "stacks" / "aws-sagemaker" / "spec.py"


def stack_spec() -> ModuleType:
    loaded = importlib.util.spec_from_file_location("aws_sagemaker_stack_spec", STACK_SPEC)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("written", "cron"),
    [
        ("cron(0 3 ? * MON *)", "0 3 * * MON"),
        ("cron(0 6 ? * 2-6 *)", "0 6 * * 1-5"),  # EventBridge counts days from SUN=1, cron from SUN=0
        ("cron(30 2 1 * ? *)", "30 2 1 * *"),
        ("0 3 * * 1", "0 3 * * 1"),  # already a 5-field cron
    ],
)
def test_eventbridge_config_becomes_a_five_field_cron(written, cron):
    assert stack_spec().five_field_cron(written) == cron


@pytest.mark.parametrize("written", ["cron(0 3 ? * MON *)", "cron(0 6 ? * 2-6 *)", "cron(30 2 1 * ? *)"])
def test_written_back_for_eventbridge_it_is_the_same_schedule(written):
    cron = stack_spec().five_field_cron(written)
    assert eventbridge_cron(Schedule(cron=cron)) == written.replace("2-6", "MON-FRI")
