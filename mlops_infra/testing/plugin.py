"""pytest plugin: the ``offline_plan`` fixture."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlops_infra.testing.planning import plan


@pytest.fixture
def offline_plan() -> Callable[..., object]:
    """``offline_plan(program, environment="dev", config={...})`` -> CapturedStack."""
    return plan
