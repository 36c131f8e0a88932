"""The stacks/gcp-vertex project: the whole churn platform, planned offline for dev and prod."""

import inspect
import json
from pathlib import Path

import pytest

from mlops_infra.conventions import STATEFUL_TYPES
from mlops_infra.conventions.taggable import _resource_class
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.gcp.iam import PRIMITIVE_ROLES
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import required_tags_present

STACK = Path(__file__).resolve().parents[2] / "stacks" / "gcp-vertex"


@pytest.fixture(scope="module")
def prod():
    return run_program(STACK, "prod", [])


@pytest.fixture(scope="module")
def dev():
    return run_program(STACK, "dev", [])


def types(stack):
    return {r.type for r in stack.resources}


def accepts_encryption_spec(type_token):
    cls = _resource_class(type_token)
    return cls is not None and "encryption_spec" in inspect.signature(cls._internal_init).parameters


def test_prod_plan_has_the_whole_platform(prod):
    present = types(prod)
    for token in (
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:storage/bucket:Bucket",
        "gcp:bigquery/dataset:Dataset",
        "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
        "gcp:vertex/aiFeatureGroup:AiFeatureGroup",
        "gcp:cloudscheduler/job:Job",
        "gcp:vertex/aiEndpoint:AiEndpoint",
        "gcp:serviceaccount/account:Account",
        "pulumi-python:dynamic/vertex:VertexModel",
        "pulumi-python:dynamic/vertex:VertexModelDeployment",
        "gcp:monitoring/alertPolicy:AlertPolicy",
    ):
        assert token in present, token
    assert len(prod.by_type("gcp:storage/bucket:Bucket")) == 3
    assert len(prod.by_type("gcp:bigquery/dataset:Dataset")) == 2
    assert prod.outputs["environment"] == "prod"
    assert prod.outputs["endpoint"].startswith("projects/acme-churn-prod/locations/us-central1/endpoints/")


def test_every_vertex_resource_that_can_be_cmek_encrypted_is(prod):
    vertex = [r for r in prod.resources if r.type.startswith("gcp:vertex/") and accepts_encryption_spec(r.type)]
    assert {r.type for r in vertex} == {
        "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
        "gcp:vertex/aiEndpoint:AiEndpoint",
    }
    key = prod.outputs["kmsKey"]
    assert all(r.inputs["encryptionSpec"] == {"kmsKeyName": key} for r in vertex)
    for dynamic in prod.by_type("pulumi-python:dynamic/vertex:VertexModel"):
        assert dynamic.inputs["kms_key_name"] == key
    assert all(b.inputs["encryption"]["defaultKmsKeyName"] == key for b in prod.by_type("gcp:storage/bucket:Bucket"))
    assert all(
        d.inputs["defaultEncryptionConfiguration"]["kmsKeyName"] == key
        for d in prod.by_type("gcp:bigquery/dataset:Dataset")
    )
    assert all(r.inputs["kmsKeyName"] == key for r in prod.by_type("gcp:artifactregistry/repository:Repository"))


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_labelable_resource_carries_the_four_labels(environment, dev, prod):
    stack = {"dev": dev, "prod": prod}[environment]
    assert required_tags_present(stack) == []
    endpoint = stack.by_type("gcp:vertex/aiEndpoint:AiEndpoint")[0]
    assert endpoint.inputs["labels"] == {
        "project": "churn-gcp",
        "environment": environment,
        "owner": "ml-platform",
        "cost-center": "cc-1234",
    }


def test_stateful_resources_are_protected_in_prod_only(dev, prod):
    stateful = [r for r in prod.resources if r.type in STATEFUL_TYPES]
    assert len(stateful) >= 10
    assert all(r.protect and r.retain_on_delete for r in stateful)
    assert not any(r.protect for r in dev.resources)


def test_no_primitive_roles_and_private_endpoints(prod):
    roles = {r.inputs["role"] for r in prod.resources if "role" in r.inputs}
    assert roles and not roles & PRIMITIVE_ROLES
    endpoint = prod.by_type("gcp:vertex/aiEndpoint:AiEndpoint")[0]
    assert endpoint.inputs["privateServiceConnectConfig"]["enablePrivateServiceConnect"] is True
    assert endpoint.inputs["predictRequestResponseLoggingConfig"]["samplingRate"] == 0.5
    store = prod.by_type("gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore")[0]
    assert (
        store.inputs["dedicatedServingEndpoint"]["privateServiceConnectConfig"]["enablePrivateServiceConnect"] is True
    )


def test_prod_rollout_is_gated_and_gradual(prod, dev):
    deployment = prod.by_type("pulumi-python:dynamic/vertex:VertexModelDeployment")[0].inputs
    assert deployment["required_alias"] == "champion"
    assert deployment["canary_percentages"] == [10, 50, 100]
    assert deployment["deployments"][0]["min_replica_count"] == 2
    model = prod.by_type("pulumi-python:dynamic/vertex:VertexModel")[0].inputs
    assert "champion" in model["version_aliases"] and "@sha256:" in model["serving_image_uri"]
    assert "required_alias" not in dev.by_type("pulumi-python:dynamic/vertex:VertexModelDeployment")[0].inputs


def test_retraining_schedule_comes_from_stack_config(dev, prod):
    assert named(prod, "gcp:cloudscheduler/job:Job", "training-schedule").inputs["schedule"] == "0 3 * * 1"
    assert named(dev, "gcp:cloudscheduler/job:Job", "training-schedule").inputs["schedule"] == "0 4 * * *"


def test_plan_is_deterministic_json_without_provider_blobs(prod):
    again = run_program(STACK, "prod", [])
    document = json.dumps(prod.to_json(), sort_keys=True)
    assert document == json.dumps(again.to_json(), sort_keys=True)
    for dynamic in prod.resources:
        if dynamic.type.startswith("pulumi-python:"):
            assert dynamic.inputs["__provider"] == "[secret]"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_our_own_policies_pass_on_the_stack(environment, dev, prod):
    stack = {"dev": dev, "prod": prod}[environment]
    mandatory = [v for v in evaluate_stack(stack) if v.enforcement is Enforcement.MANDATORY]
    assert mandatory == []


def test_the_stack_declares_a_budget_with_alerts(prod):
    budget = prod.by_type("gcp:billing/budget:Budget")[0].inputs
    assert budget["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "5000"}}
    assert budget["budgetFilter"]["projects"] == ["projects/123456789012"]
    # 80/90/100 % of the budget, each on current and on forecast spend (the default on every cloud).
    assert [(r["thresholdPercent"], r["spendBasis"]) for r in budget["thresholdRules"]] == [
        (fraction, basis) for fraction in (0.8, 0.9, 1.0) for basis in ("CURRENT_SPEND", "FORECASTED_SPEND")
    ]


# --- the operations loop (issue 10's acceptance on the prod plan) -------------------------------------


def named(stack, type_token, name):
    (found,) = [r for r in stack.by_type(type_token) if r.name == name]
    return found


def test_every_alert_policy_routes_to_a_person_by_severity(prod):
    channels = {c.name: c.inputs for c in prod.by_type("gcp:monitoring/notificationChannel:NotificationChannel")}
    emails = ["alerts-channel-ml-platform-example-com", "alerts-channel-ml-oncall-example-com"]
    assert sorted(channels) == sorted(["alerts-channel-pagerduty", "alerts-channel-slack", *emails])
    assert channels["alerts-channel-pagerduty"]["type"] == "pagerduty"
    assert channels["alerts-channel-pagerduty"]["sensitiveLabels"] == "[secret]"  # from pagerdutyIntegrationKey
    assert channels["alerts-channel-slack"]["labels"] == {"channel_name": "#ml-alerts"}
    assert channels["alerts-channel-slack"]["sensitiveLabels"] == "[secret]"
    critical = ["alerts-channel-pagerduty", *emails]
    warning = ["alerts-channel-slack", *emails]
    policies = {p.name: p.inputs for p in prod.by_type("gcp:monitoring/alertPolicy:AlertPolicy")}
    assert {name: p["notificationChannels"] for name, p in policies.items()} == {
        "churn-alert-error-rate": critical,
        "churn-alert-latency": warning,
        "drift-alert": warning,
        "training-failed": warning,
        "budget-alerts-alert-critical": critical,
        "budget-alerts-alert-warning": warning,
    }
    assert {name: p["userLabels"]["severity"] for name, p in policies.items()} == {
        "churn-alert-error-rate": "critical",
        "churn-alert-latency": "warning",
        "drift-alert": "warning",
        "training-failed": "warning",
        "budget-alerts-alert-critical": "critical",
        "budget-alerts-alert-warning": "warning",
    }
    budgets = {
        b.name: b.inputs["allUpdatesRule"]["monitoringNotificationChannels"]
        for b in prod.by_type("gcp:billing/budget:Budget")
    }
    # Cloud Billing notifies e-mail channels only; PagerDuty and Slack hear it through the budget's topic.
    assert budgets == {"platform-budget": emails}
    topic = named(prod, "gcp:pubsub/topic:Topic", "budget-alerts-topic").inputs
    assert prod.by_type("gcp:billing/budget:Budget")[0].inputs["allUpdatesRule"]["pubsubTopic"].endswith(topic["name"])


def test_drift_starts_the_cmek_pipeline_without_a_person(prod):
    key = prod.outputs["kmsKey"]
    schedule = named(prod, "gcp:cloudscheduler/job:Job", "drift-schedule").inputs
    workflow = named(prod, "gcp:workflows/workflow:Workflow", "drift-workflow").inputs
    assert schedule["schedule"] == "0 * * * *"
    assert schedule["httpTarget"]["uri"].endswith(f"/workflows/{workflow['name']}/executions")
    assert workflow["cryptoKeyName"] == key
    steps = dict(next(iter(s.items())) for s in json.loads(workflow["sourceContents"])["main"]["steps"])
    query = steps["measure"]["args"]["body"]["query"]
    assert "`acme-churn-prod.churn_gcp_prod_features.customer_features`" in query
    assert "`acme-churn-prod.churn_gcp_prod_churn_logs.request_response_logging`" in query
    # Pulumi.prod.yaml: 0.2 for every feature, 0.15 for monthly_charges.
    assert "SELECT 'tenure_months' AS feature, 0.2 AS threshold" in query
    assert "SELECT 'monthly_charges' AS feature, 0.15 AS threshold" in query
    retrain = steps["retrain"]["args"]
    assert retrain["url"].endswith("/projects/acme-churn-prod/locations/us-central1/pipelineJobs")
    body = retrain["body"]
    assert body["encryptionSpec"] == {"kmsKeyName": key}
    assert body["serviceAccount"] == prod.outputs["trainingServiceAccount"]
    assert body["runtimeConfig"]["gcsOutputDirectory"] == prod.outputs["pipelineRoot"]
    assert body["runtimeConfig"]["parameterValues"]["model_alias"] == "challenger"  # a reviewer still approves
    assert prod.outputs["driftWorkflow"] == workflow["name"]


def test_prod_rollout_rolls_back_on_the_alert_metrics(prod, dev):
    deployment = prod.by_type("pulumi-python:dynamic/vertex:VertexModelDeployment")[0].inputs
    assert deployment["rollback_metrics"] == {"error_rate_percent": 5, "p95_latency_ms": 1000}
    errors = named(prod, "gcp:monitoring/alertPolicy:AlertPolicy", "churn-alert-error-rate").inputs
    assert errors["conditions"][0]["conditionThreshold"]["thresholdValue"] == 0.05  # the same 5 %
    assert "rollback_metrics" not in dev.by_type("pulumi-python:dynamic/vertex:VertexModelDeployment")[0].inputs


def test_dev_e_mails_without_drift_checks(dev):
    assert dev.by_type("mlops-infra:gcp:DriftRetraining") == []
    channels = dev.by_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert [c.inputs["type"] for c in channels] == ["email"]
    for policy in dev.by_type("gcp:monitoring/alertPolicy:AlertPolicy"):
        assert policy.inputs["notificationChannels"] == [channels[0].name], policy.name
    assert len(dev.by_type("gcp:billing/budget:Budget")) == 1


def test_dashboard_charts_the_served_endpoint_and_the_drift_metric(prod):
    dashboard = json.loads(prod.by_type("gcp:monitoring/dashboard:Dashboard")[0].inputs["dashboardJson"])
    endpoint_id = prod.by_type("gcp:vertex/aiEndpoint:AiEndpoint")[0].inputs["name"]
    assert prod.outputs["endpoint"].endswith(f"/endpoints/{endpoint_id}")
    text = json.dumps(dashboard)
    assert text.count(f'resource.labels.endpoint_id=\\"{endpoint_id}\\"') == 5  # 3 charts + the error-rate ratio
    metric = named(prod, "gcp:logging/metric:Metric", "drift-metric").inputs["name"]
    assert f"logging.googleapis.com/user/{metric}" in text


def test_drift_needs_logged_requests():
    with pytest.raises(ProgramError, match=r"samplingPercent: drift is measured on the logged requests") as error:
        run_program(STACK, "prod", ['endpoint={"samplingPercent": 0}'])
    assert error.value.registered == []
