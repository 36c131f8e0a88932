"""CloudWatch alarms on one endpoint variant; their names are what automatic rollback watches.

Three alarms per variant, all on ``AWS/SageMaker`` with dimensions ``EndpointName`` and
``VariantName`` (a blue/green deployment keeps the variant name, so the alarms see the new fleet):
the 5XX error rate (metric math, percent), p95 ``ModelLatency`` (reported in microseconds) and
``InvocationModelErrors``. Missing data (no traffic) is not breaching, so an idle endpoint never
rolls back.

Each alarm has a severity and tells that severity's topics on ALARM and on OK
(``AlarmArgs.actions``): the 5XX rate and model errors are ``critical`` (they page), p95 latency
is a ``warning``.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_infra.aws.endpoint_args import AlarmArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming

NAMESPACE = "AWS/SageMaker"
MICROSECONDS_PER_MILLISECOND = 1000


# The severity of each alarm (by its name suffix): who is told when it fires.
SEVERITY_OF = {"5xx-rate": "critical", "model-errors": "critical", "p95-latency": "warning"}


def _common(settings: AlarmArgs, actions: list[pulumi.Input[str]]) -> dict[str, Any]:
    return {
        "comparison_operator": "GreaterThanThreshold",
        "evaluation_periods": settings.evaluation_periods,
        "datapoints_to_alarm": settings.datapoints_to_alarm,
        "treat_missing_data": "notBreaching",
        "actions_enabled": True,
        "alarm_actions": actions,
        "ok_actions": actions,
    }


def _error_rate_queries(dimensions: dict[str, str], period: int) -> list[dict[str, Any]]:
    """5XX errors as a percentage of invocations; 0 when there were no invocations."""

    def metric(query_id: str, metric_name: str) -> dict[str, Any]:
        return {
            "id": query_id,
            "return_data": False,
            "metric": {
                "namespace": NAMESPACE,
                "metric_name": metric_name,
                "dimensions": dimensions,
                "period": period,
                "stat": "Sum",
            },
        }

    return [
        metric("invocations", "Invocations"),
        metric("errors", "Invocation5XXErrors"),
        {
            "id": "error_rate",
            "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
            "label": "5XX error rate (%)",
            "return_data": True,
        },
    ]


def create_variant_alarms(
    component: PlatformComponent[Any],
    endpoint_name: str,
    variant_name: str,
    settings: AlarmArgs,
) -> list[aws.cloudwatch.MetricAlarm]:
    """The 5XX-rate, p95-latency and model-error alarms of ``variant_name`` (children of ``component``)."""
    dimensions = {"EndpointName": endpoint_name, "VariantName": variant_name}
    where = f"{endpoint_name}/{variant_name}"

    def alarm(suffix: str, description: str, **props: Any) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            component.child_name(f"{variant_name}-{suffix}"),
            name=component.platform.name(f"{component.logical_name}-{variant_name}-{suffix}", naming.CLOUDWATCH_ALARM),
            alarm_description=f"{description} on {where}; rolls back a running deployment.",
            **_common(settings, list(settings.actions(SEVERITY_OF[suffix]))),
            **props,
            opts=component.child_opts(),
        )

    return [
        alarm(
            "5xx-rate",
            f"5XX responses above {settings.error_rate_percent} % of invocations",
            metric_queries=_error_rate_queries(dimensions, settings.period_seconds),
            threshold=settings.error_rate_percent,
        ),
        alarm(
            "p95-latency",
            f"p95 model latency above {settings.p95_latency_ms} ms",
            namespace=NAMESPACE,
            metric_name="ModelLatency",
            dimensions=dimensions,
            period=settings.period_seconds,
            extended_statistic="p95",
            # ModelLatency is reported in microseconds.
            threshold=settings.p95_latency_ms * MICROSECONDS_PER_MILLISECOND,
        ),
        alarm(
            "model-errors",
            f"more than {settings.model_errors_per_period} model invocation errors per {settings.period_seconds} s",
            namespace=NAMESPACE,
            metric_name="InvocationModelErrors",
            dimensions=dimensions,
            period=settings.period_seconds,
            statistic="Sum",
            threshold=settings.model_errors_per_period,
        ),
    ]
