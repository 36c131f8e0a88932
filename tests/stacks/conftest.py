"""Shared by the tests of the shipped stacks: each (stack directory, stack) is planned once per session."""

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_infra.engine import CapturedStack, run_program

STACKS_ROOT = Path(__file__).resolve().parents[2] / "stacks"

_PLANS: dict[tuple[str, str], CapturedStack] = {}


def plan_stack(stack_dir: str, stack: str) -> CapturedStack:
    """The offline plan of ``stacks/<stack_dir>`` for ``stack`` (its Pulumi.<stack>.yaml), cached per session.

    Tests must not mutate the returned stack: other tests share it.
    """
    key = (stack_dir, stack)
    if key not in _PLANS:
        _PLANS[key] = run_program(STACKS_ROOT / stack_dir, stack, [])
    return _PLANS[key]


@pytest.fixture(scope="session")
def planned() -> Callable[[str, str], CapturedStack]:
    """``planned(stack_dir, stack)`` -> the stack's cached offline plan."""
    return plan_stack
