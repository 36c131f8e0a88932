"""Offline plans of the shipped stacks, cached once per session for the cost tests (never mutate them)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_infra.engine import CapturedStack, run_program

STACKS_ROOT = Path(__file__).resolve().parents[2] / "stacks"
_PLANS: dict[tuple[str, str], CapturedStack] = {}


def plan(project: str, stack: str) -> CapturedStack:
    key = (project, stack)
    if key not in _PLANS:
        _PLANS[key] = run_program(STACKS_ROOT / project, stack, [])
    return _PLANS[key]


@pytest.fixture(scope="session")
def planned() -> Callable[[str, str], CapturedStack]:
    """``planned(project, stack)`` -> the cached offline plan of ``stacks/<project>`` for ``stack``."""
    return plan
