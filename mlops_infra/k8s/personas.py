"""RBAC role tables of the personas, with explicit verbs and resources (never ``*``).

- data-scientist: reads and writes datasets (ConfigMaps, PVCs), runs training (Jobs,
  CronJobs, Argo Workflows/CronWorkflows), reads what is deployed. Registering models goes
  through the MLflow service (granted by ModelRegistry's ``user_groups``), not the API.
- ml-engineer: deploys and monitors (InferenceServices, Deployments, HPAs, PDBs,
  ServiceMonitors, PrometheusRules), reads training, may submit a retraining Workflow.
- viewer: get/list/watch only.
- devops (optional): operates endpoints and alerts (InferenceServices, scaling, PDBs,
  Prometheus rules and monitors, Alertmanager routing); reads pods, logs and events; no ConfigMaps or PVCs (no data).
- analyst (optional): reads dashboards' sources and cost (ResourceQuota usage); nothing else.
Nobody gets Secrets, RBAC objects, or ``pods/exec``: those stay with the platform team.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

READ: Final = ("get", "list", "watch")
WRITE: Final = ("create", "update", "patch", "delete")
READ_WRITE: Final = READ + WRITE


@dataclass(frozen=True)
class Rule:
    """One RBAC PolicyRule."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]

    def wire(self) -> dict[str, list[str]]:
        return {"apiGroups": list(self.api_groups), "resources": list(self.resources), "verbs": list(self.verbs)}


CORE: Final = ""
KSERVE: Final = "serving.kserve.io"
ARGO: Final = "argoproj.io"
MONITORING: Final = "monitoring.coreos.com"

DATA_SCIENTIST: Final = (
    Rule((CORE,), ("configmaps", "persistentvolumeclaims"), READ_WRITE),
    Rule((CORE,), ("events", "pods", "pods/log", "services"), READ),
    Rule(("batch",), ("cronjobs", "jobs"), READ_WRITE),
    Rule((ARGO,), ("cronworkflows", "workflows"), READ_WRITE),
    Rule((ARGO,), ("workflowtemplates",), READ),
    Rule((KSERVE,), ("inferenceservices",), READ),
)

ML_ENGINEER: Final = (
    Rule((KSERVE,), ("inferenceservices",), READ_WRITE),
    Rule((KSERVE,), ("servingruntimes",), READ),
    Rule(("apps",), ("deployments",), READ_WRITE),
    Rule(("apps",), ("deployments/scale",), ("get", "update", "patch")),
    Rule(("apps",), ("replicasets", "statefulsets"), READ),
    Rule(("autoscaling",), ("horizontalpodautoscalers",), READ_WRITE),
    Rule(("policy",), ("poddisruptionbudgets",), READ_WRITE),
    Rule((MONITORING,), ("podmonitors", "prometheusrules", "servicemonitors"), READ_WRITE),
    Rule(
        (CORE,), ("configmaps", "endpoints", "events", "persistentvolumeclaims", "pods", "pods/log", "services"), READ
    ),
    Rule(("batch",), ("cronjobs", "jobs"), READ),
    Rule((ARGO,), ("workflows",), (*READ, "create")),
    Rule((ARGO,), ("cronworkflows", "workflowtemplates"), READ),
)

VIEWER: Final = (
    Rule(
        (CORE,), ("configmaps", "endpoints", "events", "persistentvolumeclaims", "pods", "pods/log", "services"), READ
    ),
    Rule(("apps",), ("deployments", "replicasets", "statefulsets"), READ),
    Rule(("batch",), ("cronjobs", "jobs"), READ),
    Rule(("autoscaling",), ("horizontalpodautoscalers",), READ),
    Rule(("policy",), ("poddisruptionbudgets",), READ),
    Rule((ARGO,), ("cronworkflows", "workflows", "workflowtemplates"), READ),
    Rule((KSERVE,), ("inferenceservices",), READ),
    Rule((MONITORING,), ("podmonitors", "prometheusrules", "servicemonitors"), READ),
)

DEVOPS: Final = (
    Rule((KSERVE,), ("inferenceservices",), (*READ, "update", "patch")),
    Rule((MONITORING,), ("alertmanagerconfigs",), READ_WRITE),
    Rule(("apps",), ("deployments", "replicasets"), READ),
    Rule(("apps",), ("deployments/scale",), ("get", "update", "patch")),
    Rule(("autoscaling",), ("horizontalpodautoscalers",), READ_WRITE),
    Rule(("policy",), ("poddisruptionbudgets",), READ_WRITE),
    Rule((MONITORING,), ("podmonitors", "prometheusrules", "servicemonitors"), READ_WRITE),
    Rule((CORE,), ("endpoints", "events", "pods", "pods/log", "services"), READ),
    Rule((CORE,), ("limitranges", "resourcequotas"), READ),
)

ANALYST: Final = (
    Rule((CORE,), ("limitranges", "resourcequotas"), READ),
    Rule((MONITORING,), ("prometheusrules", "servicemonitors"), READ),
    Rule((KSERVE,), ("inferenceservices",), READ),
)

PERSONAS: Final[dict[str, tuple[Rule, ...]]] = {
    "data-scientist": DATA_SCIENTIST,
    "ml-engineer": ML_ENGINEER,
    "viewer": VIEWER,
}
"""Roles every team namespace has (bound when the persona has groups)."""

OPTIONAL_PERSONAS: Final[dict[str, tuple[Rule, ...]]] = {
    "devops": DEVOPS,
    "analyst": ANALYST,
}
"""Roles created only when the persona has groups (so existing namespaces gain nothing unasked)."""
