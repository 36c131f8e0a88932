"""Drift detection and retraining for a namespace's KServe endpoints: capture -> drift metric -> alert -> retrain.

One Deployment per namespace runs a small standard-library server
(:mod:`mlops_infra.k8s.drift_detector_server`, shipped in a ConfigMap) that every endpoint's
KServe logger posts its CloudEvents to. It keeps, per InferenceService and revision, a reference
and a current window of each watched feature and exports the per-feature drift (L-infinity
distance of the empirical CDFs, or of the category frequencies, 0-1) as ``drift_metric`` with
the labels the endpoint's ``EndpointFeatureDrift`` rule selects by (``namespace``, ``model``; plus
``revision`` and ``feature``). With ``retrain_on_drift`` it also starts the training trigger
itself (an Argo ``Workflow`` from the WorkflowTemplate, or a ``Job`` from the suspended CronJob)
at most once per ``cooldown_seconds``, kept in its own state ConfigMap across restarts.

Parts: the script and state ConfigMaps, a ServiceAccount, a Role (create Workflows or Jobs in the
namespace, get on the one CronJob, get/patch on its own state ConfigMap), a RoleBinding, the
Deployment (hardened pod, projected API token in its one container), a ClusterIP Service (events
on 8080, metrics on 9090), a ServiceMonitor, and a NetworkPolicy: ingress from the namespace's
predictor pods (events) and the Prometheus namespace (metrics) only, egress to DNS and the API
server only.

The reference window is the first ``reference_size`` instances a revision serves after the
detector starts (or after a new revision appears), unless a baseline ConfigMap is given. So it
detects drift of live traffic against the early traffic of the same revision; training-serving
skew is not detected without a baseline, and a restart rebuilds the reference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import in_cluster_controller as controller
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.endpoint import ISVC_LABEL
from mlops_infra.k8s.monitoring import DURATION, METRIC_NAME, MONITORING_API
from mlops_infra.k8s.workload import ComputeResources, Container, Mount, pod_spec, pod_template
from mlops_infra.spec.base import Spec, StrInput, Switch
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import PinnedImage

COMPONENT = "drift-detector"
DEFAULT_IMAGE = "python:3.12.8-slim"
SCRIPT_KEY = "server.py"
BASELINE_KEY = "baseline.json"
SCRIPT_DIR = "/opt/drift-detector"
BASELINE_DIR = "/etc/drift-baseline"
INGEST_PORT = 8080
METRICS_PORT = 9090
DEFAULT_EVALUATION_SECONDS = 300
FEATURE_NAME = r"^[A-Za-z0-9_.:/-]{1,128}$"


def server_source() -> str:
    """The detector script, exactly as the ConfigMap ships it."""
    return Path(__file__).with_name("drift_detector_server.py").read_text(encoding="utf-8")


def ingest_url(base: str, namespace: str) -> str:
    """Where KServe's logger posts: the detector's Service, cluster-local, with its port explicit.

    The port is the pod's (Service port = targetPort) so the endpoint's logger egress policy,
    derived from this URL, admits exactly the port the NetworkPolicy sees.
    """
    return f"http://{base}.{namespace}.svc.cluster.local:{INGEST_PORT}/"


def evaluation_seconds(schedule: Schedule) -> int:
    """The period of a simple cron (every N minutes, hourly, every N hours, daily), else the default (300 s).

    The detector evaluates on a timer; a cron it cannot reduce to one period (weekdays, lists)
    evaluates every five minutes, which only makes the gauge fresher.
    """
    minute, hour, day, month, weekday = schedule.cron.split()
    if (day, month, weekday) != ("*", "*", "*"):
        return DEFAULT_EVALUATION_SECONDS
    if hour == "*" and minute == "*":
        return 60
    if hour == "*" and minute.startswith("*/") and minute[2:].isdigit():
        return 60 * int(minute[2:])
    if minute.isdigit() and hour == "*":
        return 3600
    if minute.isdigit() and hour.startswith("*/") and hour[2:].isdigit():
        return 3600 * int(hour[2:])
    if minute.isdigit() and hour.isdigit():
        return 86_400
    return DEFAULT_EVALUATION_SECONDS


class DriftDetectorArgs(Spec):
    """One namespace's drift detector: windows in instances, times in seconds, threshold 0-1."""

    namespace: StrInput
    features: list[str] = Field(
        min_length=1, max_length=100, description="Watched features, in the order of list-shaped instances."
    )
    threshold: float = Field(0.2, gt=0, le=1, description="Drift (L-infinity distance, 0-1) that is a breach.")
    feature_thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per-feature override of threshold (0-1), e.g. DriftSpec.threshold_for."
    )
    drift_metric: str = Field("model_feature_drift_score", pattern=METRIC_NAME)
    reference_size: int = Field(1000, ge=50, le=100_000, description="Instances in the reference window.")
    window_size: int = Field(1000, ge=50, le=100_000, description="Instances in the current (sliding) window.")
    min_samples: int = Field(200, ge=10, le=100_000, description="Values each window needs before drift is shown.")
    evaluation_seconds: int = Field(DEFAULT_EVALUATION_SECONDS, ge=30, le=86_400, description="Measure every N s.")
    retrain_on_drift: Switch = Field(False, description="Start the training trigger when a feature drifts.")
    retrain_trigger: str | None = Field(
        None,
        pattern=r"^(workflowtemplate|cronjob)/[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="TrainingPipeline trigger (workflowtemplate/<name> or cronjob/<name>).",
    )
    cooldown_seconds: int = Field(21_600, ge=300, le=2_592_000, description="At most one retraining per N s.")
    baseline_config_map: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description=f"Existing ConfigMap with {BASELINE_KEY} ({{feature: [values]}}), the fixed reference.",
    )
    prometheus_namespace: str = Field("monitoring", description="Namespace of Prometheus (allowed to scrape).")
    scrape_interval: str = Field("30s", pattern=DURATION)
    selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects monitors by (e.g. release: kube-prometheus)."
    )
    image: PinnedImage = Field(DEFAULT_IMAGE, description="Python 3 image, pinned (standard library only).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="50m", cpu_limit="500m", memory_request="128Mi", memory_limit="512Mi"
        )
    )
    api_server_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Where the API server listens (443/6443)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> DriftDetectorArgs:
        for feature in self.features:
            if not re.fullmatch(FEATURE_NAME, feature):
                raise ValueError(f"feature name {feature!r} must match {FEATURE_NAME}")
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must be unique")
        for feature, value in self.feature_thresholds.items():
            if feature not in self.features:
                raise ValueError(f"feature_thresholds names {feature!r}, which is not in features")
            if not 0 < value <= 1:
                raise ValueError(f"feature_thresholds[{feature!r}] must be in (0, 1], got {value}")
        if self.min_samples > min(self.reference_size, self.window_size):
            raise ValueError("min_samples must not exceed reference_size or window_size")
        if self.retrain_on_drift and self.retrain_trigger is None:
            raise ValueError("retrain_on_drift needs retrain_trigger")
        return self

    @property
    def trigger(self) -> tuple[str, str]:
        """(kind, name) of the training trigger, or ("", "")."""
        if self.retrain_trigger is None:
            return "", ""
        kind, name = self.retrain_trigger.split("/", 1)
        return kind, name


class DriftDetector(PlatformComponent[DriftDetectorArgs]):
    """A namespace's drift server: KServe captures in, per-feature drift gauges out, retraining on drift."""

    TYPE_TOKEN = "mlops-infra:k8s:DriftDetector"
    ARGS = DriftDetectorArgs

    def __init__(
        self,
        name: str,
        args: DriftDetectorArgs | dict[str, Any] | None = None,
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
            self, self.base, ns, self.labels, script_key=SCRIPT_KEY, source=server_source()
        )
        # The server records its last retraining in the state map.
        self.service_account, self.role, self.role_binding = controller.identity(
            self, self.base, ns, self.labels, self._rules()
        )
        self.deployment = objects.deployment(
            self,
            "deployment",
            self.base,
            ns,
            self.labels,
            pod_template(self.labels, self._pod_spec()),
            replicas=1,
            depends_on=[self.script, self.state, self.role_binding],
            annotations=controller.API_CLIENT_ANNOTATIONS,
        )
        self.service = objects.service(
            self,
            "service",
            self.base,
            ns,
            self.labels,
            [("http-events", INGEST_PORT, INGEST_PORT), ("http-metrics", METRICS_PORT, METRICS_PORT)],
        )
        self.service_monitor = k8s.apiextensions.CustomResource(
            self.child_name("service-monitor"),
            api_version=MONITORING_API,
            kind="ServiceMonitor",
            metadata=objects.metadata(self.base, ns, {**self.labels, **a.selector_labels}),
            spec={
                "selector": {"matchLabels": lbl.selector_labels(self.labels)},
                "namespaceSelector": {"matchNames": [ns]},
                "endpoints": [
                    {
                        "port": "http-metrics",
                        "path": "/metrics",
                        "interval": a.scrape_interval,
                        "scheme": "http",
                        # keep the exported namespace/model labels the drift alert selects by
                        "honorLabels": True,
                    }
                ],
            },
            opts=self.child_opts(),
        )
        self.network_policy = network.policy(
            self,
            "network",
            f"{self.base}-network",
            ns,
            self.labels,
            pods={"matchLabels": lbl.selector_labels(self.labels)},
            ingress=[
                {
                    "from": [{"podSelector": {"matchExpressions": [{"key": ISVC_LABEL, "operator": "Exists"}]}}],
                    "ports": network.ports(INGEST_PORT),
                },
                {"from": network.namespaces(a.prometheus_namespace), "ports": network.ports(METRICS_PORT)},
            ],
            egress=self._egress(),
        )
        self.register_outputs({"deployment": self.base, "stateConfigMap": self.state_name})

    def url_in(self, namespace: str) -> str:
        """The logger sink URL of this detector in ``namespace`` (its physical name)."""
        return ingest_url(self.base, namespace)

    def _rules(self) -> list[dict[str, Any]]:
        a = self.args
        kind, trigger = a.trigger
        rules: list[dict[str, Any]] = []
        if a.retrain_on_drift and kind == "workflowtemplate":
            # Argo's controller resolves workflowTemplateRef itself: creating the Workflow is all it takes.
            rules.append({"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]})
        elif a.retrain_on_drift:
            rules += [
                {"apiGroups": ["batch"], "resources": ["cronjobs"], "resourceNames": [trigger], "verbs": ["get"]},
                {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]},
            ]
        rules.append(
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": [self.state_name],
                "verbs": ["get", "patch"],
            }
        )
        return rules

    def _env(self) -> dict[str, pulumi.Input[str]]:
        a = self.args
        kind, trigger = a.trigger
        env: dict[str, pulumi.Input[str]] = {
            "NAMESPACE": a.namespace,
            "FEATURES": json.dumps(a.features),
            "THRESHOLD": f"{a.threshold:g}",
            "FEATURE_THRESHOLDS": json.dumps(a.feature_thresholds, sort_keys=True),
            "DRIFT_METRIC": a.drift_metric,
            "REFERENCE_SIZE": str(a.reference_size),
            "WINDOW_SIZE": str(a.window_size),
            "MIN_SAMPLES": str(a.min_samples),
            "EVALUATION_SECONDS": str(a.evaluation_seconds),
            "RETRAIN": "true" if a.retrain_on_drift else "false",
            "TRIGGER_KIND": kind,
            "TRIGGER_NAME": trigger,
            "COOLDOWN_SECONDS": str(a.cooldown_seconds),
            "STATE_CONFIG_MAP": self.state_name,
            "INGEST_PORT": str(INGEST_PORT),
            "METRICS_PORT": str(METRICS_PORT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if a.baseline_config_map:
            env["BASELINE_FILE"] = f"{BASELINE_DIR}/{BASELINE_KEY}"
        return env

    def _pod_spec(self) -> dict[str, Any]:
        a = self.args
        script = controller.script_mount(self.base, SCRIPT_DIR)
        token = controller.api_token_mount()
        mounts = [script, token]
        if a.baseline_config_map:
            mounts.append(
                Mount("baseline", {"configMap": {"name": a.baseline_config_map, "defaultMode": 0o444}}, BASELINE_DIR)
            )
        probe = {"httpGet": {"path": "/healthz", "port": "http-metrics"}, "periodSeconds": 10}
        container = Container(
            name="detector",
            image=a.image,
            resources=a.resources,
            command=["python3", f"{SCRIPT_DIR}/{SCRIPT_KEY}"],
            ports=[("http-events", INGEST_PORT), ("http-metrics", METRICS_PORT)],
            env=self._env(),
            mounts=mounts,
            readiness_probe=probe,
            liveness_probe={**probe, "initialDelaySeconds": 10, "failureThreshold": 6},
        )
        return pod_spec(
            [container],
            service_account_name=objects.name_of(self.service_account),
            automount_token=False,
        )

    def _egress(self) -> list[dict[str, Any]]:
        return controller.dns_and_api_egress(self.args.api_server_cidrs)
