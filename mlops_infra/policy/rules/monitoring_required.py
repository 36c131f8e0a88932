"""monitoring-required: production endpoints have drift monitoring (that retrains / that can fire) and alarms."""

from __future__ import annotations

from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import (
    ALERT_POLICY,
    INFERENCE_SERVICE,
    METRIC_ALARM,
    MONITORING_SCHEDULE,
    PROMETHEUS_RULE,
    SAGEMAKER_ENDPOINT,
    SCHEDULER_JOB,
    SELDON_MODEL,
    VERTEX_ENDPOINT,
    WORKFLOW,
    endpoint_monitoring,
)

ID = "monitoring-required"

SPEC = PolicySpec(
    id=ID,
    title="Production endpoints have drift monitoring and alarms",
    description=(
        "In protected environments: a SageMaker endpoint has a MonitoringSchedule on it and a CloudWatch "
        "MetricAlarm on its EndpointName; a Vertex AI endpoint has a Cloud Monitoring AlertPolicy on it and a drift "
        "check that starts retraining; a KServe InferenceService has a PrometheusRule that selects it, with a drift "
        "alert on a metric the stack exports; a Seldon Core v2 Model has a PrometheusRule on it or its Server (no "
        "drift alert: Seldon Models record no payloads)."
    ),
    remediation="Use the platform's endpoint components (they add monitoring and alarms) or add the resources named.",
    resource_types={
        "aws": (SAGEMAKER_ENDPOINT, MONITORING_SCHEDULE, METRIC_ALARM),
        "gcp": (VERTEX_ENDPOINT, ALERT_POLICY, WORKFLOW, SCHEDULER_JOB),
        "kubernetes": (INFERENCE_SERVICE, SELDON_MODEL, PROMETHEUS_RULE, "kubernetes:apps/v1:Deployment"),
    },
    stack_check=endpoint_monitoring,
    protected_only=True,
)
