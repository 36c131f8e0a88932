"""SARIF 2.1.0 output: the required structure, levels from enforcement, logical and physical locations."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from mlops_infra.engine import run_program
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.rules import REGISTRY
from mlops_infra.policy.sarif import to_sarif

SCHEMA = json.loads((Path(__file__).parent / "sarif_required_schema.json").read_text())

PROGRAM = """\
import json
import pulumi_aws as aws
from mlops_infra.aws.secure_bucket import SecureBucket

aws.s3.Bucket("raw-data")
aws.iam.Policy("admin", policy=json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
SecureBucket("lake", {"purpose": "lake", "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k"})
"""


@pytest.fixture
def checked(tmp_path: Path) -> tuple[Path, object, list[object]]:
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: app\nruntime: python\n")
    (directory / "__main__.py").write_text(PROGRAM)
    stack = run_program(directory, "prod", ["environment=prod", "owner=ml", "costCenter=cc-1"])
    return directory, stack, evaluate_stack(stack)


def test_sarif_validates_against_the_required_structure(checked: tuple[Path, object, list[object]]) -> None:
    _, stack, violations = checked
    log = to_sarif(stack, violations)  # type: ignore[arg-type]
    jsonschema.validate(log, SCHEMA)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(REGISTRY)
    assert len(run["results"]) == len(violations) > 0
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_levels_and_logical_locations_follow_the_violations(checked: tuple[Path, object, list[object]]) -> None:
    _, stack, violations = checked
    results = to_sarif(stack, violations)["runs"][0]["results"]  # type: ignore[arg-type]
    for violation, result in zip(violations, results, strict=True):
        expected = {"mandatory": "error", "advisory": "warning"}[violation.enforcement.value]  # type: ignore[attr-defined]
        assert result["level"] == ("note" if violation.note else expected)  # type: ignore[attr-defined]
        logical = result["locations"][0]["logicalLocations"][0]
        assert logical["fullyQualifiedName"] == violation.urn  # type: ignore[attr-defined]
        assert result["message"]["text"] == violation.message  # type: ignore[attr-defined]


def test_physical_locations_point_at_the_user_program_lines(checked: tuple[Path, object, list[object]]) -> None:
    directory, stack, violations = checked
    log = to_sarif(stack, violations)  # type: ignore[arg-type]
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["PROGRAMROOT"]["uri"] == directory.resolve().as_uri() + "/"
    lines = {}
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "__main__.py", "uriBaseId": "PROGRAMROOT"}
        lines[result["locations"][0]["logicalLocations"][0]["name"]] = physical["region"]["startLine"]
    assert lines["raw-data"] == 5 and lines["admin"] == 6
    # Stack-level findings (no declaring line) point at the program file itself.
    assert lines["app-prod"] == 1


def test_source_root_makes_uris_repository_relative(checked: tuple[Path, object, list[object]]) -> None:
    directory, stack, violations = checked
    log = to_sarif(stack, violations, source_root=directory.parent)  # type: ignore[arg-type]
    result = log["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "app/__main__.py",
        "uriBaseId": "SRCROOT",
    }
