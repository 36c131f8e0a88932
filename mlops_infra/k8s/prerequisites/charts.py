"""The pinned table of what the Kubernetes platform needs installed in the cluster, and why.

One row per Helm release (plus the Gateway API CRD manifest, which upstream ships as a release
asset, not a chart). Every version is exact: no range, no ``latest``, no missing version, so a
``pulumi up`` next month installs what was planned and tested today.

Versions were checked on ``CHECKED`` against the charts' sources: kserve/kserve tag v0.20.0
(charts/kserve-crd, charts/kserve-resources; its quick-install pins cert-manager, Knative
Operator 1.21.1 and kube-prometheus-stack), argoproj/argo-helm (argo-workflows 1.0.14 is the last
chart of Argo Workflows v4.0.5, the version of the schema hera validates our workflows with),
prometheus-community/helm-charts (kube-prometheus-stack 88.5.3 ships prometheus-operator v0.93.1,
the version of the vendored AlertmanagerConfig schema), opencost/opencost-helm-chart, the Knative
Operator's Helm index and the Istio chart repository. The KServe, Gateway API and Istio versions
match the vendored CRD schemas the tests validate against (tests/k8s/crd_schemas: KServe v0.20.0,
Gateway API v1.4.1 standard channel, Istio 1.28.0).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_infra.policy.facts.helm import is_exact_version

__all__ = ["CHARTS", "CHECKED", "GATEWAY_API_CRDS", "PinnedChart", "PinnedManifest", "is_exact_version"]

CHECKED = "2026-12-02"
"""The date the versions below were last checked against upstream."""


@dataclass(frozen=True)
class PinnedChart:
    """One Helm release the platform needs: where the chart lives, its exact version and why it is installed."""

    name: str
    """The Helm release name (also the Pulumi child suffix)."""
    chart: str
    """The chart name in ``repo``; for an OCI registry, appended to it (``oci://REGISTRY/CHART``)."""
    repo: str
    """The chart repository URL (``https://``) or OCI registry (``oci://``)."""
    version: str
    """The exact chart version."""
    app_version: str
    """The application version the chart installs (its ``appVersion``)."""
    namespace: str
    """The namespace the release installs into (created by Helm)."""
    why: str
    """What of the platform needs it."""

    @property
    def oci(self) -> bool:
        return self.repo.startswith("oci://")

    @property
    def chart_ref(self) -> str:
        """What Helm's ``chart`` argument receives: ``oci://REGISTRY/CHART`` or the plain chart name."""
        return f"{self.repo.rstrip('/')}/{self.chart}" if self.oci else self.chart


CERT_MANAGER = PinnedChart(
    name="cert-manager",
    chart="cert-manager",
    repo="https://charts.jetstack.io",
    version="v1.19.1",
    app_version="v1.19.1",
    namespace="cert-manager",
    why="Issues the serving certificates of KServe's admission webhooks (KServe's chart creates cert-manager "
    "Certificates); the chart installs its own CRDs (crds.enabled).",
)
KSERVE_CRD = PinnedChart(
    name="kserve-crd",
    chart="kserve-crd",
    repo="oci://ghcr.io/kserve/charts",
    version="v0.20.0",
    app_version="v0.20.0",
    namespace="kserve",
    why="The InferenceService CRD (serving.kserve.io/v1beta1) every endpoint and challenger is; v0.20.0 is the "
    "version of the vendored schema (tests/k8s/crd_schemas/kserve-v1beta1-inferenceservice.yaml).",
)
KSERVE = PinnedChart(
    name="kserve",
    chart="kserve-resources",
    repo="oci://ghcr.io/kserve/charts",
    version="v0.20.0",
    app_version="v0.20.0",
    namespace="kserve",
    why="KServe's controller, which turns InferenceServices into Knative Services (Knative mode) or "
    "Deployments + HPAs (Standard mode, endpoints with a challenger). Since v0.16 the chart is kserve-resources.",
)
KNATIVE_OPERATOR = PinnedChart(
    name="knative-operator",
    chart="knative-operator",
    repo="https://knative.github.io/operator",
    version="v1.21.1",
    app_version="1.21.1",
    namespace="knative-serving",
    why="Installs Knative Serving (through a KnativeServing resource pinned to the same version), which KServe's "
    "Knative mode needs: scale to zero, canaryTrafficPercent, concurrency/rps autoscaling. Only with endpoints "
    "in Knative mode. Knative Serving itself has no Helm chart; the operator's chart is the supported one. "
    "The operator runs in knative-serving (the namespace its release creates), where Serving installs beside it.",
)
ARGO_WORKFLOWS = PinnedChart(
    name="argo-workflows",
    chart="argo-workflows",
    repo="https://argoproj.github.io/argo-helm",
    version="1.0.14",
    app_version="v4.0.5",
    namespace="argo",
    why="Runs the training CronWorkflow and WorkflowTemplate (train -> evaluate -> gated register) and batch "
    "scoring when k8s.argo_enabled; v4.0.5 is the schema version hera validates them with.",
)
ARGO_EVENTS = PinnedChart(
    name="argo-events",
    chart="argo-events",
    repo="https://argoproj.github.io/argo-helm",
    version="2.4.22",
    app_version="v1.9.10",
    namespace="argo-events",
    why="EventSources and Sensors that start Argo Workflows on external events (a webhook, a bucket "
    "notification) when k8s.argo_enabled. The platform creates no Argo Events objects itself today (its "
    "triggers are CronWorkflows and the drift detector); installed so event-driven retraining can be wired.",
)
KUBE_PROMETHEUS_STACK = PinnedChart(
    name="kube-prometheus-stack",
    chart="kube-prometheus-stack",
    repo="https://prometheus-community.github.io/helm-charts",
    version="88.5.3",
    app_version="v0.93.1",
    namespace="monitoring",
    why="prometheus-operator (PrometheusRule, ServiceMonitor, AlertmanagerConfig CRDs), Prometheus and "
    "Alertmanager: the endpoint, drift, quota and budget alerts, the canary guards' metrics "
    "(prometheus-operated.monitoring.svc:9090). Not installed when the cluster already runs a Prometheus.",
)
OPENCOST = PinnedChart(
    name="opencost",
    chart="opencost",
    repo="https://opencost.github.io/opencost-helm-chart",
    version="2.5.17",
    app_version="1.120.1",
    namespace="opencost",
    why="Prices every node and container per hour; the namespace's spend budget alerts read its metrics "
    "(Kubernetes has no billing API).",
)
ISTIO_BASE = PinnedChart(
    name="istio-base",
    chart="base",
    repo="https://istio-release.storage.googleapis.com/charts",
    version="1.28.0",
    app_version="1.28.0",
    namespace="istio-system",
    why="Istio's CRDs (VirtualService networking.istio.io/v1, 1.28.0 like the vendored schema) and cluster roles.",
)
ISTIOD = PinnedChart(
    name="istiod",
    chart="istiod",
    repo="https://istio-release.storage.googleapis.com/charts",
    version="1.28.0",
    app_version="1.28.0",
    namespace="istio-system",
    why="The mesh that applies an endpoint's challenger route: an Istio VirtualService (traffic_router istio) or "
    "a Gateway API HTTPRoute bound to a Service (traffic_router gateway_api: Istio implements GAMMA); also "
    "Knative Serving's networking layer (net-istio).",
)
ISTIO_INGRESS_GATEWAY = PinnedChart(
    name="istio-ingressgateway",
    chart="gateway",
    repo="https://istio-release.storage.googleapis.com/charts",
    version="1.28.0",
    app_version="1.28.0",
    namespace="istio-system",
    why="The gateway pods Knative's net-istio routes through (knative-local-gateway); a ClusterIP Service, "
    "never a public LoadBalancer. Only with endpoints in Knative mode.",
)


@dataclass(frozen=True)
class PinnedManifest:
    """CRDs upstream publishes as a versioned release asset instead of a chart."""

    name: str
    url: str
    version: str
    namespace: str | None
    why: str


GATEWAY_API_CRDS = PinnedManifest(
    name="gateway-api-crds",
    url="https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.1/standard-install.yaml",
    version="v1.4.1",
    namespace=None,
    why="The Gateway API CRDs, standard channel (HTTPRoute gateway.networking.k8s.io/v1 with RequestMirror "
    "fraction): traffic_router gateway_api; v1.4.1 like the vendored schema. Upstream ships them as a "
    "release manifest, not a chart.",
)

CHARTS: tuple[PinnedChart, ...] = (
    CERT_MANAGER,
    KSERVE_CRD,
    KSERVE,
    KNATIVE_OPERATOR,
    ARGO_WORKFLOWS,
    ARGO_EVENTS,
    KUBE_PROMETHEUS_STACK,
    OPENCOST,
    ISTIO_BASE,
    ISTIOD,
    ISTIO_INGRESS_GATEWAY,
)
"""Every chart the platform may install, in install order."""

KNATIVE_SERVING_VERSION = "1.21.1"
"""The Knative Serving version the KnativeServing resource asks the operator for (the operator's own version)."""
