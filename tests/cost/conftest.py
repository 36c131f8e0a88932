"""Offline plans of the shipped stacks, cached once per session for the cost tests (never mutate them)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_infra.engine import CapturedStack, run_program

STACKS_ROOT = Path(__file__).resolve().parents[2] / "stacks"
_PLANS: dict[tuple[str, str], CapturedStack] = {}


def shipped_stacks() -> list[tuple[str, str]]:
    """(project directory, stack) of every Pulumi.<stack>.yaml of every project under stacks/."""
    return sorted(
        (project.name, config.name.split(".")[1])
        for project in STACKS_ROOT.iterdir()
        if (project / "Pulumi.yaml").is_file()
        for config in project.glob("Pulumi.*.yaml")
    )


def plan(project: str, stack: str) -> CapturedStack:
    key = (project, stack)
    if key not in _PLANS:
        _PLANS[key] = run_program(STACKS_ROOT / project, stack, [])
    return _PLANS[key]


@pytest.fixture(scope="session")
def planned() -> Callable[[str, str], CapturedStack]:
    """``planned(project, stack)`` -> the cached offline plan of ``stacks/<project>`` for ``stack``."""
    return plan
