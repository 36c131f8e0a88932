"""monitoring-required: production endpoints have drift monitoring and alarms (stack-level)."""

from __future__ import annotations

from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.stack_rules import (
    ALERT_POLICY,
    INFERENCE_SERVICE,
    METRIC_ALARM,
    MONITORING_SCHEDULE,
    PROMETHEUS_RULE,
    SAGEMAKER_ENDPOINT,
    VERTEX_ENDPOINT,
    endpoint_monitoring,
)

ID = "monitoring-required"

SPEC = PolicySpec(
    id=ID,
    title="Production endpoints have drift monitoring and alarms",
    description=(
        "In protected environments: a SageMaker endpoint has a MonitoringSchedule on it and a CloudWatch "
        "MetricAlarm on its EndpointName; a Vertex AI endpoint has a Cloud Monitoring AlertPolicy on it; a "
        "KServe InferenceService has a PrometheusRule that selects it."
    ),
    remediation="Use the platform's endpoint components (they add monitoring and alarms) or add the resources named.",
    resource_types={
        "aws": (SAGEMAKER_ENDPOINT, MONITORING_SCHEDULE, METRIC_ALARM),
        "gcp": (VERTEX_ENDPOINT, ALERT_POLICY),
        "kubernetes": (INFERENCE_SERVICE, PROMETHEUS_RULE),
    },
    stack_check=endpoint_monitoring,
    protected_only=True,
)
