"""Checks over captured Kubernetes objects, shared by the tests in this folder.

- ``manifest``: a captured object as the Kubernetes JSON the provider would send.
- ``validate_core``: kubernetes-validate (official schemas, strict) for core objects.
- ``validate_custom``: custom resources against their CRD schema (see ``CRD_SOURCES``).
- ``pod_specs`` / ``hardening_problems``: every rendered pod spec and the hardened rules.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from hera.workflows.models.io.argoproj.workflow.v1alpha1 import CronWorkflow, WorkflowTemplate

from mlops_infra.engine.captured import CapturedResource, CapturedStack

# Workaround: plan() runs programs with the repository as project directory, and the engine drops
# modules first imported during a run from under that directory afterwards, which includes the
# lazily imported pulumi-kubernetes type modules in .venv; later runs then fail resolving their
# type hints (NameError: _meta). Importing them up front keeps them loaded.
for _group in ("core.v1", "apps.v1", "batch.v1", "networking.v1", "rbac.v1", "policy.v1", "meta.v1"):
    for _module in ("_inputs", "outputs"):
        importlib.import_module(f"pulumi_kubernetes.{_group}.{_module}")

KUBERNETES_VERSIONS = ("1.30.0", "1.31.0", "1.32.0", "1.33.0")
SCHEMA_DIR = Path(__file__).parent / "crd_schemas"
CRD_GROUPS = (
    "serving.kserve.io",
    "argoproj.io",
    "monitoring.coreos.com",
    "gateway.networking.k8s.io",
    "networking.istio.io",
    "pipelines.kubeflow.org",
    "kubeflow.org",
    "operator.knative.dev",
    "cert-manager.io",
    "mlops.seldon.io",
)
SECRET_PLACEHOLDER = "[secret]"

# Where each custom resource's schema comes from (the tests print/assert this).
_KSERVE = "kserve/kserve config/crd/full/serving.kserve.io_inferenceservices.yaml @ v0.20.0 (1fb78105)"
_PROM = "prometheus-operator/prometheus-operator example/prometheus-operator-crd"
_CERT_MANAGER = "cert-manager/cert-manager deploy/crds/"
_SELDON = "SeldonIO/seldon-core k8s/yaml/crds.yaml @ v2.10.2 (8ca3c3c7, 2025-12-18), full v1alpha1 schema"
_HERA = "hera (test-integration extra): pydantic models generated from the Argo Workflows 4.0.5 JSON schema"
CRD_SOURCES = {
    "InferenceService": f"vendored subset of {_KSERVE}: crd_schemas/kserve-v1beta1-inferenceservice.yaml",
    "PrometheusRule": f"vendored {_PROM} v0.82.2: crd_schemas/prometheus-operator-v1-prometheusrule.yaml",
    "ServiceMonitor": f"vendored subset of {_PROM} v0.84.1: crd_schemas/prometheus-operator-v1-servicemonitor.yaml",
    "AlertmanagerConfig": f"hand-written subset (fields the SDK writes, types of {_PROM} v0.93.1): "
    "crd_schemas/prometheus-operator-v1alpha1-alertmanagerconfig.yaml",
    "CronWorkflow": _HERA,
    "WorkflowTemplate": _HERA,
    "HTTPRoute": "vendored kubernetes-sigs/gateway-api config/crd/standard/gateway.networking.k8s.io_httproutes.yaml "
    "@ v1.4.1 (477d172e), standard channel, full v1 schema: crd_schemas/gateway-api-v1-httproute.yaml",
    "KnativeServing": "vendored knative/operator config/crd/bases/operator.knative.dev_knativeservings.yaml @ "
    "knative-v1.21.1 (b01459c4), full v1beta1 schema: crd_schemas/knative-operator-v1beta1-knativeserving.yaml",
    "VirtualService": "vendored istio/api kubernetes/customresourcedefinitions.gen.yaml @ 1.28.0 (a5aa715c), "
    "full networking.istio.io/v1 schema: crd_schemas/istio-networking-v1-virtualservice.yaml",
    "Issuer": f"vendored {_CERT_MANAGER}cert-manager.io_issuers.yaml @ v1.19.6 (60b0447c), full v1 schema: "
    "crd_schemas/cert-manager-v1-issuer.yaml",
    "Certificate": f"vendored {_CERT_MANAGER}cert-manager.io_certificates.yaml @ v1.19.6 (60b0447c), full v1 schema: "
    "crd_schemas/cert-manager-v1-certificate.yaml",
    "Model": f"vendored {_SELDON}: crd_schemas/seldon-v1alpha1-model.yaml",
    "Server": f"vendored {_SELDON}: crd_schemas/seldon-v1alpha1-server.yaml",
    "Experiment": f"vendored {_SELDON}: crd_schemas/seldon-v1alpha1-experiment.yaml",
}
_KFP = "kubeflow/pipelines @ 2.17.0 (4a3592cb)"
CRD_SOURCES.update(
    {
        "Pipeline": f"vendored {_KFP} manifests/kustomize/base/crds, full v2beta1 schema: "
        "crd_schemas/kubeflow-pipelines-v2beta1-pipeline.yaml",
        "PipelineVersion": f"vendored {_KFP} manifests/kustomize/base/crds, full v2beta1 schema: "
        "crd_schemas/kubeflow-pipelines-v2beta1-pipelineversion.yaml",
        "ScheduledWorkflow": f"hand-written from {_KFP} backend/src/crd/pkg/apis/scheduledworkflow/v1beta1/types.go "
        "(the CRD preserves unknown fields): crd_schemas/kubeflow-v1beta1-scheduledworkflow.yaml",
    }
)
_SCHEMA_FILES = {
    "InferenceService": "kserve-v1beta1-inferenceservice.yaml",
    "PrometheusRule": "prometheus-operator-v1-prometheusrule.yaml",
    "ServiceMonitor": "prometheus-operator-v1-servicemonitor.yaml",
    "AlertmanagerConfig": "prometheus-operator-v1alpha1-alertmanagerconfig.yaml",
    "HTTPRoute": "gateway-api-v1-httproute.yaml",
    "VirtualService": "istio-networking-v1-virtualservice.yaml",
    "Pipeline": "kubeflow-pipelines-v2beta1-pipeline.yaml",
    "PipelineVersion": "kubeflow-pipelines-v2beta1-pipelineversion.yaml",
    "ScheduledWorkflow": "kubeflow-v1beta1-scheduledworkflow.yaml",
    "KnativeServing": "knative-operator-v1beta1-knativeserving.yaml",
    "Issuer": "cert-manager-v1-issuer.yaml",
    "Certificate": "cert-manager-v1-certificate.yaml",
    "Model": "seldon-v1alpha1-model.yaml",
    "Server": "seldon-v1alpha1-server.yaml",
    "Experiment": "seldon-v1alpha1-experiment.yaml",
}


def api_version_kind(type_token: str) -> tuple[str, str]:
    """``kubernetes:apps/v1:Deployment`` -> (``apps/v1``, ``Deployment``); core/v1 -> ``v1``."""
    _, module, kind = type_token.split(":")
    return (module.removeprefix("core/"), kind)


def is_core(resource: CapturedResource) -> bool:
    if not resource.custom or resource.package != "kubernetes":
        return False
    group = resource.type.split(":")[1].split("/")[0]
    return group not in CRD_GROUPS


def manifest(resource: CapturedResource) -> dict[str, Any]:
    """The object's Kubernetes JSON; apiVersion/kind from the type token (checked against the inputs)."""
    api_version, kind = api_version_kind(resource.type)
    data = copy.deepcopy(resource.inputs)
    assert data.get("apiVersion", api_version) == api_version and data.get("kind", kind) == kind
    data["apiVersion"], data["kind"] = api_version, kind
    if kind == "Secret" and data.get("stringData") == SECRET_PLACEHOLDER:
        # The engine masks secret values as a whole; the schema only needs a string map.
        data["stringData"] = {"masked": "value"}
    return data


def core_objects(stack: CapturedStack) -> list[CapturedResource]:
    return [r for r in stack.resources if is_core(r)]


def validate_core(stack: CapturedStack, version: str) -> list[str]:
    """Problems of every core object against the official schema of ``version`` (strict: no unknown fields)."""
    problems = []
    for resource in core_objects(stack):
        try:
            kubernetes_validate.validate(manifest(resource), version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{resource.name} ({resource.type}) @ {version}: {exc.message} at {list(exc.path)}")
    return problems


def strict(schema: Any) -> Any:
    """Forbid unknown fields where the CRD lists properties (as kubectl's strict field validation does)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@functools.cache
def _validator(kind: str) -> jsonschema.Draft7Validator:
    """One validator per kind (the Server schema alone is 4,000 lines: parse it once per session)."""
    return jsonschema.Draft7Validator(crd_schema(kind))


def crd_schema(kind: str) -> dict[str, Any]:
    return strict(yaml.safe_load((SCHEMA_DIR / _SCHEMA_FILES[kind]).read_text()))


def _argo_problems(data: dict[str, Any]) -> list[str]:
    model = {"CronWorkflow": CronWorkflow, "WorkflowTemplate": WorkflowTemplate}[data["kind"]]
    try:
        parsed = model.model_validate(data)
    except Exception as exc:  # noqa: BLE001 - pydantic's error is the report
        return [str(exc)]
    # Unknown fields are dropped and coerced values change: a lossless round trip proves neither happened.
    dumped = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [] if dumped == json.loads(json.dumps(data)) else [f"not lossless: {_diff(data, dumped)}"]


def _diff(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _diff(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _diff(x, y, f"{path}[{i}]")
    return f"{path}: {a!r} != {b!r}"


def custom_problems(data: dict[str, Any]) -> list[str]:
    """Problems of one custom resource (Kubernetes JSON) against its CRD schema."""
    if data["kind"] in ("CronWorkflow", "WorkflowTemplate"):
        return _argo_problems(data)
    validator = _validator(data["kind"])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def validate_custom(stack: CapturedStack) -> list[str]:
    problems = []
    for resource in stack.custom_resources():
        if resource.package == "kubernetes" and not is_core(resource):
            problems += [f"{resource.name}: {p}" for p in custom_problems(manifest(resource))]
    return problems


# --- pod specs --------------------------------------------------------------------------------


def pod_specs(resource: CapturedResource) -> list[tuple[dict[str, Any], list[dict[str, Any]], str]]:
    """(pod-level spec, containers, where) for every pod the object renders."""
    spec = resource.inputs.get("spec") or {}
    kind = resource.type.split(":")[-1]
    if kind in ("Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet"):
        pod = spec["template"]["spec"]
        return [(pod, pod["containers"] + pod.get("initContainers", []), "spec.template.spec")]
    if kind == "CronJob":
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        return [(pod, pod["containers"], "spec.jobTemplate.spec.template.spec")]
    if kind == "Pod":
        return [(spec, spec["containers"], "spec")]
    if kind == "WorkflowTemplate":
        containers = [t["container"] for t in spec["templates"] if "container" in t]
        return [(spec, containers, "spec")]
    if kind == "CronWorkflow":
        inline = spec["workflowSpec"]
        if "templates" not in inline:
            return []  # references a WorkflowTemplate, checked on its own
        return [(inline, [t["container"] for t in inline["templates"] if "container" in t], "spec.workflowSpec")]
    if kind == "InferenceService":
        predictors = [("spec.predictor", spec["predictor"])]
        predictors += [(f"spec.canary[{i}].predictor", c["predictor"]) for i, c in enumerate(spec.get("canary", []))]
        return [(p, [p["model"], *p.get("containers", [])], where) for where, p in predictors]
    if kind == "Server":  # Seldon Core v2: the podSpec override merged onto the ServerConfig's
        return [(spec["podSpec"], spec["podSpec"]["containers"], "spec.podSpec")]
    return []


_PINNED = re.compile(r"(@sha256:[0-9a-f]{64}$)|(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]*$)")


def hardening_problems(pod: dict[str, Any], containers: list[dict[str, Any]], *, token_allowed: bool) -> list[str]:
    """The hardened-workload rules, checked on rendered Kubernetes JSON."""
    problems = []
    pod_sc = pod.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True or not (pod_sc.get("runAsUser") or 0) > 0:
        problems.append("pod must set runAsNonRoot: true and a non-zero runAsUser")
    if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("pod seccompProfile must be RuntimeDefault")
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(f"{field} must not be true")
    if pod.get("automountServiceAccountToken") is not False and not token_allowed:
        problems.append("automountServiceAccountToken must be false")
    if not pod.get("serviceAccountName"):
        problems.append("pod must name its own ServiceAccount")
    scratch = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in containers:
        name = container.get("name", "model")
        sc = container.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem must be true")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities must drop ALL")
        if (sc.get("capabilities") or {}).get("add"):
            problems.append(f"{name}: adds capabilities")
        if (sc.get("runAsUser") or 1) <= 0:
            problems.append(f"{name}: runs as root")
        resources = container.get("resources") or {}
        for section in ("requests", "limits"):
            for key in ("cpu", "memory"):
                if key not in (resources.get(section) or {}):
                    problems.append(f"{name}: missing {section}.{key}")
        if "image" in container and not _PINNED.search(container["image"]):
            problems.append(f"{name}: image {container['image']} is not pinned")
        if not any(m["mountPath"] == "/tmp" and m["name"] in scratch for m in container.get("volumeMounts", [])):
            problems.append(f"{name}: read-only root FS without an emptyDir /tmp")
    return problems


def stack_hardening_problems(stack: CapturedStack) -> list[str]:
    """Every pod spec of every object in the stack, checked; Argo pods may mount a token (executor)."""
    problems = []
    for resource in stack.custom_resources():
        for pod, containers, where in pod_specs(resource):
            token_allowed = resource.type.endswith(":WorkflowTemplate") or resource.type.endswith(":CronWorkflow")
            problems += [
                f"{resource.name} {where}: {p}"
                for p in hardening_problems(pod, containers, token_allowed=token_allowed)
            ]
    return problems


def rendered_pod_count(stack: CapturedStack) -> int:
    return sum(len(pod_specs(r)) for r in stack.custom_resources())


def all_strings(value: Any) -> list[str]:
    """Every string leaf of a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


def secret_leaks(stack: CapturedStack) -> list[str]:
    """Places outside Secrets where a secret value (masked as "[secret]") or a known plaintext appears."""
    leaks = []
    for resource in stack.custom_resources():
        if resource.type == "kubernetes:core/v1:Secret":
            continue
        for text in all_strings(resource.inputs):
            if SECRET_PLACEHOLDER in text:
                leaks.append(f"{resource.name}: {text[:80]}")
    return leaks
