"""SageMaker: endpoints (variants x autoscaling), pipelines (steps x scheduled runs), Model Monitor schedules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from mlops_infra.cost.catalogue import MONTH_HOURS
from mlops_infra.cost.model import Pricer, by_name, money, number
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


def _scaling_targets(stack: CapturedStack) -> dict[tuple[str, str], dict[str, Any]]:
    targets: dict[tuple[str, str], dict[str, Any]] = {}
    for target in stack.by_type(T_SCALING_TARGET):
        match = re.fullmatch(r"endpoint/([^/]+)/variant/([^/]+)", str(target.inputs.get("resourceId", "")))
        if match and target.inputs.get("serviceNamespace", "sagemaker") == "sagemaker":
            targets[(match.group(1), match.group(2))] = target.inputs
    return targets


def price_endpoints(p: Pricer) -> None:
    stack = p.stack
    configs = {r.urn: r for r in stack.by_type(T_ENDPOINT_CONFIG)}
    configsby_name = by_name(stack, T_ENDPOINT_CONFIG)
    targets = _scaling_targets(stack)
    for endpoint in stack.by_type(T_ENDPOINT):
        config = configsby_name.get(str(endpoint.inputs.get("endpointConfigName", "")))
        if config is None:
            config = next((configs[u] for u in endpoint.dependencies if u in configs), None)
        if config is None:
            p.unpriced(endpoint, "its endpoint configuration is not in this stack, so its instances are unknown")
            continue
        endpoint_name = str(endpoint.inputs.get("name") or endpoint.name)
        for variant in config.inputs.get("productionVariants") or []:
            _price_variant(p, endpoint, endpoint_name, variant, targets)


def _price_variant(
    p: Pricer,
    endpoint: CapturedResource,
    endpoint_name: str,
    variant: dict[str, Any],
    targets: dict[tuple[str, str], dict[str, Any]],
) -> None:
    variant_name = str(variant.get("variantName", "?"))
    label = f"variant {variant_name}: "
    serverless = variant.get("serverlessConfig")
    if serverless:
        memory = int(serverless.get("memorySizeInMb", 0))
        concurrency = int(serverless.get("maxConcurrency", 1))
        found = p.catalogue.lookup("aws", "sagemaker.serverless", f"memory-{memory}mb", p.aws_region)
        if found.usd is None:
            p.unpriced(endpoint, label + (found.warning or f"serverless memory {memory} MB is not priced"))
            return
        seconds = MONTH_HOURS * 3600
        worst = concurrency * seconds * found.usd
        p.item(
            endpoint,
            worst,
            worst,
            f"{label}serverless {concurrency} max concurrency x {memory} MB x {MONTH_HOURS} h x 3600 s x "
            f"{money(found.usd)}/s (worst case: always busy; expected = worst case, traffic unknown)"
            + p.aws_region_note,
        )
        return
    instance_type = str(variant.get("instanceType", ""))
    usd, why = p.aws_hourly("sagemaker.hosting", instance_type)
    if usd is None:
        p.unpriced(endpoint, label + why)
        return
    target = targets.get((endpoint_name, variant_name))
    if target is not None:
        worst_count = int(target.get("maxCapacity", 1))
        expected_count = int(target.get("minCapacity", worst_count))
        source = "autoscaling max/min capacity"
    else:
        worst_count = expected_count = int(variant.get("initialInstanceCount", 1))
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


def _pipeline_schedules(stack: CapturedStack) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for schedule in stack.by_type(T_SCHEDULE):
        target = schedule.inputs.get("target") or {}
        if schedule.inputs.get("state", "ENABLED") == "DISABLED":
            continue
        name = None
        arn = str(target.get("arn", ""))
        if arn.endswith("sagemaker:startPipelineExecution"):
            try:
                name = json.loads(target.get("input") or "{}").get("PipelineName")
            except (ValueError, AttributeError):
                name = None
        elif ":pipeline/" in arn:
            name = arn.rsplit(":pipeline/", 1)[1]
        if name:
            found.setdefault(str(name), []).append(str(schedule.inputs.get("scheduleExpression", "")))
    return found


def _steps(definition: dict[str, Any]) -> Iterator[tuple[str, str, Any, Any, Any, bool]]:
    """(step name, kind, instance type, count, max runtime s, spot) of each training/processing step."""
    parameters = {p.get("Name"): p.get("DefaultValue") for p in definition.get("Parameters") or []}
    for step in definition.get("Steps") or []:
        arguments = step.get("Arguments") or {}
        stopping = arguments.get("StoppingCondition") or {}
        if step.get("Type") == "Training":
            resources = arguments.get("ResourceConfig") or {}
            kind, spot = "training", bool(arguments.get("EnableManagedSpotTraining"))
        elif step.get("Type") == "Processing":
            resources = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or {}
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
    schedules = _pipeline_schedules(p.stack)
    for pipeline in p.stack.by_type(T_PIPELINE):
        name = str(pipeline.inputs.get("pipelineName") or pipeline.name)
        try:
            definition = json.loads(str(pipeline.inputs.get("pipelineDefinition") or "{}"))
        except ValueError:
            p.unpriced(pipeline, "its pipelineDefinition is not JSON the estimator can read")
            continue
        steps = list(_steps(definition))
        if not steps:
            continue
        expressions = schedules.get(name)
        if not expressions:
            p.unpriced(pipeline, "no EventBridge schedule in this stack starts it, so its runs per month are unknown")
            continue
        try:
            runs = sum(runs_per_month(e) for e in expressions)
        except ScheduleError as exc:
            p.unpriced(pipeline, f"its schedule cannot be counted: {exc}")
            continue
        parts: list[str] = []
        total = 0.0
        for step_name, kind, instance_type, count, max_seconds, spot in steps:
            if not isinstance(instance_type, str) or not isinstance(max_seconds, int | float):
                p.unpriced(pipeline, f"step {step_name}: instance type or MaxRuntimeInSeconds is not a literal")
                parts = []
                break
            usd, why = p.aws_hourly(f"sagemaker.{kind}", instance_type)
            if usd is None:
                p.unpriced(pipeline, f"step {step_name}: {why}")
                parts = []
                break
            hours = max_seconds / 3600
            total += runs * int(count) * hours * usd
            spot_note = " (spot requested; on-demand price: the catalogue has no spot discount)" if spot else ""
            parts.append(
                f"{step_name}: {number(runs)} runs x {int(count)} x {instance_type} x {number(hours)} h max "
                f"x {money(usd)}{spot_note}"
            )
        if parts:
            basis = "; ".join(parts) + f" (runs per 30.4-day month from {', '.join(expressions)})" + p.aws_region_note
            p.item(pipeline, total, total, basis + "; expected = worst case (max runtime)")


# --- SageMaker Model Monitor schedules ----------------------------------------------------------


def price_monitoring(p: Pricer) -> None:
    definitions: dict[str, CapturedResource] = {}
    for type_token in _JOB_DEFINITIONS:
        definitions.update(by_name(p.stack, type_token))
    for schedule in p.stack.by_type(T_MONITORING):
        config = schedule.inputs.get("monitoringScheduleConfig") or {}
        definition = definitions.get(str(config.get("monitoringJobDefinitionName", "")))
        expression = str((config.get("scheduleConfig") or {}).get("scheduleExpression", ""))
        if definition is None:
            p.unpriced(schedule, "its monitoring job definition is not in this stack, so its instance is unknown")
            continue
        cluster = (definition.inputs.get("jobResources") or {}).get("clusterConfig") or {}
        instance_type, count = str(cluster.get("instanceType", "")), int(cluster.get("instanceCount", 1))
        max_seconds = (definition.inputs.get("stoppingCondition") or {}).get(
            "maxRuntimeInSeconds", MONITORING_DEFAULT_MAX_SECONDS
        )
        try:
            runs = runs_per_month(expression)
        except ScheduleError as exc:
            p.unpriced(schedule, f"its schedule cannot be counted: {exc}")
            continue
        usd, why = p.aws_hourly("sagemaker.processing", instance_type)
        if usd is None:
            p.unpriced(schedule, why)
            continue
        worst_h, expected_h = max_seconds / 3600, min(max_seconds / 3600, MONITORING_EXPECTED_MINUTES / 60)
        p.item(
            schedule,
            runs * count * worst_h * usd,
            runs * count * expected_h * usd,
            f"{number(runs)} runs ({expression}) x {count} x {instance_type} x {number(worst_h)} h max "
            f"x {money(usd)}; expected {number(expected_h)} h per run (assumed)" + p.aws_region_note,
        )
