"""Endpoint (KServe InferenceService): canary, scaling, resources, logger, deployment mode, PDB, validation."""

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from k8s_checks import CRD_SOURCES, custom_problems, manifest, stack_hardening_problems
from k8s_samples import endpoint_args

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import Endpoint, EndpointArgs
from mlops_infra.policy.facts.k8s_workloads import workloads
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
    assert meta["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"  # KServe's current name
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


@pytest.mark.parametrize(("given", "written"), [("Standard", "Standard"), ("RawDeployment", "Standard")])
def test_standard_mode(given, written):
    stack = plan(
        lambda: Endpoint(
            "churn",
            endpoint_args(deployment_mode=given, canary_percent=None, scale_metric="cpu", scale_target=70),
        )
    )
    isvc = one(stack, ISVC).inputs
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == written
    assert isvc["spec"]["predictor"]["scaleMetric"] == "cpu"
    assert "canary" not in isvc["spec"]
    deprecated = [d for d in stack.diagnostics if "deprecated name" in d]
    assert deprecated == ([] if given == written else [deprecated[0]])
    if deprecated:
        assert "'RawDeployment'" in deprecated[0] and "use 'Standard'" in deprecated[0]


def test_serverless_is_the_deprecated_name_of_knative():
    stack = plan(lambda: Endpoint("churn", endpoint_args(deployment_mode="Serverless")))
    isvc = one(stack, ISVC).inputs
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    assert isvc["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert any("'Serverless' is KServe's deprecated name; use 'Knative'" in d for d in stack.diagnostics)


STANDARD_CANARY = {
    "deployment_mode": "Standard",
    "canary_percent": None,
    "scale_metric": "cpu",
    "scale_target": 70,
    "canary": {"storage_uri": "s3://acme-churn/models/churn/v8", "traffic_percent": 10, "replicas": 1},
}


def test_standard_canary_is_planned_and_schema_valid():
    """Acceptance: a KServe 0.20 Standard-mode canary, valid against the vendored v0.20.0 CRD schema."""
    stack = plan(lambda: Endpoint("churn", endpoint_args(**STANDARD_CANARY)), environment="prod")
    isvc = one(stack, ISVC)
    assert isvc.inputs["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    spec = isvc.inputs["spec"]
    stable, [canary] = spec["predictor"], spec["canary"]
    assert canary["trafficPercent"] == 10
    predictor = canary["predictor"]
    assert predictor["name"] == "canary" and predictor["minReplicas"] == 1
    assert predictor["model"]["storageUri"] == "s3://acme-churn/models/churn/v8"
    assert stable["model"]["storageUri"] == "s3://acme-churn/models/churn/v7"
    assert predictor["model"]["modelFormat"] == stable["model"]["modelFormat"]
    assert predictor["model"]["name"] == "kserve-container"  # the CRD requires it on a canary's model
    # KServe refuses autoscaling fields on a canary (fixed replicas) and canaryTrafficPercent outside Knative.
    assert not {"maxReplicas", "scaleMetric", "scaleTarget", "canaryTrafficPercent"} & set(predictor)
    assert "canaryTrafficPercent" not in stable
    assert predictor["logger"] == stable["logger"]  # the canary's requests are captured too
    assert predictor["serviceAccountName"] == stable["serviceAccountName"]
    assert custom_problems(manifest(isvc)) == []
    assert "v0.20.0" in CRD_SOURCES["InferenceService"]
    assert stack_hardening_problems(stack) == []
    assert [pod.path for pod, _ in workloads(isvc.type, isvc.inputs)] == ["spec.predictor", "spec.canary[0].predictor"]


def test_the_vendored_schema_rejects_a_bad_canary():
    stack = plan(lambda: Endpoint("churn", endpoint_args(**STANDARD_CANARY)))
    data = manifest(one(stack, ISVC))
    data["spec"]["canary"][0]["trafficPercent"] = 150
    del data["spec"]["canary"][0]["predictor"]["model"]["storageUri"]
    data["spec"]["canary"][0]["predictor"]["maxReplicas"] = 3
    problems = custom_problems(data)
    assert any("trafficPercent" in p and "150" in p for p in problems), problems
    assert any("maxReplicas" in p for p in problems), problems


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"deployment_mode": "Knative", "canary_percent": None}, "needs deployment_mode Standard"),
        ({"canary_percent": 10}, "canary_percent is Knative traffic splitting"),
        ({"canary": {**STANDARD_CANARY["canary"], "replicas": 3}}, "exceeds the endpoint's min_replicas 2"),
        ({"canary": {**STANDARD_CANARY["canary"], "traffic_percent": 101}}, "less than or equal to 100"),
        ({"canary": {**STANDARD_CANARY["canary"], "name": "Canary_1"}}, "String should match pattern"),
        ({"canary": {**STANDARD_CANARY["canary"], "storage_uri": "ftp://m"}}, "storage_uri"),
    ],
)
def test_bad_canary_settings_name_the_field(overrides, message):
    args = endpoint_args(**{**STANDARD_CANARY, **overrides})
    with pytest.raises(pydantic.ValidationError) as info:
        EndpointArgs.model_validate(args)
    error = info.value.errors()[0]
    assert error["loc"][0] in ("canary", "canary_percent") and message in str(info.value)
    with pytest.raises(ProgramError) as program_error:
        plan(lambda: Endpoint("churn", args))
    assert program_error.value.registered == []


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
