"""The Helm values of each prerequisite chart: explicit, secure by default, sized, and scraped.

Every block sets resource requests and limits for each workload the chart runs, keeps every UI and
API on a ClusterIP Service (no LoadBalancer, no Ingress), turns the chart's ServiceMonitor on (so
the platform's Prometheus scrapes it) and, for charts that ship CRDs, installs and keeps them
(``keep``: a ``helm uninstall`` must not delete every custom resource of the cluster).
Keys are the charts' own, at the versions of :mod:`mlops_infra.k8s.prerequisites.charts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROMETHEUS_NAMESPACE = "monitoring"
PROMETHEUS_SERVICE = "prometheus-operated"  # the operator's governing Service of every Prometheus in the namespace
PROMETHEUS_PORT = 9090
IN_CLUSTER_PROMETHEUS = f"http://{PROMETHEUS_SERVICE}.{PROMETHEUS_NAMESPACE}.svc:{PROMETHEUS_PORT}"
"""kube-prometheus-stack's Prometheus, where the canary guards look by default (k8s/canary_guard.py)."""
PROMETHEUS_RETENTION = "15d"  # a month-to-date budget forecast needs days of OpenCost samples
PROMETHEUS_VOLUME = "50Gi"
ALERTMANAGER_VOLUME = "2Gi"
KNATIVE_INGRESS_CLASS = "istio.ingress.networking.knative.dev"


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    """A container's requests (what the scheduler reserves) and limits (the ceiling): CPU cores, memory bytes."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


SMALL = resources("10m", "64Mi", "200m", "256Mi")
"""A controller or webhook that reconciles a few objects."""
MEDIUM = resources("100m", "256Mi", "1", "1Gi")
"""A controller that watches every pod or workflow of the cluster."""


def cert_manager(selector_labels: Mapping[str, str]) -> dict[str, Any]:
    """cert-manager: its CRDs with the release (kept on uninstall), every component sized, metrics scraped."""
    return {
        "crds": {"enabled": True, "keep": True},
        "resources": SMALL,
        "webhook": {"resources": SMALL},
        "cainjector": {"resources": MEDIUM},
        "startupapicheck": {"resources": SMALL},
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": True, "labels": dict(selector_labels)}},
    }


def kserve_crd() -> dict[str, Any]:
    """kserve-crd: the CRDs only; nothing to configure."""
    return {}


def kserve(*, knative: bool) -> dict[str, Any]:
    """KServe's controller: the default deployment mode (Knative when Knative Serving is installed), sized.

    Every InferenceService of the platform names its mode in an annotation (k8s/endpoint.py); the
    default only matters for ones created by hand. The ingress class is Istio's, the mesh installed
    beside it.
    """
    return {
        "kserve": {
            "controller": {
                "deploymentMode": "Knative" if knative else "Standard",
                "resources": MEDIUM,
                "gateway": {"ingressGateway": {"className": "istio"}},
            },
        },
    }


def knative_operator() -> dict[str, Any]:
    """The Knative Operator and its webhook, sized."""
    return {"knative_operator": {"knative_operator": {"resources": MEDIUM}, "operator_webhook": {"resources": SMALL}}}


KNATIVE_WORKLOADS = ("controller", "activator", "autoscaler", "webhook", "net-istio-controller", "net-istio-webhook")
"""Knative Serving's deployments, each sized in the KnativeServing resource."""


def knative_serving(version: str) -> dict[str, Any]:
    """The KnativeServing spec: the pinned Serving version, networking through Istio (net-istio), every workload sized.

    The platform's endpoints are cluster-local unless allow_public_access; the Istio gateway in front
    of Knative is a ClusterIP Service (values.istio_gateway), so nothing here is public by default.
    """
    return {
        "version": version,
        "ingress": {"istio": {"enabled": True}},
        "config": {"network": {"ingress-class": KNATIVE_INGRESS_CLASS}},
        "workloads": [
            {"name": name, "resources": [{"container": name.rsplit("-", 1)[-1], **SMALL}]} for name in KNATIVE_WORKLOADS
        ],
    }


def argo_workflows(selector_labels: Mapping[str, str]) -> dict[str, Any]:
    """Argo Workflows: the server authenticates every request with the caller's Kubernetes token.

    ``authModes: [client]``: the UI and API act with the caller's own RBAC (the persona Roles),
    never with the server's ServiceAccount (mode ``server``, which lets anyone reaching the
    Service act as Argo). TLS on the server (``secure``), a ClusterIP Service, no Ingress.
    """
    return {
        "crds": {"install": True, "keep": True},
        "server": {
            "authModes": ["client"],
            "secure": True,
            "serviceType": "ClusterIP",
            "ingress": {"enabled": False},
            "resources": SMALL,
        },
        "controller": {
            "resources": MEDIUM,
            "metricsConfig": {"enabled": True},
            "serviceMonitor": {"enabled": True, "additionalLabels": dict(selector_labels)},
        },
        "executor": {"resources": SMALL},
    }


def argo_events(selector_labels: Mapping[str, str]) -> dict[str, Any]:
    """Argo Events: the controller sized and scraped; no webhook (it would take every EventSource's admission)."""
    return {
        "crds": {"install": True, "keep": True},
        "controller": {
            "resources": SMALL,
            "metrics": {
                "enabled": True,
                "serviceMonitor": {"enabled": True, "additionalLabels": dict(selector_labels)},
            },
        },
        "webhook": {"enabled": False},
    }


def _volume(storage_class: str, size: str) -> dict[str, Any]:
    return {
        "volumeClaimTemplate": {
            "spec": {
                "storageClassName": storage_class,
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
            }
        }
    }


def kube_prometheus_stack(storage_class: str | None) -> dict[str, Any]:
    """Prometheus, Alertmanager and prometheus-operator (CRDs installed), in ``monitoring``.

    Prometheus selects every PrometheusRule, ServiceMonitor and PodMonitor of the cluster (the
    ``*NilUsesHelmValues: false`` switches; the chart's default selects only its own release's),
    and Alertmanager every AlertmanagerConfig: the platform's objects in the team namespaces are
    picked up without selector labels. Grafana is off: its chart defaults to a well-known admin
    password, and the platform needs none of it. With ``storage_class`` (the platform's encrypted
    class) Prometheus and Alertmanager keep their data on volumes of it; else on the node.
    """
    prometheus_spec: dict[str, Any] = {
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "retention": PROMETHEUS_RETENTION,
        "resources": resources("500m", "2Gi", "2", "4Gi"),
    }
    alertmanager_spec: dict[str, Any] = {
        "alertmanagerConfigSelector": {},
        "alertmanagerConfigNamespaceSelector": {},
        "resources": SMALL,
    }
    if storage_class is not None:
        prometheus_spec["storageSpec"] = _volume(storage_class, PROMETHEUS_VOLUME)
        alertmanager_spec["storage"] = _volume(storage_class, ALERTMANAGER_VOLUME)
    return {
        "crds": {"enabled": True},
        "grafana": {"enabled": False},
        "prometheusOperator": {"resources": SMALL},
        "prometheus": {"service": {"type": "ClusterIP"}, "prometheusSpec": prometheus_spec},
        "alertmanager": {"service": {"type": "ClusterIP"}, "alertmanagerSpec": alertmanager_spec},
        "kube-state-metrics": {"resources": SMALL},
        "prometheus-node-exporter": {"resources": resources("10m", "32Mi", "200m", "64Mi")},
    }


def opencost(*, prometheus_url: str | None, cluster_id: str, selector_labels: Mapping[str, str]) -> dict[str, Any]:
    """OpenCost: reads the platform's Prometheus (kube-prometheus-stack's or ``prometheus_url``), which scrapes it."""
    prometheus: dict[str, Any] = (
        {"internal": {"enabled": False}, "external": {"enabled": True, "url": prometheus_url}}
        if prometheus_url is not None
        else {
            "internal": {
                "enabled": True,
                "serviceName": PROMETHEUS_SERVICE,
                "namespaceName": PROMETHEUS_NAMESPACE,
                "port": PROMETHEUS_PORT,
            },
            "external": {"enabled": False},
        }
    )
    return {
        "service": {"type": "ClusterIP"},
        "opencost": {
            "exporter": {"defaultClusterId": cluster_id, "resources": resources("10m", "128Mi", "500m", "1Gi")},
            "prometheus": prometheus,
            "metrics": {"serviceMonitor": {"enabled": True, "additionalLabels": dict(selector_labels)}},
            "ui": {"enabled": True, "resources": SMALL},
        },
    }


def istio_base() -> dict[str, Any]:
    """Istio's CRDs; ``defaultRevision: default`` so the validation webhook follows the default istiod."""
    return {"defaultRevision": "default"}


def istiod() -> dict[str, Any]:
    """istiod sized, with every sidecar sized too; Prometheus merge keeps the apps' own metrics scrapeable."""
    return {
        "resources": resources("100m", "512Mi", "1", "2Gi"),
        "global": {"proxy": {"resources": resources("50m", "128Mi", "1", "512Mi")}},
        "meshConfig": {"enablePrometheusMerge": True},
    }


def istio_gateway() -> dict[str, Any]:
    """The ingress gateway Knative routes through: a ClusterIP Service, so it is never exposed publicly by default."""
    return {"service": {"type": "ClusterIP"}, "resources": resources("50m", "128Mi", "1", "512Mi")}
