"""Settings of the SageMaker training pipeline (``TrainingPipelineArgs``) and the checks behind them.

Kept apart from the component so the validation (pinned ECR images, instance types, S3 URIs, a
supplied pipeline definition, schedule parameters) reads on its own; ``training_pipeline`` re-exports
``TrainingPipelineArgs``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.arns import AlarmArn, KmsKeyArn, S3BucketArn
from mlops_infra.aws.ecr import check_ecr_image
from mlops_infra.aws.pipeline_definition import container_images, security_findings, validate_definition
from mlops_infra.aws.s3 import KnownS3Uri
from mlops_infra.aws.training_schedule import TrainingScheduleArgs, validate_alarm_arns, validate_alarm_name_patterns
from mlops_infra.policy.facts.instance_types import SageMakerKind, has_local_storage
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput, Switch
from mlops_infra.spec.compute import check_aws_instance_type
from mlops_infra.spec.training import MetricGate

MAX_TRAINING_SECONDS = 28 * 24 * 3600  # CreateTrainingJob MaxRuntimeInSeconds / MaxWaitTimeInSeconds limit
# Strings in a supplied definition replaced with this component's values at deploy time.
PLACEHOLDERS = ("${ExecutionRoleArn}", "${KmsKeyArn}", "${ArtifactS3Uri}")

_PREFIX = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")


# The SageMaker job kind each instance-type field runs (botocore's enumeration it is checked against).
INSTANCE_TYPE_KINDS: dict[str, SageMakerKind] = {
    "training_instance_type": "training",
    "processing_instance_type": "processing",
    "inference_instance_types": "endpoint",
    "transform_instance_types": "transform",
}


def load_definition(value: Any) -> dict[str, Any] | None:
    """A definition given as a dict, a path to a JSON file, or a sagemaker SDK ``Pipeline``."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, (str, Path)):
        path = Path(value)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read the pipeline definition file {str(path)!r}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f"{str(path)!r} is not JSON: {exc.msg} at line {exc.lineno}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"{str(path)!r} must hold a JSON object")
        return loaded
    if callable(getattr(value, "definition", None)):
        try:
            from sagemaker.workflow.pipeline import Pipeline  # noqa: PLC0415 - optional extra, imported on use
        except ImportError as exc:
            raise ValueError(
                f"a sagemaker Pipeline needs the 'sagemaker' extra (pip install 'mlops-infra[sagemaker]'): {exc}"
            ) from exc
        if not isinstance(value, Pipeline):
            raise ValueError(f"expected a sagemaker.workflow.pipeline.Pipeline, got {type(value).__name__}")
        loaded_sdk: dict[str, Any] = json.loads(value.definition())
        return loaded_sdk
    raise ValueError("must be a dict, a path to a JSON file, or a sagemaker.workflow.pipeline.Pipeline")


class GateArgs(MetricGate):
    """The shared :class:`~mlops_infra.spec.MetricGate` (``name``, ``threshold``, ``direction``: maximize
    registers when metric >= threshold), and where the pipeline reads the metric."""

    json_path: str | None = Field(None, description="Path in evaluation.json; default metrics.NAME.value.")


class TrainingPipelineArgs(ComponentArgs):
    """Settings of a training pipeline. Sizes in GB, times in seconds; every default is the secure choice."""

    model_package_group_name: StrInput = Field(description="Registry group new model versions go to.")
    training_image_uri: str = Field(description="Pinned ECR training image (tag other than latest, or digest).")
    processing_image_uri: str = Field(description="Pinned ECR image of the preprocess and evaluate steps.")
    inference_image_uri: str | None = Field(None, description="Image registered with the model; default: training.")
    training_instance_type: str
    processing_instance_type: str
    volume_size_gb: int = Field(ge=1, le=16384, description="Encrypted storage volume of each job instance.")
    max_runtime_seconds: int = Field(ge=1, le=MAX_TRAINING_SECONDS, description="Training stops after this.")
    gate: GateArgs = Field(description="Register only models whose evaluation metric passes the threshold.")
    training_instance_count: int = Field(1, ge=1, le=100)
    processing_instance_count: int = Field(1, ge=1, le=100)
    processing_max_runtime_seconds: int = Field(3600, ge=1, le=777600)
    model_approval_status: Literal["Approved", "PendingManualApproval"] | None = Field(
        None, description="Default: PendingManualApproval in protected environments, Approved elsewhere."
    )
    use_spot: Switch = Field(False, description="Managed spot training (checkpointed, cheaper, may wait).")
    max_wait_seconds: int | None = Field(None, ge=1, le=MAX_TRAINING_SECONDS, description="Spot only; >= runtime.")
    enable_network_isolation: Switch = Field(True, description="Jobs get no network access; False is an opt-out.")
    vpc_subnet_ids: list[str] = Field(default_factory=list, max_length=16)
    vpc_security_group_ids: list[str] = Field(default_factory=list, max_length=5)
    hyperparameters: dict[str, str] = Field(default_factory=dict, max_length=100)
    input_data_s3_uri: KnownS3Uri | None = Field(None, description="Default InputDataUrl; default {artifacts}/input/.")
    preprocess_code_s3_uri: KnownS3Uri | None = Field(
        None, description="Script run by python3; default: image entrypoint."
    )
    evaluate_code_s3_uri: KnownS3Uri | None = Field(None, description="Script that writes evaluation.json.")
    content_types: list[str] = Field(default_factory=lambda: ["text/csv"], min_length=1)
    response_types: list[str] = Field(default_factory=lambda: ["text/csv"], min_length=1)
    inference_instance_types: list[str] = Field(default_factory=lambda: ["ml.m5.large"], min_length=1)
    transform_instance_types: list[str] = Field(default_factory=lambda: ["ml.m5.large"], min_length=1)
    pipeline_definition: dict[str, Any] | None = Field(
        None, description="Replaces the built-in template: a dict, a JSON file path, or a sagemaker Pipeline."
    )
    allow_insecure_definition: Switch = Field(False, description="Accept a definition without KMS/isolation (opt-out).")
    kms_key_arn: KmsKeyArn | None = Field(None, description="Key for artifacts, volumes, DLQ; default: platform key.")
    artifact_bucket_name: StrInput | None = Field(None, description="Shared bucket (with artifact_bucket_arn).")
    artifact_bucket_arn: S3BucketArn | None = None
    artifact_prefix: str | None = Field(None, max_length=512, description="Key prefix; default pipelines/NAME.")
    tracking_server_arn: StrInput | None = Field(
        None, description="Managed MLflow tracking server the Train and Evaluate jobs log to (MLFLOW_TRACKING_URI)."
    )
    tracking_experiment: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{0,62}$", description="MLflow experiment of the runs (MLFLOW_EXPERIMENT_NAME)."
    )
    artifact_archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days before objects of the pipeline's own bucket move to GLACIER_IR."
    )
    schedule: TrainingScheduleArgs | None = Field(None, description="Continuous training; None: on demand only.")
    retrain_on_alarm_name_patterns: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Alarm-name wildcards (e.g. 'churn-prod-*-drift-*') whose ALARM state starts retraining; "
        "one pattern covers any number of monitors (EventBridge limits a pattern's size, not its matches).",
    )
    retrain_on_alarm_arns: list[AlarmArn] = Field(
        default_factory=list,
        max_length=20,
        description="Alarms (e.g. ModelMonitor drift alarms) that start retraining.",
    )
    description: str | None = Field(None, max_length=3072)
    refresh_monitoring_baseline: Switch = Field(
        False,
        description="Built-in template: after RegisterModel, write the drift monitor's data-quality baseline "
        "(statistics.json, constraints.json) of the new model's training split to baseline_s3_uri.",
    )
    analyzer_image_uri: str | None = Field(
        None,
        description="The Model Monitor analyzer image the baseline step runs; default: the region's "
        "(SageMaker publishes none in GovCloud: pass your ECR copy).",
    )

    @property
    def refreshes_baseline(self) -> bool:
        """The built-in template writes the monitor's baseline (a supplied definition never does)."""
        return self.refresh_monitoring_baseline and self.pipeline_definition is None

    @field_validator("training_image_uri", "processing_image_uri", "inference_image_uri")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        return None if value is None else check_ecr_image(value)

    @field_validator("training_instance_type", "processing_instance_type")
    @classmethod
    def _instance_type(cls, value: str, info: ValidationInfo) -> str:
        return check_aws_instance_type(value, INSTANCE_TYPE_KINDS[str(info.field_name)])

    @field_validator("inference_instance_types", "transform_instance_types")
    @classmethod
    def _instance_types(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return [check_aws_instance_type(value, INSTANCE_TYPE_KINDS[str(info.field_name)]) for value in values]

    @field_validator("max_wait_seconds")
    @classmethod
    def _max_wait(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        if not info.data.get("use_spot"):
            raise ValueError("is only used with use_spot=True")
        runtime = info.data.get("max_runtime_seconds")
        if runtime is not None and value < runtime:
            raise ValueError(f"must be at least max_runtime_seconds ({runtime}): spot waiting counts toward it")
        return value

    @field_validator("vpc_security_group_ids")
    @classmethod
    def _vpc_pairs(cls, values: list[str], info: ValidationInfo) -> list[str]:
        if bool(values) != bool(info.data.get("vpc_subnet_ids")):
            raise ValueError("set vpc_subnet_ids and vpc_security_group_ids together")
        return values

    @field_validator("pipeline_definition", mode="before")
    @classmethod
    def _load(cls, value: Any) -> dict[str, Any] | None:
        return load_definition(value)

    @field_validator("pipeline_definition")
    @classmethod
    def _definition(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        validate_definition(value)
        for image in container_images(value):
            if image not in PLACEHOLDERS:
                check_ecr_image(image)
        return value

    @field_validator("allow_insecure_definition")
    @classmethod
    def _secure_definition(cls, allowed: bool, info: ValidationInfo) -> bool:
        findings = security_findings(info.data.get("pipeline_definition") or {})
        if findings and not allowed:
            raise ValueError(
                "the pipeline_definition leaves data or traffic unprotected: "
                + "; ".join(findings)
                + " (fix it, or set allow_insecure_definition=True to accept this explicitly)"
            )
        return allowed

    @field_validator("artifact_bucket_arn")
    @classmethod
    def _shared_bucket(cls, value: StrInput | None, info: ValidationInfo) -> StrInput | None:
        if (value is None) != (info.data.get("artifact_bucket_name") is None):
            raise ValueError("set artifact_bucket_name and artifact_bucket_arn together (a shared bucket)")
        return value

    @field_validator("artifact_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and not _PREFIX.fullmatch(value):
            raise ValueError("use key segments of [A-Za-z0-9._-] separated by '/', without leading or trailing '/'")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_parameters(
        cls, value: TrainingScheduleArgs | None, info: ValidationInfo
    ) -> TrainingScheduleArgs | None:
        if value is not None:
            known = set(pipeline_parameter_names(info.data.get("pipeline_definition")))
            unknown = sorted(set(value.pipeline_parameters) - known)
            if unknown:
                raise ValueError(f"pipeline_parameters {unknown} are not parameters of the pipeline {sorted(known)}")
            if info.data.get("pipeline_definition") is None:
                _check_instance_overrides(value.pipeline_parameters, info.data)
        return value

    @field_validator("retrain_on_alarm_name_patterns")
    @classmethod
    def _alarm_patterns(cls, values: list[str]) -> list[str]:
        return validate_alarm_name_patterns(values)

    @field_validator("retrain_on_alarm_arns")
    @classmethod
    def _alarms(cls, values: list[StrInput]) -> list[StrInput]:
        return validate_alarm_arns(values)


def _check_instance_overrides(parameters: dict[str, str], data: dict[str, Any]) -> None:
    """A scheduled run's instance-type override fits its job kind and keeps the default's storage kind.

    The built-in template sets ``VolumeKmsKeyId`` from the default type (none on local NVMe storage), so an
    override across storage kinds would make SageMaker refuse the job (or run it without the key).
    """
    for parameter, field in (
        (template.TRAINING_INSTANCE_TYPE, "training_instance_type"),
        (template.PROCESSING_INSTANCE_TYPE, "processing_instance_type"),
    ):
        override, default = parameters.get(parameter), data.get(field)
        if override is None or default is None:
            continue
        try:
            check_aws_instance_type(override, INSTANCE_TYPE_KINDS[field])
        except ValueError as exc:
            raise ValueError(f"pipeline_parameters.{parameter}: {exc}") from exc
        if has_local_storage(override) != has_local_storage(default):
            raise ValueError(
                f"pipeline_parameters.{parameter}: {override} and {field} {default} differ in local NVMe storage, "
                "which decides whether the job gets a VolumeKmsKeyId; set the type in "
                f"{field} instead (or override with a type of the same storage kind)"
            )


def pipeline_parameter_names(definition: dict[str, Any] | None) -> list[str]:
    """Parameter names of a supplied definition, or of the built-in template."""
    if definition is None:
        return list(template.TEMPLATE_PARAMETER_NAMES)
    return [str(p["Name"]) for p in definition.get("Parameters") or []]
