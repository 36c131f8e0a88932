"""Start-up and import hygiene: what `--help` and a check of a one-cloud stack load (each in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

STACKS = Path(__file__).resolve().parents[2] / "stacks"
HEAVY = ("pulumi", "grpc", "pydantic", "pulumi_aws", "pulumi_gcp", "pulumi_kubernetes", "google.protobuf")

# Runs the CLI's typer app in-process (no os._exit), then prints the loaded modules as JSON on stderr's last line.
PROBE = """
import json, sys
sys.argv = ["mlops-infra", *sys.argv[1:]]
from mlops_infra.cli import app
try:
    app()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded_modules(*argv: str) -> tuple[int, set[str], str]:
    """(exit code, modules loaded, stdout) of ``mlops-infra *argv`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=False, timeout=600
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), result.stdout


def packages(modules: set[str]) -> set[str]:
    """Top-level packages of ``modules`` plus the dotted names in HEAVY that are present."""
    return {m.split(".")[0] for m in modules} | {h for h in HEAVY if h in modules}


@pytest.mark.parametrize(
    "argv", [["--help"], ["plan", "--help"], ["check", "--help"], ["cost", "--help"], ["schema", "--help"]]
)
def test_help_loads_no_pulumi_grpc_pydantic_or_provider_sdk(argv: list[str]) -> None:
    code, modules, stdout = loaded_modules(*argv)
    assert code == 0
    assert "Usage" in stdout
    assert sorted(packages(modules) & set(HEAVY)) == []
    assert "rich" not in packages(modules)  # click's plain help: rich's markdown/syntax/traceback cost ~0.17 s
    assert not [
        m for m in modules if m.startswith(("mlops_infra.engine.runner", "mlops_infra.policy", "mlops_infra.spec"))
    ]


def test_the_console_entry_point_prints_help_and_exits_0() -> None:
    # main() ends the process with os._exit after flushing: nothing of the help text may be lost.
    result = subprocess.run(
        [sys.executable, "-m", "mlops_infra.cli", "plan", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "--with-cost" in result.stdout
    assert result.stdout.rstrip().endswith("Show this message and exit.")  # the last line: flushed whole


@pytest.mark.parametrize(
    ("stack_dir", "absent"),
    [
        ("gcp-vertex", {"pulumi_aws", "pulumi_kubernetes"}),
        ("k8s-kserve", {"pulumi_aws", "pulumi_gcp", "kfp", "kubernetes", "google_cloud_pipeline_components"}),
        ("aws-sagemaker", {"pulumi_gcp", "pulumi_kubernetes", "kfp", "kubernetes", "google_cloud_pipeline_components"}),
    ],
)
def test_a_one_cloud_check_imports_only_that_clouds_sdk(stack_dir: str, absent: set[str]) -> None:
    code, modules, stdout = loaded_modules("check", str(STACKS / stack_dir), "--stack", "dev", "--format", "json")
    assert code in (0, 1), stdout[-2000:]
    assert json.loads(stdout)["resources"]  # the check really ran
    assert sorted(packages(modules) & absent) == []
