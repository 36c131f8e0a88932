"""A canary rollback pages someone: an EventBridge rule on the endpoints' rollback events to the critical topic.

SageMaker rolls a blue/green deployment back by itself when an alarm of the endpoint's
``autoRollbackConfiguration`` fires; the alarm pages, but an on-call should also learn that the new
model was rolled back (and, worse, that a rollback failed and left the endpoint stuck).

Source of the event pattern: the SageMaker developer guide, "Events that Amazon SageMaker AI sends to
Amazon EventBridge" (sections *Endpoint state change*, detail-type ``SageMaker Endpoint State
Change``, and *Endpoint deployment state change*, detail-type ``SageMaker Endpoint Deployment State
Change``): both carry ``detail.EndpointName`` and ``detail.EndpointStatus``. The guide's examples
write the status in upper snake case (``IN_SERVICE``, ``UPDATING``); the statuses themselves are
DescribeEndpoint's ``EndpointStatus`` enum (botocore's sagemaker model: ``RollingBack``,
``UpdateRollbackFailed``, ...). The guide shows no rollback example, so the rule matches both
spellings of the two rollback statuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pulumi
import pulumi_aws as aws

from mlops_infra.conventions import naming
from mlops_infra.conventions.context import PlatformContext
from mlops_infra.outputs import json_text
from mlops_infra.spec.base import StrInput

SOURCE: Final = "aws.sagemaker"
DETAIL_TYPES: Final = ("SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change")
# DescribeEndpoint's RollingBack / UpdateRollbackFailed, as the API spells them and as the events do.
ROLLBACK_STATUSES: Final = ("ROLLING_BACK", "UPDATE_ROLLBACK_FAILED", "RollingBack", "UpdateRollbackFailed")


def rollback_event_pattern(endpoint_names: Sequence[StrInput]) -> pulumi.Output[str]:
    """EventBridge pattern: one of ``endpoint_names`` is rolling back a deployment, or failed to."""
    return json_text(
        {
            "source": [SOURCE],
            "detail-type": list(DETAIL_TYPES),
            "detail": {"EndpointName": list(endpoint_names), "EndpointStatus": list(ROLLBACK_STATUSES)},
        }
    )


def page_on_rollback(
    name: str,
    *,
    platform: PlatformContext,
    endpoint_names: Sequence[StrInput],
    topic_arns: Sequence[StrInput],
    opts: pulumi.ResourceOptions | None = None,
) -> tuple[aws.cloudwatch.EventRule, list[aws.cloudwatch.EventTarget]]:
    """The rule ``{project}-{env}-{name}`` and one target per topic (``{name}-<index>``).

    The topics must let ``events.amazonaws.com`` publish from this rule: the platform's alert topics
    allow it for this rule's ARN only (``AlertTopic`` ``event_rule_arns``, from
    :func:`mlops_infra.aws.sns_policy.event_rule_arn` of the rule's deterministic name), not for any
    rule of the account.
    """
    if not endpoint_names:
        raise ValueError("page_on_rollback needs at least one endpoint name")
    if not topic_arns:
        raise ValueError("page_on_rollback needs at least one topic: a rollback must reach a person")
    rule = aws.cloudwatch.EventRule(
        name,
        name=platform.name(name, naming.EVENTBRIDGE_RULE),
        description="An endpoint deployment is rolling back (or its rollback failed): a critical alert",
        event_pattern=rollback_event_pattern(endpoint_names),
        opts=opts,
    )
    targets = [
        aws.cloudwatch.EventTarget(f"{name}-{index}", rule=rule.name, arn=topic, opts=opts)
        for index, topic in enumerate(topic_arns)
    ]
    return rule, targets
