"""SageMaker: endpoints (variants x autoscaling), pipelines (steps x scheduled runs), Model Monitor schedules."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

from mlops_infra.cost.catalogue import MONTH_HOURS
from mlops_infra.cost.model import (
    Pricer,
    Unreadable,
    by_name,
    money,
    number,
    read_bool,
    read_count,
    read_list,
    read_mapping,
    read_number,
    read_text,
)
from mlops_infra.cost.runs import ScheduleError, runs_per_month
from mlops_infra.engine.captured import CapturedResource, CapturedStack

# Model Monitor jobs: expected duration assumed per run (worst case is the job's max runtime).
MONITORING_EXPECTED_MINUTES = 15
MONITORING_DEFAULT_MAX_SECONDS = 3600  # SageMaker's limit for a monitoring job without stoppingCondition

T_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
T_ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
T_SCALING_TARGET = "aws:appautoscaling/target:Target"
T_PIPELINE = "aws:sagemaker/pipeline:Pipeline"
T_SCHEDULE = "aws:scheduler/schedule:Schedule"
T_MONITORING = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
_JOB_DEFINITIONS = (
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
    "aws:sagemaker/modelQualityJobDefinition:ModelQualityJobDefinition",
    "aws:sagemaker/modelBiasJobDefinition:ModelBiasJobDefinition",
    "aws:sagemaker/modelExplainabilityJobDefinition:ModelExplainabilityJobDefinition",
)


# --- SageMaker endpoints ------------------------------------------------------------------------


def _scaling_targets(stack: CapturedStack) -> tuple[dict[tuple[str, str], dict[str, Any]], bool]:
    """Autoscaling targets by (endpoint, variant), and whether some target's resourceId is unreadable."""
    targets: dict[tuple[str, str], dict[str, Any]] = {}
    unreadable = False
    for target in stack.by_type(T_SCALING_TARGET):
        resource_id = target.inputs.get("resourceId")
        if not isinstance(resource_id, str) or not isinstance(target.inputs.get("serviceNamespace", ""), str):
            unreadable = True
            continue
        match = re.fullmatch(r"endpoint/([^/]+)/variant/([^/]+)", resource_id)
        if match and target.inputs.get("serviceNamespace", "sagemaker") == "sagemaker":
            targets[(match.group(1), match.group(2))] = target.inputs
    return targets, unreadable


def price_endpoints(p: Pricer) -> None:
    stack = p.stack
    configs = {r.urn: r for r in stack.by_type(T_ENDPOINT_CONFIG)}
    configs_by_name = by_name(stack, T_ENDPOINT_CONFIG)
    targets, unreadable_target = _scaling_targets(stack)
    for endpoint in stack.by_type(T_ENDPOINT):

        def price(endpoint: CapturedResource = endpoint) -> None:
            config_name = endpoint.inputs.get("endpointConfigName")
            config = configs_by_name.get(config_name) if isinstance(config_name, str) else None
            if config is None:
                config = next((configs[u] for u in endpoint.dependencies if u in configs), None)
            if config is None:
                raise Unreadable("its endpoint configuration is not in this stack, so its instances are unknown")
            endpoint_name = read_text(endpoint.inputs.get("name"), "endpoint name", default=endpoint.name)
            # A shadow variant runs (and bills) its own instances like a production variant.
            variants = [
                *read_list(config.inputs.get("productionVariants"), "productionVariants"),
                *read_list(config.inputs.get("shadowProductionVariants"), "shadowProductionVariants"),
            ]
            for variant in variants:
                _price_variant(
                    p,
                    endpoint,
                    endpoint_name,
                    read_mapping(variant, "production variant"),
                    targets,
                    unreadable_target=unreadable_target,
                )

        p.guarded(endpoint, price)


def _price_variant(
    p: Pricer,
    endpoint: CapturedResource,
    endpoint_name: str,
    variant: dict[str, Any],
    targets: dict[tuple[str, str], dict[str, Any]],
    *,
    unreadable_target: bool,
) -> None:
    variant_name = read_text(variant.get("variantName"), "variant name")
    label = f"variant {variant_name}: "
    serverless = read_mapping(variant.get("serverlessConfig"), f"{label}serverlessConfig")
    if serverless:
        memory = read_count(serverless.get("memorySizeInMb"), f"{label}serverless memory size")
        concurrency = read_count(serverless.get("maxConcurrency"), f"{label}serverless max concurrency", default=1)
        per_second, _ = p.rate("aws", "sagemaker.serverless", f"memory-{memory}mb", p.aws_region, "inference-second")
        seconds = MONTH_HOURS * 3600
        worst = concurrency * seconds * per_second
        p.item(
            endpoint,
            worst,
            worst,
            f"{label}serverless {concurrency} max concurrency x {memory} MB x {MONTH_HOURS} h x 3600 s x "
            f"{money(per_second)}/s (worst case: always busy; expected = worst case, traffic unknown)"
            + p.aws_region_note,
        )
        return
    instance_type = read_text(variant.get("instanceType"), f"{label}instance type")
    usd, why = p.aws_hourly("sagemaker.hosting", instance_type)
    if usd is None:
        raise Unreadable(label + why)
    target = targets.get((endpoint_name, variant_name))
    if target is not None:
        worst_count = read_count(target.get("maxCapacity"), f"{label}autoscaling max capacity")
        expected_count = read_count(target.get("minCapacity"), f"{label}autoscaling min capacity", default=worst_count)
        source = "autoscaling max/min capacity"
    elif unreadable_target:
        raise Unreadable(
            f"{label}an autoscaling target's resourceId is unknown until apply, so its max capacity is unknown"
        )
    else:
        worst_count = expected_count = read_count(
            variant.get("initialInstanceCount"), f"{label}instance count", default=1
        )
        source = "initial instance count, no autoscaling target"
    basis = f"{label}{worst_count} x {instance_type} x {MONTH_HOURS} h x {money(usd)}"
    if expected_count != worst_count:
        basis += f"; expected {expected_count} x"
    basis += f" ({source})" + p.aws_region_note
    p.item(endpoint, worst_count * MONTH_HOURS * usd, expected_count * MONTH_HOURS * usd, basis)


# --- SageMaker pipelines (training and processing steps) ----------------------------------------


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and set(value) == {"Get"} and str(value["Get"]).startswith("Parameters."):
        return parameters.get(str(value["Get"]).split(".", 1)[1])
    return value


def _pipeline_schedules(stack: CapturedStack) -> tuple[dict[str, list[str]], list[str]]:
    """Schedule expressions by pipeline name, and the reasons schedules whose target is unreadable."""
    found: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for schedule in stack.by_type(T_SCHEDULE):
        try:
            target = read_mapping(schedule.inputs.get("target"), "schedule target")
            if read_text(schedule.inputs.get("state"), "schedule state", default="ENABLED") == "DISABLED":
                continue
            arn = read_text(target.get("arn"), "schedule target arn", default="")
            name = None
            if arn.endswith("sagemaker:startPipelineExecution"):
                document = json.loads(read_text(target.get("input"), "schedule target input", default="{}"))
                name = document.get("PipelineName") if isinstance(document, dict) else None
            elif ":pipeline/" in arn:
                name = arn.rsplit(":pipeline/", 1)[1]
            if name:
                expression = read_text(schedule.inputs.get("scheduleExpression"), "schedule expression")
                found.setdefault(str(name), []).append(expression)
        except (Unreadable, ValueError) as exc:
            unreadable.append(f"schedule {schedule.name}: {exc}")
    return found, unreadable


def _steps(definition: dict[str, Any]) -> Iterator[tuple[str, str, Any, Any, Any, bool]]:
    """(step name, kind, instance type, count, max runtime s, spot) of each training/processing step."""
    parameters: dict[str, Any] = {}
    for raw_parameter in read_list(definition.get("Parameters"), "pipeline Parameters"):
        parameter = read_mapping(raw_parameter, "pipeline parameter")
        parameters[str(parameter.get("Name"))] = parameter.get("DefaultValue")
    for raw_step in read_list(definition.get("Steps"), "pipeline Steps"):
        step = read_mapping(raw_step, "pipeline step")
        arguments = read_mapping(step.get("Arguments"), "step Arguments")
        stopping = read_mapping(arguments.get("StoppingCondition"), "step StoppingCondition")
        if step.get("Type") == "Training":
            resources = read_mapping(arguments.get("ResourceConfig"), "step ResourceConfig")
            kind = "training"
            spot = read_bool(arguments.get("EnableManagedSpotTraining"), "EnableManagedSpotTraining", default=False)
        elif step.get("Type") == "Processing":
            processing = read_mapping(arguments.get("ProcessingResources"), "step ProcessingResources")
            resources = read_mapping(processing.get("ClusterConfig"), "step ClusterConfig")
            kind, spot = "processing", False
        else:
            continue
        yield (
            str(step.get("Name")),
            kind,
            _resolve(resources.get("InstanceType"), parameters),
            _resolve(resources.get("InstanceCount", 1), parameters),
            _resolve(stopping.get("MaxRuntimeInSeconds"), parameters),
            spot,
        )


def price_pipelines(p: Pricer) -> None:
    schedules, unreadable = _pipeline_schedules(p.stack)
    for pipeline in p.stack.by_type(T_PIPELINE):
        p.guarded(pipeline, functools.partial(_price_pipeline, p, pipeline, schedules, unreadable))


def _price_pipeline(
    p: Pricer, pipeline: CapturedResource, schedules: dict[str, list[str]], unreadable: list[str]
) -> None:
    name = read_text(pipeline.inputs.get("pipelineName"), "pipeline name", default=pipeline.name)
    text = read_text(pipeline.inputs.get("pipelineDefinition"), "pipelineDefinition", default="{}")
    try:
        definition = read_mapping(json.loads(text), "pipelineDefinition")
    except ValueError:
        raise Unreadable("its pipelineDefinition is not JSON the estimator can read") from None
    steps = list(_steps(definition))
    if not steps:
        return
    expressions = schedules.get(name)
    if not expressions:
        if unreadable:
            raise Unreadable(f"a schedule's target cannot be read ({unreadable[0]}), so its runs per month are unknown")
        raise Unreadable("no EventBridge schedule in this stack starts it, so its runs per month are unknown")
    try:
        runs = sum(runs_per_month(e) for e in expressions)
    except ScheduleError as exc:
        raise Unreadable(f"its schedule cannot be counted: {exc}") from None
    parts: list[str] = []
    total = 0.0
    for step_name, kind, raw_type, raw_count, max_seconds, spot in steps:
        instance_type = read_text(raw_type, f"step {step_name}: instance type")
        count = read_count(raw_count, f"step {step_name}: instance count", default=1)
        seconds = read_number(max_seconds, f"step {step_name}: MaxRuntimeInSeconds")
        usd, why = p.aws_hourly(f"sagemaker.{kind}", instance_type)
        if usd is None:
            raise Unreadable(f"step {step_name}: {why}")
        hours = seconds / 3600
        total += runs * count * hours * usd
        spot_note = " (spot requested; on-demand price: the catalogue has no spot discount)" if spot else ""
        parts.append(
            f"{step_name}: {number(runs)} runs x {count} x {instance_type} x {number(hours)} h max "
            f"x {money(usd)}{spot_note}"
        )
    basis = "; ".join(parts) + f" (runs per 30.4-day month from {', '.join(expressions)})" + p.aws_region_note
    p.item(pipeline, total, total, basis + "; expected = worst case (max runtime)")


# --- SageMaker Model Monitor schedules ----------------------------------------------------------


def price_monitoring(p: Pricer) -> None:
    definitions: dict[str, CapturedResource] = {}
    for type_token in _JOB_DEFINITIONS:
        definitions.update(by_name(p.stack, type_token))
    for schedule in p.stack.by_type(T_MONITORING):
        p.guarded(schedule, functools.partial(_price_monitoring, p, schedule, definitions))


def _price_monitoring(p: Pricer, schedule: CapturedResource, definitions: dict[str, CapturedResource]) -> None:
    config = read_mapping(schedule.inputs.get("monitoringScheduleConfig"), "monitoringScheduleConfig")
    name = read_text(config.get("monitoringJobDefinitionName"), "monitoring job definition name")
    definition = definitions.get(name)
    expression = read_text(
        read_mapping(config.get("scheduleConfig"), "scheduleConfig").get("scheduleExpression"), "schedule expression"
    )
    if definition is None:
        raise Unreadable("its monitoring job definition is not in this stack, so its instance is unknown")
    resources = read_mapping(definition.inputs.get("jobResources"), "jobResources")
    cluster = read_mapping(resources.get("clusterConfig"), "clusterConfig")
    instance_type = read_text(cluster.get("instanceType"), "instance type")
    count = read_count(cluster.get("instanceCount"), "instance count", default=1)
    stopping = read_mapping(definition.inputs.get("stoppingCondition"), "stoppingCondition")
    max_seconds = read_number(
        stopping.get("maxRuntimeInSeconds"), "maxRuntimeInSeconds", default=MONITORING_DEFAULT_MAX_SECONDS
    )
    try:
        runs = runs_per_month(expression)
    except ScheduleError as exc:
        raise Unreadable(f"its schedule cannot be counted: {exc}") from None
    usd, why = p.aws_hourly("sagemaker.processing", instance_type)
    if usd is None:
        raise Unreadable(why)
    worst_h, expected_h = max_seconds / 3600, min(max_seconds / 3600, MONITORING_EXPECTED_MINUTES / 60)
    p.item(
        schedule,
        runs * count * worst_h * usd,
        runs * count * expected_h * usd,
        f"{number(runs)} runs ({expression}) x {count} x {instance_type} x {number(worst_h)} h max "
        f"x {money(usd)}; expected {number(expected_h)} h per run (assumed)" + p.aws_region_note,
    )
