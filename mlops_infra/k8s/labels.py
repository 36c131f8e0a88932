"""Standard ``app.kubernetes.io/*`` labels and the component names network policies select on.

The four required labels (project, environment, owner, cost-center) come from the stack
transform; these add what kubectl, dashboards and NetworkPolicies use to find a workload.
"""

from __future__ import annotations

from typing import Final

from mlops_infra.conventions.labels import k8s_label_value

NAME: Final = "app.kubernetes.io/name"
INSTANCE: Final = "app.kubernetes.io/instance"
COMPONENT: Final = "app.kubernetes.io/component"
PART_OF: Final = "app.kubernetes.io/part-of"
MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGER: Final = "pulumi"

# Values of app.kubernetes.io/component across the platform (NetworkPolicies select on them).
ONLINE_STORE: Final = "online-store"
FEATURE_SERVER: Final = "feature-server"
FEATURE_APPLY: Final = "feature-apply"
FEATURE_MATERIALIZE: Final = "feature-materialize"
TRAINING: Final = "training"
MODEL_REGISTRY: Final = "model-registry"
REGISTRY_DATABASE: Final = "registry-database"
PREDICTOR: Final = "predictor"


def standard_labels(name: str, instance: str, component: str, part_of: str) -> dict[str, str]:
    """The five recommended labels; values are made label-safe (<= 63 chars)."""
    return {
        NAME: k8s_label_value(name),
        INSTANCE: k8s_label_value(instance),
        COMPONENT: k8s_label_value(component),
        PART_OF: k8s_label_value(part_of),
        MANAGED_BY: MANAGER,
    }


def selector_labels(labels: dict[str, str]) -> dict[str, str]:
    """The immutable subset used in Deployment/StatefulSet selectors (never the version or owner)."""
    return {key: labels[key] for key in (NAME, INSTANCE, COMPONENT)}
