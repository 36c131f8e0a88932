"""The engine knows nothing of the library's conventions or global state.

What a program decided about its environment reaches the engine through the captured graph (the
``environment``/``protected`` inputs of mlops-infra components) or through stack config, never by
the engine asking the library's in-process platform registry.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mlops_infra.engine
from mlops_infra.engine import run_function, run_program

ENGINE_DIR = Path(mlops_infra.engine.__file__).parent
LIBRARY_STATE = ("mlops_infra.conventions", "mlops_infra.config", "mlops_infra.policy", "mlops_infra.component")


def _imported_modules(path: Path) -> set[str]:
    """Every module an engine file imports, at any depth (functions and TYPE_CHECKING included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(ENGINE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_engine_module_imports_library_state(path):
    imported = _imported_modules(path)
    assert [m for m in imported if m.startswith(LIBRARY_STATE)] == []


def test_importing_the_engine_loads_no_library_module_outside_it():
    probe = "import json, sys, mlops_infra.engine.runner; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    loaded = [m for m in json.loads(result.stdout) if m.startswith("mlops_infra.")]
    assert [m for m in loaded if not m.startswith("mlops_infra.engine")] == []


def test_program_defaults_reach_the_captured_graph():
    def program() -> None:
        from mlops_infra.aws.budget import Budget
        from mlops_infra.conventions import init_platform

        init_platform(environment="prod", owner="ml", costCenter="cc-1")
        Budget("budget", {"monthly_limit_usd": 100})

    stack = run_function(program, project="defaults")
    assert stack.config == {}
    assert stack.environment() == "prod"
    components = [r for r in stack.resources if not r.custom and r.type.startswith("mlops-infra:")]
    assert components
    assert {json.dumps(r.inputs, sort_keys=True) for r in components} == {'{"environment": "prod", "protected": true}'}


def test_config_environment_wins_over_the_graph():
    def program() -> None:
        from mlops_infra.aws.budget import Budget
        from mlops_infra.conventions import init_platform

        init_platform(owner="ml", costCenter="cc-1")
        Budget("budget", {"monthly_limit_usd": 100})

    stack = run_function(program, project="cfg", config={"environment": "staging"})
    assert stack.environment() == "staging"
    assert stack.component_environment() == "staging"


def test_a_duplicate_urn_is_a_warning_naming_the_resource(make_project):
    main = """
    import pulumi_aws as aws
    aws.sqs.Queue("jobs")
    aws.sqs.Queue("jobs")
    """
    stack = run_program(make_project(main), "dev")
    assert [line for line in stack.diagnostics if "duplicate resource URN" in line] == [
        "warning: duplicate resource URN urn:pulumi:dev::demo::aws:sqs/queue:Queue::jobs: two resources of type "
        "aws:sqs/queue:Queue are named 'jobs' under the same parent, which `pulumi up` refuses. Give one of them "
        "another name."
    ]


def test_the_cli_loads_no_pulumi_sdk_until_a_command_runs():
    # `mlops-infra --help` stays fast: the engine's runner and the SDKs load inside the commands.
    probe = "import json, sys, mlops_infra.cli; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    loaded = json.loads(result.stdout)
    assert [m for m in loaded if m == "pulumi" or m.startswith(("pulumi.", "pulumi_", "pydantic"))] == []
    assert "mlops_infra.engine.runner" not in loaded
