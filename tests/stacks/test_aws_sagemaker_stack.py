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
from mlops_infra.testing import every_string

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


@pytest.mark.parametrize(
    ("region", "partition", "analyzer_image"),
    [
        # SageMaker publishes no Model Monitor image in GovCloud: the stack takes the region's copy.
        ("us-gov-west-1", "aws-us-gov", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/model-monitor-analyzer"),
        ("cn-north-1", "aws-cn", None),
    ],
)
def test_the_stack_plans_in_govcloud_and_china(region, partition, analyzer_image):
    package = f"arn:{partition}:sagemaker:{region}:123456789012:model-package/churn-prod-churn-models-group/7"
    ecr = f"123456789012.dkr.ecr.{region}.amazonaws.com{'.cn' if partition == 'aws-cn' else ''}"
    monitoring = {"driftFeatures": ["tenure_months"], "driftThreshold": 0.15}
    if analyzer_image:
        monitoring["analyzerImageUri"] = analyzer_image
    endpoints = [
        {
            "name": "churn-scoring",
            "image": f"{ecr}/churn/xgboost-serve:1.7.6-2",
            "minReplicas": 2,
            "maxReplicas": 8,
            "modelPackageArn": package,
        }
    ]
    training = {"image": f"{ecr}/churn-train:1.4.2", "processingImage": f"{ecr}/churn-process:1.4.2"}
    overrides = [
        f"aws:region={region}",
        f"endpoints={json.dumps(endpoints)}",
        f"monitoring={json.dumps(monitoring)}",
        f"training={json.dumps(training)}",
    ]
    stack = run_program(STACK, "prod", overrides)
    commercial = sorted({s for r in stack.resources for s in every_string(r.inputs) if "arn:aws:" in s})
    assert commercial == []
    (job,) = [r for r in stack.resources if r.type == "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"]
    image = job.inputs["dataQualityAppSpecification"]["imageUri"]
    china_image = "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer"
    assert image == (analyzer_image or china_image)


def test_a_govcloud_stack_without_an_analyzer_image_names_the_config_key():
    refused = r"monitoring\.analyzerImageUri: no Model Monitor image .* 'us-gov-west-1'"
    with pytest.raises(ProgramError, match=refused) as caught:
        run_program(STACK, "prod", ["aws:region=us-gov-west-1"])
    assert caught.value.registered == []
