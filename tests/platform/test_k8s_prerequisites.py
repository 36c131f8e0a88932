"""The cluster prerequisites: a pinned chart table, secure values, ordering, and the spec's opt-in.

Plans are module-scoped: the component twice (gateway_api + Knative + Argo; Istio, no Knative, an
existing Prometheus) and the churn PlatformSpec three times (off, on, on with a challenger).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlops_infra.engine import CapturedStack
from mlops_infra.k8s.prerequisites import CHARTS, GATEWAY_API_CRDS, ClusterPrerequisites, is_exact_version
from mlops_infra.k8s.prerequisites import charts as table
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.spec.k8s import K8sPlatformSpec
from mlops_infra.testing import plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_checks import CRD_SOURCES, custom_problems, manifest
from test_k8s_realize import ISVC, churn_spec, realize

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
KNATIVE_SERVING = "kubernetes:operator.knative.dev/v1beta1:KnativeServing"
PREREQUISITES = "mlops-infra:k8s:ClusterPrerequisites"
SCHEMAS = Path(__file__).resolve().parents[1] / "k8s" / "crd_schemas"
ROWS = {chart.name: chart for chart in CHARTS}
PROMETHEUS_URL = "http://prometheus.observability.svc:9090"
NO_WORKLOAD = {"kserve-crd", "istio-base"}  # CRD-only charts: nothing to size
MONITORED = {
    "cert-manager": ("prometheus", "servicemonitor", "enabled"),
    "argo-workflows": ("controller", "serviceMonitor", "enabled"),
    "argo-events": ("controller", "metrics", "serviceMonitor", "enabled"),
    "opencost": ("opencost", "metrics", "serviceMonitor", "enabled"),
}


@pytest.fixture(scope="module")
def full() -> CapturedStack:
    """gateway_api router, Knative, Argo, kube-prometheus-stack on an encrypted class."""
    return plan(lambda: ClusterPrerequisites("pre", {"argo": True, "storage_class": "encrypted-gp3"}))


@pytest.fixture(scope="module")
def istio() -> CapturedStack:
    """Istio router, no Knative (Standard mode only), the cluster's own Prometheus."""
    args = {"traffic_router": "istio", "knative": False, "existing_prometheus_url": PROMETHEUS_URL}
    return plan(lambda: ClusterPrerequisites("pre", args))


@pytest.fixture(scope="module")
def platform_on() -> CapturedStack:
    return realize(churn_spec(**{"k8s.install_prerequisites": True}))


def releases(stack: CapturedStack) -> dict[str, Any]:
    return {r.inputs["name"]: r for r in stack.by_type(RELEASE)}


def dependencies(stack: CapturedStack, resource: Any) -> set[str]:
    return {urn.rsplit("::", 1)[-1] for urn in resource.dependencies}


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


def dig(node: Any, *keys: str) -> Any:
    for key in keys:
        node = node[key]
    return node


# --- the table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["", "latest", "^1.2.0", "~1.2", ">=1.0.0", "1.x", "1.2", "*", None, "1.2.3 || 2"])
def test_a_range_latest_or_missing_version_is_not_exact(version: object) -> None:
    assert not is_exact_version(version)


def test_every_chart_in_the_table_is_pinned_and_explained() -> None:
    assert table.CHECKED == "2026-12-02"
    assert len(ROWS) == len(CHARTS)
    for chart in CHARTS:
        assert is_exact_version(chart.version), chart.name
        assert chart.app_version and chart.namespace and len(chart.why) > 40, chart.name
        assert chart.repo.startswith(("https://", "oci://")), chart.name
    assert is_exact_version(GATEWAY_API_CRDS.version)
    assert f"/download/{GATEWAY_API_CRDS.version}/standard-install.yaml" in GATEWAY_API_CRDS.url


def _vendored(file: str, pattern: str) -> str:
    match = re.search(pattern, (SCHEMAS / file).read_text().split("properties:")[0])
    assert match, file
    return match.group(1)


def test_versions_match_the_vendored_crd_schemas() -> None:
    """The cluster runs the CRDs the tests validate the platform's objects against."""
    kserve = _vendored("kserve-v1beta1-inferenceservice.yaml", r"at tag (v[0-9.]+)")
    assert table.KSERVE_CRD.version == table.KSERVE.version == kserve == "v0.20.0"
    istio = _vendored("istio-networking-v1-virtualservice.yaml", r"tag ([0-9.]+) ")
    assert table.ISTIO_BASE.version == table.ISTIOD.version == table.ISTIO_INGRESS_GATEWAY.version == istio
    assert GATEWAY_API_CRDS.version == _vendored("gateway-api-v1-httproute.yaml", r"tag (v[0-9.]+) ") == "v1.4.1"
    operator = _vendored("prometheus-operator-v1alpha1-alertmanagerconfig.yaml", r"version: ([0-9.]+)\)")
    assert table.KUBE_PROMETHEUS_STACK.app_version == f"v{operator}"
    assert table.ARGO_WORKFLOWS.app_version.removeprefix("v") in CRD_SOURCES["CronWorkflow"]
    assert table.KNATIVE_OPERATOR.app_version == table.KNATIVE_SERVING_VERSION


# --- every Release in a plan is pinned --------------------------------------------------------------


@pytest.mark.parametrize("name", ["full", "istio", "platform_on"])
def test_every_helm_release_in_the_plan_is_the_pinned_row(name: str, request: pytest.FixtureRequest) -> None:
    stack: CapturedStack = request.getfixturevalue(name)
    found = stack.by_type(RELEASE)
    assert found
    for release in found:
        inputs = release.inputs
        assert is_exact_version(inputs.get("version")), release.name
        row = ROWS[inputs["name"]]
        assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (row.chart_ref, row.version, row.namespace)
        assert inputs["createNamespace"] is True and inputs["atomic"] is True
        if row.oci:
            assert inputs["chart"].startswith("oci://ghcr.io/kserve/charts/") and "repositoryOpts" not in inputs
        else:
            assert inputs["repositoryOpts"] == {"repo": row.repo}
    assert [v for v in evaluate_stack(stack) if v.policy_id == "helm-chart-pinned"] == []


# --- values: secure defaults --------------------------------------------------------------------------


def test_nothing_is_exposed_publicly_and_every_workload_is_sized(full: CapturedStack, istio: CapturedStack) -> None:
    for stack in (full, istio):
        for name, release in releases(stack).items():
            values = release.inputs["values"]
            service_types = [
                v
                for path, v in walk(values)
                if path[-1] in {"type", "serviceType"} and "service" in "".join(path).lower()
            ]
            assert "LoadBalancer" not in service_types and "NodePort" not in service_types, name
            assert not [p for p, v in walk(values) if p[-1] == "ingress" and isinstance(v, dict) and v.get("enabled")]
            sized = [v for path, v in walk(values) if path[-1] == "resources" and "volumeClaimTemplate" not in path]
            if name not in NO_WORKLOAD:
                assert sized, f"{name} sets no resources"
            for block in sized:
                blocks = block if isinstance(block, list) else [block]
                for item in blocks:
                    assert item["requests"]["cpu"] and item["limits"]["memory"], name


def test_argo_server_authenticates_callers_over_tls(full: CapturedStack) -> None:
    server = releases(full)["argo-workflows"].inputs["values"]["server"]
    assert server["authModes"] == ["client"] and "server" not in server["authModes"]
    assert server["secure"] is True and server["serviceType"] == "ClusterIP"


def test_service_monitors_are_on_and_crds_kept(full: CapturedStack) -> None:
    found = releases(full)
    for name, path in MONITORED.items():
        assert dig(found[name].inputs["values"], *path) is True, name
    assert found["cert-manager"].inputs["values"]["crds"] == {"enabled": True, "keep": True}
    for name in ("argo-workflows", "argo-events"):
        assert found[name].inputs["values"]["crds"] == {"install": True, "keep": True}


def test_prometheus_selects_the_platform_objects_and_keeps_data_on_the_encrypted_class(full: CapturedStack) -> None:
    values = releases(full)["kube-prometheus-stack"].inputs["values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["ruleSelectorNilUsesHelmValues"] is False and spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "encrypted-gp3"
    assert values["grafana"] == {"enabled": False}  # the chart's Grafana has a well-known default admin password
    opencost = releases(full)["opencost"].inputs["values"]["opencost"]["prometheus"]
    assert opencost["internal"] == {
        "enabled": True,
        "serviceName": "prometheus-operated",
        "namespaceName": "monitoring",
        "port": 9090,
    }


# --- ordering, namespaces, choices ---------------------------------------------------------------------


def test_crds_come_before_the_charts_that_use_them(full: CapturedStack) -> None:
    found = releases(full)
    after = {name: dependencies(full, release) for name, release in found.items()}
    assert {"pre-kserve-crd", "pre-cert-manager", "pre-istiod", "pre-knative-serving"} <= after["kserve"]
    assert after["istiod"] == {"pre-istio-base", "pre-gateway-api-crds"}
    assert after["istio-ingressgateway"] == {"pre-istiod"}
    for name in ("cert-manager", "argo-workflows", "argo-events", "opencost"):  # their ServiceMonitors
        assert after[name] == {"pre-kube-prometheus-stack"}, name
    (serving,) = full.by_type(KNATIVE_SERVING)
    assert {"pre-knative-operator", "pre-istio-ingressgateway"} <= dependencies(full, serving)
    assert serving.inputs["spec"]["version"] == table.KNATIVE_SERVING_VERSION
    assert serving.inputs["spec"]["ingress"] == {"istio": {"enabled": True}}
    assert serving.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    assert custom_problems(manifest(serving)) == []  # the vendored knative-operator v1.21.1 schema
    broken = manifest(serving)
    broken["spec"]["ingress"]["istio"]["enabled"] = "yes"
    assert custom_problems(broken)


def test_gateway_api_crds_are_the_pinned_standard_channel(full: CapturedStack, istio: CapturedStack) -> None:
    (crds,) = full.by_type(CONFIG_FILE)
    assert crds.inputs["file"] == GATEWAY_API_CRDS.url
    assert istio.by_type(CONFIG_FILE) == []
    assert {"istio-base", "istiod"} <= set(releases(istio))


def test_without_knative_kserve_defaults_to_standard_and_an_existing_prometheus_is_read(istio: CapturedStack) -> None:
    found = releases(istio)
    assert not {"knative-operator", "istio-ingressgateway", "kube-prometheus-stack"} & set(found)
    assert istio.by_type(KNATIVE_SERVING) == []
    assert found["kserve"].inputs["values"]["kserve"]["controller"]["deploymentMode"] == "Standard"
    assert found["opencost"].inputs["values"]["opencost"]["prometheus"]["external"] == {
        "enabled": True,
        "url": PROMETHEUS_URL,
    }
    assert all(dependencies(istio, r) != {"pre-kube-prometheus-stack"} for r in found.values())
    assert "argo-workflows" not in found


# --- the spec's opt-in ---------------------------------------------------------------------------------


def test_opt_in_off_installs_nothing() -> None:
    stack = realize(churn_spec())
    assert stack.by_type(RELEASE) == [] and stack.by_type(PREREQUISITES) == []
    assert stack.by_type(CONFIG_FILE) == [] and stack.by_type(KNATIVE_SERVING) == []


def test_opt_in_installs_knative_for_knative_mode_and_the_platform_waits(platform_on: CapturedStack) -> None:
    found = releases(platform_on)
    assert {"knative-operator", "kserve", "kube-prometheus-stack", "opencost", "istiod"} <= set(found)
    assert "argo-workflows" not in found  # the churn spec runs CronJobs
    assert found["kserve"].inputs["values"]["kserve"]["controller"]["deploymentMode"] == "Knative"
    storage_class = platform_on.by_type("kubernetes:storage.k8s.io/v1:StorageClass")[0].inputs["metadata"]["name"]
    prometheus = found["kube-prometheus-stack"].inputs["values"]["prometheus"]["prometheusSpec"]
    assert prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == storage_class
    (endpoint,) = platform_on.by_type("mlops-infra:k8s:Endpoint")
    assert {"k8s-prerequisites-kserve", "k8s-prerequisites-kserve-crd"} <= dependencies(platform_on, endpoint)
    assert platform_on.by_type(ISVC)


def test_every_resource_inside_the_platform_waits_for_the_installed_software(platform_on: CapturedStack) -> None:
    # depends_on of a component does not reach its children: the InferenceService, the team's CA Issuer and
    # every other custom resource must carry the dependency themselves (a transform adds it), or `pulumi up`
    # creates them before the CRDs and webhooks exist.
    (prerequisites,) = platform_on.by_type(PREREQUISITES)
    installing = {prerequisites.urn}
    for resource in platform_on.resources:  # parents are registered before their children
        if resource.parent in installing:
            installing.add(resource.urn)
    waiting = [
        r
        for r in platform_on.resources
        if r.custom and r.urn not in installing and r.type != "kubernetes:storage.k8s.io/v1:StorageClass"
    ]
    assert {r.type for r in waiting} >= {ISVC, "kubernetes:cert-manager.io/v1:Issuer", "kubernetes:core/v1:Namespace"}
    releases_installed = {r.urn for r in platform_on.by_type(RELEASE)}
    assert [r.name for r in waiting if not releases_installed <= set(r.dependencies)] == []


def test_a_challenger_only_platform_gets_standard_mode_istio_argo_and_its_prometheus() -> None:
    challenger = {
        "model": {"format": "xgboost", "format_version": "2.0", "artifact": "churn/challenger/model.tar.gz"},
        "mode": "ab",
        "percent": 10,
    }
    spec = churn_spec(
        **{
            "k8s.install_prerequisites": True,
            "k8s.existing_prometheus": True,
            "k8s.prometheus_url": PROMETHEUS_URL,
            "k8s.traffic_router": "istio",
            "k8s.argo_enabled": True,
            "endpoints.0.challenger": challenger,
            "endpoints.0.rollout": {"strategy": "all_at_once"},
        }
    )
    stack = realize(spec)
    found = releases(stack)
    assert not {"knative-operator", "kube-prometheus-stack"} & set(found)
    assert {"argo-workflows", "argo-events", "istiod"} <= set(found)
    assert stack.by_type(CONFIG_FILE) == []
    (router,) = stack.by_type("mlops-infra:k8s:TrafficRouter")
    assert "k8s-prerequisites-istiod" in dependencies(stack, router)


@pytest.mark.parametrize(
    ("k8s", "message"),
    [
        ({"existing_prometheus": True, "prometheus_url": PROMETHEUS_URL}, "set both or neither"),
        ({"install_prerequisites": True, "existing_prometheus": True}, "needs prometheus_url"),
    ],
)
def test_existing_prometheus_is_refused_without_its_context(k8s: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        K8sPlatformSpec.model_validate(k8s)
