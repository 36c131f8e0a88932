"""GPU jobs on SageMaker: instance types with local NVMe storage carry no volume key, plan and check clean.

SageMaker refuses a VolumeKmsKeyId on instance types with local storage (botocore's ResourceConfig /
ProcessingClusterConfig documentation); the sagemaker SDK drops the key for them. A GPU training pipeline,
GPU processing steps and a GPU monitoring schedule must therefore be declarable, and pass
encryption-at-rest (their local storage is hardware-encrypted) while their S3 outputs keep the key.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from typer.testing import CliRunner

from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.aws.training_pipeline import TrainingPipeline
from mlops_infra.engine import ProgramError
from mlops_infra.policy.facts.instance_types import has_local_storage
from mlops_infra.testing import one, plan

runner = CliRunner()
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
JOB_DEFINITION = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"

PROGRAM = """\
from mlops_infra.aws import PlatformKey
from mlops_infra.aws.alert_routing import AlertRouting
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.budget import Budget
from mlops_infra.aws.model_monitor import ModelMonitor
from mlops_infra.aws.training_pipeline import TrainingPipeline
from mlops_infra.conventions import init_platform

init_platform(environment="prod", owner="ml-platform", costCenter="cc-1234")
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
training = TrainingPipeline(
    "churn",
    {
        "model_package_group_name": "churn-models",
        "training_image_uri": f"{ECR}/churn-train:1.4.2",
        "processing_image_uri": f"{ECR}/churn-process:1.4.2",
        "training_instance_type": "TRAINING",
        "processing_instance_type": "PROCESSING",
        "volume_size_gb": 50,
        "max_runtime_seconds": 7200,
        "gate": {"name": "auc", "threshold": 0.82, "direction": "maximize"},
        "schedule": {"cron": "0 3 * * 1", "pipeline_parameters": {"InputDataUrl": "s3://churn-raw/weekly/"}},
    },
)
alerts = AlertRouting("alerts", {"alerts": {"emails": ["ml-oncall@example.com"]}})
ModelMonitor(
    "churn-monitor",
    {
        "endpoint_name": "churn-prod-scoring",
        "capture_s3_uri": "s3://churn-prod-capture/data-capture",
        "baseline_statistics_s3_uri": "s3://churn-baselines/v7/statistics.json",
        "baseline_constraints_s3_uri": "s3://churn-baselines/v7/constraints.json",
        "drift_features": ["tenure_months"],
        "instance_type": "MONITORING",
        "alarm_actions": alerts.actions("warning"),
    },
)
Budget("example", {"monthly_limit_usd": 5000})
# Prod records who called which API on the stack's data and models (policy audit-logging).
audit_key = PlatformKey("audit", {"extra_key_users": ["cloudtrail.amazonaws.com"]})
AuditTrail("audit", {"kms_key_arn": audit_key.arn, "data_bucket_arns": [training.artifact_bucket.arn]})
"""

GPU = {"TRAINING": "ml.g5.xlarge", "PROCESSING": "ml.g4dn.xlarge", "MONITORING": "ml.g4dn.xlarge"}
CPU = {"TRAINING": "ml.m5.xlarge", "PROCESSING": "ml.m5.large", "MONITORING": "ml.m5.large"}


def _program(tmp_path: Path, types: dict[str, str]) -> Path:
    text = PROGRAM
    for placeholder, instance_type in types.items():
        text = text.replace(f'"{placeholder}"', f'"{instance_type}"')
    path = tmp_path / "gpu_jobs.py"
    path.write_text(dedent(text))
    return path


def _check(path: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app_(), ["check", str(path), "--config", "environment=prod", "--format", "json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def app_() -> Any:
    from mlops_infra.cli import app  # the CLI imports the whole rule library

    return app


def _steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    steps = {s["Name"]: s for s in definition["Steps"]}
    for step in list(steps.values()):
        for branch in ("IfSteps", "ElseSteps"):
            steps |= {s["Name"]: s for s in step.get("Arguments", {}).get(branch, [])}
    return steps


def _resources(document: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == type_token]


def test_the_gpu_types_have_local_storage_and_the_cpu_types_do_not() -> None:
    assert all(has_local_storage(t) for t in GPU.values())
    assert not any(has_local_storage(t) for t in CPU.values())


def test_gpu_training_pipeline_processing_steps_and_monitor_plan_and_check_clean(tmp_path: Path) -> None:
    code, document = _check(_program(tmp_path, GPU))
    assert code == 0, document
    assert document["violations"] == [] and document.get("schema_errors", []) == []
    [pipeline] = _resources(document, PIPELINE)
    definition = json.loads(pipeline["inputs"]["pipelineDefinition"])
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert parameters["TrainingInstanceType"] == "ml.g5.xlarge"
    assert parameters["ProcessingInstanceType"] == "ml.g4dn.xlarge"
    steps = _steps(definition)
    train = steps["Train"]["Arguments"]
    assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert "VolumeKmsKeyId" not in train["ResourceConfig"]
    key = train["OutputDataConfig"]["KmsKeyId"]
    assert key.startswith("arn:aws:kms:")  # the model artifacts in S3 keep the platform key
    for name in ("Preprocess", "Evaluate"):
        arguments = steps[name]["Arguments"]
        cluster = arguments["ProcessingResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
        assert "VolumeKmsKeyId" not in cluster, name
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == key, name
    [job] = _resources(document, JOB_DEFINITION)
    cluster = job["inputs"]["jobResources"]["clusterConfig"]
    assert cluster["instanceType"] == "ml.g4dn.xlarge" and "volumeKmsKeyId" not in cluster
    assert job["inputs"]["dataQualityJobOutputConfig"]["kmsKeyId"].startswith("arn:aws:kms:")
    [schedule] = _resources(document, "aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    assert schedule["inputs"]["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == job["inputs"]["name"]


def test_cpu_jobs_keep_their_volume_key(tmp_path: Path) -> None:
    code, document = _check(_program(tmp_path, CPU))
    assert code == 0 and document["violations"] == []
    [pipeline] = _resources(document, PIPELINE)
    steps = _steps(json.loads(pipeline["inputs"]["pipelineDefinition"]))
    key = steps["Train"]["Arguments"]["OutputDataConfig"]["KmsKeyId"]
    assert steps["Train"]["Arguments"]["ResourceConfig"]["VolumeKmsKeyId"] == key
    for name in ("Preprocess", "Evaluate"):
        assert steps[name]["Arguments"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    [job] = _resources(document, JOB_DEFINITION)
    assert job["inputs"]["jobResources"]["clusterConfig"]["volumeKmsKeyId"].startswith("arn:aws:kms:")


@pytest.mark.parametrize(
    ("placeholder", "field", "kind"),
    [
        ("TRAINING", "training_instance_type", "training"),
        ("PROCESSING", "processing_instance_type", "processing"),
        ("MONITORING", "instance_type", "monitoring"),
    ],
)
def test_a_type_sagemaker_does_not_have_is_refused_naming_the_field_and_kind(
    tmp_path: Path, placeholder: str, field: str, kind: str
) -> None:
    result = runner.invoke(
        app_(), ["check", str(_program(tmp_path, {**CPU, placeholder: "ml.c5.3xlarge"})), "--format", "json"]
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert f"{field}: 'ml.c5.3xlarge' is not a SageMaker instance type" in message
    assert f"for {kind} jobs" in message


def test_a_type_of_another_job_kind_is_refused_before_any_resource_registers() -> None:
    registered: list[str] = []

    def program() -> None:
        registered.append("started")
        TrainingPipeline(
            "churn",
            {
                "model_package_group_name": "g",
                "training_image_uri": f"{ECR}/t:1",
                "processing_image_uri": f"{ECR}/p:1",
                "training_instance_type": "ml.m5.xlarge",
                "processing_instance_type": "ml.m5d.large",  # endpoints and notebooks only
                "volume_size_gb": 50,
                "max_runtime_seconds": 3600,
                "gate": {"name": "auc", "threshold": 0.8},
            },
        )

    with pytest.raises(ProgramError) as raised:
        plan(program)
    message = str(raised.value)
    assert "processing_instance_type" in message
    assert "SageMaker does not offer ml.m5d.large for processing jobs (only for endpoint, notebook)" in message
    with pytest.raises(ProgramError, match=r"instance_type: SageMaker does not offer ml\.t2\.medium for monitoring"):
        plan(
            lambda: ModelMonitor(
                "m", {"endpoint_name": "e", "capture_s3_uri": "s3://b/c", "instance_type": "ml.t2.medium"}
            )
        )


def test_a_scheduled_override_must_keep_the_storage_kind_of_the_default() -> None:
    def pipeline(override: str) -> None:
        TrainingPipeline(
            "churn",
            {
                "model_package_group_name": "g",
                "training_image_uri": f"{ECR}/t:1",
                "processing_image_uri": f"{ECR}/p:1",
                "training_instance_type": "ml.m5.xlarge",
                "processing_instance_type": "ml.m5.large",
                "volume_size_gb": 50,
                "max_runtime_seconds": 3600,
                "gate": {"name": "auc", "threshold": 0.8},
                "schedule": {"cron": "0 3 * * 1", "pipeline_parameters": {"TrainingInstanceType": override}},
            },
        )

    with pytest.raises(ProgramError, match=r"TrainingInstanceType: ml\.g5\.xlarge and training_instance_type"):
        plan(lambda: pipeline("ml.g5.xlarge"))
    with pytest.raises(ProgramError, match=r"TrainingInstanceType: 'ml\.c5\.3xlarge' is not a SageMaker"):
        plan(lambda: pipeline("ml.c5.3xlarge"))
    stack = plan(lambda: pipeline("ml.m5.2xlarge"))  # same storage kind: the default's key fits
    assert one(stack, PIPELINE)
