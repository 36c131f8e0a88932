"""Application Auto Scaling of one instance-based endpoint variant (target tracking on invocations).

The scalable target is registered only after the endpoint exists (it names the endpoint's
variant), and it is keyed by the stable endpoint and variant names, so a new endpoint
configuration (a new model) does not touch it. SageMaker refuses an endpoint update that
changes the *instance type* of a scaled variant: do that in two deploys (see the docs page).
"""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from mlops_infra.aws.endpoint_args import AutoscalingArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.naming import NameRule

SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
# Application Auto Scaling policy names: up to 256 printable characters.
SCALING_POLICY = NameRule(256, r"A-Za-z0-9._-")


def resource_id(endpoint_name: str, variant_name: str) -> str:
    """Application Auto Scaling's id of a SageMaker variant."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


def create_variant_autoscaling(
    component: PlatformComponent[Any],
    endpoint: aws.sagemaker.Endpoint,
    variant_name: str,
    settings: AutoscalingArgs,
) -> tuple[aws.appautoscaling.Target, aws.appautoscaling.Policy]:
    """The scalable target and target-tracking policy of ``variant_name`` on ``endpoint``."""
    target = aws.appautoscaling.Target(
        component.child_name(f"{variant_name}-scaling-target"),
        service_namespace=SERVICE_NAMESPACE,
        scalable_dimension=SCALABLE_DIMENSION,
        resource_id=endpoint.name.apply(lambda name: resource_id(name, variant_name)),
        min_capacity=settings.min_capacity,
        max_capacity=settings.max_capacity,
        opts=component.child_opts(depends_on=[endpoint]),
    )
    policy = aws.appautoscaling.Policy(
        component.child_name(f"{variant_name}-scaling-policy"),
        name=component.platform.name(f"{component.logical_name}-{variant_name}-invocations", SCALING_POLICY),
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration={
            "target_value": settings.target_invocations_per_instance,
            "predefined_metric_specification": {"predefined_metric_type": PREDEFINED_METRIC},
            "scale_in_cooldown": settings.scale_in_cooldown_seconds,
            "scale_out_cooldown": settings.scale_out_cooldown_seconds,
        },
        opts=component.child_opts(),
    )
    return target, policy
