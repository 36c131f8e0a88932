"""Markers a user sets to say "this control is off on purpose" (reviewable in code and in the cloud)."""

from __future__ import annotations

from mlops_infra.conventions.labels import gcp_label

# Tag / label / annotation key whose value "true" states that public exposure is intended.
ALLOW_PUBLIC_MARKER = "mlops-infra/allow-public"


def public_exposure_labels(allowed: bool) -> dict[str, str]:
    """GCP labels stating an explicit public opt-in (GCP label keys allow no "/": label-safe form)."""
    return {gcp_label(ALLOW_PUBLIC_MARKER): "true"} if allowed else {}


# Annotation on a Kubernetes workload (or its ServiceAccount) whose value "true" states that its pods call the
# Kubernetes API, so they may get a service-account token (automounted or projected); k8s-pod-security wants
# automountServiceAccountToken: false and no API token on everything else.
USES_KUBERNETES_API_MARKER = "mlops-infra/uses-kubernetes-api"

# PrometheusRule annotation (or label) whose value "true" states that its alerts are routed to people by an
# Alertmanager configured outside the stack (the cluster's own Alertmanager config), so alert-routing does
# not look for an AlertmanagerConfig in its namespace.
ALERTS_ROUTED_EXTERNALLY_MARKER = "mlops-infra/alerts-routed-externally"

# Annotation on the object that gates a KServe canary (CanaryGuard's CronJob): the names of the
# InferenceServices of its namespace it promotes and rolls back on metrics, comma-separated.
GUARDS_INFERENCE_SERVICES_MARKER = "mlops-infra/guards-inference-services"

# Annotation on a Kubernetes workload or Service that exports Prometheus metrics the policy cannot infer
# (a third-party drift detector): the metric names, comma-separated.
EXPORTED_METRICS_MARKER = "mlops-infra/exported-metrics"

# Annotation on a Kubernetes ResourceQuota whose caps a monthly spend budget set (SpendBudget): the budget in
# US dollars per month ("12000"). The cost estimator and the policy pack read the budget from it.
MONTHLY_BUDGET_USD_ANNOTATION = "mlops-infra/monthly-budget-usd"

# Annotation on a serving object that cannot record payloads (a Seldon Core v2 Model: the 2.10 scheduler does not
# apply spec.logger) whose value "true" states that serving it without request/response capture in a protected
# environment is accepted on purpose (SeldonEndpoint's allow_no_data_capture sets it); data-capture reads it.
NO_DATA_CAPTURE_MARKER = "mlops-infra/no-data-capture"
