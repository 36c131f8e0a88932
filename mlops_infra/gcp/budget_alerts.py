"""Budget updates routed by severity (``mlops-infra:gcp:BudgetAlerts``): Slack and PagerDuty hear the budget too.

Cloud Billing notifies Cloud Monitoring *e-mail* channels only (``allUpdatesRule.monitoringNotificationChannels``
accepts no Slack, PagerDuty or SMS channel); anything else must read the budget's Pub/Sub messages. So::

    Cloud Billing budget --allUpdatesRule.pubsubTopic--> CMEK Pub/Sub topic (billing may publish to it only)
        --Eventarc--> Cloud Workflow (CMEK): decode the message; a crossed threshold writes an ``mlops-budget``
                      log entry, severity critical (actual spend at or over 100 %) or warning (any other)
        --> one log-match alert policy per severity -> that severity's notification channels

Cloud Billing publishes a message several times a day whether or not a threshold is crossed; the
workflow logs only messages that carry ``alertThresholdExceeded`` or ``forecastThresholdExceeded``, and
each policy notifies at most once per ``notification_period_seconds`` (a crossed threshold stays in
every message until the month ends).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.gcp.alert_policy import severity_alert_policy
from mlops_infra.gcp.iam import service_account_member
from mlops_infra.gcp.platform_key import key_for, workflows_agent_grant
from mlops_infra.gcp.project import project_id, project_number
from mlops_infra.gcp.scheduled_workflow import cmek_workflow, project_role_grants
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.gcp.topic_trigger import cmek_topic, workflow_trigger
from mlops_infra.spec.alerts import Severity
from mlops_infra.spec.base import Spec, StrInput

BUDGET_EVENT = "mlops-budget"
BILLING_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com"
"""The identity Cloud Billing publishes budget notifications as."""
CRITICAL_AT = 1.0
"""Actual spend at or above this fraction of the budget is critical; anything lower (or forecast) a warning."""


def budget_workflow(*, event: str = BUDGET_EVENT, critical_at: float = CRITICAL_AT) -> dict[str, Any]:
    """The workflow (Workflows reads JSON): Eventarc's Pub/Sub CloudEvent in, at most one log entry out."""

    def log(severity: Severity) -> dict[str, Any]:
        return {
            "call": "sys.log",
            "args": {
                "severity": severity.upper(),
                "json": {
                    "event": event,
                    "severity": severity,
                    "budget": '${map.get(update, "budgetDisplayName")}',
                    "actualThreshold": "${actual}",
                    "forecastThreshold": "${forecast}",
                    "cost": '${map.get(update, "costAmount")}',
                    "budgetAmount": '${map.get(update, "budgetAmount")}',
                    "currency": '${map.get(update, "currencyCode")}',
                    "since": '${map.get(update, "costIntervalStart")}',
                },
            },
            "next": "logged",
        }

    return {
        "main": {
            "params": ["event"],
            "steps": [
                {
                    "decode": {
                        "assign": [
                            {"update": "${json.decode(base64.decode(event.data.message.data))}"},
                            {"actual": '${map.get(update, "alertThresholdExceeded")}'},
                            {"forecast": '${map.get(update, "forecastThresholdExceeded")}'},
                        ]
                    }
                },
                {
                    "classify": {
                        "switch": [
                            {"condition": f"${{actual != null and actual >= {critical_at}}}", "next": "critical"},
                            {"condition": "${actual != null or forecast != null}", "next": "warning"},
                        ],
                        "next": "quiet",
                    }
                },
                {"quiet": {"return": "no threshold crossed"}},
                {"critical": log("critical")},
                {"warning": log("warning")},
                {"logged": {"return": "${update.budgetDisplayName}"}},
            ],
        }
    }


class BudgetAlertsArgs(Spec):
    """Where the budget's updates arrive and which channels each severity notifies."""

    region: Region
    kms_key_name: KmsKeyName = None
    critical_channels: list[StrInput] = Field(
        default_factory=list, description="Channels of actual spend at or over 100 % (PagerDuty, Slack, e-mail)."
    )
    warning_channels: list[StrInput] = Field(
        default_factory=list, description="Channels of any other crossed threshold, actual or forecast."
    )
    notification_period_seconds: int = Field(
        3600, ge=300, le=86400, description="At most one notification per severity in this many seconds."
    )


class BudgetAlerts(PlatformComponent[BudgetAlertsArgs]):
    """CMEK topic the budget publishes to, Eventarc -> CMEK workflow, and a log-match alert policy per severity."""

    TYPE_TOKEN = "mlops-infra:gcp:BudgetAlerts"
    ARGS = BudgetAlertsArgs

    def __init__(
        self,
        name: str,
        args: BudgetAlertsArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        project, number = project_id(invoke), project_number(invoke)
        physical = self.platform.name(name, naming.GCP_RESOURCE)
        labels = self.platform.gcp_labels
        key = key_for(a.kms_key_name, a.region, requester=self)
        self.topic = cmek_topic(self, child="topic", name=physical, key=key.name, labels=labels)
        self.billing_publisher = gcp.pubsub.TopicIAMMember(
            self.child_name("billing-publisher"),
            project=project,
            topic=self.topic.name,
            role="roles/pubsub.publisher",
            member=BILLING_PUBLISHER,
            opts=self.child_opts(),
        )
        self.service_account = gcp.serviceaccount.Account(
            self.child_name("sa"),
            account_id=self.platform.name(name, naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} budget alerts ({self.platform.environment})",
            description="Reads a budget update and logs a crossed threshold with its severity.",
            opts=self.child_opts(),
        )
        writer = project_role_grants(
            self, project, service_account_member(self.service_account.email), ("roles/logging.logWriter",)
        )
        self.workflow = cmek_workflow(
            self,
            name=physical,
            region=a.region,
            description="A budget update that crossed a threshold: log it with its severity",
            service_account=self.service_account.id,
            key_name=key.name,
            source=json.dumps(budget_workflow(), sort_keys=True, indent=1),
            depends_on=[*writer, workflows_agent_grant(key, self)],
        )
        self.trigger, self.trigger_account = workflow_trigger(
            self,
            topic=self.topic,
            workflow=self.workflow,
            project=project,
            project_number=number,
            region=a.region,
            name=physical,
            account_id=self.platform.name(f"{name}-trigger", naming.GCP_SERVICE_ACCOUNT_ID),
            display_name=f"{name} budget trigger ({self.platform.environment})",
            description="Eventarc runs the budget alerts workflow as this account for each budget update.",
            labels=labels,
        )
        routes: tuple[tuple[Severity, list[Any]], ...] = (
            ("critical", a.critical_channels),
            ("warning", a.warning_channels),
        )
        self.alert_policies: dict[Severity, gcp.monitoring.AlertPolicy] = {
            severity: self._policy(physical, severity, channels) for severity, channels in routes
        }
        self.topic_id: pulumi.Output[str] = self.topic.id
        """``projects/P/topics/T``: the budget's ``pubsub_topic``."""
        self.register_outputs({"topic": self.topic.id, "workflow": self.workflow.name})

    def _policy(self, workflow_name: str, severity: Severity, channels: list[Any]) -> gcp.monitoring.AlertPolicy:
        """Notify ``channels`` when the workflow logs a crossed threshold of ``severity``."""
        return severity_alert_policy(
            self.child_name(f"alert-{severity}"),
            display_name=f"{workflow_name} budget {severity}",
            severity=severity,
            channels=channels,
            labels=self.platform.gcp_labels,
            content="The project's Cloud Billing budget crossed a threshold"
            + (" of actual spend at or over 100 %." if severity == "critical" else " (actual or forecast).")
            + " See the log entry for the spend, the budget and the threshold.",
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name=f"budget threshold crossed ({severity})",
                    condition_matched_log=gcp.monitoring.AlertPolicyConditionConditionMatchedLogArgs(
                        filter=(
                            'resource.type="workflows.googleapis.com/Workflow" '
                            f'AND resource.labels.workflow_id="{workflow_name}" '
                            f'AND jsonPayload.event="{BUDGET_EVENT}" AND jsonPayload.severity="{severity}"'
                        ),
                        label_extractors={"budget": "EXTRACT(jsonPayload.budget)"},
                    ),
                )
            ],
            alert_strategy=gcp.monitoring.AlertPolicyAlertStrategyArgs(
                notification_rate_limit=gcp.monitoring.AlertPolicyAlertStrategyNotificationRateLimitArgs(
                    period=f"{self.args.notification_period_seconds}s"
                ),
                auto_close="1800s",
            ),
            opts=self.child_opts(),
        )
