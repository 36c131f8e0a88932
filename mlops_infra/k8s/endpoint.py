"""A KServe ``serving.kserve.io/v1beta1`` InferenceService with canary, autoscaling and data capture.

The predictor runs the hardened pod spec (non-root, read-only root FS with an emptyDir
/tmp, no token, RuntimeDefault seccomp). ``canary_percent`` sends that share of traffic
(whole percent) to the newest revision on an update; ``min_replicas: 0`` scales to zero when idle.
Both need Knative mode, as does scaling on concurrency or rps; Standard mode (plain Deployment +
HPA) scales on cpu or memory only, and rolls out a new model as a ``canary`` (KServe 0.20
``spec.canary``: a second predictor with its own model and fixed replicas taking
``traffic_percent`` of requests). The mode names are KServe's current ones (Knative, Standard);
the pre-0.16 names Serverless and RawDeployment are accepted, written as the new names, with a
deprecation warning: KServe 0.20 rejects an update whose annotation differs from the normalized
mode it recorded. The ``logger`` (mode ``all``) sends
every request and response to ``logger.url`` for data capture and drift detection; it is
required in protected environments unless ``allow_no_data_capture`` says otherwise.
With ``min_replicas >= 2`` a PodDisruptionBudget keeps all but one replica through drains.
``storage_uri`` and the logger URL may come from another resource (a ``pulumi.Output``, such as
an AWS bucket's URI): they are checked when known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.conventions.context import current_platform
from mlops_infra.conventions.markers import ALLOW_PUBLIC_MARKER
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.workload import ComputeResources, container_security_context, pod_spec_fields, scratch_mount
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec, StrInput, Switch, field_error
from mlops_infra.spec.types import ObjectUri, Percent, check_object_uri

KSERVE_API = "serving.kserve.io/v1beta1"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
ISVC_LABEL = "serving.kserve.io/inferenceservice"  # KServe puts it on every predictor pod
KNATIVE_METRICS = ("concurrency", "rps")
KNATIVE, STANDARD = "Knative", "Standard"
KSERVE_CONTAINER = "kserve-container"  # the name KServe gives a predictor's model container
# KServe < 0.16 names -> current names (KServe's ParseDeploymentMode does the same).
LEGACY_MODES = {"Serverless": KNATIVE, "RawDeployment": STANDARD}
DeploymentMode = Literal["Knative", "Standard", "Serverless", "RawDeployment"]


def current_mode(mode: str | None) -> str | None:
    """``Serverless`` -> ``Knative``, ``RawDeployment`` -> ``Standard``; current names unchanged."""
    return LEGACY_MODES.get(mode, mode) if mode is not None else None


KSERVE_VISIBILITY_LABEL = "networking.kserve.io/visibility"


def _check_logger_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError("must be an http(s):// URL without credentials")
    if parts.scheme == "http" and not parts.hostname.endswith(".svc.cluster.local"):
        raise ValueError("plain http is only allowed to in-cluster services (*.svc.cluster.local)")
    return value


def _check_storage_uri(value: str) -> str:
    check_object_uri(value)
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValueError("must not embed credentials")
    return value


def _when_known(check: Callable[[str], str]) -> Callable[[StrInput], StrInput]:
    def validate(value: StrInput) -> StrInput:
        return check(value) if isinstance(value, str) else value

    return validate


class LoggerSettings(Spec):
    """Data capture: KServe posts every request and response (CloudEvents) to ``url``."""

    url: Annotated[StrInput, AfterValidator(_when_known(_check_logger_url))] = Field(
        description="http(s) sink, e.g. a Knative broker or a capture service in the cluster; may be an Output."
    )
    mode: Literal["all", "request", "response"] = "all"
    egress_namespace: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Namespace of the sink, for the egress NetworkPolicy when url is only known at deploy time.",
    )


class StandardCanary(Spec):
    """A Standard-mode canary (KServe 0.20 ``spec.canary``): a second predictor serving a new model.

    It runs ``replicas`` fixed pods (no autoscaling) as Deployment ``<service>-<name>-predictor`` and
    takes ``traffic_percent`` of requests; 0 deploys it dark. Promote by making ``storage_uri`` the
    endpoint's and removing the canary.
    """

    name: str = Field(
        "canary", pattern=r"^[a-z]([-a-z0-9]{0,18}[a-z0-9])?$", description="Predictor name (<= 20 characters)."
    )
    storage_uri: Annotated[ObjectUri, AfterValidator(_when_known(_check_storage_uri))] = Field(
        description="The new model version's location (s3://, gs://, pvc://, oci://, https://); may be an Output."
    )
    traffic_percent: int = Field(ge=0, le=100, description="Whole percent of requests to the canary; 0 = dark.")
    replicas: int = Field(1, ge=1, le=100, description="Fixed replicas; at most the endpoint's min_replicas.")


class EndpointArgs(Spec):
    """Settings of one InferenceService."""

    namespace: StrInput
    model_format: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$", description="sklearn, xgboost, onnx, ...")
    model_format_version: str | None = Field(None, pattern=r"^[0-9][0-9a-z.]*$")
    storage_uri: Annotated[ObjectUri, AfterValidator(_when_known(_check_storage_uri))] = Field(
        description="Model location: s3://, gs://, pvc://, oci:// or https://; may be another resource's Output."
    )
    runtime: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="ServingRuntime name.")
    protocol_version: Literal["v1", "v2"] | None = None
    deployment_mode: DeploymentMode = Field(
        "Knative", description="Knative or Standard (KServe's names; Serverless/RawDeployment are deprecated aliases)."
    )
    canary_percent: Percent | None = Field(
        None, description="Knative: share of traffic for a new revision, whole percent (canaryTrafficPercent)."
    )
    min_replicas: int = Field(1, ge=0, le=100, description="0 scales to zero when idle (Knative only).")
    max_replicas: int = Field(3, ge=1, le=100)
    canary: StandardCanary | None = Field(None, description="Standard: a canary predictor (KServe 0.20 spec.canary).")
    scale_metric: Literal["concurrency", "rps", "cpu", "memory"] = "concurrency"
    scale_target: int = Field(10, ge=1, le=10_000, description="Target per replica: in-flight requests, rps or % use.")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="500m", cpu_limit="1", memory_request="1Gi", memory_limit="2Gi"
        )
    )
    logger: LoggerSettings | None = None
    allow_no_data_capture: Switch = Field(
        False, description="Explicit opt-out of the logger in protected environments."
    )
    gateway_namespaces: list[str] = Field(
        default_factory=lambda: ["knative-serving", "istio-system"],
        description="Namespaces of the ingress gateway / activator that may call the predictor.",
    )
    https_egress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    allow_public_access: Switch = Field(
        False, description="Expose through the cluster's external ingress gateway (default: cluster-local only)."
    )
    service_account_annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("canary_percent")
    @classmethod
    def _canary_needs_serverless(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value != int(value):
            raise ValueError(f"KServe splits traffic in whole percent, not {value}")
        if value is not None and current_mode(info.data.get("deployment_mode")) == STANDARD:
            raise ValueError(
                "canary_percent is Knative traffic splitting; in deployment_mode Standard set canary "
                "(a canary predictor, KServe 0.20 spec.canary) instead"
            )
        return value

    @field_validator("min_replicas")
    @classmethod
    def _zero_needs_serverless(cls, value: int, info: ValidationInfo) -> int:
        if value == 0 and current_mode(info.data.get("deployment_mode")) == STANDARD:
            raise ValueError("scale to zero (0) needs deployment_mode Knative")
        return value

    @field_validator("max_replicas")
    @classmethod
    def _at_least_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_replicas")
        if minimum is not None and minimum > value:
            raise ValueError(f"max_replicas {value} is below min_replicas {minimum}")
        return value

    @field_validator("canary")
    @classmethod
    def _canary_needs_standard(cls, value: StandardCanary | None, info: ValidationInfo) -> StandardCanary | None:
        if value is None:
            return value
        if current_mode(info.data.get("deployment_mode")) != STANDARD:
            raise ValueError(
                "a canary predictor (spec.canary) needs deployment_mode Standard; in Knative mode use canary_percent"
            )
        minimum = info.data.get("min_replicas")
        if minimum is not None and value.replicas > max(minimum, 1):
            raise ValueError(f"canary.replicas {value.replicas} exceeds the endpoint's min_replicas {minimum}")
        return value

    @field_validator("scale_metric")
    @classmethod
    def _metric_fits_mode(cls, value: str, info: ValidationInfo) -> str:
        if value in KNATIVE_METRICS and current_mode(info.data.get("deployment_mode")) == STANDARD:
            raise ValueError("deployment_mode Standard (HPA) scales on cpu or memory only")
        return value

    @field_validator("scale_target")
    @classmethod
    def _percent_for_utilisation(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("scale_metric") in ("cpu", "memory") and value > 100:
            raise ValueError("cpu/memory targets are utilisation percent (1-100)")
        return value


class Endpoint(PlatformComponent[EndpointArgs]):
    """An InferenceService (+ ServiceAccount, PDB, NetworkPolicies); ``url`` is its cluster-local address."""

    TYPE_TOKEN = "mlops-infra:k8s:Endpoint"
    ARGS = EndpointArgs

    def __init__(
        self, name: str, args: EndpointArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validated = validate_args(EndpointArgs, args)
        context = current_platform()
        if context.protected and validated.logger is None and not validated.allow_no_data_capture:
            raise field_error(
                EndpointArgs,
                ("logger",),
                f"data capture is required in the protected environment {context.environment!r}: "
                "set logger.url, or allow_no_data_capture=True to opt out explicitly",
            )
        if validated.deployment_mode in LEGACY_MODES:
            pulumi.log.warn(
                f"Endpoint {name!r}: deployment_mode {validated.deployment_mode!r} is KServe's deprecated name; use "
                f"{LEGACY_MODES[validated.deployment_mode]!r} (written to the annotation either way)."
            )
        super().__init__(name, validated, opts)
        a = self.args
        ns = a.namespace
        self.isvc_name: str = self.platform.name(name, naming.K8S_LABEL_NAME)
        part_of = self.platform.settings.project
        self.labels: dict[str, str] = lbl.standard_labels(a.model_format, self.isvc_name, lbl.PREDICTOR, part_of)
        self.service_account = objects.service_account(
            self, "sa", self.isvc_name, ns, self.labels, annotations=a.service_account_annotations
        )
        self.inference_service = k8s.apiextensions.CustomResource(
            self.child_name("isvc"),
            api_version=KSERVE_API,
            kind="InferenceService",
            metadata=objects.metadata(self.isvc_name, ns, self._exposure_labels(), annotations=self._annotations()),
            spec=self._spec(),
            opts=self.child_opts(depends_on=[self.service_account]),
        )
        self.pod_disruption_budget = None
        if a.min_replicas >= 2:
            self.pod_disruption_budget = k8s.policy.v1.PodDisruptionBudget(
                self.child_name("pdb"),
                metadata=objects.metadata(self.isvc_name, ns, self.labels),
                spec=objects.k8s_json({"maxUnavailable": 1, "selector": {"matchLabels": {ISVC_LABEL: self.isvc_name}}}),
                opts=self.child_opts(),
            )
        self.network_policies = self._network_policies(ns, part_of)
        self.url: pulumi.Output[str] = concat("http://", self.isvc_name, ".", ns, ".svc.cluster.local")
        self.register_outputs({"name": self.isvc_name, "url": self.url})

    def _exposure_labels(self) -> dict[str, str]:
        """Cluster-local unless public exposure was explicitly allowed (KServe's visibility label)."""
        if self.args.allow_public_access:
            return dict(self.labels)
        return {**self.labels, KSERVE_VISIBILITY_LABEL: "cluster-local"}

    def _annotations(self) -> dict[str, str]:
        mode = current_mode(self.args.deployment_mode) or KNATIVE
        annotations: dict[str, str] = {DEPLOYMENT_MODE_ANNOTATION: mode}
        if self.args.allow_public_access:
            # The explicit, reviewable marker the no-public-access policy looks for.
            annotations[ALLOW_PUBLIC_MARKER] = "true"
        return annotations

    def _spec(self) -> dict[str, Any]:
        """The stable predictor, and in Standard mode the canary predictor with its share of traffic."""
        spec: dict[str, Any] = {"predictor": self._predictor()}
        canary = self.args.canary
        if canary is not None:
            predictor = {
                k: v
                for k, v in self._predictor(canary.storage_uri).items()
                if k not in ("maxReplicas", "scaleMetric", "scaleTarget", "canaryTrafficPercent")
            }
            predictor |= {"name": canary.name, "minReplicas": canary.replicas}
            # The CRD requires the canary model's container name; KServe's own is kserve-container.
            predictor["model"] = {"name": KSERVE_CONTAINER, **predictor["model"]}
            spec["canary"] = [{"predictor": predictor, "trafficPercent": canary.traffic_percent}]
        return spec

    def _predictor(self, storage_uri: StrInput | None = None) -> dict[str, Any]:
        a = self.args
        scratch = scratch_mount(KSERVE_CONTAINER, "/tmp")  # noqa: S108 - emptyDir scratch
        spec = pod_spec_fields(service_account_name=self.isvc_name, gpus=a.resources.gpus)
        # KServe picks the serving image from the model format (or runtime): no name or image here.
        model: dict[str, Any] = {
            "resources": a.resources.wire(),
            "securityContext": container_security_context(),
            "volumeMounts": [scratch.wire()],
        }
        model["modelFormat"] = {"name": a.model_format} | (
            {"version": a.model_format_version} if a.model_format_version else {}
        )
        model["storageUri"] = a.storage_uri if storage_uri is None else storage_uri
        if a.runtime:
            model["runtime"] = a.runtime
        if a.protocol_version:
            model["protocolVersion"] = a.protocol_version
        predictor: dict[str, Any] = {
            "minReplicas": a.min_replicas,
            "maxReplicas": a.max_replicas,
            "scaleMetric": a.scale_metric,
            "scaleTarget": a.scale_target,
            "serviceAccountName": spec["serviceAccountName"],
            "automountServiceAccountToken": False,
            "securityContext": spec["securityContext"],
            "labels": self.labels,
            "volumes": [scratch.volume()],
            "model": model,
        }
        if "tolerations" in spec:
            predictor["tolerations"] = spec["tolerations"]
        if a.canary_percent is not None:
            predictor["canaryTrafficPercent"] = int(a.canary_percent)
        if a.logger is not None:
            predictor["logger"] = {"mode": a.logger.mode, "url": a.logger.url}
        return predictor

    def _network_policies(self, ns: StrInput, part_of: str) -> list[k8s.networking.v1.NetworkPolicy]:
        a = self.args
        pods = {"matchLabels": {ISVC_LABEL: self.isvc_name}}
        policies = [
            network.policy(
                self,
                "allow-gateway",
                f"{self.isvc_name}-gateway-in",
                ns,
                self.labels,
                pods=pods,
                ingress=[{"from": network.namespaces(*a.gateway_namespaces)}],
            ),
            network.https_egress(
                self, "allow-https", f"{self.isvc_name}-https", ns, self.labels, pods=pods, cidrs=a.https_egress_cidrs
            ),
        ]
        if a.logger is not None:
            target_ns, target_ports = _logger_target(a.logger)
            if target_ns is not None:
                policies.append(
                    network.policy(
                        self,
                        "allow-logger",
                        f"{self.isvc_name}-logger-out",
                        ns,
                        self.labels,
                        pods=pods,
                        egress=[{"to": network.namespaces(target_ns), "ports": network.ports(*target_ports)}],
                    )
                )
        return policies


def _logger_target(logger: LoggerSettings) -> tuple[str | None, tuple[int, ...]]:
    """(namespace, ports) the logger egress policy opens: from a known in-cluster URL, else ``egress_namespace``."""
    if not isinstance(logger.url, str):
        return logger.egress_namespace, (80, 443)
    parts = urlsplit(logger.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if host.endswith(".svc.cluster.local"):
        return host.split(".")[-4], (port,)
    return logger.egress_namespace, (port,)
