"""An endpoint's champion/challenger traffic router: an A/B split or a shadow mirror, on a stable Service.

The router owns the endpoint's address, a ClusterIP Service ``<name>`` on port 80 that selects the
champion's predictor pods (so a client outside the mesh still reaches the champion), and the route
that a service mesh applies to requests for that Service:

- ``gateway_api``: a Gateway API ``gateway.networking.k8s.io/v1`` ``HTTPRoute`` whose parentRef is the
  Service (mesh mode, GAMMA; standard channel since Gateway API v1.1). A/B: ``backendRefs[].weight``
  (percent x 100, so 12.5 % splits 8750:1250); shadow: all requests to the champion plus a
  ``RequestMirror`` filter to the challenger with ``percent`` (whole percent) or ``fraction`` (v1.4).
- ``istio``: a ``networking.istio.io/v1`` ``VirtualService`` for the Service's host (mesh only, no
  gateway). A/B: route ``weight`` (whole percent, summing to 100); shadow: ``mirror`` and
  ``mirrorPercentage.value``.

Both back ends discard the mirror's responses (the client gets the champion's answer only); the
challenger's KServe logger records what it answered. Backends are the KServe Standard-mode Services
``<isvc>-predictor`` (port 80), which is why endpoints with a challenger run in Standard mode.
Needs a mesh that implements the chosen API (Istio implements both; Linkerd implements GAMMA HTTPRoutes)
and sidecars (or ambient waypoints) on the clients.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import network, objects
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.types import PositivePercent

GATEWAY_API = "gateway.networking.k8s.io/v1"
ISTIO_API = "networking.istio.io/v1"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
PREDICTOR_PORT = 8080  # the port KServe's model server listens on; the predictor Service maps 80 to it
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ISVC_MAX = 63 - len("-predictor")  # the predictor Service name is a DNS label too
WEIGHT_SCALE = 100  # Gateway API weights are percent x 100: two decimals of a percent survive


def predictor_service(isvc: str) -> str:
    """The ClusterIP Service KServe creates for a Standard-mode InferenceService's predictor."""
    return f"{isvc}-predictor"


class TrafficRouterArgs(Spec):
    """Champion and challenger InferenceServices (Standard mode) and how traffic reaches the challenger."""

    namespace: StrInput
    champion: str = Field(pattern=DNS_LABEL, max_length=ISVC_MAX, description="The champion InferenceService.")
    challenger: str = Field(pattern=DNS_LABEL, max_length=ISVC_MAX, description="The challenger InferenceService.")
    mode: Literal["ab", "shadow"] = Field(description="ab: weighted split of live traffic; shadow: a mirrored copy.")
    percent: PositivePercent = Field(description="ab: challenger's share of requests; shadow: share mirrored, percent.")
    router: Literal["gateway_api", "istio"] = "gateway_api"
    client_namespaces: list[str] = Field(
        default_factory=list,
        description="Other namespaces whose pods call the endpoint (the endpoint's own namespace always may).",
    )

    @model_validator(mode="after")
    def _shares(self) -> TrafficRouterArgs:
        if self.mode == "ab" and self.percent >= 100:
            raise ValueError("an A/B challenger's percent must be below 100")
        if self.router == "istio" and self.mode == "ab" and self.percent != int(self.percent):
            raise ValueError(f"Istio route weights are whole percent, not {self.percent}")
        return self


class TrafficRouter(PlatformComponent[TrafficRouterArgs]):
    """The endpoint's Service plus its HTTPRoute or VirtualService; ``url`` is the address clients call."""

    TYPE_TOKEN = "mlops-infra:k8s:TrafficRouter"
    ARGS = TrafficRouterArgs

    def __init__(
        self,
        name: str,
        args: TrafficRouterArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        self.service_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        labels = {"app.kubernetes.io/name": self.service_name, "app.kubernetes.io/component": "traffic-router"}
        self.service = k8s.core.v1.Service(
            self.child_name("service"),
            metadata=objects.metadata(self.service_name, ns, labels),
            spec=objects.k8s_json(
                {
                    "type": "ClusterIP",
                    "selector": {ISVC_LABEL: a.champion},
                    "ports": [{"name": "http", "port": 80, "targetPort": PREDICTOR_PORT, "protocol": "TCP"}],
                }
            ),
            opts=self.child_opts(),
        )
        self.route: k8s.apiextensions.CustomResource
        if a.router == "gateway_api":
            self.route = k8s.apiextensions.CustomResource(
                self.child_name("route"),
                api_version=GATEWAY_API,
                kind="HTTPRoute",
                metadata=objects.metadata(self.service_name, ns, labels),
                spec=self._http_route(),
                opts=self.child_opts(depends_on=[self.service]),
            )
        else:
            self.route = k8s.apiextensions.CustomResource(
                self.child_name("route"),
                api_version=ISTIO_API,
                kind="VirtualService",
                metadata=objects.metadata(self.service_name, ns, labels),
                spec=self._virtual_service(ns),
                opts=self.child_opts(depends_on=[self.service]),
            )
        # Mesh traffic reaches the predictors from the clients' own pods (sidecar to sidecar).
        self.network_policy = network.policy(
            self,
            "allow-clients",
            f"{self.service_name}-clients-in",
            ns,
            labels,
            pods={"matchExpressions": [{"key": ISVC_LABEL, "operator": "In", "values": [a.champion, a.challenger]}]},
            ingress=[
                {
                    "from": [{"podSelector": {}}, *network.namespaces(*a.client_namespaces)],
                    "ports": network.ports(PREDICTOR_PORT),
                }
            ],
        )
        self.url: pulumi.Output[str] = concat("http://", self.service_name, ".", ns, ".svc.cluster.local")
        self.register_outputs(
            {"service": self.service_name, "url": self.url, "router": a.router, "mode": a.mode, "percent": a.percent}
        )

    def _http_route(self) -> dict[str, Any]:
        a = self.args
        champion = {"name": predictor_service(a.champion), "port": 80}
        challenger = {"name": predictor_service(a.challenger), "port": 80}
        parent = {"group": "", "kind": "Service", "name": self.service_name, "port": 80}
        if a.mode == "ab":
            challenger_weight = round(a.percent * WEIGHT_SCALE)
            rule: dict[str, Any] = {
                "backendRefs": [
                    {**champion, "weight": 100 * WEIGHT_SCALE - challenger_weight},
                    {**challenger, "weight": challenger_weight},
                ]
            }
        else:
            share: dict[str, Any] = (
                {"percent": int(a.percent)}
                if a.percent == int(a.percent)
                else {"fraction": {"numerator": round(a.percent * WEIGHT_SCALE), "denominator": 100 * WEIGHT_SCALE}}
            )
            rule = {
                "backendRefs": [champion],
                "filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": challenger, **share}}],
            }
        return {"parentRefs": [parent], "rules": [rule]}

    def _virtual_service(self, ns: StrInput) -> dict[str, Any]:
        a = self.args

        def host(service: str) -> pulumi.Output[str]:
            return concat(service, ".", ns, ".svc.cluster.local")

        def destination(isvc: str) -> dict[str, Any]:
            return {"host": host(predictor_service(isvc)), "port": {"number": 80}}

        if a.mode == "ab":
            route: dict[str, Any] = {
                "name": "ab",
                "route": [
                    {"destination": destination(a.champion), "weight": 100 - int(a.percent)},
                    {"destination": destination(a.challenger), "weight": int(a.percent)},
                ],
            }
        else:
            route = {
                "name": "shadow",
                "route": [{"destination": destination(a.champion), "weight": 100}],
                "mirror": destination(a.challenger),
                "mirrorPercentage": {"value": a.percent},
            }
        return {"hosts": [host(self.service_name)], "http": [route]}
