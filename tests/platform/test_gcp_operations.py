"""The GCP operations loop from the platform spec: channels by severity, every policy routed, the dashboard.

Wiring is asserted resource by resource: under the offline engine a channel's ``name`` output is its
logical name, so a policy's ``notificationChannels`` list names the exact channels it notifies.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from test_gcp_realize import CONFIG, churn_spec

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.gcp.dashboard import DashboardArgs, dashboard_json
from mlops_infra.gcp.notification_channels import severity_channels
from mlops_infra.platform import MlPlatform
from mlops_infra.spec.alerts import AlertsSpec
from mlops_infra.testing import one, plan

ROUTED = {
    "emails": ["ml-platform@example.com", "ml-oncall@example.com"],
    "pagerduty": {"integration_key_secret": "pagerdutyIntegrationKey"},
    "slack": {"channel": "#ml-alerts", "auth_token_secret": "slackAuthToken"},
}
SECRETS = {"pagerdutyIntegrationKey": "pd-routing-key", "slackAuthToken": "xoxb-token"}
EMAILS = ["gcp-alert-ml-platform-example-com", "gcp-alert-ml-oncall-example-com"]
CRITICAL = ["gcp-alert-pagerduty", *EMAILS]
WARNING = ["gcp-alert-slack", *EMAILS]
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"


def realize(environment: str, spec: dict[str, Any], config: dict[str, Any] | None = None) -> CapturedStack:
    return plan(
        lambda: pulumi.export("platform", MlPlatform("churn", spec).outputs),
        environment=environment,
        config={**CONFIG, **(config or {})},
    )


def refused(environment: str, spec: dict[str, Any], config: dict[str, Any] | None = None) -> ProgramError:
    with pytest.raises(ProgramError) as info:
        realize(environment, spec, config)
    assert info.value.registered == []  # refused before anything is registered
    return info.value


@pytest.fixture(scope="module")
def routed() -> CapturedStack:
    spec = churn_spec(
        alerts=ROUTED,
        monitoring={"drift": {"feature_thresholds": {"tenure_months": 0.35, "contract_type": 0.1}}},
    )
    return realize("prod", spec, SECRETS)


def policies(stack: CapturedStack) -> dict[str, dict[str, Any]]:
    return {p.name: p.inputs for p in stack.by_type(POLICY)}


def test_one_channel_per_receiver_with_secrets_in_sensitive_labels(routed):
    channels = {c.name: c.inputs for c in routed.by_type(CHANNEL)}
    assert sorted(channels) == sorted(["gcp-alert-pagerduty", "gcp-alert-slack", *EMAILS])
    pagerduty, slack = channels["gcp-alert-pagerduty"], channels["gcp-alert-slack"]
    assert pagerduty["type"] == "pagerduty" and pagerduty["sensitiveLabels"] == "[secret]"
    assert "labels" not in pagerduty  # the service key is never a plain label
    assert slack["type"] == "slack" and slack["sensitiveLabels"] == "[secret]"
    assert slack["labels"] == {"channel_name": "#ml-alerts"}
    for email, address in zip(EMAILS, ROUTED["emails"], strict=True):
        assert channels[email]["type"] == "email"
        assert channels[email]["labels"] == {"email_address": address}
    for inputs in channels.values():
        assert inputs["userLabels"]["environment"] == "prod"


def test_secret_values_reach_the_channels_as_secrets():
    """The config values themselves, read as Pulumi secrets (the plan shows only ``[secret]``)."""
    seen: dict[str, Any] = {}

    def program() -> None:
        made = severity_channels(
            "alert", AlertsSpec.model_validate(ROUTED), display_prefix="t", labels={}, opts=pulumi.ResourceOptions()
        )
        for receiver in ("pagerduty", "slack"):
            labels = made.by_receiver[receiver][0].sensitive_labels
            labels.apply(lambda value, r=receiver: seen.setdefault(r, value))

    plan(program, environment="prod", config={**CONFIG, **SECRETS})
    assert seen["pagerduty"]["service_key"] == "pd-routing-key"
    assert seen["slack"]["auth_token"] == "xoxb-token"


def test_each_policy_notifies_the_channels_of_its_severity(routed):
    found = policies(routed)
    expected = {
        "gcp-scoring-alert-error-rate": ("critical", "CRITICAL", CRITICAL),
        "gcp-scoring-alert-latency": ("warning", "WARNING", WARNING),
        "gcp-drift-alert": ("warning", "WARNING", WARNING),
        "gcp-training-failed": ("warning", "WARNING", WARNING),
        "gcp-budget-alerts-alert-critical": ("critical", "CRITICAL", CRITICAL),
        "gcp-budget-alerts-alert-warning": ("warning", "WARNING", WARNING),
    }
    assert set(found) == set(expected)
    for name, (severity, monitoring, channels) in expected.items():
        assert found[name]["userLabels"]["severity"] == severity, name
        assert found[name]["severity"] == monitoring, name
        assert found[name]["notificationChannels"] == channels, name
    known = {c.name for c in routed.by_type(CHANNEL)}
    assert all(set(p["notificationChannels"]) <= known for p in found.values())


def test_failed_training_is_a_log_match_on_pipeline_runs_and_the_schedule(routed):
    policy = policies(routed)["gcp-training-failed"]
    (condition,) = policy["conditions"]
    log_filter = condition["conditionMatchedLog"]["filter"]
    assert 'resource.type="aiplatform.googleapis.com/PipelineJob"' in log_filter
    assert 'jsonPayload.state="PIPELINE_STATE_FAILED"' in log_filter
    schedule = next(j for j in routed.by_type("gcp:cloudscheduler/job:Job") if j.name == "gcp-training-schedule")
    assert f'resource.labels.job_id="{schedule.inputs["name"]}" AND severity>=ERROR' in log_filter
    assert policy["alertStrategy"]["notificationRateLimit"] == {"period": "3600s"}


def test_budget_warns_at_every_threshold_and_pages_at_100_percent(routed):
    (budget,) = (b.inputs for b in routed.by_type("gcp:billing/budget:Budget"))
    # Cloud Billing notifies e-mail channels only: the addresses directly, everyone else through the topic.
    assert budget["allUpdatesRule"]["monitoringNotificationChannels"] == EMAILS
    assert len(budget["thresholdRules"]) == 6  # 80/90/100 %, actual and forecast
    (topic,) = [t for t in routed.by_type("gcp:pubsub/topic:Topic") if t.name == "gcp-budget-alerts-topic"]
    assert budget["allUpdatesRule"]["pubsubTopic"].endswith("/topics/" + topic.inputs["name"])
    routes = policies(routed)
    assert routes["gcp-budget-alerts-alert-critical"]["notificationChannels"] == CRITICAL
    assert routes["gcp-budget-alerts-alert-warning"]["notificationChannels"] == WARNING


def test_e_mail_only_routes_both_severities_to_the_addresses_and_keeps_one_budget():
    stack = realize("prod", churn_spec(alerts={"emails": ROUTED["emails"]}))
    assert all(p["notificationChannels"] == EMAILS for p in policies(stack).values())
    (budget,) = stack.by_type("gcp:billing/budget:Budget")
    assert budget.inputs["allUpdatesRule"]["monitoringNotificationChannels"] == EMAILS


def test_slack_without_pagerduty_gets_the_critical_alerts_too():
    stack = realize("prod", churn_spec(alerts={"slack": {"channel": "#ml-alerts"}}), {"slackAuthToken": "t"})
    found = policies(stack)
    # platform.yaml's e-mail address stays; with no PagerDuty, Slack hears the critical alerts too.
    assert found["gcp-scoring-alert-error-rate"]["notificationChannels"] == ["gcp-alert-slack", EMAILS[0]]
    assert len(stack.by_type("gcp:billing/budget:Budget")) == 1


def test_missing_secret_config_is_named_before_anything_is_registered():
    spec = churn_spec(alerts=ROUTED)
    error = refused("prod", spec, {"slackAuthToken": "t"})
    assert "churn:pagerdutyIntegrationKey" in str(error)
    assert "pulumi config set --secret pagerdutyIntegrationKey" in str(error)
    error = refused("dev", churn_spec(alerts={"slack": {"channel": "#x", "auth_token_secret": "myToken"}}))
    assert "churn:myToken" in str(error)


def test_a_protected_environment_needs_a_receiver():
    error = refused("prod", churn_spec(alerts={"emails": []}))
    assert "alerts" in str(error) and "prod is a protected environment: its alerts must reach a person" in str(error)
    quiet = realize("dev", churn_spec(alerts={"emails": []}))  # dev may stay quiet
    assert quiet.by_type(CHANNEL) == []


def test_per_feature_drift_thresholds_reach_the_query_and_the_workflow(routed):
    (workflow,) = (
        w.inputs for w in routed.by_type("gcp:workflows/workflow:Workflow") if w.name == "gcp-drift-workflow"
    )
    steps = dict(next(iter(s.items())) for s in json.loads(workflow["sourceContents"])["main"]["steps"])
    query = steps["measure"]["args"]["body"]["query"]
    assert "SELECT 'tenure_months' AS feature, 0.35 AS threshold" in query
    assert "SELECT 'contract_type' AS feature, 0.1 AS threshold" in query
    assert "SELECT 'monthly_charges' AS feature, 0.2 AS threshold" in query  # drift.threshold
    assert "COUNTIF(distance > threshold) AS drifted" in query
    logged = steps["alarm"]["args"]["json"]
    assert logged["thresholds"] == {"tenure_months": 0.35, "monthly_charges": 0.2, "contract_type": 0.1}
    assert logged["features"] == "${drift.rows[0].f[2].v}"  # the drifted features, from the query
    assert steps["retrain"]["args"]["body"]["encryptionSpec"]["kmsKeyName"].endswith("/cryptoKeys/churn-prod-gcp-key")


def test_dashboard_charts_the_real_endpoint_and_drift_metric(routed):
    dashboard = json.loads(one(routed, "gcp:monitoring/dashboard:Dashboard").inputs["dashboardJson"])
    endpoint_id = one(routed, "gcp:vertex/aiEndpoint:AiEndpoint").inputs["name"]
    widgets = [t["widget"] for t in dashboard["mosaicLayout"]["tiles"]]
    titles = [w["title"] for w in widgets]
    assert titles == [
        "scoring: predictions/s",
        "scoring: errors/s",
        "scoring: error rate",
        "scoring: p95 latency",
        "Drift detections (features beyond their threshold)",
        "Cost",
    ]
    text = json.dumps(widgets)
    prefix = "aiplatform.googleapis.com/prediction/online/"
    for metric in ("prediction_count", "error_count", "prediction_latencies"):
        assert f'resource.labels.endpoint_id=\\"{endpoint_id}\\" AND metric.type=\\"{prefix}{metric}\\"' in text
    ratio = widgets[2]["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilterRatio"]
    assert "error_count" in ratio["numerator"]["filter"] and "prediction_count" in ratio["denominator"]["filter"]
    assert widgets[2]["xyChart"]["thresholds"] == [{"value": 0.01, "label": "alert"}]  # platform.yaml: 1 %
    assert widgets[3]["xyChart"]["thresholds"] == [{"value": 300, "label": "alert"}]
    metric = one(routed, "gcp:logging/metric:Metric").inputs["name"]
    drift_filter = widgets[4]["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["filter"]
    assert drift_filter.startswith(f'metric.type="logging.googleapis.com/user/{metric}"')
    cost = widgets[5]["text"]["content"]
    assert "Monthly budget 1500 USD" in cost and "no Cloud Monitoring metric" in cost


def test_dashboard_layout_never_overlaps():
    args = DashboardArgs(
        title="t",
        endpoints=[{"name": f"e{i}", "endpoint_id": str(1000000000 + i)} for i in range(3)],
        drift_metric_type="logging.googleapis.com/user/x",
    )
    tiles = dashboard_json(args)["mosaicLayout"]["tiles"]
    assert len(tiles) == 3 * 4 + 2
    cells = {(t["xPos"], t["yPos"]) for t in tiles}
    assert len(cells) == len(tiles)
    assert all(t["xPos"] + t["width"] <= 48 for t in tiles)
    with pytest.raises(ValueError, match="endpoint_id"):
        DashboardArgs(title="t", endpoints=[{"name": "e", "endpoint_id": "abc"}])
