"""Plan a Python callable offline with sensible test config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.runner import run_function

DEFAULT_TEST_CONFIG: dict[str, Any] = {"owner": "ml-platform", "costCenter": "cc-1234", "aws:region": "us-east-1"}


def plan(
    program: Callable[[], None],
    *,
    environment: str = "dev",
    project: str = "churn",
    stack: str | None = None,
    config: dict[str, Any] | None = None,
    preview: bool = False,
) -> CapturedStack:
    """Run ``program`` under the offline engine for ``environment`` and return the captured stack.

    ``preview=True`` captures what ``pulumi preview`` of a new stack sends: inputs computed from other
    resources' outputs (ids, ARNs, names the provider assigns) are the engine's unknown placeholder.
    """
    merged = {**DEFAULT_TEST_CONFIG, "environment": environment, **(config or {})}
    return run_function(program, project=project, stack=stack or environment, config=merged, preview=preview)
