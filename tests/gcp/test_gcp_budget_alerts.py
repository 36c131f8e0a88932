"""Budget updates reach every receiver by severity: CMEK topic -> Eventarc -> workflow -> log-match alert policies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_infra.engine.captured import CapturedStack
from mlops_infra.gcp import Budget, BudgetAlerts
from mlops_infra.gcp.budget_alerts import BILLING_PUBLISHER, BUDGET_EVENT, budget_workflow
from mlops_infra.testing import one, plan

CONFIG = {"gcp:project": "acme-ml", "gcp:region": "us-central1"}
PAGER, SLACK, MAIL = (f"projects/acme-ml/notificationChannels/{n}" for n in (1, 2, 3))


def program() -> None:
    routes = BudgetAlerts(
        "spend", {"region": "us-central1", "critical_channels": [PAGER, MAIL], "warning_channels": [SLACK, MAIL]}
    )
    Budget(
        "platform",
        {
            "billing_account": "01A2B3-C4D5E6-F7A8B9",
            "monthly_limit": 500,
            "notification_channels": [MAIL],
            "pubsub_topic": routes.topic_id,
        },
    )


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return plan(program, environment="dev", config=CONFIG)


def named(stack: CapturedStack, name: str) -> dict[str, Any]:
    return next(r.inputs for r in stack.resources if r.name == name)


def test_the_budget_publishes_every_update_to_the_cmek_topic(stack):
    topic = one(stack, "gcp:pubsub/topic:Topic").inputs
    assert topic["kmsKeyName"] and topic["name"] == "churn-dev-spend"
    rule = one(stack, "gcp:billing/budget:Budget").inputs["allUpdatesRule"]
    assert rule["pubsubTopic"].endswith("/topics/churn-dev-spend")
    assert rule["monitoringNotificationChannels"] == [MAIL]
    publisher = one(stack, "gcp:pubsub/topicIAMMember:TopicIAMMember").inputs
    assert (publisher["role"], publisher["member"]) == ("roles/pubsub.publisher", BILLING_PUBLISHER)
    grant = named(stack, "spend-key-pubsub-agent")
    assert grant["member"].endswith("@gcp-sa-pubsub.iam.gserviceaccount.com")


def test_eventarc_runs_the_cmek_workflow_as_an_account_that_may_only_invoke_workflows(stack):
    trigger = one(stack, "gcp:eventarc/trigger:Trigger").inputs
    assert trigger["matchingCriterias"] == [
        {"attribute": "type", "value": "google.cloud.pubsub.topic.v1.messagePublished"}
    ]
    workflow = one(stack, "gcp:workflows/workflow:Workflow").inputs
    assert workflow["cryptoKeyName"] and workflow["callLogLevel"] == "LOG_ERRORS_ONLY"
    assert trigger["destination"]["workflow"].endswith("/workflows/churn-dev-spend")
    roles = {r.name: r.inputs["role"] for r in stack.by_type("gcp:projects/iAMMember:IAMMember")}
    assert roles == {
        "spend-trigger-workflows-invoker": "roles/workflows.invoker",
        "spend-logging-logWriter": "roles/logging.logWriter",
    }


def test_each_severity_has_a_rate_limited_log_match_policy_to_its_channels(stack):
    for severity, channels in (("critical", [PAGER, MAIL]), ("warning", [SLACK, MAIL])):
        policy = named(stack, f"spend-alert-{severity}")
        assert policy["notificationChannels"] == channels and policy["severity"] == severity.upper()
        log_filter = policy["conditions"][0]["conditionMatchedLog"]["filter"]
        assert f'jsonPayload.event="{BUDGET_EVENT}"' in log_filter
        assert f'jsonPayload.severity="{severity}"' in log_filter
        assert 'resource.labels.workflow_id="churn-dev-spend"' in log_filter
        assert policy["alertStrategy"]["notificationRateLimit"] == {"period": "3600s"}


def test_the_workflow_logs_a_crossed_threshold_with_its_severity():
    main = {name: body for step in budget_workflow()["main"]["steps"] for name, body in step.items()}
    decoded = {k: v for a in main["decode"]["assign"] for k, v in a.items()}
    assert decoded["update"] == "${json.decode(base64.decode(event.data.message.data))}"
    assert decoded["actual"] == '${map.get(update, "alertThresholdExceeded")}'
    assert [(c["condition"], c["next"]) for c in main["classify"]["switch"]] == [
        ("${actual != null and actual >= 1.0}", "critical"),
        ("${actual != null or forecast != null}", "warning"),
    ]
    assert main["classify"]["next"] == "quiet" and "return" in main["quiet"]  # no threshold: nothing logged
    for severity in ("critical", "warning"):
        logged = main[severity]["args"]
        assert logged["severity"] == severity.upper()
        assert (logged["json"]["event"], logged["json"]["severity"]) == (BUDGET_EVENT, severity)
        assert main[severity]["next"] == "logged"
    json.dumps(budget_workflow())  # Workflows reads it as JSON
