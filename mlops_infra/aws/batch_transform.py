"""Scheduled SageMaker batch transform (``mlops-infra:aws:BatchTransform``): a model over an S3 dataset.

pulumi-aws has no transform job resource (a job is a run, not infrastructure), so each run is a
pipeline execution the schedule starts through a supervisor that enforces the run's hard stop:

    EventBridge Scheduler (cron, time zone) -> Step Functions supervisor (KMS)
        -> SageMaker pipeline: CreateModel (isolated) -> Transform (output and volumes KMS-encrypted)
        -> stopped at ``max_runtime_seconds`` (a transform job has no run-time limit of its own)

Three roles keep privileges apart: the *execution* role SageMaker runs the pipeline, the model and
the transform job as (read the input prefix and the model artifact, write the output prefix, pull
the serving image, create this pipeline's models and transform jobs); the *supervisor* role
(start, read and stop this pipeline's executions); the *scheduler* role (start this state machine,
send failed starts to the KMS-encrypted dead-letter queue). None holds ``*`` on data.

The model is a registry version (``model_package_arn``, e.g. the group's newest Approved package)
or an image and artifact (``model_data_url``); ``image`` is what the execution role may pull.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from mlops_infra.aws.account import account_id, arn, partition
from mlops_infra.aws.arns import KmsKeyArn, ModelPackageVersionArn
from mlops_infra.aws.batch_pipeline import BatchInputs, render_batch_definition
from mlops_infra.aws.batch_supervisor import supervisor_definition
from mlops_infra.aws.ecr import check_ecr_image, ecr_repository_arn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.s3 import split_s3_uri
from mlops_infra.aws.training_role import SAGEMAKER_PRINCIPAL
from mlops_infra.aws.training_schedule import (
    TrainingScheduleArgs,
    create_dead_letter_queue,
    create_dead_letter_queue_policy,
    create_start_schedule,
)
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import combined, concat
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput
from mlops_infra.spec.compute import check_aws_instance_type
from mlops_infra.spec.schedule import Schedule

STATES_PRINCIPAL = "states.amazonaws.com"
START_EXECUTION_ACTION = "states:StartExecution"
_TRANSFORM_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateModel",
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeTransformJob",
    "sagemaker:StopTransformJob",
]


def _s3_location(value: StrInput) -> StrInput:
    if isinstance(value, str):
        split_s3_uri(value)
    return value


class BatchTransformArgs(ComponentArgs):
    """Settings of a scheduled batch transform. Times in seconds, payloads in MB."""

    kms_key_arn: KmsKeyArn | None = Field(None, description="Key of outputs, volumes, the supervisor, DLQ.")
    image: str = Field(description="Pinned ECR serving image (the package's, or the one run with the artifact).")
    model_package_arn: ModelPackageVersionArn | None = Field(
        None, description="Registry version to score with (e.g. the newest Approved); else model_data_url."
    )
    model_data_url: StrInput | None = Field(None, description="s3:// model archive, without a package.")
    input_s3_uri: StrInput = Field(description="s3:// prefix (or object) to score, every object under it.")
    output_s3_uri: StrInput = Field(description="s3:// prefix each run writes its own <execution id>/ under.")
    record_format: Literal["jsonl", "csv"] = Field("jsonl", description="One record per line, in and out.")
    instance_type: str = Field("ml.m5.large", description="A type SageMaker offers for transform jobs.")
    instance_count: int = Field(1, ge=1, le=100, description="Instances of each run (transform does not scale).")
    max_concurrent_transforms: int | None = Field(None, ge=1, le=100, description="Requests per instance at once.")
    max_payload_mb: int | None = Field(None, ge=1, le=100, description="Largest request body, MB.")
    max_runtime_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600, description="Hard stop of one run, seconds.")
    schedule: Schedule

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return check_ecr_image(value)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        return check_aws_instance_type(value, "transform")

    @field_validator("input_s3_uri", "output_s3_uri", "model_data_url")
    @classmethod
    def _location(cls, value: StrInput | None) -> StrInput | None:
        return None if value is None else _s3_location(value)

    @field_validator("schedule")
    @classmethod
    def _eventbridge(cls, value: Schedule) -> Schedule:
        TrainingScheduleArgs(cron=value.cron, time_zone=value.time_zone)  # refuses what EventBridge cannot say
        return value

    @model_validator(mode="after")
    def _one_model(self) -> BatchTransformArgs:
        if (self.model_package_arn is None) == (self.model_data_url is None):
            raise ValueError("set exactly one of model_package_arn and model_data_url")
        return self


def _bucket_and_prefix(uri: str) -> tuple[str, str]:
    """``s3://b/p/`` -> ``("b", "p/")``: SageMaker reads and writes every key starting with the prefix."""
    bucket, key = split_s3_uri(uri)
    return bucket, f"{key}/" if key and uri.endswith("/") else key


def _s3_arn(resource: pulumi.Input[str], invoke: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """``arn:PARTITION:s3:::RESOURCE`` (a bucket, or ``bucket/key``) in the provider's partition."""
    return arn("s3", resource, invoke, region="", account="")


def _prefix_grants(
    uri: StrInput, actions: list[str], sid: str, invoke: pulumi.InvokeOutputOptions
) -> list[dict[str, Any]]:
    """``actions`` on the objects under ``uri``, and listing that prefix (not the bucket)."""
    parts = concat(uri).apply(_bucket_and_prefix)
    return [
        statement(actions, [_s3_arn(parts.apply(lambda p: f"{p[0]}/{p[1]}*"), invoke)], sid=f"{sid}Objects"),
        statement(
            ["s3:ListBucket"],
            [_s3_arn(parts.apply(lambda p: p[0]), invoke)],
            sid=f"{sid}List",
            conditions={"StringLike": {"s3:prefix": [parts.apply(lambda p: f"{p[1]}*")]}},
        ),
    ]


class BatchTransform(PlatformComponent[BatchTransformArgs]):
    """Execution role, the CreateModel -> Transform pipeline, its supervisor, the schedule and its DLQ.

    Outputs: ``pipeline_name``, ``pipeline_arn``, ``state_machine_arn``, ``schedule_arn``,
    ``execution_role_arn``, ``output_s3_uri``.
    """

    TYPE_TOKEN = "mlops-infra:aws:BatchTransform"
    ARGS = BatchTransformArgs

    def __init__(
        self,
        name: str,
        args: BatchTransformArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        self.key_arn: pulumi.Input[str] = key_arn_or_shared(a.kms_key_arn, requester=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        pipeline_name = self.platform.name(name, naming.SAGEMAKER_PIPELINE)
        self.role = aws.iam.Role(
            self.child_name("execution-role"),
            name=global_name(self, f"{name}-exec", naming.IAM_ROLE),
            description=f"Runs the {name} batch transform: its model and transform jobs",
            assume_role_policy=assume_role_policy(SAGEMAKER_PRINCIPAL, account),
            opts=self.child_opts(),
        )
        role_policy = aws.iam.RolePolicy(
            self.child_name("execution-policy"),
            role=self.role.id,
            policy=policy_document(self._execution_statements(invoke)),
            opts=self.child_opts(),
        )
        definition = pulumi.Output.all(
            self.role.arn, self.key_arn, a.input_s3_uri, a.output_s3_uri, a.model_package_arn, a.model_data_url
        ).apply(lambda values: json.dumps(render_batch_definition(self._inputs(values))))
        self.pipeline = aws.sagemaker.Pipeline(
            self.child_name("pipeline"),
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=f"Scheduled batch transform {name}: create the model, score the input",
            role_arn=self.role.arn,
            pipeline_definition=definition,
            # The role's permissions must exist before the first execution starts.
            opts=self.child_opts(depends_on=[role_policy]),
        )
        self.state_machine = self._supervisor(pipeline_name)
        self.dlq = create_dead_letter_queue(self, self.key_arn)
        self.schedule, scheduler_role = create_start_schedule(
            self,
            TrainingScheduleArgs(cron=a.schedule.cron, time_zone=a.schedule.time_zone),
            target=(self.state_machine.arn, "{}"),
            start=statement([START_EXECUTION_ACTION], [self.state_machine.arn], sid="StartThisBatchRun"),
            key_arn=self.key_arn,
            dlq=self.dlq,
            purpose="run",
            description=f"Starts the {name} batch transform",
        )
        create_dead_letter_queue_policy(self, self.dlq, scheduler_role, self.schedule, None)
        self.pipeline_name: pulumi.Output[str] = self.pipeline.pipeline_name
        self.pipeline_arn: pulumi.Output[str] = self.pipeline.arn
        self.state_machine_arn: pulumi.Output[str] = self.state_machine.arn
        self.schedule_arn: pulumi.Output[str] = self.schedule.arn
        self.execution_role_arn: pulumi.Output[str] = self.role.arn
        self.output_s3_uri: pulumi.Output[str] = pulumi.Output.from_input(a.output_s3_uri)
        self.register_outputs(
            {
                "pipelineName": self.pipeline_name,
                "pipelineArn": self.pipeline_arn,
                "stateMachineArn": self.state_machine_arn,
                "scheduleArn": self.schedule_arn,
                "executionRoleArn": self.execution_role_arn,
                "outputS3Uri": self.output_s3_uri,
            }
        )

    def _inputs(self, values: list[Any]) -> BatchInputs:
        """The definition's inputs from (role, key, input, output, package, artifact), known at deploy time."""
        role_arn, key_arn, input_uri, output_uri, package_arn, model_data_url = values
        a = self.args
        return BatchInputs(
            role_arn=role_arn,
            kms_key_arn=key_arn,
            image_uri=a.image,
            input_s3_uri=input_uri,
            output_s3_uri=output_uri.rstrip("/"),
            instance_type=a.instance_type,
            instance_count=a.instance_count,
            record_format=a.record_format,
            model_package_arn=package_arn,
            model_data_url=model_data_url,
            max_concurrent_transforms=a.max_concurrent_transforms,
            max_payload_mb=a.max_payload_mb,
        )

    def _execution_statements(self, invoke: pulumi.InvokeOutputOptions) -> list[dict[str, Any]]:
        """Exactly what the model and the transform need: its prefixes, key, image, models and jobs."""
        a = self.args
        log_groups = arn("logs", "log-group:/aws/sagemaker/*", invoke)
        statements = [
            *_prefix_grants(a.input_s3_uri, ["s3:GetObject"], "ReadInput", invoke),
            *_prefix_grants(a.output_s3_uri, ["s3:AbortMultipartUpload", "s3:PutObject"], "WriteOutput", invoke),
            statement(kms_use_actions(), [self.key_arn], sid="UsePlatformKey"),
            statement(
                ["kms:CreateGrant"],
                [self.key_arn],
                sid="GrantKeyToSageMakerVolumes",
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            statement(
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [ecr_repository_arn(a.image)],
                sid="PullServingImage",
            ),
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
            statement(
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [log_groups, concat(log_groups, ":log-stream:*")],
                sid="JobLogs",
            ),
            # Pipelines name the models and jobs it creates pipelines-<execution>-...
            statement(
                _TRANSFORM_ACTIONS,
                [
                    arn("sagemaker", "model/pipelines-*", invoke),
                    arn("sagemaker", "transform-job/pipelines-*", invoke),
                ],
                sid="RunTransform",
            ),
            statement(
                ["iam:PassRole"],
                [self.role.arn],
                sid="PassOwnRoleToSageMaker",
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}},
            ),
        ]
        if a.model_package_arn is not None:
            statements.append(
                statement(["sagemaker:DescribeModelPackage"], [a.model_package_arn], sid="ReadModelVersion")
            )
        if a.model_data_url is not None:
            artifact = concat(a.model_data_url).apply(split_s3_uri)
            statements.append(
                statement(
                    ["s3:GetObject"], [_s3_arn(artifact.apply(lambda p: f"{p[0]}/{p[1]}"), invoke)], sid="ReadModel"
                )
            )
        return statements

    def _supervisor(self, pipeline_name: str) -> aws.sfn.StateMachine:
        """The state machine that starts a run, waits for it and stops it at the deadline (KMS-encrypted)."""
        pipeline_arn = self.pipeline.arn
        role = aws.iam.Role(
            self.child_name("supervisor-role"),
            name=global_name(self, f"{self.logical_name}-supervisor", naming.IAM_ROLE),
            description=f"Starts, watches and stops runs of the {self.logical_name} batch pipeline",
            assume_role_policy=assume_role_policy(
                STATES_PRINCIPAL, account_id(pulumi.InvokeOutputOptions(parent=self))
            ),
            opts=self.child_opts(),
        )
        policy = aws.iam.RolePolicy(
            self.child_name("supervisor-policy"),
            role=role.id,
            policy=policy_document(
                [
                    statement(["sagemaker:StartPipelineExecution"], [pipeline_arn], sid="StartRun"),
                    statement(
                        ["sagemaker:DescribePipelineExecution", "sagemaker:StopPipelineExecution"],
                        [concat(pipeline_arn, "/execution/*")],
                        sid="WatchAndStopRun",
                    ),
                    statement(["kms:Decrypt", "kms:GenerateDataKey"], [self.key_arn], sid="UsePlatformKey"),
                ]
            ),
            opts=self.child_opts(),
        )
        runtime = self.args.max_runtime_seconds
        return aws.sfn.StateMachine(
            self.child_name("supervisor"),
            name=self.platform.name(f"{self.logical_name}-supervisor", naming.STEP_FUNCTIONS_STATE_MACHINE),
            role_arn=role.arn,
            type="STANDARD",
            definition=combined(
                lambda partition_name: json.dumps(
                    supervisor_definition(pipeline_name, runtime, partition=partition_name), sort_keys=True
                ),
                partition(pulumi.InvokeOutputOptions(parent=self)),
            ),
            encryption_configuration=aws.sfn.StateMachineEncryptionConfigurationArgs(
                type="CUSTOMER_MANAGED_KMS_KEY", kms_key_id=self.key_arn, kms_data_key_reuse_period_seconds=300
            ),
            opts=self.child_opts(depends_on=[policy, self.pipeline]),
        )
