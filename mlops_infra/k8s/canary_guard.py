"""A metric-gated canary for a KServe InferenceService: promote after the bake time, roll back on breach.

KServe shifts ``canaryTrafficPercent`` of traffic to a new revision and then waits for someone to
move it. This component is that someone: a CronJob runs a small standard-library controller
(:mod:`mlops_infra.k8s.canary_guard_controller`, shipped in a ConfigMap) every minute. It reads
the InferenceService's status and the canary revision's error rate (percent) and p95 latency (ms)
from Prometheus (Knative's ``revision_app_request_count`` and
``revision_app_request_latencies_bucket``, the metrics the endpoint's alert rules watch), then:

- breach of either threshold: ``canaryTrafficPercent: 0``, KServe sends all traffic back to the
  previously rolled-out revision;
- healthy for ``bake_seconds`` at its current share: ``canaryTrafficPercent: 100`` (canary) or
  ``+ step_percent`` (linear);
- no canary, no data yet, still baking, or any Prometheus/API error: nothing (never a promotion).

The controller's identity is least privilege: ``get``/``patch`` on this one InferenceService and
on its own state ConfigMap (the bake clock), a projected API token mounted only into its
container (the pod does not automount one), and egress only to DNS, the API server and Prometheus.

Prerequisite: Prometheus scrapes Knative's queue-proxy metrics (the endpoint's ServiceMonitor).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.markers import GUARDS_INFERENCE_SERVICES_MARKER
from mlops_infra.k8s import in_cluster_controller as controller
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.monitoring import DURATION
from mlops_infra.k8s.workload import ComputeResources, Container, pod_spec, pod_template
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.rollout import Rollout, RolloutStrategy
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import PinnedImage, PositivePercent

COMPONENT = "canary-guard"
KSERVE_GROUP = "serving.kserve.io"
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"
DEFAULT_IMAGE = "python:3.12.8-slim"
SCRIPT_KEY = "controller.py"
SCRIPT_DIR = "/opt/canary-guard"
_IN_CLUSTER = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$"
)


def controller_source() -> str:
    """The controller script, exactly as the ConfigMap ships it."""
    return Path(__file__).with_name("canary_guard_controller.py").read_text(encoding="utf-8")


class CanaryGuardArgs(Spec):
    """One InferenceService's canary gate: thresholds in percent and milliseconds, bake time in seconds."""

    namespace: StrInput
    inference_service: StrInput = Field(description="Name of the InferenceService to guard (an Output is fine).")
    prometheus_url: str = Field(DEFAULT_PROMETHEUS, description="http(s) base URL of the Prometheus HTTP API.")
    error_rate_percent: PositivePercent = Field(1.0, description="Canary 5xx share ceiling, percent of requests.")
    p95_latency_ms: float = Field(500, gt=0, le=600_000, description="Canary 95th-percentile latency ceiling, ms.")
    rollout: Rollout = Field(default_factory=Rollout, description="Strategy, steps (percent) and bake time (s).")
    window: str = Field("5m", pattern=DURATION, description="Rate window of the PromQL queries.")
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="* * * * *"), description="How often the controller decides."
    )
    image: PinnedImage = Field(DEFAULT_IMAGE, description="Python 3 image, pinned (standard library only).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="10m", cpu_limit="100m", memory_request="64Mi", memory_limit="128Mi"
        )
    )
    api_server_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Where the API server listens (443/6443)."
    )

    @field_validator("prometheus_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ValueError(f"{value!r} must be an http(s):// URL without credentials")
        if parts.query or parts.fragment or re.search(r"[\s\"'\\]", value):
            raise ValueError(f"{value!r} must be a plain base URL (no query, fragment, quotes or spaces)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _gradual(self) -> CanaryGuardArgs:
        if self.rollout.strategy not in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR):
            raise ValueError(f"KServe canaries are canary or linear, not {self.rollout.strategy.value}")
        if self.rollout.step_percent != int(self.rollout.step_percent):
            raise ValueError("KServe splits traffic in whole percent: step_percent must be whole")
        return self

    @property
    def prometheus_port(self) -> int:
        parts = urlsplit(self.prometheus_url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def prometheus_namespace(self) -> str | None:
        """The namespace of an in-cluster Prometheus Service URL (``svc.ns.svc[.cluster.local]``), else None."""
        match = _IN_CLUSTER.match(urlsplit(self.prometheus_url).hostname or "")
        return match.group("ns") if match else None


class CanaryGuard(PlatformComponent[CanaryGuardArgs]):
    """A CronJob that promotes a healthy KServe canary after its bake time and rolls back a breaching one."""

    TYPE_TOKEN = "mlops-infra:k8s:CanaryGuard"
    ARGS = CanaryGuardArgs

    def __init__(
        self,
        name: str,
        args: CanaryGuardArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        self.base: str = self.platform.name(name, controller.BASE_NAME)
        self.state_name = f"{self.base}-state"
        part_of = self.platform.settings.project
        self.labels: dict[str, str] = lbl.standard_labels(COMPONENT, self.base, COMPONENT, part_of)
        self.script, self.state = controller.script_and_state(
            self, self.base, ns, self.labels, script_key=SCRIPT_KEY, source=controller_source()
        )
        # The controller writes its bake clock in the state map.
        self.service_account, self.role, self.role_binding = controller.identity(
            self,
            self.base,
            ns,
            self.labels,
            [
                {
                    "apiGroups": [KSERVE_GROUP],
                    "resources": ["inferenceservices"],
                    "resourceNames": [a.inference_service],
                    "verbs": ["get", "patch"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "resourceNames": [self.state_name],
                    "verbs": ["get", "patch"],
                },
            ],
        )
        self.cron_job = self._cron_job(ns)
        self.network_policy = network.policy(
            self,
            "egress",
            f"{self.base}-egress",
            ns,
            self.labels,
            pods={"matchLabels": lbl.selector_labels(self.labels)},
            egress=self._egress(),
        )
        self.register_outputs({"cronJob": self.base, "stateConfigMap": self.state_name})

    def _env(self) -> dict[str, pulumi.Input[str]]:
        a = self.args
        rollout = a.rollout
        return {
            "NAMESPACE": a.namespace,
            "INFERENCE_SERVICE": a.inference_service,
            "STATE_CONFIG_MAP": self.state_name,
            "PROMETHEUS_URL": a.prometheus_url,
            "ERROR_RATE_PERCENT": f"{a.error_rate_percent:g}",
            "P95_LATENCY_MS": f"{a.p95_latency_ms:g}",
            "STRATEGY": rollout.strategy.value,
            "STEP_PERCENT": str(int(rollout.step_percent)),
            "BAKE_SECONDS": str(rollout.bake_seconds),
            "ROLLBACK_ON_ALARMS": "true" if rollout.rollback_on_alarms else "false",
            "WINDOW": a.window,
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def _cron_job(self, ns: StrInput) -> k8s.batch.v1.CronJob:
        a = self.args
        script = controller.script_mount(self.base, SCRIPT_DIR)
        token = controller.api_token_mount()
        container = Container(
            name="guard",
            image=a.image,
            resources=a.resources,
            command=["python3", f"{SCRIPT_DIR}/{SCRIPT_KEY}"],
            env=self._env(),
            mounts=[script, token],
        )
        spec = pod_spec(
            [container],
            service_account_name=objects.name_of(self.service_account),
            automount_token=False,
            restart_policy="Never",
        )
        return k8s.batch.v1.CronJob(
            self.child_name("cron"),
            # The policy's deployment-safety check reads which InferenceService this CronJob gates.
            metadata=objects.metadata(
                self.base,
                ns,
                self.labels,
                annotations={
                    GUARDS_INFERENCE_SERVICES_MARKER: a.inference_service,
                    **controller.API_CLIENT_ANNOTATIONS,
                },
            ),
            spec=objects.k8s_json(
                {
                    "schedule": a.schedule.cron,
                    "timeZone": a.schedule.time_zone,
                    "concurrencyPolicy": "Forbid",
                    "startingDeadlineSeconds": 120,
                    "successfulJobsHistoryLimit": 1,
                    "failedJobsHistoryLimit": 3,
                    "jobTemplate": {
                        "metadata": {"labels": self.labels},
                        "spec": {
                            "backoffLimit": 0,  # the next run decides again a minute later
                            "activeDeadlineSeconds": 240,  # room for the first image pull
                            "ttlSecondsAfterFinished": 3600,
                            "template": pod_template(self.labels, spec),
                        },
                    },
                }
            ),
            opts=self.child_opts(depends_on=[self.script, self.state, self.role_binding]),
        )

    def _egress(self) -> list[dict[str, Any]]:
        a = self.args
        prometheus_ns = a.prometheus_namespace
        prometheus_peers = network.namespaces(prometheus_ns) if prometheus_ns else [{"ipBlock": {"cidr": "0.0.0.0/0"}}]
        return [
            *controller.dns_and_api_egress(a.api_server_cidrs),
            {"to": prometheus_peers, "ports": network.ports(a.prometheus_port)},
        ]
