"""SeldonEndpoint (Seldon Core v2): Model, Server, Experiment manifests, CRD schemas, hardening, policies, refusals."""

import pulumi_kubernetes as k8s
import pydantic
import pytest
from k8s_checks import CRD_SOURCES, custom_problems, manifest, stack_hardening_problems, validate_custom

from mlops_infra.cost.catalogue import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.engine import ProgramError, run_program
from mlops_infra.k8s import Monitoring, SeldonEndpoint, SeldonEndpointArgs, Tenancy
from mlops_infra.k8s.monitoring import MonitoringArgs, alert_rules
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.facts.k8s_workloads import workloads
from mlops_infra.testing import one, plan, required_tags_present

MODEL = "kubernetes:mlops.seldon.io/v1alpha1:Model"
SERVER = "kubernetes:mlops.seldon.io/v1alpha1:Server"
EXPERIMENT = "kubernetes:mlops.seldon.io/v1alpha1:Experiment"
GUARDRAILS = {"k8s-pod-security", "k8s-namespace-guardrails"}


def _args(**overrides):
    args = {
        "namespace": "churn-ns",
        "model_format": "sklearn",
        "storage_uri": "s3://acme-churn/models/churn/v7",
        "min_replicas": 2,
        "max_replicas": 5,
    }
    return args | overrides


@pytest.fixture(scope="module")
def example_prod():
    return run_program("examples/k8s/seldon_endpoint.py", "dev", ["environment=prod"])


@pytest.fixture(scope="module")
def shadow():
    challenger = {"storage_uri": "s3://acme-churn/models/churn/v8", "mode": "shadow", "percent": 25}
    return plan(lambda: SeldonEndpoint("churn", _args(model_format="onnx", challenger=challenger)))


def test_model_and_server_of_the_champion(example_prod):
    models = {m.inputs["metadata"]["name"]: m.inputs["spec"] for m in example_prod.by_type(MODEL)}
    champion = models["seldon-endpoint-prod-churn"]  # project = the example's file stem
    assert champion == {
        "storageUri": "s3://acme-churn/models/churn/v7",
        "requirements": ["xgboost"],
        "memory": "2Gi",
        "server": "seldon-endpoint-prod-churn",
        "replicas": 2,
        "minReplicas": 2,
        "maxReplicas": 6,
    }
    assert models["seldon-endpoint-prod-churn-challenger"]["storageUri"] == "s3://acme-churn/models/churn/v8"
    servers = {s.inputs["metadata"]["name"]: s for s in example_prod.by_type(SERVER)}
    server = servers["seldon-endpoint-prod-churn"].inputs
    assert server["spec"]["serverConfig"] == "mlserver"
    assert (server["spec"]["replicas"], server["spec"]["minReplicas"], server["spec"]["maxReplicas"]) == (2, 2, 6)
    assert server["metadata"]["annotations"] == {"mlops-infra/uses-kubernetes-api": "true"}
    pod = server["spec"]["podSpec"]
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "seldon-endpoint-prod-churn"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == {"rclone", "agent", "mlserver"}  # the ServerConfig's containers, merged by name
    assert containers["mlserver"]["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    for container in containers.values():
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"} and "image" not in container
    # Only the agent (it lists EndpointSlices) mounts the expiring projected API token.
    token_mounts = {c["name"] for c in containers.values() for m in c["volumeMounts"] if m["name"] == "api-token"}
    assert token_mounts == {"agent"}
    role = next(r for r in example_prod.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role") if "churn" in r.name)
    assert role.inputs["rules"] == [
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}
    ]


def test_network_policies_admit_the_namespace_runtime_only(example_prod):
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in example_prod.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if p.inputs["metadata"]["name"].startswith("seldon-endpoint-prod-churn-")
    }
    inbound = policies["seldon-endpoint-prod-churn-seldon-in"]
    assert inbound["podSelector"]["matchExpressions"] == [
        {
            "key": "seldon-server-name",
            "operator": "In",
            "values": ["seldon-endpoint-prod-churn", "seldon-endpoint-prod-churn-challenger"],
        }
    ]
    assert inbound["ingress"] == [{"from": [{"podSelector": {}}]}] and inbound["policyTypes"] == ["Ingress"]
    assert policies["seldon-endpoint-prod-churn-runtime-out"]["egress"] == [{"to": [{"podSelector": {}}]}]
    https = policies["seldon-endpoint-prod-churn-https"]["egress"][0]
    assert https["ports"] == [{"port": 443, "protocol": "TCP"}]


def test_ab_experiment_weights(example_prod):
    experiment = one(example_prod, EXPERIMENT).inputs["spec"]
    assert experiment == {
        "default": "seldon-endpoint-prod-churn",
        "resourceType": "model",
        "candidates": [
            {"name": "seldon-endpoint-prod-churn", "weight": 90},
            {"name": "seldon-endpoint-prod-churn-challenger", "weight": 10},
        ],
    }


def test_shadow_experiment_mirrors_and_triton_serves_onnx(shadow):
    experiment = one(shadow, EXPERIMENT).inputs["spec"]
    assert experiment["candidates"] == [{"name": "churn-dev-churn", "weight": 100}]
    assert experiment["mirror"] == {"name": "churn-dev-churn-challenger", "percent": 25}
    assert {s.inputs["spec"]["serverConfig"] for s in shadow.by_type(SERVER)} == {"triton"}
    names = {c["name"] for s in shadow.by_type(SERVER) for c in s.inputs["spec"]["podSpec"]["containers"]}
    assert names == {"rclone", "agent", "triton"}
    single = plan(lambda: SeldonEndpoint("churn", _args(min_replicas=1, max_replicas=1)))
    assert not single.by_type(EXPERIMENT)
    assert "minReplicas" not in one(single, MODEL).inputs["spec"]  # no autoscaling range: fixed replicas


def test_every_seldon_manifest_matches_the_vendored_crd_schema(example_prod, shadow):
    assert "v2.10.2" in CRD_SOURCES["Server"] and "v2.10.2" in CRD_SOURCES["Experiment"]
    seldon = [r for s in (example_prod, shadow) for r in s.custom_resources() if "mlops.seldon.io" in r.type]
    assert {r.type for r in seldon} == {MODEL, SERVER, EXPERIMENT}
    assert [p for r in seldon for p in custom_problems(manifest(r))] == []
    assert validate_custom(example_prod) == [] and validate_custom(shadow) == []
    # The checks can fail: an unknown field, and a mirror without its percent.
    bad = manifest(one(shadow, EXPERIMENT))
    bad["spec"]["mirror"].pop("percent")
    bad["spec"]["weights"] = [90, 10]
    assert len(custom_problems(bad)) == 2


def test_hardened_and_guardrails_pass(example_prod):
    assert stack_hardening_problems(example_prod) == []
    assert required_tags_present(example_prod) == []
    violations = evaluate_stack(example_prod)
    assert [v for v in violations if v.policy_id in GUARDRAILS] == []


def test_servers_are_priced_from_their_pod_override(example_prod):
    estimate = estimate_stack(example_prod, load_catalogue())
    items = {i.urn.rsplit("::", 1)[-1]: i for i in estimate.items if i.type == SERVER}
    assert set(items) == {"churn-server", "churn-challenger-server"}
    # rclone 50m + agent 200m + mlserver 1 CPU; 128Mi + 1Gi + 2Gi; 6 (max) and 2 (min) replicas.
    for item in items.values():
        assert "3.125 GiB" in item.basis and "1.25 vCPU" in item.basis
        assert item.monthly_max == pytest.approx(3 * item.monthly_expected)


def test_a_raw_root_server_is_flagged():
    """The policy reads a Server's podSpec: a root override, and a Server with none at all, are both findings."""
    server = {
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "Server",
        "spec": {
            "serverConfig": "mlserver",
            "podSpec": {"securityContext": {"runAsUser": 0}, "containers": [{"name": "mlserver"}]},
        },
    }
    found = workloads(SERVER, server)
    assert [(pod.path, [c.path for c in containers]) for pod, containers in found] == [
        ("spec.podSpec", ["spec.podSpec.containers[0]"])
    ]
    assert not found[0][1][0].requires_image  # the ServerConfig supplies the image
    config = {"spec": {"podSpec": {"containers": [{"name": "mlserver", "image": "seldonio/mlserver"}]}}}
    ((_, (container,)),) = workloads("kubernetes:mlops.seldon.io/v1alpha1:ServerConfig", config)
    assert container.requires_image and container.path == "spec.podSpec.containers[0]"  # the full pod: images too

    def raw(spec):
        def program():
            Tenancy("team", {"team": "churn-ml"})
            k8s.apiextensions.CustomResource(
                "raw-server", api_version="mlops.seldon.io/v1alpha1", kind="Server", spec=spec
            )

        return [v for v in evaluate_stack(plan(program)) if v.policy_id == "k8s-pod-security"]

    root = raw(server["spec"])
    assert any("root" in v.message.lower() for v in root)
    assert any("automountServiceAccountToken" in v.message for v in root)
    bare = raw({"serverConfig": "mlserver", "replicas": 1})  # no podSpec: the ServerConfig's defaults
    assert any("readOnlyRootFilesystem" in v.message for v in bare)


def test_monitoring_on_seldon_metrics():
    rules = {r["alert"]: r["expr"] for r in alert_rules(MonitoringArgs(**_seldon_monitoring()), "churn-ns")}
    assert rules["EndpointHighP95Latency"] == (
        "histogram_quantile(0.95, sum by (le) (rate(seldon_model_infer_api_seconds_bucket"
        '{namespace="churn-ns", server="churn-dev-churn"}[5m]))) * 1.0 > 0.3'
    )
    assert (
        'seldon_model_infer_total{namespace="churn-ns", server="churn-dev-churn", code=~"5.."}'
        in (rules["EndpointHighErrorRate"])
    )
    stack = plan(lambda: Monitoring("m", _seldon_monitoring()))
    assert not stack.by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")  # Seldon's PodMonitor scrapes
    (policy,) = stack.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert policy.inputs["spec"]["podSelector"] == {"matchLabels": {"seldon-server-name": "churn-dev-churn"}}
    assert policy.inputs["spec"]["ingress"][0]["ports"] == [{"port": 9006, "protocol": "TCP"}]


def _seldon_monitoring():
    return {
        "namespace": "churn-ns",
        "endpoint_name": "churn-dev-churn",
        "backend": "seldon",
        "p95_latency_ms": 300,
        "drift_enabled": False,
    }


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"model_format": "pmml"}, "model_format", "not served by Seldon"),
        ({"model_format": "onnx", "server_config": "mlserver"}, "server_config", "does not advertise onnx"),
        ({"min_replicas": 0}, "min_replicas", "greater than or equal to 1"),
        ({"min_replicas": 4, "max_replicas": 2}, "max_replicas", "below min_replicas"),
        ({"challenger": {"storage_uri": "s3://acme-churn/m", "percent": 12.5}}, "challenger", "integers"),
        ({"challenger": {"storage_uri": "s3://acme-churn/m", "percent": 100}}, "challenger", "below 100"),
        ({"storage_uri": "s3://user:pw@acme-churn/m"}, "storage_uri", "not a valid s3://"),
    ],
)
def test_bad_args_are_refused_by_field(overrides, field, reason):
    with pytest.raises(pydantic.ValidationError) as caught:
        SeldonEndpointArgs.model_validate(_args(**overrides))
    assert reason in str(caught.value)
    if field not in ("model_format", "server_config", "max_replicas"):  # model-level checks name no single field
        assert caught.value.errors()[0]["loc"][0] == field


def test_protected_environment_needs_the_explicit_no_capture_statement():
    with pytest.raises(ProgramError, match="allow_no_data_capture"):
        plan(lambda: SeldonEndpoint("churn", _args()), environment="prod")


def test_a_production_model_without_capture_is_flagged_unless_accepted_explicitly(example_prod):
    # Seldon Models record no payloads: data-capture flags a raw one in prod; the component's acceptance is an
    # annotation on the Model that the rule reads (the prod example sets allow_no_data_capture).
    models = [r for r in example_prod.resources if r.type == "kubernetes:mlops.seldon.io/v1alpha1:Model"]
    assert models and all(m.inputs["metadata"]["annotations"]["mlops-infra/no-data-capture"] == "true" for m in models)
    assert [v for v in evaluate_stack(example_prod) if v.policy_id == "data-capture"] == []

    def raw(annotations):
        def program():
            Tenancy("team", {"team": "churn-ml"})
            k8s.apiextensions.CustomResource(
                "raw-model",
                api_version="mlops.seldon.io/v1alpha1",
                kind="Model",
                metadata={"name": "churn", "annotations": annotations},
                spec={"storageUri": "s3://acme/models/churn/v7", "requirements": ["xgboost"]},
            )

        found = evaluate_stack(plan(program, environment="prod"))
        return [v for v in found if v.policy_id == "data-capture" and v.resource_type.endswith(":Model")]

    (flagged,) = raw({})
    assert flagged.enforcement.value == "mandatory" and "mlops-infra/no-data-capture" in flagged.message
    assert raw({"mlops-infra/no-data-capture": "true"}) == []


def test_a_production_model_needs_an_alert_on_its_server(example_prod):
    # The prod example has Monitoring(backend seldon) on its servers: monitoring-required finds nothing.
    assert [v for v in evaluate_stack(example_prod) if v.policy_id == "monitoring-required"] == []

    def program():
        Tenancy("team", {"team": "churn-ml"})
        k8s.apiextensions.CustomResource(
            "raw-model",
            api_version="mlops.seldon.io/v1alpha1",
            kind="Model",
            metadata={"name": "churn", "annotations": {"mlops-infra/no-data-capture": "true"}},
            spec={"storageUri": "s3://acme/models/churn/v7", "requirements": ["xgboost"], "server": "churn-mlserver"},
        )

    found = [v for v in evaluate_stack(plan(program, environment="prod")) if v.policy_id == "monitoring-required"]
    assert len(found) == 1 and "no PrometheusRule alerts on it or its Server" in found[0].message
