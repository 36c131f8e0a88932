"""k8s-pod-security: every container runs non-root, unprivileged, read-only, with dropped
capabilities, a seccomp profile, CPU/memory requests and limits and a pinned image; no pod shares
the host's namespaces or mounts host paths.

Applies to every object that embeds a pod spec: Pods, Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs, PodTemplates, Argo workflows and templates, KServe InferenceServices
and any other custom resource that carries ``containers``. A container setting wins over the pod's
``securityContext``, as in Kubernetes.

No pod gets a Kubernetes API token unless its object says it calls the API: pod specs set
``automountServiceAccountToken: false`` and project no API token, and ServiceAccounts set
``automountServiceAccountToken: false``, unless the object carries the annotation
``mlops-infra/uses-kubernetes-api: "true"`` (in-cluster controllers, Argo workflows).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.k8s_workloads import (
    Container,
    PodSpec,
    image_reference_problem,
    projected_api_tokens,
    workloads,
)
from mlops_infra.policy.markers import annotated
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import is_true, items, known

ID = "k8s-pod-security"
SAFE_SECCOMP = ("RuntimeDefault", "Localhost")
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
HOST_NAMESPACES = ("hostPID", "hostIPC", "hostNetwork")
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
AUTOMOUNT = "automountServiceAccountToken"


def _context(spec: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    value = known(spec.get("securityContext"), f"{path}.securityContext")
    return value if isinstance(value, Mapping) else {}


def _effective(container: Container, key: str) -> Any:
    """A security setting as Kubernetes applies it: the container's, else the pod's."""
    own = _context(container.spec, container.path)
    if key in own:
        return known(own[key], f"{container.path}.securityContext.{key}")
    pod = _context(container.pod.spec, container.pod.path)
    return known(pod.get(key), f"{container.pod.path}.securityContext.{key}")


def _pod_findings(view: ResourceView, pod: PodSpec) -> Iterator[Finding]:
    for key in HOST_NAMESPACES:
        if is_true(pod.spec.get(key), f"{pod.path}.{key}"):
            yield Finding(
                f"{subject(view)}: {pod.path}.{key} is true, so the pod shares the node's "
                f"{key[4:].upper()} namespace. Remove {key}."
            )
    for index, volume in enumerate(items(pod.spec.get("volumes"), f"{pod.path}.volumes")):
        if isinstance(volume, Mapping) and volume.get("hostPath") is not None:
            yield Finding(
                f"{subject(view)}: {pod.path}.volumes[{index}] mounts the node's filesystem (hostPath). "
                "Use a PersistentVolumeClaim, emptyDir or a CSI volume."
            )


def uses_kubernetes_api(view: ResourceView) -> bool:
    """True when the object is annotated as calling the Kubernetes API (the explicit token opt-in)."""
    return annotated(view, USES_KUBERNETES_API_MARKER)


def _token_findings(view: ResourceView, pod: PodSpec) -> Iterator[Finding]:
    """A pod gets no API token (automounted or projected) unless the object carries the opt-in marker."""
    if uses_kubernetes_api(view):
        return
    marker = f'annotate the object {USES_KUBERNETES_API_MARKER}: "true"'
    automount = known(pod.spec.get(AUTOMOUNT), f"{pod.path}.{AUTOMOUNT}")
    if automount is not False:
        yield Finding(
            f"{subject(view)}: {pod.path}.{AUTOMOUNT} is {'true' if automount else 'not set (true by default)'}, "
            "so every container gets a Kubernetes API token it can be robbed of. Set "
            f"{pod.path}.{AUTOMOUNT}: false; if the pod calls the API, {marker}."
        )
    for name in projected_api_tokens(pod):
        yield Finding(
            f"{subject(view)}: {pod.path}.volumes ({name}) projects a Kubernetes API token. Remove it; if the pod "
            f"calls the API, {marker}."
        )


def _service_account(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    """ServiceAccounts hand out no token by default (pods that need one opt in, as above)."""
    if uses_kubernetes_api(view):
        return
    automount = known(view.props.get(AUTOMOUNT), AUTOMOUNT)
    if automount is not False:
        yield Finding(
            f"{subject(view)}: {AUTOMOUNT} is {'true' if automount else 'not set (true by default)'}, so pods "
            f"that do not say otherwise get its API token. Set {AUTOMOUNT}: false; if its pods call the API, "
            f'annotate it {USES_KUBERNETES_API_MARKER}: "true".'
        )


def _run_as_root(container: Container) -> str | None:
    user = _effective(container, "runAsUser")
    if isinstance(user, (int, float)) and user == 0:
        return "runs as root (runAsUser 0)"
    if _effective(container, "runAsNonRoot") is True or (isinstance(user, (int, float)) and user > 0):
        return None
    return "may run as root (neither runAsNonRoot: true nor a non-zero runAsUser)"


def _capabilities(container: Container) -> list[str]:
    path = f"{container.path}.securityContext.capabilities"
    caps = known(_context(container.spec, container.path).get("capabilities"), path)
    caps = caps if isinstance(caps, Mapping) else {}
    problems = []
    dropped = {
        str(known(c, f"{path}.drop[{i}]")).upper() for i, c in enumerate(items(caps.get("drop"), f"{path}.drop"))
    }
    if "ALL" not in dropped:
        problems.append('capabilities.drop does not include "ALL"')
    granted = {str(known(c, f"{path}.add[{i}]")).upper() for i, c in enumerate(items(caps.get("add"), f"{path}.add"))}
    added = sorted(granted - ALLOWED_ADDED_CAPABILITIES)
    if added:
        problems.append(f"capabilities.add grants {', '.join(added)}")
    return problems


def _resources(container: Container) -> list[str]:
    path = f"{container.path}.resources"
    resources = known(container.spec.get("resources"), path)
    resources = resources if isinstance(resources, Mapping) else {}
    missing = []
    for kind in ("requests", "limits"):
        raw = known(resources.get(kind), f"{path}.{kind}")
        values: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        missing += [f"{kind}.{r}" for r in ("cpu", "memory") if r not in values]
    return missing


def _seccomp_type(container: Container) -> Any:
    """The effective seccomp profile type (None when no profile is set)."""
    seccomp = _effective(container, "seccompProfile")
    if not isinstance(seccomp, Mapping):
        return None
    own = "seccompProfile" in _context(container.spec, container.path)
    where = container.path if own else container.pod.path
    return known(seccomp.get("type"), f"{where}.securityContext.seccompProfile.type")


def _container_findings(view: ResourceView, container: Container) -> Iterator[Iterator[Finding]]:
    """One generator per sub-check, so a value unknown at preview skips only the sub-check that needs it."""
    where = f"{container.path} ({container.name})" if container.name else container.path
    prefix = f"{subject(view)}: {where}"
    context = f"{container.path}.securityContext"

    def privileged() -> Iterator[Finding]:
        if _effective(container, "privileged") is True:
            yield Finding(f"{prefix} is privileged, with full access to the node. Remove {context}.privileged.")

    def escalation() -> Iterator[Finding]:
        if _effective(container, "allowPrivilegeEscalation") is not False:
            yield Finding(f"{prefix} may gain privileges (setuid). Set {context}.allowPrivilegeEscalation: false.")

    def root() -> Iterator[Finding]:
        problem = _run_as_root(container)
        if problem:
            yield Finding(f"{prefix} {problem}. Set {context}.runAsNonRoot: true and runAsUser to a non-zero UID.")

    def read_only() -> Iterator[Finding]:
        if _effective(container, "readOnlyRootFilesystem") is not True:
            yield Finding(
                f"{prefix} can write to its root filesystem. Set {context}.readOnlyRootFilesystem: true "
                "(mount an emptyDir for scratch space)."
            )

    def capabilities() -> Iterator[Finding]:
        for problem in _capabilities(container):
            yield Finding(f'{prefix}: {problem}. Set {context}.capabilities.drop: ["ALL"] and add nothing.')

    def seccomp() -> Iterator[Finding]:
        if _seccomp_type(container) not in SAFE_SECCOMP:
            yield Finding(
                f"{prefix} has no seccomp profile. Set securityContext.seccompProfile.type: RuntimeDefault "
                "(pod or container)."
            )

    def resources() -> Iterator[Finding]:
        missing = _resources(container)
        if missing:
            yield Finding(
                f"{prefix} has no {', '.join(missing)}. Set {container.path}.resources requests and limits for "
                "cpu and memory so the scheduler and quotas can account for it."
            )

    def image() -> Iterator[Finding]:
        reference = container.spec.get("image")
        if container.requires_image or reference is not None:
            problem = image_reference_problem(reference)
            if problem:
                yield Finding(f"{prefix}: {problem}. Pin the image to a version tag or an @sha256 digest.")

    for sub_check in (privileged, escalation, root, read_only, capabilities, seccomp, resources, image):
        yield sub_check()


def check(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if view.package != "kubernetes":
        return
    if view.type == SERVICE_ACCOUNT:
        with ctx.unknowns():
            yield from _service_account(view, ctx)
        return
    with ctx.unknowns():
        found = workloads(view.type, view.props)
    for pod, containers in found:
        with ctx.unknowns():
            yield from _pod_findings(view, pod)
        with ctx.unknowns():
            yield from _token_findings(view, pod)
        for container in containers:
            for sub_check in _container_findings(view, container):
                with ctx.unknowns():
                    yield from sub_check


SPEC = PolicySpec(
    id=ID,
    title="Pods run non-root, unprivileged, read-only, with limits and pinned images",
    description=(
        "Every container of every pod spec (built-in workloads, Argo workflows, KServe InferenceServices, Seldon Core"
        " v2 Servers and ServerConfigs (spec.podSpec; a Server without one runs its ServerConfig unhardened), other "
        "custom resources) runs as non-root, is not privileged, cannot escalate privileges, has a read-only root "
        "filesystem, drops ALL capabilities, uses the RuntimeDefault (or Localhost) seccomp profile, sets CPU and "
        "memory requests and limits, and pins its image (no 'latest', no missing tag). Pods do not use hostPID, "
        "hostIPC, hostNetwork or hostPath volumes. Pods and ServiceAccounts set automountServiceAccountToken: false "
        'and pods project no API token, unless the object is annotated mlops-infra/uses-kubernetes-api: "true".'
    ),
    remediation="Use mlops_infra.k8s workload helpers (they set a restricted securityContext) or set the fields named.",
    resource_types={
        "kubernetes": (
            "kubernetes:core/v1:Pod",
            "kubernetes:core/v1:PodTemplate",
            "kubernetes:core/v1:ServiceAccount",
            "kubernetes:core/v1:ReplicationController",
            "kubernetes:apps/v1:Deployment",
            "kubernetes:apps/v1:StatefulSet",
            "kubernetes:apps/v1:DaemonSet",
            "kubernetes:apps/v1:ReplicaSet",
            "kubernetes:batch/v1:Job",
            "kubernetes:batch/v1:CronJob",
            "kubernetes:argoproj.io/v1alpha1:Workflow",
            "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
            "kubernetes:argoproj.io/v1alpha1:ClusterWorkflowTemplate",
            "kubernetes:argoproj.io/v1alpha1:CronWorkflow",
            "kubernetes:serving.kserve.io/v1beta1:InferenceService",
            "any custom resource embedding pod specs (Kubeflow PyTorchJob/TFJob, RayCluster, Knative Service, ...)",
        )
    },
    checkov_ids=(
        "CKV_K8S_10",
        "CKV_K8S_11",
        "CKV_K8S_12",
        "CKV_K8S_13",
        "CKV_K8S_14",
        "CKV_K8S_16",
        "CKV_K8S_17",
        "CKV_K8S_18",
        "CKV_K8S_19",
        "CKV_K8S_20",
        "CKV_K8S_22",
        "CKV_K8S_23",
        "CKV_K8S_28",
        "CKV_K8S_31",
        "CKV_K8S_37",
        "CKV_K8S_38",
        "CKV_K8S_41",
    ),
    resource_check=check,
)
