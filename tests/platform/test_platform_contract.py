"""One spec, three clouds: the same platform.yaml realized in prod on AWS, GCP and Kubernetes.

For every concept of the acceptance list, the same spec must give, on each cloud: a customer-managed
key on every child that encrypts, nothing public, a feature store, a training pipeline with its
schedule and a retrain-on-drift trigger, a registry with an approval gate, every endpoint with
gradual rollout and rollback, data capture, drift monitoring, alerts on error rate and p95 latency,
a budget and the required tags. Policies are one oracle (0 violations of each concept's rule); the
realized resources, read from the plan's wire inputs, are the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlops_infra.cli import app
from mlops_infra.gcp.dynamic.rollback_metrics import DEFAULT_MIN_REQUESTS, insufficient_data_policy

STACK = Path(__file__).resolve().parents[2] / "stacks" / "platform"
CLOUDS = ("aws", "gcp", "k8s")
Document = dict[str, Any]


@pytest.fixture(scope="module", params=CLOUDS)
def prod(request: pytest.FixtureRequest) -> tuple[str, Document]:
    """``check --format json`` of ``<cloud>-prod``: the plan document plus its violations."""
    result = CliRunner().invoke(app, ["check", str(STACK), "--stack", f"{request.param}-prod", "--format", "json"])
    assert result.exit_code == 0, result.output
    return request.param, json.loads(result.stdout)


def of_type(document: Document, type_token: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == type_token]


def one(document: Document, type_token: str) -> dict[str, Any]:
    (resource,) = of_type(document, type_token)
    return resource["inputs"]


def rule_exprs(document: Document) -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {}
    for resource in of_type(document, "kubernetes:monitoring.coreos.com/v1:PrometheusRule"):
        for group in resource["inputs"]["spec"]["groups"]:
            for rule in group["rules"]:
                rules.setdefault(rule["alert"], []).append(rule["expr"])
    return rules


def violations_of(document: Document, *policy_ids: str) -> list[dict[str, Any]]:
    return [v for v in document["violations"] if v["policy_id"] in policy_ids]


# --- what each concept looks like on each cloud (wire inputs, as `pulumi up` would send them) ---


def aws_feature_store(d: Document) -> None:
    group = one(d, "aws:sagemaker/featureGroup:FeatureGroup")
    assert group["onlineStoreConfig"]["enableOnlineStore"] is True
    assert group["offlineStoreConfig"]["s3StorageConfig"]["kmsKeyId"]


def gcp_feature_store(d: Document) -> None:
    assert one(d, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore")
    group = one(d, "gcp:vertex/aiFeatureGroup:AiFeatureGroup")
    assert group["bigQuery"]["entityIdColumns"] == ["customer_id"]
    features = {r["inputs"]["name"] for r in of_type(d, "gcp:vertex/aiFeatureGroupFeature:AiFeatureGroupFeature")}
    assert features == {"tenure_months", "monthly_charges", "contract_type"}


def k8s_feature_store(d: Document) -> None:
    repo = [c for c in of_type(d, "kubernetes:core/v1:ConfigMap") if "features.py" in c["inputs"].get("data", {})]
    assert repo and 'Field(name="tenure_months"' in repo[0]["inputs"]["data"]["features.py"]


def aws_training(d: Document) -> None:
    assert one(d, "aws:sagemaker/pipeline:Pipeline")
    schedule = one(d, "aws:scheduler/schedule:Schedule")
    assert (schedule["scheduleExpression"], schedule["scheduleExpressionTimezone"]) == (
        "cron(0 3 ? * MON *)",
        "Europe/Berlin",
    )
    patterns = [json.loads(r["inputs"]["eventPattern"]) for r in of_type(d, "aws:cloudwatch/eventRule:EventRule")]
    retrain = [p for p in patterns if p.get("detail-type") == ["CloudWatch Alarm State Change"]]
    assert retrain and "monitor-drift" in json.dumps(retrain[0]["detail"]["alarmName"])


def gcp_training(d: Document) -> None:
    jobs = {r["name"]: r["inputs"] for r in of_type(d, "gcp:cloudscheduler/job:Job")}
    assert (jobs["gcp-training-schedule"]["schedule"], jobs["gcp-training-schedule"]["timeZone"]) == (
        "0 3 * * 1",
        "Europe/Berlin",
    )
    # the drift check that submits the pipeline job
    (workflow,) = (
        w["inputs"] for w in of_type(d, "gcp:workflows/workflow:Workflow") if w["name"] == "gcp-drift-workflow"
    )
    assert "pipelineJobs" in workflow["sourceContents"]
    assert workflow["cryptoKeyName"]


def k8s_training(d: Document) -> None:
    (cron,) = of_type(d, "kubernetes:argoproj.io/v1alpha1:CronWorkflow")
    spec = cron["inputs"]["spec"]
    assert (spec.get("schedule") or spec["schedules"][0], spec["timezone"]) == ("0 3 * * 1", "Europe/Berlin")
    drift = rule_exprs(d)["EndpointFeatureDrift"]
    assert drift, "retraining on drift is triggered by the drift alert"


def aws_registry(d: Document) -> None:
    assert one(d, "aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    (model,) = of_type(d, "aws:sagemaker/model:Model")
    assert "model-package/churn-platform-prod-churn/7" in json.dumps(model["inputs"]), "serves the approved version"


def gcp_registry(d: Document) -> None:
    deployment = one(d, "pulumi-python:dynamic/vertex:VertexModelDeployment")
    assert deployment["required_alias"] == "champion"
    assert all(dep["alias"] == "champion" for dep in deployment["deployments"])


def k8s_registry(d: Document) -> None:
    (template,) = of_type(d, "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate")
    env = {e["name"]: e.get("value") for e in json_find(template["inputs"], "env")}
    assert (env["MLOPS_APPROVAL_MODE"], env["MLOPS_APPROVED_ALIAS"]) == ("manual", "champion")


def json_find(node: Any, key: str) -> list[Any]:
    """Every item of every list stored under ``key`` anywhere in ``node``."""
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            found += v if k == key and isinstance(v, list) else json_find(v, key)
    elif isinstance(node, list):
        for item in node:
            found += json_find(item, key)
    return found


def aws_rollout(d: Document) -> None:
    config = one(d, "aws:sagemaker/endpoint:Endpoint")["deploymentConfig"]
    assert config["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "CANARY"
    assert config["autoRollbackConfiguration"]["alarms"]


def gcp_rollout(d: Document) -> None:
    deployment = one(d, "pulumi-python:dynamic/vertex:VertexModelDeployment")
    assert deployment["canary_percentages"][0] == 10 and deployment["step_wait_seconds"] == 600
    gate = deployment["rollback_metrics"]
    assert gate == {"p95_latency_ms": 300, "error_rate_percent": 1}
    # The spec's rollout has no request-count field: the gate's defaults apply, 100 predictions per bake window,
    # and a stage below that rolls back (protected: the deployment has a required_alias).
    assert gate.get("min_requests", DEFAULT_MIN_REQUESTS) == 100
    assert insufficient_data_policy(gate, protected=bool(deployment["required_alias"])) == "rollback"


def k8s_rollout(d: Document) -> None:
    predictor = one(d, "kubernetes:serving.kserve.io/v1beta1:InferenceService")["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    # The CanaryGuard promotes after the bake time and rolls back on the endpoint's alarm thresholds.
    assert [r["name"] for r in of_type(d, "mlops-infra:k8s:CanaryGuard")] == ["k8s-scoring-canary-guard"]
    (guard,) = [r["inputs"] for r in of_type(d, "kubernetes:batch/v1:CronJob") if "canary-guard" in r["name"]]
    pod = guard["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert (env["ERROR_RATE_PERCENT"], env["P95_LATENCY_MS"]) == ("1", "300")  # percent, ms


def aws_capture(d: Document) -> None:
    config = one(d, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert config["dataCaptureConfig"]["initialSamplingPercentage"] == 20
    assert config["dataCaptureConfig"]["kmsKeyId"]


def gcp_capture(d: Document) -> None:
    logging = one(d, "gcp:vertex/aiEndpoint:AiEndpoint")["predictRequestResponseLoggingConfig"]
    assert logging["enabled"] is True and logging["samplingRate"] == 0.2  # 20 percent, spelled for Vertex


def k8s_capture(d: Document) -> None:
    predictor = one(d, "kubernetes:serving.kserve.io/v1beta1:InferenceService")["spec"]["predictor"]
    assert predictor["logger"]["mode"] == "all"


def aws_drift(d: Document) -> None:
    assert one(d, "aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    drift = [r for r in of_type(d, "aws:cloudwatch/metricAlarm:MetricAlarm") if "drift" in r["name"]]
    assert {r["inputs"]["threshold"] for r in drift} == {0.2} and len(drift) == 3


def gcp_drift(d: Document) -> None:
    jobs = {r["name"]: r["inputs"] for r in of_type(d, "gcp:cloudscheduler/job:Job")}
    assert jobs["gcp-drift-schedule"]["schedule"] == "0 * * * *"
    assert any("drift" in r["name"] for r in of_type(d, "gcp:monitoring/alertPolicy:AlertPolicy"))


def k8s_drift(d: Document) -> None:
    assert any(expr.endswith("> 0.2") for expr in rule_exprs(d)["EndpointFeatureDrift"])
    (detector,) = of_type(d, "mlops-infra:k8s:DriftDetector")
    (service,) = [r["inputs"] for r in of_type(d, "kubernetes:core/v1:Service") if r["parent"] == detector["urn"]]
    meta = service["metadata"]
    sink = f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local:8080/"
    isvcs = of_type(d, "kubernetes:serving.kserve.io/v1beta1:InferenceService")
    loggers = {i["inputs"]["spec"]["predictor"]["logger"]["url"] for i in isvcs}
    assert isvcs and loggers == {sink}, "every endpoint's captures reach the drift detector"


def aws_alerts(d: Document) -> None:
    alarms = {r["name"]: r["inputs"] for r in of_type(d, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    error = next(a for n, a in alarms.items() if n.endswith("5xx-rate"))
    latency = next(a for n, a in alarms.items() if n.endswith("p95-latency"))
    assert error["threshold"] == 1  # percent
    assert (latency["extendedStatistic"], latency["threshold"]) == ("p95", 300_000)  # ModelLatency is in µs
    assert all(a["alarmActions"] for a in alarms.values()), "every alarm reaches the alert topic"


def gcp_alerts(d: Document) -> None:
    policies = {r["name"]: r["inputs"] for r in of_type(d, "gcp:monitoring/alertPolicy:AlertPolicy")}
    error = policies["gcp-scoring-alert-error-rate"]["conditions"][0]["conditionThreshold"]
    latency = policies["gcp-scoring-alert-latency"]["conditions"][0]["conditionThreshold"]
    assert error["thresholdValue"] == 0.01  # 1 percent, spelled as Cloud Monitoring's ratio
    assert latency["thresholdValue"] == 300 and latency["aggregations"][0]["perSeriesAligner"] == "ALIGN_PERCENTILE_95"
    assert all(p["notificationChannels"] for p in policies.values()), "every policy reaches a channel"
    # Critical (error rate) pages the on-call, warning (latency) goes to Slack; both are e-mailed.
    emails = gcp_channels(d, "email")
    error_channels = set(policies["gcp-scoring-alert-error-rate"]["notificationChannels"])
    latency_channels = set(policies["gcp-scoring-alert-latency"]["notificationChannels"])
    assert error_channels == gcp_channels(d, "pagerduty") | emails
    assert latency_channels == gcp_channels(d, "slack") | emails


def k8s_alerts(d: Document) -> None:
    rules = rule_exprs(d)
    assert rules["EndpointHighP95Latency"][0].startswith("histogram_quantile(0.95")
    assert rules["EndpointHighP95Latency"][0].endswith("> 0.3")  # 300 ms, in Knative's seconds
    assert rules["EndpointHighErrorRate"][0].endswith("> 0.01")  # 1 percent, as a ratio
    assert of_type(d, "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig")


def aws_budget(d: Document) -> None:
    assert one(d, "aws:budgets/budget:Budget")["limitAmount"] == "12000.00"


def gcp_channels(d: Document, channel_type: str) -> set[str]:
    """The notification channels of one type (pagerduty, slack, email), by name (their mock ids)."""
    channels = of_type(d, "gcp:monitoring/notificationChannel:NotificationChannel")
    return {c["name"] for c in channels if c["inputs"]["type"] == channel_type}


def gcp_budget(d: Document) -> None:
    budgets = {r["name"]: r["inputs"] for r in of_type(d, "gcp:billing/budget:Budget")}
    # The spec's budget, every threshold: to the e-mail channels (the only kind Cloud Billing notifies) and to the
    # budget topic, whose workflow routes a crossed threshold by severity (actual spend at 100 % pages).
    (budget,) = budgets.values()
    assert budget["amount"]["specifiedAmount"]["units"] == "12000"
    assert set(budget["allUpdatesRule"]["monitoringNotificationChannels"]) == gcp_channels(d, "email")
    assert budget["allUpdatesRule"]["pubsubTopic"].endswith("-gcp-budget-alerts")
    routes = {r["name"]: r["inputs"] for r in of_type(d, "gcp:monitoring/alertPolicy:AlertPolicy")}
    pagerduty = gcp_channels(d, "pagerduty")
    assert pagerduty and pagerduty <= set(routes["gcp-budget-alerts-alert-critical"]["notificationChannels"])


def k8s_budget(d: Document) -> None:
    assert [e.rsplit(" > ", 1)[1] for e in rule_exprs(d)["NamespaceSpendBudget"]] == ["9600", "10800", "12000"]


CONCEPTS: dict[str, tuple[tuple[str, ...], dict[str, Callable[[Document], None]]]] = {
    "feature store": ((), {"aws": aws_feature_store, "gcp": gcp_feature_store, "k8s": k8s_feature_store}),
    "training, schedule, retrain on drift": ((), {"aws": aws_training, "gcp": gcp_training, "k8s": k8s_training}),
    "registry with approval": (("model-approval",), {"aws": aws_registry, "gcp": gcp_registry, "k8s": k8s_registry}),
    "gradual rollout with rollback": (
        ("deployment-safety",),
        {"aws": aws_rollout, "gcp": gcp_rollout, "k8s": k8s_rollout},
    ),
    "data capture": (("data-capture",), {"aws": aws_capture, "gcp": gcp_capture, "k8s": k8s_capture}),
    "drift monitoring": (("monitoring-required",), {"aws": aws_drift, "gcp": gcp_drift, "k8s": k8s_drift}),
    "alerts on error rate and p95 latency": ((), {"aws": aws_alerts, "gcp": gcp_alerts, "k8s": k8s_alerts}),
    "budget": (("budget-required",), {"aws": aws_budget, "gcp": gcp_budget, "k8s": k8s_budget}),
}


@pytest.mark.parametrize("concept", sorted(CONCEPTS))
def test_concept_is_realized_on_every_cloud(prod: tuple[str, Document], concept: str) -> None:
    cloud, document = prod
    policies, realized = CONCEPTS[concept]
    assert violations_of(document, *policies) == []
    realized[cloud](document)


def test_every_child_that_encrypts_uses_a_customer_managed_key_and_nothing_is_public(
    prod: tuple[str, Document],
) -> None:
    _, document = prod
    assert violations_of(document, "encryption-at-rest", "key-rotation", "encryption-in-transit") == []
    assert violations_of(document, "no-public-access", "network-isolation") == []


def test_every_taggable_resource_carries_the_required_tags(prod: tuple[str, Document]) -> None:
    _, document = prod
    assert violations_of(document, "required-tags") == []
    assert document["violations"] == []


def test_the_platform_is_one_component_whose_children_are_named_per_cloud(prod: tuple[str, Document]) -> None:
    cloud, document = prod
    (platform,) = of_type(document, "mlops-infra:index:MlPlatform")
    assert platform["inputs"] == {"environment": "prod", "protected": True, "clouds": [cloud]}
    children = [r for r in document["resources"] if r["parent"] == platform["urn"]]
    assert children and all(r["name"].startswith(f"{cloud}-") for r in children)
    outputs = document["outputs"]["platform"][cloud]
    assert {"pipelineName", "registryName", "endpointNames", "budgetName"} <= set(outputs)
    assert list(outputs["endpointNames"]) == ["scoring"], "the same output, keyed by spec name, on every cloud"
