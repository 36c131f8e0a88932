"""A process that plans many times (a test suite, a service) keeps nothing of a finished run."""

from __future__ import annotations

import gc
from pathlib import Path

import pulumi
import pytest

from mlops_infra.engine import run_program

STACKS = Path(__file__).resolve().parents[2] / "stacks"


def _live_resources() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, pulumi.Resource))


@pytest.mark.parametrize(
    ("directory", "stack"),
    [("aws-sagemaker", "prod"), ("gcp-vertex", "prod"), ("k8s-kserve", "prod"), ("platform", "multi-prod")],
)
def test_no_resource_of_a_finished_run_stays_alive(directory: str, stack: str) -> None:
    run_program(STACKS / directory, stack)  # the first run loads the SDKs' modules
    baseline = _live_resources()
    for _ in range(2):
        captured = run_program(STACKS / directory, stack)
        assert len(captured.resources) > 50
        del captured
    # Per-stack tables (shared keys, agent grants, invoke answers) keyed so that they reach a run's
    # resources would keep every run alive: the count would grow by a run's resources each time.
    assert _live_resources() <= baseline
