"""A CMEK Pub/Sub topic whose messages start a Cloud Workflow through Eventarc (drift anomalies, budget updates).

Least privilege: the Pub/Sub agent may use the key (one grant per key and stack) and mint tokens for the
trigger's account only (authenticated push to Eventarc); the trigger's account may only invoke workflows
(Workflows has no per-workflow IAM). Who may publish is the caller's grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp

from mlops_infra.gcp.iam import pubsub_agent_member, service_account_member
from mlops_infra.gcp.platform_key import KeyRef, pubsub_agent_grant
from mlops_infra.gcp.scheduled_workflow import WORKFLOWS_INVOKER

PUBLISHED_EVENT = "google.cloud.pubsub.topic.v1.messagePublished"
RETENTION = "86400s"
"""A day to retry a failed delivery."""


def cmek_topic(
    owner: Any, *, child: str, name: str, key: pulumi.Input[str], labels: dict[str, str]
) -> gcp.pubsub.Topic:
    """A topic encrypted with ``key``, child ``<owner>-<child>``, after the Pub/Sub agent's key grant."""
    grant = pubsub_agent_grant(KeyRef(key), owner)
    return gcp.pubsub.Topic(
        owner.child_name(child),
        name=name,
        kms_key_name=key,
        labels=labels,
        message_retention_duration=RETENTION,
        opts=owner.child_opts(depends_on=[grant]),
    )


def workflow_trigger(
    owner: Any,
    *,
    topic: gcp.pubsub.Topic,
    workflow: gcp.workflows.Workflow,
    project: pulumi.Input[str],
    project_number: pulumi.Input[str],
    region: str,
    name: str,
    account_id: str,
    display_name: str,
    description: str,
    labels: dict[str, str],
    depends_on: Sequence[pulumi.Resource] = (),
) -> tuple[gcp.eventarc.Trigger, gcp.serviceaccount.Account]:
    """An Eventarc trigger executing ``workflow`` for each message on ``topic``, as its own account."""
    account = gcp.serviceaccount.Account(
        owner.child_name("trigger-sa"),
        account_id=account_id,
        display_name=display_name,
        description=description,
        opts=owner.child_opts(),
    )
    invoker = gcp.projects.IAMMember(
        owner.child_name("trigger-workflows-invoker"),
        project=project,
        role=WORKFLOWS_INVOKER,
        member=service_account_member(account.email),
        opts=owner.child_opts(),
    )
    token_creator = gcp.serviceaccount.IAMMember(
        owner.child_name("trigger-pubsub-token-creator"),
        service_account_id=account.id,
        role="roles/iam.serviceAccountTokenCreator",
        member=pubsub_agent_member(project_number),
        opts=owner.child_opts(),
    )
    trigger = gcp.eventarc.Trigger(
        owner.child_name("trigger"),
        name=name,
        location=region,
        project=project,
        matching_criterias=[gcp.eventarc.TriggerMatchingCriteriaArgs(attribute="type", value=PUBLISHED_EVENT)],
        transport=gcp.eventarc.TriggerTransportArgs(pubsub=gcp.eventarc.TriggerTransportPubsubArgs(topic=topic.id)),
        destination=gcp.eventarc.TriggerDestinationArgs(workflow=workflow.id),
        service_account=account.email,
        labels=labels,
        opts=owner.child_opts(depends_on=[invoker, token_creator, *depends_on]),
    )
    return trigger, account
