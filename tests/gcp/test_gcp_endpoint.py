"""Endpoint: CMEK, private networking, request logging to BigQuery, traffic steps, approval, alerts."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.engine import ProgramError
from mlops_infra.gcp import Endpoint, EndpointArgs
from mlops_infra.gcp.dynamic import rollback_metrics
from mlops_infra.gcp.dynamic.vertex_deployment import validate
from mlops_infra.gcp.endpoint import derived_endpoint_id
from mlops_infra.testing import one, required_tags_present

KEY = "projects/acme-ml/locations/us-central1/keyRings/churn-dev-platform/cryptoKeys/churn-dev-platform"
MODEL = "projects/acme-ml/locations/us-central1/models/churn-dev-churn"
ENDPOINT_ID = derived_endpoint_id("churn-dev-churn")


def endpoint(**overrides):
    args = {"deployments": [{"key": "blue", "model": MODEL, "alias": "champion"}], **overrides}
    return lambda: Endpoint("churn", args)


def test_endpoint_is_cmek_encrypted_and_private_by_default(gcp_plan):
    stack = gcp_plan(endpoint())
    ai = one(stack, "gcp:vertex/aiEndpoint:AiEndpoint")
    assert ai.inputs["name"] == ENDPOINT_ID and len(ENDPOINT_ID) == 10 and ENDPOINT_ID[0] != "0"
    assert ai.inputs["location"] == "us-central1"
    assert ai.inputs["encryptionSpec"] == {"kmsKeyName": KEY}
    assert ai.inputs["privateServiceConnectConfig"] == {
        "enablePrivateServiceConnect": True,
        "projectAllowlists": ["acme-ml"],
    }
    assert "network" not in ai.inputs
    grant = next(
        g for g in stack.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember") if "aiplatform" in g.inputs["member"]
    )
    assert grant.urn in ai.dependencies


def test_network_may_come_from_another_resource(gcp_plan):
    import pulumi

    network = pulumi.Output.from_input("projects/123/global/networks/shared")
    peered = one(gcp_plan(endpoint(network=network)), "gcp:vertex/aiEndpoint:AiEndpoint")
    assert peered.inputs["network"] == "projects/123/global/networks/shared"
    assert "privateServiceConnectConfig" not in peered.inputs


def test_vpc_peering_and_explicit_public_opt_in(gcp_plan):
    peered = one(gcp_plan(endpoint(network="projects/123/global/networks/ml")), "gcp:vertex/aiEndpoint:AiEndpoint")
    assert peered.inputs["network"] == "projects/123/global/networks/ml"
    assert "privateServiceConnectConfig" not in peered.inputs
    public_stack = gcp_plan(endpoint(allow_public_endpoint=True))
    public = one(public_stack, "gcp:vertex/aiEndpoint:AiEndpoint")
    assert "privateServiceConnectConfig" not in public.inputs and "network" not in public.inputs
    # The opt-in is recorded on the resource, so the no-public-access policy accepts it.
    assert public.inputs["labels"]["mlops-infra_allow-public"] == "true"
    assert "mlops-infra_allow-public" not in peered.inputs["labels"]
    from mlops_infra.policy.evaluate import evaluate_stack

    assert [v for v in evaluate_stack(public_stack) if v.policy_id == "no-public-access"] == []


def test_requests_and_responses_are_logged_to_a_cmek_dataset(gcp_plan):
    stack = gcp_plan(endpoint(request_logging={"sampling_percent": 25, "table_expiration_days": 30}))
    ai = one(stack, "gcp:vertex/aiEndpoint:AiEndpoint")
    assert ai.inputs["predictRequestResponseLoggingConfig"] == {
        "enabled": True,
        "samplingRate": 0.25,
        "bigqueryDestination": {"outputUri": "bq://acme-ml.churn_dev_churn_logs.request_response_logging"},
    }
    dataset = one(stack, "gcp:bigquery/dataset:Dataset")
    assert dataset.inputs["datasetId"] == "churn_dev_churn_logs"
    assert dataset.inputs["defaultEncryptionConfiguration"] == {"kmsKeyName": KEY}
    assert dataset.inputs["defaultTableExpirationMs"] == 30 * 86_400_000
    writer = one(stack, "gcp:bigquery/datasetIamMember:DatasetIamMember")
    assert writer.inputs["role"] == "roles/bigquery.dataEditor" and "gcp-sa-aiplatform" in writer.inputs["member"]
    assert writer.urn in ai.dependencies


def test_logging_can_be_turned_off_explicitly(gcp_plan):
    stack = gcp_plan(endpoint(request_logging={"enabled": False}))
    assert "predictRequestResponseLoggingConfig" not in one(stack, "gcp:vertex/aiEndpoint:AiEndpoint").inputs
    assert stack.by_type("gcp:bigquery/dataset:Dataset") == []


def test_deployment_resource_carries_machines_scaling_and_steps(gcp_plan):
    deployments = [
        {"key": "blue", "model": MODEL, "alias": "champion", "min_replicas": 2, "max_replicas": 4},
        {
            "key": "green",
            "model": MODEL,
            "version": "7",
            "machine_type": "n1-standard-8",
            "accelerator_type": "NVIDIA_TESLA_T4",
            "accelerator_count": 1,
            "autoscaling": [
                {"metric_name": "aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle", "target": 70}
            ],
        },
    ]
    steps = [{"blue": 90, "green": 10}, {"green": 100}]
    stack = gcp_plan(endpoint(deployments=deployments, traffic_steps=steps))
    deployment = one(stack, "pulumi-python:dynamic/vertex:VertexModelDeployment")
    inputs = deployment.inputs
    assert inputs["endpoint"] == f"projects/acme-ml/locations/us-central1/endpoints/{ENDPOINT_ID}"
    assert inputs["traffic_steps"] == steps
    assert "required_alias" not in inputs  # dev: no approval gate (None inputs are dropped)
    assert inputs["step_wait_seconds"] == 0 and inputs["canary_percentages"] == [100]
    blue, green = inputs["deployments"]
    assert (blue["min_replica_count"], blue["max_replica_count"], blue["machine_type"]) == (2, 4, "n1-standard-4")
    assert blue["autoscaling_metric_specs"] == [
        {"metric_name": "aiplatform.googleapis.com/prediction/online/cpu/utilization", "target": 60}
    ]
    assert (green["accelerator_type"], green["accelerator_count"], green["version"]) == ("NVIDIA_TESLA_T4", 1, "7")
    assert one(stack, "gcp:vertex/aiEndpoint:AiEndpoint").urn in deployment.dependencies


def test_prod_gates_deployments_on_the_approved_alias(gcp_plan):
    stack = gcp_plan(endpoint(), environment="prod")
    inputs = one(stack, "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs
    assert inputs["required_alias"] == "champion"
    assert inputs["step_wait_seconds"] == 300
    assert inputs["canary_percentages"] == [10, 50, 100]
    assert inputs["traffic_steps"] == [{"blue": 100}]


def test_rollback_gate_uses_the_alert_thresholds_and_the_gate_defaults(gcp_plan):
    stack = gcp_plan(endpoint(rollback_on_alerts=True, alerts={"error_rate_percent": 2}), environment="prod")
    inputs = one(stack, "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs
    # Unset: the provider's defaults, 100 predictions per bake window, and (required_alias set) rollback.
    assert inputs["rollback_metrics"] == {"error_rate_percent": 2, "p95_latency_ms": 500}
    assert rollback_metrics.DEFAULT_MIN_REQUESTS == 100
    assert rollback_metrics.insufficient_data_policy(inputs["rollback_metrics"], protected=True) == "rollback"
    assert inputs["required_alias"] == "champion"
    without = one(gcp_plan(endpoint()), "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs
    assert "rollback_metrics" not in without


@pytest.mark.parametrize(
    ("environment", "settings", "gate"),
    [
        ("prod", {"min_requests": 20}, {"min_requests": 20}),
        (
            "prod",
            {"min_requests": 0, "insufficient_data": "promote"},
            {"min_requests": 0, "insufficient_data": "promote"},
        ),
        ("dev", {"insufficient_data": "rollback"}, {"insufficient_data": "rollback"}),
    ],
)
def test_min_requests_and_insufficient_data_reach_the_deployment(gcp_plan, environment, settings, gate):
    stack = gcp_plan(endpoint(rollback_on_alerts=True, **settings), environment=environment)
    inputs = one(stack, "pulumi-python:dynamic/vertex:VertexModelDeployment").inputs
    assert inputs["rollback_metrics"] == {"error_rate_percent": 1, "p95_latency_ms": 500, **gate}
    validate(inputs)  # what the provider checks before it deploys


@pytest.mark.parametrize(
    ("deployment", "field"),
    [
        ({"key": "blue", "model": MODEL, "alias": "challenger"}, "alias"),
        ({"key": "blue", "model": MODEL, "version": "3"}, "version"),
    ],
)
def test_prod_rejects_unapproved_versions_naming_the_field(gcp_plan, deployment, field):
    with pytest.raises(ProgramError) as info:
        gcp_plan(endpoint(deployments=[deployment]), environment="prod")
    message = str(info.value)
    assert f"deployments.0.{field}" in message and "approved alias 'champion'" in message
    assert info.value.registered == []
    # The same settings are fine in dev.
    assert one(gcp_plan(endpoint(deployments=[deployment])), "pulumi-python:dynamic/vertex:VertexModelDeployment")


def test_alert_policies_watch_error_rate_and_latency(gcp_plan):
    stack = gcp_plan(
        endpoint(
            alerts={
                "error_rate_percent": 2,
                "p95_latency_ms": 250,
                "evaluation_periods": 5,
                "datapoints_to_alarm": 5,
                "notification_channels": ["projects/acme-ml/notificationChannels/1"],
            }
        )
    )
    policies = {p.name: p.inputs for p in stack.by_type("gcp:monitoring/alertPolicy:AlertPolicy")}
    assert set(policies) == {"churn-alert-error-rate", "churn-alert-latency"}
    errors = policies["churn-alert-error-rate"]["conditions"][0]["conditionThreshold"]
    resource = f'resource.type = "aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id = "{ENDPOINT_ID}"'
    assert errors["filter"] == f'{resource} AND metric.type = "aiplatform.googleapis.com/prediction/online/error_count"'
    assert errors["denominatorFilter"].endswith('"aiplatform.googleapis.com/prediction/online/prediction_count"')
    # 2 percent of requests, compared by Cloud Monitoring as a 0-1 ratio; 5 breaching one-minute periods.
    assert (errors["comparison"], errors["thresholdValue"], errors["duration"]) == ("COMPARISON_GT", 0.02, "300s")
    assert errors["aggregations"][0]["alignmentPeriod"] == "60s"
    latency = policies["churn-alert-latency"]["conditions"][0]["conditionThreshold"]
    assert latency["filter"].endswith('"aiplatform.googleapis.com/prediction/online/prediction_latencies"')
    assert latency["aggregations"][0]["perSeriesAligner"] == "ALIGN_PERCENTILE_95"
    assert latency["thresholdValue"] == 250
    assert policies["churn-alert-error-rate"]["displayName"].endswith("error rate > 2%")
    assert policies["churn-alert-latency"]["displayName"].endswith("p95 latency > 250 ms")
    assert all(p["notificationChannels"] == ["projects/acme-ml/notificationChannels/1"] for p in policies.values())
    assert all(p["userLabels"]["environment"] == "dev" for p in policies.values())


def test_prod_labels_and_protection(gcp_plan):
    stack = gcp_plan(endpoint(), environment="prod")
    assert required_tags_present(stack) == []
    assert one(stack, "gcp:bigquery/dataset:Dataset").protect
    assert one(stack, "gcp:vertex/aiEndpoint:AiEndpoint").inputs["labels"]["environment"] == "prod"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"blue": 60, "green": 30}], "traffic_steps[0] sums to 90, not 100"),
        ([{"blue": 90, "green": 10}, {"red": 100}], "traffic_steps[1] names ['red'], which is not a deployed version"),
        ([{"blue": 110, "green": -10}], "whole percentages"),
        ([], "at least one split"),
    ],
)
def test_traffic_split_validation(steps, message):
    deployments = [
        {"key": "blue", "model": MODEL, "alias": "champion"},
        {"key": "green", "model": MODEL, "alias": "champion"},
    ]
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate({"region": "us-central1", "deployments": deployments, "traffic_steps": steps})
    assert message in info.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"allow_public_endpoint": True, "network": "projects/1/global/networks/n"}, ()),
        ({"request_logging": {"sampling_percent": 150}}, ("request_logging", "sampling_percent")),
        ({"request_logging": {"sampling_percent": 0}}, ("request_logging", "sampling_percent")),
        ({"request_logging": {"sampling_rate": 0.5}}, ("request_logging", "sampling_rate")),
        ({"alerts": {"error_rate_percent": 150}}, ("alerts", "error_rate_percent")),
        ({"alerts": {"p95_latency_ms": 0}}, ("alerts", "p95_latency_ms")),
        ({"alerts": {"error_rate": 0.05}}, ("alerts", "error_rate")),
        ({"allow_public_endpoint": "yes"}, ("allow_public_endpoint",)),
        (
            {"deployments": [{"key": "blue", "model": MODEL, "alias": "champion", "machine_type": "huge-box"}]},
            ("deployments", 0, "machine_type"),
        ),
        (
            {"deployments": [{"key": "blue", "model": MODEL, "alias": "champion", "min_replica_count": 1}]},
            ("deployments", 0, "min_replica_count"),
        ),
        ({"kms_key_name": "alias/platform"}, ("kms_key_name",)),
        ({"network": "default"}, ("network",)),
        ({"deployments": [{"key": "blue", "model": MODEL}]}, ("deployments", 0)),
        (
            {
                "deployments": [
                    {"key": "blue", "model": MODEL, "alias": "champion", "min_replicas": 3, "max_replicas": 2}
                ]
            },
            ("deployments", 0),
        ),
        ({"deployments": [{"key": "Blue", "model": MODEL, "alias": "champion"}]}, ("deployments", 0, "key")),
        ({"canary_percentages": [50, 10, 100]}, ("canary_percentages",)),
        ({"endpoint_id": "0123"}, ("endpoint_id",)),
        ({"rollback_on_alerts": True, "min_requests": -1}, ("min_requests",)),
        ({"rollback_on_alerts": True, "min_requests": 2.5}, ("min_requests",)),
        ({"rollback_on_alerts": True, "insufficient_data": "skip"}, ("insufficient_data",)),
        ({"min_requests": 10}, ("min_requests",)),  # the gate runs only with rollback_on_alerts
        ({"insufficient_data": "promote"}, ("insufficient_data",)),
    ],
)
def test_invalid_settings_name_the_field(change, location):
    args = {"region": "us-central1", "deployments": [{"key": "blue", "model": MODEL, "alias": "champion"}], **change}
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(args)
    assert info.value.errors()[0]["loc"] == location


@settings(max_examples=25, deadline=None)
@given(shares=st.lists(st.integers(min_value=0, max_value=100), min_size=2, max_size=2).filter(lambda s: sum(s) != 100))
def test_splits_not_summing_to_100_always_fail(shares):
    deployments = [
        {"key": "blue", "model": MODEL, "alias": "champion"},
        {"key": "green", "model": MODEL, "alias": "champion"},
    ]
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(
            {
                "region": "us-central1",
                "deployments": deployments,
                "traffic_steps": [{"blue": shares[0], "green": shares[1]}],
            }
        )
    assert f"sums to {sum(shares)}, not 100" in info.value.errors()[0]["msg"]
