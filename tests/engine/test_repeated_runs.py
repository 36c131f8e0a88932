"""A process that plans many times (a test suite, a service) keeps nothing of a finished run."""

from __future__ import annotations

import gc
from pathlib import Path

import pulumi

from mlops_infra.engine import run_program

STACK = Path(__file__).resolve().parents[2] / "stacks" / "aws-sagemaker"


def _live_resources() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, pulumi.Resource))


def test_no_resource_of_a_finished_run_stays_alive() -> None:
    run_program(STACK, "prod")  # the first run loads the SDKs' modules
    baseline = _live_resources()
    for _ in range(2):
        stack = run_program(STACK, "prod")
        assert len(stack.resources) > 100
        del stack
    # Caches that reach a run's resources (an invoke answer kept per stack, say) would keep every run alive.
    assert _live_resources() <= baseline
