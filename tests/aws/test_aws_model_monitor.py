"""Model Monitor on an endpoint: encrypted, isolated data-quality jobs; drift alarms that can start retraining."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.aws.model_monitor import DATA_METRICS_NAMESPACE, ModelMonitor
from mlops_infra.aws.model_monitor_images import ANALYZER_REGISTRY_ACCOUNTS, analyzer_image_uri
from mlops_infra.engine import ProgramError
from mlops_infra.testing import iam_statements, one, plan, required_tags_present

BASE = {
    "endpoint_name": "churn-prod-scoring",
    "capture_s3_uri": "s3://churn-prod-capture/data-capture",
    "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
    "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
    "drift_features": ["tenure_months", "monthly_charges"],
    "drift_threshold": 0.2,
}


def monitor(**overrides):
    return lambda: ModelMonitor("churn-monitor", {**BASE, **overrides})


def test_children_and_wiring():
    stack = plan(monitor(), environment="prod", config={"aws:region": "eu-west-1"})
    component = one(stack, "mlops-infra:aws:ModelMonitor")
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    schedule = one(stack, "aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    alarms = stack.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    for child in [job, schedule, *alarms, one(stack, "aws:iam/role:Role")]:
        assert child.parent == component.urn
    assert job.inputs["dataQualityAppSpecification"]["imageUri"] == (
        "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert job.inputs["dataQualityJobInput"]["endpointInput"]["endpointName"] == "churn-prod-scoring"
    assert (
        job.inputs["dataQualityBaselineConfig"]["constraintsResource"]["s3Uri"] == BASE["baseline_constraints_s3_uri"]
    )
    output = job.inputs["dataQualityJobOutputConfig"]
    assert output["monitoringOutputs"]["s3Output"]["s3Uri"] == "s3://churn-prod-capture/monitoring/churn-monitor"
    # The same key encrypts reports and the job's volume; traffic between containers is encrypted, no egress.
    key = output["kmsKeyId"]
    assert key.startswith("arn:aws:kms:") and job.inputs["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == key
    assert job.inputs["networkConfig"] == {
        "enableInterContainerTrafficEncryption": True,
        "enableNetworkIsolation": True,
    }
    config = schedule.inputs["monitoringScheduleConfig"]
    assert config["monitoringJobDefinitionName"] == job.inputs["name"]
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"
    assert config["monitoringType"] == "DataQuality"
    assert required_tags_present(stack) == []


def test_one_drift_alarm_per_feature_on_model_monitor_metrics():
    stack = plan(monitor())
    alarms = {a.inputs["metricName"]: a.inputs for a in stack.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {"feature_baseline_drift_tenure_months", "feature_baseline_drift_monthly_charges"}
    alarm = alarms["feature_baseline_drift_tenure_months"]
    assert alarm["namespace"] == DATA_METRICS_NAMESPACE
    assert alarm["dimensions"] == {
        "Endpoint": "churn-prod-scoring",
        "MonitoringSchedule": "churn-dev-churn-monitor-data-quality",
    }
    assert (alarm["threshold"], alarm["comparisonOperator"], alarm["statistic"]) == (
        0.2,
        "GreaterThanThreshold",
        "Maximum",
    )
    assert alarm["treatMissingData"] == "notBreaching"


def test_role_is_scoped_to_capture_reports_baselines_and_key():
    stack = plan(monitor())
    statements = {s["Sid"]: s for s in iam_statements(one(stack, "aws:iam/rolePolicy:RolePolicy"))}
    assert statements["ReadCaptureAndBaseline"]["Resource"] == [
        "arn:aws:s3:::churn-prod-capture/data-capture/*",
        "arn:aws:s3:::churn-baselines/v7/statistics.json",
        "arn:aws:s3:::churn-baselines/v7/constraints.json",
    ]
    assert statements["WriteReports"]["Resource"] == ["arn:aws:s3:::churn-prod-capture/monitoring/churn-monitor/*"]
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])
        if statement["Resource"] == ["*"]:
            assert statement["Action"] == ["cloudwatch:PutMetricData"]
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": DATA_METRICS_NAMESPACE}}
    trust = one(stack, "aws:iam/role:Role").inputs["assumeRolePolicy"]
    assert '"sagemaker.amazonaws.com"' in trust and "aws:SourceAccount" in trust


def test_monitoring_without_baseline_has_no_drift_alarms():
    stack = plan(monitor(baseline_statistics_s3_uri=None, baseline_constraints_s3_uri=None, drift_features=[]))
    assert stack.by_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []
    assert (
        "dataQualityBaselineConfig"
        not in one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"schedule": {"cron": "*/5 * * * *"}}, "schedule"),
        (
            {"baseline_constraints_s3_uri": None},
            "baseline_statistics_s3_uri and baseline_constraints_s3_uri go together",
        ),
        ({"baseline_statistics_s3_uri": None, "baseline_constraints_s3_uri": None}, "drift_features need a baseline"),
        ({"drift_features": ["tenure months"]}, "drift_features"),
        ({"instance_type": "m5.large"}, "instance_type"),
        ({"max_runtime_seconds": 7200}, "max_runtime_seconds"),
    ],
)
def test_invalid_settings_name_the_field_and_register_nothing(overrides, field):
    with pytest.raises(ProgramError, match=field) as caught:
        plan(monitor(**overrides))
    assert caught.value.registered == []


def test_unknown_region_needs_an_explicit_image():
    with pytest.raises(
        ProgramError, match="analyzer_image_uri: no Model Monitor image is known for region 'xx-moon-1'"
    ):
        plan(monitor(), config={"aws:region": "xx-moon-1"})
    stack = plan(
        monitor(analyzer_image_uri="111122223333.dkr.ecr.xx-moon-1.amazonaws.com/analyzer:1"),
        config={"aws:region": "xx-moon-1"},
    )
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert job.inputs["dataQualityAppSpecification"]["imageUri"].endswith("/analyzer:1")


@settings(max_examples=25, deadline=None)
@given(hour=st.integers(min_value=0, max_value=23), minute=st.integers(min_value=1, max_value=59))
def test_schedules_that_are_not_on_the_hour_are_refused(hour, minute):
    import pydantic

    from mlops_infra.aws.model_monitor import ModelMonitorArgs

    with pytest.raises(pydantic.ValidationError) as caught:
        ModelMonitorArgs.model_validate({**BASE, "schedule": {"cron": f"{minute} {hour} * * *"}})
    assert caught.value.errors()[0]["loc"] == ("schedule",)


def test_without_region_config_the_image_follows_the_provider_region(monkeypatch):
    from mlops_infra.engine import run_function

    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    stack = run_function(monitor(), project="churn", config={"environment": "dev", "owner": "o", "costCenter": "c"})
    job = one(stack, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    # The offline engine's provider answers us-east-1.
    assert job.inputs["dataQualityAppSpecification"]["imageUri"].startswith("156813124566.dkr.ecr.us-east-1.")


def test_image_registry_matches_the_sagemaker_sdk():
    image_uris = pytest.importorskip("sagemaker.image_uris")
    for region in ANALYZER_REGISTRY_ACCOUNTS:
        assert analyzer_image_uri(region) == image_uris.retrieve("model-monitor", region)
    # Every region the SDK knows in the commercial and China partitions is known here too
    # (the SDK's ISO-F regions are another partition this library does not target).
    registry_file = Path(image_uris.__file__).parent / "image_uri_config" / "model-monitor.json"
    registry = json.loads(registry_file.read_text())["versions"][""]["registries"]
    assert {r for r in registry if not r.startswith("us-iso")} == set(ANALYZER_REGISTRY_ACCOUNTS)
    assert analyzer_image_uri("cn-north-1") == (
        "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer"
    )
