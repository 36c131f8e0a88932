"""The churn PlatformSpec realized on AWS SageMaker: what each spec section becomes, and what AWS refuses."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pydantic import ValidationError

from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.config.platform import REQUIRED_TAG_KEYS
from mlops_infra.conventions import tag_property
from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.spec import Schedule
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import iam_statements, one, plan

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
PACKAGE_VERSION = 7
# Where each encrypting AWS resource names its key (Pulumi wire names).
ENCRYPTING = {
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": lambda i: i["rules"][0][
        "applyServerSideEncryptionByDefault"
    ]["kmsMasterKeyId"],
    "aws:sagemaker/featureGroup:FeatureGroup": lambda i: i["onlineStoreConfig"]["securityConfig"]["kmsKeyId"],
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": lambda i: i["kmsKeyArn"],
    "aws:sns/topic:Topic": lambda i: i["kmsMasterKeyId"],
    "aws:sqs/queue:Queue": lambda i: i["kmsMasterKeyId"],
    "aws:cloudwatch/logGroup:LogGroup": lambda i: i["kmsKeyId"],
    "aws:scheduler/schedule:Schedule": lambda i: i["kmsKeyArn"],
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": lambda i: i["dataQualityJobOutputConfig"][
        "kmsKeyId"
    ],
}


def churn_spec(**overrides: Any) -> dict[str, Any]:
    """platform.yaml on AWS with ``overrides`` deep-merged over it."""
    document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return deep_merge(document, deep_merge({"clouds": ["aws"]}, overrides))


def realize(environment: str = "dev", **overrides: Any) -> CapturedStack:
    spec = churn_spec(**overrides)

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    return plan(program, environment=environment)


def protected(environment: str = "prod", **overrides: Any) -> CapturedStack:
    """A protected environment with an approved registry version for the scoring endpoint."""
    packages = {"aws": {"approved_model_packages": {"scoring": PACKAGE_VERSION}}}
    return realize(environment, **deep_merge(packages, overrides))


@pytest.fixture(scope="module")
def dev() -> CapturedStack:
    return realize("dev")


@pytest.fixture(scope="module")
def prod() -> CapturedStack:
    return protected("prod", alerts={"emails": ["ml-platform@example.com", "ml-oncall@example.com"]})


def outputs(stack: CapturedStack) -> dict[str, Any]:
    result: dict[str, Any] = stack.outputs["platform"]["aws"]
    return result


def test_outputs_name_every_part(prod):
    out = outputs(prod)
    assert set(out) == {
        "keyArn",
        "featureStore",
        "pipelineName",
        "registryName",
        "endpointNames",
        "budgetName",
        "personaRoleArns",
        "auditTrailArn",
        "trackingServerArn",
        "batchPipelineNames",
    }
    assert out["keyArn"].startswith("arn:aws:kms:us-east-1:")
    assert out["featureStore"] == {"customer-profile": "churn-prod-aws-features-customer-profile"}
    assert out["pipelineName"] == "churn-prod-aws-training"
    assert out["registryName"] == "churn-prod-churn"
    assert out["endpointNames"] == {"scoring": "churn-prod-aws-scoring"}
    # Budget names are account-global: the region keeps two regions of one account apart.
    assert out["budgetName"] == "churn-prod-us-east-1-aws-budget"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_encrypting_child_uses_the_platform_key(environment, dev, prod):
    stack = dev if environment == "dev" else prod
    key = outputs(stack)["keyArn"]
    seen: set[str] = set()
    for type_, read in ENCRYPTING.items():
        for resource in stack.by_type(type_):
            assert read(resource.inputs) == key, resource.urn
            seen.add(type_)
    expected = set(ENCRYPTING)
    if environment == "dev":  # dev captures nothing and runs no drift monitor
        expected.discard("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert seen == expected
    group = one(stack, "aws:sagemaker/featureGroup:FeatureGroup").inputs
    assert group["offlineStoreConfig"]["s3StorageConfig"]["kmsKeyId"] == key
    # One key, owned by the platform component, rotating.
    kms = one(stack, "aws:kms/key:Key")
    assert kms.inputs["enableKeyRotation"] is True
    assert "mlops-infra:index:MlPlatform" in kms.urn and "aws-key" in kms.urn


def test_feature_store_maps_types_ttl_and_archive(dev):
    group = one(dev, "aws:sagemaker/featureGroup:FeatureGroup").inputs
    types = {f["featureName"]: f["featureType"] for f in group["featureDefinitions"]}
    assert types == {
        "customer_id": "String",
        "event_time": "Fractional",
        "tenure_months": "Integral",
        "monthly_charges": "Fractional",
        "contract_type": "String",
    }
    assert group["recordIdentifierFeatureName"] == "customer_id"
    assert group["eventTimeFeatureName"] == "event_time"
    assert group["onlineStoreConfig"]["ttlDuration"] == {"unit": "Days", "value": 365}
    lifecycle = [
        r
        for r in dev.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if "offline-store" in r.urn
    ]
    transitions = {t["storageClass"]: t["days"] for t in lifecycle[0].inputs["rules"][0]["transitions"]}
    assert transitions == {"STANDARD_IA": 90, "GLACIER_IR": 730}


def test_training_schedule_is_eventbridge_cron_in_the_spec_time_zone(dev):
    schedule = one(dev, "aws:scheduler/schedule:Schedule").inputs
    # "0 3 * * 1" (Monday, cron numbering) is MON in EventBridge, '?' in day of month.
    assert schedule["scheduleExpression"] == "cron(0 3 ? * MON *)"
    assert schedule["scheduleExpressionTimezone"] == "Europe/Berlin"
    pipeline = one(dev, "aws:sagemaker/pipeline:Pipeline").inputs
    definition = json.loads(pipeline["pipelineDefinition"])
    train = next(s for s in definition["Steps"] if s["Type"] == "Training")["Arguments"]
    assert train["AlgorithmSpecification"]["TrainingImage"].endswith(
        "churn-train@sha256:8e8fb792761f5e4b02b0be8c45f615e079858e5693537c3a03fbf4650e8c790d"
    )
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"]["MaxRuntimeInSeconds"] == 7200
    instance = next(p for p in definition["Parameters"] if p["Name"] == "TrainingInstanceType")
    assert instance["DefaultValue"] == "ml.m5.xlarge"  # size class medium
    threshold = next(p for p in definition["Parameters"] if p["Name"] == "MetricThreshold")
    assert threshold["DefaultValue"] == 0.8


@pytest.mark.parametrize(
    ("cron", "expression"),
    [
        ("0 3 * * 1", "cron(0 3 ? * MON *)"),
        ("0 6 * * 0", "cron(0 6 ? * SUN *)"),
        ("0 6 * * 7", "cron(0 6 ? * SUN *)"),
        ("0 6 * * 1-5", "cron(0 6 ? * MON-FRI *)"),
        ("0 6 * * 5-7", "cron(0 6 ? * SUN,FRI-SAT *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("30 2 1 * *", "cron(30 2 1 * ? *)"),
        ("0 0 */2 jan-mar *", "cron(0 0 1/2 JAN-MAR ? *)"),
    ],
)
def test_cron_to_eventbridge(cron, expression):
    assert eventbridge_cron(Schedule(cron=cron)) == expression


def test_cron_restricting_both_days_is_refused_naming_the_field():
    with pytest.raises(ProgramError, match=r"training\.schedule\.cron: .*both day of month and day of week"):
        realize("dev", training={"schedule": {"cron": "0 3 1 * 1"}})


def test_retraining_is_wired_to_every_drift_alarm_and_only_those(prod):
    rule = next(r for r in prod.by_type("aws:cloudwatch/eventRule:EventRule") if "retrain" in r.name)
    pattern = json.loads(rule.inputs["eventPattern"])
    watched = pattern["detail"]["alarmName"][0]["wildcard"]
    alarms = [a.inputs["name"] for a in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    drift = [name for name in alarms if "-drift-" in name]
    assert len(drift) == 3
    assert all(fnmatch.fnmatchcase(name, watched) for name in drift)
    assert not any(fnmatch.fnmatchcase(name, watched) for name in alarms if name not in drift)
    target = next(t for t in prod.by_type("aws:cloudwatch/eventTarget:EventTarget") if "retrain" in t.name)
    assert target.inputs["arn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:pipeline/")


def test_no_retraining_rule_without_monitoring(dev):
    assert not [r for r in dev.by_type("aws:cloudwatch/eventRule:EventRule") if "retrain" in r.name]
    assert dev.by_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule") == []


def test_prod_registers_for_manual_approval_and_serves_the_approved_version(prod):
    definition = json.loads(one(prod, "aws:sagemaker/pipeline:Pipeline").inputs["pipelineDefinition"])
    approval = next(p for p in definition["Parameters"] if p["Name"] == "ModelApprovalStatus")
    assert approval["DefaultValue"] == "PendingManualApproval"
    model = one(prod, "aws:sagemaker/model:Model").inputs
    assert model["primaryContainer"]["modelPackageName"] == (
        f"arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/{PACKAGE_VERSION}"
    )


def test_dev_approves_automatically_and_serves_the_artifact_from_the_model_store(dev):
    definition = json.loads(one(dev, "aws:sagemaker/pipeline:Pipeline").inputs["pipelineDefinition"])
    approval = next(p for p in definition["Parameters"] if p["Name"] == "ModelApprovalStatus")
    assert approval["DefaultValue"] == "Approved"
    container = one(dev, "aws:sagemaker/model:Model").inputs["primaryContainer"]
    assert container["modelDataUrl"] == (
        "s3://churn-dev-aws-model-store-123456789012-us-east-1/churn/champion/model.tar.gz"
    )
    assert container["image"].endswith(
        "xgboost-serve@sha256:01215d11a322acc12175eadc57acfef1b81f51a18cdd70fe1730d7fbdc4173c5"
    )
    role = next(r for r in dev.by_type("aws:iam/rolePolicy:RolePolicy") if "aws-scoring-role-policy" in r.name)
    reads = next(s for s in iam_statements(role) if s.get("Sid") == "ReadModelArtifacts")
    assert reads["Resource"] == [
        "arn:aws:s3:::churn-dev-aws-model-store-123456789012-us-east-1/churn/champion/model.tar.gz"
    ]


def test_model_store_uri_resolves_relative_artifacts():
    stack = realize("dev", aws={"model_store_uri": "s3://acme-models/churn/"})
    container = one(stack, "aws:sagemaker/model:Model").inputs["primaryContainer"]
    assert container["modelDataUrl"] == "s3://acme-models/churn/churn/champion/model.tar.gz"
    assert not [b for b in stack.by_type("aws:s3/bucket:Bucket") if "model-store" in b.urn]


def test_prod_endpoint_rolls_out_by_canary_with_alarm_rollback(prod):
    endpoint = one(prod, "aws:sagemaker/endpoint:Endpoint").inputs
    routing = endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {
        "type": "CANARY",
        "waitIntervalInSeconds": 600,
        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
    }
    rollback = {a["alarmName"] for a in endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]}
    assert rollback == {
        "churn-prod-aws-scoring-champion-5xx-rate",
        "churn-prod-aws-scoring-champion-p95-latency",
        "churn-prod-aws-scoring-champion-model-errors",
    }
    config = one(prod, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    variant = config["productionVariants"][0]
    # Protected default scaling: a floor of 2 (a canary needs a fleet to split), small size class.
    assert variant["initialInstanceCount"] == 2 and variant["instanceType"] == "ml.m5.large"
    target = one(prod, "aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 4)
    policy = one(prod, "aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]
    # cpu_percent 60 of an ml.m5.large (2 vCPUs): SageMaker's CPUUtilization sums vCPUs.
    assert policy["targetValue"] == 120
    assert policy["customizedMetricSpecification"]["metricName"] == "CPUUtilization"


def test_dev_rolls_out_at_once_on_one_instance(dev):
    endpoint = one(dev, "aws:sagemaker/endpoint:Endpoint").inputs
    assert "deploymentConfig" not in endpoint or endpoint["deploymentConfig"] is None
    variant = one(dev, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"][0]
    assert variant["initialInstanceCount"] == 1  # SageMaker real-time cannot scale to zero


def test_capture_samples_the_environment_or_spec_percent(dev, prod):
    config = one(prod, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert config["dataCaptureConfig"]["initialSamplingPercentage"] == 20
    assert "dataCaptureConfig" not in one(dev, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    sampled = protected("staging", endpoints=[_scoring(data_capture={"sampling_percent": 35})])
    config = one(sampled, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert config["dataCaptureConfig"]["initialSamplingPercentage"] == 35


def test_alarm_thresholds_in_percent_and_milliseconds(prod):
    alarms = {a.inputs["name"]: a.inputs for a in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    rate = alarms["churn-prod-aws-scoring-champion-5xx-rate"]
    assert rate["threshold"] == 1  # percent of invocations
    assert any("100 * errors / invocations" in q.get("expression", "") for q in rate["metricQueries"])
    latency = alarms["churn-prod-aws-scoring-champion-p95-latency"]
    # 300 ms; SageMaker reports ModelLatency in microseconds.
    assert latency["threshold"] == 300_000 and latency["extendedStatistic"] == "p95"


def test_drift_monitor_per_endpoint_in_prod(prod):
    schedule = one(prod, "aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs
    assert schedule["monitoringScheduleConfig"]["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"
    drift = [a.inputs for a in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "-drift-" in a.inputs["name"]]
    assert {a["metricName"] for a in drift} == {
        "feature_baseline_drift_tenure_months",
        "feature_baseline_drift_monthly_charges",
        "feature_baseline_drift_contract_type",
    }
    assert all(a["threshold"] == 0.2 for a in drift)


def test_budget_amount_thresholds_and_emails(prod):
    budget = one(prod, "aws:budgets/budget:Budget").inputs
    assert budget["limitAmount"] == "1500.00" and budget["limitUnit"] == "USD"
    assert [(n["threshold"], n["notificationType"]) for n in budget["notifications"]] == [
        (80, "ACTUAL"),
        (90, "ACTUAL"),
        (100, "ACTUAL"),
        (100, "FORECASTED"),
    ]
    emails = {s.inputs["endpoint"] for s in prod.by_type("aws:sns/topicSubscription:TopicSubscription")}
    assert {"ml-platform@example.com", "ml-oncall@example.com"} <= emails


def test_every_taggable_resource_carries_the_required_tags(prod):
    checked = 0
    for resource in prod.custom_resources():
        if tag_property(resource.type) == "tags":
            tags = resource.inputs.get("tags") or {}
            assert set(REQUIRED_TAG_KEYS) <= set(tags), resource.urn
            assert tags["environment"] == "prod"
            checked += 1
    assert checked > 20


def _scoring(**changes: Any) -> dict[str, Any]:
    endpoint = churn_spec()["endpoints"][0]
    return deep_merge(endpoint, changes)


@pytest.mark.parametrize(
    ("environment", "overrides", "path", "reason"),
    [
        (
            "dev",
            {"endpoints": [_scoring(model={"artifact": "gs://churn-models/v7/model.tar.gz"})]},
            r"endpoints\.0\.model\.artifact",
            "gs:// URI; on AWS it must be s3://",
        ),
        (
            "dev",
            {"endpoints": [_scoring(model={"serving": {"per_cloud": {"aws": None}}})]},
            r"endpoints\.0\.model\.serving\.per_cloud\.aws",
            "no serving image for AWS",
        ),
        (
            "dev",
            {"training": {"image": {"per_cloud": {"aws": None}}}},
            r"training\.image\.per_cloud\.aws",
            "no training image for AWS",
        ),
        (
            "dev",
            {"endpoints": [_scoring(model={"serving": {"per_cloud": {"aws": "ghcr.io/acme/serve:1.0"}}})]},
            r"endpoints\.0\.model\.serving\.per_cloud\.aws",
            "not an Amazon ECR image",
        ),
        (
            "dev",
            {"endpoints": [_scoring(scaling={"min_replicas": 0, "max_replicas": 2})]},
            r"endpoints\.0\.scaling\.min_replicas",
            "cannot scale to zero",
        ),
        (
            "dev",
            {"endpoints": [_scoring(scaling={"min_replicas": 1, "max_replicas": 2}, rollout={"strategy": "canary"})]},
            r"endpoints\.0\.scaling\.min_replicas",
            "at least 2 instances",
        ),
        (
            "dev",
            {"endpoints": [_scoring(data_capture={"sampling_percent": 12.5})]},
            r"endpoints\.0\.data_capture\.sampling_percent",
            "whole percent",
        ),
        (
            "dev",
            {"endpoints": [_scoring(data_capture={"destination_uri": "gs://churn-capture/scoring"})]},
            r"endpoints\.0\.data_capture\.destination_uri",
            "gs:// URI",
        ),
        (
            "dev",
            {"training": {"parameters": {"LearningRate": "0.1"}}},
            r"training\.parameters\.LearningRate",
            "not a parameter of the SageMaker pipeline",
        ),
        ("dev", {"budget": {"alert_at_percent": [50, 60, 70, 80, 90]}}, r"budget\.alert_at_percent", "at most 4"),
        (
            "dev",
            {"aws": {"approved_model_packages": {"ranking": 3}}},
            r"aws\.approved_model_packages\.ranking",
            "not an endpoint",
        ),
    ],
)
def test_what_aws_cannot_realize_is_refused_naming_the_field(environment, overrides, path, reason):
    with pytest.raises(ProgramError, match=rf"{path}: .*{reason}"):
        realize(environment, **overrides)


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        ({}, r"aws\.approved_model_packages\.scoring", "unregistered artifact in the protected environment"),
        (
            {
                "aws": {"approved_model_packages": {"scoring": 7}},
                "endpoints": [_scoring(rollout={"strategy": "all_at_once"})],
            },
            r"endpoints\.0\.rollout\.strategy",
            "deployment-safety",
        ),
        (
            {"aws": {"approved_model_packages": {"scoring": 7}}, "registry": {"approval": {"mode": "automatic"}}},
            r"registry\.approval\.mode",
            "model-approval",
        ),
        (
            {
                "aws": {"approved_model_packages": {"scoring": 7}},
                "monitoring": {"drift": {"schedule": {"cron": "30 * * * *"}}},
            },
            r"monitoring\.drift\.schedule",
            "hourly",
        ),
    ],
)
def test_protected_environments_refuse_unsafe_specs(overrides, path, reason):
    with pytest.raises(ProgramError, match=rf"{path}: .*{reason}"):
        realize("prod", **overrides)


def test_refused_spec_registers_nothing():
    spec = churn_spec(endpoints=[_scoring(model={"artifact": "gs://churn-models/v7/model.tar.gz"})])
    errors: list[str] = []

    def program() -> None:
        try:
            MlPlatform("churn", spec)
        except ValidationError as exc:
            errors.append(str(exc))

    stack = plan(program, environment="dev")
    assert "endpoints.0.model.artifact" in errors[0]
    assert [r.type for r in stack.resources if not r.type.startswith("pulumi:")] == []


def test_approved_version_arn_from_another_registry_is_served_as_given():
    arn = "arn:aws:sagemaker:us-east-1:210987654321:model-package/churn-shared/12"
    stack = realize("prod", aws={"approved_model_packages": {"scoring": arn}})
    assert one(stack, "aws:sagemaker/model:Model").inputs["primaryContainer"]["modelPackageName"] == arn


def test_malformed_approved_version_is_refused_naming_the_key():
    group_arn = "arn:aws:sagemaker:us-east-1:210987654321:model-package-group/churn-shared"
    with pytest.raises(ProgramError, match=r"aws\.approved_model_packages\.scoring"):
        realize("prod", aws={"approved_model_packages": {"scoring": group_arn}})


def test_endpoint_and_drift_alarms_reach_the_alert_emails_by_severity(prod):
    topics = {t.inputs["name"]: t for t in prod.by_type("aws:sns/topic:Topic") if "aws-alerts" in t.urn}
    # The warning topic keeps the URN and name of the platform's first alert topic; critical is new.
    assert set(topics) == {"churn-prod-aws-alerts", "churn-prod-aws-alerts-critical"}
    assert all(t.inputs["kmsMasterKeyId"] == outputs(prod)["keyArn"] for t in topics.values())
    for topic in ("aws-alerts-email", "aws-alerts-critical-email"):
        subscribers = {
            s.inputs["endpoint"]
            for s in prod.by_type("aws:sns/topicSubscription:TopicSubscription")
            if f"::{topic}-" in s.urn
        }
        assert subscribers == {"ml-platform@example.com", "ml-oncall@example.com"}, topic
    alarms = prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 6  # 3 endpoint alarms, 3 drift alarms
    warning = "arn:aws:sns:us-east-1:123456789012:churn-prod-aws-alerts"
    critical = "arn:aws:sns:us-east-1:123456789012:churn-prod-aws-alerts-critical"
    for alarm in alarms:
        expected = critical if alarm.inputs["name"].endswith(("-5xx-rate", "-model-errors")) else warning
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [expected], alarm.urn
    policy = json.loads(
        next(p for p in prod.by_type("aws:sns/topicPolicy:TopicPolicy") if "aws-alerts-policy" in p.urn).inputs[
            "policy"
        ]
    )
    publish = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsPublish")
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_a_minimal_spec_realizes_key_registry_and_budget_only():
    # No feature store, training or endpoints: nothing else, not even the model store.
    spec = {"clouds": ["aws"], "registry": {"model_name": "churn"}, "budget": {"monthly_limit_usd": 100}}

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    stack = plan(program, environment="dev")
    components = sorted(r.type for r in stack.resources if r.type.startswith("mlops-infra:aws:"))
    assert components == [
        "mlops-infra:aws:Budget",
        "mlops-infra:aws:ModelRegistry",
        "mlops-infra:aws:PlatformKey",
    ]
    assert stack.by_type("aws:s3/bucket:Bucket") == []  # no model store without training or endpoints
    out = outputs(stack)
    assert out["featureStore"] is None and out["pipelineName"] is None and out["endpointNames"] == {}


def test_linear_rollout_in_staging_steps_by_the_spec_percent():
    stack = protected(
        "staging", endpoints=[_scoring(rollout={"strategy": "linear", "step_percent": 25, "bake_seconds": 300})]
    )
    routing = one(stack, "aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing == {
        "type": "LINEAR",
        "waitIntervalInSeconds": 300,
        "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25},
    }


def test_blue_green_in_dev_bakes_the_new_fleet_with_alarm_rollback():
    stack = realize("dev", endpoints=[_scoring(rollout={"strategy": "blue_green", "bake_seconds": 900})])
    config = one(stack, "aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]
    routing = config["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 900}
    assert len(config["autoRollbackConfiguration"]["alarms"]) == 3


def test_without_offline_retention_or_lifecycle_offline_records_stay_where_they_are():
    spec = churn_spec(feature_store={"offline_retention_days": None})
    spec["lifecycle"] = {"archive_after_days": None}  # null in platform.yaml (an override's null unsets the key)
    stack = plan(lambda: MlPlatform("churn", spec), environment="dev")
    lifecycle = [
        r
        for r in stack.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if "offline-store" in r.urn
    ]
    assert all("transitions" not in rule or not rule["transitions"] for r in lifecycle for rule in r.inputs["rules"])
