"""SageMaker training pipeline with continuous training (``mlops-infra:aws:TrainingPipeline``).

A least-privilege execution role, a KMS-encrypted artifact bucket (or a prefix of a shared one),
a SageMaker Pipeline (the built-in preprocess -> train -> evaluate -> condition -> register
template, a JSON definition, or a sagemaker SDK ``Pipeline``), and what starts it: a schedule
and, optionally, CloudWatch alarms (drift, quality), with a KMS-encrypted dead-letter queue.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.account import account_id, region_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.aws.training_schedule import (
    TrainingScheduleArgs,
    create_alarm_retraining,
    create_dead_letter_queue,
    create_dead_letter_queue_policy,
    create_schedule,
    validate_alarm_arns,
    validate_alarm_name_patterns,
)
from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs, StrInput, validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import PlatformContext, current_platform

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
MAX_TRAINING_SECONDS = 28 * 24 * 3600  # CreateTrainingJob MaxRuntimeInSeconds / MaxWaitTimeInSeconds limit
# Strings in a supplied definition replaced with this component's values at deploy time.
PLACEHOLDERS = ("${ExecutionRoleArn}", "${KmsKeyArn}", "${ArtifactS3Uri}")

_ECR_IMAGE = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<cn>\.cn)?/"
    r"(?P<repo>[a-z0-9][a-z0-9._/-]{0,255})(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@sha256:(?P<digest>[0-9a-f]{64}))?"
)
_INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")
_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>[^\s]*))?")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_JOB_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
]
_VPC_INTERFACE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
# EC2 Describe* calls accept no resource ARN; SageMaker makes them to place jobs in the VPC.
_VPC_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]


def ecr_repository_arn(image_uri: str) -> str:
    """``arn:aws:ecr:REGION:ACCOUNT:repository/REPO`` of an ECR image URI (ValueError otherwise)."""
    match = _ECR_IMAGE.fullmatch(image_uri)
    if not match:
        raise ValueError(f"{image_uri!r} is not an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG)")
    partition = "aws-cn" if match["cn"] else "aws"
    return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"


def check_pinned_image(image_uri: str) -> str:
    """An ECR image pinned to a digest or a tag other than ``latest`` (a moving tag retrains on unknown code)."""
    ecr_repository_arn(image_uri)
    match = _ECR_IMAGE.fullmatch(image_uri)
    assert match is not None
    if match["digest"] is None and match["tag"] in (None, "latest"):
        raise ValueError(f"{image_uri!r} must be pinned: a tag other than 'latest', or @sha256:DIGEST")
    return image_uri


def _check_s3_uri(value: str | None) -> str | None:
    if value is not None and not _S3_URI.fullmatch(value):
        raise ValueError(f"{value!r} is not an s3://bucket/key URI")
    return value


def _check_instance_types(values: list[str]) -> list[str]:
    for value in values:
        if not _INSTANCE_TYPE.fullmatch(value):
            raise ValueError(f"{value!r} is not a SageMaker instance type (ml.FAMILY.SIZE, e.g. ml.m5.xlarge)")
    return values


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
    metric_name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    metric_threshold: float = Field(description="Registered only when the metric meets this.")
    metric_direction: Literal["maximize", "minimize"] = Field(description="maximize: metric >= threshold.")
    metric_json_path: str | None = Field(None, description="Path in evaluation.json; default metrics.NAME.value.")
    training_instance_count: int = Field(1, ge=1, le=100)
    processing_instance_count: int = Field(1, ge=1, le=100)
    processing_max_runtime_seconds: int = Field(3600, ge=1, le=777600)
    model_approval_status: Literal["Approved", "PendingManualApproval"] | None = Field(
        None, description="Default: PendingManualApproval in protected environments, Approved elsewhere."
    )
    use_spot_training: bool = Field(False, description="Managed spot training (checkpointed, cheaper, may wait).")
    max_wait_seconds: int | None = Field(None, ge=1, le=MAX_TRAINING_SECONDS, description="Spot only; >= runtime.")
    enable_network_isolation: bool = Field(True, description="Jobs get no network access; False is an opt-out.")
    vpc_subnet_ids: list[str] = Field(default_factory=list, max_length=16)
    vpc_security_group_ids: list[str] = Field(default_factory=list, max_length=5)
    hyperparameters: dict[str, str] = Field(default_factory=dict, max_length=100)
    input_data_s3_uri: str | None = Field(None, description="Default InputDataUrl; default {artifacts}/input/.")
    preprocess_code_s3_uri: str | None = Field(None, description="Script run by python3; default: image entrypoint.")
    evaluate_code_s3_uri: str | None = Field(None, description="Script that writes evaluation.json.")
    content_types: list[str] = Field(default_factory=lambda: ["text/csv"], min_length=1)
    response_types: list[str] = Field(default_factory=lambda: ["text/csv"], min_length=1)
    inference_instance_types: list[str] = Field(default_factory=lambda: ["ml.m5.large"], min_length=1)
    transform_instance_types: list[str] = Field(default_factory=lambda: ["ml.m5.large"], min_length=1)
    pipeline_definition: dict[str, Any] | None = Field(
        None, description="Replaces the built-in template: a dict, a JSON file path, or a sagemaker Pipeline."
    )
    allow_insecure_definition: bool = Field(False, description="Accept a definition without KMS/isolation (opt-out).")
    kms_key_arn: StrInput | None = Field(None, description="Key for artifacts, volumes, DLQ; default: platform key.")
    artifact_bucket_name: StrInput | None = Field(None, description="Shared bucket (with artifact_bucket_arn).")
    artifact_bucket_arn: StrInput | None = None
    artifact_prefix: str | None = Field(None, max_length=512, description="Key prefix; default pipelines/NAME.")
    schedule: TrainingScheduleArgs | None = Field(None, description="Continuous training; None: on demand only.")
    retrain_on_alarm_name_patterns: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Alarm-name wildcards (e.g. 'churn-prod-*-drift-*') whose ALARM state starts retraining; "
        "one pattern covers any number of monitors (EventBridge limits a pattern's size, not its matches).",
    )
    retrain_on_alarm_arns: list[StrInput] = Field(
        default_factory=list,
        max_length=20,
        description="Alarms (e.g. ModelMonitor drift alarms) that start retraining.",
    )
    description: str | None = Field(None, max_length=3072)

    @field_validator("training_image_uri", "processing_image_uri", "inference_image_uri")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        return None if value is None else check_pinned_image(value)

    @field_validator("training_instance_type", "processing_instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        return _check_instance_types([value])[0]

    @field_validator("inference_instance_types", "transform_instance_types")
    @classmethod
    def _instance_types(cls, values: list[str]) -> list[str]:
        return _check_instance_types(values)

    @field_validator("metric_threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("max_wait_seconds")
    @classmethod
    def _max_wait(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        if not info.data.get("use_spot_training"):
            raise ValueError("is only used with use_spot_training=True")
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

    @field_validator("input_data_s3_uri", "preprocess_code_s3_uri", "evaluate_code_s3_uri")
    @classmethod
    def _s3(cls, value: str | None) -> str | None:
        return _check_s3_uri(value)

    @field_validator("pipeline_definition", mode="before")
    @classmethod
    def _load(cls, value: Any) -> dict[str, Any] | None:
        return load_definition(value)

    @field_validator("pipeline_definition")
    @classmethod
    def _definition(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        template.validate_definition(value)
        for image in template.container_images(value):
            if image not in PLACEHOLDERS:
                check_pinned_image(image)
        return value

    @field_validator("allow_insecure_definition")
    @classmethod
    def _secure_definition(cls, allowed: bool, info: ValidationInfo) -> bool:
        findings = template.security_findings(info.data.get("pipeline_definition") or {})
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
        if isinstance(value, str) and not value.startswith("arn:aws"):
            raise ValueError(f"{value!r} is not an S3 bucket ARN")
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
        return value

    @field_validator("retrain_on_alarm_name_patterns")
    @classmethod
    def _alarm_patterns(cls, values: list[str]) -> list[str]:
        return validate_alarm_name_patterns(values)

    @field_validator("retrain_on_alarm_arns")
    @classmethod
    def _alarms(cls, values: list[StrInput]) -> list[StrInput]:
        return validate_alarm_arns(values)


def pipeline_parameter_names(definition: dict[str, Any] | None) -> list[str]:
    """Parameter names of a supplied definition, or of the built-in template."""
    if definition is None:
        return list(template.TEMPLATE_PARAMETER_NAMES)
    return [str(p["Name"]) for p in definition.get("Parameters") or []]


def resolve_approval_status(args: TrainingPipelineArgs, context: PlatformContext) -> str:
    """PendingManualApproval in protected environments unless configured; a schedule may not bypass it."""
    status = args.model_approval_status or ("PendingManualApproval" if context.protected else "Approved")
    overridden = args.schedule.pipeline_parameters.get(template.MODEL_APPROVAL_STATUS) if args.schedule else None
    if status == "PendingManualApproval" and overridden == "Approved" and args.pipeline_definition is None:
        message = (
            f"scheduled runs would register models as Approved in {context.environment!r}, where the pipeline "
            "registers them PendingManualApproval; set model_approval_status='Approved' to mean it"
        )
        raise ValidationError.from_exception_data(
            TrainingPipelineArgs.__name__,
            [
                InitErrorDetails(
                    type=PydanticCustomError("approval_bypass", message),
                    loc=("schedule", "pipeline_parameters", template.MODEL_APPROVAL_STATUS),
                    input=overridden,
                )
            ],
        )
    return status


def _substitute(value: Any, replacements: dict[str, str]) -> Any:
    """Placeholders replaced everywhere, and every job's ``RoleArn`` set to the execution role."""
    if isinstance(value, dict):
        return {
            k: replacements["${ExecutionRoleArn}"] if k == "RoleArn" else _substitute(v, replacements)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, str):
        for placeholder, replacement in replacements.items():
            value = value.replace(placeholder, replacement)
    return value


def _s3_read_grants(uris: list[str]) -> dict[str, list[str]]:
    """Bucket -> key prefixes the role must read (inputs and code outside the artifact prefix)."""
    grants: dict[str, list[str]] = {}
    for uri in uris:
        match = _S3_URI.fullmatch(uri)
        if match:
            grants.setdefault(match["bucket"], []).append(match["key"] or "")
    return grants


class TrainingPipeline(PlatformComponent[TrainingPipelineArgs]):
    """A SageMaker Pipeline that retrains on a schedule (and on alarms) and registers good models.

    Outputs: ``pipeline_name``, ``pipeline_arn``, ``execution_role_arn``, ``artifact_bucket_name``,
    ``schedule_arn`` and ``dlq_arn`` (None without a schedule or alarms), ``retrain_rule_arn``.
    """

    TYPE_TOKEN = "mlops-infra:aws:TrainingPipeline"
    ARGS = TrainingPipelineArgs

    def __init__(
        self,
        name: str,
        args: TrainingPipelineArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Every check, including the environment-dependent one, runs before anything is registered.
        validated = validate_args(TrainingPipelineArgs, args)
        self.approval_status: str = resolve_approval_status(validated, current_platform())
        super().__init__(name, validated, opts)
        settings = self.args
        self.key_arn: pulumi.Input[str] = key_arn_or_shared(settings.kms_key_arn, requester=self)
        self.prefix = settings.artifact_prefix or f"pipelines/{name}"
        self.artifact_bucket: SecureBucket | None = None
        if settings.artifact_bucket_name is not None and settings.artifact_bucket_arn is not None:
            bucket_name: pulumi.Input[str] = settings.artifact_bucket_name
            bucket_arn: pulumi.Input[str] = settings.artifact_bucket_arn
        else:
            self.artifact_bucket = SecureBucket(
                self.child_name("artifacts"),
                SecureBucketArgs(purpose="training-artifacts", kms_key_arn=self.key_arn),
                self.child_opts(),
            )
            bucket_name, bucket_arn = self.artifact_bucket.bucket_name, self.artifact_bucket.arn
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account, region = account_id(invoke), region_name(invoke)
        self.role = aws.iam.Role(
            self.child_name("execution-role"),
            name=self.platform.name(f"{name}-exec", naming.IAM_ROLE),
            description=f"Runs the jobs of the {name} training pipeline",
            assume_role_policy=assume_role_policy(SAGEMAKER_PRINCIPAL, account),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("execution-policy"),
            role=self.role.id,
            policy=policy_document(self._execution_statements(bucket_arn, account, region)),
            opts=self.child_opts(),
        )
        artifact_uri = pulumi.Output.concat("s3://", bucket_name, "/", self.prefix)
        definition = pulumi.Output.all(self.role.arn, self.key_arn, artifact_uri, settings.model_package_group_name)
        pipeline_name = self.platform.name(name, naming.SAGEMAKER_PIPELINE)
        self.pipeline = aws.sagemaker.Pipeline(
            self.child_name("pipeline"),
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=settings.description or f"Continuous training of {name}",
            role_arn=self.role.arn,
            pipeline_definition=definition.apply(lambda values: json.dumps(self._definition(*values))),
            # The role's permissions must exist before the first execution starts.
            opts=self.child_opts(depends_on=[self.role_policy]),
        )
        self._create_triggers()
        self.pipeline_name: pulumi.Output[str] = self.pipeline.pipeline_name
        self.pipeline_arn: pulumi.Output[str] = self.pipeline.arn
        self.execution_role_arn: pulumi.Output[str] = self.role.arn
        self.artifact_bucket_name: pulumi.Output[str] = pulumi.Output.from_input(bucket_name)
        self.register_outputs(
            {
                "pipelineName": self.pipeline_name,
                "pipelineArn": self.pipeline_arn,
                "executionRoleArn": self.execution_role_arn,
                "artifactBucketName": self.artifact_bucket_name,
                "scheduleArn": self.schedule_arn,
                "dlqArn": self.dlq_arn,
                "retrainRuleArn": self.retrain_rule_arn,
            }
        )

    def _create_triggers(self) -> None:
        settings = self.args
        self.schedule: aws.scheduler.Schedule | None = None
        self.dlq: aws.sqs.Queue | None = None
        self.retrain_rule: aws.cloudwatch.EventRule | None = None
        scheduler_role = None
        retrains_on_alarms = bool(settings.retrain_on_alarm_arns or settings.retrain_on_alarm_name_patterns)
        if settings.schedule is not None or retrains_on_alarms:
            self.dlq = create_dead_letter_queue(self, self.key_arn)
        if settings.schedule is not None and self.dlq is not None:
            self.schedule, scheduler_role = create_schedule(
                self, settings.schedule, self.pipeline, self.key_arn, self.dlq
            )
        if retrains_on_alarms and self.dlq is not None:
            parameters = settings.schedule.pipeline_parameters if settings.schedule else {}
            self.retrain_rule, _ = create_alarm_retraining(
                self,
                settings.retrain_on_alarm_arns,
                self.pipeline,
                parameters,
                self.dlq,
                alarm_name_patterns=settings.retrain_on_alarm_name_patterns,
            )
        if self.dlq is not None:
            create_dead_letter_queue_policy(self, self.dlq, scheduler_role, self.schedule, self.retrain_rule)
        self.schedule_arn: pulumi.Output[str] | None = self.schedule.arn if self.schedule else None
        self.dlq_arn: pulumi.Output[str] | None = self.dlq.arn if self.dlq else None
        self.retrain_rule_arn: pulumi.Output[str] | None = self.retrain_rule.arn if self.retrain_rule else None

    def _definition(self, role_arn: str, key_arn: str, artifact_uri: str, group_name: str) -> dict[str, Any]:
        """The definition sent to SageMaker: the rendered template, or the supplied one with placeholders filled."""
        settings = self.args
        if settings.pipeline_definition is not None:
            replacements = dict(zip(PLACEHOLDERS, (role_arn, key_arn, artifact_uri), strict=True))
            substituted: dict[str, Any] = _substitute(settings.pipeline_definition, replacements)
            return substituted
        vpc = (
            template.Vpc(tuple(settings.vpc_subnet_ids), tuple(settings.vpc_security_group_ids))
            if settings.vpc_subnet_ids
            else None
        )
        spot_wait = (settings.max_wait_seconds or settings.max_runtime_seconds) if settings.use_spot_training else None
        return template.render_pipeline_definition(
            template.TemplateInputs(
                role_arn=role_arn,
                kms_key_arn=key_arn,
                artifact_s3_uri=artifact_uri,
                input_data_s3_uri=settings.input_data_s3_uri or f"{artifact_uri}/input/",
                model_package_group_name=group_name,
                training_image_uri=settings.training_image_uri,
                processing_image_uri=settings.processing_image_uri,
                inference_image_uri=settings.inference_image_uri or settings.training_image_uri,
                training_instance_type=settings.training_instance_type,
                processing_instance_type=settings.processing_instance_type,
                volume_size_gb=settings.volume_size_gb,
                max_runtime_seconds=settings.max_runtime_seconds,
                metric_json_path=settings.metric_json_path or f"metrics.{settings.metric_name}.value",
                metric_threshold=settings.metric_threshold,
                metric_direction=settings.metric_direction,
                approval_status=self.approval_status,
                training_instance_count=settings.training_instance_count,
                processing_instance_count=settings.processing_instance_count,
                processing_max_runtime_seconds=settings.processing_max_runtime_seconds,
                network_isolation=settings.enable_network_isolation,
                spot_max_wait_seconds=spot_wait,
                vpc=vpc,
                hyperparameters=settings.hyperparameters,
                preprocess_code_s3_uri=settings.preprocess_code_s3_uri,
                evaluate_code_s3_uri=settings.evaluate_code_s3_uri,
                content_types=tuple(settings.content_types),
                response_types=tuple(settings.response_types),
                inference_instance_types=tuple(settings.inference_instance_types),
                transform_instance_types=tuple(settings.transform_instance_types),
            )
        )

    def _image_uris(self) -> list[str]:
        settings = self.args
        images = {settings.training_image_uri, settings.processing_image_uri}
        if settings.inference_image_uri:
            images.add(settings.inference_image_uri)
        if settings.pipeline_definition is not None:
            images.update(i for i in template.container_images(settings.pipeline_definition) if i not in PLACEHOLDERS)
        return sorted(images)

    def _execution_statements(
        self, bucket_arn: pulumi.Input[str], account: pulumi.Output[str], region: pulumi.Output[str]
    ) -> list[dict[str, Any]]:
        """Exactly what the steps need, on this pipeline's own prefix, key, images, jobs and group."""
        settings = self.args
        prefix = self.prefix
        arn = pulumi.Output.concat
        sagemaker_arn = arn("arn:aws:sagemaker:", region, ":", account, ":")
        group = settings.model_package_group_name
        log_groups = arn("arn:aws:logs:", region, ":", account, ":log-group:/aws/sagemaker/*")
        statements = [
            statement(
                ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                [arn(bucket_arn, "/", prefix, "/*")],
                sid="ArtifactObjects",
            ),
            statement(
                ["s3:ListBucket"],
                [bucket_arn],
                sid="ListArtifactPrefix",
                conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
            ),
            statement(kms_use_actions(), [self.key_arn], sid="UsePlatformKey"),
            statement(
                ["kms:CreateGrant"],
                [self.key_arn],
                sid="GrantKeyToSageMakerVolumes",
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            statement(
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [*sorted({ecr_repository_arn(image) for image in self._image_uris()})],
                sid="PullPipelineImages",
            ),
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
            statement(
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [log_groups, arn(log_groups, ":log-stream:*")],
                sid="JobLogs",
            ),
            statement(
                _JOB_ACTIONS,
                [arn(sagemaker_arn, "processing-job/pipelines-*"), arn(sagemaker_arn, "training-job/pipelines-*")],
                sid="RunPipelineJobs",
            ),
            statement(
                ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
                [arn(sagemaker_arn, "model-package-group/", group), arn(sagemaker_arn, "model-package/", group, "/*")],
                sid="RegisterModelVersions",
            ),
        ]
        # Scheduled and alarm-started runs may read their InputDataUrl override too.
        scheduled_input = (
            settings.schedule.pipeline_parameters.get(template.INPUT_DATA_URL) if settings.schedule else None
        )
        sources = (
            settings.input_data_s3_uri,
            settings.preprocess_code_s3_uri,
            settings.evaluate_code_s3_uri,
            scheduled_input,
        )
        reads = [uri for uri in sources if uri]
        for index, (bucket, keys) in enumerate(sorted(_s3_read_grants(reads).items())):
            statements.append(
                statement(["s3:GetObject"], [f"arn:aws:s3:::{bucket}/{key}*" for key in keys], sid=f"ReadInputs{index}")
            )
            statements.append(
                statement(
                    ["s3:ListBucket"],
                    [f"arn:aws:s3:::{bucket}"],
                    sid=f"ListInputs{index}",
                    conditions={"StringLike": {"s3:prefix": [f"{key}*" for key in keys]}},
                )
            )
        if settings.vpc_subnet_ids:
            ec2 = arn("arn:aws:ec2:", region, ":", account, ":")
            interfaces: list[pulumi.Input[str]] = [arn(ec2, "network-interface/*")]
            interfaces += [arn(ec2, "subnet/", s) for s in settings.vpc_subnet_ids]
            interfaces += [arn(ec2, "security-group/", g) for g in settings.vpc_security_group_ids]
            statements.append(statement(_VPC_INTERFACE_ACTIONS, interfaces, sid="VpcNetworkInterfaces"))
            statements.append(statement(_VPC_DESCRIBE_ACTIONS, ["*"], sid="VpcDescribe"))
        # Jobs run as this role: it may pass itself to SageMaker and nothing else.
        statements.append(
            statement(
                ["iam:PassRole"],
                [self.role.arn],
                sid="PassOwnRoleToSageMaker",
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}},
            )
        )
        return statements
