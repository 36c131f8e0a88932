"""The hardened pod and container spec every workload of the SDK is built from.

Rules (checkov's Kubernetes pod-security checks and the ``restricted`` Pod Security Standard):
non-root user, read-only root filesystem with an ``emptyDir`` for each path that must be
writable, ``allowPrivilegeEscalation: false``, every capability dropped, the RuntimeDefault
seccomp profile, no host namespaces, CPU and memory requests and limits, a pinned image,
and no service-account token unless the workload calls the Kubernetes API.

Specs are plain Kubernetes JSON (camelCase), so the same dict serves typed core objects and
custom resources (KServe, Argo) and can be checked against the official schemas.

Scheduled runs (training, batch inference) put such a pod on a cron the same way: a CronJob, or an
Argo CronWorkflow whose templates run the pod's containers (``RunPolicy`` and the builders below).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pulumi
from pydantic import Field, field_validator, model_validator

from mlops_infra.k8s.quantity import parse_quantity, quantity
from mlops_infra.spec.base import Spec
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import check_pinned_image

ARGO_API = "argoproj.io/v1alpha1"
ARGO_TTL_SECONDS = 7 * 86_400  # finished workflows are kept a week for their logs
GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_UID = 10001  # an unprivileged uid that exists in no base image, so it owns nothing there
SCRATCH_SIZE_LIMIT = "1Gi"  # per writable emptyDir: a runaway temp file cannot fill the node's disk


class ComputeResources(Spec):
    """CPU (cores), memory (bytes) and GPUs of one container; requests never exceed limits."""

    cpu_request: str = Field("250m", description="Guaranteed CPU, e.g. 250m (a quarter core).")
    cpu_limit: str = Field("1", description="CPU ceiling; the container is throttled above it.")
    memory_request: str = Field("256Mi", description="Guaranteed memory, e.g. 256Mi.")
    memory_limit: str = Field("1Gi", description="Memory ceiling; the container is OOM-killed above it.")
    gpus: int = Field(0, ge=0, le=16, description="NVIDIA GPUs (nvidia.com/gpu, request = limit).")

    _quantities = field_validator("cpu_request", "cpu_limit", "memory_request", "memory_limit")(quantity)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ComputeResources:
        if parse_quantity(self.cpu_request) > parse_quantity(self.cpu_limit):
            raise ValueError(f"cpu_request {self.cpu_request} exceeds cpu_limit {self.cpu_limit}")
        if parse_quantity(self.memory_request) > parse_quantity(self.memory_limit):
            raise ValueError(f"memory_request {self.memory_request} exceeds memory_limit {self.memory_limit}")
        return self

    def wire(self) -> dict[str, dict[str, str]]:
        """``resources`` of a container; GPUs appear in both requests and limits, as the API requires."""
        requests = {"cpu": self.cpu_request, "memory": self.memory_request}
        limits = {"cpu": self.cpu_limit, "memory": self.memory_limit}
        if self.gpus:
            requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(self.gpus)
        return {"requests": requests, "limits": limits}


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable read from a key of a Secret (the value never enters the manifest)."""

    name: str
    secret_name: pulumi.Input[str]
    key: str

    def wire(self) -> dict[str, Any]:
        return {"name": self.name, "valueFrom": {"secretKeyRef": {"name": self.secret_name, "key": self.key}}}


@dataclass(frozen=True)
class Mount:
    """A volume (Kubernetes JSON without its name) mounted at ``path``; read-only unless stated."""

    volume_name: str
    source: Mapping[str, Any]
    path: str
    read_only: bool = True
    sub_path: str | None = None

    def volume(self) -> dict[str, Any]:
        return {"name": self.volume_name, **self.source}

    def wire(self) -> dict[str, Any]:
        mount: dict[str, Any] = {"name": self.volume_name, "mountPath": self.path, "readOnly": self.read_only}
        if self.sub_path:
            mount["subPath"] = self.sub_path
        return mount


def _volume_name(container: str, path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"
    return f"{container}-{slug}"[:63].rstrip("-")


def scratch_mount(container: str, path: str) -> Mount:
    """A writable, size-limited emptyDir at ``path`` (the root filesystem stays read-only)."""
    return Mount(_volume_name(container, path), {"emptyDir": {"sizeLimit": SCRATCH_SIZE_LIMIT}}, path, read_only=False)


def container_security_context(run_as_user: int | None = None) -> dict[str, Any]:
    """Container security context: no privilege, no escalation, read-only root, no capabilities."""
    security: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if run_as_user is not None:
        security["runAsUser"] = run_as_user
    return security


@dataclass(frozen=True)
class Container:
    """One hardened container. ``writable_paths`` get an emptyDir each (the root FS is read-only)."""

    name: str
    image: str
    resources: ComputeResources
    command: Sequence[str] = ()
    args: Sequence[str] = ()
    ports: Sequence[tuple[str, int]] = ()
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_env: Sequence[SecretEnv] = ()
    mounts: Sequence[Mount] = ()
    writable_paths: Sequence[str] = ("/tmp",)  # noqa: S108 - an emptyDir, private to the pod
    readiness_probe: Mapping[str, Any] | None = None
    liveness_probe: Mapping[str, Any] | None = None
    run_as_user: int | None = None

    def __post_init__(self) -> None:
        check_pinned_image(self.image)
        if self.run_as_user is not None and self.run_as_user <= 0:
            raise ValueError(f"container {self.name}: run_as_user must be a non-root uid (> 0)")

    def scratch_mounts(self) -> list[Mount]:
        return [scratch_mount(self.name, path) for path in self.writable_paths]

    def all_mounts(self) -> list[Mount]:
        return [*self.mounts, *self.scratch_mounts()]

    def wire(self) -> dict[str, Any]:
        """The container as Kubernetes JSON."""
        security = container_security_context(self.run_as_user)
        spec: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "resources": self.resources.wire(),
            "securityContext": security,
            "volumeMounts": [mount.wire() for mount in self.all_mounts()],
        }
        if self.command:
            spec["command"] = list(self.command)
        if self.args:
            spec["args"] = list(self.args)
        if self.ports:
            spec["ports"] = [{"name": name, "containerPort": port, "protocol": "TCP"} for name, port in self.ports]
        env = [{"name": key, "value": value} for key, value in sorted(self.env.items())]
        env += [item.wire() for item in self.secret_env]
        if env:
            spec["env"] = env
        if self.readiness_probe:
            spec["readinessProbe"] = dict(self.readiness_probe)
        if self.liveness_probe:
            spec["livenessProbe"] = dict(self.liveness_probe)
        return spec


def pod_security_context(run_as_user: int = DEFAULT_UID, fs_group: int | None = None) -> dict[str, Any]:
    """Pod-level security context: non-root uid/gid, RuntimeDefault seccomp, optional fsGroup for volumes."""
    if run_as_user <= 0:
        raise ValueError("run_as_user must be a non-root uid (> 0)")
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": run_as_user,
        "runAsGroup": run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if fs_group is not None:
        context["fsGroup"] = fs_group
    return context


def volumes_of(containers: Sequence[Container]) -> list[dict[str, Any]]:
    """Every volume the containers mount, once each, in a stable order."""
    volumes: dict[str, dict[str, Any]] = {}
    for container in containers:
        for mount in container.all_mounts():
            volumes.setdefault(mount.volume_name, mount.volume())
    return [volumes[name] for name in sorted(volumes)]


def pod_spec(
    containers: Sequence[Container],
    *,
    service_account_name: pulumi.Input[str],
    automount_token: bool = False,
    run_as_user: int = DEFAULT_UID,
    fs_group: int | None = None,
    restart_policy: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A hardened PodSpec (Kubernetes JSON); GPU containers get the usual ``nvidia.com/gpu`` toleration."""
    if not containers:
        raise ValueError("a pod needs at least one container")
    spec = pod_spec_fields(
        service_account_name=service_account_name,
        automount_token=automount_token,
        run_as_user=run_as_user,
        fs_group=fs_group,
        gpus=sum(container.resources.gpus for container in containers),
    )
    spec["containers"] = [container.wire() for container in containers]
    spec["volumes"] = volumes_of(containers)
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    spec.update(extra or {})
    return spec


def pod_spec_fields(
    *,
    service_account_name: pulumi.Input[str],
    automount_token: bool = False,
    run_as_user: int = DEFAULT_UID,
    fs_group: int | None = None,
    gpus: int = 0,
) -> dict[str, Any]:
    """The pod-level hardening (identity, token, host namespaces, security context, GPU toleration)."""
    spec: dict[str, Any] = {
        "serviceAccountName": service_account_name,
        "automountServiceAccountToken": automount_token,
        "enableServiceLinks": False,
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "securityContext": pod_security_context(run_as_user, fs_group),
    }
    if gpus:
        spec["tolerations"] = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    return spec


def pod_template(
    labels: Mapping[str, str], spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A PodTemplateSpec: labels (for selectors and NetworkPolicies) plus the spec."""
    metadata: dict[str, Any] = {"labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata, "spec": dict(spec)}


# --- scheduled runs: CronJob or Argo CronWorkflow ------------------------------------------------


@dataclass(frozen=True)
class RunPolicy:
    """How a scheduled pod run behaves: when, paused or not, deadlines (seconds), retries and history kept."""

    schedule: Schedule
    suspend: bool
    starting_deadline_seconds: int
    active_deadline_seconds: int
    backoff_limit: int
    successful_history_limit: int
    failed_history_limit: int

    @classmethod
    def of(cls, settings: Any) -> RunPolicy:
        """The policy of component args that carry these fields under the same names."""
        return cls(**{item.name: getattr(settings, item.name) for item in fields(cls)})

    def scheduling(self, suspend: bool | None = None) -> dict[str, Any]:
        """Fields CronJobs and CronWorkflows share: runs never overlap, missed runs expire, bounded history."""
        return {
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": self.starting_deadline_seconds,
            "successfulJobsHistoryLimit": self.successful_history_limit,
            "failedJobsHistoryLimit": self.failed_history_limit,
            "suspend": self.suspend if suspend is None else suspend,
        }


def cron_job_spec(
    policy: RunPolicy,
    labels: Mapping[str, str],
    pod: Mapping[str, Any],
    *,
    suspend: bool | None = None,
    job: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A CronJob's spec running ``pod`` (``job``: extra Job fields, e.g. an Indexed completion mode)."""
    return {
        "schedule": policy.schedule.cron,
        "timeZone": policy.schedule.time_zone,
        **policy.scheduling(suspend),
        "jobTemplate": {
            "metadata": {"labels": dict(labels)},
            "spec": {
                **(job or {}),
                "backoffLimit": policy.backoff_limit,
                "activeDeadlineSeconds": policy.active_deadline_seconds,
                "template": pod_template(labels, pod),
            },
        },
    }


def argo_container_template(name: str, pod: Mapping[str, Any], retries: int, **extra: Any) -> dict[str, Any]:
    """An Argo template running the pod's first container (with its GPU toleration), retried on failure."""
    template: dict[str, Any] = {
        "name": name,
        **extra,
        "retryStrategy": {"limit": str(retries), "retryPolicy": "OnFailure"},
        "container": pod["containers"][0],
    }
    if "tolerations" in pod:
        template["tolerations"] = pod["tolerations"]
    return template


def argo_workflow_spec(
    policy: RunPolicy,
    labels: Mapping[str, str],
    pod: Mapping[str, Any],
    templates: Sequence[Mapping[str, Any]],
    entrypoint: str,
    **extra: Any,
) -> dict[str, Any]:
    """A workflow spec whose pods get ``pod``'s identity, security context and volumes (with the executor's token)."""
    return {
        "entrypoint": entrypoint,
        **extra,
        "serviceAccountName": pod["serviceAccountName"],
        "automountServiceAccountToken": True,
        "activeDeadlineSeconds": policy.active_deadline_seconds,
        "podMetadata": {"labels": dict(labels)},
        "securityContext": pod["securityContext"],
        "volumes": pod["volumes"],
        "podGC": {"strategy": "OnPodSuccess"},
        "ttlStrategy": {"secondsAfterCompletion": ARGO_TTL_SECONDS},
        "templates": [dict(template) for template in templates],
    }


def argo_cron_workflow_spec(
    policy: RunPolicy, labels: Mapping[str, str], workflow_spec: Mapping[str, Any]
) -> dict[str, Any]:
    """A CronWorkflow's spec: the policy's schedule around ``workflow_spec`` (inline or a template reference)."""
    return {
        "schedules": [policy.schedule.cron],
        "timezone": policy.schedule.time_zone,
        **policy.scheduling(),
        "workflowMetadata": {"labels": dict(labels)},
        "workflowSpec": dict(workflow_spec),
    }
