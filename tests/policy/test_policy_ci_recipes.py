"""The CI recipes run `mlops-infra check` and hand SARIF to GitHub code scanning."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_github_workflow_checks_and_uploads_sarif() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions-policy-check.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "uv run mlops-infra check stacks/aws-sagemaker --stack prod --format sarif --out results.sarif" in runs
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "results.sarif" and "always()" in upload["if"]
    check = next(s for s in steps if "mlops-infra check" in s.get("run", ""))
    assert check["continue-on-error"] is True and any("steps.check.outcome" in str(s.get("if", "")) for s in steps)
    assert workflow["permissions"]["security-events"] == "write"


def test_pre_commit_hook_definition() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "mlops-infra-check" and hook["language"] == "python"
    assert hook["entry"] == "mlops-infra check" and hook["pass_filenames"] is False
