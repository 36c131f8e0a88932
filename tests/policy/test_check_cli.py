"""`mlops-infra check`: exit codes, the three formats, policy config, on raw programs of each cloud."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import jsonschema
import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app

runner = CliRunner()
SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif_required_schema.json").read_text())
HERE = Path(__file__).resolve().parent

AWS_PROGRAM = """\
import json
import pulumi_aws as aws

aws.sagemaker.EndpointConfiguration(
    "serving-config",
    production_variants=[{"variant_name": "main", "model_name": "m", "instance_type": "ml.m5.large",
                          "initial_instance_count": 1}],
    tags={"project": "demo", "environment": "prod", "owner": "ml", "cost-center": "cc-1"},
)
aws.s3.Bucket("raw-data")
aws.iam.Policy("admin", policy=json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
"""


def _from_raw_programs(function: str) -> str:
    return f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport raw_programs\nraw_programs.{function}()\n"


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(main: str, name: str = "demo") -> Path:
        directory = tmp_path / name
        directory.mkdir()
        (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (directory / "__main__.py").write_text(dedent(main))
        (directory / "Pulumi.prod.yaml").write_text(f"config:\n  {name}:environment: prod\n")
        return directory

    return make


def _check(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_aws_acceptance_program_exits_1_with_each_violation_named(project) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _check(str(project(AWS_PROGRAM)), "--stack", "prod", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert set(document) >= {"project", "stack", "resources", "outputs", "violations"}
    found = {(v["policy_id"], v["urn"].rsplit("::", 1)[-1], v["enforcement"]) for v in document["violations"]}
    for expected in (
        ("encryption-at-rest", "serving-config"),
        ("required-tags", "raw-data"),
        ("no-public-access", "raw-data"),
        ("least-privilege-iam", "admin"),
    ):
        assert (*expected, "mandatory") in found
    assert all(
        set(v) == {"policy_id", "enforcement", "urn", "resource_type", "message"} for v in document["violations"]
    )


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (
            "gcp_violations",
            {("encryption-at-rest", "endpoint"), ("no-public-access", "raw-data"), ("least-privilege-iam", "owner")},
        ),
        (
            "k8s_violations",
            {("k8s-pod-security", "trainer"), ("k8s-namespace-guardrails", "team-a"), ("no-public-access", "public")},
        ),
    ],
)
def test_gcp_and_k8s_acceptance_programs_exit_1(project, function: str, expected: set[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _check(str(project(_from_raw_programs(function))), "--stack", "prod", "--format", "json")
    assert code == 1
    found = {
        (v["policy_id"], v["urn"].rsplit("::", 1)[-1])
        for v in json.loads(out)["violations"]
        if v["enforcement"] == "mandatory"
    }
    assert expected <= found


@pytest.mark.parametrize("function", ["aws_compliant", "gcp_compliant", "k8s_compliant"])
def test_compliant_raw_programs_exit_0(project, function: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _check(str(project(_from_raw_programs(function))), "--stack", "prod", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["violations"] == []


def test_text_format_groups_by_policy(project) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _check(str(project(AWS_PROGRAM)), "--stack", "prod")
    assert code == 1
    assert "Policy violations by policy" in out and "least-privilege-iam (" in out and "mandatory" in out


def test_sarif_output_to_a_file_validates(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "results.sarif"
    code, _, _ = _check(str(project(AWS_PROGRAM)), "--stack", "prod", "--format", "sarif", "--out", str(target))
    assert code == 1
    log = json.loads(target.read_text())
    jsonschema.validate(log, SARIF_SCHEMA)
    levels = {r["ruleId"]: r["level"] for r in log["runs"][0]["results"]}
    assert levels["least-privilege-iam"] == "error"


def test_dev_stack_with_only_advisory_findings_exits_0(project) -> None:  # type: ignore[no-untyped-def]
    program = """\
    import pulumi_aws as aws
    aws.kms.Key("key", enable_key_rotation=False,
                tags={"project": "demo", "environment": "dev", "owner": "ml", "cost-center": "cc-1"})
    """
    code, out, _ = _check(str(project(program)), "--stack", "dev", "--config", "environment=dev", "--format", "json")
    violations = json.loads(out)["violations"]
    assert code == 0 and violations and {v["enforcement"] for v in violations} == {"advisory"}


def test_policy_config_file_changes_the_outcome(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "policy.yaml"
    config.write_text(
        "enforcement:\n  encryption-at-rest: advisory\n  required-tags: advisory\n"
        "  no-public-access: advisory\n  least-privilege-iam: advisory\n  budget-required: disabled\n"
        "  deletion-protection: advisory\n  encryption-in-transit: advisory\n  data-capture: disabled\n"
        "  audit-logging: advisory\n"
    )
    code, out, _ = _check(
        str(project(AWS_PROGRAM)), "--stack", "prod", "--policy-config", str(config), "--format", "json"
    )
    violations = json.loads(out)["violations"]
    assert code == 0, [v for v in violations if v["enforcement"] == "mandatory"]
    assert not [v for v in violations if v["policy_id"] in ("budget-required", "data-capture")]
    assert {v["enforcement"] for v in violations if v["policy_id"] == "audit-logging"} == {"advisory"}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("enforcement:\n  encrypt-all: mandatory\n", "enforcement"),
        ("requiredTagKeys: 7\n", "requiredTagKeys"),
        ('{"least-privilege-iam": {"enforcementLevel": "loud"}}', "least-privilege-iam.enforcementLevel"),
    ],
)
def test_invalid_policy_config_exits_2_naming_the_field(project, tmp_path: Path, content: str, field: str) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "policy.yaml"
    config.write_text(content)
    result = runner.invoke(app, ["check", str(project(AWS_PROGRAM)), "--policy-config", str(config)])
    assert result.exit_code == 2
    assert field in result.stderr and "Traceback" not in result.output


def test_missing_program_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "program not found" in result.stderr
