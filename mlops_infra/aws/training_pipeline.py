"""SageMaker training pipeline with continuous training (``mlops-infra:aws:TrainingPipeline``).

A least-privilege execution role, a KMS-encrypted artifact bucket (or a prefix of a shared one),
a SageMaker Pipeline (the built-in preprocess -> train -> evaluate -> condition -> register
template, a JSON definition, or a sagemaker SDK ``Pipeline``), and what starts it: a schedule
and, optionally, CloudWatch alarms (drift, quality), with a KMS-encrypted dead-letter queue.

This module holds the component and what is bound to it (the approval status it resolves, the
definition it sends). Its settings are in ``training_pipeline_args`` (re-exported here), the
execution role in ``training_role``, the schedule and alarm triggers in ``training_schedule``.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.account import account_id
from mlops_infra.aws.model_monitor_images import analyzer_image, check_analyzer_region
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.aws.training_pipeline_args import PLACEHOLDERS, TrainingPipelineArgs
from mlops_infra.aws.training_role import create_execution_role
from mlops_infra.aws.training_schedule import (
    create_alarm_retraining,
    create_dead_letter_queue,
    create_dead_letter_queue_policy,
    create_schedule,
)
from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import PlatformContext, current_platform
from mlops_infra.outputs import concat
from mlops_infra.spec.base import field_error

__all__ = ["TrainingPipeline", "TrainingPipelineArgs"]

BASELINE_PREFIX = "monitoring-baseline"


def resolve_approval_status(args: TrainingPipelineArgs, context: PlatformContext) -> str:
    """PendingManualApproval in protected environments unless configured; a schedule may not bypass it."""
    status = args.model_approval_status or ("PendingManualApproval" if context.protected else "Approved")
    overridden = args.schedule.pipeline_parameters.get(template.MODEL_APPROVAL_STATUS) if args.schedule else None
    if status == "PendingManualApproval" and overridden == "Approved" and args.pipeline_definition is None:
        message = (
            f"scheduled runs would register models as Approved in {context.environment!r}, where the pipeline "
            "registers them PendingManualApproval; set model_approval_status='Approved' to mean it"
        )
        location = ("schedule", "pipeline_parameters", template.MODEL_APPROVAL_STATUS)
        raise field_error(TrainingPipelineArgs, location, message, overridden)
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


class TrainingPipeline(PlatformComponent[TrainingPipelineArgs]):
    """A SageMaker Pipeline that retrains on a schedule (and on alarms) and registers good models.

    Outputs: ``pipeline_name``, ``pipeline_arn``, ``execution_role_arn``, ``artifact_bucket_name``,
    ``artifact_bucket_arn``, ``schedule_arn`` and ``dlq_arn`` (None without a schedule or alarms), ``retrain_rule_arn``.
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
        if validated.refreshes_baseline:
            check_analyzer_region(validated.analyzer_image_uri, opts)  # a region without an image: a config error now
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
                SecureBucketArgs(
                    purpose="training-artifacts",
                    kms_key_arn=self.key_arn,
                    transition_to_glacier_ir_days=settings.artifact_archive_after_days,
                ),
                self.child_opts(),
            )
            bucket_name, bucket_arn = self.artifact_bucket.bucket_name, self.artifact_bucket.arn
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        # The baseline step's image: the one named, else AWS's in the provider's region.
        self._analyzer_image = (
            analyzer_image(settings.analyzer_image_uri, invoke) if settings.refreshes_baseline else None
        )
        self.role, self.role_policy = create_execution_role(
            self, self.key_arn, bucket_arn, prefix=self.prefix, account=account, analyzer_image=self._analyzer_image
        )
        artifact_uri = concat("s3://", bucket_name, "/", self.prefix)
        # Where the RefreshBaseline step writes the drift monitor's baseline (under the pipeline's own prefix).
        self.baseline_s3_uri: pulumi.Output[str] | None = (
            concat(artifact_uri, "/", BASELINE_PREFIX) if settings.refreshes_baseline else None
        )
        definition = pulumi.Output.all(
            self.role.arn,
            self.key_arn,
            artifact_uri,
            settings.model_package_group_name,
            self._analyzer_image or "",
            settings.tracking_server_arn or "",
        )
        pipeline_name = self.platform.name(name, naming.SAGEMAKER_PIPELINE)
        self.pipeline = aws.sagemaker.Pipeline(
            self.child_name("pipeline"),
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=settings.description or f"Continuous training of {name}",
            role_arn=self.role.arn,
            pipeline_definition=definition.apply(
                lambda values: json.dumps(self._definition(*values[:5], tracking_uri=values[5]))
            ),
            # The role's permissions must exist before the first execution starts.
            opts=self.child_opts(depends_on=[self.role_policy]),
        )
        self._create_triggers()
        self.pipeline_name: pulumi.Output[str] = self.pipeline.pipeline_name
        self.pipeline_arn: pulumi.Output[str] = self.pipeline.arn
        self.execution_role_arn: pulumi.Output[str] = self.role.arn
        self.artifact_bucket_name: pulumi.Output[str] = pulumi.Output.from_input(bucket_name)
        # The bucket's ARN in its partition (for audit selectors and grants elsewhere in the stack).
        self.artifact_bucket_arn: pulumi.Output[str] = pulumi.Output.from_input(bucket_arn)
        self.register_outputs(
            {
                "pipelineName": self.pipeline_name,
                "pipelineArn": self.pipeline_arn,
                "executionRoleArn": self.execution_role_arn,
                "artifactBucketName": self.artifact_bucket_name,
                "scheduleArn": self.schedule_arn,
                "dlqArn": self.dlq_arn,
                "retrainRuleArn": self.retrain_rule_arn,
                "baselineS3Uri": self.baseline_s3_uri,
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

    def _definition(
        self,
        role_arn: str,
        key_arn: str,
        artifact_uri: str,
        group_name: str,
        analyzer_image: str = "",
        *,
        tracking_uri: str = "",
    ) -> dict[str, Any]:
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
        spot_wait = (settings.max_wait_seconds or settings.max_runtime_seconds) if settings.use_spot else None
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
                metric_json_path=settings.gate.json_path or f"metrics.{settings.gate.name}.value",
                metric_threshold=settings.gate.threshold,
                metric_direction=settings.gate.direction.value,
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
                baseline_s3_uri=f"{artifact_uri}/{BASELINE_PREFIX}" if settings.refreshes_baseline else None,
                baseline_image_uri=analyzer_image or None,
                tracking_environment={
                    "MLFLOW_TRACKING_URI": tracking_uri,
                    "MLFLOW_EXPERIMENT_NAME": settings.tracking_experiment or group_name.lower(),
                }
                if tracking_uri
                else {},
            )
        )
