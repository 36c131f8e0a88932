"""Endpoint (KServe InferenceService): canary, scaling, resources, logger, deployment mode, PDB, validation."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from k8s_checks import stack_hardening_problems
from k8s_samples import endpoint_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import Endpoint, EndpointArgs
from mlops_infra.testing import one, plan, required_tags_present

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


@pytest.fixture(scope="module")
def stack():
    return plan(
        lambda: Endpoint("churn", endpoint_args(resources={"gpus": 1, "memory_limit": "4Gi"})), environment="prod"
    )


def test_inference_service_canary_scaling_and_logger(stack):
    isvc = one(stack, ISVC)
    assert isvc.inputs["apiVersion"] == "serving.kserve.io/v1beta1"
    meta = isvc.inputs["metadata"]
    assert meta["name"] == "churn-prod-churn"
    assert meta["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    predictor = isvc.inputs["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 6)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("rps", 50)
    assert predictor["logger"] == {
        "mode": "all",
        "url": "http://broker-ingress.knative-eventing.svc.cluster.local/churn-ns/capture",
    }
    model = predictor["model"]
    assert model["modelFormat"] == {"name": "sklearn"} and model["storageUri"] == "s3://acme-churn/models/churn/v7"
    assert model["resources"]["limits"] == {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "1"}
    assert predictor["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert predictor["serviceAccountName"] == "churn-prod-churn" and predictor["automountServiceAccountToken"] is False
    assert stack_hardening_problems(stack) == []
    assert required_tags_present(stack) == []
    component = one(stack, "mlops-infra:k8s:Endpoint")
    assert isvc.parent == component.urn


def test_pdb_only_with_two_or_more_replicas(stack):
    pdb = one(stack, "kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]
    assert pdb == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"serving.kserve.io/inferenceservice": "churn-prod-churn"}},
    }
    single = plan(lambda: Endpoint("churn", endpoint_args(min_replicas=1)))
    assert not single.by_type("kubernetes:policy/v1:PodDisruptionBudget")


def test_scale_to_zero_in_serverless_mode():
    stack = plan(lambda: Endpoint("churn", endpoint_args(min_replicas=0, canary_percent=None)))
    predictor = one(stack, ISVC).inputs["spec"]["predictor"]
    assert predictor["minReplicas"] == 0 and "canaryTrafficPercent" not in predictor


def test_raw_deployment_mode():
    stack = plan(
        lambda: Endpoint(
            "churn",
            endpoint_args(deployment_mode="RawDeployment", canary_percent=None, scale_metric="cpu", scale_target=70),
        )
    )
    isvc = one(stack, ISVC).inputs
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert isvc["spec"]["predictor"]["scaleMetric"] == "cpu"


def test_network_policies(stack):
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in stack.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    gateway = policies["churn-prod-churn-gateway-in"]
    assert gateway["podSelector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": "churn-prod-churn"}}
    assert [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in gateway["ingress"][0]["from"]
    ] == ["istio-system", "knative-serving"]
    logger = policies["churn-prod-churn-logger-out"]["egress"][0]
    assert logger["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "knative-eventing"
    assert logger["ports"] == [{"port": 80, "protocol": "TCP"}]


def test_data_capture_required_in_protected_environments():
    with pytest.raises(ProgramError, match="logger"):
        plan(lambda: Endpoint("churn", endpoint_args(logger=None)), environment="prod")
    opted_out = plan(
        lambda: Endpoint("churn", endpoint_args(logger=None, allow_no_data_capture=True)), environment="prod"
    )
    assert "logger" not in one(opted_out, ISVC).inputs["spec"]["predictor"]
    dev = plan(lambda: Endpoint("churn", endpoint_args(logger=None)))
    assert "logger" not in one(dev, ISVC).inputs["spec"]["predictor"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"canary_percent": 150}, "canary_percent"),
        ({"canary_percent": -1}, "canary_percent"),
        (
            {
                "deployment_mode": "RawDeployment",
                "canary_percent": None,
                "scale_metric": "cpu",
                "min_replicas": 0,
            },
            "min_replicas",
        ),
        ({"deployment_mode": "RawDeployment", "scale_metric": "cpu"}, "canary_percent"),
        ({"deployment_mode": "RawDeployment", "canary_percent": None}, "scale_metric"),
        ({"min_replicas": 5, "max_replicas": 2}, "max_replicas"),
        ({"scale_metric": "cpu", "scale_target": 250}, "scale_target"),
        ({"storage_uri": "ftp://models/churn"}, "storage_uri"),
        ({"storage_uri": "s3://key:secret@bucket/m"}, "storage_uri"),
        ({"logger": {"url": "http://capture.example.com/events"}}, "logger"),
        ({"model_format": "SkLearn!"}, "model_format"),
    ],
)
def test_invalid_settings_name_the_field_and_register_nothing(overrides, field):
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(endpoint_args(**overrides))
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field):
        plan(lambda: Endpoint("churn", endpoint_args(**overrides)))


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=101, max_value=10_000) | st.integers(max_value=-1))
def test_canary_outside_0_to_100_always_fails(percent):
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(endpoint_args(canary_percent=percent))
    assert info.value.errors()[0]["loc"] == ("canary_percent",)


@settings(max_examples=25, deadline=None)
@given(minimum=st.integers(min_value=1, max_value=100), gap=st.integers(min_value=1, max_value=50))
def test_min_above_max_always_fails(minimum, gap):
    maximum = max(1, minimum - gap)
    if maximum >= minimum:
        return
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(endpoint_args(min_replicas=minimum, max_replicas=maximum))
    assert info.value.errors()[0]["loc"] == ("max_replicas",)


def test_cluster_local_by_default_and_public_only_when_explicitly_allowed():
    from mlops_infra.policy.config import load_policy_config
    from mlops_infra.policy.evaluate import evaluate_stack

    isvc_type = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
    private = plan(lambda: Endpoint("churn", endpoint_args()), environment="prod")
    metadata = one(private, isvc_type).inputs["metadata"]
    assert metadata["labels"]["networking.kserve.io/visibility"] == "cluster-local"
    assert "mlops-infra/allow-public" not in metadata["annotations"]

    public = plan(lambda: Endpoint("churn", endpoint_args(allow_public_access=True)), environment="prod")
    metadata = one(public, isvc_type).inputs["metadata"]
    assert "networking.kserve.io/visibility" not in metadata["labels"]
    assert metadata["annotations"]["mlops-infra/allow-public"] == "true"
    for stack in (private, public):
        ids = {v.policy_id for v in evaluate_stack(stack, load_policy_config(None))}
        assert "no-public-access" not in ids
