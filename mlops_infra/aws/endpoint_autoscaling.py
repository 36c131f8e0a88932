"""Application Auto Scaling of one instance-based endpoint variant (target tracking on invocations).

An asynchronous endpoint tracks its queue instead (``ApproximateBacklogSizePerInstance``) and may
scale to zero; then a step policy on ``HasBacklogWithoutCapacity`` adds the first instance when
requests wait and none runs (target tracking alone cannot leave zero).

The scalable target is registered only after the endpoint exists (it names the endpoint's
variant), and it is keyed by the stable endpoint and variant names, so a new endpoint
configuration (a new model) does not touch it. SageMaker refuses an endpoint update that
changes the *instance type* of a scaled variant: do that in two deploys (see the docs page).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from mlops_infra.aws.endpoint_args import AutoscalingArgs
from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.conventions.naming import NameRule
from mlops_infra.spec.scaling import ScalingMetric

SERVICE_NAMESPACE = "sagemaker"
ENDPOINT_METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
CONCURRENCY_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
SAGEMAKER_METRICS_NAMESPACE = "AWS/SageMaker"
BACKLOG_METRIC = "ApproximateBacklogSizePerInstance"
NO_CAPACITY_METRIC = "HasBacklogWithoutCapacity"
SCALE_FROM_ZERO_PERIOD_SECONDS = 60
# Application Auto Scaling policy names: up to 256 printable characters.
SCALING_POLICY = NameRule(256, r"A-Za-z0-9._-")


def resource_id(endpoint_name: str, variant_name: str) -> str:
    """Application Auto Scaling's id of a SageMaker variant."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


def vcpus(instance_type: str) -> int:
    """vCPUs of a SageMaker instance type by its size (medium 1, large 2, xlarge 4, Nxlarge 4N)."""
    size = instance_type.rsplit(".", 1)[-1]
    if size in _VCPUS:
        return _VCPUS[size]
    return 4 * int(size.removesuffix("xlarge") or 1) if size.endswith("xlarge") else 1


_VCPUS = {"medium": 1, "large": 2, "xlarge": 4}


def tracked_metric(
    settings: AutoscalingArgs, endpoint: aws.sagemaker.Endpoint, variant_name: str, instance_type: str | None
) -> dict[str, Any]:
    """The target value and metric of the policy, in the units SageMaker reports.

    ``requests_per_second`` becomes invocations per instance per *minute*; ``cpu_percent`` is a share of
    the instance, while SageMaker's CPUUtilization sums every vCPU (up to 100 x vCPUs), so the target is
    scaled by the instance type's vCPUs.
    """
    if settings.backlog_per_replica is not None:
        # Queued requests per instance (per endpoint: the queue is the endpoint's, not a variant's).
        return {
            "target_value": settings.backlog_per_replica,
            "customized_metric_specification": {
                "namespace": SAGEMAKER_METRICS_NAMESPACE,
                "metric_name": BACKLOG_METRIC,
                "statistic": "Average",
                "dimensions": [{"name": "EndpointName", "value": endpoint.name}],
            },
        }
    target = settings.target
    if target is None:
        return {
            "target_value": settings.target_invocations_per_instance,
            "predefined_metric_specification": {"predefined_metric_type": PREDEFINED_METRIC},
        }
    if target.metric is ScalingMetric.REQUESTS_PER_SECOND:
        return {
            "target_value": target.value * 60,
            "predefined_metric_specification": {"predefined_metric_type": PREDEFINED_METRIC},
        }
    if target.metric is ScalingMetric.CONCURRENCY:
        return {
            "target_value": target.value,
            "predefined_metric_specification": {"predefined_metric_type": CONCURRENCY_METRIC},
        }
    cores = vcpus(instance_type) if instance_type else 1
    return {
        "target_value": target.value * cores,
        "customized_metric_specification": {
            "namespace": ENDPOINT_METRICS_NAMESPACE,
            "metric_name": "CPUUtilization",
            "statistic": "Average",
            "unit": "Percent",
            "dimensions": [
                {"name": "EndpointName", "value": endpoint.name},
                {"name": "VariantName", "value": variant_name},
            ],
        },
    }


def create_variant_autoscaling(
    component: PlatformComponent[Any],
    endpoint: aws.sagemaker.Endpoint,
    variant_name: str,
    settings: AutoscalingArgs,
    instance_type: str | None = None,
) -> tuple[aws.appautoscaling.Target, aws.appautoscaling.Policy]:
    """The scalable target and target-tracking policy of ``variant_name`` on ``endpoint``."""
    target = aws.appautoscaling.Target(
        component.child_name(f"{variant_name}-scaling-target"),
        service_namespace=SERVICE_NAMESPACE,
        scalable_dimension=SCALABLE_DIMENSION,
        resource_id=endpoint.name.apply(lambda name: resource_id(name, variant_name)),
        min_capacity=settings.min_replicas,
        max_capacity=settings.max_replicas,
        opts=component.child_opts(depends_on=[endpoint]),
    )
    policy = aws.appautoscaling.Policy(
        component.child_name(f"{variant_name}-scaling-policy"),
        name=component.platform.name(f"{component.logical_name}-{variant_name}-invocations", SCALING_POLICY),
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration=cast(
            aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgsDict,
            {
                **tracked_metric(settings, endpoint, variant_name, instance_type),
                "scale_in_cooldown": settings.scale_in_cooldown_seconds,
                "scale_out_cooldown": settings.scale_out_cooldown_seconds,
            },
        ),
        opts=component.child_opts(),
    )
    if settings.off_hours is not None:
        create_off_hours(component, target, variant_name, settings)
    return target, policy


def create_scale_from_zero(
    component: PlatformComponent[Any],
    endpoint: aws.sagemaker.Endpoint,
    target: aws.appautoscaling.Target,
    variant_name: str,
    *,
    settings: AutoscalingArgs,
    notify: Sequence[pulumi.Input[str]],
) -> tuple[aws.appautoscaling.Policy, aws.cloudwatch.MetricAlarm]:
    """A step policy adding one instance, and the alarm on ``HasBacklogWithoutCapacity`` that runs it.

    ``notify`` (the warning topics) hears the alarm too: requests waiting with no instance is worth
    knowing, and an alarm whose only action is Auto Scaling reaches nobody (policy alert-routing).
    """
    policy = aws.appautoscaling.Policy(
        component.child_name(f"{variant_name}-scale-from-zero"),
        name=component.platform.name(f"{component.logical_name}-{variant_name}-from-zero", SCALING_POLICY),
        policy_type="StepScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        step_scaling_policy_configuration={
            "adjustment_type": "ChangeInCapacity",
            "metric_aggregation_type": "Average",
            "cooldown": settings.scale_out_cooldown_seconds,
            "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}],
        },
        opts=component.child_opts(),
    )
    alarm = aws.cloudwatch.MetricAlarm(
        component.child_name(f"{variant_name}-backlog-without-capacity"),
        name=component.platform.name(
            f"{component.logical_name}-{variant_name}-backlog-without-capacity", naming.CLOUDWATCH_ALARM
        ),
        alarm_description=endpoint.name.apply(
            lambda name: f"Requests wait on {name} with no instance running: scaling out from zero."
        ),
        namespace=SAGEMAKER_METRICS_NAMESPACE,
        metric_name=NO_CAPACITY_METRIC,
        dimensions={"EndpointName": endpoint.name},
        statistic="Average",
        period=SCALE_FROM_ZERO_PERIOD_SECONDS,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="missing",
        actions_enabled=True,
        alarm_actions=[policy.arn, *notify],
        ok_actions=list(notify),
        opts=component.child_opts(),
    )
    return policy, alarm


# A SageMaker real-time variant's floor: Application Auto Scaling cannot take it below one instance.
OFF_HOURS_INSTANCES = 1


def create_off_hours(
    component: PlatformComponent[Any],
    target: aws.appautoscaling.Target,
    variant_name: str,
    settings: AutoscalingArgs,
) -> list[aws.appautoscaling.ScheduledAction]:
    """Two scheduled actions on ``target``: one instance at ``stop``, the autoscaling range back at ``start``."""
    off_hours = settings.off_hours
    if off_hours is None:
        return []
    actions: list[aws.appautoscaling.ScheduledAction] = []
    for phase, schedule, low, high in (
        ("stop", off_hours.stop, OFF_HOURS_INSTANCES, OFF_HOURS_INSTANCES),
        ("start", off_hours.start, settings.min_replicas, settings.max_replicas),
    ):
        actions.append(
            aws.appautoscaling.ScheduledAction(
                component.child_name(f"{variant_name}-off-hours-{phase}"),
                name=component.platform.name(
                    f"{component.logical_name}-{variant_name}-off-hours-{phase}", SCALING_POLICY
                ),
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                schedule=eventbridge_cron(schedule),
                timezone=schedule.time_zone,
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=low, max_capacity=high
                ),
                # One change at a time on the scalable target (Application Auto Scaling serializes them).
                opts=component.child_opts(depends_on=[target, *actions]),
            )
        )
    return actions
