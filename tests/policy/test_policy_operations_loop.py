"""alert-routing, the metric rollback of deployment-safety and the drift part of monitoring-required (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest
import raw_programs
from policy_factories import check, check_stack, findings, view

from mlops_infra.conventions.markers import ALERTS_ROUTED_EXTERNALLY_MARKER, GUARDS_INFERENCE_SERVICES_MARKER
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.policy.values import UNKNOWN_STRING
from mlops_infra.testing import plan

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
AM_CONFIG = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def _alarm(**props: Any) -> Any:
    return view(ALARM, {"name": "errors", **props}, name="errors")


def _rule(alerts: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> Any:
    metadata: dict[str, Any] = {"name": "alerts", "namespace": "ml"}
    if annotations:
        metadata["annotations"] = annotations
    return view(RULE, {"metadata": metadata, "spec": {"groups": [{"name": "g", "rules": alerts}]}}, name="alerts")


def _config(route: dict[str, Any], receivers: list[dict[str, Any]]) -> Any:
    return view(
        AM_CONFIG,
        {"metadata": {"name": "routing", "namespace": "ml"}, "spec": {"route": route, "receivers": receivers}},
    )


# --- raw programs, per cloud ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "named"),
    [
        (raw_programs.aws_violations, ["MetricAlarm 'silent'", "MetricAlarm 'unheard'"]),
        (raw_programs.gcp_violations, ["AlertPolicy 'churn errors'"]),
        (raw_programs.k8s_violations, ["PrometheusRule 'churn-alerts'"]),
    ],
)
def test_a_raw_program_with_an_alert_that_notifies_nobody_is_flagged(program: Any, named: list[str]) -> None:
    for environment, level in (("prod", Enforcement.MANDATORY), ("dev", Enforcement.ADVISORY)):
        found = [v for v in evaluate_stack(plan(program, environment=environment)) if v.policy_id == "alert-routing"]
        assert found and {v.enforcement for v in found} == {level}
        assert all(any(v.message.startswith(n) for v in found) for n in named)


@pytest.mark.parametrize(
    "program", [raw_programs.aws_compliant, raw_programs.gcp_compliant, raw_programs.k8s_compliant]
)
def test_compliant_raw_programs_route_every_alert(program: Any) -> None:
    assert [v for v in evaluate_stack(plan(program, environment="prod")) if v.policy_id == "alert-routing"] == []


# --- AWS ------------------------------------------------------------------------------------------------------


def test_alarm_actions_must_reach_a_subscribed_topic() -> None:
    topic = view(TOPIC, {"name": "alerts"}, name="alerts")
    subscription = view(SUBSCRIPTION, {"topic": TOPIC_ARN, "protocol": "email", "endpoint": "a@example.com"})
    routed = _alarm(alarmActions=[TOPIC_ARN], okActions=[TOPIC_ARN])
    assert check_stack("alert-routing", routed, topic, subscription) == []
    messages = [v.message for v in findings(check_stack("alert-routing", routed, topic))]
    assert any("SNS topic 'alerts' has no subscriber" in m for m in messages)
    chatbot = view(
        "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration", {"snsTopicArns": [TOPIC_ARN]}, name="slack"
    )
    assert check_stack("alert-routing", routed, topic, chatbot) == []
    outside = _alarm(alarmActions=["arn:aws:sns:us-east-1:123456789012:elsewhere"], okActions=[TOPIC_ARN])
    assert check_stack("alert-routing", outside) == []  # topics outside the stack count as routed


def test_autoscaling_actions_alone_reach_nobody() -> None:
    scaling = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:autoScalingGroupName/g:policyName/p"
    messages = [v.message for v in findings(check_stack("alert-routing", _alarm(alarmActions=[scaling])))]
    assert any("no action of alarmActions reaches a person" in m for m in messages)
    assert any("okActions is empty" in m for m in messages)


def test_unknown_action_resolves_through_dependencies_or_skips_with_a_note() -> None:
    topic = view(TOPIC, {}, name="alerts")
    subscription = view(SUBSCRIPTION, {"topic": UNKNOWN_STRING}, name="sub", dependencies=(topic.urn,))
    alarm = view(
        ALARM, {"alarmActions": [UNKNOWN_STRING], "okActions": [UNKNOWN_STRING]}, name="a", dependencies=(topic.urn,)
    )
    assert check_stack("alert-routing", alarm, topic, subscription) == []
    lone = view(ALARM, {"alarmActions": [UNKNOWN_STRING], "okActions": [UNKNOWN_STRING]}, name="b")
    result = check_stack("alert-routing", lone)
    assert result and all(v.note and v.enforcement is Enforcement.ADVISORY for v in result)


# --- GCP ------------------------------------------------------------------------------------------------------


def test_alert_policies_need_enabled_notification_channels() -> None:
    channel = view(CHANNEL, {"type": "email"}, name="oncall")
    assert check_stack("alert-routing", view(POLICY, {"notificationChannels": ["oncall"]}), channel) == []
    external = view(POLICY, {"notificationChannels": ["projects/p/notificationChannels/42"]})
    assert check_stack("alert-routing", external) == []
    assert findings(check_stack("alert-routing", view(POLICY, {"notificationChannels": []})))
    disabled = view(CHANNEL, {"type": "email", "enabled": False}, name="oncall")
    messages = [
        m.message for m in check_stack("alert-routing", view(POLICY, {"notificationChannels": ["oncall"]}), disabled)
    ]
    assert any("disabled" in m for m in messages)
    unknown = check_stack("alert-routing", view(POLICY, {"notificationChannels": UNKNOWN_STRING}))
    assert unknown and all(v.note for v in unknown)


# --- Kubernetes -----------------------------------------------------------------------------------------------

RECEIVERS = [
    {"name": "pagerduty", "pagerdutyConfigs": [{"routingKey": {"name": "s", "key": "k"}}]},
    {"name": "nobody"},
]


def test_prometheus_rule_alerts_need_a_severity_route_to_a_notifier() -> None:
    critical = _rule([{"alert": "Down", "expr": "up == 0", "labels": {"severity": "critical"}}])
    route = {
        "receiver": "nobody",
        "routes": [{"receiver": "pagerduty", "matchers": [{"name": "severity", "value": "critical"}]}],
    }
    assert check_stack("alert-routing", critical, _config(route, RECEIVERS)) == []
    warning = _rule([{"alert": "Slow", "expr": "x > 1", "labels": {"severity": "warning"}}])
    messages = [v.message for v in findings(check_stack("alert-routing", warning, _config(route, RECEIVERS)))]
    assert messages and "Slow (severity warning)" in messages[0]
    catch_all = {"receiver": "pagerduty", "matchers": [{"name": "namespace", "value": "ml", "matchType": "="}]}
    assert check_stack("alert-routing", warning, _config(catch_all, RECEIVERS)) == []
    regex = {
        "receiver": "nobody",
        "routes": [{"receiver": "pagerduty", "matchers": [{"name": "severity", "value": "warn.*", "matchType": "=~"}]}],
    }
    assert check_stack("alert-routing", warning, _config(regex, RECEIVERS)) == []


def test_alerts_without_severity_or_without_any_config_are_flagged_unless_routed_externally() -> None:
    bare = _rule([{"alert": "Down", "expr": "up == 0"}])
    messages = [v.message for v in findings(check_stack("alert-routing", bare))]
    assert any("no severity label" in m for m in messages)
    assert any(
        "no AlertmanagerConfig in namespace 'ml'" in m and ALERTS_ROUTED_EXTERNALLY_MARKER in m for m in messages
    )
    external = _rule(
        [{"alert": "Down", "expr": "up == 0", "labels": {"severity": "critical"}}],
        {ALERTS_ROUTED_EXTERNALLY_MARKER: "true"},
    )
    assert check_stack("alert-routing", external) == []


# --- deployment-safety: rollback on metrics ------------------------------------------------------------------

VERTEX = "pulumi-python:dynamic/vertex:VertexModelDeployment"


def test_vertex_canary_needs_rollback_metrics_in_production() -> None:
    gated = view(
        VERTEX, {"canary_percentages": [10, 100], "rollback_metrics": {"error_rate_percent": 1, "p95_latency_ms": 300}}
    )
    assert check("deployment-safety", gated) == []
    ungated = view(VERTEX, {"canary_percentages": [10, 100]})
    assert any("rollback_metrics" in v.message for v in findings(check("deployment-safety", ungated)))
    assert check("deployment-safety", ungated, environment="dev") == []


def test_kserve_canary_needs_a_metric_gate_in_production() -> None:
    service = view(
        ISVC,
        {"metadata": {"name": "churn", "namespace": "ml"}, "spec": {"predictor": {"canaryTrafficPercent": 10}}},
        name="isvc",
    )
    assert any("rolled back on metrics" in v.message for v in findings(check_stack("deployment-safety", service)))
    guard = view(
        "kubernetes:batch/v1:CronJob",
        {"metadata": {"name": "guard", "namespace": "ml", "annotations": {GUARDS_INFERENCE_SERVICES_MARKER: "churn"}}},
        name="guard",
    )
    assert check_stack("deployment-safety", service, guard) == []
    flagger = view(
        "kubernetes:flagger.app/v1beta1:Canary",
        {
            "metadata": {"namespace": "ml"},
            "spec": {"targetRef": {"name": "churn"}, "analysis": {"metrics": [{"name": "error-rate"}]}},
        },
        name="canary",
    )
    assert check_stack("deployment-safety", service, flagger) == []
    assert check_stack("deployment-safety", service, environment="dev") == []


# --- monitoring-required: drift that retrains / drift metrics that exist ------------------------------------


def test_vertex_endpoint_needs_a_scheduled_drift_workflow_that_submits_a_pipeline() -> None:
    endpoint = view(
        "gcp:vertex/aiEndpoint:AiEndpoint",
        {
            "name": "8123",
            "predictRequestResponseLoggingConfig": {"bigqueryDestination": {"outputUri": "bq://p.logs.requests"}},
        },
        name="ep",
    )
    alert = view(
        POLICY, {"conditions": [{"conditionThreshold": {"filter": 'resource.labels.endpoint_id = "8123"'}}]}, name="al"
    )
    workflow = view(
        "gcp:workflows/workflow:Workflow",
        {"name": "drift", "sourceContents": "SELECT * FROM `p.logs.requests` ... http.post .../pipelineJobs"},
        name="wf",
    )
    job = view(
        "gcp:cloudscheduler/job:Job",
        {
            "httpTarget": {
                "uri": "https://workflowexecutions.googleapis.com/v1/projects/p/locations/r/workflows/drift/executions"
            }
        },
        name="job",
    )
    assert check_stack("monitoring-required", endpoint, alert, workflow, job) == []
    assert findings(check_stack("monitoring-required", endpoint, alert, workflow))  # never run
    unknown = view("gcp:workflows/workflow:Workflow", {"name": "drift", "sourceContents": UNKNOWN_STRING}, name="wf")
    result = check_stack("monitoring-required", endpoint, alert, unknown, job)
    assert result and all(v.note for v in result)


def test_kserve_drift_alert_must_read_an_exported_metric() -> None:
    service = view(ISVC, {"metadata": {"name": "churn", "namespace": "ml"}}, name="isvc")

    def drift_rule(metric: str) -> Any:
        return _rule(
            [{"alert": "Drift", "expr": f'max({metric}{{model="churn"}}) > 0.2', "labels": {"severity": "warning"}}]
        )

    detector = view(
        "kubernetes:apps/v1:Deployment",
        {
            "metadata": {"namespace": "ml", "labels": {"app.kubernetes.io/component": "drift-detector"}},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "d",
                                "image": "i:1",
                                "env": [{"name": "DRIFT_METRIC", "value": "model_feature_drift_score"}],
                            }
                        ]
                    }
                }
            },
        },
        name="detector",
    )
    assert check_stack("monitoring-required", service, drift_rule("model_feature_drift_score"), detector) == []
    messages = [
        v.message
        for v in findings(check_stack("monitoring-required", service, drift_rule("churn_feature_psi"), detector))
    ]
    assert messages and "churn_feature_psi" in messages[0] and "nothing in the stack exports" in messages[0]
