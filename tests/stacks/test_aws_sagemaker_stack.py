"""Acceptance: the AWS SageMaker stack plans offline with every control in place."""

import fnmatch
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.config.platform import REQUIRED_TAG_KEYS
from mlops_infra.conventions import STATEFUL_TYPES, tag_property
from mlops_infra.engine import ProgramError, run_program

STACK = Path(__file__).resolve().parents[2] / "stacks" / "aws-sagemaker"

REQUIRED_TYPES = {
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:sagemaker/featureGroup:FeatureGroup",
    "aws:sagemaker/pipeline:Pipeline",
    "aws:scheduler/schedule:Schedule",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "aws:appautoscaling/policy:Policy",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:iam/role:Role",
}


@pytest.fixture(scope="module")
def prod_document():
    result = CliRunner().invoke(app, ["plan", str(STACK), "--stack", "prod", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_prod_plan_has_the_whole_platform(prod_document):
    types = {r["type"] for r in prod_document["resources"]}
    assert types >= REQUIRED_TYPES, REQUIRED_TYPES - types
    assert prod_document["project"] == "churn" and prod_document["stack"] == "prod"


def test_every_taggable_resource_has_the_four_tags(prod_document):
    checked = 0
    for resource in prod_document["resources"]:
        if resource["custom"] and tag_property(resource["type"]) == "tags":
            tags = resource["inputs"].get("tags") or {}
            assert set(REQUIRED_TAG_KEYS) <= set(tags), resource["urn"]
            assert tags["environment"] == "prod"
            checked += 1
    assert checked > 30


def test_every_stateful_resource_is_protected_in_prod_only(prod_document):
    stateful = [r for r in prod_document["resources"] if r["type"] in STATEFUL_TYPES]
    assert {r["type"] for r in stateful} >= {
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:sagemaker/featureGroup:FeatureGroup",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    }
    assert all(r["protect"] for r in stateful)
    dev = run_program(STACK, "dev")
    assert [r.urn for r in dev.resources if r.protect] == []


def test_prod_runs_the_closed_loop(prod_document):
    by_type = {}
    for resource in prod_document["resources"]:
        by_type.setdefault(resource["type"], []).append(resource)
    model = by_type["aws:sagemaker/model:Model"][0]["inputs"]
    assert model["primaryContainer"]["modelPackageName"].startswith("arn:aws:sagemaker:")
    endpoint = by_type["aws:sagemaker/endpoint:Endpoint"][0]["inputs"]
    assert endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "CANARY"
    assert endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    schedule = by_type["aws:sagemaker/monitoringSchedule:MonitoringSchedule"][0]["inputs"]
    assert schedule["monitoringScheduleConfig"]["monitoringType"] == "DataQuality"
    definition = json.loads(by_type["aws:sagemaker/pipeline:Pipeline"][0]["inputs"]["pipelineDefinition"])
    drift_alarms = {
        a["inputs"]["name"] for a in by_type["aws:cloudwatch/metricAlarm:MetricAlarm"] if "-drift-" in a["name"]
    }
    retrain = next(r for r in by_type["aws:cloudwatch/eventRule:EventRule"] if "retrain" in r["name"])
    watched = json.loads(retrain["inputs"]["eventPattern"])["detail"]["alarmName"][0]["wildcard"]
    assert len(drift_alarms) == 3
    assert all(fnmatch.fnmatchcase(name, watched) for name in drift_alarms)
    assert not any(
        fnmatch.fnmatchcase(a["inputs"]["name"], watched)
        for a in by_type["aws:cloudwatch/metricAlarm:MetricAlarm"]
        if a["inputs"]["name"] not in drift_alarms
    )
    approval = next(p for p in definition["Parameters"] if p["Name"] == "ModelApprovalStatus")
    assert approval["DefaultValue"] == "PendingManualApproval", "prod registers new models for manual approval"


def test_scaled_endpoints_come_from_config():
    specs = json.dumps([{"name": f"churn-{i}"} for i in range(3)])
    stack = run_program(STACK, "dev", [f"endpoints={specs}"])
    assert len(stack.by_type("aws:sagemaker/endpoint:Endpoint")) == 3


def test_bad_stack_config_names_the_key():
    with pytest.raises(ProgramError, match=r"endpoints\.0\.minReplicas: Input should be greater than or equal to 1"):
        run_program(STACK, "dev", ['endpoints=[{"name": "x", "minReplicas": 0}]'])
