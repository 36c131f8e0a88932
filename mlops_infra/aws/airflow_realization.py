"""``training.orchestrator: airflow`` on AWS: an Amazon MWAA environment whose DAG starts the training pipeline.

The DAG owns the schedule: ``training_args`` then gives the pipeline no EventBridge schedule, so
one scheduler starts the runs (retraining on drift alarms is an event, not a schedule, and stays).
MWAA runs in the VPC the spec names in ``aws.network``: without it the spec is refused by that
field, because MWAA needs two private subnets with a route to AWS services, which this platform
does not build for you (a NAT gateway or VPC endpoints are a network decision, not an Airflow one).
"""

from __future__ import annotations

import pulumi
from pydantic import ValidationError

from mlops_infra.aws.airflow_environment import AirflowEnvironment, AirflowEnvironmentArgs
from mlops_infra.aws.training_pipeline import TrainingPipeline
from mlops_infra.realization import RealizeContext
from mlops_infra.spec.base import StrInput, field_error
from mlops_infra.spec.platform import PlatformSpec
from mlops_infra.spec.training import Orchestrator


def airflow_args(
    spec: PlatformSpec, key_arn: StrInput, pipeline_name: StrInput, pipeline_arn: StrInput
) -> AirflowEnvironmentArgs | None:
    """The MWAA environment's args for ``training.orchestrator: airflow``; None for any other orchestrator."""
    training = spec.training
    if training is None or training.orchestrator is not Orchestrator.AIRFLOW:
        return None
    network = spec.aws.network
    if network is None:
        raise field_error(
            PlatformSpec,
            ("aws", "network"),
            "training.orchestrator airflow runs Amazon MWAA in a VPC: set aws.network.vpc_id and "
            "aws.network.private_subnet_ids (two private subnets in different Availability Zones, with a NAT "
            "gateway or VPC endpoints)",
        )
    try:
        return AirflowEnvironmentArgs(
            kms_key_arn=key_arn,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            pipeline_name=pipeline_name,
            pipeline_arn=pipeline_arn,
            schedule=training.schedule,
            pipeline_parameters=dict(training.parameters),
        )
    except ValidationError as exc:  # pragma: no cover - the spec's own validation makes these args valid
        raise field_error(PlatformSpec, ("training", "orchestrator"), str(exc)) from None


def realize_airflow(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    key_arn: StrInput,
    training: TrainingPipeline,
) -> AirflowEnvironment | None:
    """The MWAA environment under ``parent`` when the spec asks for Airflow; None otherwise."""
    args = airflow_args(spec, key_arn, training.pipeline_name, training.pipeline_arn)
    if args is None:
        return None
    return AirflowEnvironment(context.child_name("airflow"), args, opts=context.opts(parent))
