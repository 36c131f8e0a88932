"""A warning when retraining fails: a Vertex pipeline run that failed, or a schedule that could not start one.

Log-match alert policy (no metric to create): it fires on

- a ``aiplatform.googleapis.com/PipelineJob`` log entry whose ``jsonPayload.state`` is
  ``PIPELINE_STATE_FAILED`` (the state-change entry Vertex AI Pipelines writes for each run in the project),
- an ERROR entry of the Cloud Scheduler jobs that submit the pipeline (the scheduled ``pipelineJobs.create``
  call was refused: a permission, quota or body error means no run starts at all).

A drift check whose retraining call fails fails its workflow execution, which the drift policy reports.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from mlops_infra.gcp.alert_policy import severity_alert_policy
from mlops_infra.outputs import concat

PIPELINE_FAILED_FILTER = (
    'resource.type="aiplatform.googleapis.com/PipelineJob" AND jsonPayload.state="PIPELINE_STATE_FAILED"'
)


def failure_filter(scheduler_jobs: list[pulumi.Input[str]]) -> pulumi.Output[str]:
    """The log filter: failed pipeline runs, or failed attempts of ``scheduler_jobs`` (short job names)."""
    parts: list[pulumi.Input[str]] = [f"({PIPELINE_FAILED_FILTER})"]
    for job in scheduler_jobs:
        parts.extend(
            [' OR (resource.type="cloud_scheduler_job" AND resource.labels.job_id="', job, '" AND severity>=ERROR)']
        )
    return concat(*parts)


def training_failure_policy(
    name: str,
    *,
    display_name: str,
    scheduler_jobs: list[pulumi.Input[str]],
    notification_channels: list[pulumi.Input[str]],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> gcp.monitoring.AlertPolicy:
    """A warning-severity log-match policy on failed retraining, at most one notification per hour."""
    return severity_alert_policy(
        name,
        display_name=display_name,
        severity="warning",
        channels=notification_channels,
        labels=labels,
        content="A training pipeline run failed, or its schedule could not start one: the model is not being "
        "refreshed. Open the failed run in Vertex AI Pipelines (or the scheduler job's logs).",
        conditions=[
            gcp.monitoring.AlertPolicyConditionArgs(
                display_name="training failed",
                condition_matched_log=gcp.monitoring.AlertPolicyConditionConditionMatchedLogArgs(
                    filter=failure_filter(scheduler_jobs)
                ),
            )
        ],
        alert_strategy=gcp.monitoring.AlertPolicyAlertStrategyArgs(
            notification_rate_limit=gcp.monitoring.AlertPolicyAlertStrategyNotificationRateLimitArgs(period="3600s"),
            auto_close="86400s",
        ),
        opts=opts,
    )
