"""Seldon Core v2 serving of one endpoint: a ``Model`` on its own ``Server``, an ``Experiment`` for a challenger.

The Kubernetes serving option besides KServe (docs/components/k8s-seldon.md; Seldon Core v2 is licensed
under the Business Source License 1.1 since v2.7.0, read the page before choosing it). Seldon's
``mlops.seldon.io/v1alpha1`` resources, as of Seldon Core 2.10.2 (the vendored CRD schemas):

- ``Server`` ``<name>``: a StatefulSet of the ``mlserver`` or ``triton`` ServerConfig that Seldon's
  install ships, with ``replicas``/``minReplicas``/``maxReplicas`` and a ``podSpec`` override that
  Seldon merges onto the ServerConfig's pod spec (containers by name, volumes appended): the
  hardened pod of :mod:`mlops_infra.k8s.workload` (non-root uid 1000, the uid Seldon's images run
  as, RuntimeDefault seccomp, no automounted token, every container read-only with an emptyDir
  ``/tmp``, no privilege escalation, all capabilities dropped, CPU/memory requests and limits).
  Seldon's agent container lists EndpointSlices through the Kubernetes API, so it alone mounts an
  expiring projected token; the Server is annotated ``mlops-infra/uses-kubernetes-api`` and its
  ServiceAccount's Role allows exactly that.
- ``Model`` ``<name>``: ``storageUri``, ``requirements`` (the capability of the model format),
  ``memory``, ``server`` (pinned to its own Server), ``replicas`` and, when they differ,
  ``minReplicas``/``maxReplicas`` for Seldon's model autoscaling.
- NetworkPolicies: the Server pods accept traffic from their own namespace (where a SeldonRuntime runs
  Seldon's scheduler and Envoy; Seldon Core v2 needs one per namespace that holds Models) and from
  ``client_namespaces``, reach that runtime, and reach object storage over HTTPS.
- With a challenger, a second Model and Server ``<name>-challenger`` and an ``Experiment`` ``<name>``
  whose ``default`` is the champion: A/B is ``candidates`` weighted ``100 - percent`` and ``percent``,
  shadow is the champion at weight 100 plus ``mirror`` with ``percent`` (Seldon discards the mirror's
  answers). Requests for the champion's model name are then split or mirrored by Seldon's Envoy.
  A canary of a new version is the same Experiment with the new version as challenger.

Not realized here, so refused or documented: scale to zero (Seldon documents no idle scale to zero for
Models; KServe's Knative mode has it), fractional
percents (Experiment weights and mirror percent are integers), payload capture (``Model.spec.logger``
is in the CRD but the 2.10 scheduler does not apply it; payloads reach Kafka only through a Pipeline,
which this component does not build), hence the explicit ``allow_no_data_capture`` in protected environments.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import current_platform
from mlops_infra.conventions.markers import NO_DATA_CAPTURE_MARKER
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.endpoint import _check_storage_uri, _when_known
from mlops_infra.k8s.in_cluster_controller import API_CLIENT_ANNOTATIONS, api_token_mount, identity
from mlops_infra.k8s.quantity import quantity
from mlops_infra.k8s.workload import ComputeResources, Mount, container_security_context, pod_spec_fields, scratch_mount
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec, StrInput, Switch, field_error
from mlops_infra.spec.types import ObjectUri, PositivePercent

SELDON_API = "mlops.seldon.io/v1alpha1"
SELDON_VERSION = "2.10.2"  # the release whose CRD schemas the tests validate against
SERVER_LABEL = "seldon-server-name"  # Seldon's operator puts it on every pod of a Server
SELDON_UID = 1000  # the uid (and fsGroup of the model volume) Seldon's ServerConfigs run as
METRICS_PORT = 9006  # the agent's /metrics (port name "metrics"; Seldon's agent PodMonitor scrapes it)
MLSERVER, TRITON = "mlserver", "triton"
# Model format -> the ServerConfig whose SELDON_SERVER_CAPABILITIES lists it (Seldon 2.10.2 components.yaml).
SERVER_FOR_FORMAT: dict[str, str] = {
    "sklearn": MLSERVER,
    "xgboost": MLSERVER,
    "lightgbm": MLSERVER,
    "mlflow": MLSERVER,
    "huggingface": MLSERVER,
    "onnx": TRITON,
    "pytorch": TRITON,
    "tensorflow": TRITON,
}
# The sidecars of both ServerConfigs: rclone downloads artifacts, the agent registers models with the scheduler.
SIDECARS: dict[str, ComputeResources] = {
    "rclone": ComputeResources(cpu_request="50m", cpu_limit="500m", memory_request="128Mi", memory_limit="256Mi"),
    "agent": ComputeResources(cpu_request="200m", cpu_limit="1", memory_request="1Gi", memory_limit="1Gi"),
}
AGENT_RULES = [  # the agent waits for its server's EndpointSlice (List/Watch); nothing else
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}
]
Uri = Annotated[ObjectUri, AfterValidator(_when_known(_check_storage_uri))]


class SeldonChallenger(Spec):
    """A second model beside the champion: an A/B split or a shadow (mirror), in whole percent."""

    storage_uri: Uri = Field(description="The challenger's (or new version's) artifact; may be an Output.")
    model_format: str | None = Field(None, description="Its format when it differs from the champion's.")
    mode: Literal["ab", "shadow"] = "ab"
    percent: PositivePercent = Field(10, description="ab: share of requests answered; shadow: share mirrored.")
    resources: ComputeResources | None = Field(None, description="Its model server's resources; None: the champion's.")

    @model_validator(mode="after")
    def _whole(self) -> SeldonChallenger:
        if self.percent != int(self.percent):
            raise ValueError(f"Seldon Experiment weights and mirror percent are integers, not {self.percent}")
        if self.mode == "ab" and self.percent >= 100:
            raise ValueError("an A/B challenger's percent must be below 100 (100 replaces the champion)")
        return self


class SeldonEndpointArgs(Spec):
    """One model served by Seldon Core v2 on its own Server; replicas are model (and server) replicas."""

    namespace: StrInput
    model_format: str = Field(description=f"One of {', '.join(SERVER_FOR_FORMAT)} (the Model's requirement).")
    storage_uri: Uri = Field(description="Model location (s3://, gs://, ...; read by rclone); may be an Output.")
    server_config: Literal["mlserver", "triton"] | None = Field(
        None, description="The ServerConfig the Server runs; None: the one that serves model_format."
    )
    memory: Annotated[str, AfterValidator(quantity)] | None = Field(
        None, description="The loaded model's memory (Seldon schedules by it); None: the server's memory request."
    )
    min_replicas: int = Field(1, ge=1, le=100, description="At least 1: no scale to zero on Seldon here.")
    max_replicas: int = Field(3, ge=1, le=100)
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="500m", cpu_limit="1", memory_request="1Gi", memory_limit="2Gi"
        ),
        description="The model server container (mlserver or triton).",
    )
    challenger: SeldonChallenger | None = None
    allow_no_data_capture: Switch = Field(
        False, description="Protected environments: acknowledge that Seldon Models record no payloads."
    )
    client_namespaces: list[str] = Field(
        default_factory=list,
        description="Other namespaces whose pods may call the servers directly (Seldon's runtime, which routes "
        "to them, runs in the endpoint's own namespace and is always allowed).",
    )
    https_egress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    service_account_annotations: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fits(self) -> SeldonEndpointArgs:
        formats = [self.model_format] + ([self.challenger.model_format] if self.challenger is not None else [])
        for model_format in formats:
            if model_format is not None and model_format not in SERVER_FOR_FORMAT:
                raise ValueError(f"model_format {model_format!r} is not served by Seldon's mlserver or triton here")
        if self.server_config is not None and self.server_config != SERVER_FOR_FORMAT[self.model_format]:
            raise ValueError(
                f"server_config {self.server_config} does not advertise {self.model_format} "
                f"({SERVER_FOR_FORMAT[self.model_format]} does)"
            )
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas {self.max_replicas} is below min_replicas {self.min_replicas}")
        return self


class SeldonEndpoint(PlatformComponent[SeldonEndpointArgs]):
    """Seldon Server(s), Model(s), the Experiment of a challenger, ServiceAccount, Role and NetworkPolicies."""

    TYPE_TOKEN = "mlops-infra:k8s:SeldonEndpoint"
    ARGS = SeldonEndpointArgs

    def __init__(
        self,
        name: str,
        args: SeldonEndpointArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        validated = validate_args(SeldonEndpointArgs, args)
        context = current_platform()
        if context.protected and not validated.allow_no_data_capture:
            raise field_error(
                SeldonEndpointArgs,
                ("allow_no_data_capture",),
                f"data capture is required in the protected environment {context.environment!r} and Seldon Core v2 "
                "records no Model payloads (Model.spec.logger is not applied by the scheduler): use the KServe "
                "Endpoint, or set allow_no_data_capture=True to accept serving without capture",
            )
        super().__init__(name, validated, opts)
        a = self.args
        ns = a.namespace
        self.model_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        part_of = self.platform.settings.project
        self.labels: dict[str, str] = lbl.standard_labels(a.model_format, self.model_name, lbl.PREDICTOR, part_of)
        self.service_account, _, binding = identity(
            self, self.model_name, ns, self.labels, AGENT_RULES, annotations=a.service_account_annotations
        )
        self.server = self._server(
            "server", self.model_name, a.server_config or SERVER_FOR_FORMAT[a.model_format], a.resources, [binding]
        )
        self.model = self._model("model", self.model_name, a.model_format, a.storage_uri, a.resources, self.server)
        self.servers = [self.model_name]
        self.challenger_model: k8s.apiextensions.CustomResource | None = None
        self.experiment: k8s.apiextensions.CustomResource | None = None
        challenger = a.challenger
        if challenger is not None:
            challenger_name = f"{self.model_name[: 63 - len('-challenger')]}-challenger"
            resources = challenger.resources or a.resources
            model_format = challenger.model_format or a.model_format
            server = self._server(
                "challenger-server", challenger_name, SERVER_FOR_FORMAT[model_format], resources, [binding]
            )
            self.challenger_model = self._model(
                "challenger-model", challenger_name, model_format, challenger.storage_uri, resources, server
            )
            self.servers.append(challenger_name)
            self.experiment = k8s.apiextensions.CustomResource(
                self.child_name("experiment"),
                api_version=SELDON_API,
                kind="Experiment",
                metadata=objects.metadata(self.model_name, ns, self.labels),
                spec=experiment_spec(self.model_name, challenger_name, challenger.mode, int(challenger.percent)),
                opts=self.child_opts(depends_on=[self.model, self.challenger_model]),
            )
        self.network_policies = self._network_policies(ns, part_of)
        # Seldon's Envoy (Service seldon-mesh:80 of the namespace's SeldonRuntime) routes by the seldon-model header.
        self.url: pulumi.Output[str] = concat(
            "http://seldon-mesh.", ns, ".svc.cluster.local/v2/models/", self.model_name
        )
        self.register_outputs({"model": self.model_name, "servers": self.servers, "url": self.url})

    def _server(
        self,
        suffix: str,
        name: str,
        server_config: str,
        resources: ComputeResources,
        depends_on: list[pulumi.Resource],
    ) -> k8s.apiextensions.CustomResource:
        a = self.args
        return k8s.apiextensions.CustomResource(
            self.child_name(suffix),
            api_version=SELDON_API,
            kind="Server",
            metadata=objects.metadata(name, a.namespace, self.labels, annotations=API_CLIENT_ANNOTATIONS),
            spec={
                "serverConfig": server_config,
                "replicas": a.min_replicas,
                "minReplicas": a.min_replicas,
                "maxReplicas": a.max_replicas,
                "podSpec": server_pod_spec(self.model_name, server_config, resources),
            },
            opts=self.child_opts(depends_on=depends_on),
        )

    def _model(  # noqa: PLR0917 - champion or challenger
        self,
        suffix: str,
        name: str,
        model_format: str,
        storage_uri: StrInput,
        resources: ComputeResources,
        server: k8s.apiextensions.CustomResource,
    ) -> k8s.apiextensions.CustomResource:
        a = self.args
        spec: dict[str, Any] = {
            "storageUri": storage_uri,
            "requirements": [model_format],
            "memory": a.memory or resources.memory_request,
            "server": name,
            "replicas": a.min_replicas,
        }
        if a.max_replicas > a.min_replicas:  # Seldon's model autoscaling between the two
            spec |= {"minReplicas": a.min_replicas, "maxReplicas": a.max_replicas}
        return k8s.apiextensions.CustomResource(
            self.child_name(suffix),
            api_version=SELDON_API,
            kind="Model",
            metadata=objects.metadata(
                name,
                a.namespace,
                self.labels,
                annotations={NO_DATA_CAPTURE_MARKER: "true"} if a.allow_no_data_capture else None,
            ),
            spec=spec,
            opts=self.child_opts(depends_on=[server]),
        )

    def _no_capture_annotation(self) -> dict[str, str] | None:
        """The explicit "serving without payload capture" marker when ``allow_no_data_capture`` is set."""
        return {NO_DATA_CAPTURE_MARKER: "true"} if self.args.allow_no_data_capture else None

    def _network_policies(self, ns: StrInput, part_of: str) -> list[k8s.networking.v1.NetworkPolicy]:
        a = self.args
        pods = {"matchExpressions": [{"key": SERVER_LABEL, "operator": "In", "values": list(self.servers)}]}
        # The namespace's SeldonRuntime: scheduler, Envoy, gateways.
        runtime: list[dict[str, Any]] = [{"podSelector": {}}]
        return [
            network.policy(
                self,
                "allow-seldon",
                f"{self.model_name}-seldon-in",
                ns,
                self.labels,
                pods=pods,
                ingress=[{"from": [*runtime, *network.namespaces(*a.client_namespaces)]}],
            ),
            network.policy(
                self,
                "allow-scheduler",
                f"{self.model_name}-runtime-out",
                ns,
                self.labels,
                pods=pods,
                egress=[{"to": runtime}],
            ),
            network.https_egress(
                self, "allow-https", f"{self.model_name}-https", ns, self.labels, pods=pods, cidrs=a.https_egress_cidrs
            ),
        ]


def experiment_spec(champion: str, challenger: str, mode: str, percent: int) -> dict[str, Any]:
    """A/B: weighted candidates (whole percent, summing to 100); shadow: the champion alone plus a mirror."""
    if mode == "ab":
        candidates = [{"name": champion, "weight": 100 - percent}, {"name": challenger, "weight": percent}]
        return {"default": champion, "resourceType": "model", "candidates": candidates}
    return {
        "default": champion,
        "resourceType": "model",
        "candidates": [{"name": champion, "weight": 100}],
        "mirror": {"name": challenger, "percent": percent},
    }


def server_pod_spec(service_account: str, server_config: str, resources: ComputeResources) -> dict[str, Any]:
    """The Server's ``podSpec`` override: the hardened pod, each ServerConfig container hardened by name.

    No images: the ServerConfig supplies them (Seldon merges containers by name). The agent alone
    mounts an expiring API token (it lists EndpointSlices).
    """
    spec = pod_spec_fields(
        service_account_name=service_account, run_as_user=SELDON_UID, fs_group=SELDON_UID, gpus=resources.gpus
    )
    token = api_token_mount()
    sizes = {**SIDECARS, server_config: resources}
    containers = []
    volumes: list[dict[str, Any]] = [token.volume()]
    for name, size in sizes.items():
        scratch = scratch_mount(name, "/tmp")  # noqa: S108 - emptyDir scratch
        mounts: list[Mount] = [scratch, token] if name == "agent" else [scratch]
        containers.append(
            {
                "name": name,
                "resources": size.wire(),
                "securityContext": container_security_context(),
                "volumeMounts": [mount.wire() for mount in mounts],
            }
        )
        volumes.append(scratch.volume())
    return {**spec, "containers": containers, "volumes": volumes}
