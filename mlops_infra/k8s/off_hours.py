"""Off-hours for KServe endpoints (``mlops-infra:k8s:OffHours``): scale to zero at night, back in the morning.

Two CronJobs in the team namespace run a standard-library script (:mod:`mlops_infra.k8s.off_hours_scaler`):
at ``stop`` they set each InferenceService's ``spec.predictor.minReplicas`` to 0 (Knative then scales an
idle predictor to zero), at ``start`` back to its floor. Least privilege: a ServiceAccount whose Role may
``get`` and ``patch`` exactly the named InferenceServices and nothing else; an expiring projected token in the
container only; egress to DNS and the API server only; the hardened pod of every workload (non-root,
read-only root, no capabilities, RuntimeDefault seccomp, limits).

The next ``pulumi up`` sets ``minReplicas`` back to the declared value; run it in the morning or after ``start``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.k8s import in_cluster_controller as controller
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.workload import ComputeResources, Container, pod_spec, pod_template
from mlops_infra.spec.base import Spec, StrInput
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import PinnedImage

COMPONENT = "off-hours"
DEFAULT_IMAGE = "python:3.12.8-slim"
SCRIPT_KEY = "off_hours_scaler.py"
SCRIPT_DIR = "/opt/off-hours"
DEADLINE_SECONDS = 300


def scaler_source() -> str:
    """The script's source, shipped in a ConfigMap."""
    return (Path(__file__).resolve().parent / SCRIPT_KEY).read_text(encoding="utf-8")


class OffHoursArgs(Spec):
    """Which InferenceServices follow the schedule, and their daytime floor."""

    namespace: StrInput = Field(description="Namespace of the InferenceServices.")
    stop: Schedule = Field(description="When the predictors' minReplicas goes to 0.")
    start: Schedule = Field(description="When it returns to each service's floor.")
    floors: dict[str, int] = Field(
        min_length=1, description="InferenceService name -> daytime minReplicas restored at start."
    )
    image: PinnedImage = Field(DEFAULT_IMAGE, description="Python 3 image, pinned (standard library only).")
    resources: ComputeResources = Field(
        default_factory=lambda: ComputeResources(
            cpu_request="10m", cpu_limit="100m", memory_request="32Mi", memory_limit="64Mi"
        )
    )
    api_server_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="Where the API server listens (443/6443)."
    )


class OffHours(PlatformComponent[OffHoursArgs]):
    """Two CronJobs and a Role that may patch only the named InferenceServices."""

    TYPE_TOKEN = "mlops-infra:k8s:OffHours"
    ARGS = OffHoursArgs

    def __init__(
        self, name: str, args: OffHoursArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        self.base: str = self.platform.name(name, controller.BASE_NAME)
        self.labels: dict[str, str] = lbl.standard_labels(
            COMPONENT, self.base, COMPONENT, self.platform.settings.project
        )
        self.script = k8s.core.v1.ConfigMap(
            self.child_name("script"),
            metadata=objects.metadata(f"{self.base}-script", ns, self.labels),
            data={SCRIPT_KEY: scaler_source()},
            opts=self.child_opts(),
        )
        self.service_account, self.role, self.role_binding = controller.identity(
            self, self.base, ns, self.labels, self.rules()
        )
        self.cron_jobs = {
            phase: self._cron_job(phase, schedule, targets)
            for phase, schedule, targets in (
                ("stop", a.stop, dict.fromkeys(a.floors, 0)),
                ("start", a.start, dict(a.floors)),
            )
        }
        self.network_policy = network.policy(
            self,
            "network",
            f"{self.base}-network",
            ns,
            self.labels,
            pods={"matchLabels": lbl.selector_labels(self.labels)},
            ingress=[],
            egress=controller.dns_and_api_egress(a.api_server_cidrs),
        )
        self.register_outputs({"stop": f"{self.base}-stop", "start": f"{self.base}-start"})

    def rules(self) -> list[dict[str, Any]]:
        """get and patch on the named InferenceServices only."""
        return [
            {
                "apiGroups": ["serving.kserve.io"],
                "resources": ["inferenceservices"],
                "resourceNames": sorted(self.args.floors),
                "verbs": ["get", "patch"],
            }
        ]

    def _cron_job(self, phase: str, schedule: Schedule, targets: dict[str, int]) -> k8s.batch.v1.CronJob:
        a = self.args
        container = Container(
            name="scaler",
            image=a.image,
            resources=a.resources,
            command=["python3", f"{SCRIPT_DIR}/{SCRIPT_KEY}"],
            env={
                "NAMESPACE": a.namespace,
                "TARGETS": json.dumps(targets, sort_keys=True),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1",
            },
            mounts=[controller.script_mount(self.base, SCRIPT_DIR), controller.api_token_mount()],
        )
        spec = pod_spec(
            [container],
            service_account_name=objects.name_of(self.service_account),
            automount_token=False,
            restart_policy="Never",
        )
        return k8s.batch.v1.CronJob(
            self.child_name(phase),
            metadata=objects.metadata(
                f"{self.base}-{phase}", a.namespace, self.labels, annotations=controller.API_CLIENT_ANNOTATIONS
            ),
            spec=objects.k8s_json(
                {
                    "schedule": schedule.cron,
                    "timeZone": schedule.time_zone,
                    "concurrencyPolicy": "Forbid",
                    "startingDeadlineSeconds": DEADLINE_SECONDS,
                    "successfulJobsHistoryLimit": 1,
                    "failedJobsHistoryLimit": 3,
                    "jobTemplate": {
                        "metadata": {"labels": self.labels},
                        "spec": {
                            "backoffLimit": 2,
                            "activeDeadlineSeconds": DEADLINE_SECONDS,
                            "template": pod_template(self.labels, spec),
                        },
                    },
                }
            ),
            opts=self.child_opts(depends_on=[self.script, self.role_binding]),
        )
