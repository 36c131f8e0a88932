"""Where Kubernetes objects keep their pod specs and containers, built-in and custom alike.

Built-in workloads have fixed paths. Argo workflows keep one container per template, KServe
InferenceServices keep pod specs per component with a framework container (``model``,
``sklearn``, ...), Seldon Core v2 Servers and ServerConfigs keep one in ``spec.podSpec`` (a
Server's is an override merged onto its ServerConfig's by container name, so its containers need
no image, and a Server without one runs the ServerConfig's pods unhardened), and other operators
(Kubeflow training jobs, Ray, Knative) embed ordinary pod specs that a generic search finds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_infra.policy.values import is_unknown

_TEMPLATE_SPEC = "spec.template.spec"
BUILTIN_POD_SPEC_PATHS: dict[str, str] = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:core/v1:PodTemplate": "template.spec",
    "kubernetes:core/v1:ReplicationController": _TEMPLATE_SPEC,
    "kubernetes:apps/v1:Deployment": _TEMPLATE_SPEC,
    "kubernetes:apps/v1:StatefulSet": _TEMPLATE_SPEC,
    "kubernetes:apps/v1:DaemonSet": _TEMPLATE_SPEC,
    "kubernetes:apps/v1:ReplicaSet": _TEMPLATE_SPEC,
    "kubernetes:batch/v1:Job": _TEMPLATE_SPEC,
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
}
ARGO_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
# Framework keys of a KServe component; each holds one container-like spec.
KSERVE_FRAMEWORKS = (
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "lightgbm",
    "paddle",
    "pmml",
)
SELDON_KINDS = ("Server", "ServerConfig")  # mlops.seldon.io: the pod spec is spec.podSpec
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
POD_LEVEL_KEYS = (
    "securityContext",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "volumes",
    "nodeSelector",
    "affinity",
    "serviceAccountName",
    "automountServiceAccountToken",
)


@dataclass(frozen=True)
class PodSpec:
    """A pod-level spec and where it sits in the object (``spec.template.spec``)."""

    path: str
    spec: Mapping[str, Any]


@dataclass(frozen=True)
class Container:
    """One container, its path (``spec.template.spec.containers[0]``) and the pod it runs in.

    ``requires_image`` is False for KServe framework containers, whose image the runtime supplies.
    """

    path: str
    spec: Mapping[str, Any]
    pod: PodSpec
    requires_image: bool = True

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) and not is_unknown(name) else ""


def _maybe_custom(type_token: str) -> bool:
    group = type_token.split(":")[1]
    return "." in group.split("/")[0]


def _at(props: Mapping[str, Any], path: str) -> Any:
    current: Any = props
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _argo(props: Mapping[str, Any], kind: str) -> list[tuple[PodSpec, list[Container]]]:
    base = "spec.workflowSpec" if kind == "CronWorkflow" else "spec"
    workflow = _at(props, base)
    if not isinstance(workflow, Mapping):
        return []
    found = []
    for index, template in enumerate(_list(workflow.get("templates"))):
        if not isinstance(template, Mapping):
            continue
        where = f"{base}.templates[{index}]"
        # Pod-level settings: the workflow's, overridden by the template's.
        merged = {k: workflow[k] for k in POD_LEVEL_KEYS if k in workflow}
        merged.update({k: template[k] for k in POD_LEVEL_KEYS if k in template})
        pod = PodSpec(where, merged)
        containers = [
            Container(f"{where}.{key}", template[key], pod)
            for key in ("container", "script")
            if isinstance(template.get(key), Mapping)
        ]
        for key in ("initContainers", "sidecars"):
            containers += [
                Container(f"{where}.{key}[{i}]", c, pod)
                for i, c in enumerate(_list(template.get(key)))
                if isinstance(c, Mapping)
            ]
        container_set = template.get("containerSet")
        if isinstance(container_set, Mapping):
            containers += [
                Container(f"{where}.containerSet.containers[{i}]", c, pod)
                for i, c in enumerate(_list(container_set.get("containers")))
                if isinstance(c, Mapping)
            ]
        if containers:
            found.append((pod, containers))
    return found


def _kserve(props: Mapping[str, Any]) -> list[tuple[PodSpec, list[Container]]]:
    found = []
    components = [(f"spec.{name}", _at(props, f"spec.{name}")) for name in KSERVE_COMPONENTS]
    # KServe 0.20 Standard-mode canaries (spec.canary[i].predictor) run pods of their own.
    for i, canary in enumerate(_list(_at(props, "spec.canary"))):
        components.append(
            (f"spec.canary[{i}].predictor", canary.get("predictor") if isinstance(canary, Mapping) else None)
        )
    for path, spec in components:
        if not isinstance(spec, Mapping):
            continue
        pod = PodSpec(path, spec)
        containers = _listed_containers(pod)
        containers += [
            Container(f"{path}.{key}", spec[key], pod, requires_image=False)
            for key in KSERVE_FRAMEWORKS
            if isinstance(spec.get(key), Mapping)
        ]
        if containers:
            found.append((pod, containers))
    return found


def _seldon(props: Mapping[str, Any], kind: str) -> list[tuple[PodSpec, list[Container]]]:
    """A ServerConfig's pod spec; a Server's override, where an absent override or container list stands for
    the ServerConfig's containers as they are (one unnamed container at ``spec.podSpec.containers[*]``)."""
    spec = _at(props, "spec.podSpec")
    if kind == "ServerConfig":
        if not isinstance(spec, Mapping):
            return []
        pod = PodSpec("spec.podSpec", spec)
        return [(pod, _listed_containers(pod))]
    pod = PodSpec("spec.podSpec", spec if isinstance(spec, Mapping) else {})
    containers = _listed_containers(pod, requires_image=False)
    return [(pod, containers or [Container("spec.podSpec.containers[*]", {}, pod, requires_image=False)])]


def _listed_containers(pod: PodSpec, *, requires_image: bool = True) -> list[Container]:
    return [
        Container(f"{pod.path}.{key}[{i}]", c, pod, requires_image=requires_image)
        for key in CONTAINER_LISTS
        for i, c in enumerate(_list(pod.spec.get(key)))
        if isinstance(c, Mapping)
    ]


def _generic(value: Any, path: str) -> list[PodSpec]:
    """Every mapping below ``value`` that has a ``containers`` list: an embedded pod spec."""
    if isinstance(value, Mapping):
        if isinstance(value.get("containers"), Sequence) and not isinstance(value.get("containers"), str):
            return [PodSpec(path, value)]
        return [p for k, v in value.items() for p in _generic(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [p for i, v in enumerate(value) for p in _generic(v, f"{path}[{i}]")]
    return []


def pod_specs(type_token: str, props: Mapping[str, Any]) -> list[PodSpec]:
    """The pod-level specs of a Kubernetes object (several for Argo templates or KServe components)."""
    return [pod for pod, _ in workloads(type_token, props)]


def workloads(type_token: str, props: Mapping[str, Any]) -> list[tuple[PodSpec, list[Container]]]:
    """Every pod spec of the object with its containers (init and ephemeral included)."""
    if not type_token.startswith("kubernetes:"):
        return []
    builtin = BUILTIN_POD_SPEC_PATHS.get(type_token)
    if builtin is not None:
        spec = _at(props, builtin)
        if not isinstance(spec, Mapping):
            return []
        pod = PodSpec(builtin, spec)
        return [(pod, _listed_containers(pod))]
    group, kind = type_token.split(":")[1].split("/", maxsplit=1)[0], type_token.rsplit(":", 1)[-1]
    if group == "argoproj.io" and kind in ARGO_KINDS:
        return _argo(props, kind)
    if group == "serving.kserve.io" and kind == "InferenceService":
        return _kserve(props)
    if group == "mlops.seldon.io" and kind in SELDON_KINDS:
        return _seldon(props, kind)
    if not _maybe_custom(type_token):
        return []
    return [(pod, _listed_containers(pod)) for pod in _generic(props.get("spec"), "spec")]


def projected_api_tokens(pod: PodSpec) -> list[str]:
    """Names of the pod's volumes that project a service-account token for the API server.

    A ``serviceAccountToken`` projection without an ``audience`` is a Kubernetes API credential,
    the same thing automounting gives; one with an audience (a cloud's workload identity) is not.
    """
    found = []
    for volume in _list(pod.spec.get("volumes")):
        projected = volume.get("projected") if isinstance(volume, Mapping) else None
        sources = _list(projected.get("sources")) if isinstance(projected, Mapping) else []
        for source in sources:
            token = source.get("serviceAccountToken") if isinstance(source, Mapping) else None
            if isinstance(token, Mapping) and not token.get("audience"):
                found.append(str(volume.get("name", "")))
                break
    return found


def image_reference_problem(image: Any) -> str | None:
    """Why an image reference is not pinned (None when it has a fixed tag or a digest)."""
    if not isinstance(image, str) or not image or is_unknown(image):
        return None if is_unknown(image) else "has no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag, so it pulls whatever 'latest' is at deploy time"
    if last.rsplit(":", 1)[1].lower() == "latest":
        return f"image {image!r} uses the mutable 'latest' tag"
    return None
