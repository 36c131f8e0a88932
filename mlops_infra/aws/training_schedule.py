"""Continuous training: a schedule (EventBridge Scheduler) and alarm rules that start the pipeline.

Both start ``StartPipelineExecution`` through a role allowed exactly that on exactly this
pipeline. Starts that still fail after the retries land in a KMS-encrypted dead-letter queue
that only these senders may write to, so a missed retraining is visible instead of silent.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.arns import check_service_arn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, policy_document, resource_statement, statement
from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import json_text
from mlops_infra.spec.base import StrInput
from mlops_infra.spec.schedule import Schedule

# EventBridge Scheduler's universal target for the SageMaker API (the input is the request), named
# arn:PARTITION:scheduler:::aws-sdk:sagemaker:startPipelineExecution in the provider's partition.
START_PIPELINE_TARGET = "aws-sdk:sagemaker:startPipelineExecution"
# The target in the commercial partition (what start_pipeline_target_arn gives there).
START_PIPELINE_TARGET_ARN = f"arn:aws:scheduler:::{START_PIPELINE_TARGET}"
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS maximum: time to notice and replay a missed start
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"

_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TrainingScheduleArgs(Schedule):
    """When and how the schedule starts the pipeline: ``cron`` (5 fields, e.g. ``0 3 * * 1``) read in
    ``time_zone``, written for EventBridge Scheduler as ``cron(0 3 ? * MON *)``. Times in seconds."""

    flexible_time_window: Literal["OFF", "FLEXIBLE"] = "OFF"
    maximum_window_minutes: int | None = Field(None, ge=1, le=1440, description="Spread of starts when FLEXIBLE.")
    state: Literal["ENABLED", "DISABLED"] = "ENABLED"
    maximum_retry_attempts: int = Field(3, ge=0, le=185, description="Retries of a failed start before the DLQ.")
    maximum_event_age_seconds: int = Field(3600, ge=60, le=86400, description="Give up on a start this old.")
    pipeline_parameters: dict[str, str] = Field(
        default_factory=dict, description="Pipeline parameter overrides for scheduled runs (names must exist)."
    )
    description: str | None = Field(None, max_length=512)

    @field_validator("cron")
    @classmethod
    def _eventbridge_can_say_it(cls, value: str) -> str:
        eventbridge_cron(Schedule(cron=value))
        return value

    @field_validator("maximum_window_minutes")
    @classmethod
    def _window(cls, value: int | None, info: ValidationInfo) -> int | None:
        mode = info.data.get("flexible_time_window")
        if mode == "FLEXIBLE" and value is None:
            raise ValueError("is required when flexible_time_window is FLEXIBLE")
        if mode == "OFF" and value is not None:
            raise ValueError("is only allowed when flexible_time_window is FLEXIBLE")
        return value

    @field_validator("pipeline_parameters")
    @classmethod
    def _parameters(cls, values: dict[str, str]) -> dict[str, str]:
        for name, value in values.items():
            if not _PARAMETER_NAME.fullmatch(name):
                raise ValueError(f"parameter name {name!r} must be 1-256 characters of [A-Za-z0-9_-]")
            if not 1 <= len(value) <= 1024:
                raise ValueError(f"parameter {name!r} needs a value of 1-1024 characters")
        return values


def validate_alarm_arns(values: list[StrInput]) -> list[StrInput]:
    """CloudWatch alarm ARNs: known ones checked, deduplicated and sorted (a stable event pattern);
    ARNs only known at deploy time (``ModelMonitor(...).drift_alarm_arns``) follow in the given order."""
    known = [v for v in values if isinstance(v, str)]
    for value in known:
        check_service_arn(value, "cloudwatch", "alarm:")
    return [*sorted(set(known)), *(v for v in values if not isinstance(v, str))]


_ALARM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._/*-]{1,255}$")


def validate_alarm_name_patterns(values: list[str]) -> list[str]:
    """EventBridge wildcard patterns over alarm names: at least one literal character, sorted."""
    for value in values:
        if not _ALARM_NAME_PATTERN.fullmatch(value) or not value.strip("*"):
            raise ValueError(f"{value!r} must be an alarm name or a wildcard over one (letters, digits, ._/- and *)")
    return sorted(set(values))


def alarm_event_pattern(arns: list[StrInput], name_patterns: list[str]) -> dict[str, Any]:
    """ALARM state changes of the listed alarms or of any alarm whose name matches a pattern."""
    matchers: list[dict[str, Any]] = []
    if arns:
        matchers.append({"resources": list(arns)})
    if name_patterns:
        matchers.append({"detail": {"alarmName": [{"wildcard": p} for p in name_patterns]}})
    pattern: dict[str, Any] = {
        "source": ["aws.cloudwatch"],
        "detail-type": [ALARM_STATE_CHANGE],
        "detail": {"state": {"value": ["ALARM"]}},
    }
    if len(matchers) == 1:
        if "resources" in matchers[0]:
            pattern["resources"] = matchers[0]["resources"]
        else:
            pattern["detail"].update(matchers[0]["detail"])
    else:
        pattern["$or"] = matchers
    return pattern


def start_request(pipeline_name: str, parameters: list[dict[str, str]]) -> dict[str, Any]:
    """The StartPipelineExecution request the schedule sends (parameters only when overridden)."""
    request: dict[str, Any] = {"PipelineName": pipeline_name}
    if parameters:
        request["PipelineParameters"] = parameters
    return request


def _service_role(
    component: PlatformComponent[Any], suffix: str, service: str, statements: list[dict[str, Any]]
) -> aws.iam.Role:
    role = aws.iam.Role(
        component.child_name(suffix),
        name=global_name(component, f"{component.logical_name}-{suffix}", naming.IAM_ROLE),
        assume_role_policy=assume_role_policy(service, account_id(pulumi.InvokeOutputOptions(parent=component))),
        opts=component.child_opts(),
    )
    aws.iam.RolePolicy(
        component.child_name(f"{suffix}-policy"),
        role=role.id,
        policy=policy_document(statements),
        opts=component.child_opts(),
    )
    return role


def create_dead_letter_queue(component: PlatformComponent[Any], key_arn: pulumi.Input[str]) -> aws.sqs.Queue:
    """Failed starts wait here for 14 days, encrypted with the platform key."""
    return aws.sqs.Queue(
        component.child_name("dlq"),
        name=component.platform.name(f"{component.logical_name}-start-dlq", naming.SQS_QUEUE),
        kms_master_key_id=key_arn,
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        opts=component.child_opts(),
    )


def start_pipeline_target_arn(invoke: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """The Scheduler universal target starting a SageMaker pipeline, in the provider's partition."""
    return arn("scheduler", START_PIPELINE_TARGET, invoke, region="", account="")


def create_schedule(
    component: PlatformComponent[Any],
    settings: TrainingScheduleArgs,
    pipeline: aws.sagemaker.Pipeline,
    key_arn: pulumi.Input[str],
    dlq: aws.sqs.Queue,
) -> tuple[aws.scheduler.Schedule, aws.iam.Role]:
    """The schedule and its role (StartPipelineExecution on this pipeline, SendMessage to the DLQ)."""
    parameters = [{"Name": k, "Value": v} for k, v in sorted(settings.pipeline_parameters.items())]
    # No ClientRequestToken: a fixed token would make every later start a duplicate of the first.
    request = pipeline.pipeline_name.apply(lambda name: json.dumps(start_request(name, parameters)))
    return create_start_schedule(
        component,
        settings,
        target=(start_pipeline_target_arn(pulumi.InvokeOutputOptions(parent=component)), request),
        start=statement(["sagemaker:StartPipelineExecution"], [pipeline.arn], sid="StartThisPipeline"),
        key_arn=key_arn,
        dlq=dlq,
        purpose="retrain",
        description=f"Continuous training of {component.logical_name}",
    )


def create_start_schedule(
    component: PlatformComponent[Any],
    settings: TrainingScheduleArgs,
    *,
    target: tuple[pulumi.Input[str], pulumi.Input[str]],
    start: dict[str, Any],
    key_arn: pulumi.Input[str],
    dlq: aws.sqs.Queue,
    purpose: str,
    description: str,
) -> tuple[aws.scheduler.Schedule, aws.iam.Role]:
    """An EventBridge Scheduler schedule sending ``target`` (ARN, input) with a role allowed ``start`` only.

    Failed starts (after the retries) go to ``dlq``; the schedule is named ``{component}-{purpose}``.
    """
    role = _service_role(
        component,
        "scheduler",
        SCHEDULER_PRINCIPAL,
        [
            start,
            statement(["sqs:SendMessage"], [dlq.arn], sid="DeadLetters"),
            # The schedule's input and the DLQ's messages are encrypted with the platform key.
            statement(["kms:Decrypt", "kms:GenerateDataKey"], [key_arn], sid="UsePlatformKey"),
        ],
    )
    window = aws.scheduler.ScheduleFlexibleTimeWindowArgs(
        mode=settings.flexible_time_window, maximum_window_in_minutes=settings.maximum_window_minutes
    )
    schedule = aws.scheduler.Schedule(
        component.child_name("schedule"),
        name=component.platform.name(f"{component.logical_name}-{purpose}", naming.SCHEDULER_SCHEDULE),
        description=settings.description or description,
        schedule_expression=eventbridge_cron(settings),
        schedule_expression_timezone=settings.time_zone,
        flexible_time_window=window,
        state=settings.state,
        kms_key_arn=key_arn,
        target=aws.scheduler.ScheduleTargetArgs(
            arn=target[0],
            role_arn=role.arn,
            input=target[1],
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=settings.maximum_retry_attempts,
                maximum_event_age_in_seconds=settings.maximum_event_age_seconds,
            ),
            dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=dlq.arn),
        ),
        opts=component.child_opts(),
    )
    return schedule, role


def create_alarm_retraining(
    component: PlatformComponent[Any],
    alarm_arns: list[StrInput],
    pipeline: aws.sagemaker.Pipeline,
    parameters: dict[str, str],
    dlq: aws.sqs.Queue,
    *,
    alarm_name_patterns: list[str],
) -> tuple[aws.cloudwatch.EventRule, aws.iam.Role]:
    """An EventBridge rule: a listed or name-matched alarm entering ALARM (drift, quality) starts the pipeline."""
    role = _service_role(
        component,
        "retrain",
        EVENTS_PRINCIPAL,
        [statement(["sagemaker:StartPipelineExecution"], [pipeline.arn], sid="StartThisPipeline")],
    )
    pattern = alarm_event_pattern(alarm_arns, alarm_name_patterns)
    rule = aws.cloudwatch.EventRule(
        component.child_name("retrain-on-alarm"),
        name=component.platform.name(f"{component.logical_name}-retrain-on-alarm", naming.EVENTBRIDGE_RULE),
        description=f"Retrain {component.logical_name} when a monitoring alarm fires",
        event_pattern=json_text(pattern),
        opts=component.child_opts(),
    )
    aws.cloudwatch.EventTarget(
        component.child_name("retrain-target"),
        rule=rule.name,
        arn=pipeline.arn,
        role_arn=role.arn,
        sagemaker_pipeline_target=aws.cloudwatch.EventTargetSagemakerPipelineTargetArgs(
            pipeline_parameter_lists=[
                aws.cloudwatch.EventTargetSagemakerPipelineTargetPipelineParameterListArgs(name=k, value=v)
                for k, v in sorted(parameters.items())
            ]
            or None
        ),
        retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
            maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
        ),
        dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dlq.arn),
        opts=component.child_opts(),
    )
    return rule, role


def create_dead_letter_queue_policy(
    component: PlatformComponent[Any],
    dlq: aws.sqs.Queue,
    scheduler_role: aws.iam.Role | None,
    schedule: aws.scheduler.Schedule | None,
    rule: aws.cloudwatch.EventRule | None,
) -> aws.sqs.QueuePolicy:
    """Only this component's schedule (through its role) and alarm rule may send; only over TLS."""
    statements: list[dict[str, Any]] = []
    if scheduler_role is not None and schedule is not None:
        # Scheduler sends dead letters with the schedule's execution role.
        statements.append(
            resource_statement(["sqs:SendMessage"], [dlq.arn], {"AWS": scheduler_role.arn}, sid="ScheduleDeadLetters")
        )
    if rule is not None:
        statements.append(
            resource_statement(
                ["sqs:SendMessage"],
                [dlq.arn],
                {"Service": EVENTS_PRINCIPAL},
                sid="AlarmRuleDeadLetters",
                conditions={"ArnEquals": {"aws:SourceArn": rule.arn}},
            )
        )
    statements.append(
        resource_statement(
            ["sqs:ReceiveMessage", "sqs:SendMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            [dlq.arn],
            "*",
            sid="DenyInsecureTransport",
            effect="Deny",
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
    )
    return aws.sqs.QueuePolicy(
        component.child_name("dlq-policy"),
        queue_url=dlq.url,
        policy=policy_document(statements),
        opts=component.child_opts(),
    )
