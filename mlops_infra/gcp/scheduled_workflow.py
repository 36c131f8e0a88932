"""The parts every scheduled GCP workflow shares: its account's project roles, the CMEK workflow, the scheduler job.

Batch prediction, the drift check and off-hours all run the same shape::

    Cloud Scheduler (cron, time zone, OAuth as the workflow's account)
        -> workflowexecutions.create -> Cloud Workflow (CMEK, errors-only call log) as its own account

and alert when an execution fails. Each owner keeps its children's names (``<owner>-workflow``,
``<owner>-schedule``, ``<owner>-<role>``), so the URNs of shipped stacks do not move.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp

from mlops_infra.component import PlatformComponent
from mlops_infra.gcp.pipeline_job import CLOUD_PLATFORM_SCOPE
from mlops_infra.outputs import concat
from mlops_infra.spec.schedule import Schedule

EXECUTIONS_API = "https://workflowexecutions.googleapis.com/v1/"
WORKFLOWS_INVOKER = "roles/workflows.invoker"


def role_child(role: str) -> str:
    """The child-name suffix of a project role grant: ``roles/aiplatform.user`` -> ``aiplatform-user``."""
    return role.split("/")[1].replace(".", "-")


def project_role_grants(
    owner: PlatformComponent[Any],
    project: pulumi.Input[str],
    member: pulumi.Input[str],
    roles: Sequence[str],
    *,
    prefix: str = "",
) -> list[pulumi.Resource]:
    """One non-authoritative ``projects.IAMMember`` per role, child ``<owner>-<prefix><role>``."""
    return [
        gcp.projects.IAMMember(
            owner.child_name(f"{prefix}{role_child(role)}"),
            project=project,
            role=role,
            member=member,
            opts=owner.child_opts(),
        )
        for role in roles
    ]


def cmek_workflow(
    owner: PlatformComponent[Any],
    *,
    name: str,
    region: str,
    description: str,
    service_account: pulumi.Input[str],
    key_name: pulumi.Input[str],
    source: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource],
    child: str = "workflow",
) -> gcp.workflows.Workflow:
    """A workflow encrypted with ``key_name``, run as ``service_account`` (its id), logging errors only.

    ``depends_on`` must hold the Workflows agent's grant on the key (:func:`workflows_agent_grant`)
    and the account's roles: a workflow deployed before either fails at its first run.
    """
    return gcp.workflows.Workflow(
        owner.child_name(child),
        name=name,
        region=region,
        description=description,
        service_account=service_account,
        crypto_key_name=key_name,
        call_log_level="LOG_ERRORS_ONLY",
        source_contents=source,
        labels=owner.platform.gcp_labels,
        opts=owner.child_opts(depends_on=list(depends_on)),
    )


def execution_body(argument: dict[str, Any] | None) -> str:
    """Base64 of the ``executions.create`` body: ``{}``, or ``{"argument": "<JSON of argument>"}``."""
    body = {} if argument is None else {"argument": json.dumps(argument, sort_keys=True)}
    return base64.b64encode(json.dumps(body, sort_keys=True).encode()).decode()


def workflow_schedule(
    owner: PlatformComponent[Any],
    *,
    name: str,
    region: str,
    description: str,
    schedule: Schedule,
    workflow: gcp.workflows.Workflow,
    invoker_email: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource],
    argument: dict[str, Any] | None = None,
    child: str = "schedule",
) -> gcp.cloudscheduler.Job:
    """A Cloud Scheduler job that starts one execution of ``workflow`` (with ``argument``) on ``schedule``.

    The cron is read in ``schedule.time_zone``; the call carries an OAuth token of ``invoker_email``,
    which needs ``roles/workflows.invoker`` (in ``depends_on``).
    """
    return gcp.cloudscheduler.Job(
        owner.child_name(child),
        name=name,
        region=region,
        description=description,
        schedule=schedule.cron,
        time_zone=schedule.time_zone,
        http_target=gcp.cloudscheduler.JobHttpTargetArgs(
            uri=concat(EXECUTIONS_API, workflow.id, "/executions"),
            http_method="POST",
            headers={"Content-Type": "application/json"},
            body=execution_body(argument),
            oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
                service_account_email=invoker_email, scope=CLOUD_PLATFORM_SCOPE
            ),
        ),
        opts=owner.child_opts(depends_on=list(depends_on)),
    )


def failed_executions(
    display_name: str, workflow_name: str, period: str = "300s"
) -> gcp.monitoring.AlertPolicyConditionArgs:
    """An alert condition: at least one execution of ``workflow_name`` finished FAILED within ``period``."""
    return gcp.monitoring.AlertPolicyConditionArgs(
        display_name=display_name,
        condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
            filter=(
                'metric.type="workflows.googleapis.com/finished_execution_count" '
                'AND resource.type="workflows.googleapis.com/Workflow" '
                f'AND resource.labels.workflow_id="{workflow_name}" AND metric.labels.status="FAILED"'
            ),
            comparison="COMPARISON_GT",
            threshold_value=0,
            duration="0s",
            aggregations=[
                gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                    alignment_period=period, per_series_aligner="ALIGN_SUM"
                )
            ],
        ),
    )
