"""Garbage collection: the engine pauses the collector while a program registers, and the CLI exits
without a final collection. Neither may change a byte of any shipped stack's plan."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest
from test_urn_snapshots import CASES, STACKS_ROOT
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.engine import CapturedStack, run_program


def _document(stack: CapturedStack) -> str:
    return json.dumps(stack.to_json(), indent=2, sort_keys=False, default=str)


@pytest.mark.parametrize(("stack_dir", "stack"), CASES)
def test_plan_is_byte_identical_with_the_collector_paused(
    planned: Callable[[str, str], CapturedStack], stack_dir: str, stack: str
) -> None:
    paused = planned(stack_dir, stack)  # the default: collector paused during the run
    untouched = run_program(STACKS_ROOT / stack_dir, stack, [], manage_gc=False)
    assert _document(untouched) == _document(paused)


def test_the_console_exit_loses_no_output() -> None:
    # `python -m mlops_infra.cli` ends with os._exit after flushing; its stdout must equal the
    # in-process run's (typer's runner, which exits normally) byte for byte.
    argv = ["plan", str(STACKS_ROOT / "k8s-kserve"), "--stack", "prod", "--format", "json"]
    console = subprocess.run(
        [sys.executable, "-m", "mlops_infra.cli", *argv], capture_output=True, text=True, check=False
    )
    in_process = CliRunner().invoke(app, argv)
    assert console.returncode == in_process.exit_code == 0
    assert console.stdout == in_process.stdout
    assert json.loads(console.stdout)["resources"]
