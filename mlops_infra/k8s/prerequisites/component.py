"""``ClusterPrerequisites``: the cluster-wide software the Kubernetes platform assumes, at pinned versions.

What it installs (Helm releases at the exact versions of :mod:`.charts`, values of :mod:`.values`):

- kube-prometheus-stack (prometheus-operator CRDs, Prometheus, Alertmanager), unless
  ``existing_prometheus_url`` names the cluster's own Prometheus;
- cert-manager (with its CRDs), for KServe's webhook certificates;
- Istio (base + istiod): the mesh that applies a challenger's route; with ``traffic_router:
  gateway_api`` also the Gateway API CRDs (standard channel, Istio implements GAMMA);
- with ``knative``: the Knative Operator, Istio's ingress gateway (ClusterIP) and a KnativeServing
  resource pinned to the same Knative version (Knative mode: scale to zero, canary percent);
- KServe (kserve-crd, then kserve-resources);
- with ``argo``: Argo Workflows and Argo Events;
- OpenCost, reading and scraped by that Prometheus.

Ordering: every chart that ships ServiceMonitors waits for kube-prometheus-stack (their CRD); istiod
waits for its CRDs (istio-base, Gateway API); KServe waits for its CRDs, cert-manager, istiod and
Knative Serving (the KnativeServing resource is awaited until Ready, ``pulumi.com/waitFor``).
Cluster-scoped and installed once per cluster: opt in from one stack only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs
from mlops_infra.k8s import objects
from mlops_infra.k8s.prerequisites import charts, values
from mlops_infra.k8s.prerequisites.charts import PinnedChart

HELM_TIMEOUT_SECONDS = 900  # a release (and its hooks) must be ready within 15 min
KNATIVE_SERVING_NAMESPACE = charts.KNATIVE_OPERATOR.namespace
"""Knative Serving installs into the KnativeServing resource's namespace, which KServe's defaults name."""
LABELS = {"app.kubernetes.io/part-of": "mlops-infra", "app.kubernetes.io/component": "cluster-prerequisites"}
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"


class ClusterPrerequisitesArgs(ComponentArgs):
    """Which optional parts the cluster needs; every version is fixed by the chart table."""

    knative: bool = Field(
        True,
        description="Install Knative Serving (operator, KnativeServing, Istio ingress gateway): endpoints in KServe's "
        "Knative mode (no challenger) need it. False: KServe defaults to Standard mode.",
    )
    argo: bool = Field(False, description="Install Argo Workflows and Argo Events (k8s.argo_enabled).")
    traffic_router: Literal["gateway_api", "istio"] = Field(
        "gateway_api",
        description="The challenger router's API: gateway_api adds the Gateway API CRDs (v1.4.1, standard channel) "
        "to Istio; istio uses Istio's VirtualService.",
    )
    existing_prometheus_url: str | None = Field(
        None,
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$",
        description="The cluster's own Prometheus (its prometheus-operator CRDs installed): kube-prometheus-stack is "
        "not installed and OpenCost reads this URL. None: install kube-prometheus-stack.",
    )
    storage_class: str | None = Field(
        None,
        pattern=_DNS_SUBDOMAIN,
        description="Encrypted StorageClass of Prometheus' and Alertmanager's volumes; None: node-local storage.",
    )
    cluster_id: str = Field(
        "default-cluster", min_length=1, max_length=63, description="The cluster's id in OpenCost's metrics."
    )
    selector_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels on the charts' ServiceMonitors, for a Prometheus that selects by label (release: ...).",
    )


class ClusterPrerequisites(PlatformComponent[ClusterPrerequisitesArgs]):
    """Pinned Helm releases of KServe, Knative, cert-manager, Argo, Prometheus, OpenCost and Istio/Gateway API."""

    TYPE_TOKEN = "mlops-infra:k8s:ClusterPrerequisites"
    ARGS = ClusterPrerequisitesArgs

    def __init__(
        self,
        name: str,
        args: ClusterPrerequisitesArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        labels = a.selector_labels
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        self.chart_versions: dict[str, str] = {}
        """Release name -> the exact chart version installed."""
        prometheus = (
            []
            if a.existing_prometheus_url is not None
            else [self._release(charts.KUBE_PROMETHEUS_STACK, values.kube_prometheus_stack(a.storage_class))]
        )
        self.prometheus_url: str = a.existing_prometheus_url or values.IN_CLUSTER_PROMETHEUS
        cert_manager = self._release(charts.CERT_MANAGER, values.cert_manager(labels), prometheus)
        self.gateway_api_crds: k8s.yaml.v2.ConfigFile | None = None
        mesh_crds: list[pulumi.Resource] = [self._release(charts.ISTIO_BASE, values.istio_base())]
        if a.traffic_router == "gateway_api":
            self.gateway_api_crds = k8s.yaml.v2.ConfigFile(
                self.child_name(charts.GATEWAY_API_CRDS.name),
                file=charts.GATEWAY_API_CRDS.url,
                opts=self.child_opts(),
            )
            mesh_crds.append(self.gateway_api_crds)
        istiod = self._release(charts.ISTIOD, values.istiod(), mesh_crds)
        serving = [istiod, *self._knative(istiod)] if a.knative else [istiod]
        kserve_crd = self._release(charts.KSERVE_CRD, values.kserve_crd())
        self._release(charts.KSERVE, values.kserve(knative=a.knative), [kserve_crd, cert_manager, *serving])
        if a.argo:
            self._release(charts.ARGO_WORKFLOWS, values.argo_workflows(labels), prometheus)
            self._release(charts.ARGO_EVENTS, values.argo_events(labels), prometheus)
        self._release(
            charts.OPENCOST,
            values.opencost(prometheus_url=a.existing_prometheus_url, cluster_id=a.cluster_id, selector_labels=labels),
            prometheus,
        )
        self.register_outputs(
            {
                "charts": self.chart_versions,
                "gatewayApiCrds": charts.GATEWAY_API_CRDS.version if self.gateway_api_crds is not None else None,
                "knativeServing": charts.KNATIVE_SERVING_VERSION if a.knative else None,
                "prometheusUrl": self.prometheus_url,
            }
        )

    def _release(
        self, chart: PinnedChart, chart_values: dict[str, Any], after: Sequence[pulumi.Resource] = ()
    ) -> k8s.helm.v3.Release:
        """One Helm release of a pinned chart, in its own namespace, after the resources it needs."""
        release = k8s.helm.v3.Release(
            self.child_name(chart.name),
            name=chart.name,
            chart=chart.chart_ref,
            version=chart.version,
            repository_opts=None if chart.oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
            namespace=chart.namespace,
            create_namespace=True,
            values=chart_values,
            atomic=True,  # a failed install or upgrade rolls back instead of leaving a half-installed release
            cleanup_on_fail=True,
            timeout=HELM_TIMEOUT_SECONDS,
            opts=self.child_opts(depends_on=list(after)),
        )
        self.releases[chart.name] = release
        self.chart_versions[chart.name] = chart.version
        return release

    def _knative(self, istiod: k8s.helm.v3.Release) -> list[pulumi.Resource]:
        """The Knative Operator, Istio's gateway for Knative and the KnativeServing resource at the pinned version."""
        operator = self._release(charts.KNATIVE_OPERATOR, values.knative_operator())
        gateway = self._release(charts.ISTIO_INGRESS_GATEWAY, values.istio_gateway(), [istiod])
        self.knative_serving = k8s.apiextensions.CustomResource(
            self.child_name("knative-serving"),
            api_version="operator.knative.dev/v1beta1",
            kind="KnativeServing",
            metadata=objects.metadata(
                "knative-serving",
                KNATIVE_SERVING_NAMESPACE,
                LABELS,
                annotations={"pulumi.com/waitFor": "condition=Ready"},
            ),
            spec=values.knative_serving(charts.KNATIVE_SERVING_VERSION),
            opts=self.child_opts(depends_on=[operator, gateway]),  # the operator's release creates the namespace
        )
        return [self.knative_serving]
