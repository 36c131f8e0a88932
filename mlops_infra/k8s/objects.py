"""Creating the core objects a workload needs, always with explicit, stable names.

Every helper takes the owning component (children get ``parent=owner``) and a child suffix
(the URN name), and never lets Pulumi auto-name: ``metadata.name`` is always set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.markers import USES_KUBERNETES_API_MARKER
from mlops_infra.k8s.labels import selector_labels


def k8s_json(value: Any) -> Any:
    """Kubernetes JSON (camelCase) handed to a typed SDK argument: the SDK sends map keys unchanged."""
    return cast(Any, value)


def metadata(name: str, namespace: pulumi.Input[str] | None, labels: Mapping[str, str], **extra: Any) -> Any:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({key: value for key, value in extra.items() if value})
    return k8s_json(meta)


def service_account(
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    annotations: Mapping[str, str] | None = None,
    automount: bool = False,
) -> k8s.core.v1.ServiceAccount:
    """A ServiceAccount per workload; no API token mounted unless the workload calls the API server."""
    return k8s.core.v1.ServiceAccount(
        owner.child_name(suffix),
        metadata=metadata(name, namespace, labels, annotations=dict(annotations or {})),
        automount_service_account_token=automount,
        opts=owner.child_opts(),
    )


def run_service_account(
    owner: PlatformComponent[Any],
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    *,
    argo: bool,
) -> k8s.core.v1.ServiceAccount:
    """A scheduled run's ServiceAccount; under Argo its executor reports step results through the API, so
    the token is mounted and declared (``mlops-infra/uses-kubernetes-api``), never implicit."""
    api_client = {USES_KUBERNETES_API_MARKER: "true"} if argo else {}
    return service_account(
        owner, "sa", name, namespace, labels, annotations={**annotations, **api_client}, automount=argo
    )


def deployment(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    template: Mapping[str, Any],
    *,
    replicas: int,
    depends_on: Sequence[pulumi.Resource] = (),
    annotations: Mapping[str, str] | None = None,
) -> k8s.apps.v1.Deployment:
    return k8s.apps.v1.Deployment(
        owner.child_name(suffix),
        metadata=metadata(name, namespace, labels, annotations=dict(annotations or {})),
        spec=k8s_json(
            {
                "replicas": replicas,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": selector_labels(dict(labels))},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": dict(template),
            }
        ),
        opts=owner.child_opts(depends_on=list(depends_on)),
    )


def stateful_set(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    template: Mapping[str, Any],
    *,
    service_name: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.apps.v1.StatefulSet:
    """A single-replica StatefulSet; its data lives on an explicit (protectable) PVC, not a claim template."""
    return k8s.apps.v1.StatefulSet(
        owner.child_name(suffix),
        metadata=metadata(name, namespace, labels),
        spec=k8s_json(
            {
                "replicas": 1,
                "serviceName": service_name,
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate"},
                "selector": {"matchLabels": selector_labels(dict(labels))},
                "template": dict(template),
            }
        ),
        opts=owner.child_opts(depends_on=list(depends_on)),
    )


def service(  # noqa: PLR0917 - (owner, suffix, name, namespace, labels, ...) like every helper here
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    ports: Sequence[tuple[str, int, int | str]],
    *,
    headless: bool = False,
) -> k8s.core.v1.Service:
    """A ClusterIP (or headless) Service: never a LoadBalancer or NodePort, so nothing is public."""
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": selector_labels(dict(labels)),
        "ports": [
            {"name": port_name, "port": port, "targetPort": target, "protocol": "TCP"}
            for port_name, port, target in ports
        ],
    }
    if headless:
        spec["clusterIP"] = "None"
    return k8s.core.v1.Service(
        owner.child_name(suffix),
        metadata=metadata(name, namespace, labels),
        spec=k8s_json(spec),
        opts=owner.child_opts(),
    )


def persistent_volume_claim(
    owner: PlatformComponent[Any],
    suffix: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    size: str,
    storage_class: str | None,
    access_mode: str = "ReadWriteOnce",
) -> k8s.core.v1.PersistentVolumeClaim:
    """An explicit PVC: a Pulumi resource, so the stack transform protects it in protected environments.

    StatefulSet ``volumeClaimTemplates`` would create PVCs Pulumi never sees (unprotected, and
    orphaned or lost outside any plan), so stateful workloads mount this claim instead.
    """
    spec: dict[str, Any] = {"accessModes": [access_mode], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return k8s.core.v1.PersistentVolumeClaim(
        owner.child_name(suffix),
        # With WaitForFirstConsumer storage classes a claim stays Pending until its pod is
        # scheduled; the StatefulSet's own readiness wait reports a claim that never binds.
        metadata=metadata(name, namespace, labels, annotations={"pulumi.com/skipAwait": "true"}),
        spec=k8s_json(spec),
        opts=owner.child_opts(),
    )


def name_of(resource: Any) -> pulumi.Output[str]:
    """``metadata.name`` of a created object, as an Output (carries the dependency on it)."""
    output: pulumi.Output[str] = resource.metadata.apply(lambda meta: str(meta.name))
    return output


def argo_executor_rbac(
    owner: PlatformComponent[Any], name: str, namespace: pulumi.Input[str], labels: Mapping[str, str]
) -> tuple[k8s.rbac.v1.Role, k8s.rbac.v1.RoleBinding]:
    """What Argo's executor in a pod of ServiceAccount ``name`` needs: report step results, nothing more."""
    role = k8s.rbac.v1.Role(
        owner.child_name("executor-role"),
        metadata=metadata(f"{name}-executor", namespace, labels),
        rules=k8s_json(
            [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}]
        ),
        opts=owner.child_opts(),
    )
    binding = k8s.rbac.v1.RoleBinding(
        owner.child_name("executor-binding"),
        metadata=metadata(f"{name}-executor", namespace, labels),
        role_ref=k8s_json({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{name}-executor"}),
        subjects=k8s_json([{"kind": "ServiceAccount", "name": name, "namespace": namespace}]),
        opts=owner.child_opts(depends_on=[role]),
    )
    return role, binding
